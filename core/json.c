#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void tm_json_line_col(const char *text, size_t offset, int *line, int *col) {
    int l = 1, c = 1;
    for (size_t i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

int tm_json_parse(cJSON **out, const char *text, size_t len, const char *source, char *errmsg, size_t errmsg_len) {
    const char *end = NULL;
    *out = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (root) {
        /* Anything but white space after the value is an error too. */
        size_t off = (size_t)(end - text);
        while (off < len && (text[off] == ' ' || text[off] == '\n' || text[off] == '\r' || text[off] == '\t'))
            off++;
        if (off == len) {
            *out = root;
            return TM_OK;
        }
        cJSON_Delete(root);
        end = text + off;
    }
    size_t off = end && end >= text && (size_t)(end - text) <= len ? (size_t)(end - text) : len;
    /* Truncated input: cJSON stops on the last byte it read; name the end of the text instead. */
    size_t rest = off;
    while (rest < len && (text[rest] == ' ' || text[rest] == '\n' || text[rest] == '\r' || text[rest] == '\t'))
        rest++;
    bool at_end = rest >= len;
    int line, col;
    tm_json_line_col(text, at_end ? len : off, &line, &col);
    if (errmsg && errmsg_len)
        snprintf(errmsg, errmsg_len, "%s:%d:%d: %s", source ? source : "<input>", line, col,
                 at_end ? "invalid JSON: unexpected end of input" : "invalid JSON");
    return TM_ERR_PARSE;
}

static int s_cmp_keys(const cJSON *a, const cJSON *b) {
    return strcmp(a->string ? a->string : "", b->string ? b->string : "");
}

/* Merge sort on cJSON's doubly linked child list: stable, O(n log n). */
static cJSON *s_merge_sort(cJSON *head) {
    if (!head || !head->next)
        return head;
    cJSON *slow = head, *fast = head->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    cJSON *right = slow->next;
    slow->next = NULL;
    cJSON *l = s_merge_sort(head), *r = s_merge_sort(right);
    cJSON dummy = {0};
    cJSON *tail = &dummy;
    while (l && r) {
        if (s_cmp_keys(l, r) <= 0) {
            tail->next = l;
            l = l->next;
        } else {
            tail->next = r;
            r = r->next;
        }
        tail = tail->next;
    }
    tail->next = l ? l : r;
    return dummy.next;
}

void tm_json_sort_keys(cJSON *item) {
    if (!item)
        return;
    if (cJSON_IsObject(item) && item->child) {
        cJSON *head = s_merge_sort(item->child);
        /* Rebuild prev links; cJSON keeps head->prev pointing at the tail. */
        cJSON *prev = NULL, *it = head;
        for (; it; it = it->next) {
            it->prev = prev;
            prev = it;
        }
        head->prev = prev;
        item->child = head;
    }
    for (cJSON *c = item->child; c; c = c->next)
        tm_json_sort_keys(c);
}

static int s_print(struct tm_buf *b, const cJSON *item, bool pretty, int depth);

static int s_indent(struct tm_buf *b, bool pretty, int depth) {
    if (!pretty)
        return TM_OK;
    /* A newline and two spaces per level, in one append. */
    static const char spaces[] = "\n                                                                ";
    size_t want = 2 * (size_t)(depth > 0 ? depth : 0);
    int rc = tm_buf_append(b, spaces, want < sizeof(spaces) - 2 ? want + 1 : sizeof(spaces) - 1);
    for (size_t done = sizeof(spaces) - 2; !rc && done < want; done++)
        rc = tm_buf_append_char(b, ' ');
    return rc;
}

/* How each byte is written inside a JSON string: 0 as it is, 'u' as \\u00XX, else a backslash and this. */
static const char s_escape[256] = {
    ['\0'] = 'u', [1] = 'u',    [2] = 'u',    [3] = 'u',    [4] = 'u',   [5] = 'u',     [6] = 'u',
    [7] = 'u',    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [11] = 'u',  ['\f'] = 'f',  ['\r'] = 'r',
    [14] = 'u',   [15] = 'u',   [16] = 'u',   [17] = 'u',   [18] = 'u',  [19] = 'u',    [20] = 'u',
    [21] = 'u',   [22] = 'u',   [23] = 'u',   [24] = 'u',   [25] = 'u',  [26] = 'u',    [27] = 'u',
    [28] = 'u',   [29] = 'u',   [30] = 'u',   [31] = 'u',   ['"'] = '"', ['\\'] = '\\',
};

int tm_json_append_string(struct tm_buf *b, const char *s) {
    size_t n = strlen(s), out = n + 2;
    /* The exact size first (the buffer's cap applies to it), then written in place. */
    for (size_t i = 0; i < n; i++) {
        char e = s_escape[(unsigned char)s[i]];
        out += e ? (e == 'u' ? 5 : 1) : 0;
    }
    int rc = tm_buf_reserve(b, out);
    if (rc)
        return rc;
    char *o = b->data + b->len;
    *o++ = '"';
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && !s_escape[*p])
            p++;
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p == end)
            break;
        char e = s_escape[*p];
        *o++ = '\\';
        if (e == 'u') {
            static const char hex[] = "0123456789abcdef";
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        } else {
            *o++ = e;
        }
        p++;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return TM_OK;
}

static int s_print_number(struct tm_buf *b, double d) {
    /* Integers print without a fraction; others with the shortest of %.15g / %.17g that round-trips. */
    if (d == (double)(long long)d && d > -1e18 && d < 1e18)
        return tm_buf_appendf(b, "%lld", (long long)d);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof(tmp), "%.17g", d);
    return tm_buf_append_str(b, tmp);
}

static int s_print(struct tm_buf *b, const cJSON *item, bool pretty, int depth) {
    int rc = TM_OK;
    if (cJSON_IsNull(item))
        return tm_buf_append_str(b, "null");
    if (cJSON_IsTrue(item))
        return tm_buf_append_str(b, "true");
    if (cJSON_IsFalse(item))
        return tm_buf_append_str(b, "false");
    if (cJSON_IsNumber(item))
        return s_print_number(b, item->valuedouble);
    if (cJSON_IsString(item))
        return tm_json_append_string(b, item->valuestring ? item->valuestring : "");
    if (cJSON_IsRaw(item))
        return tm_buf_append_str(b, item->valuestring ? item->valuestring : "null");
    bool obj = cJSON_IsObject(item);
    if (!obj && !cJSON_IsArray(item))
        return TM_ERR_INVALID;
    rc = tm_buf_append_char(b, obj ? '{' : '[');
    if (!item->child)
        return rc ? rc : tm_buf_append_char(b, obj ? '}' : ']');
    for (const cJSON *c = item->child; !rc && c; c = c->next) {
        rc = s_indent(b, pretty, depth + 1);
        if (!rc && obj) {
            rc = tm_json_append_string(b, c->string ? c->string : "");
            if (!rc)
                rc = tm_buf_append_str(b, pretty ? ": " : ":");
        }
        if (!rc)
            rc = s_print(b, c, pretty, depth + 1);
        if (!rc && c->next)
            rc = tm_buf_append_char(b, ',');
    }
    if (!rc)
        rc = s_indent(b, pretty, depth);
    return rc ? rc : tm_buf_append_char(b, obj ? '}' : ']');
}

int tm_json_append_canonical(struct tm_buf *b, cJSON *item, bool pretty, int depth) {
    tm_json_sort_keys(item);
    return s_print(b, item, pretty, depth);
}

char *tm_json_print_canonical(cJSON *item, bool pretty) {
    tm_json_sort_keys(item);
    struct tm_buf b;
    tm_buf_init(&b, 0);
    if (s_print(&b, item, pretty, 0)) {
        tm_buf_clean_up(&b);
        return NULL;
    }
    return tm_buf_detach(&b);
}

bool tm_json_array_insert(cJSON *array, int index, cJSON *item) {
    if (!cJSON_IsArray(array) || !item || index < 0)
        return false;
    cJSON *at = array->child;
    for (int i = 0; at && i < index; i++)
        at = at->next;
    if (!at)
        return cJSON_AddItemToArray(array, item);
    /* cJSON's list: next is NULL at the tail; the head's prev points at the tail. */
    item->next = at;
    if (at == array->child) {
        item->prev = at->prev;
        at->prev = item;
        array->child = item;
    } else {
        item->prev = at->prev;
        at->prev->next = item;
        at->prev = item;
    }
    return true;
}

const char *tm_json_str(const cJSON *obj, const char *key, const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : def;
}

double tm_json_num(const cJSON *obj, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

bool tm_json_bool(const cJSON *obj, const char *key, bool def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}
