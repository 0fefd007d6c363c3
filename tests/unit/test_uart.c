/* The UART's pure parts (src/posix/uart_line.c, uart_rx.c, pacer.c) on a
 * clock the test sets: the input side takes bytes at the line rate, buffers
 * what the module cannot take yet, loses what overflows without RTS flow
 * control and holds the host back with it (COMPAT #240-#242); the output
 * queue refuses a message that does not fit whole. */
#include "support.h"

#include "posix/pacer.h"
#include "posix/uart_rx.h"

#define MS 1000000ull
#define T0 (1000ull * 1000 * MS) /* any time well past 0 */

static uint8_t got[1 << 16]; /* the first bytes the module got */
static size_t ngot;

static void take(void *user, const uint8_t *p, size_t n)
{
	(void)user;
	/* keeps the first bytes, counts them all */
	for (size_t i = 0; i < n && ngot + i < sizeof(got); i++)
		got[ngot + i] = p[i];
	ngot += n;
}

static const struct espat_log quiet = {.level = ESPAT_LOG_ERROR, .out = NULL};

static struct espat_uart_cfg cfg(uint32_t baud, uint8_t flow)
{
	return (struct espat_uart_cfg){
	    .baud = baud, .databits = 8, .stopbits = 1, .parity = 0, .flow = flow};
}

static void rx_init(struct espat_uart_rx *rx, uint32_t baud, uint8_t flow, bool pace)
{
	const struct espat_uart_rx_sink sink = {.input = take};
	const struct espat_uart_cfg c = cfg(baud, flow);
	ngot = 0;
	espat_uart_rx_init(rx, &sink, &c, pace, &quiet);
}

/* A host that always has more: every ms the port reads what room allows
 * (bytes numbered from *next). Returns the bytes read. */
static size_t stream(struct espat_uart_rx *rx, uint64_t from, uint64_t ms, size_t *next)
{
	static uint8_t buf[1 << 16];
	size_t total = 0;
	for (uint64_t t = from; t < from + ms * MS; t += MS) {
		size_t room = espat_uart_rx_room(rx, t);
		assert_true(room < sizeof(buf));
		for (size_t i = 0; i < room; i++)
			buf[i] = (uint8_t)((*next)++ % 251);
		espat_uart_rx_input(rx, buf, room);
		espat_uart_rx_run(rx);
		total += room;
	}
	return total;
}

static void test_input_runs_at_the_line_rate(void **state)
{
	(void)state;
	static struct espat_uart_rx rx;
	const uint32_t bauds[] = {300, 9600, 115200, 921600, 5000000};
	for (size_t i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
		rx_init(&rx, bauds[i], 0, true);
		size_t next = 0;
		size_t n = stream(&rx, T0, 1000, &next);
		/* 10 bit times a byte at 8N1; the read-ahead and the first
		 * byte make at most one ms (plus a frame) of difference */
		size_t want = bauds[i] / 10, slack = bauds[i] / 10000 + 2;
		assert_in_range(n, want - slack, want + slack);
		assert_int_equal(ngot, n);
	}
	/* 7E2: 11 bits a byte */
	const struct espat_uart_cfg c = {.baud = 11000, .databits = 7, .stopbits = 3, .parity = 2};
	rx_init(&rx, 11000, 0, true);
	espat_uart_rx_set_uart(&rx, &c);
	size_t next = 0;
	assert_in_range(stream(&rx, T0, 1000, &next), 999, 1002);
}

static void test_an_idle_line_does_not_burst(void **state)
{
	(void)state;
	static struct espat_uart_rx rx;
	rx_init(&rx, 115200, 0, true);
	size_t next = 0;
	stream(&rx, T0, 100, &next);
	/* an hour of silence, then the host writes: a ms worth, not an hour's */
	assert_in_range(espat_uart_rx_room(&rx, T0 + 3600000 * MS), 1, 13);
}

static void test_without_flow_control_an_overflow_is_lost(void **state)
{
	(void)state;
	static struct espat_uart_rx rx;
	rx_init(&rx, 115200, 0, true);
	size_t next = 0;
	stream(&rx, T0, 10, &next);
	size_t before = ngot;
	espat_uart_rx_hold(&rx, true);
	size_t held = stream(&rx, T0 + 10 * MS, 1000, &next); /* the line goes on */
	assert_in_range(held, 11500, 11540);
	assert_int_equal(ngot, before); /* nothing reached the module */
	assert_int_equal(rx.dropped, held - ESPAT_UART_RX_BUF);
	espat_uart_rx_hold(&rx, false);
	espat_uart_rx_run(&rx);
	/* the module gets the first ESPAT_UART_RX_BUF bytes of the hold, in
	 * order; the rest never came */
	assert_int_equal(ngot, before + ESPAT_UART_RX_BUF);
	for (size_t i = 0; i < ESPAT_UART_RX_BUF; i++)
		assert_int_equal(got[before + i], (uint8_t)((before + i) % 251));
	/* and the line goes on */
	size_t more = stream(&rx, T0 + 1010 * MS, 10, &next);
	assert_int_equal(ngot, before + ESPAT_UART_RX_BUF + more);
}

static void test_held_bytes_go_first(void **state)
{
	(void)state;
	static struct espat_uart_rx rx;
	rx_init(&rx, 115200, 0, true);
	espat_uart_rx_hold(&rx, true);
	espat_uart_rx_input(&rx, (const uint8_t *)"abc", 3);
	/* the module lets go, and the port reads again before the loop's
	 * run(): the waiting bytes go first, nothing is lost */
	espat_uart_rx_hold(&rx, false);
	espat_uart_rx_input(&rx, (const uint8_t *)"def", 3);
	assert_int_equal(ngot, 6);
	assert_memory_equal(got, "abcdef", 6);
	assert_int_equal(rx.dropped, 0);
}

static void test_rts_holds_the_host_back(void **state)
{
	(void)state;
	static struct espat_uart_rx rx;
	rx_init(&rx, 115200, 3, true);
	size_t next = 0;
	espat_uart_rx_hold(&rx, true);
	size_t held = stream(&rx, T0, 1000, &next);
	assert_int_equal(held, ESPAT_UART_RX_BUF); /* then RTS: nothing more is read */
	assert_int_equal(espat_uart_rx_room(&rx, T0 + 2000 * MS), 0);
	assert_int_equal(espat_uart_rx_next_ns(&rx, T0 + 2000 * MS), ESPAT_UART_RX_NEVER);
	assert_int_equal(rx.dropped, 0);
	assert_int_equal(ngot, 0);
	espat_uart_rx_hold(&rx, false);
	espat_uart_rx_run(&rx);
	assert_int_equal(ngot, ESPAT_UART_RX_BUF);
	assert_true(espat_uart_rx_room(&rx, T0 + 2000 * MS) > 0);
	/* flow 1 (RTS) holds too; flow 2 (CTS only) does not */
	const struct espat_uart_cfg cts = cfg(115200, 2);
	espat_uart_rx_set_uart(&rx, &cts);
	espat_uart_rx_hold(&rx, true);
	stream(&rx, T0 + 2000 * MS, 1000, &next);
	assert_true(rx.dropped > 0);
}

static void test_unpaced_input_is_held_back_not_lost(void **state)
{
	(void)state;
	static struct espat_uart_rx rx;
	rx_init(&rx, 115200, 0, false);
	assert_int_equal(espat_uart_rx_room(&rx, T0), SIZE_MAX);
	espat_uart_rx_hold(&rx, true);
	assert_int_equal(espat_uart_rx_room(&rx, T0), 0);
	assert_int_equal(espat_uart_rx_next_ns(&rx, T0), ESPAT_UART_RX_NEVER);
	espat_uart_rx_hold(&rx, false);
	assert_int_equal(espat_uart_rx_room(&rx, T0), SIZE_MAX);
}

/* ---- the output queue ---- */

static size_t wrote;

static size_t sink_write(void *user, const uint8_t *p, size_t n)
{
	(void)user;
	(void)p;
	wrote += n;
	return n;
}

static void sink_want(void *user, bool on)
{
	(void)user;
	(void)on;
}

static void test_a_full_output_queue_refuses_whole_messages(void **state)
{
	(void)state;
	const struct espat_pacer_sink sink = {.write = sink_write, .want_writable = sink_want};
	const struct espat_uart_cfg c = cfg(115200, 0);
	static struct espat_pacer p;
	assert_int_equal(espat_pacer_init(&p, &sink, &c, false, &quiet), 0);
	static uint8_t msg[1000];
	size_t queued = 0;
	while (queued + sizeof(msg) <= ESPAT_PACER_CAP) {
		espat_pacer_push(&p, msg, sizeof(msg), 0);
		queued += sizeof(msg);
	}
	espat_pacer_push(&p, msg, sizeof(msg), 0); /* does not fit: refused whole */
	assert_int_equal(espat_pacer_pending(&p), queued);
	assert_int_equal(p.dropped, sizeof(msg));
	wrote = 0;
	espat_pacer_run(&p, 0);
	assert_int_equal(wrote, queued);
	/* an emptied queue starts over at its first byte */
	assert_int_equal(p.head, 0);
	espat_pacer_push(&p, msg, sizeof(msg), 0);
	assert_int_equal(espat_pacer_pending(&p), sizeof(msg));
	espat_pacer_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_input_runs_at_the_line_rate),
	    cmocka_unit_test(test_an_idle_line_does_not_burst),
	    cmocka_unit_test(test_without_flow_control_an_overflow_is_lost),
	    cmocka_unit_test(test_held_bytes_go_first),
	    cmocka_unit_test(test_rts_holds_the_host_back),
	    cmocka_unit_test(test_unpaced_input_is_held_back_not_lost),
	    cmocka_unit_test(test_a_full_output_queue_refuses_whole_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
