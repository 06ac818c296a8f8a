/* Where the CLI finds its data, and what day it is: the environment-facing decisions that the pure
 * analyzers must not make themselves. */
#ifndef TM_CMD_PATHS_H
#define TM_CMD_PATHS_H

#include <stddef.h>

#include "core/error.h"

/* The policies directory: `explicit_dir` if given, else $TMSCAN_POLICIES_DIR, else ../policies next
 * to the executable (a source checkout), else ../share/tmscan/policies (an installation). */
TM_MUST_CHECK int tm_cli_policies_dir(char *out, size_t out_len, const char *explicit_dir);

/* Joins dir and a file name into out. */
TM_MUST_CHECK int tm_cli_policy_file(char *out, size_t out_len, const char *dir, const char *name);

/* Today's date, YYYY-MM-DD (UTC): `explicit_date` if given (validated), else $TMSCAN_TODAY, else the clock. */
TM_MUST_CHECK int tm_cli_today(char out[11], const char *explicit_date);

#endif
