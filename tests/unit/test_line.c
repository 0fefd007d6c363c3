/* Line assembly (src/core/line.c): framing of command-mode input. The same
 * byte stream cut in any way must give the same lines. */
#include "support.h"

#include "core/line.h"

/* One event of the assembler: a status other than NEED_MORE, and the line
 * it returned. */
struct ev {
	enum espat_line_status st;
	size_t len;
	uint8_t buf[ESPAT_LINE_MAX];
};

struct evlog {
	struct espat_line l;
	struct ev ev[64];
	size_t n;
};

static void log_sink(void *user, const uint8_t *p, size_t n)
{
	struct evlog *g = user;
	while (n > 0) {
		size_t used = 0;
		enum espat_line_status st = espat_line_feed(&g->l, p, n, &used);
		assert_true(used > 0 && used <= n);
		if (st == ESPAT_LINE_NEED_MORE) {
			assert_int_equal(used, n);
		} else {
			assert_true(g->n < 64);
			struct ev *e = &g->ev[g->n++];
			e->st = st;
			e->len = st == ESPAT_LINE_OVERFLOW ? 0 : g->l.len;
			memcpy(e->buf, g->l.buf, e->len);
			assert_int_equal(p[used - 1], '\n');
		}
		p += used;
		n -= used;
	}
}

static void run(struct evlog *g, const uint8_t *p, size_t n, enum t_split mode, uint32_t seed)
{
	memset(g, 0, sizeof(*g));
	espat_line_reset(&g->l);
	t_feed(log_sink, g, p, n, mode, &seed);
}

static void assert_same(const struct evlog *a, const struct evlog *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->ev[i].st, b->ev[i].st);
		assert_int_equal(a->ev[i].len, b->ev[i].len);
		assert_memory_equal(a->ev[i].buf, b->ev[i].buf, a->ev[i].len);
	}
}

static enum espat_line_status feed1(struct espat_line *l, const char *s, size_t *used)
{
	return espat_line_feed(l, (const uint8_t *)s, strlen(s), used);
}

static void done_line(void **state)
{
	struct espat_line l;
	size_t used = 0;
	espat_line_reset(&l);
	assert_int_equal(feed1(&l, "AT+GMR\r\n", &used), ESPAT_LINE_DONE);
	assert_int_equal(used, 8);
	assert_int_equal(l.len, 8);
	assert_memory_equal(l.buf, "AT+GMR\r\n", 8);
}

static void need_more_consumes_all(void **state)
{
	struct espat_line l;
	size_t used = 0;
	espat_line_reset(&l);
	assert_int_equal(feed1(&l, "AT+G", &used), ESPAT_LINE_NEED_MORE);
	assert_int_equal(used, 4);
	assert_int_equal(feed1(&l, "MR\r", &used), ESPAT_LINE_NEED_MORE);
	assert_int_equal(used, 3);
	assert_int_equal(feed1(&l, "\nAT\r\n", &used), ESPAT_LINE_DONE);
	assert_int_equal(used, 1); /* stops right after the LF */
	assert_memory_equal(l.buf, "AT+GMR\r\n", 8);
	assert_int_equal(feed1(&l, "AT\r\n", &used), ESPAT_LINE_DONE);
	assert_int_equal(l.len, 4);
}

static void previous_line_forgotten(void **state)
{
	struct espat_line l;
	size_t used = 0;
	espat_line_reset(&l);
	assert_int_equal(feed1(&l, "AT\r\n", &used), ESPAT_LINE_DONE);
	assert_int_equal(espat_line_feed(&l, (const uint8_t *)"", 0, &used), ESPAT_LINE_NEED_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(l.len, 0);
}

static void lf_without_cr(void **state)
{
	struct espat_line l;
	size_t used = 0;
	espat_line_reset(&l);
	assert_int_equal(feed1(&l, "AT\n", &used), ESPAT_LINE_NO_TERM);
	assert_int_equal(l.len, 3);
	assert_int_equal(feed1(&l, "\n", &used), ESPAT_LINE_NO_TERM);
	assert_int_equal(l.len, 1);
	/* a CR elsewhere does not count */
	assert_int_equal(feed1(&l, "A\rT\n", &used), ESPAT_LINE_NO_TERM);
	/* a CR inside a good line is kept */
	assert_int_equal(feed1(&l, "A\rT\r\n", &used), ESPAT_LINE_DONE);
	assert_memory_equal(l.buf, "A\rT\r\n", 5);
	assert_int_equal(feed1(&l, "\r\n", &used), ESPAT_LINE_DONE);
	assert_int_equal(l.len, 2);
}

/* A line of total length n (terminator included) ending in term. */
static size_t make_line(uint8_t *dst, size_t n, const char *term)
{
	size_t t = strlen(term);
	memcpy(dst, "AT+", 3);
	for (size_t i = 3; i < n - t; i++)
		dst[i] = (uint8_t)('A' + i % 26);
	memcpy(dst + n - t, term, t);
	return n;
}

static void length_limit(void **state)
{
	uint8_t b[1024];
	for (int mode = 0; mode < T_NSPLITS; mode++) {
		struct evlog g;
		/* 256 bytes with CR LF: the longest accepted line */
		size_t n = make_line(b, ESPAT_LINE_MAX, "\r\n");
		run(&g, b, n, mode, 7);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.ev[0].st, ESPAT_LINE_DONE);
		assert_int_equal(g.ev[0].len, ESPAT_LINE_MAX);
		/* 257: dropped whole */
		n = make_line(b, ESPAT_LINE_MAX + 1, "\r\n");
		run(&g, b, n, mode, 7);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.ev[0].st, ESPAT_LINE_OVERFLOW);
		/* 256 without CR: a NO_TERM line, not an overflow */
		n = make_line(b, ESPAT_LINE_MAX, "\n");
		run(&g, b, n, mode, 7);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.ev[0].st, ESPAT_LINE_NO_TERM);
		/* 1000 bytes, then recovery: the next line is whole */
		n = make_line(b, 1000, "\r\n");
		memcpy(b + n, "AT\r\n", 4);
		run(&g, b, n + 4, mode, 7);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.ev[0].st, ESPAT_LINE_OVERFLOW);
		assert_int_equal(g.ev[1].st, ESPAT_LINE_DONE);
		assert_int_equal(g.ev[1].len, 4);
		assert_memory_equal(g.ev[1].buf, "AT\r\n", 4);
		/* overlong and ending in LF only: still an overflow */
		n = make_line(b, 600, "\n");
		run(&g, b, n, mode, 7);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.ev[0].st, ESPAT_LINE_OVERFLOW);
	}
}

static void overflow_state_is_clean(void **state)
{
	struct espat_line l;
	uint8_t b[400];
	size_t used = 0;
	espat_line_reset(&l);
	make_line(b, sizeof(b), "\r\n");
	/* no LF yet: keeps discarding, reports NEED_MORE */
	assert_int_equal(espat_line_feed(&l, b, 300, &used), ESPAT_LINE_NEED_MORE);
	assert_int_equal(espat_line_feed(&l, b + 300, 100, &used), ESPAT_LINE_OVERFLOW);
	assert_int_equal(l.len, 0);
	assert_int_equal(l.dropped, 0);
}

/* A stream of many kinds of lines; every way of cutting it gives the same
 * events. */
static void any_split_same_lines(void **state)
{
	uint8_t s[4096];
	size_t n = 0;
	static const char *const parts[] = {
	    "AT\r\n", "\r\n",     "AT+GMR\r\n", "AT+X=\"a\\\"b\",1\r\n", "AT\n",
	    "\n",     "A\rB\r\n", "\r\r\n",     "AT+SYSLOG=1\r\n",
	};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		memcpy(s + n, parts[i], strlen(parts[i]));
		n += strlen(parts[i]);
	}
	n += make_line(s + n, ESPAT_LINE_MAX, "\r\n");
	n += make_line(s + n, ESPAT_LINE_MAX + 1, "\r\n");
	n += make_line(s + n, 700, "\n");
	n += make_line(s + n, 40, "\r\n");
	memcpy(s + n, "AT+UNTERMINATED", 15); /* a partial line at the end */
	n += 15;

	struct evlog ref, got;
	run(&ref, s, n, T_WHOLE, 0);
	assert_int_equal(ref.n, 13);
	assert_int_equal(ref.ev[4].st, ESPAT_LINE_NO_TERM);
	assert_int_equal(ref.ev[9].st, ESPAT_LINE_DONE);
	assert_int_equal(ref.ev[10].st, ESPAT_LINE_OVERFLOW);
	assert_int_equal(ref.ev[11].st, ESPAT_LINE_OVERFLOW);
	run(&got, s, n, T_BYTES, 0);
	assert_same(&ref, &got);
	for (uint32_t seed = 1; seed <= 200; seed++) {
		run(&got, s, n, T_RANDOM, seed);
		assert_same(&ref, &got);
	}
	/* every single cut point */
	for (size_t cut = 1; cut < n; cut++) {
		memset(&got, 0, sizeof(got));
		espat_line_reset(&got.l);
		log_sink(&got, s, cut);
		log_sink(&got, s + cut, n - cut);
		assert_same(&ref, &got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(done_line),
	    cmocka_unit_test(need_more_consumes_all),
	    cmocka_unit_test(previous_line_forgotten),
	    cmocka_unit_test(lf_without_cr),
	    cmocka_unit_test(length_limit),
	    cmocka_unit_test(overflow_state_is_clean),
	    cmocka_unit_test(any_split_same_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
