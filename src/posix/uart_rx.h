/* The module's input from the host: the RX side of the UART.
 *
 * With pacing on, bytes are taken from the port no faster than the
 * configured line carries them (uart_line.h, the clock the output pacer
 * uses): the port tells how much it may read (espat_uart_rx_room), reads
 * that, and hands it over (espat_uart_rx_input). The host's surplus waits
 * in the kernel's pty buffer, as it would wait in the host's own UART
 * driver: a wire is only so fast.
 *
 * The module may stop taking input (espat_uart_rx_hold: passthrough into a
 * socket that is full). Then, as on the real module:
 *  - RTS flow control on (AT+UART_CUR flow 1 or 3): the RX buffer fills to
 *    its size, then the module stops reading the port and the host is
 *    held back. Nothing is lost.
 *  - flow control off: the line keeps delivering at the baud rate; what
 *    the RX buffer (ESPAT_UART_RX_BUF, the ESP-AT driver's ring plus the
 *    chip's FIFO) cannot hold is lost, counted and logged, as in a real
 *    UART overflow. The module keeps answering.
 * With pacing off there is no line to model: the host is held back while
 * the module holds (COMPAT #241).
 *
 * Pure: no fds, no clock of its own; every time is an argument. */
#ifndef ESPAT_POSIX_UART_RX_H
#define ESPAT_POSIX_UART_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/pipe.h"
#include "posix/log.h"
#include "posix/uart_line.h"

/* ESP-AT installs the AT UART driver with a 2048-byte RX ring buffer
 * (main/interface/uart/at_uart_task.c, uart_driver_install(port, 2048,
 * 8192, ...)); the ESP32-C3's UART has a 128-byte hardware RX FIFO in front
 * of it (COMPAT #240). */
#define ESPAT_UART_RX_RING 2048
#define ESPAT_UART_RX_FIFO 128
#define ESPAT_UART_RX_BUF (ESPAT_UART_RX_RING + ESPAT_UART_RX_FIFO)
/* Read up to this far ahead of the line, like the output pacer. */
#define ESPAT_UART_RX_AHEAD_NS 1000000u
/* A line whose next frame should have ended this long ago was idle (or
 * not read): it restarts at now rather than let a burst make up for the
 * gap. Below it, a pause of the host's shows as bytes read up to that much
 * early, never before the host wrote them. */
#define ESPAT_UART_RX_STALL_NS 10000000u
#define ESPAT_UART_RX_NEVER UINT64_MAX

struct espat_uart_rx_sink {
	/* Bytes for the module; p is valid only during the call. */
	void (*input)(void *user, const uint8_t *p, size_t n);
	void *user;
};

struct espat_uart_rx {
	struct espat_uart_rx_sink sink;
	const struct espat_log *log;    /* borrowed */
	bool pace;                      /* false: --no-pace */
	bool rts;                       /* flow control holds the host back (flow 1 or 3) */
	bool held;                      /* the module takes no input now */
	bool said_rts;                  /* this hold's RTS stop was logged (debug) */
	struct espat_uart_line line;    /* the RX line's clock */
	uint8_t buf[ESPAT_UART_RX_BUF]; /* received while held, oldest first */
	size_t len;
	uint64_t dropped; /* bytes lost to overflow since init */
	uint64_t episode; /* bytes lost in the current overflow, for the log */
};

void espat_uart_rx_init(struct espat_uart_rx *rx, const struct espat_uart_rx_sink *sink,
                        const struct espat_uart_cfg *cfg, bool pace, const struct espat_log *log);
/* A new line configuration (rate, frame, flow control), applied when the
 * port's own settings change (after AT+UART_CUR's OK has left). */
void espat_uart_rx_set_uart(struct espat_uart_rx *rx, const struct espat_uart_cfg *cfg);
/* Power cut: the buffer's content is gone, the line settings are cfg. */
void espat_uart_rx_reset(struct espat_uart_rx *rx, const struct espat_uart_cfg *cfg);
/* How many bytes the port may read at now_ns: 0 means do not read (the
 * line has carried nothing more yet, or the host is held back). SIZE_MAX
 * when unlimited (pacing off and not held). */
size_t espat_uart_rx_room(struct espat_uart_rx *rx, uint64_t now_ns);
/* n bytes read from the port at now_ns (at most what room allowed). */
void espat_uart_rx_input(struct espat_uart_rx *rx, const uint8_t *p, size_t n);
/* The module stops (true) or resumes (false) taking input. Never calls
 * the sink: buffered bytes go out at the next espat_uart_rx_run(). */
void espat_uart_rx_hold(struct espat_uart_rx *rx, bool on);
/* Hands buffered bytes to the module when it takes them again. */
void espat_uart_rx_run(struct espat_uart_rx *rx);
/* When room() may grow from 0, or ESPAT_UART_RX_NEVER (only a hold
 * ending can change it). */
uint64_t espat_uart_rx_next_ns(const struct espat_uart_rx *rx, uint64_t now_ns);

#endif
