/* A string-keyed hash map internal to providers/net (hosts, services and operation keys). Keys are
 * copied; values are owned by the caller. */
#ifndef TM_NET_MAP_H
#define TM_NET_MAP_H

#include <stddef.h>

#include "core/error.h"

struct tm__net_map_entry {
    char *key;
    void *value;
    size_t hash;
    struct tm__net_map_entry *next;
};

struct tm__net_map {
    struct tm__net_map_entry **buckets;
    size_t bucket_count; /* a power of two, or 0 before the first insert */
    size_t count;
};

void tm__net_map_init(struct tm__net_map *map);
/* Frees the entries (not the values). */
void tm__net_map_clean_up(struct tm__net_map *map);
void *tm__net_map_get(const struct tm__net_map *map, const char *key);
/* Inserts or replaces. */
TM_MUST_CHECK int tm__net_map_put(struct tm__net_map *map, const char *key, void *value);

/* Visits every entry in unspecified order. */
typedef void (*tm__net_map_visit_fn)(const char *key, void *value, void *user_data);
void tm__net_map_foreach(const struct tm__net_map *map, tm__net_map_visit_fn fn, void *user_data);

#endif
