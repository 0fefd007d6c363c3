/* A byte queue: appended at the back, taken from the front, in one
 * allocation that grows by doubling (from ESPAT_BYTEBUF_MIN) and is
 * released when the queue empties while bigger than ESPAT_BYTEBUF_KEEP.
 * The send queues of the socket port and the TLS filter. */
#ifndef ESPAT_POSIX_BYTEBUF_H
#define ESPAT_POSIX_BYTEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_BYTEBUF_MIN 16384u           /* first allocation */
#define ESPAT_BYTEBUF_KEEP (256u * 1024u)  /* an emptied buffer above this is freed */

struct espat_bytebuf {
	uint8_t *p;     /* owned; bytes p[off..len) are queued */
	size_t off, len, cap;
};

/* false when out of memory (nothing appended). */
bool espat_bytebuf_append(struct espat_bytebuf *b, const uint8_t *p, size_t n);
/* Forgets the first n bytes (n <= size). */
void espat_bytebuf_take(struct espat_bytebuf *b, size_t n);
void espat_bytebuf_free(struct espat_bytebuf *b);

static inline size_t espat_bytebuf_size(const struct espat_bytebuf *b)
{
	return b->len - b->off;
}

/* The first queued byte; valid until the next append/take/free. */
static inline const uint8_t *espat_bytebuf_data(const struct espat_bytebuf *b)
{
	return b->p + b->off;
}

#endif
