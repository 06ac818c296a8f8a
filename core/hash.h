/* The hashes of tmscan's in-memory tables: FNV-1a for short keys, a word-at-a-time hash for ARNs, and a
 * combiner for keys of several parts. Not for anything stored or compared across runs. */
#ifndef TM_CORE_HASH_H
#define TM_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TM_HASH_FNV_OFFSET 14695981039346656037ULL
#define TM_HASH_FNV_PRIME 1099511628211ULL

/* FNV-1a over len bytes, continuing from h (TM_HASH_FNV_OFFSET to start). */
static inline uint64_t tm_hash_bytes(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * TM_HASH_FNV_PRIME;
    return h;
}

/* FNV-1a of a string (NULL hashes as ""). */
static inline uint64_t tm_hash_str(const char *s) {
    return s ? tm_hash_bytes(TM_HASH_FNV_OFFSET, s, strlen(s)) : TM_HASH_FNV_OFFSET;
}

/* Combines v into h (keys of several parts: a pointer and a number, a fingerprint and an action). */
static inline uint64_t tm_hash_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* n bytes of s eight at a time, continuing from h; s need not end at n (a policy document's text, a slice of a
 * longer string). */
static inline uint64_t tm_hash_words_n(uint64_t h, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    h ^= n;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

/* A string eight bytes at a time, continuing from h (NULL hashes as ""): node ids and path steps are ARNs of
 * 60 bytes and more, hashed for every reference. */
static inline uint64_t tm_hash_words(uint64_t h, const char *s) {
    const char *t = s ? s : "";
    return tm_hash_words_n(h, t, strlen(t));
}

#endif
