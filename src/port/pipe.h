/* The AT port as the core sees it: a byte sink toward the host and a way to
 * reconfigure the UART. Input flows the other way: the platform calls
 * espat_module_input() with whatever bytes it read. */
#ifndef ESPAT_PORT_PIPE_H
#define ESPAT_PORT_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UART settings as AT+UART_CUR/AT+UART_DEF carry them. */
struct espat_uart_cfg {
	uint32_t baud;     /* 80 .. 5000000 */
	uint8_t databits;  /* 5..8 */
	uint8_t stopbits;  /* 1 = 1 bit, 2 = 1.5 bits, 3 = 2 bits */
	uint8_t parity;    /* 0 none, 1 odd, 2 even */
	uint8_t flow;      /* 0 none, 1 RTS, 2 CTS, 3 both */
};

struct espat_pipe {
	/* Queues bytes toward the host, in order. Never blocks; the platform
	 * buffers and paces. */
	void (*write)(void *user, const uint8_t *buf, size_t len);
	/* Applies a new UART configuration once every byte written before this
	 * call has left at the old rate (AT+UART_CUR answers OK at the old
	 * baud). May be NULL. */
	void (*set_uart)(void *user, const struct espat_uart_cfg *cfg);
	/* Bytes written and not yet on the wire, for back-pressure. May be
	 * NULL (nothing ever waits). */
	size_t (*pending)(void *user);
	/* Stops (true) or resumes (false) reading the host's input, as a real
	 * module's RTS line would. May be NULL. */
	void (*rx_pause)(void *user, bool paused);
	void *user;
};

#endif
