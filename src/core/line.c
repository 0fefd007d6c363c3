#include "core/line.h"

#include <string.h>

void espat_line_reset(struct espat_line *l)
{
	l->len = 0;
	l->dropped = 0;
}

enum espat_line_status espat_line_feed(struct espat_line *l, const uint8_t *in, size_t n,
				       size_t *used)
{
	/* A line returned by the previous call is gone once we are fed again. */
	if (l->len > 0 && l->buf[l->len - 1] == '\n')
		espat_line_reset(l);

	const uint8_t *lf = memchr(in, '\n', n);
	size_t take = lf ? (size_t)(lf - in) + 1 : n;
	*used = take;

	size_t room = ESPAT_LINE_MAX - l->len;
	if (l->dropped == 0 && take <= room) {
		memcpy(l->buf + l->len, in, take);
		l->len += take;
	} else {
		/* Overlong: keep nothing more, remember we are discarding. */
		l->dropped += take;
	}
	if (!lf)
		return ESPAT_LINE_NEED_MORE;

	if (l->dropped > 0) {
		espat_line_reset(l);
		return ESPAT_LINE_OVERFLOW;
	}
	if (l->len >= 2 && l->buf[l->len - 2] == '\r')
		return ESPAT_LINE_DONE;
	return ESPAT_LINE_NO_TERM;
}
