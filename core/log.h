/* Levelled logging to stderr. The CLI owns one struct tm_log and passes it down; library code takes a
 * `struct tm_log *` that may be NULL (silent). Nothing secret is ever passed to these functions. */
#ifndef TM_CORE_LOG_H
#define TM_CORE_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum tm_log_level {
    TM_LOG_ERROR = 0,
    TM_LOG_WARN = 1,
    TM_LOG_INFO = 2,
    TM_LOG_DEBUG = 3,
};

struct tm_log {
    enum tm_log_level level;
    FILE *out;        /* stderr in the CLI */
    bool color;       /* ANSI colours: only on a terminal and without NO_COLOR */
    bool progress;    /* a progress line may be drawn: only on a terminal, never with --quiet */
    bool progress_on; /* a progress line is currently drawn and must be cleared before a message */
};

/* Defaults from the environment: level INFO (WARN with quiet, DEBUG with debug), colour and progress
 * only when `out` is a terminal and NO_COLOR is unset or empty. */
void tm_log_init(struct tm_log *log, FILE *out, bool quiet, bool debug);

void tm_log_msg(struct tm_log *log, enum tm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Redraws the single progress line (a no-op unless log->progress). */
void tm_log_progress(struct tm_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tm_log_progress_end(struct tm_log *log);

#define tm_log_error(log, ...) tm_log_msg((log), TM_LOG_ERROR, __VA_ARGS__)
#define tm_log_warn(log, ...) tm_log_msg((log), TM_LOG_WARN, __VA_ARGS__)
#define tm_log_info(log, ...) tm_log_msg((log), TM_LOG_INFO, __VA_ARGS__)
#define tm_log_debug(log, ...) tm_log_msg((log), TM_LOG_DEBUG, __VA_ARGS__)

#endif
