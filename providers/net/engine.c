/* The engine: libuv drives libcurl's multi interface (curl docs/examples/multi-uv.c, without its gaps:
 * see STYLE.md), and a scheduler hands queued requests to curl under concurrency and rate limits,
 * retrying with full-jitter backoff. */
#include "providers/net/http.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/str.h"
#include "providers/net/http_int.h"

#define S_EASY_POOL_MAX 32

/* What one step of priority weighs against a rate-limited backlog, in seconds of that backlog: a call that
 * opens a chain goes before a bottleneck's call only while that bottleneck has less than this much queued
 * per step between them (see "Order" in http.h). */
#define S_PRIORITY_WEIGHT_S 1.0

/* Aging: a queue passed over this many times per waiting queue goes next (see "Order" in http.h). Scaled by
 * the number of waiting queues, overdue turns take at most about 1 / (S_AGING_PASSES + 1) of the starts, so
 * ranks decide the rest. */
#define S_AGING_PASSES 16

struct s_poll {
    uv_poll_t poll;
    curl_socket_t fd;
    struct tm_http_engine *engine;
    struct s_poll *prev, *next;
};

struct s_rule {
    char *pattern; /* without the trailing '*' for prefix rules */
    bool is_prefix;
    double rate_per_s;
    double burst;
    struct tm__net_group *group; /* a shared rule: matching keys draw from this group */
};

struct tm_http_engine {
    uv_loop_t *loop;
    CURLM *multi;
    CURLSH *share;
    bool curl_global;
    /* curl's own timeout: a timer for a delay, an idle handle for "now" (a zero timer armed from a timer
     * callback would run in the same timer pass and starve I/O). */
    uv_timer_t curl_timer;
    uv_idle_t curl_idle;
    /* The scheduler: an idle handle runs a pass on the next iteration; a timer waits for rate tokens. */
    uv_idle_t sched_idle;
    uv_timer_t sched_timer;
    /* Backoff: one timer for the earliest entry of a min-heap of delayed requests. */
    uv_timer_t delay_timer;
    unsigned open_handles; /* initialised libuv handles not yet closed */
    bool destroying;
    bool multi_gone;
    unsigned dispatch_depth; /* > 0 while a done callback runs */

    struct tm_http_options opts;
    char *ca_bundle;
    char *user_agent;
    struct tm_rate_adaptive_params adapt;
    uint64_t rng;

    struct tm__net_map keys;     /* name -> struct tm__net_key */
    struct tm__net_map hosts;    /* "host:port" -> struct tm__net_host */
    struct tm__net_map services; /* name -> struct tm__net_service */
    struct tm__net_map groups;   /* name -> struct tm__net_group */
    struct s_rule *rules;
    size_t rule_count;
    struct tm_rate_bucket global;

    struct tm__net_key *ready_head, *ready_tail;         /* keys with waiting requests */
    size_t waiting_queues;                               /* non-empty priority queues over every key */
    uint64_t pass;                                       /* the scheduler's passes so far (one start each) */
    struct tm_http_request *resumed_head, *resumed_tail; /* async prepares that came back */
    struct tm_http_request **heap;                       /* backoff min-heap on wake_ms */
    size_t heap_count, heap_alloc;
    struct tm_http_request *all_head;
    size_t pending;
    unsigned in_flight;
    struct s_poll *polls;
    CURL *pool[S_EASY_POOL_MAX];
    size_t pool_count;
    struct tm_http_stats totals;
};

static void s_schedule(struct tm_http_engine *e);
static void s_kick(struct tm_http_engine *e);
static void s_finish(struct tm_http_engine *e, struct tm_http_request *req, int err);

/* --- Small helpers ---------------------------------------------------------------------------------- */

static uint64_t s_now(struct tm_http_engine *e) {
    uv_update_time(e->loop);
    return uv_now(e->loop);
}

/* splitmix64: the jitter RNG belongs to the engine so a seed makes a run reproducible. */
static uint64_t s_rand(struct tm_http_engine *e) {
    uint64_t z = (e->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void s_set_code(struct tm_http_request *req, const char *code, const char *message) {
    tm__net_copy_line(req->code, sizeof(req->code), code, strlen(code));
    tm__net_copy_line(req->message, sizeof(req->message), message, strlen(message));
}

static void s_uv_check(struct tm_http_engine *e, int rc, const char *what) {
    if (rc < 0)
        tm_log_error(e->opts.log, "http: %s failed: %s", what, uv_strerror(rc));
}

static void s_curlm_check(struct tm_http_engine *e, CURLMcode mc, const char *what) {
    if (mc != CURLM_OK)
        tm_log_error(e->opts.log, "http: %s failed: %s", what, curl_multi_strerror(mc));
}

void tm_http_options_init(struct tm_http_options *opts) {
    memset(opts, 0, sizeof(*opts));
    opts->max_body_bytes = 64u * 1024u * 1024u;
    opts->connect_timeout_ms = 10000;
    opts->timeout_ms = 120000;
    opts->low_speed_bytes_per_s = 1;
    opts->low_speed_time_s = 30;
    opts->user_agent = "tmscan/" TM_VERSION;
    opts->max_attempts = 5;
    opts->backoff_base_ms = 100;
    opts->backoff_cap_ms = 20000;
    opts->max_retry_after_ms = 60000;
    opts->max_in_flight = 256;
    opts->max_per_host = 32;
    opts->max_per_service = 64;
    opts->adaptive = true;
}

/* --- Keys, hosts, services --------------------------------------------------------------------------- */

static bool s_rule_matches(const struct s_rule *r, const char *key) {
    if (r->is_prefix)
        return strncmp(key, r->pattern, strlen(r->pattern)) == 0;
    return strcmp(key, r->pattern) == 0;
}

static const struct s_rule *s_rule_match(const struct tm_http_engine *e, const char *key) {
    const struct s_rule *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < e->rule_count; i++) {
        const struct s_rule *r = &e->rules[i];
        if (!s_rule_matches(r, key))
            continue;
        /* An exact rule beats a prefix rule of the same length. */
        size_t score = strlen(r->pattern) * 2 + (r->is_prefix ? 0 : 1);
        if (!best || score > best_len) {
            best = r;
            best_len = score;
        }
    }
    return best;
}

static double s_default_burst(double rate_per_s) {
    return fmax(1.0, rate_per_s / 10.0);
}

/* Applies the configured and adaptive rates of a limiter to its bucket. */
static void s_limiter_apply(struct tm_http_engine *e, struct tm__net_limiter *lim, uint64_t now) {
    double rate = lim->configured_rate;
    double burst = lim->configured_burst > 0 ? lim->configured_burst : s_default_burst(rate);
    /* A known rate needs no slow start: the bucket already keeps the key below the service's limit. */
    if (rate > 0)
        lim->adaptive.window = 0;
    if (e->opts.adaptive) {
        lim->adaptive.ceiling_per_s = lim->configured_rate;
        double a = lim->adaptive.rate_per_s;
        if (a > 0) {
            rate = lim->configured_rate > 0 ? fmin(a, lim->configured_rate) : a;
            double b = s_default_burst(rate);
            burst = lim->configured_burst > 0 ? fmin(b, lim->configured_burst) : b;
        }
    }
    tm_rate_bucket_set_rate(&lim->bucket, rate, burst, now);
}

static void s_limiter_init(struct tm_http_engine *e, struct tm__net_limiter *lim, uint64_t now) {
    tm_rate_bucket_init(&lim->bucket, 0, 1, now);
    tm_rate_adaptive_init(&lim->adaptive, &e->adapt, 0, now);
}

/* The limiter a key's requests take their tokens from. */
static struct tm__net_limiter *s_key_limiter(struct tm__net_key *key) {
    return key->group ? &key->group->lim : &key->lim;
}

static void s_key_configure(struct tm_http_engine *e, struct tm__net_key *key, uint64_t now) {
    const struct s_rule *r = s_rule_match(e, key->name);
    struct tm__net_group *group = r ? r->group : NULL;
    if (group != key->group) {
        if (key->group)
            key->group->queued -= key->queued;
        if (group)
            group->queued += key->queued;
        key->group = group;
    }
    key->lim.configured_rate = r && !group ? r->rate_per_s : group ? 0 : e->opts.default_rate_per_s;
    key->lim.configured_burst = r && !group ? r->burst : 0;
    s_limiter_apply(e, &key->lim, now);
}

static struct tm__net_key *s_key_get(struct tm_http_engine *e, const char *name, uint64_t now) {
    struct tm__net_key *key = tm__net_map_get(&e->keys, name);
    if (key)
        return key;
    key = calloc(1, sizeof(*key));
    if (!key)
        return NULL;
    key->name = tm_strdup(name);
    if (!key->name || tm__net_map_put(&e->keys, name, key) != TM_OK) {
        free(key->name);
        free(key);
        return NULL;
    }
    s_limiter_init(e, &key->lim, now);
    s_key_configure(e, key, now);
    /* A bucket starts full (as the service's does): configuring it kept only the initial token. */
    key->lim.bucket.tokens = key->lim.bucket.burst;
    return key;
}

static struct tm__net_group *s_group_get(struct tm_http_engine *e, const char *name, uint64_t now) {
    struct tm__net_group *g = tm__net_map_get(&e->groups, name);
    if (g)
        return g;
    g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->name = tm_strdup(name);
    if (!g->name || tm__net_map_put(&e->groups, name, g) != TM_OK) {
        free(g->name);
        free(g);
        return NULL;
    }
    s_limiter_init(e, &g->lim, now);
    return g;
}

static struct tm__net_service *s_service_get(struct tm_http_engine *e, const char *name) {
    struct tm__net_service *svc = tm__net_map_get(&e->services, name);
    if (svc)
        return svc;
    svc = calloc(1, sizeof(*svc));
    if (!svc)
        return NULL;
    svc->name = tm_strdup(name);
    svc->limit = e->opts.max_per_service;
    if (!svc->name || tm__net_map_put(&e->services, name, svc) != TM_OK) {
        free(svc->name);
        free(svc);
        return NULL;
    }
    return svc;
}

static struct tm__net_host *s_host_get(struct tm_http_engine *e, const char *name) {
    struct tm__net_host *host = tm__net_map_get(&e->hosts, name);
    if (host)
        return host;
    host = calloc(1, sizeof(*host));
    if (!host)
        return NULL;
    host->name = tm_strdup(name);
    if (!host->name || tm__net_map_put(&e->hosts, name, host) != TM_OK) {
        free(host->name);
        free(host);
        return NULL;
    }
    return host;
}

/* "host:port" of a URL, lower-cased; "" when the URL does not parse (it is refused later anyway). */
static void s_host_of(char *out, size_t out_len, const char *url) {
    out[0] = '\0';
    CURLU *u = curl_url();
    if (!u)
        return;
    char *host = NULL, *port = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        snprintf(out, out_len, "%s:%s", host, port);
        for (char *p = out; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static void s_ready_add(struct tm_http_engine *e, struct tm__net_key *key) {
    if (key->in_ready)
        return;
    key->in_ready = true;
    key->ready_next = NULL;
    key->ready_prev = e->ready_tail;
    if (e->ready_tail)
        e->ready_tail->ready_next = key;
    else
        e->ready_head = key;
    e->ready_tail = key;
}

static void s_ready_remove(struct tm_http_engine *e, struct tm__net_key *key) {
    if (!key->in_ready)
        return;
    if (key->ready_prev)
        key->ready_prev->ready_next = key->ready_next;
    else
        e->ready_head = key->ready_next;
    if (key->ready_next)
        key->ready_next->ready_prev = key->ready_prev;
    else
        e->ready_tail = key->ready_prev;
    key->ready_prev = key->ready_next = NULL;
    key->in_ready = false;
}

static void s_queue_unlink(struct tm_http_request **head, struct tm_http_request **tail, struct tm_http_request *req) {
    if (req->q_prev)
        req->q_prev->q_next = req->q_next;
    else
        *head = req->q_next;
    if (req->q_next)
        req->q_next->q_prev = req->q_prev;
    else
        *tail = req->q_prev;
    req->q_prev = req->q_next = NULL;
}

static void s_queue_push(struct tm_http_request **head, struct tm_http_request **tail, struct tm_http_request *req,
                         bool front) {
    if (front) {
        req->q_prev = NULL;
        req->q_next = *head;
        if (*head)
            (*head)->q_prev = req;
        else
            *tail = req;
        *head = req;
    } else {
        req->q_next = NULL;
        req->q_prev = *tail;
        if (*tail)
            (*tail)->q_next = req;
        else
            *head = req;
        *tail = req;
    }
}

static struct tm_http_request *s_key_head(const struct tm__net_key *key) {
    for (int p = TM__NET_PRIORITIES - 1; p >= 0; p--)
        if (key->head[p])
            return key->head[p];
    return NULL;
}

static void s_key_push(struct tm_http_engine *e, struct tm__net_key *key, struct tm_http_request *req, bool front) {
    if (!key->head[req->priority])
        e->waiting_queues++;
    s_queue_push(&key->head[req->priority], &key->tail[req->priority], req, front);
    key->queued++;
    if (key->group)
        key->group->queued++;
}

static void s_key_unlink(struct tm_http_engine *e, struct tm__net_key *key, struct tm_http_request *req) {
    s_queue_unlink(&key->head[req->priority], &key->tail[req->priority], req);
    if (!key->head[req->priority]) {
        e->waiting_queues--;
        key->passes[req->priority] = 0;
    }
    key->queued--;
    if (key->group)
        key->group->queued--;
}

/* --- Timed heap ----------------------------------------------------------------------------------------- */

/* One min-heap on due_ms holds every request backing off (DELAYED) until its next attempt; one timer fires for
 * the earliest. Room for every pending request is reserved at submit, so a push never fails. A QUEUED request
 * has no deadline: the wait for a slot and tokens is tmscan's own scheduling, not the service's answer being
 * late, so it is never charged to the request's timeout (its attempt's timeout starts at the grant). */

static void s_heap_swap(struct tm_http_engine *e, size_t a, size_t b) {
    struct tm_http_request *t = e->heap[a];
    e->heap[a] = e->heap[b];
    e->heap[b] = t;
    e->heap[a]->heap_index = a;
    e->heap[b]->heap_index = b;
}

static int s_heap_reserve(struct tm_http_engine *e, size_t n) {
    if (n <= e->heap_alloc)
        return TM_OK;
    size_t alloc = e->heap_alloc ? e->heap_alloc : 64;
    while (alloc < n)
        alloc *= 2;
    struct tm_http_request **h = realloc(e->heap, alloc * sizeof(*h));
    if (!h)
        return TM_ERR_NOMEM;
    e->heap = h;
    e->heap_alloc = alloc;
    return TM_OK;
}

static void s_heap_up(struct tm_http_engine *e, size_t i) {
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (e->heap[parent]->due_ms <= e->heap[i]->due_ms)
            break;
        s_heap_swap(e, parent, i);
        i = parent;
    }
}

static void s_heap_down(struct tm_http_engine *e, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->heap_count && e->heap[l]->due_ms < e->heap[m]->due_ms)
            m = l;
        if (r < e->heap_count && e->heap[r]->due_ms < e->heap[m]->due_ms)
            m = r;
        if (m == i)
            return;
        s_heap_swap(e, i, m);
        i = m;
    }
}

static void s_heap_push(struct tm_http_engine *e, struct tm_http_request *req) {
    assert(e->heap_count < e->heap_alloc);
    size_t i = e->heap_count++;
    e->heap[i] = req;
    req->heap_index = i;
    s_heap_up(e, i);
}

static void s_heap_remove(struct tm_http_engine *e, struct tm_http_request *req) {
    size_t i = req->heap_index;
    assert(i < e->heap_count && e->heap[i] == req);
    e->heap_count--;
    if (i == e->heap_count)
        return;
    e->heap[i] = e->heap[e->heap_count];
    e->heap[i]->heap_index = i;
    s_heap_up(e, i);
    s_heap_down(e, e->heap[i]->heap_index);
}

static void s_on_delay_timer(uv_timer_t *t);

static void s_arm_delay(struct tm_http_engine *e, uint64_t now) {
    if (!e->heap_count) {
        s_uv_check(e, uv_timer_stop(&e->delay_timer), "uv_timer_stop");
        return;
    }
    uint64_t due = e->heap[0]->due_ms;
    /* Never a zero timeout: this may run inside a timer callback (STYLE.md, multi-uv gap 6). */
    uint64_t wait = due > now ? due - now : 1;
    s_uv_check(e, uv_timer_start(&e->delay_timer, s_on_delay_timer, wait, 0), "uv_timer_start");
}

/* --- Queues -------------------------------------------------------------------------------------------- */

static long s_timeout_ms(const struct tm_http_engine *e, const struct tm_http_request *req) {
    return req->timeout_ms ? req->timeout_ms : e->opts.timeout_ms;
}

/* Retries go to the front: a request already under way finishes before new ones start. */
static void s_enqueue(struct tm_http_engine *e, struct tm_http_request *req, bool front) {
    req->state = TM__NET_QUEUED;
    s_key_push(e, req->key, req, front);
    s_ready_add(e, req->key);
}

/* Takes a QUEUED request out of its key's queue. */
static void s_dequeue(struct tm_http_engine *e, struct tm_http_request *req) {
    struct tm__net_key *key = req->key;
    s_key_unlink(e, key, req);
    if (!key->queued)
        s_ready_remove(e, key);
}

static void s_on_delay_timer(uv_timer_t *t) {
    struct tm_http_engine *e = t->data;
    uint64_t now = s_now(e);
    while (e->heap_count && e->heap[0]->due_ms <= now) {
        struct tm_http_request *req = e->heap[0];
        s_heap_remove(e, req);
        assert(req->state == TM__NET_DELAYED);
        s_enqueue(e, req, true);
    }
    s_arm_delay(e, now);
    s_kick(e);
}

/* --- curl <-> libuv wiring ------------------------------------------------------------------------------ */

static void s_engine_handle_gone(struct tm_http_engine *e);

static void s_drain(struct tm_http_engine *e);

static void s_socket_action(struct tm_http_engine *e, curl_socket_t fd, int flags) {
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(e->multi, fd, flags, &running);
    s_curlm_check(e, mc, "curl_multi_socket_action");
    /* Completed transfers are reported through info_read after every action, timeouts included. */
    s_drain(e);
}

static void s_poll_cb(uv_poll_t *h, int status, int events) {
    struct s_poll *p = h->data;
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    s_socket_action(p->engine, p->fd, flags);
}

static void s_poll_closed(uv_handle_t *h) {
    struct s_poll *p = h->data;
    struct tm_http_engine *e = p->engine;
    if (p->prev)
        p->prev->next = p->next;
    else
        e->polls = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
    s_engine_handle_gone(e);
}

static void s_poll_close(struct tm_http_engine *e, struct s_poll *p) {
    if (uv_is_closing((uv_handle_t *)&p->poll))
        return;
    s_uv_check(e, uv_poll_stop(&p->poll), "uv_poll_stop");
    uv_close((uv_handle_t *)&p->poll, s_poll_closed);
}

static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    struct tm_http_engine *e = userp;
    struct s_poll *p = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (p) {
            if (!e->multi_gone)
                s_curlm_check(e, curl_multi_assign(e->multi, fd, NULL), "curl_multi_assign");
            s_poll_close(e, p);
        }
        return 0;
    }
    if (!p) {
        p = calloc(1, sizeof(*p));
        if (!p)
            return -1;
        int rc = uv_poll_init_socket(e->loop, &p->poll, fd);
        if (rc < 0) {
            s_uv_check(e, rc, "uv_poll_init_socket");
            free(p);
            return -1;
        }
        p->fd = fd;
        p->engine = e;
        p->poll.data = p;
        p->next = e->polls;
        if (e->polls)
            e->polls->prev = p;
        e->polls = p;
        e->open_handles++;
        CURLMcode mc = curl_multi_assign(e->multi, fd, p);
        if (mc != CURLM_OK) {
            s_curlm_check(e, mc, "curl_multi_assign");
            s_poll_close(e, p);
            return -1;
        }
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    int rc = events ? uv_poll_start(&p->poll, events, s_poll_cb) : uv_poll_stop(&p->poll);
    if (rc < 0) {
        s_uv_check(e, rc, "uv_poll_start");
        return -1;
    }
    return 0;
}

static void s_on_curl_timer(uv_timer_t *t) {
    s_socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static void s_on_curl_idle(uv_idle_t *i) {
    struct tm_http_engine *e = i->data;
    s_uv_check(e, uv_idle_stop(&e->curl_idle), "uv_idle_stop");
    s_socket_action(e, CURL_SOCKET_TIMEOUT, 0);
}

static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    struct tm_http_engine *e = userp;
    (void)multi;
    int rc = 0;
    if (timeout_ms < 0) {
        s_uv_check(e, uv_timer_stop(&e->curl_timer), "uv_timer_stop");
        s_uv_check(e, uv_idle_stop(&e->curl_idle), "uv_idle_stop");
    } else if (timeout_ms == 0) {
        /* "Act now": on the next loop iteration, after I/O has been polled. */
        s_uv_check(e, uv_timer_stop(&e->curl_timer), "uv_timer_stop");
        rc = uv_idle_start(&e->curl_idle, s_on_curl_idle);
    } else {
        s_uv_check(e, uv_idle_stop(&e->curl_idle), "uv_idle_stop");
        rc = uv_timer_start(&e->curl_timer, s_on_curl_timer, (uint64_t)timeout_ms, 0);
    }
    s_uv_check(e, rc, "arming curl's timer");
    return rc < 0 ? -1 : 0;
}

/* --- Easy handles ------------------------------------------------------------------------------------------ */

static size_t s_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
    struct tm_http_request *req = userdata;
    size_t n = size * nmemb;
    int rc = tm_buf_append(&req->resp_body, ptr, n);
    if (rc == TM_ERR_TOO_BIG) {
        req->too_big = true;
        return 0;
    }
    if (rc) {
        req->out_of_memory = true;
        return 0;
    }
    return n;
}

static size_t s_header_cb(char *buf, size_t size, size_t nitems, void *userdata) {
    struct tm_http_request *req = userdata;
    size_t n = size * nitems;
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new status line (after a 100 Continue, say): only the final response's headers count. */
        tm__net_request_clear_headers(req);
        return n;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return n; /* the blank line that ends the headers */
    size_t name_len = (size_t)(colon - buf);
    while (name_len && (buf[name_len - 1] == ' ' || buf[name_len - 1] == '\t'))
        name_len--;
    const char *v = colon + 1;
    const char *end = buf + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (!name_len)
        return n;
    int rc = tm__net_request_add_response_header(req, buf, name_len, v, (size_t)(end - v));
    if (rc == TM_ERR_TOO_BIG) {
        req->too_big = true;
        return 0;
    }
    if (rc) {
        req->out_of_memory = true;
        return 0;
    }
    return n;
}

static CURL *s_easy_get(struct tm_http_engine *e) {
    if (e->pool_count)
        return e->pool[--e->pool_count];
    return curl_easy_init();
}

static void s_easy_put(struct tm_http_engine *e, CURL *easy) {
    if (!easy)
        return;
    /* Reset keeps the handle's caches; connections live in the multi handle anyway. */
    curl_easy_reset(easy);
    if (e->pool_count < S_EASY_POOL_MAX && !e->destroying)
        e->pool[e->pool_count++] = easy;
    else
        curl_easy_cleanup(easy);
}

static int s_build_headers(struct tm_http_request *req) {
    struct tm_buf line;
    tm_buf_init(&line, 0);
    int rc = TM_OK;
    bool have_expect = false;
    for (size_t i = 0; i < req->header_count; i++) {
        tm_buf_reset(&line);
        if (tm_str_ieq(req->header_names[i], "Expect"))
            have_expect = true;
        /* curl sends an empty header for "Name;", and removes one for "Name:". */
        if (req->header_values[i][0])
            rc = tm_buf_appendf(&line, "%s: %s", req->header_names[i], req->header_values[i]);
        else
            rc = tm_buf_appendf(&line, "%s;", req->header_names[i]);
        if (rc)
            goto done;
        struct curl_slist *n = curl_slist_append(req->slist, tm_buf_str(&line));
        if (!n) {
            rc = TM_ERR_NOMEM;
            goto done;
        }
        req->slist = n;
    }
    /* No "Expect: 100-continue" round trip before bodies: the APIs answer at once. */
    if (!have_expect) {
        struct curl_slist *n = curl_slist_append(req->slist, "Expect:");
        if (!n) {
            rc = TM_ERR_NOMEM;
            goto done;
        }
        req->slist = n;
    }
done:
    tm_buf_clean_up_secret(&line);
    return rc;
}

#define S_SET(opt, val)                                                                                                \
    do {                                                                                                               \
        if (cc == CURLE_OK)                                                                                            \
            cc = curl_easy_setopt(easy, opt, val);                                                                     \
    } while (0)

static int s_setup_easy(struct tm_http_engine *e, struct tm_http_request *req, CURL *easy, long timeout_ms) {
    int rc = s_build_headers(req);
    if (rc)
        return rc;
    CURLcode cc = CURLE_OK;
    S_SET(CURLOPT_URL, req->url);
    S_SET(CURLOPT_PRIVATE, (void *)req);
    S_SET(CURLOPT_SHARE, e->share);
    S_SET(CURLOPT_NOSIGNAL, 1L);
    S_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    S_SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* Always verified, whatever the host; there is deliberately no option to turn this off. */
    S_SET(CURLOPT_SSL_VERIFYPEER, 1L);
    S_SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (e->ca_bundle)
        S_SET(CURLOPT_CAINFO, e->ca_bundle);
    S_SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* Over TLS, ALPN tells at connect time whether a connection multiplexes, so waiting for one being set
     * up beats opening another beside it. Over plain http (loopback) curl learns it only from the first
     * response, and waiting would serialise everything behind that response. */
    if (tm_str_starts_with(req->url, "https:") || tm_str_starts_with(req->url, "HTTPS:"))
        S_SET(CURLOPT_PIPEWAIT, 1L);
    S_SET(CURLOPT_ACCEPT_ENCODING, "");
    S_SET(CURLOPT_TCP_KEEPALIVE, 1L);
    S_SET(CURLOPT_CONNECTTIMEOUT_MS, e->opts.connect_timeout_ms);
    S_SET(CURLOPT_TIMEOUT_MS, timeout_ms);
    S_SET(CURLOPT_LOW_SPEED_LIMIT, e->opts.low_speed_bytes_per_s);
    S_SET(CURLOPT_LOW_SPEED_TIME, e->opts.low_speed_time_s);
    /* Fails early on a declared Content-Length over the cap; the write callback catches the rest
     * (chunked or decompressed bodies). */
    S_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)e->opts.max_body_bytes);
    S_SET(CURLOPT_WRITEFUNCTION, s_write_cb);
    S_SET(CURLOPT_WRITEDATA, (void *)req);
    S_SET(CURLOPT_HEADERFUNCTION, s_header_cb);
    S_SET(CURLOPT_HEADERDATA, (void *)req);
    S_SET(CURLOPT_ERRORBUFFER, req->errbuf);
    if (e->user_agent)
        S_SET(CURLOPT_USERAGENT, e->user_agent);
    S_SET(CURLOPT_HTTPHEADER, req->slist);
    const char *body = req->body ? (const char *)req->body : "";
    if (strcmp(req->method, "GET") == 0) {
        S_SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "HEAD") == 0) {
        S_SET(CURLOPT_NOBODY, 1L);
    } else {
        S_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        S_SET(CURLOPT_POSTFIELDS, body);
        if (strcmp(req->method, "POST") != 0)
            S_SET(CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (cc != CURLE_OK) {
        snprintf(req->errbuf, sizeof(req->errbuf), "%s", curl_easy_strerror(cc));
        return cc == CURLE_OUT_OF_MEMORY ? TM_ERR_NOMEM : TM_ERR_INVALID;
    }
    return TM_OK;
}

#undef S_SET

/* --- Attempts ---------------------------------------------------------------------------------------------- */

static void s_release_slot(struct tm_http_engine *e, struct tm_http_request *req) {
    if (!req->slot_held)
        return;
    req->slot_held = false;
    req->key->in_flight--;
    req->host->in_flight--;
    req->svc->in_flight--;
    e->in_flight--;
    s_kick(e);
}

static void s_release_easy(struct tm_http_engine *e, struct tm_http_request *req) {
    s_easy_put(e, req->easy);
    req->easy = NULL;
    curl_slist_free_all(req->slist);
    req->slist = NULL;
}

/* A failure found before anything was sent: final. */
static void s_fail_local(struct tm_http_engine *e, struct tm_http_request *req, int err, const char *code,
                         const char *message) {
    s_release_slot(e, req);
    s_set_code(req, code, message);
    s_finish(e, req, err);
}

/* The hook may have said why with tm_http_request_set_error. */
static void s_fail_prepare(struct tm_http_engine *e, struct tm_http_request *req, int rc) {
    char msg[160];
    snprintf(msg, sizeof(msg), "could not prepare the request: %s", tm_error_str(rc));
    char code[sizeof(req->code)], message[sizeof(req->message)];
    snprintf(code, sizeof(code), "%s", req->code[0] ? req->code : "PrepareFailed");
    snprintf(message, sizeof(message), "%s", req->message[0] ? req->message : msg);
    s_fail_local(e, req, rc < 0 ? rc : TM_ERR_INVALID, code, message);
}

static void s_send(struct tm_http_engine *e, struct tm_http_request *req, uint64_t now) {
    char msg[300];
    int rc = tm_http_check_url(req->url, msg, sizeof(msg));
    if (rc) {
        s_fail_local(e, req, rc == TM_ERR_NOMEM ? rc : TM_ERR_INVALID, "InsecureURL", msg);
        return;
    }
    /* The timeout runs from the grant: an asynchronous prepare (credentials being refreshed) holds the slot and
     * uses the attempt's time; the queue before the grant does not. */
    long timeout = s_timeout_ms(e, req);
    long left = timeout - (long)(now - req->granted_ms);
    if (left <= 0) {
        snprintf(msg, sizeof(msg), "timed out after %ld ms preparing the attempt", timeout);
        s_fail_local(e, req, TM_ERR_TIMEOUT, "Timeout", msg);
        return;
    }
    CURL *easy = s_easy_get(e);
    if (!easy) {
        s_fail_local(e, req, TM_ERR_NOMEM, "OutOfMemory", "curl_easy_init failed");
        return;
    }
    req->easy = easy;
    rc = s_setup_easy(e, req, easy, left);
    if (rc) {
        snprintf(msg, sizeof(msg), "could not set up the transfer: %s",
                 req->errbuf[0] ? req->errbuf : tm_error_str(rc));
        s_release_easy(e, req);
        s_fail_local(e, req, rc, "ClientError", msg);
        return;
    }
    CURLMcode mc = curl_multi_add_handle(e->multi, easy);
    if (mc != CURLM_OK) {
        snprintf(msg, sizeof(msg), "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        s_release_easy(e, req);
        s_fail_local(e, req, mc == CURLM_OUT_OF_MEMORY ? TM_ERR_NOMEM : TM_ERR_NETWORK, "ClientError", msg);
        return;
    }
    req->state = TM__NET_RUNNING;
    req->sent_ms = now;
    req->sent++;
    e->totals.attempts++;
    req->svc->stats.attempts++;
    if (req->sent > 1) {
        e->totals.retries++;
        req->svc->stats.retries++;
    }
    e->totals.bytes_sent += req->body_len;
    req->svc->stats.bytes_sent += req->body_len;
    if (e->opts.adaptive)
        tm_rate_adaptive_on_sent(&s_key_limiter(req->key)->adaptive, now);
}

static void s_start_attempt(struct tm_http_engine *e, struct tm_http_request *req, uint64_t now) {
    req->slot_held = true;
    req->key->in_flight++;
    req->host->in_flight++;
    req->svc->in_flight++;
    e->in_flight++;
    req->granted_ms = now;
    req->attempt++;
    tm__net_request_reset_response(req);
    req->code[0] = '\0';
    req->message[0] = '\0';
    req->state = TM__NET_PREPARING;
    if (req->prepare) {
        req->in_prepare = true;
        req->resume_called = false;
        int rc = req->prepare(req, req->attempt, req->hook_data);
        req->in_prepare = false;
        if (rc == TM_HTTP_PREPARE_ASYNC) {
            if (!req->resume_called) {
                req->state = TM__NET_WAIT_PREPARE;
                return;
            }
            rc = req->resume_err;
        }
        if (rc != TM_OK) {
            s_fail_prepare(e, req, rc);
            return;
        }
    }
    s_send(e, req, now);
}

void tm_http_request_resume(struct tm_http_request *req, int err) {
    if (req->in_prepare) {
        req->resume_called = true;
        req->resume_err = err;
        return;
    }
    assert(req->state == TM__NET_WAIT_PREPARE);
    if (req->state != TM__NET_WAIT_PREPARE)
        return;
    struct tm_http_engine *e = req->engine;
    req->state = TM__NET_RESUMED;
    req->resume_err = err;
    s_queue_push(&e->resumed_head, &e->resumed_tail, req, false);
    s_kick(e);
}

static void s_classify_transport(struct tm_http_verdict *v, const struct tm_http_request *req, CURLcode cc,
                                 size_t max_body) {
    const char *detail = req->errbuf[0] ? req->errbuf : curl_easy_strerror(cc);
    v->outcome = TM_HTTP_FAIL;
    v->err = TM_ERR_NETWORK;
    const char *code = "NetworkError";
    switch (cc) {
        case CURLE_WRITE_ERROR:
        case CURLE_FILESIZE_EXCEEDED:
            if (req->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
                v->err = TM_ERR_TOO_BIG;
                snprintf(v->code, sizeof(v->code), "ResponseTooLarge");
                snprintf(v->message, sizeof(v->message), "response over the %zu-byte cap (headers %u bytes max)",
                         max_body, TM__NET_MAX_HEADER_BYTES);
                return;
            }
            if (req->out_of_memory) {
                v->err = TM_ERR_NOMEM;
                code = "OutOfMemory";
            }
            break;
        case CURLE_OPERATION_TIMEDOUT:
            v->outcome = TM_HTTP_RETRY;
            v->err = TM_ERR_TIMEOUT;
            code = "Timeout";
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_BAD_CONTENT_ENCODING:
        case CURLE_AGAIN:
        case CURLE_PROXY:
            v->outcome = TM_HTTP_RETRY;
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CRL_BADFILE:
            code = "TLSVerificationFailed";
            break;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            v->err = TM_ERR_INVALID;
            code = "InvalidURL";
            break;
        case CURLE_OUT_OF_MEMORY:
            v->err = TM_ERR_NOMEM;
            code = "OutOfMemory";
            break;
        default:
            break;
    }
    snprintf(v->code, sizeof(v->code), "%s", code);
    tm__net_copy_line(v->message, sizeof(v->message), detail, strlen(detail));
}

static struct tm_http_response s_view(const struct tm_http_request *req, int err) {
    struct tm_http_response r = {0};
    r.err = err;
    r.status = req->status;
    r.body = tm_buf_str(&req->resp_body);
    r.body_len = req->resp_body.len;
    r.headers = req->resp_headers;
    r.header_count = req->resp_header_count;
    r.attempts = req->sent;
    r.throttles = req->throttles;
    r.code = req->code;
    r.message = req->message;
    r.request = req;
    return r;
}

static uint64_t s_backoff_ms(struct tm_http_engine *e, unsigned attempt) {
    uint64_t cap = e->opts.backoff_base_ms;
    for (unsigned i = 1; i < attempt && cap < e->opts.backoff_cap_ms; i++)
        cap *= 2;
    if (cap > e->opts.backoff_cap_ms)
        cap = e->opts.backoff_cap_ms;
    /* Full jitter: uniformly anywhere between zero and the exponential ceiling. */
    return cap ? s_rand(e) % (cap + 1) : 0;
}

static void s_adapt(struct tm_http_engine *e, struct tm_http_request *req, bool throttled, uint64_t now) {
    struct tm__net_key *key = req->key;
    if (!e->opts.adaptive)
        return;
    /* A grouped key's throttle is the group's: the service counts the group's requests together. */
    struct tm__net_limiter *lim = s_key_limiter(key);
    bool changed = throttled ? tm_rate_adaptive_on_throttle(&lim->adaptive, &e->adapt, now, req->sent_ms)
                             : tm_rate_adaptive_on_success(&lim->adaptive, &e->adapt, now);
    if (!changed)
        return;
    s_limiter_apply(e, lim, now);
    if (throttled)
        tm_log_debug(e->opts.log, "http: throttled on %s%s%s, rate now %.2f/s", key->name, key->group ? " in " : "",
                     key->group ? key->group->name : "", lim->bucket.rate_per_s);
}

static void s_attempt_done(struct tm_http_engine *e, struct tm_http_request *req, CURLcode cc) {
    long status = 0;
    if (curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    s_release_easy(e, req);
    s_release_slot(e, req);
    uint64_t now = s_now(e);
    req->status = status;
    e->totals.bytes_received += req->resp_body.len;
    req->svc->stats.bytes_received += req->resp_body.len;

    struct tm_http_verdict v;
    memset(&v, 0, sizeof(v));
    v.retry_after_ms = -1;
    bool got_response = cc == CURLE_OK;
    if (!got_response) {
        s_classify_transport(&v, req, cc, e->opts.max_body_bytes);
    } else {
        struct tm_http_response view = s_view(req, TM_OK);
        view.attempts = req->attempt;
        view.code = "";
        view.message = "";
        if (req->classify)
            req->classify(&v, &view, req->hook_data);
        else
            tm_http_classify_default(&v, &view, NULL);
    }
    s_set_code(req, v.code, v.message);

    int final_err;
    switch (v.outcome) {
        case TM_HTTP_SUCCESS:
            s_adapt(e, req, false, now);
            s_finish(e, req, TM_OK);
            return;
        case TM_HTTP_FAIL:
            if (got_response)
                s_adapt(e, req, false, now);
            s_finish(e, req, v.err ? v.err : (got_response ? TM_ERR_SERVICE : TM_ERR_NETWORK));
            return;
        case TM_HTTP_THROTTLED:
            req->throttles++;
            e->totals.throttles++;
            req->svc->stats.throttles++;
            s_adapt(e, req, true, now);
            final_err = TM_ERR_SERVICE;
            break;
        case TM_HTTP_RETRY:
            if (got_response) {
                s_adapt(e, req, false, now);
                final_err = TM_ERR_SERVICE;
            } else {
                final_err = v.err ? v.err : TM_ERR_NETWORK;
            }
            break;
        default:
            assert(!"unknown verdict");
            final_err = TM_ERR_SERVICE;
            break;
    }
    if (got_response && v.err && v.outcome != TM_HTTP_THROTTLED)
        final_err = v.err;

    unsigned max_attempts = req->max_attempts ? req->max_attempts : e->opts.max_attempts;
    if (req->attempt >= max_attempts) {
        s_finish(e, req, final_err);
        return;
    }
    uint64_t delay = s_backoff_ms(e, req->attempt);
    int64_t retry_after = v.retry_after_ms;
    if (retry_after < 0 && got_response) {
        struct tm_http_response view = s_view(req, TM_OK);
        const char *ra = tm_http_response_header(&view, "Retry-After");
        uint64_t ms;
        if (ra && tm_http_parse_retry_after(&ms, ra, (int64_t)time(NULL)) == TM_OK)
            retry_after = (int64_t)ms;
    }
    if (retry_after >= 0) {
        if ((uint64_t)retry_after > e->opts.max_retry_after_ms) {
            char msg[512];
            snprintf(msg, sizeof(msg),
                     "%.300s (not retried: Retry-After of %" PRId64 " ms is over the %" PRIu64 " ms limit)",
                     req->message, retry_after, e->opts.max_retry_after_ms);
            s_set_code(req, req->code, msg);
            s_finish(e, req, final_err);
            return;
        }
        if ((uint64_t)retry_after > delay)
            delay = (uint64_t)retry_after;
    }
    tm_log_debug(e->opts.log, "http: %s %s: %s, attempt %u, retrying in %" PRIu64 " ms", req->method, req->op_key,
                 req->code[0] ? req->code : "error", req->attempt, delay);
    req->state = TM__NET_DELAYED;
    req->due_ms = now + delay;
    s_heap_push(e, req);
    if (req->heap_index == 0)
        s_arm_delay(e, now);
}

static void s_drain(struct tm_http_engine *e) {
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(e->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* Copy out before remove_handle: the message does not survive it. */
        CURL *easy = msg->easy_handle;
        CURLcode cc = msg->data.result;
        char *priv = NULL;
        if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv) {
            tm_log_error(e->opts.log, "http: finished transfer without its request");
            s_curlm_check(e, curl_multi_remove_handle(e->multi, easy), "curl_multi_remove_handle");
            curl_easy_cleanup(easy);
            continue;
        }
        s_curlm_check(e, curl_multi_remove_handle(e->multi, easy), "curl_multi_remove_handle");
        s_attempt_done(e, (struct tm_http_request *)(void *)priv, cc);
    }
}

static void s_finish(struct tm_http_engine *e, struct tm_http_request *req, int err) {
    struct tm_http_response r = s_view(req, err);
    e->totals.completed++;
    req->svc->stats.completed++;
    if (err) {
        e->totals.errors++;
        req->svc->stats.errors++;
    }
    if (req->all_prev)
        req->all_prev->all_next = req->all_next;
    else
        e->all_head = req->all_next;
    if (req->all_next)
        req->all_next->all_prev = req->all_prev;
    e->pending--;
    e->dispatch_depth++;
    req->done(&r, req->user_data);
    e->dispatch_depth--;
    tm__net_request_free(req);
}

/* --- The scheduler ----------------------------------------------------------------------------------------- */

static void s_on_sched_idle(uv_idle_t *i) {
    struct tm_http_engine *e = i->data;
    s_uv_check(e, uv_idle_stop(&e->sched_idle), "uv_idle_stop");
    s_schedule(e);
}

static void s_on_sched_timer(uv_timer_t *t) {
    s_schedule(t->data);
}

static void s_kick(struct tm_http_engine *e) {
    if (e->destroying || uv_is_active((uv_handle_t *)&e->sched_idle))
        return;
    s_uv_check(e, uv_idle_start(&e->sched_idle, s_on_sched_idle), "uv_idle_start");
}

static void s_schedule(struct tm_http_engine *e) {
    if (e->destroying)
        return;
    uint64_t now = s_now(e);
    struct tm_http_request *req;
    while ((req = e->resumed_head)) {
        s_queue_unlink(&e->resumed_head, &e->resumed_tail, req);
        if (req->resume_err)
            s_fail_prepare(e, req, req->resume_err);
        else
            s_send(e, req, now);
    }
    uint64_t min_wait = UINT64_MAX;
    /* One start per pass: the best head among the keys that may start now (see "Order" in http.h). */
    while (e->in_flight < e->opts.max_in_flight) {
        uint64_t pass = ++e->pass;
        uint64_t due = S_AGING_PASSES * (uint64_t)e->waiting_queues;
        struct tm__net_key *best = NULL, *overdue = NULL;
        double best_rank = 0;
        int overdue_prio = 0;
        uint64_t overdue_passes = 0;
        struct tm__net_key *next;
        for (struct tm__net_key *key = e->ready_head; key; key = next) {
            next = key->ready_next;
            req = s_key_head(key);
            if (!req) {
                s_ready_remove(e, key);
                continue;
            }
            if (req->host->in_flight >= e->opts.max_per_host || req->svc->in_flight >= req->svc->limit)
                continue;
            struct tm__net_limiter *lim = s_key_limiter(key);
            /* Slow start on a key not yet throttled: its own pacing, like the rate (a completion wakes it). */
            if (e->opts.adaptive && lim->adaptive.window && key->in_flight >= lim->adaptive.window)
                continue;
            uint64_t wait = tm_rate_bucket_wait_ms(&lim->bucket, now);
            uint64_t gwait = tm_rate_bucket_wait_ms(&e->global, now);
            if (gwait > wait)
                wait = gwait;
            if (wait) {
                if (wait < min_wait)
                    min_wait = wait;
                continue;
            }
            key->startable_pass = pass;
            double rate = lim->bucket.rate_per_s;
            double drain_s = rate > 0 ? (double)(key->group ? key->group->queued : key->queued) / rate : 0;
            double rank = drain_s + S_PRIORITY_WEIGHT_S * req->priority;
            if (!best || rank > best_rank) {
                best = key;
                best_rank = rank;
            }
            /* The queue passed over most often, once over its due, goes before any rank; ties go by turn. */
            for (int p = 0; p < TM__NET_PRIORITIES; p++) {
                if (key->head[p] && key->passes[p] >= due && (!overdue || key->passes[p] > overdue_passes)) {
                    overdue = key;
                    overdue_prio = p;
                    overdue_passes = key->passes[p];
                }
            }
        }
        if (!best)
            break;
        int prio = (int)s_key_head(best)->priority;
        if (overdue) {
            best = overdue;
            prio = overdue_prio;
        }
        /* Every other queue that could have started now is passed over once more. */
        for (struct tm__net_key *key = e->ready_head; key; key = key->ready_next) {
            if (key->startable_pass != pass)
                continue;
            for (int p = 0; p < TM__NET_PRIORITIES; p++)
                if (key->head[p] && (key != best || p != prio))
                    key->passes[p]++;
        }
        best->passes[prio] = 0;
        req = best->head[prio];
        bool took =
            tm_rate_bucket_try_take(&s_key_limiter(best)->bucket, now) && tm_rate_bucket_try_take(&e->global, now);
        assert(took);
        (void)took;
        s_dequeue(e, req);
        /* To the back of the line: among equals, the key served least recently goes next. */
        if (best->in_ready) {
            s_ready_remove(e, best);
            s_ready_add(e, best);
        }
        s_start_attempt(e, req, now);
        if (e->destroying)
            return;
    }
    if (min_wait != UINT64_MAX)
        s_uv_check(e, uv_timer_start(&e->sched_timer, s_on_sched_timer, min_wait, 0), "uv_timer_start");
}

/* --- Public API --------------------------------------------------------------------------------------------- */

static void s_msg(char *errmsg, size_t errmsg_len, const char *what) {
    if (errmsg && errmsg_len)
        snprintf(errmsg, errmsg_len, "%s", what);
}

static void s_free_node(const char *key, void *value, void *user_data) {
    (void)key;
    (void)user_data;
    /* Keys, hosts, services and groups all start with their name. */
    char **name = value;
    free(*name);
    free(value);
}

static void s_free_engine(struct tm_http_engine *e) {
    tm__net_map_foreach(&e->groups, s_free_node, NULL);
    tm__net_map_clean_up(&e->groups);
    tm__net_map_foreach(&e->keys, s_free_node, NULL);
    tm__net_map_foreach(&e->hosts, s_free_node, NULL);
    tm__net_map_foreach(&e->services, s_free_node, NULL);
    tm__net_map_clean_up(&e->keys);
    tm__net_map_clean_up(&e->hosts);
    tm__net_map_clean_up(&e->services);
    for (size_t i = 0; i < e->rule_count; i++)
        free(e->rules[i].pattern);
    free(e->rules);
    free(e->heap);
    free(e->ca_bundle);
    free(e->user_agent);
    free(e);
}

static void s_engine_handle_gone(struct tm_http_engine *e) {
    if (--e->open_handles == 0)
        s_free_engine(e);
}

static void s_handle_closed(uv_handle_t *h) {
    s_engine_handle_gone(h->data);
}

static void s_close_handle(struct tm_http_engine *e, uv_handle_t *h) {
    (void)e;
    if (!uv_is_closing(h))
        uv_close(h, s_handle_closed);
}

int tm_http_engine_new(struct tm_http_engine **out, uv_loop_t *loop, const struct tm_http_options *opts, char *errmsg,
                       size_t errmsg_len) {
    *out = NULL;
    if (!loop || !opts) {
        s_msg(errmsg, errmsg_len, "no loop or options");
        return TM_ERR_INVALID;
    }
    struct tm_http_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        s_msg(errmsg, errmsg_len, "out of memory");
        return TM_ERR_NOMEM;
    }
    int rc = TM_ERR_NOMEM;
    e->loop = loop;
    e->opts = *opts;
    e->opts.ca_bundle = NULL;
    e->opts.user_agent = NULL;
    if (!e->opts.max_attempts)
        e->opts.max_attempts = 1;
    if (!e->opts.max_in_flight)
        e->opts.max_in_flight = 1;
    if (!e->opts.max_per_host)
        e->opts.max_per_host = 1;
    if (!e->opts.max_per_service)
        e->opts.max_per_service = 1;
    if (e->opts.timeout_ms <= 0)
        e->opts.timeout_ms = 120000;
    e->ca_bundle = opts->ca_bundle && *opts->ca_bundle ? tm_strdup(opts->ca_bundle) : NULL;
    e->user_agent = opts->user_agent ? tm_strdup(opts->user_agent) : NULL;
    if ((opts->ca_bundle && *opts->ca_bundle && !e->ca_bundle) || (opts->user_agent && !e->user_agent)) {
        s_msg(errmsg, errmsg_len, "out of memory");
        goto fail;
    }
    tm_rate_adaptive_params_init(&e->adapt);
    e->rng = opts->seed ? opts->seed : (uv_hrtime() ^ ((uint64_t)getpid() << 32));
    tm__net_map_init(&e->keys);
    tm__net_map_init(&e->hosts);
    tm__net_map_init(&e->services);
    tm__net_map_init(&e->groups);
    uint64_t now = uv_now(loop);
    tm_rate_bucket_init(&e->global, opts->max_rps, s_default_burst(opts->max_rps), now);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        s_msg(errmsg, errmsg_len, "curl_global_init failed");
        rc = TM_ERR_NETWORK;
        goto fail;
    }
    e->curl_global = true;
    e->multi = curl_multi_init();
    e->share = curl_share_init();
    if (!e->multi || !e->share) {
        s_msg(errmsg, errmsg_len, "could not create curl handles");
        goto fail;
    }
    /* TLS sessions and DNS answers are shared by every transfer (one thread: no lock functions). */
    CURLSHcode sc = curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    if (sc != CURLSHE_OK) {
        s_msg(errmsg, errmsg_len, curl_share_strerror(sc));
        rc = TM_ERR_NETWORK;
        goto fail;
    }
    CURLMcode mc = curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->opts.max_in_flight);
    if (mc != CURLM_OK) {
        s_msg(errmsg, errmsg_len, curl_multi_strerror(mc));
        rc = TM_ERR_NETWORK;
        goto fail;
    }

    /* libuv handles last: once one exists the engine can only be freed from a close callback. */
    uv_handle_t *handles[] = {(uv_handle_t *)&e->curl_timer, (uv_handle_t *)&e->curl_idle,
                              (uv_handle_t *)&e->sched_timer, (uv_handle_t *)&e->sched_idle,
                              (uv_handle_t *)&e->delay_timer};
    int urc = uv_timer_init(loop, &e->curl_timer);
    if (urc == 0) {
        e->open_handles++;
        urc = uv_idle_init(loop, &e->curl_idle);
    }
    if (urc == 0) {
        e->open_handles++;
        urc = uv_timer_init(loop, &e->sched_timer);
    }
    if (urc == 0) {
        e->open_handles++;
        urc = uv_idle_init(loop, &e->sched_idle);
    }
    if (urc == 0) {
        e->open_handles++;
        urc = uv_timer_init(loop, &e->delay_timer);
    }
    if (urc == 0)
        e->open_handles++;
    for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
        handles[i]->data = e;
    if (urc != 0) {
        s_msg(errmsg, errmsg_len, uv_strerror(urc));
        e->destroying = true;
        curl_multi_cleanup(e->multi);
        curl_share_cleanup(e->share);
        curl_global_cleanup();
        unsigned n = e->open_handles;
        for (unsigned i = 0; i < n; i++)
            s_close_handle(e, handles[i]);
        return TM_ERR_IO;
    }
    *out = e;
    return TM_OK;

fail:
    if (e->multi)
        curl_multi_cleanup(e->multi);
    if (e->share)
        curl_share_cleanup(e->share);
    if (e->curl_global)
        curl_global_cleanup();
    s_free_engine(e);
    return rc;
}

void tm_http_engine_destroy(struct tm_http_engine *e) {
    if (!e || e->destroying)
        return;
    assert(e->dispatch_depth == 0);
    e->destroying = true;
    struct tm_http_request *req;
    while ((req = e->all_head)) {
        switch (req->state) {
            case TM__NET_RUNNING:
                s_curlm_check(e, curl_multi_remove_handle(e->multi, req->easy), "curl_multi_remove_handle");
                s_release_easy(e, req);
                break;
            case TM__NET_QUEUED:
                s_key_unlink(e, req->key, req);
                break;
            case TM__NET_RESUMED:
                s_queue_unlink(&e->resumed_head, &e->resumed_tail, req);
                break;
            case TM__NET_DELAYED:
            case TM__NET_WAIT_PREPARE:
            case TM__NET_PREPARING:
            case TM__NET_NEW:
                break;
            default:
                assert(!"unknown request state");
                break;
        }
        s_release_slot(e, req);
        s_set_code(req, "Cancelled", "the HTTP engine shut down before the request completed");
        s_finish(e, req, TM_ERR_CANCELLED);
    }
    e->heap_count = 0;
    for (size_t i = 0; i < e->pool_count; i++)
        curl_easy_cleanup(e->pool[i]);
    e->pool_count = 0;
    /* Closing cached connections may still call the socket callback, which closes their poll handles. */
    e->multi_gone = true;
    s_curlm_check(e, curl_multi_cleanup(e->multi), "curl_multi_cleanup");
    e->multi = NULL;
    curl_share_cleanup(e->share);
    e->share = NULL;
    curl_global_cleanup();
    for (struct s_poll *p = e->polls; p; p = p->next)
        s_poll_close(e, p);
    s_close_handle(e, (uv_handle_t *)&e->curl_timer);
    s_close_handle(e, (uv_handle_t *)&e->curl_idle);
    s_close_handle(e, (uv_handle_t *)&e->sched_timer);
    s_close_handle(e, (uv_handle_t *)&e->sched_idle);
    s_close_handle(e, (uv_handle_t *)&e->delay_timer);
}

int tm_http_submit(struct tm_http_engine *e, struct tm_http_request *req, tm_http_done_fn done, void *user_data) {
    if (!req)
        return TM_ERR_INVALID;
    if (req->state != TM__NET_NEW)
        return TM_ERR_STATE; /* already submitted: it is not ours to free */
    int rc = TM_ERR_INVALID;
    if (!e || !done)
        goto fail;
    rc = TM_ERR_STATE;
    if (e->destroying)
        goto fail;
    rc = TM_ERR_NOMEM;
    uint64_t now = s_now(e);
    char host[300];
    s_host_of(host, sizeof(host), req->url);
    req->svc = s_service_get(e, req->service);
    req->host = s_host_get(e, host);
    req->key = s_key_get(e, req->op_key, now);
    if (!req->svc || !req->host || !req->key)
        goto fail;
    /* Every pending request may sit in the timed heap at once. */
    if (s_heap_reserve(e, e->pending + 1) != TM_OK)
        goto fail;
    tm_buf_init(&req->resp_body, e->opts.max_body_bytes);
    req->engine = e;
    req->done = done;
    req->user_data = user_data;
    req->all_prev = NULL;
    req->all_next = e->all_head;
    if (e->all_head)
        e->all_head->all_prev = req;
    e->all_head = req;
    e->pending++;
    e->totals.requests++;
    req->svc->stats.requests++;

    char msg[300];
    int urc = tm_http_check_url(req->url, msg, sizeof(msg));
    if (urc) {
        /* Reported through done like any other failure, and nothing is sent. */
        s_set_code(req, "InsecureURL", msg);
        req->state = TM__NET_RESUMED;
        req->resume_err = urc == TM_ERR_NOMEM ? urc : TM_ERR_INVALID;
        s_queue_push(&e->resumed_head, &e->resumed_tail, req, false);
    } else {
        s_enqueue(e, req, false);
    }
    s_kick(e);
    return TM_OK;

fail:
    tm__net_request_free(req);
    return rc;
}

static int s_add_rule(struct tm_http_engine *e, const char *key_rule, struct tm__net_group *group, double rate_per_s,
                      double burst) {
    size_t len = strlen(key_rule);
    bool is_prefix = key_rule[len - 1] == '*';
    char *pattern = tm_strndup(key_rule, is_prefix ? len - 1 : len);
    if (!pattern)
        return TM_ERR_NOMEM;
    struct s_rule *rule = NULL;
    for (size_t i = 0; i < e->rule_count; i++)
        if (e->rules[i].is_prefix == is_prefix && strcmp(e->rules[i].pattern, pattern) == 0)
            rule = &e->rules[i];
    if (rule) {
        free(pattern);
    } else {
        struct s_rule *r = realloc(e->rules, (e->rule_count + 1) * sizeof(*r));
        if (!r) {
            free(pattern);
            return TM_ERR_NOMEM;
        }
        e->rules = r;
        rule = &e->rules[e->rule_count++];
        rule->pattern = pattern;
        rule->is_prefix = is_prefix;
    }
    rule->rate_per_s = rate_per_s;
    rule->burst = burst;
    rule->group = group;
    /* Only keys this rule matches can change; a scan seeds hundreds of rules over about as many keys. */
    uint64_t now = s_now(e);
    for (size_t i = 0; i < e->keys.bucket_count; i++)
        for (struct tm__net_map_entry *en = e->keys.buckets[i]; en; en = en->next)
            if (s_rule_matches(rule, en->key))
                s_key_configure(e, en->value, now);
    s_kick(e);
    return TM_OK;
}

static bool s_rate_args_ok(const char *key_rule, double rate_per_s, double burst) {
    return key_rule && *key_rule && rate_per_s >= 0 && burst >= 0 && isfinite(rate_per_s) && isfinite(burst);
}

int tm_http_engine_set_rate(struct tm_http_engine *e, const char *key_rule, double rate_per_s, double burst) {
    if (!e || !s_rate_args_ok(key_rule, rate_per_s, burst))
        return TM_ERR_INVALID;
    return s_add_rule(e, key_rule, NULL, rate_per_s, burst);
}

int tm_http_engine_set_shared_rate(struct tm_http_engine *e, const char *key_rule, const char *group, double rate_per_s,
                                   double burst) {
    if (!e || !group || !*group || !s_rate_args_ok(key_rule, rate_per_s, burst))
        return TM_ERR_INVALID;
    uint64_t now = s_now(e);
    struct tm__net_group *g = s_group_get(e, group, now);
    if (!g)
        return TM_ERR_NOMEM;
    bool fresh = g->lim.configured_rate == 0 && g->lim.adaptive.rate_per_s == 0;
    g->lim.configured_rate = rate_per_s;
    g->lim.configured_burst = burst;
    s_limiter_apply(e, &g->lim, now);
    if (fresh)
        g->lim.bucket.tokens = g->lim.bucket.burst; /* a new budget starts full, as the service's does */
    return s_add_rule(e, key_rule, g, rate_per_s, burst);
}

int tm_http_engine_set_service_concurrency(struct tm_http_engine *e, const char *service, unsigned max_in_flight) {
    if (!e || !service || !max_in_flight)
        return TM_ERR_INVALID;
    struct tm__net_service *svc = s_service_get(e, service);
    if (!svc)
        return TM_ERR_NOMEM;
    svc->limit = max_in_flight;
    s_kick(e);
    return TM_OK;
}

double tm_http_engine_key_rate(const struct tm_http_engine *e, const char *key) {
    struct tm__net_key *k = tm__net_map_get(&e->keys, key);
    return k ? s_key_limiter(k)->bucket.rate_per_s : 0;
}

const char *tm_http_engine_key_group(const struct tm_http_engine *e, const char *key) {
    const struct tm__net_key *k = tm__net_map_get(&e->keys, key);
    return k && k->group ? k->group->name : NULL;
}

void tm_http_engine_stats(const struct tm_http_engine *e, const char *service, struct tm_http_stats *out) {
    memset(out, 0, sizeof(*out));
    if (!service) {
        *out = e->totals;
        return;
    }
    const struct tm__net_service *svc = tm__net_map_get(&e->services, service);
    if (svc)
        *out = svc->stats;
}

struct s_collect {
    const struct tm__net_service **items;
    size_t count;
};

static void s_collect_service(const char *key, void *value, void *user_data) {
    (void)key;
    struct s_collect *c = user_data;
    c->items[c->count++] = value;
}

static int s_cmp_service(const void *a, const void *b) {
    const struct tm__net_service *const *x = a;
    const struct tm__net_service *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

void tm_http_engine_foreach_stats(const struct tm_http_engine *e, tm_http_stats_fn fn, void *user_data) {
    if (!e->services.count)
        return;
    struct s_collect c = {calloc(e->services.count, sizeof(*c.items)), 0};
    if (!c.items)
        return;
    tm__net_map_foreach(&e->services, s_collect_service, &c);
    qsort(c.items, c.count, sizeof(*c.items), s_cmp_service);
    for (size_t i = 0; i < c.count; i++)
        fn(c.items[i]->name, &c.items[i]->stats, user_data);
    free(c.items);
}

size_t tm_http_engine_pending(const struct tm_http_engine *e) {
    return e->pending;
}
