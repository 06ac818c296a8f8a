#include "cmd/tmscan/paths.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzers/recognised.h"

static int s_is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int tm_cli_policies_dir(char *out, size_t out_len, const char *explicit_dir) {
    const char *env = getenv("TMSCAN_POLICIES_DIR");
    const char *given = explicit_dir ? explicit_dir : (env && *env ? env : NULL);
    if (given) {
        if (!s_is_dir(given))
            return TM_ERR_NOT_FOUND;
        snprintf(out, out_len, "%s", given);
        return TM_OK;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return TM_ERR_NOT_FOUND;
    exe[n] = '\0';
    char *dir = dirname(exe);
    static const char *const rel[] = {"../policies", "../share/tmscan/policies"};
    for (size_t i = 0; i < 2; i++) {
        char cand[PATH_MAX + 64];
        snprintf(cand, sizeof(cand), "%s/%s", dir, rel[i]);
        if (s_is_dir(cand)) {
            char *real = realpath(cand, NULL);
            if (!real)
                return TM_ERR_NOMEM;
            snprintf(out, out_len, "%s", real);
            free(real);
            return TM_OK;
        }
    }
    return TM_ERR_NOT_FOUND;
}

int tm_cli_policy_file(char *out, size_t out_len, const char *dir, const char *name) {
    int n = snprintf(out, out_len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= out_len ? TM_ERR_TOO_BIG : TM_OK;
}

int tm_cli_today(char out[11], const char *explicit_date) {
    const char *env = getenv("TMSCAN_TODAY");
    const char *given = explicit_date ? explicit_date : (env && *env ? env : NULL);
    if (given) {
        if (!tm_recognised_valid_date(given))
            return TM_ERR_INVALID;
        memcpy(out, given, 10);
        out[10] = '\0';
        return TM_OK;
    }
    time_t now = time(NULL);
    struct tm tmv;
    if (!gmtime_r(&now, &tmv) || strftime(out, 11, "%Y-%m-%d", &tmv) != 10)
        return TM_ERR_STATE;
    return TM_OK;
}
