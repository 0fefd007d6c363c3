#include "posix/uart_rx.h"

#include <string.h>

void espat_uart_rx_init(struct espat_uart_rx *rx, const struct espat_uart_rx_sink *sink,
                        const struct espat_uart_cfg *cfg, bool pace, const struct espat_log *log)
{
	memset(rx, 0, sizeof(*rx));
	rx->sink = *sink;
	rx->log = log;
	rx->pace = pace;
	espat_uart_rx_set_uart(rx, cfg);
}

void espat_uart_rx_set_uart(struct espat_uart_rx *rx, const struct espat_uart_cfg *cfg)
{
	espat_uart_line_set(&rx->line, cfg);
	rx->rts = (cfg->flow & 1) != 0;
}

void espat_uart_rx_reset(struct espat_uart_rx *rx, const struct espat_uart_cfg *cfg)
{
	rx->len = 0;
	rx->held = false;
	rx->said_rts = false;
	rx->episode = 0;
	espat_uart_rx_set_uart(rx, cfg);
}

/* What the buffer still takes before RTS would hold the host. */
static size_t free_space(const struct espat_uart_rx *rx)
{
	return ESPAT_UART_RX_BUF - rx->len;
}

size_t espat_uart_rx_room(struct espat_uart_rx *rx, uint64_t now_ns)
{
	if (!rx->pace)
		return rx->held || rx->len > 0 ? 0 : SIZE_MAX;
	if (rx->held && rx->rts && free_space(rx) == 0) {
		if (!rx->said_rts) {
			espat_log_debug(rx->log, "UART RX: buffer full, RTS holds the host back");
			rx->said_rts = true;
		}
		return 0;
	}
	/* A line whose next frame should have ended well before now was idle
	 * (or not read): a byte found now has just arrived, its frame ends
	 * now, whatever the rate (at 300 baud a frame is longer than the
	 * read-ahead). A short read does not make the line idle: a pty hands
	 * over a fast writer's bytes in pieces. */
	uint64_t frame = espat_uart_line_frame_ns(&rx->line);
	if (espat_uart_line_next_end(&rx->line) + ESPAT_UART_RX_STALL_NS < now_ns)
		espat_uart_line_resume(&rx->line, now_ns > frame ? now_ns - frame : 0);
	size_t due = espat_uart_line_due(&rx->line, now_ns + ESPAT_UART_RX_AHEAD_NS);
	if (rx->held && rx->rts && due > free_space(rx))
		due = free_space(rx);
	return due;
}

void espat_uart_rx_input(struct espat_uart_rx *rx, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (rx->pace)
		espat_uart_line_advance(&rx->line, n);
	/* What waited goes first (the module may have let go of its hold in
	 * this very loop iteration), then these bytes, unless it holds again. */
	espat_uart_rx_run(rx);
	if (!rx->held) {
		rx->sink.input(rx->sink.user, p, n);
		return;
	}
	size_t k = n < free_space(rx) ? n : free_space(rx);
	memcpy(rx->buf + rx->len, p, k);
	rx->len += k;
	if (k == n)
		return;
	/* Only without flow control (room() keeps RTS within the buffer):
	 * the bytes are on the wire and nowhere to go. */
	if (rx->episode == 0)
		espat_log_warn(rx->log,
		               "UART RX overflow: the module was not taking input and flow "
		               "control is off; bytes beyond its %u-byte buffer are lost",
		               (unsigned)ESPAT_UART_RX_BUF);
	rx->episode += n - k;
	rx->dropped += n - k;
}

void espat_uart_rx_hold(struct espat_uart_rx *rx, bool on)
{
	rx->held = on;
	if (!on)
		rx->said_rts = false;
}

void espat_uart_rx_run(struct espat_uart_rx *rx)
{
	if (rx->held || rx->len == 0)
		return;
	size_t n = rx->len;
	/* The sink never feeds us back (input comes from the port alone), so
	 * the buffer stays put during the call. */
	rx->sink.input(rx->sink.user, rx->buf, n);
	rx->len = 0;
	if (rx->episode > 0) {
		espat_log_warn(rx->log, "UART RX overflow ended: %llu bytes lost",
		               (unsigned long long)rx->episode);
		rx->episode = 0;
	}
}

uint64_t espat_uart_rx_next_ns(const struct espat_uart_rx *rx, uint64_t now_ns)
{
	if (!rx->pace)
		return ESPAT_UART_RX_NEVER;
	if (rx->held && rx->rts && free_space(rx) == 0)
		return ESPAT_UART_RX_NEVER;
	uint64_t end = espat_uart_line_next_end(&rx->line);
	if (end <= now_ns + ESPAT_UART_RX_AHEAD_NS)
		return now_ns;
	return end - ESPAT_UART_RX_AHEAD_NS;
}
