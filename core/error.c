#include "core/error.h"

const char *tm_error_str(int err) {
    switch (err) {
        case TM_OK:
            return "ok";
        case TM_ERR_NOMEM:
            return "out of memory";
        case TM_ERR_INVALID:
            return "invalid input";
        case TM_ERR_IO:
            return "i/o error";
        case TM_ERR_PARSE:
            return "parse error";
        case TM_ERR_NOT_FOUND:
            return "not found";
        case TM_ERR_READ_ONLY:
            return "refused: not a read-only operation";
        case TM_ERR_NETWORK:
            return "network error";
        case TM_ERR_TIMEOUT:
            return "timed out";
        case TM_ERR_TOO_BIG:
            return "too big";
        case TM_ERR_AUTH:
            return "authentication failed";
        case TM_ERR_UNSUPPORTED:
            return "unsupported";
        case TM_ERR_STATE:
            return "invalid state";
        case TM_ERR_SERVICE:
            return "service error";
        case TM_ERR_CANCELLED:
            return "cancelled";
        default:
            return "unknown error";
    }
}
