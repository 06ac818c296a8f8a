/* Loading fixtures: scenario.json and the *.http response files (fixtures/README.md). Any error stops
 * the load with a message naming the file and line, because a fixture that silently never matches is
 * worse than one that refuses to load. */
#include "cmd/mockcloud/mock_int.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/str.h"

#define S_MAX_FIXTURE_BYTES ((size_t)64 << 20)
#define S_MAX_SCENARIO_BYTES ((size_t)4 << 20)
#define S_MAX_DEPTH 16

static void s_fail(char *errmsg, size_t errmsg_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_fail(char *errmsg, size_t errmsg_len, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

static void s_kv_free(struct tm__mock_kv *kv, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(kv[i].name);
        free(kv[i].value);
    }
    free(kv);
}

void tm__mock_fixture_clean_up(struct tm__mock_fixture *f) {
    if (!f)
        return;
    free(f->file);
    free(f->service);
    free(f->region);
    free(f->operation);
    free(f->method);
    free(f->path);
    s_kv_free(f->params, f->n_params);
    s_kv_free(f->headers, f->n_headers);
    free(f->access_key);
    free(f->content_type);
    s_kv_free(f->response_headers, f->n_response_headers);
    free(f->body);
    memset(f, 0, sizeof(*f));
}

static int s_kv_push(struct tm__mock_kv **arr, size_t *n, const char *name, size_t name_len, const char *value) {
    struct tm__mock_kv *p = realloc(*arr, (*n + 1) * sizeof(*p));
    if (!p)
        return TM_ERR_NOMEM;
    *arr = p;
    p[*n].name = tm_strndup(name, name_len);
    p[*n].value = value ? tm_strdup(value) : NULL;
    if (!p[*n].name || (value && !p[*n].value)) {
        free(p[*n].name);
        free(p[*n].value);
        return TM_ERR_NOMEM;
    }
    (*n)++;
    return TM_OK;
}

static bool s_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool s_is_token(const char *s, size_t n) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/* The keys of a response file; `repeat` ones may appear more than once. */
enum s_key {
    S_SERVICE,
    S_REGION,
    S_OPERATION,
    S_METHOD,
    S_PATH,
    S_PARAM,
    S_HEADER,
    S_ACCESS_KEY,
    S_AUTH,
    S_STATUS,
    S_CONTENT_TYPE,
    S_RESPONSE_HEADER,
    S_NKEYS,
};

static const struct {
    const char *name;
    bool repeat;
    bool match;
} s_keys[S_NKEYS] = {
    [S_SERVICE] = {"service", false, true},
    [S_REGION] = {"region", false, true},
    [S_OPERATION] = {"operation", false, true},
    [S_METHOD] = {"method", false, true},
    [S_PATH] = {"path", false, true},
    [S_PARAM] = {"param", true, true},
    [S_HEADER] = {"header", true, true},
    [S_ACCESS_KEY] = {"access-key", false, true},
    [S_AUTH] = {"auth", false, true},
    [S_STATUS] = {"status", false, false},
    [S_CONTENT_TYPE] = {"content-type", false, false},
    [S_RESPONSE_HEADER] = {"response-header", true, false},
};

/* Validates and stores one `key: value` line. Returns a static reason on a bad value, NULL when fine;
 * *nomem is set when out of memory. */
static const char *s_apply(struct tm__mock_fixture *f, enum s_key key, const char *v, bool *nomem) {
    size_t vlen = strlen(v);
    char **slot = NULL;
    switch (key) {
        case S_SERVICE:
            if (!s_is_token(v, vlen))
                return "service must be a name such as s3, iam, imds";
            slot = &f->service;
            break;
        case S_REGION:
            if (!s_is_token(v, vlen))
                return "region must be a name such as us-east-1, or *";
            if (strcmp(v, "*") == 0) {
                f->n_match++; /* present, matches any */
                return NULL;
            }
            slot = &f->region;
            break;
        case S_OPERATION:
            if (!s_is_token(v, vlen))
                return "operation must be a name such as ListBuckets";
            slot = &f->operation;
            break;
        case S_METHOD:
            for (size_t i = 0; i < vlen; i++)
                if (v[i] < 'A' || v[i] > 'Z')
                    return "method must be an upper-case HTTP method such as GET";
            if (vlen == 0)
                return "method is empty";
            slot = &f->method;
            break;
        case S_PATH:
            if (v[0] != '/')
                return "path must start with /";
            for (size_t i = 0; i < vlen; i++)
                if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f || v[i] == '?')
                    return "path must be as sent on the wire: percent-encoded, without spaces or a query";
            slot = &f->path;
            break;
        case S_PARAM:
        case S_HEADER: {
            const char *eq = strchr(v, '=');
            size_t nlen = eq ? (size_t)(eq - v) : vlen;
            if (nlen == 0)
                return key == S_PARAM ? "param needs a name: NAME or NAME=VALUE" : "header needs a name: NAME=VALUE";
            if (key == S_HEADER && !s_is_token(v, nlen))
                return "header name is not a valid HTTP field name";
            struct tm__mock_kv **arr = key == S_PARAM ? &f->params : &f->headers;
            size_t *n = key == S_PARAM ? &f->n_params : &f->n_headers;
            if (s_kv_push(arr, n, v, nlen, eq ? eq + 1 : NULL)) {
                *nomem = true;
                return "out of memory";
            }
            f->n_match++;
            return NULL;
        }
        case S_ACCESS_KEY:
            if (!s_is_token(v, vlen))
                return "access-key must be an access key id";
            slot = &f->access_key;
            break;
        case S_AUTH:
            if (strcmp(v, "none") == 0)
                f->auth_none = true;
            else if (strcmp(v, "sigv4") != 0)
                return "auth must be sigv4 or none";
            f->n_match++;
            return NULL;
        case S_STATUS: {
            if (vlen != 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' || v[1] > '9' || v[2] < '0' || v[2] > '9')
                return "status must be a three-digit HTTP status from 100 to 599";
            f->status = atoi(v);
            return NULL;
        }
        case S_CONTENT_TYPE:
            if (vlen == 0)
                return "content-type is empty";
            slot = &f->content_type;
            break;
        case S_RESPONSE_HEADER: {
            size_t nlen = strcspn(v, ":=");
            if (!s_is_token(v, nlen) || v[nlen] == '\0')
                return "response-header must be NAME: VALUE or NAME=VALUE";
            static const char *const framing[] = {"Content-Length", "Transfer-Encoding", "Connection"};
            for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
                if (strlen(framing[i]) == nlen && strncasecmp(v, framing[i], nlen) == 0)
                    return "response-header may not set Content-Length, Transfer-Encoding or Connection: "
                           "mockcloud frames the response";
            const char *val = v + nlen + 1;
            while (*val == ' ' || *val == '\t')
                val++;
            if (s_kv_push(&f->response_headers, &f->n_response_headers, v, nlen, val)) {
                *nomem = true;
                return "out of memory";
            }
            return NULL;
        }
        case S_NKEYS:
        default:
            return "unknown key";
    }
    *slot = tm_strdup(v);
    if (!*slot) {
        *nomem = true;
        return "out of memory";
    }
    if (s_keys[key].match)
        f->n_match++;
    return NULL;
}

int tm__mock_fixture_parse(struct tm__mock_fixture *out, const char *name, const char *data, size_t len, char *errmsg,
                           size_t errmsg_len) {
    struct tm__mock_fixture f;
    memset(&f, 0, sizeof(f));
    f.status = 200;
    int rc = TM_ERR_PARSE;
    bool seen[S_NKEYS] = {false};
    size_t pos = 0, line_no = 0;
    bool blank = false;
    char *line = NULL;

    while (pos < len) {
        line_no++;
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) {
            s_fail(errmsg, errmsg_len,
                   "%s:%zu: missing blank line: the match lines end with an empty line, then the body", name, line_no);
            goto out;
        }
        size_t end = (size_t)(nl - data);
        size_t le = (end > pos && data[end - 1] == '\r') ? end - 1 : end;
        size_t n = le - pos;
        const char *l = data + pos;
        pos = end + 1;
        if (n == 0) {
            blank = true;
            break;
        }
        if (memchr(l, '\0', n) || memchr(l, '\r', n)) {
            s_fail(errmsg, errmsg_len, "%s:%zu: control character in a match line", name, line_no);
            goto out;
        }
        if (l[0] == '#')
            continue;
        if (l[0] == ' ' || l[0] == '\t') {
            s_fail(errmsg, errmsg_len,
                   "%s:%zu: a match line may not start with white space (a blank line must be empty)", name, line_no);
            goto out;
        }
        const char *colon = memchr(l, ':', n);
        if (!colon) {
            s_fail(errmsg, errmsg_len, "%s:%zu: bad line: expected 'key: value' (or a blank line before the body)",
                   name, line_no);
            goto out;
        }
        size_t klen = (size_t)(colon - l);
        enum s_key key = S_NKEYS;
        for (int k = 0; k < S_NKEYS; k++)
            if (strlen(s_keys[k].name) == klen && memcmp(s_keys[k].name, l, klen) == 0)
                key = (enum s_key)k;
        if (key == S_NKEYS) {
            s_fail(errmsg, errmsg_len, "%s:%zu: unknown key '%.*s'", name, line_no, (int)(klen > 60 ? 60 : klen), l);
            goto out;
        }
        if (seen[key] && !s_keys[key].repeat) {
            s_fail(errmsg, errmsg_len, "%s:%zu: '%s' given twice", name, line_no, s_keys[key].name);
            goto out;
        }
        seen[key] = true;
        const char *v = colon + 1;
        const char *ve = l + n;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        free(line);
        line = tm_strndup(v, (size_t)(ve - v));
        if (!line) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
        for (const char *c = line; *c; c++) {
            if ((unsigned char)*c < 0x20 && *c != '\t') {
                s_fail(errmsg, errmsg_len, "%s:%zu: control character in a match line", name, line_no);
                goto out;
            }
        }
        if (!*line && key != S_PARAM) {
            s_fail(errmsg, errmsg_len, "%s:%zu: '%s' has no value", name, line_no, s_keys[key].name);
            goto out;
        }
        bool nomem = false;
        const char *why = s_apply(&f, key, line, &nomem);
        if (why) {
            if (nomem) {
                rc = TM_ERR_NOMEM;
                s_fail(errmsg, errmsg_len, "%s: out of memory", name);
            } else {
                s_fail(errmsg, errmsg_len, "%s:%zu: %s", name, line_no, why);
            }
            goto out;
        }
    }
    if (!blank) {
        s_fail(errmsg, errmsg_len, "%s:%zu: missing blank line: the match lines end with an empty line, then the body",
               name, line_no + 1);
        goto out;
    }
    if (f.service && f.operation) {
        const struct tm__mock_service *svc = tm__mock_service_find(f.service);
        f.op_in_request = svc && svc->protocol != TM__MOCK_PROTO_REST_JSON && svc->protocol != TM__MOCK_PROTO_REST_XML;
    }
    f.body_len = len - pos;
    f.body = malloc(f.body_len + 1);
    f.file = tm_strdup(name);
    if (!f.body || !f.file) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    memcpy(f.body, data + pos, f.body_len);
    f.body[f.body_len] = '\0';
    *out = f;
    memset(&f, 0, sizeof(f));
    rc = TM_OK;
out:
    free(line);
    tm__mock_fixture_clean_up(&f);
    return rc;
}

/* ---- scenario.json ---- */

static void s_credential_clean_up(struct tm__mock_credential *c) {
    free(c->access_key_id);
    tm_secret_free(c->secret_access_key);
    tm_secret_free(c->session_token);
    free(c->arn);
}

static const char *s_json_type(const cJSON *v) {
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsBool(v))
        return "a boolean";
    return "null";
}

int tm__mock_scenario_parse(struct tm__mock_fixture_set *set, const char *name, const char *data, size_t len,
                            char *errmsg, size_t errmsg_len) {
    int rc = TM_ERR_PARSE;
    cJSON *root = cJSON_ParseWithLength(data, len);
    if (!root) {
        /* cJSON points at where it stopped; turn that into a line number. */
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1;
        if (at && at >= data && at <= data + len)
            for (const char *p = data; p < at; p++)
                line += *p == '\n';
        s_fail(errmsg, errmsg_len, "%s:%zu: not valid JSON", name, line);
        return TM_ERR_PARSE;
    }
    if (!cJSON_IsObject(root)) {
        s_fail(errmsg, errmsg_len, "%s: the top level must be an object, not %s", name, s_json_type(root));
        goto out;
    }
    const cJSON *acct = cJSON_GetObjectItemCaseSensitive(root, "account");
    if (acct) {
        if (!cJSON_IsString(acct) || strlen(acct->valuestring) != 12 || strspn(acct->valuestring, "0123456789") != 12) {
            s_fail(errmsg, errmsg_len, "%s: \"account\" must be a 12-digit string", name);
            goto out;
        }
        set->account = tm_strdup(acct->valuestring);
        if (!set->account) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
    }
    const cJSON *regions = cJSON_GetObjectItemCaseSensitive(root, "regions");
    if (regions) {
        if (!cJSON_IsArray(regions)) {
            s_fail(errmsg, errmsg_len, "%s: \"regions\" must be an array of strings, not %s", name,
                   s_json_type(regions));
            goto out;
        }
        int n = cJSON_GetArraySize(regions);
        set->regions = calloc((size_t)n + 1, sizeof(char *));
        if (!set->regions) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
        const cJSON *r;
        cJSON_ArrayForEach(r, regions) {
            if (!cJSON_IsString(r) || !s_is_token(r->valuestring, strlen(r->valuestring))) {
                s_fail(errmsg, errmsg_len, "%s: \"regions\"[%zu] must be a region name", name, set->n_regions);
                goto out;
            }
            set->regions[set->n_regions] = tm_strdup(r->valuestring);
            if (!set->regions[set->n_regions]) {
                rc = TM_ERR_NOMEM;
                goto out;
            }
            set->n_regions++;
        }
    }
    const cJSON *creds = cJSON_GetObjectItemCaseSensitive(root, "credentials");
    if (creds) {
        if (!cJSON_IsArray(creds)) {
            s_fail(errmsg, errmsg_len, "%s: \"credentials\" must be an array of objects, not %s", name,
                   s_json_type(creds));
            goto out;
        }
        int n = cJSON_GetArraySize(creds);
        set->credentials = calloc((size_t)n + 1, sizeof(*set->credentials));
        if (!set->credentials) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, creds) {
            size_t i = set->n_credentials;
            if (!cJSON_IsObject(c)) {
                s_fail(errmsg, errmsg_len, "%s: \"credentials\"[%zu] must be an object", name, i);
                goto out;
            }
            struct tm__mock_credential *cr = &set->credentials[i];
            set->n_credentials++;
            const cJSON *f;
            cJSON_ArrayForEach(f, c) {
                char **slot = NULL;
                if (strcmp(f->string, "access_key_id") == 0)
                    slot = &cr->access_key_id;
                else if (strcmp(f->string, "secret_access_key") == 0)
                    slot = &cr->secret_access_key;
                else if (strcmp(f->string, "session_token") == 0)
                    slot = &cr->session_token;
                else if (strcmp(f->string, "arn") == 0)
                    slot = &cr->arn;
                if (!slot) {
                    s_fail(errmsg, errmsg_len, "%s: \"credentials\"[%zu]: unknown key \"%.60s\"", name, i, f->string);
                    goto out;
                }
                if (!cJSON_IsString(f) || !f->valuestring[0] || *slot) {
                    s_fail(errmsg, errmsg_len, "%s: \"credentials\"[%zu].%s must be one non-empty string", name, i,
                           f->string);
                    goto out;
                }
                *slot = tm_strdup(f->valuestring);
                if (!*slot) {
                    rc = TM_ERR_NOMEM;
                    goto out;
                }
            }
            if (!cr->access_key_id || !cr->secret_access_key) {
                s_fail(errmsg, errmsg_len, "%s: \"credentials\"[%zu] needs access_key_id and secret_access_key", name,
                       i);
                goto out;
            }
            if (!s_is_token(cr->access_key_id, strlen(cr->access_key_id))) {
                s_fail(errmsg, errmsg_len, "%s: \"credentials\"[%zu].access_key_id is not a key id", name, i);
                goto out;
            }
            for (size_t j = 0; j < i; j++) {
                if (strcmp(set->credentials[j].access_key_id, cr->access_key_id) == 0) {
                    s_fail(errmsg, errmsg_len, "%s: access key %s is listed twice", name, cr->access_key_id);
                    goto out;
                }
            }
        }
    }
    rc = TM_OK;
out:
    cJSON_Delete(root);
    return rc;
}

const struct tm__mock_credential *tm__mock_credential_find(const struct tm__mock_fixture_set *set,
                                                           const char *access_key_id) {
    if (!access_key_id)
        return NULL;
    for (size_t i = 0; i < set->n_credentials; i++)
        if (strcmp(set->credentials[i].access_key_id, access_key_id) == 0)
            return &set->credentials[i];
    return NULL;
}

/* ---- the directory ---- */

struct s_names {
    char **v;
    size_t n;
};

static int s_names_push(struct s_names *names, char *s) {
    char **p = realloc(names->v, (names->n + 1) * sizeof(*p));
    if (!p) {
        free(s);
        return TM_ERR_NOMEM;
    }
    names->v = p;
    p[names->n++] = s;
    return TM_OK;
}

/* Collects every *.http under root/rel (dot-files and dot-directories skipped). */
static int s_walk(struct s_names *names, const char *root, const char *rel, int depth, char *errmsg,
                  size_t errmsg_len) {
    if (depth > S_MAX_DEPTH) {
        s_fail(errmsg, errmsg_len, "%s/%s: directories nested too deep", root, rel);
        return TM_ERR_INVALID;
    }
    struct tm_buf dir;
    tm_buf_init(&dir, 0);
    int rc = *rel ? tm_buf_appendf(&dir, "%s/%s", root, rel) : tm_buf_append_str(&dir, root);
    if (rc)
        return rc;
    DIR *d = opendir(dir.data);
    if (!d) {
        s_fail(errmsg, errmsg_len, "%s: %s", dir.data, strerror(errno));
        tm_buf_clean_up(&dir);
        return TM_ERR_IO;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct tm_buf sub, full;
        tm_buf_init(&sub, 0);
        tm_buf_init(&full, 0);
        rc = *rel ? tm_buf_appendf(&sub, "%s/%s", rel, e->d_name) : tm_buf_append_str(&sub, e->d_name);
        if (!rc)
            rc = tm_buf_appendf(&full, "%s/%s", root, sub.data);
        struct stat st;
        if (!rc && stat(full.data, &st) != 0) {
            s_fail(errmsg, errmsg_len, "%s: %s", full.data, strerror(errno));
            rc = TM_ERR_IO;
        }
        if (!rc) {
            if (S_ISDIR(st.st_mode))
                rc = s_walk(names, root, sub.data, depth + 1, errmsg, errmsg_len);
            else if (S_ISREG(st.st_mode) && tm_str_ends_with(e->d_name, ".http"))
                rc = s_names_push(names, tm_buf_detach(&sub));
        }
        tm_buf_clean_up(&sub);
        tm_buf_clean_up(&full);
        if (rc)
            break;
    }
    closedir(d);
    tm_buf_clean_up(&dir);
    return rc;
}

static int s_strcmp_p(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void tm__mock_fixture_set_destroy(struct tm__mock_fixture_set *set) {
    if (!set)
        return;
    tm__mock_index_destroy(set->index);
    for (size_t i = 0; i < set->n_fixtures; i++)
        tm__mock_fixture_clean_up(&set->fixtures[i]);
    free(set->fixtures);
    for (size_t i = 0; i < set->n_credentials; i++)
        s_credential_clean_up(&set->credentials[i]);
    free(set->credentials);
    for (size_t i = 0; i < set->n_regions; i++)
        free(set->regions[i]);
    free(set->regions);
    free(set->account);
    free(set->dir);
    free(set);
}

int tm__mock_fixture_set_load(struct tm__mock_fixture_set **out, const char *dir, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    struct tm__mock_fixture_set *set = calloc(1, sizeof(*set));
    struct s_names names = {NULL, 0};
    struct tm_buf path, data;
    tm_buf_init(&path, 0);
    tm_buf_init(&data, 0);
    int rc = TM_ERR_NOMEM;
    if (!set || !(set->dir = tm_strdup(dir)))
        goto out;

    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        s_fail(errmsg, errmsg_len, "%s: not a directory", dir);
        rc = TM_ERR_NOT_FOUND;
        goto out;
    }
    if ((rc = tm_buf_appendf(&path, "%s/scenario.json", dir)))
        goto out;
    rc = tm_file_read(&data, path.data, S_MAX_SCENARIO_BYTES, errmsg, errmsg_len);
    if (rc == TM_OK) {
        rc = tm__mock_scenario_parse(set, path.data, data.data ? data.data : "", data.len, errmsg, errmsg_len);
        if (rc)
            goto out;
    } else if (rc != TM_ERR_NOT_FOUND) {
        goto out;
    }

    if ((rc = s_walk(&names, dir, "", 0, errmsg, errmsg_len)))
        goto out;
    qsort(names.v, names.n, sizeof(char *), s_strcmp_p);
    set->fixtures = calloc(names.n + 1, sizeof(*set->fixtures));
    if (!set->fixtures) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < names.n; i++) {
        tm_buf_reset(&path);
        tm_buf_reset(&data);
        if ((rc = tm_buf_appendf(&path, "%s/%s", dir, names.v[i])))
            goto out;
        if ((rc = tm_file_read(&data, path.data, S_MAX_FIXTURE_BYTES, errmsg, errmsg_len)))
            goto out;
        rc = tm__mock_fixture_parse(&set->fixtures[i], path.data, data.data ? data.data : "", data.len, errmsg,
                                    errmsg_len);
        if (rc)
            goto out;
        /* Messages name the file as given; matching and logs use the path inside the scenario. */
        free(set->fixtures[i].file);
        set->fixtures[i].file = names.v[i];
        names.v[i] = NULL;
        set->n_fixtures++;
    }
    if ((rc = tm__mock_index_build(set))) {
        s_fail(errmsg, errmsg_len, "%s: %s", dir, tm_error_str(rc));
        goto out;
    }
    *out = set;
    set = NULL;
out:
    if (rc == TM_ERR_NOMEM)
        s_fail(errmsg, errmsg_len, "%s: out of memory", dir);
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    free(names.v);
    tm_buf_clean_up(&path);
    tm_buf_clean_up(&data);
    tm__mock_fixture_set_destroy(set);
    return rc;
}
