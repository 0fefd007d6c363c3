/* The output writer (src/core/writer.c): framing of final codes, ERR CODE
 * lines under AT+SYSLOG=1, the report queue of streamed messages, and the
 * AT+SYSMSGFILTER hook. */
#include "support.h"

#include "core/errcode.h"
#include "core/writer.h"

/* A capture pipe that records every write call separately, so tests can
 * see that a message went out in one piece. */
struct cap {
	uint8_t buf[64 * 1024];
	size_t len;
	size_t writes;
	size_t sizes[256]; /* size of each write call (first 256) */
};

static void cap_write(void *user, const uint8_t *p, size_t n)
{
	struct cap *c = user;
	assert_true(c->len + n <= sizeof(c->buf));
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	if (c->writes < 256)
		c->sizes[c->writes] = n;
	c->writes++;
}

struct fix {
	struct cap cap;
	struct espat_writer w;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	struct espat_pipe p = {.write = cap_write, .user = &f->cap};
	espat_wr_init(&f->w, &p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	espat_wr_free(&f->w);
	free(f);
	return 0;
}

static void expect_cap(struct fix *f, const char *want)
{
	size_t n = strlen(want);
	if (f->cap.len != n || memcmp(f->cap.buf, want, n) != 0)
		fail_msg("want \"%s\"\n got \"%s\"", t_esc((const uint8_t *)want, n, 0),
		         t_esc(f->cap.buf, f->cap.len, 1));
	f->cap.len = 0;
	f->cap.writes = 0;
}

static void final_codes(void **state)
{
	struct fix *f = *state;
	espat_wr_ok(&f->w);
	expect_cap(f, "\r\nOK\r\n");
	espat_wr_error(&f->w, ESPAT_ERR_UNSUPPORTED);
	expect_cap(f, "\r\nERROR\r\n");
	espat_wr_result(&f->w, "SEND OK");
	expect_cap(f, "\r\nSEND OK\r\n");
	espat_wr_busy(&f->w);
	expect_cap(f, "busy p...\r\n");
	espat_wr_prompt(&f->w);
	expect_cap(f, ">");
	espat_wr_linef(&f->w, "+SYSRAM:%u,%u", 148408u, 84044u);
	expect_cap(f, "+SYSRAM:148408,84044\r\n");
	assert_int_equal(f->w.bytes_out, 6 + 9 + 11 + 11 + 1 + 22);
}

static void final_codes_are_one_write(void **state)
{
	struct fix *f = *state;
	espat_wr_ok(&f->w);
	assert_int_equal(f->cap.writes, 1);
	f->w.syslog = true;
	f->cap.writes = 0;
	espat_wr_error(&f->w, ESPAT_ERR_UNSUPPORTED);
	/* ERR CODE line and ERROR: two messages, each whole */
	assert_int_equal(f->cap.writes, 2);
	assert_int_equal(f->cap.sizes[0], strlen("ERR CODE:0x01090000\r\n"));
	assert_int_equal(f->cap.sizes[1], strlen("\r\nERROR\r\n"));
}

static void err_code_only_with_syslog(void **state)
{
	struct fix *f = *state;
	f->w.syslog = true;
	espat_wr_error(&f->w, ESPAT_ERR_UNSUPPORTED);
	expect_cap(f, "ERR CODE:0x01090000\r\n\r\nERROR\r\n");
	espat_wr_error(&f->w, ESPAT_ERR_NUM(5, 1));
	expect_cap(f, "ERR CODE:0x01060501\r\n\r\nERROR\r\n");
	espat_wr_error(&f->w, ESPAT_ERR_INVALID(3));
	expect_cap(f, "ERR CODE:0x01070003\r\n\r\nERROR\r\n");
	espat_wr_busy(&f->w);
	expect_cap(f, "ERR CODE:0x010b0000\r\nbusy p...\r\n");
	/* OK and other results never carry one */
	espat_wr_ok(&f->w);
	expect_cap(f, "\r\nOK\r\n");
	f->w.syslog = false;
	espat_wr_error(&f->w, ESPAT_ERR_UNSUPPORTED);
	expect_cap(f, "\r\nERROR\r\n");
	espat_wr_busy(&f->w);
	expect_cap(f, "busy p...\r\n");
}

static void errcode_layout(void **state)
{
	assert_int_equal(ESPAT_ERR_UNSUPPORTED, 0x01090000u);
	assert_int_equal(ESPAT_ERR_BUSY, 0x010b0000u);
	assert_int_equal(ESPAT_ERR_OP, 0x010c0000u);
	assert_int_equal(ESPAT_ERR_EXEC, 0x010a0000u);
	assert_int_equal(ESPAT_ERR_NO_AT, 0x01030000u);
	assert_int_equal(ESPAT_ERR_NO_TERM, 0x01020000u);
	assert_int_equal(ESPAT_ERR_TYPE(2), 0x01050002u);
	assert_int_equal(ESPAT_ERR_LENGTH(1), 0x01040001u);
	assert_int_equal(ESPAT_ERR_PARSE(0), 0x01080000u);
	assert_int_equal(ESPAT_ERR_NUM(7, 2), 0x01060702u);
}

static void long_line(void **state)
{
	struct fix *f = *state;
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	espat_wr_linef(&f->w, "+SYSMFG:%s", big);
	assert_int_equal(f->cap.writes, 1);
	assert_int_equal(f->cap.len, 8 + 2999 + 2);
	assert_memory_equal(f->cap.buf + f->cap.len - 3, "x\r\n", 3);
	/* right at the stack buffer's edge */
	for (size_t n = 505; n <= 515; n++) {
		f->cap.len = 0;
		f->cap.writes = 0;
		big[n] = 0;
		espat_wr_linef(&f->w, "%s", big);
		big[n] = 'x';
		assert_int_equal(f->cap.len, n + 2);
		assert_int_equal(f->cap.writes, 1);
		assert_memory_equal(f->cap.buf + n, "\r\n", 2);
	}
}

static void reports_go_out_at_once_when_closed(void **state)
{
	struct fix *f = *state;
	espat_wr_reportf(&f->w, "WIFI CONNECTED");
	expect_cap(f, "WIFI CONNECTED\r\n");
	espat_wr_report(&f->w, (const uint8_t *)"0,CLOSED\r\n", 10);
	expect_cap(f, "0,CLOSED\r\n");
}

static void reports_wait_for_open_message(void **state)
{
	struct fix *f = *state;
	espat_wr_open(&f->w);
	espat_wr_part(&f->w, (const uint8_t *)"+IPD,0,10:", 10);
	espat_wr_reportf(&f->w, "WIFI DISCONNECT");
	espat_wr_reportf(&f->w, "0,CLOSED");
	espat_wr_part(&f->w, (const uint8_t *)"0123456789", 10);
	espat_wr_close(&f->w);
	expect_cap(f, "+IPD,0,10:0123456789WIFI DISCONNECT\r\n0,CLOSED\r\n");
	/* closed again: reports are immediate */
	espat_wr_reportf(&f->w, "WIFI GOT IP");
	expect_cap(f, "WIFI GOT IP\r\n");
	/* closing with nothing queued writes nothing */
	espat_wr_open(&f->w);
	espat_wr_close(&f->w);
	assert_int_equal(f->cap.writes, 0);
}

/* Responses and final codes are not reports: they go out at once even
 * while a streamed message is open (writer.h); only reports wait. */
static void responses_not_queued(void **state)
{
	struct fix *f = *state;
	espat_wr_open(&f->w);
	espat_wr_part(&f->w, (const uint8_t *)"+HTTPCLIENT:5,", 14);
	espat_wr_reportf(&f->w, "WIFI DISCONNECT");
	espat_wr_part(&f->w, (const uint8_t *)"hello\r\n", 7);
	espat_wr_linef(&f->w, "+RESP");
	espat_wr_close(&f->w);
	espat_wr_ok(&f->w);
	expect_cap(f, "+HTTPCLIENT:5,hello\r\n+RESP\r\nWIFI DISCONNECT\r\n\r\nOK\r\n");
}

static void queue_limit(void **state)
{
	struct fix *f = *state;
	char line[1000];
	memset(line, 'r', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	espat_wr_open(&f->w);
	size_t fit = ESPAT_WR_QUEUE_MAX / (sizeof(line) + 1); /* each report is 1001 bytes */
	for (size_t i = 0; i < fit + 5; i++)
		espat_wr_reportf(&f->w, "%s", line);
	assert_int_equal(f->w.dropped_reports, 5);
	assert_int_equal(f->cap.len, 0);
	espat_wr_close(&f->w);
	assert_int_equal(f->cap.len, fit * (sizeof(line) + 1));
	assert_int_equal(f->cap.writes, 1);
	/* the queue is empty again and usable */
	f->cap.len = 0;
	f->cap.writes = 0;
	espat_wr_open(&f->w);
	espat_wr_reportf(&f->w, "again");
	espat_wr_close(&f->w);
	expect_cap(f, "again\r\n");
	assert_int_equal(f->w.dropped_reports, 5);
}

struct filt {
	const char *drop; /* messages starting with this are dropped */
	unsigned calls;
	uint8_t last[64];
	size_t last_len;
};

/* Cuts the whole message when it starts with ft->drop. */
static size_t filter_fn(void *user, const uint8_t *p, size_t n, struct espat_span cut[2])
{
	struct filt *ft = user;
	ft->calls++;
	ft->last_len = n < sizeof(ft->last) ? n : sizeof(ft->last);
	memcpy(ft->last, p, ft->last_len);
	size_t dl = strlen(ft->drop);
	if (n < dl || memcmp(p, ft->drop, dl) != 0)
		return 0;
	cut[0] = (struct espat_span){0, n};
	return 1;
}

/* Cuts the first 3 bytes and the last 2: what is left goes out in order. */
static size_t frame_filter(void *user, const uint8_t *p, size_t n, struct espat_span cut[2])
{
	if (n < 5)
		return 0;
	cut[0] = (struct espat_span){0, 3};
	cut[1] = (struct espat_span){n - 2, n};
	return 2;
}

static void filter_cuts_ranges(void **state)
{
	struct fix *f = *state;
	f->w.filter = frame_filter;
	espat_wr_linef(&f->w, "+X:payload");
	espat_wr_reportf(&f->w, "ab");
	expect_cap(f, "payloadab\r\n");
}

static void filter_drops_messages(void **state)
{
	struct fix *f = *state;
	struct filt ft = {.drop = "WIFI CONNECTED\r\n"};
	f->w.filter = filter_fn;
	f->w.filter_user = &ft;
	espat_wr_reportf(&f->w, "WIFI CONNECTED");
	espat_wr_reportf(&f->w, "WIFI GOT IP");
	expect_cap(f, "WIFI GOT IP\r\n");
	assert_int_equal(ft.calls, 2);
	/* a message is filtered whole: the filter sees the framed bytes */
	espat_wr_ok(&f->w);
	assert_int_equal(ft.last_len, 6);
	assert_memory_equal(ft.last, "\r\nOK\r\n", 6);
	expect_cap(f, "\r\nOK\r\n");
	/* the 4.1.1 tail filter drops the final OK */
	ft.drop = "\r\nOK\r\n";
	espat_wr_ok(&f->w);
	espat_wr_msg(&f->w, (const uint8_t *)"\r\nOK\r\n", 6);
	expect_cap(f, "");
	/* queued reports are filtered when produced */
	ft.drop = "WIFI";
	espat_wr_open(&f->w);
	espat_wr_reportf(&f->w, "WIFI DISCONNECT");
	espat_wr_reportf(&f->w, "0,CLOSED");
	espat_wr_close(&f->w);
	expect_cap(f, "0,CLOSED\r\n");
}

static void filter_spares_echo_raw_parts(void **state)
{
	struct fix *f = *state;
	struct filt ft = {.drop = ""}; /* drops every message */
	f->w.filter = filter_fn;
	f->w.filter_user = &ft;
	espat_wr_echo(&f->w, (const uint8_t *)"AT\r\n", 4);
	espat_wr_raw(&f->w, (const uint8_t *)"data", 4);
	espat_wr_open(&f->w);
	espat_wr_part(&f->w, (const uint8_t *)"part", 4);
	espat_wr_close(&f->w);
	espat_wr_prompt(&f->w);
	espat_wr_linef(&f->w, "gone");
	espat_wr_error(&f->w, 0);
	expect_cap(f, "AT\r\ndatapart>");
	assert_int_equal(ft.calls, 2);
}

/* The host-wake gate: asked once per held stretch; a held report and the
 * ones after it wait for espat_wr_release(), and an open message keeps
 * them until it closes; responses never wait. */
static unsigned gate_calls;
static bool gate_open;

static bool gate(void *user)
{
	(void)user;
	gate_calls++;
	return gate_open;
}

static void gate_holds_reports(void **state)
{
	struct fix *f = *state;
	f->w.gate = gate;
	gate_calls = 0;
	gate_open = true;
	espat_wr_reportf(&f->w, "+A");
	expect_cap(f, "+A\r\n");
	gate_open = false;
	espat_wr_reportf(&f->w, "+B");
	espat_wr_reportf(&f->w, "+C");
	espat_wr_ok(&f->w);
	expect_cap(f, "\r\nOK\r\n");
	assert_int_equal(gate_calls, 2); /* not asked again while held */
	espat_wr_open(&f->w);
	espat_wr_part(&f->w, (const uint8_t *)"+X:", 3);
	espat_wr_release(&f->w); /* a message is open: still after it */
	expect_cap(f, "+X:");
	espat_wr_close(&f->w);
	expect_cap(f, "+B\r\n+C\r\n");
	gate_open = true;
	espat_wr_reportf(&f->w, "+D");
	expect_cap(f, "+D\r\n");
	/* inside an open message the gate is not asked: at its close */
	gate_calls = 0;
	gate_open = false;
	espat_wr_open(&f->w);
	espat_wr_part(&f->w, (const uint8_t *)"+Y:", 3);
	espat_wr_reportf(&f->w, "+E");
	assert_int_equal(gate_calls, 0);
	espat_wr_part(&f->w, (const uint8_t *)"z\r\n", 3);
	espat_wr_close(&f->w);
	assert_int_equal(gate_calls, 1);
	expect_cap(f, "+Y:z\r\n");
	espat_wr_release(&f->w);
	expect_cap(f, "+E\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(final_codes, setup, teardown),
	    cmocka_unit_test_setup_teardown(final_codes_are_one_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(err_code_only_with_syslog, setup, teardown),
	    cmocka_unit_test(errcode_layout),
	    cmocka_unit_test_setup_teardown(long_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(reports_go_out_at_once_when_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(reports_wait_for_open_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(responses_not_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(queue_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(filter_drops_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(filter_spares_echo_raw_parts, setup, teardown),
	    cmocka_unit_test_setup_teardown(filter_cuts_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(gate_holds_reports, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
