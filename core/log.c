#include "core/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

void tm_log_init(struct tm_log *log, FILE *out, bool quiet, bool debug) {
    log->out = out;
    log->level = debug ? TM_LOG_DEBUG : quiet ? TM_LOG_WARN : TM_LOG_INFO;
    bool tty = out && isatty(fileno(out));
    const char *nc = getenv("NO_COLOR");
    log->color = tty && !(nc && *nc);
    log->progress = tty && !quiet;
    log->progress_on = false;
}

static const char *s_prefix(enum tm_log_level level) {
    switch (level) {
        case TM_LOG_ERROR:
            return "error";
        case TM_LOG_WARN:
            return "warning";
        case TM_LOG_INFO:
            return "info";
        case TM_LOG_DEBUG:
            return "debug";
        default:
            return "log";
    }
}

static const char *s_color(enum tm_log_level level) {
    switch (level) {
        case TM_LOG_ERROR:
            return "\033[31m";
        case TM_LOG_WARN:
            return "\033[33m";
        case TM_LOG_INFO:
            return "\033[36m";
        case TM_LOG_DEBUG:
            return "\033[90m";
        default:
            return "";
    }
}

static void s_clear_progress(struct tm_log *log) {
    if (log->progress_on) {
        fputs("\r\033[K", log->out);
        log->progress_on = false;
    }
}

void tm_log_msg(struct tm_log *log, enum tm_log_level level, const char *fmt, ...) {
    if (!log || !log->out || level > log->level)
        return;
    s_clear_progress(log);
    if (log->color)
        fprintf(log->out, "%stmscan: %s:\033[0m ", s_color(level), s_prefix(level));
    else
        fprintf(log->out, "tmscan: %s: ", s_prefix(level));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log->out, fmt, ap);
    va_end(ap);
    fputc('\n', log->out);
    fflush(log->out);
}

void tm_log_progress(struct tm_log *log, const char *fmt, ...) {
    if (!log || !log->out || !log->progress)
        return;
    fputs("\r\033[K", log->out);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log->out, fmt, ap);
    va_end(ap);
    fflush(log->out);
    log->progress_on = true;
}

void tm_log_progress_end(struct tm_log *log) {
    if (log && log->out)
        s_clear_progress(log);
}
