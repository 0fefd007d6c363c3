/* The timing of one direction of a UART line, shared by the output pacer
 * (pacer.c) and the input side (uart_rx.c).
 *
 * A byte occupies 1 start + databits + parity + stop bits (1, 1.5 or 2):
 * 10 bit times at 8N1, so 115200 baud moves 11520 bytes/s. The line keeps
 * a virtual clock: when the last byte counted on it ends, in exact
 * fractions of a nanosecond (ns + frac / (2 * baud)), so the average rate
 * never drifts. A byte is "due" once its frame has ended. */
#ifndef ESPAT_POSIX_UART_LINE_H
#define ESPAT_POSIX_UART_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "port/pipe.h"

struct espat_uart_line {
	uint32_t baud;
	uint32_t frame_bits2; /* bits per byte, times two (1.5 stop bits) */
	uint64_t ns;          /* when the last byte counted ends */
	uint64_t frac;        /* fraction of a ns, in 1/(2*baud) units */
};

/* Bits per byte times two for cfg (20 at 8N1). */
uint32_t espat_uart_frame_bits2(const struct espat_uart_cfg *cfg);
/* Takes cfg's rate and frame (baud 0 means 115200); keeps the clock. */
void espat_uart_line_set(struct espat_uart_line *l, const struct espat_uart_cfg *cfg);
/* Bytes are there to move at now: an idle line (or one stalled) starts
 * its next frame now, not in the past, so no burst makes up for lost
 * time. */
void espat_uart_line_resume(struct espat_uart_line *l, uint64_t now_ns);
/* Whole frames that end by until_ns, starting at the line clock. The
 * clock must be at most a few ms behind until_ns (see resume), which
 * keeps the products far below 2^64. */
size_t espat_uart_line_due(const struct espat_uart_line *l, uint64_t until_ns);
/* When the frame of the next byte would end. */
uint64_t espat_uart_line_next_end(const struct espat_uart_line *l);
/* How long one frame lasts, rounded up. */
uint64_t espat_uart_line_frame_ns(const struct espat_uart_line *l);
/* Counts n bytes on the line. */
void espat_uart_line_advance(struct espat_uart_line *l, size_t n);

#endif
