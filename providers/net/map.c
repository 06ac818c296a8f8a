#include "providers/net/map.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/hash.h"

/* FNV-1a: keys are short host names and operation keys. */
void tm__net_map_init(struct tm__net_map *map) {
    memset(map, 0, sizeof(*map));
}

void tm__net_map_clean_up(struct tm__net_map *map) {
    if (!map)
        return;
    for (size_t i = 0; i < map->bucket_count; i++) {
        struct tm__net_map_entry *e = map->buckets[i];
        while (e) {
            struct tm__net_map_entry *next = e->next;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(map->buckets);
    memset(map, 0, sizeof(*map));
}

static struct tm__net_map_entry *s_find(const struct tm__net_map *map, const char *key, size_t hash) {
    if (!map->bucket_count)
        return NULL;
    for (struct tm__net_map_entry *e = map->buckets[hash & (map->bucket_count - 1)]; e; e = e->next)
        if (e->hash == hash && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

void *tm__net_map_get(const struct tm__net_map *map, const char *key) {
    struct tm__net_map_entry *e = s_find(map, key, (size_t)tm_hash_str(key));
    return e ? e->value : NULL;
}

static int s_grow(struct tm__net_map *map) {
    size_t n = map->bucket_count ? map->bucket_count * 2 : 16;
    struct tm__net_map_entry **b = calloc(n, sizeof(*b));
    if (!b)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < map->bucket_count; i++) {
        struct tm__net_map_entry *e = map->buckets[i];
        while (e) {
            struct tm__net_map_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(map->buckets);
    map->buckets = b;
    map->bucket_count = n;
    return TM_OK;
}

int tm__net_map_put(struct tm__net_map *map, const char *key, void *value) {
    size_t hash = (size_t)tm_hash_str(key);
    struct tm__net_map_entry *e = s_find(map, key, hash);
    if (e) {
        e->value = value;
        return TM_OK;
    }
    if (map->count + 1 > map->bucket_count * 3 / 4) {
        int rc = s_grow(map);
        if (rc)
            return rc;
    }
    e = calloc(1, sizeof(*e));
    if (!e)
        return TM_ERR_NOMEM;
    e->key = tm_strdup(key);
    if (!e->key) {
        free(e);
        return TM_ERR_NOMEM;
    }
    e->value = value;
    e->hash = hash;
    size_t i = hash & (map->bucket_count - 1);
    e->next = map->buckets[i];
    map->buckets[i] = e;
    map->count++;
    return TM_OK;
}

void tm__net_map_foreach(const struct tm__net_map *map, tm__net_map_visit_fn fn, void *user_data) {
    for (size_t i = 0; i < map->bucket_count; i++)
        for (struct tm__net_map_entry *e = map->buckets[i]; e; e = e->next)
            fn(e->key, e->value, user_data);
}
