#include "posix/uart_line.h"

#define NS_PER_S 1000000000ull

uint32_t espat_uart_frame_bits2(const struct espat_uart_cfg *cfg)
{
	uint32_t data = cfg->databits >= 5 && cfg->databits <= 8 ? cfg->databits : 8;
	uint32_t stop2 = cfg->stopbits == 2 ? 3 : cfg->stopbits == 3 ? 4 : 2;
	return 2 * (1 + data + (cfg->parity ? 1 : 0)) + stop2;
}

void espat_uart_line_set(struct espat_uart_line *l, const struct espat_uart_cfg *cfg)
{
	l->baud = cfg->baud ? cfg->baud : 115200;
	l->frame_bits2 = espat_uart_frame_bits2(cfg);
	l->frac = 0;
}

void espat_uart_line_resume(struct espat_uart_line *l, uint64_t now_ns)
{
	if (l->ns < now_ns) {
		l->ns = now_ns;
		l->frac = 0;
	}
}

size_t espat_uart_line_due(const struct espat_uart_line *l, uint64_t until_ns)
{
	if (l->ns >= until_ns)
		return 0;
	uint64_t unit = 2ull * l->baud; /* fractions per ns */
	uint64_t span = (until_ns - l->ns) * unit;
	if (span < l->frac)
		return 0;
	return (size_t)((span - l->frac) / ((uint64_t)l->frame_bits2 * NS_PER_S));
}

uint64_t espat_uart_line_next_end(const struct espat_uart_line *l)
{
	uint64_t unit = 2ull * l->baud;
	uint64_t total = l->frac + (uint64_t)l->frame_bits2 * NS_PER_S;
	return l->ns + (total + unit - 1) / unit;
}

uint64_t espat_uart_line_frame_ns(const struct espat_uart_line *l)
{
	uint64_t unit = 2ull * l->baud;
	return ((uint64_t)l->frame_bits2 * NS_PER_S + unit - 1) / unit;
}

void espat_uart_line_advance(struct espat_uart_line *l, size_t n)
{
	uint64_t unit = 2ull * l->baud;
	/* n * bits2 * 1e9 overflows only past ~10^8 bytes in one call. */
	uint64_t total = l->frac + (uint64_t)n * l->frame_bits2 * NS_PER_S;
	l->ns += total / unit;
	l->frac = total % unit;
}
