#include "posix/bytebuf.h"

#include <stdlib.h>
#include <string.h>

bool espat_bytebuf_append(struct espat_bytebuf *b, const uint8_t *p, size_t n)
{
	if (b->off > 0 && b->cap - b->len < n) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : ESPAT_BYTEBUF_MIN;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2)
				return false;
			cap *= 2;
		}
		uint8_t *q = realloc(b->p, cap);
		if (q == NULL)
			return false;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return true;
}

void espat_bytebuf_take(struct espat_bytebuf *b, size_t n)
{
	b->off += n;
	if (b->off < b->len)
		return;
	b->off = b->len = 0;
	if (b->cap > ESPAT_BYTEBUF_KEEP)
		espat_bytebuf_free(b);
}

void espat_bytebuf_free(struct espat_bytebuf *b)
{
	free(b->p);
	*b = (struct espat_bytebuf){0};
}
