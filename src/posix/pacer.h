/* The module's output toward the host: a bounded FIFO drained at the rate
 * of the configured UART, like the real module's TX line.
 *
 * A byte of the UART frame takes 1 start + databits + parity + stop bits
 * (1, 1.5 or 2): 10 bit times at 8N1, so 115200 baud moves 11520 bytes/s.
 * The pacer keeps a virtual line clock (when the last byte written ends)
 * and writes every byte whose frame ends no later than now + 1 ms (a byte
 * reaches the host with its last stop bit): at high rates that is a chunk
 * per millisecond, at low rates one byte at its time. Bytes reach the host
 * at most ~1 ms early, never late (unless the host stops reading), and the
 * average rate is exact (the clock is kept in exact fractions). With
 * pacing off, bytes go out as fast as the sink accepts them.
 *
 * set_uart markers are ordered in the FIFO: a new configuration applies
 * once every byte queued before it has gone out at the old rate.
 *
 * The FIFO is ESPAT_PACER_CAP bytes, reserved at init (so no allocation
 * can fail later, in the middle of a message). A message that does not fit
 * (a host that has not read for megabytes, while the module has long
 * stopped reading the sockets and the host) is refused whole and counted,
 * with one warning: what is queued is never cut. */
#ifndef ESPAT_POSIX_PACER_H
#define ESPAT_POSIX_PACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "port/pipe.h"
#include "posix/log.h"
#include "posix/uart_line.h"

#define ESPAT_PACER_CAP (4u * 1024u * 1024u)
#define ESPAT_PACER_MARKS 64          /* pending UART changes */
#define ESPAT_PACER_AHEAD_NS 1000000u /* write up to 1 ms ahead of the line */
#define ESPAT_PACER_NEVER UINT64_MAX

/* Where the bytes go: the AT port. */
struct espat_pacer_sink {
	/* Writes up to n bytes without blocking; returns how many were taken
	 * (0 when the port would block or has no peer). */
	size_t (*write)(void *user, const uint8_t *p, size_t n);
	/* Applies a UART configuration to the port (termios), in order. */
	void (*apply_uart)(void *user, const struct espat_uart_cfg *cfg);
	/* Asks for (on) or stops (off) a call to espat_pacer_writable() when
	 * the port can take bytes again. */
	void (*want_writable)(void *user, bool on);
	void *user;
};

struct espat_pacer_mark {
	uint64_t at; /* applies when this many bytes have left */
	struct espat_uart_cfg cfg;
};

struct espat_pacer {
	struct espat_pacer_sink sink;
	const struct espat_log *log; /* borrowed */
	bool pace;                   /* false: --no-pace */
	uint8_t *buf;                /* ring of cap bytes (ESPAT_PACER_CAP), owned */
	size_t cap, head, len;       /* ring storage, first byte, bytes queued */
	uint64_t sent;               /* bytes that left since init */
	struct espat_pacer_mark marks[ESPAT_PACER_MARKS];
	size_t nmarks;
	struct espat_uart_line line; /* the TX line's clock: when the last byte written ends */
	bool blocked;                /* waiting for want_writable's callback */
	bool watching;               /* want_writable(true) is in effect */
	bool warned_drop;            /* said once per episode of a full FIFO */
	uint64_t dropped;            /* bytes of messages refused by a full FIFO */
};

/* cfg: the UART in effect until the first marker. Returns 0, or -1 when
 * the FIFO cannot be reserved (out of memory; p is then freed). */
int espat_pacer_init(struct espat_pacer *p, const struct espat_pacer_sink *sink,
                     const struct espat_uart_cfg *cfg, bool pace, const struct espat_log *log);
void espat_pacer_free(struct espat_pacer *p);
/* Empties the FIFO and forgets markers, keeping its memory (power cut). */
void espat_pacer_reset(struct espat_pacer *p, const struct espat_uart_cfg *cfg);
/* Queues bytes at now_ns (never blocks, never writes: call
 * espat_pacer_run). */
void espat_pacer_push(struct espat_pacer *p, const uint8_t *buf, size_t len, uint64_t now_ns);
/* Queues a UART change after the bytes queued so far. */
void espat_pacer_set_uart(struct espat_pacer *p, const struct espat_uart_cfg *cfg);
/* Writes what is due at now_ns and applies markers reached. */
void espat_pacer_run(struct espat_pacer *p, uint64_t now_ns);
/* The sink became writable (after want_writable(on)). */
void espat_pacer_writable(struct espat_pacer *p, uint64_t now_ns);
/* When espat_pacer_run() has work next, or ESPAT_PACER_NEVER (idle, or
 * waiting for writability). */
uint64_t espat_pacer_next_ns(const struct espat_pacer *p, uint64_t now_ns);
/* Bytes queued and not yet written. */
size_t espat_pacer_pending(const struct espat_pacer *p);
/* Writes what the sink takes right now, ignoring the pace (shutdown). */
void espat_pacer_flush(struct espat_pacer *p);

#endif
