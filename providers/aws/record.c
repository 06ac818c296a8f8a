#include "providers/aws/record.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "providers/aws/xml.h"

/* Field names whose values are secrets, matched case-insensitively in XML and JSON answers (the
 * snapshot's own list, plus the answers of credential-issuing calls). */
static const char *const s_secret_fields[] = {
    "SecretAccessKey", "SessionToken", "SecretString", "SecretBinary",
    "Password",        "PrivateKey",   "Token",        "AuthorizationToken",
};

/* Objects whose member values are secrets and names are not (Lambda environment, stage variables). */
static const char *const s_value_maps[] = {"Variables"};

/* Response headers worth replaying: the rest (dates, request ids, lengths) mockcloud supplies. */
static const char *const s_kept_headers[] = {"x-amzn-ErrorType", "x-amz-bucket-region"};

struct tm_aws_recorder {
    struct tm_aws_transport base; /* first: the scan calls through it */
    struct tm_aws_transport *inner;
    struct tm_log *log;
    char *dir;
    size_t written;
    int status; /* the first write error */
    char errmsg[512];
};

struct s_call {
    struct tm_aws_recorder *rec;
    char *service, *signing_name, *operation, *region, *method, *path;
    struct tm_aws_param *params; /* sorted by name, then value */
    size_t param_count;
    tm_aws_transport_done_fn done;
    void *user_data;
};

static bool s_listed(const char *name, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (tm_str_ieq(name, list[i]))
            return true;
    return false;
}

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- scrubbing ---- */

/* Replaces item (a member of parent) with an empty string under the same key; returns the new item,
 * or NULL (item untouched) when out of memory. */
static cJSON *s_blank(cJSON *parent, cJSON *item) {
    cJSON *empty = cJSON_CreateString("");
    if (empty && item->string && !(empty->string = strdup(item->string))) {
        cJSON_Delete(empty);
        return NULL;
    }
    if (!empty || !cJSON_ReplaceItemViaPointer(parent, item, empty)) {
        cJSON_Delete(empty);
        return NULL;
    }
    return empty;
}

/* Returns 1 when something was removed, 0 when nothing had to be, TM_ERR_NOMEM when a secret could not
 * be removed (then nothing may be written). */
static int s_scrub_json(cJSON *node) {
    int changed = 0;
    for (cJSON *c = node->child; c; c = c->next) {
        if (c->string && s_listed(c->string, s_secret_fields, S_COUNT(s_secret_fields))) {
            if (cJSON_IsString(c) && c->valuestring[0] == '\0')
                continue;
            if (!(c = s_blank(node, c)))
                return TM_ERR_NOMEM;
            changed = 1;
            continue;
        }
        if (c->string && cJSON_IsObject(c) && s_listed(c->string, s_value_maps, S_COUNT(s_value_maps))) {
            for (cJSON *v = c->child; v; v = v->next) {
                if (cJSON_IsString(v) && v->valuestring[0] == '\0')
                    continue;
                if (!(v = s_blank(c, v)))
                    return TM_ERR_NOMEM;
                changed = 1;
            }
            continue;
        }
        if (c->child) {
            int rc = s_scrub_json(c);
            if (rc < 0)
                return rc;
            changed |= rc;
        }
    }
    return changed;
}

static bool s_scrub_xml(xmlNode *node) {
    bool changed = false;
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (s_listed((const char *)c->name, s_secret_fields, S_COUNT(s_secret_fields)) && c->children) {
            xmlNodeSetContent(c, NULL);
            changed = true;
            continue;
        }
        if (s_scrub_xml(c))
            changed = true;
    }
    return changed;
}

static int s_copy(char **out, size_t *out_len, const char *body, size_t len) {
    *out = malloc(len + 1);
    if (!*out)
        return TM_ERR_NOMEM;
    if (len)
        memcpy(*out, body, len);
    (*out)[len] = '\0';
    *out_len = len;
    return TM_OK;
}

int tm_aws_record_scrub(char **out, size_t *out_len, const char *body, size_t len, const char *content_type) {
    *out = NULL;
    *out_len = 0;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    bool json = content_type ? strstr(content_type, "json") != NULL : (i < len && body[i] == '{');
    bool xml = content_type ? strstr(content_type, "xml") != NULL : (i < len && body[i] == '<');
    if (json) {
        cJSON *doc = NULL;
        if (tm_json_parse(&doc, body, len, "response", NULL, 0) == TM_OK) {
            int changed = s_scrub_json(doc);
            char *text = changed > 0 ? cJSON_PrintUnformatted(doc) : NULL;
            cJSON_Delete(doc);
            if (changed < 0 || (changed > 0 && !text))
                return TM_ERR_NOMEM;
            if (text) {
                *out = text;
                *out_len = strlen(text);
                return TM_OK;
            }
        }
    } else if (xml) {
        xmlDoc *doc = NULL;
        if (tm_aws_xml_parse(&doc, body, len, NULL, 0) == TM_OK) {
            int rc = TM_OK;
            if (s_scrub_xml(xmlDocGetRootElement(doc))) {
                xmlChar *mem = NULL;
                int n = 0;
                xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
                rc = mem ? s_copy(out, out_len, (const char *)mem, (size_t)n) : TM_ERR_NOMEM;
                xmlFree(mem);
                tm_aws_xml_free(doc);
                return rc;
            }
            tm_aws_xml_free(doc);
        }
    }
    /* Nothing secret found (or not a document we can read): the bytes as they came. */
    return s_copy(out, out_len, body, len);
}

/* ---- writing ---- */

static void s_fail(struct tm_aws_recorder *rec, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_fail(struct tm_aws_recorder *rec, int rc, const char *fmt, ...) {
    if (rec->status)
        return;
    rec->status = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec->errmsg, sizeof(rec->errmsg), fmt, ap);
    va_end(ap);
    tm_log_error(rec->log, "record: %s", rec->errmsg);
}

static int s_mkdirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof(buf))
        return TM_ERR_TOO_BIG;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return TM_ERR_IO;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return TM_ERR_IO;
    return TM_OK;
}

static uint64_t s_fnv(uint64_t h, const char *s) {
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ 0xff; /* separator, so "ab"+"c" and "a"+"bc" differ */
}

/* A value that fits on one match line. */
static bool s_line_safe(const char *s) {
    return !strpbrk(s, "\r\n");
}

/* Names files so every distinct call gets its own, stably across runs. */
static bool s_safe_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void s_write(struct tm_aws_recorder *rec, const struct s_call *c, const struct tm_aws_transport_response *resp) {
    struct tm_buf text, path;
    tm_buf_init(&text, 0);
    tm_buf_init(&path, 0);
    char *body = NULL;
    size_t body_len = 0;
    const char *ctype = NULL;
    for (size_t i = 0; i < resp->header_count; i++)
        if (tm_str_ieq(resp->headers[i].name, "content-type"))
            ctype = resp->headers[i].value;
    bool ok = s_line_safe(c->path) && (!ctype || s_line_safe(ctype));
    for (size_t i = 0; i < c->param_count && ok; i++)
        ok = s_line_safe(c->params[i].name) && s_line_safe(c->params[i].value) && !strchr(c->params[i].name, '=');
    if (!ok) {
        tm_log_warn(rec->log, "record: %s %s not written: a value does not fit a fixture line", c->service,
                    c->operation);
        goto out;
    }
    int rc =
        tm_aws_record_scrub(&body, &body_len, resp->body ? resp->body : "", resp->body ? resp->body_len : 0, ctype);
    uint64_t h = 1469598103934665603ULL;
    h = s_fnv(h, c->method);
    h = s_fnv(h, c->path);
    for (size_t i = 0; i < c->param_count; i++) {
        h = s_fnv(h, c->params[i].name);
        h = s_fnv(h, c->params[i].value);
    }
    char opname[128];
    size_t k = 0;
    for (const char *p = c->operation; *p && k + 1 < sizeof(opname); p++)
        opname[k++] = s_safe_name_char(*p) ? *p : '_';
    opname[k] = '\0';
    if (!rc)
        rc = tm_buf_appendf(&path, "%s/%s/%s", rec->dir, c->service, c->region);
    /* A call without parameters is the operation's only one: no suffix needed. */
    char suffix[32] = "";
    if (c->param_count || strcmp(c->path, "/") != 0)
        snprintf(suffix, sizeof(suffix), "--%016llx", (unsigned long long)h);
    if (!rc && (rc = s_mkdirs(tm_buf_str(&path))) == TM_OK)
        rc = tm_buf_appendf(&path, "/%s%s.http", opname, suffix);
    if (!rc)
        rc = tm_buf_appendf(&text,
                            "# %s %s, recorded by tmscan scan aws --record\n"
                            "service: %s\nregion: %s\noperation: %s\nmethod: %s\npath: %s\n",
                            c->service, c->operation, c->signing_name, c->region, c->operation, c->method, c->path);
    for (size_t i = 0; i < c->param_count && !rc; i++)
        rc = tm_buf_appendf(&text, "param: %s=%s\n", c->params[i].name, c->params[i].value);
    if (!rc)
        rc = tm_buf_appendf(&text, "status: %d\n", resp->status);
    if (!rc && ctype)
        rc = tm_buf_appendf(&text, "content-type: %s\n", ctype);
    for (size_t i = 0; i < resp->header_count && !rc; i++)
        if (s_listed(resp->headers[i].name, s_kept_headers, S_COUNT(s_kept_headers)) &&
            s_line_safe(resp->headers[i].value))
            rc = tm_buf_appendf(&text, "response-header: %s: %s\n", resp->headers[i].name, resp->headers[i].value);
    if (!rc)
        rc = tm_buf_append_char(&text, '\n');
    if (!rc && body_len)
        rc = tm_buf_append(&text, body, body_len);
    char why[512] = "";
    if (!rc)
        rc = tm_file_write_atomic(tm_buf_str(&path), text.data, text.len, 0600, why, sizeof(why));
    if (rc)
        s_fail(rec, rc == TM_ERR_NOMEM ? rc : TM_ERR_IO, "%s", why[0] ? why : tm_error_str(rc));
    else
        rec->written++;
out:
    free(body);
    tm_buf_clean_up(&text);
    tm_buf_clean_up(&path);
}

/* ---- the transport ---- */

static void s_call_free(struct s_call *c) {
    if (!c)
        return;
    free(c->service);
    free(c->signing_name);
    free(c->operation);
    free(c->region);
    free(c->method);
    free(c->path);
    for (size_t i = 0; i < c->param_count; i++) {
        free((char *)c->params[i].name);
        free((char *)c->params[i].value);
    }
    free(c->params);
    free(c);
}

static int s_cmp_param(const void *a, const void *b) {
    const struct tm_aws_param *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    return r ? r : strcmp(x->value, y->value);
}

static void s_on_done(void *user_data, const struct tm_aws_transport_response *resp) {
    struct s_call *c = user_data;
    if (resp->status > 0)
        s_write(c->rec, c, resp);
    c->done(c->user_data, resp);
    s_call_free(c);
}

static int s_send(struct tm_aws_transport *t, const struct tm_aws_wire_call *call, tm_aws_transport_done_fn done,
                  void *user_data) {
    struct tm_aws_recorder *rec = (struct tm_aws_recorder *)t;
    struct s_call *c = calloc(1, sizeof(*c));
    if (!c)
        return TM_ERR_NOMEM;
    c->rec = rec;
    c->done = done;
    c->user_data = user_data;
    c->service = strdup(call->service);
    c->signing_name = strdup(call->signing_name);
    c->operation = strdup(call->operation);
    c->region = strdup(call->region);
    c->method = strdup(call->method);
    c->path = strdup(call->path);
    c->params = calloc(call->param_count ? call->param_count : 1, sizeof(*c->params));
    bool oom = !c->service || !c->signing_name || !c->operation || !c->region || !c->method || !c->path || !c->params;
    for (size_t i = 0; c->params && i < call->param_count; i++) {
        c->params[i].name = strdup(call->params[i].name);
        c->params[i].value = strdup(call->params[i].value ? call->params[i].value : "");
        c->param_count++;
        oom = oom || !c->params[i].name || !c->params[i].value;
    }
    if (oom) {
        s_call_free(c);
        return TM_ERR_NOMEM;
    }
    qsort(c->params, c->param_count, sizeof(*c->params), s_cmp_param);
    int rc = rec->inner->send(rec->inner, call, s_on_done, c);
    if (rc)
        s_call_free(c);
    return rc;
}

static void s_close(struct tm_aws_transport *t) {
    struct tm_aws_recorder *rec = (struct tm_aws_recorder *)t;
    if (rec->inner->close)
        rec->inner->close(rec->inner);
}

static int s_dir_empty(const char *dir, char *errmsg, size_t errmsg_len) {
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return TM_OK;
        snprintf(errmsg, errmsg_len, "%s: %s", dir, strerror(errno));
        return TM_ERR_IO;
    }
    int rc = TM_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(errmsg, errmsg_len, "%s: not empty (a recording goes into a new directory)", dir);
            rc = TM_ERR_INVALID;
            break;
        }
    }
    closedir(d);
    return rc;
}

int tm_aws_recorder_new(struct tm_aws_recorder **out, struct tm_aws_transport *inner, const char *dir,
                        struct tm_log *log, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    int rc = s_dir_empty(dir, errmsg, errmsg_len);
    if (rc)
        return rc;
    if (s_mkdirs(dir) != TM_OK) {
        snprintf(errmsg, errmsg_len, "%s: cannot create: %s", dir, strerror(errno));
        return TM_ERR_IO;
    }
    struct tm_aws_recorder *rec = calloc(1, sizeof(*rec));
    if (!rec || !(rec->dir = strdup(dir))) {
        free(rec);
        return TM_ERR_NOMEM;
    }
    size_t n = strlen(rec->dir);
    while (n > 1 && rec->dir[n - 1] == '/')
        rec->dir[--n] = '\0';
    rec->base.send = s_send;
    rec->base.close = s_close;
    rec->inner = inner;
    rec->log = log;
    *out = rec;
    return TM_OK;
}

struct tm_aws_transport *tm_aws_recorder_transport(struct tm_aws_recorder *rec) {
    return &rec->base;
}

int tm_aws_recorder_finish(struct tm_aws_recorder *rec, struct tm_snapshot *snap, char *errmsg, size_t errmsg_len) {
    if (rec->status) {
        snprintf(errmsg, errmsg_len, "%s", rec->errmsg);
        return rec->status;
    }
    const cJSON *scope = tm_snapshot_scope(snap);
    const cJSON *accounts = cJSON_GetObjectItemCaseSensitive(scope, "accounts");
    const cJSON *regions = cJSON_GetObjectItemCaseSensitive(scope, "regions");
    cJSON *doc = cJSON_CreateObject();
    cJSON *creds = cJSON_CreateArray();
    cJSON *cred = cJSON_CreateObject();
    int rc = TM_ERR_NOMEM;
    if (!doc || !creds || !cred)
        goto out;
    const cJSON *acct = cJSON_GetArrayItem(accounts, 0);
    if (!cJSON_AddStringToObject(doc, "account", cJSON_IsString(acct) ? acct->valuestring : "") ||
        !cJSON_AddItemToObject(doc, "regions", regions ? cJSON_Duplicate(regions, true) : cJSON_CreateArray()) ||
        !cJSON_AddStringToObject(cred, "access_key_id", TM_AWS_RECORD_ACCESS_KEY_ID) ||
        !cJSON_AddStringToObject(cred, "secret_access_key", TM_AWS_RECORD_SECRET_ACCESS_KEY) ||
        !cJSON_AddItemToArray(creds, cred))
        goto out;
    cred = NULL;
    if (!cJSON_AddItemToObject(doc, "credentials", creds))
        goto out;
    creds = NULL;
    char *text = cJSON_Print(doc);
    if (!text)
        goto out;
    char path[4200];
    snprintf(path, sizeof(path), "%s/scenario.json", rec->dir);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL: written with its length */
    rc = tm_file_write_atomic(path, text, n + 1, 0600, errmsg, errmsg_len);
    free(text);
    if (!rc)
        tm_log_info(rec->log, "record: %zu responses and scenario.json written to %s", rec->written, rec->dir);
out:
    cJSON_Delete(doc);
    cJSON_Delete(creds);
    cJSON_Delete(cred);
    return rc;
}

void tm_aws_recorder_destroy(struct tm_aws_recorder *rec) {
    if (!rec)
        return;
    free(rec->dir);
    free(rec);
}
