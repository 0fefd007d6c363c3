/* AT+SYSMSGFILTER and AT+SYSMSGFILTERCFG, driven through the AT port of a
 * module on the test port; every expectation is the exact byte output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
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

#include "module_fixture.h"

/* AT+SYSMSGFILTERCFG=<op>,<hl>,<tl> then the regex bytes, expecting OK > and
 * the final result. */
static void cfg(struct fx *f, int op, const char *head, const char *tail, const char *result)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "AT+SYSMSGFILTERCFG=%d,%zu,%zu\r\n", op, strlen(head),
	         strlen(tail));
	send(f, cmd);
	expect(f, "\r\nOK\r\n>");
	send(f, head);
	send(f, tail);
	expect(f, result);
}

static void test_enable_query(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMSGFILTER?\r\n", "+SYSMSGFILTER:0\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER?\r\n", "+SYSMSGFILTER:1\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=2\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+SYSMSGFILTER=0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER?\r\n", "+SYSMSGFILTER:0\r\n\r\nOK\r\n");
}

static void test_ok_vanishes(void **state)
{
	struct fx *f = *state;
	cfg(f, 1, "", "\r\nOK\r\n$", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG?\r\n", "+SYSMSGFILTERCFG:0,\"\",\"\r\nOK\r\n$\"\r\n\r\nOK\r\n");
	/* Filters do nothing until enabled; enabling filters its own OK. */
	cmd(f, "AT\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=1\r\n", "");
	cmd(f, "AT\r\n", "");
	cmd(f, "AT+SYSMSGFILTER?\r\n", "+SYSMSGFILTER:1\r\n");
	/* ERROR is another message. */
	cmd(f, "AT+NOPE\r\n", "\r\nERROR\r\n");
	/* Echo is not a message: it stays. */
	cmd(f, "ATE1\r\n", "");
	cmd(f, "AT\r\n", "AT\r\n");
	cmd(f, "AT+SYSMSGFILTER=0\r\n", "AT+SYSMSGFILTER=0\r\n\r\nOK\r\n");
}

static void test_head_and_tail_both_needed(void **state)
{
	struct fx *f = *state;
	cfg(f, 1, "^+SYSMSGFILTER:", "0\r\n$", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=1\r\n", "\r\nOK\r\n");
	/* head matches, tail does not */
	cmd(f, "AT+SYSMSGFILTER?\r\n", "+SYSMSGFILTER:1\r\n\r\nOK\r\n");
	/* a second filter whose head and tail both match */
	cfg(f, 1, "^+SYSMSGFILTER:", "1\r\n$", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER?\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG?\r\n",
	    "+SYSMSGFILTERCFG:0,\"^+SYSMSGFILTER:\",\"0\r\n$\"\r\n"
	    "+SYSMSGFILTERCFG:1,\"^+SYSMSGFILTER:\",\"1\r\n$\"\r\n\r\nOK\r\n");
	/* head-only filter (empty tail matches, cuts nothing): only the
	 * head's match is cut from the message, the rest goes out */
	cfg(f, 1, "^+SYSMSGFILTERCFG:1", "", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG?\r\n",
	    "+SYSMSGFILTERCFG:0,\"^+SYSMSGFILTER:\",\"0\r\n$\"\r\n"
	    ",\"^+SYSMSGFILTER:\",\"1\r\n$\"\r\n"
	    "+SYSMSGFILTERCFG:2,\"^+SYSMSGFILTERCFG:1\",\"\"\r\n\r\nOK\r\n");
}

/* Guide 4.1.1: a head and a tail expression strip a response's framing and
 * hand the MCU the bare value, and a tail-only filter removes the OK. */
static void test_strips_matched_text(void **state)
{
	struct fx *f = *state;
	cfg(f, 1, "^+SYSTIMESTAMP:", "\r\n$", "\r\nOK\r\n");
	cfg(f, 1, "", "\r\nOK\r\n$", "\r\nOK\r\n");
	cmd(f, "AT+SYSTIMESTAMP=1565853509\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=1\r\n", "");
	cmd(f, "AT+SYSTIMESTAMP?\r\n", "1565853509");
	/* a message matching only the head is not filtered at all */
	cmd(f, "AT+SYSLOG?\r\n", "+SYSLOG:0\r\n");
}

static void test_busy_filtered_during_erase(void **state)
{
	struct fx *f = *state;
	cfg(f, 1, "^busy p\\.\\.\\.\r\n", "", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",0,4096\r\n", "");
	cmd(f, "AT\r\n", "");
	advance(f, 25);
	expect(f, "\r\nOK\r\n");
	/* and without the filter busy p... is back */
	cmd(f, "AT+SYSMSGFILTER=0\r\n", "\r\nOK\r\n");
	send(f, "AT+SYSFLASH=0,\"fatfs\",0,4096\r\n");
	cmd(f, "AT\r\n", "busy p...\r\n");
	advance(f, 25);
	expect(f, "\r\nOK\r\n");
}

static void test_delete_and_clear(void **state)
{
	struct fx *f = *state;
	cfg(f, 1, "^A", "B$", "\r\nOK\r\n");
	cfg(f, 1, "^C", "", "\r\nOK\r\n");
	cfg(f, 1, "", "D$", "\r\nOK\r\n");
	/* delete needs the exact bytes */
	cfg(f, 2, "^A", "B", "\r\nERROR\r\n");
	cfg(f, 2, "^C", "", "\r\nOK\r\n");
	cfg(f, 2, "^C", "", "\r\nERROR\r\n");
	send(f, "AT+SYSMSGFILTERCFG?\r\n");
	expect(f,
	       "+SYSMSGFILTERCFG:0,\"^A\",\"B$\"\r\n+SYSMSGFILTERCFG:1,\"\",\"D$\"\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG?\r\n", "\r\nOK\r\n");
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=1,0,0\r\n", "ERR CODE:0x01070002\r\n\r\nERROR\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=1,65,1\r\n", "ERR CODE:0x01070001\r\n\r\nERROR\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=1,3\r\n", "ERR CODE:0x01060302\r\n\r\nERROR\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=3,1,1\r\n", "ERR CODE:0x01070000\r\n\r\nERROR\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=0,1,1\r\n", "ERR CODE:0x01060103\r\n\r\nERROR\r\n");
	/* invalid BRE: the error comes after the bytes */
	cfg(f, 1, "\\(", "", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* a NUL byte cannot be part of a BRE */
	cmd(f, "AT+SYSMSGFILTERCFG=1,3,0\r\n", "\r\nOK\r\n>");
	sendn(f, "a\0b", 3);
	expect(f, "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* duplicates */
	cfg(f, 1, "^x", "y$", "\r\nOK\r\n");
	cfg(f, 1, "^x", "y$", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG?\r\n", "+SYSMSGFILTERCFG:0,\"^x\",\"y$\"\r\n\r\nOK\r\n");
	/* the table holds ESPAT_FILTERS_MAX */
	for (int i = 1; i < ESPAT_FILTERS_MAX; i++) {
		char head[16];
		snprintf(head, sizeof(head), "^%02d", i);
		cfg(f, 1, head, "", "\r\nOK\r\n");
	}
	cfg(f, 1, "^full", "", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=2,3,0\r\n", "\r\nOK\r\n>");
	cmd(f, "^07", "\r\nOK\r\n");
	cfg(f, 1, "^full", "", "\r\nOK\r\n");
	/* the next command works */
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

/* Regex bytes may arrive one at a time, and the engine takes exactly the
 * announced count: what follows is a new command line. */
static void test_split_data(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMSGFILTERCFG=1,5,3\r\n", "\r\nOK\r\n>");
	const char *bytes = "^WIFI\r\n$";
	for (size_t i = 0; i < 7; i++) {
		sendn(f, bytes + i, 1);
		expect(f, "");
	}
	sendn(f, bytes + 7, 1);
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG?\r\n", "+SYSMSGFILTERCFG:0,\"^WIFI\",\"\r\n$\"\r\n\r\nOK\r\n");
}

/* Filters are RAM only: a restart forgets them and switches filtering off. */
static void test_restart_forgets(void **state)
{
	struct fx *f = *state;
	cfg(f, 1, "^\r\nready", "", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+RST\r\n", "\r\nOK\r\n");
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "AT+SYSMSGFILTER?\r\n", "AT+SYSMSGFILTER?\r\n+SYSMSGFILTER:0\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG?\r\n", "AT+SYSMSGFILTERCFG?\r\n\r\nOK\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_enable_query, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ok_vanishes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_head_and_tail_both_needed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_busy_filtered_during_erase, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_strips_matched_text, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_and_clear, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_errors, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_split_data, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_restart_forgets, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
