/*
 * hash: SHA-256 on libcrypto's EVP interface (see include/cutover/hash.h).
 */
#include "cutover/hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hash_ctx {
	EVP_MD_CTX *md;
};

struct hash_ctx *hash_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		return NULL;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	struct hash_ctx *h = malloc(sizeof *h);
	if (h == NULL) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	h->md = md;
	return h;
}

void hash_update(struct hash_ctx *h, const void *buf, size_t len)
{
	if (h != NULL && len > 0)
		EVP_DigestUpdate(h->md, buf, len);
}

void hash_field(struct hash_ctx *h, const char *s)
{
	char len[32];
	size_t n = s ? strlen(s) : 0;
	/* A missing field and an empty one differ: "-" versus "0:". */
	int k = s ? snprintf(len, sizeof len, "%zu:", n) : snprintf(len, sizeof len, "-");
	hash_update(h, len, (size_t)k);
	hash_update(h, s, n);
}

void hash_final(struct hash_ctx *h, char hex[HASH_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	hex[0] = '\0';
	if (h == NULL)
		return;
	EVP_DigestFinal_ex(h->md, md, &n);
	EVP_MD_CTX_free(h->md);
	free(h);
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void hash_buf(const void *buf, size_t len, char hex[HASH_HEX_LEN + 1])
{
	struct hash_ctx *h = hash_new();
	hash_update(h, buf, len);
	hash_final(h, hex);
}
