/* Line assembly: the command-mode framing of the AT port. Pure and
 * incremental: feed any split of the byte stream, get the same lines. */
#ifndef ESPAT_CORE_LINE_H
#define ESPAT_CORE_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest accepted command, terminator included (guide 3.13: "no more than
 * 256 bytes"). A longer line is discarded whole and answered ERROR. */
#define ESPAT_LINE_MAX 256

enum espat_line_status {
	ESPAT_LINE_NEED_MORE, /* all input consumed, no line end yet */
	ESPAT_LINE_DONE,      /* buf[0..len) is a line ending in CR LF */
	ESPAT_LINE_NO_TERM,   /* a line ended in LF without CR; buf holds it */
	ESPAT_LINE_OVERFLOW,  /* a line longer than ESPAT_LINE_MAX ended; dropped */
};

struct espat_line {
	uint8_t buf[ESPAT_LINE_MAX]; /* the line so far, terminator included */
	size_t len;                  /* bytes held in buf */
	size_t dropped;              /* bytes of an overlong line not kept */
};

void espat_line_reset(struct espat_line *l);

/* Consumes bytes up to and including the first LF (or all of in when there
 * is none) and says what it found. *used is set to the bytes consumed. On
 * DONE/NO_TERM the line stays in l until the next feed or reset. */
enum espat_line_status espat_line_feed(struct espat_line *l, const uint8_t *in, size_t n,
				       size_t *used);

#endif
