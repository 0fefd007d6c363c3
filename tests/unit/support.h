/* Shared helpers for the unit tests: a module on the test port, a clock that
 * steps through the module's timers, output checks that print escaped bytes,
 * and a mock pipe that feeds input whole, 1 byte at a time, or in seeded
 * random-size pieces (framing bugs show up as a difference between the
 * three).
 *
 * Header-only; every helper is static inline so a test file may use any
 * subset. Include after <cmocka.h>'s prerequisites (this header includes
 * them itself). */
#ifndef ESPAT_TEST_SUPPORT_H
#define ESPAT_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/module.h"
#include "cmd/ota.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "testport/testport.h"

/* ---- seeded randomness ------------------------------------------------- */

/* xorshift32; a zero state is bumped so it never sticks at 0. */
static inline uint32_t t_rand(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9E3779B9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* ---- the mock pipe: input splitting ------------------------------------ */

enum t_split {
	T_WHOLE,  /* one piece */
	T_BYTES,  /* 1-byte pieces */
	T_RANDOM, /* pieces of 1..T_RANDOM_MAX bytes, sizes from the seed */
};
#define T_RANDOM_MAX 17
#define T_NSPLITS 3

static inline const char *t_split_name(enum t_split m)
{
	return m == T_WHOLE ? "whole" : m == T_BYTES ? "bytes" : "random";
}

typedef void t_sink_fn(void *user, const uint8_t *p, size_t n);

/* Calls sink on consecutive pieces of p[0..n) cut as mode says. */
static inline void t_feed(t_sink_fn *sink, void *user, const uint8_t *p, size_t n,
                          enum t_split mode, uint32_t *seed)
{
	while (n > 0) {
		size_t k = n;
		if (mode == T_BYTES)
			k = 1;
		else if (mode == T_RANDOM)
			k = 1 + t_rand(seed) % T_RANDOM_MAX;
		if (k > n)
			k = n;
		sink(user, p, k);
		p += k;
		n -= k;
	}
}

/* ---- printing bytes ---------------------------------------------------- */

/* Writes p[0..n) C-escaped into a static buffer (for failure messages). */
static inline const char *t_esc(const uint8_t *p, size_t n, int which)
{
	static char bufs[2][8192];
	char *b = bufs[which & 1];
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < sizeof(bufs[0]); i++) {
		uint8_t c = p[i];
		if (c == '\r')
			o += (size_t)snprintf(b + o, 8, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(b + o, 8, "\\n");
		else if (c == '\\')
			o += (size_t)snprintf(b + o, 8, "\\\\");
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(b + o, 8, "\\x%02x", c);
		else
			b[o++] = (char)c;
	}
	b[o] = 0;
	return b;
}

/* ---- a module on the test port ----------------------------------------- */

struct rig {
	struct espat_testport tp;
	struct espat_module m;
	enum t_split split; /* how rig_send cuts input */
	uint32_t seed;      /* for T_RANDOM */
};

static inline void t_module_sink(void *user, const uint8_t *p, size_t n)
{
	espat_module_input(user, p, n);
}

/* Checks that the test port's output since the last check is exactly want,
 * then forgets it. Prints both sides escaped on mismatch. */
static inline void t_expect_tp(struct espat_testport *tp, const char *want, enum t_split split,
                               uint32_t seed, const char *file, int line)
{
	const uint8_t *got = tp->out ? tp->out : (const uint8_t *)"";
	size_t glen = tp->out_len, wlen = strlen(want);
	if (glen != wlen || memcmp(got, want, wlen) != 0) {
		print_error(
		    "%s:%d: output mismatch (split=%s seed=%u)\n  want: \"%s\"\n  got:  \"%s\"\n",
		    file, line, t_split_name(split), (unsigned)seed,
		    t_esc((const uint8_t *)want, wlen, 0), t_esc(got, glen, 1));
		_fail(file, line);
	}
	espat_tp_clear(tp);
}
#define rig_expect(r, want) t_expect_tp(&(r)->tp, (want), (r)->split, (r)->seed, __FILE__, __LINE__)

/* Feeds text as the host would: cut after every LF first (two command lines
 * never share a chunk: within one chunk only the first line runs), then
 * each line cut by mode. */
static inline void t_send_lines(t_sink_fn *sink, void *user, const uint8_t *p, size_t n,
                                enum t_split mode, uint32_t *seed)
{
	while (n > 0) {
		const uint8_t *lf = memchr(p, '\n', n);
		size_t k = lf ? (size_t)(lf - p) + 1 : n;
		t_feed(sink, user, p, k, mode, seed);
		p += k;
		n -= k;
	}
}

/* Power-on of a fresh module on a fresh test port: "ready" is checked and
 * cleared. */
static inline void rig_start(struct rig *r, enum t_split split, uint32_t seed)
{
	memset(r, 0, sizeof(*r));
	r->split = split;
	r->seed = seed;
	espat_tp_init(&r->tp);
	espat_module_init(&r->m, &r->tp.ports, NULL);
	espat_module_power_on(&r->m);
	rig_expect(r, "\r\nready\r\n");
}

static inline void rig_stop(struct rig *r)
{
	espat_module_free(&r->m);
	espat_tp_free(&r->tp);
}

/* A power cycle: the module is gone, the flash (test port) stays. */
static inline void rig_power_cycle(struct rig *r)
{
	espat_module_free(&r->m);
	espat_module_init(&r->m, &r->tp.ports, NULL);
	espat_tp_clear(&r->tp);
	espat_module_power_on(&r->m);
	rig_expect(r, "\r\nready\r\n");
}

/* Sends bytes line by line, each line cut by the rig's split mode. */
static inline void rig_send_n(struct rig *r, const void *data, size_t n)
{
	t_send_lines(t_module_sink, &r->m, data, n, r->split, &r->seed);
}

static inline void rig_send(struct rig *r, const char *s)
{
	rig_send_n(r, s, strlen(s));
}

/* Sends s as one chunk, however many lines it holds (back-to-back input). */
static inline void rig_send_chunk(struct rig *r, const char *s)
{
	espat_module_input(&r->m, (const uint8_t *)s, strlen(s));
}

/* Advances the clock by ms, firing every timer at its own due time. */
static inline void rig_advance(struct rig *r, uint64_t ms)
{
	espat_tp_advance(&r->tp, &r->m, ms);
}

/* Sends a command and checks the whole answer. */
#define rig_cmd(r, send, want)                                                                     \
	do {                                                                                       \
		rig_send((r), (send));                                                             \
		rig_expect((r), (want));                                                           \
	} while (0)

/* A growable NUL-terminated text the codec tests log their events into,
 * then compare whole; the owner keeps pointer, length and capacity and
 * frees *s. */
static inline void t_text_put(char **s, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*s = realloc(*s, *cap);
		assert_non_null(*s);
	}
	memcpy(*s + *len, p, n);
	*len += n;
	(*s)[*len] = '\0';
}

static inline void t_text_vprintf(char **s, size_t *len, size_t *cap, const char *fmt,
                                  va_list ap)
{
	char tmp[8192];
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	t_text_put(s, len, cap, tmp, (size_t)n);
}

#endif
