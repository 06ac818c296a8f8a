/* Error codes shared by every tmscan module: 0 is success, negative is failure. */
#ifndef TM_CORE_ERROR_H
#define TM_CORE_ERROR_H

#define TM_MUST_CHECK __attribute__((warn_unused_result))

enum tm_error {
    TM_OK = 0,
    TM_ERR_NOMEM = -1,        /* allocation failed */
    TM_ERR_INVALID = -2,      /* bad argument or bad input data */
    TM_ERR_IO = -3,           /* file or socket I/O failed */
    TM_ERR_PARSE = -4,        /* malformed JSON, XML, INI, policy ... */
    TM_ERR_NOT_FOUND = -5,    /* a file, key, profile or resource that does not exist */
    TM_ERR_READ_ONLY = -6,    /* refused: the operation could change an account */
    TM_ERR_NETWORK = -7,      /* connection failed, reset, DNS */
    TM_ERR_TIMEOUT = -8,      /* a deadline passed */
    TM_ERR_TOO_BIG = -9,      /* a capped buffer would overflow */
    TM_ERR_AUTH = -10,        /* no usable credentials, or the service rejected them */
    TM_ERR_UNSUPPORTED = -11, /* a valid request tmscan does not implement */
    TM_ERR_STATE = -12,       /* called in the wrong state */
    TM_ERR_SERVICE = -13,     /* the service answered with an error (see the request's code/message) */
    TM_ERR_CANCELLED = -14,   /* the request was cancelled before it completed */
};

/* A short, static, lower-case description of an error code. Never NULL. */
const char *tm_error_str(int err);

#endif
