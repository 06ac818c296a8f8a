#include "providers/auth/env.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"

static const char *s_process_get(const char *name, void *user_data) {
    (void)user_data;
    return getenv(name);
}

void tm_env_init_process(struct tm_env *env) {
    env->get = s_process_get;
    env->user_data = NULL;
    env->home = getenv("HOME");
    if (!env->home || !*env->home) {
        struct passwd *pw = getpwuid(getuid());
        env->home = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
    }
}

static const char *s_list_get(const char *name, void *user_data) {
    const char *const *pairs = user_data;
    size_t n = strlen(name);
    /* The last definition wins, as with putenv over an existing name. */
    const char *found = NULL;
    for (; pairs && *pairs; pairs++)
        if (strncmp(*pairs, name, n) == 0 && (*pairs)[n] == '=')
            found = *pairs + n + 1;
    return found;
}

void tm_env_init_list(struct tm_env *env, const char *const *pairs, const char *home) {
    env->get = s_list_get;
    env->user_data = (void *)pairs;
    env->home = home;
}

const char *tm_env_get(const struct tm_env *env, const char *name) {
    if (!env || !env->get)
        return NULL;
    const char *v = env->get(name, env->user_data);
    return v && *v ? v : NULL;
}

bool tm_env_true(const struct tm_env *env, const char *name) {
    const char *v = tm_env_get(env, name);
    return v && tm_str_ieq(v, "true");
}

int tm_env_expand_home(struct tm_buf *out, const struct tm_env *env, const char *path) {
    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
        if (!env || !env->home || !*env->home)
            return TM_ERR_NOT_FOUND;
        int rc = tm_buf_append_str(out, env->home);
        if (!rc)
            rc = tm_buf_append_str(out, path + 1);
        return rc;
    }
    return tm_buf_append_str(out, path);
}
