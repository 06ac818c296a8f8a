/* Where library code reads environment variables and the home directory from.
 *
 * Library code never calls getenv(): it takes a `struct tm_env`, which the CLI fills from the process
 * (tm_env_init_process) and tests fill from a list (tm_env_init_list), so a test's outcome never depends
 * on the environment it happens to run in. */
#ifndef TM_PROVIDERS_AUTH_ENV_H
#define TM_PROVIDERS_AUTH_ENV_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/error.h"

/* Returns the value of `name`, or NULL when it is not set. */
typedef const char *(*tm_env_get_fn)(const char *name, void *user_data);

struct tm_env {
    tm_env_get_fn get;
    void *user_data;
    const char *home; /* the home directory for "~" and ~/.aws; NULL when unknown */
};

/* The process environment (getenv) and $HOME, or the password database's home when HOME is unset. */
void tm_env_init_process(struct tm_env *env);

/* A fixed list of "NAME=value" strings, ending with NULL; the list must outlive env. */
void tm_env_init_list(struct tm_env *env, const char *const *pairs, const char *home);

/* The value of `name`, or NULL when unset or empty (AWS tools treat an empty variable as unset). */
const char *tm_env_get(const struct tm_env *env, const char *name);

/* True when `name` is set to "true" (any case), as AWS tools read boolean variables. */
bool tm_env_true(const struct tm_env *env, const char *name);

/* Appends `path` with a leading "~/" (or a lone "~") replaced by the home directory. TM_ERR_NOT_FOUND
 * when the path needs the home directory and it is unknown. */
TM_MUST_CHECK int tm_env_expand_home(struct tm_buf *out, const struct tm_env *env, const char *path);

#endif
