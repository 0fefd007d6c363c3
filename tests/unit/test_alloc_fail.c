/* Allocation failure on the data path (issue 20): linked with
 * -Wl,--wrap=malloc,--wrap=realloc,--wrap=calloc (see the Makefile), so
 * every allocation of the module, its codecs and the test port goes
 * through the counter below, which fails the Nth one on demand.
 *
 * The scenario runs once per N, failing allocation N (0, 1, 2, ...) until
 * a run makes fewer than N + 1 allocations: every allocation site the
 * scenario reaches fails once. Each run checks that the output is still
 * whole messages (every +IPD header followed by exactly its bytes, the
 * link's data a prefix of what the peer sent, no gap), that a failure is
 * reported (CLOSED, ERROR) rather than swallowed, and that the module
 * answers the next command. Teardown frees everything (ASan: no leak). */
#include "support.h"

#include "cmd/tcpip.h"
#include "core/writer.h"
#include "module_fixture.h"
#include "posix/pacer.h"
#include "testport/net_mem.h"

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t k, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_calloc(size_t k, size_t n);

/* The counter: while armed, allocation number fail_at (from 0) fails. */
static struct alloc_ctl {
	bool armed;
	size_t seen, fail_at, failed;
} A;

static bool fail_now(void)
{
	if (!A.armed)
		return false;
	if (A.seen++ != A.fail_at)
		return false;
	A.failed++;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

void *__wrap_calloc(size_t k, size_t n)
{
	return fail_now() ? NULL : __real_calloc(k, n);
}

static void arm(size_t at)
{
	A = (struct alloc_ctl){.armed = true, .fail_at = at};
}

static void disarm(void)
{
	A.armed = false;
}

/* ---- the module's +IPD path ------------------------------------------------------------ */

#define BIG 7000 /* three +IPD messages on the active link */

static void settle(struct fx *f)
{
	espat_tp_settle(&f->tp, &f->m);
}

static struct espat_mem_conn *open_link(struct fx *f, int id)
{
	char line[64], want[32];
	snprintf(line, sizeof(line), "AT+CIPSTART=%d,\"TCP\",\"10.0.0.2\",8080\r\n", id);
	snprintf(want, sizeof(want), "%d,CONNECT\r\n\r\nOK\r\n", id);
	send(f, line);
	settle(f);
	expect(f, want);
	return espat_net_mem_last_conn(&f->tp.net);
}

/* What the armed stretch printed, checked message by message. */
struct seen {
	size_t got0;           /* bytes of link 0's data, in order */
	bool closed0, closed1; /* "<id>,CLOSED" */
	bool notice1;          /* "+IPD,1,<len>" (passive) */
};

static size_t num(const uint8_t *p, size_t n, size_t *at)
{
	size_t v = 0, start = *at;
	while (*at < n && p[*at] >= '0' && p[*at] <= '9')
		v = v * 10 + (size_t)(p[(*at)++] - '0');
	assert_true(*at > start);
	return v;
}

static bool take(const uint8_t *p, size_t n, size_t *at, const char *s)
{
	size_t k = strlen(s);
	if (n - *at < k || memcmp(p + *at, s, k) != 0)
		return false;
	*at += k;
	return true;
}

static void parse(struct fx *f, const uint8_t *data0, struct seen *s)
{
	const uint8_t *p = f->tp.out;
	size_t n = f->tp.out_len, at = 0;
	while (at < n) {
		if (take(p, n, &at, "\r\n+IPD,0,")) {
			size_t len = num(p, n, &at);
			assert_true(take(p, n, &at, ":"));
			assert_true(len > 0 && n - at >= len);
			assert_memory_equal(p + at, data0 + s->got0, len); /* no gap */
			s->got0 += len;
			at += len;
		} else if (take(p, n, &at, "+IPD,1,")) {
			assert_int_equal(num(p, n, &at), 5);
			assert_true(take(p, n, &at, "\r\n"));
			s->notice1 = true;
		} else if (take(p, n, &at, "0,CLOSED\r\n")) {
			s->closed0 = true;
		} else if (take(p, n, &at, "1,CLOSED\r\n")) {
			s->closed1 = true;
		} else {
			print_error("unexpected output at %zu: \"%s\"\n", at,
			            t_esc(p + at, n - at, 0));
			fail();
		}
	}
	espat_tp_clear(&f->tp);
}

/* A module on the test port, joined to the world's AP, with a server at
 * 10.0.0.2:8080 on the memory network. */
static void joined(struct fx *f)
{
	espat_tp_init(&f->tp);
	/* the test port's own capture buffer, grown before arming */
	static const uint8_t zeros[1 << 16];
	f->tp.ports.pipe.write(f->tp.ports.pipe.user, zeros, sizeof(zeros));
	espat_tp_clear(&f->tp);
	fx_boot(f);
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	assert_int_equal(espat_net_mem_serve(
	                     &f->tp.net, (struct espat_endpoint){espat_mem_ip("10.0.0.2"), 8080}),
	                 0);
}

/* Runs the scenario failing allocation fail_at; returns how many
 * allocations the armed stretch made. */
static size_t ipd_run(size_t fail_at)
{
	struct fx fx, *f = &fx;
	joined(f);
	cmd(f, "AT+CIPMUX=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPRECVTYPE=1,1\r\n", "\r\nOK\r\n");
	struct espat_mem_conn *c0 = open_link(f, 0), *c1 = open_link(f, 1);
	static uint8_t data0[BIG];
	for (size_t i = 0; i < BIG; i++)
		data0[i] = (uint8_t)(i * 7 + i / 251);
	/* once unarmed: the test port's delivery buffer grows to size */
	assert_int_equal(espat_mem_conn_send(c0, data0, BIG), 0);
	settle(f);
	espat_tp_clear(&f->tp);
	assert_int_equal(espat_mem_conn_send(c0, data0, BIG), 0);
	assert_int_equal(espat_mem_conn_send(c1, "world", 5), 0);

	arm(fail_at);
	settle(f);
	advance(f, 10);
	disarm();

	struct seen s = {0};
	parse(f, data0, &s);
	/* every byte arrived, or the link says it is gone */
	assert_true(s.got0 == BIG || s.closed0);
	assert_true(s.notice1 != s.closed1);
	if (s.notice1)
		cmd(f, "AT+CIPRECVDATA=1,5\r\n", "+CIPRECVDATA:5,world\r\n\r\nOK\r\n");
	/* the module goes on */
	cmd(f, "AT\r\n", "\r\nOK\r\n");
	char want[64];
	snprintf(want, sizeof(want), "%s%s\r\nOK\r\n", s.closed0 ? "" : "0,CLOSED\r\n",
	         s.closed1 ? "" : "1,CLOSED\r\n");
	send(f, "AT+CIPCLOSE=5\r\n");
	settle(f);
	expect(f, want);
	espat_module_free(&f->m);
	espat_tp_free(&f->tp);
	return A.seen;
}

static void test_ipd_path_survives_every_failure(void **state)
{
	(void)state;
	size_t runs = 0, failed = 0;
	for (size_t n = 0;; n++) {
		size_t made = ipd_run(n);
		failed += A.failed;
		runs++;
		if (made <= n)
			break; /* allocation n was never reached: all sites done */
		assert_true(n < 1000);
	}
	/* the scenario did allocate (the passive buffer at least) */
	assert_true(failed >= 1);
	print_message("ipd path: %zu runs, %zu allocation sites failed\n", runs, failed);
}

/* ---- passthrough: typed bytes the socket cannot queue -------------------------------- */

#define GUARD_MS 1100 /* past the +++ guard time (1 s) */
#define PT_BYTES 7000 /* two whole 2920-byte packets and a rest */

/* Types PT_BYTES in passthrough while allocation fail_at fails: the peer
 * gets a prefix of what was typed with no gap, and a send the socket
 * refused lost the link (closed by the module, reconnected) instead of a
 * silent hole in the stream; +++ then leaves and the module answers.
 * Returns how many allocations the armed stretch made. */
static size_t pt_run(size_t fail_at)
{
	struct fx fx, *f = &fx;
	joined(f);
	cmd(f, "AT+CIPMODE=1\r\n", "\r\nOK\r\n");
	send(f, "AT+CIPSTART=\"TCP\",\"10.0.0.2\",8080\r\n");
	settle(f);
	expect(f, "CONNECT\r\n\r\nOK\r\n");
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	cmd(f, "AT+CIPSEND\r\n", "\r\nOK\r\n>");
	static uint8_t d[PT_BYTES];
	for (size_t i = 0; i < PT_BYTES; i++)
		d[i] = (uint8_t)(i * 13 + i / 253);
	d[0] = 'x'; /* not a '+' */

	arm(fail_at);
	sendn(f, d, PT_BYTES);
	settle(f);
	advance(f, 30); /* AT+TRANSINTVL: the rest goes */
	disarm();

	static uint8_t got[PT_BYTES + 1];
	size_t k = espat_mem_conn_take(c, got, sizeof(got));
	assert_true(k <= PT_BYTES);
	assert_memory_equal(got, d, k); /* a prefix: no gap */
	if (k < PT_BYTES)
		assert_int_not_equal(c->closed_by_module, ESPAT_MEM_OPEN); /* the link went */
	advance(f, 1000);
	advance(f, GUARD_MS);
	send(f, "+++");
	advance(f, GUARD_MS);
	espat_tp_clear(&f->tp); /* passthrough prints nothing of the link */
	cmd(f, "AT\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPMODE=0\r\n", "\r\nOK\r\n");
	espat_module_free(&f->m);
	espat_tp_free(&f->tp);
	return A.seen;
}

static void test_passthrough_survives_every_failure(void **state)
{
	(void)state;
	size_t runs = 0, failed = 0;
	for (size_t n = 0;; n++) {
		size_t made = pt_run(n);
		failed += A.failed;
		runs++;
		if (made <= n)
			break;
		assert_true(n < 1000);
	}
	assert_true(failed >= 1); /* the memory network's send queue at least */
	print_message("passthrough: %zu runs, %zu allocation sites failed\n", runs, failed);
}

/* ---- the UART's output queue ----------------------------------------------------------- */

static size_t sink_write(void *user, const uint8_t *p, size_t n)
{
	(void)user;
	(void)p;
	return n;
}

static void sink_want(void *user, bool on)
{
	(void)user;
	(void)on;
}

static void test_pacer_reserves_at_init(void **state)
{
	(void)state;
	struct espat_log log = {.level = ESPAT_LOG_ERROR, .out = stderr};
	const struct espat_pacer_sink sink = {.write = sink_write, .want_writable = sink_want};
	const struct espat_uart_cfg cfg = {.baud = 115200, .databits = 8, .stopbits = 1};
	struct espat_pacer p;
	arm(0);
	assert_int_equal(espat_pacer_init(&p, &sink, &cfg, true, &log), -1);
	disarm();
	espat_pacer_free(&p); /* safe after a failed init */
	/* once reserved, pushing never allocates */
	assert_int_equal(espat_pacer_init(&p, &sink, &cfg, true, &log), 0);
	arm(0);
	for (int i = 0; i < 1000; i++)
		espat_pacer_push(&p, (const uint8_t *)"\r\n+IPD,4:data", 13, 0);
	disarm();
	assert_int_equal(A.seen, 0);
	assert_int_equal(espat_pacer_pending(&p), 13000);
	espat_pacer_free(&p);
}

/* ---- the writer's long lines --------------------------------------------------------- */

static char wout[4096];
static size_t wlen;

static void wr_capture(void *user, const uint8_t *p, size_t n)
{
	(void)user;
	assert_true(wlen + n < sizeof(wout));
	memcpy(wout + wlen, p, n);
	wlen += n;
	wout[wlen] = 0;
}

static void test_a_long_line_is_never_cut(void **state)
{
	(void)state;
	static struct espat_writer w;
	const struct espat_pipe pipe = {.write = wr_capture};
	espat_wr_init(&w, &pipe);
	char big[600];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	/* a response line lost: the command answers ERROR, not OK */
	wlen = 0;
	arm(0);
	espat_wr_linef(&w, "+SYSMFG:%s", big);
	disarm();
	assert_int_equal(A.failed, 1);
	espat_wr_ok(&w);
	assert_string_equal(wout, "\r\nERROR\r\n");
	assert_int_equal(w.lost_lines, 1);
	/* the next command is not affected */
	wlen = 0;
	espat_wr_ok(&w);
	assert_string_equal(wout, "\r\nOK\r\n");
	/* a report lost whole: counted, the answer stands */
	wlen = 0;
	arm(0);
	espat_wr_reportf(&w, "+MQTTCONNECTED:0,1,\"%s\"", big);
	disarm();
	espat_wr_ok(&w);
	assert_string_equal(wout, "\r\nOK\r\n");
	assert_int_equal(w.lost_lines, 2);
	/* with memory, the whole line */
	wlen = 0;
	espat_wr_linef(&w, "+X:%s", big);
	assert_int_equal(wlen, 3 + strlen(big) + 2);
	espat_wr_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipd_path_survives_every_failure),
	    cmocka_unit_test(test_passthrough_survives_every_failure),
	    cmocka_unit_test(test_pacer_reserves_at_init),
	    cmocka_unit_test(test_a_long_line_is_never_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
