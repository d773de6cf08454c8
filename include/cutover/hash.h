/*
 * hash: SHA-256 through OpenSSL's libcrypto, as lowercase hex. Used for the
 * audit's event chain, the runbook and inventory digests in a run, and the
 * plan digest recorded with each confirmation. Thread-safe.
 */
#ifndef CUTOVER_HASH_H
#define CUTOVER_HASH_H

#include <stddef.h>

#define HASH_HEX_LEN 64

struct hash_ctx;

/* An incremental SHA-256; NULL when out of memory. */
struct hash_ctx *hash_new(void);
void hash_update(struct hash_ctx *h, const void *buf, size_t len);
/* Length-prefixed, so ("ab","c") and ("a","bc") never hash alike. */
void hash_field(struct hash_ctx *h, const char *s);
/* Writes 64 hex digits and a NUL into hex, and frees h. */
void hash_final(struct hash_ctx *h, char hex[HASH_HEX_LEN + 1]);

/* One-shot digest of a buffer. */
void hash_buf(const void *buf, size_t len, char hex[HASH_HEX_LEN + 1]);

#endif
