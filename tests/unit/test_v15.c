/* The ESP8266 v1.5 dialect (--chip esp8266) on the test port: a module whose
 * registry is the v1.5 one, its boot text, the families it lacks, the
 * _CUR/_DEF persistence across a power cycle, the failed join's FAIL, and
 * AT+CIPSENDBUF's segments against a peer whose window the test holds
 * shut (docs/internals/dialect.md, COMPAT #300-#319). */
#include "support.h"

#include "cmd/tcpip.h"
#include "module_fixture.h"
#include "testport/net_mem.h"

#define BOOT_V15 "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nready\r\n"

static void boot_v15(struct fx *f)
{
	const struct espat_module_opts opts = {.chip = ESPAT_CHIP_ESP8266};
	espat_module_init(&f->m, &f->tp.ports, &opts);
	espat_module_power_on(&f->m);
	expect(f, BOOT_V15);
	cmd(f, "ATE0\r\n", "ATE0\r\n\r\nOK\r\n");
}

static int v15_setup(void **state)
{
	static struct fx fx;
	espat_tp_init(&fx.tp);
	boot_v15(&fx);
	*state = &fx;
	return 0;
}

static int v15_teardown(void **state)
{
	struct fx *f = *state;
	espat_module_free(&f->m);
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
	espat_tp_free(&f->tp);
	return 0;
}

static void power_cycle(struct fx *f)
{
	espat_module_free(&f->m);
	boot_v15(f);
}

/* Station mode, joined to the default world's "espat" with _CUR. */
static void join(struct fx *f)
{
	send(f, "AT+CWJAP_CUR=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WiFi CONNECTED\r\nWiFi GOT IP\r\n\r\nOK\r\n");
}

static void test_registry_and_dialect(void **state)
{
	struct fx *f = *state;
	assert_string_equal(f->m.dialect->chip, "esp8266");
	/* the families v1.5 lacks have no state at all */
	assert_null(f->m.mqtt);
	assert_null(f->m.http);
	assert_null(f->m.fs);
	assert_null(f->m.ws);
	assert_null(f->m.web);
	assert_non_null(f->m.wifi);
	assert_non_null(f->m.tcpip);
	/* ... and their commands answer ERROR, the next command works */
	cmd(f, "AT+MQTTCLEAN=0\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+HTTPCLIENT=2,0,\"http://x/\",,,1\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+FS=0,0,\"a\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CWSTATE?\r\n", "\r\nERROR\r\n");
	cmd(f, "AT\r\n", "\r\nOK\r\n");
	/* every row of every table has a name the engine finds */
	for (size_t t = 0; t < f->m.eng.ntables; t++)
		for (size_t i = 0; i < f->m.eng.tables[t]->n; i++) {
			const char *name = f->m.eng.tables[t]->rows[i].name;
			assert_ptr_equal(espat_engine_find(&f->m.eng, name, strlen(name)),
			                 &f->m.eng.tables[t]->rows[i]);
		}
}

static void test_cur_def_persistence(void **state)
{
	struct fx *f = *state;
	/* _CUR: gone after a power cycle; _DEF and the deprecated form stay */
	cmd(f, "AT+CWMODE_CUR=2\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWMODE_DEF?\r\n", "+CWMODE_DEF:1\r\n\r\nOK\r\n");
	power_cycle(f);
	cmd(f, "AT+CWMODE?\r\n", "+CWMODE:1\r\n\r\nOK\r\n");
	cmd(f, "AT+CWMODE=3\r\n", "\r\nOK\r\n");
	power_cycle(f);
	cmd(f, "AT+CWMODE_CUR?\r\n", "+CWMODE_CUR:3\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSTAMAC_CUR=\"18:fe:35:98:d3:7b\"\r\n", "\r\nOK\r\n");
	power_cycle(f);
	send(f, "AT+CIPSTAMAC?\r\n");
	assert_null(strstr(espat_tp_out(&f->tp), "18:fe:35:98:d3:7b"));
	espat_tp_clear(&f->tp);
	/* a join with _CUR is not joined again at power-on; one with _DEF is */
	join(f);
	power_cycle(f);
	advance(f, 5000);
	expect(f, "");
	send(f, "AT+CWJAP_DEF=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WiFi CONNECTED\r\nWiFi GOT IP\r\n\r\nOK\r\n");
	power_cycle(f);
	advance(f, 5000);
	expect(f, "WiFi CONNECTED\r\nWiFi GOT IP\r\n");
	/* AT+RESTORE: the factory's again */
	cmd(f, "AT+RESTORE\r\n", "\r\nOK\r\n");
	advance(f, ESPAT_RESTART_MS);
	expect(f, BOOT_V15);
	cmd(f, "ATE0\r\n", "ATE0\r\n\r\nOK\r\n");
	cmd(f, "AT+CWMODE_DEF?\r\n", "+CWMODE_DEF:1\r\n\r\nOK\r\n");
	advance(f, 5000);
	expect(f, "");
}

static void test_failed_join_is_fail(void **state)
{
	struct fx *f = *state;
	send(f, "AT+CWJAP_CUR=\"espat\",\"wrong-password\"\r\n");
	advance(f, 20000);
	expect(f, "+CWJAP:2\r\n\r\nFAIL\r\n");
	send(f, "AT+CWJAP=\"nobody-here\",\"whatever1\"\r\n");
	advance(f, 20000);
	expect(f, "+CWJAP:3\r\n\r\nFAIL\r\n");
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

/* AT+CIPSENDBUF against a peer that reads nothing yet: the segments wait
 * in the queue (FALSE, the buffer shrinks), then both are reported as the
 * queue drains; a full buffer is ERROR. */
static void test_sendbuf_waits_for_the_peer(void **state)
{
	struct fx *f = *state;
	join(f);
	assert_int_equal(espat_net_mem_serve(
	                     &f->tp.net, (struct espat_endpoint){espat_mem_ip("10.0.0.2"), 8080}),
	                 0);
	cmd(f, "AT+CIPSTART=\"TCP\",\"10.0.0.2\",8080\r\n", "");
	espat_tp_settle(&f->tp, &f->m);
	expect(f, "CONNECT\r\n\r\nOK\r\n");
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	espat_mem_conn_set_window(c, 0);
	cmd(f, "AT+CIPSENDBUF=2000\r\n", "1,0\r\n\r\nOK\r\n>");
	static char data[2048];
	memset(data, 'a', sizeof(data));
	sendn(f, data, 2000);
	espat_tp_settle(&f->tp, &f->m);
	expect(f, "");
	cmd(f, "AT+CIPSENDBUF=2048\r\n", "2,0\r\n\r\nOK\r\n>");
	sendn(f, data, 2048);
	espat_tp_settle(&f->tp, &f->m);
	expect(f, "");
	cmd(f, "AT+CIPBUFSTATUS\r\n", "3,2,0,1792,6\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPCHECKSEQ=1\r\n", "1,FALSE\r\n\r\nOK\r\n");
	/* 4048 queued + 2048 > 5840: the buffer is full */
	cmd(f, "AT+CIPSENDBUF=2048\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPBUFRESET\r\n", "\r\nERROR\r\n");
	espat_mem_conn_set_window(c, ESPAT_MEM_WINDOW_OPEN);
	espat_mem_conn_read_more(c, 4048);
	espat_tp_settle(&f->tp, &f->m);
	espat_tp_settle(&f->tp, &f->m);
	expect(f, "1,SEND OK\r\n2,SEND OK\r\n");
	cmd(f, "AT+CIPCHECKSEQ=1\r\n", "1,TRUE\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPBUFSTATUS\r\n", "3,2,2,5840,8\r\n\r\nOK\r\n");
	/* the peer resets with a segment queued: the link goes, no report */
	espat_mem_conn_set_window(c, 0);
	cmd(f, "AT+CIPSENDBUF=3\r\n", "3,2\r\n\r\nOK\r\n>");
	send(f, "xyz");
	espat_mem_conn_reset(c);
	espat_tp_settle(&f->tp, &f->m);
	expect(f, "CLOSED\r\n");
	cmd(f, "AT+CIPCHECKSEQ=3\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPBUFSTATUS\r\n", "\r\nERROR\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_registry_and_dialect, v15_setup, v15_teardown),
	    cmocka_unit_test_setup_teardown(test_cur_def_persistence, v15_setup, v15_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_join_is_fail, v15_setup, v15_teardown),
	    cmocka_unit_test_setup_teardown(test_sendbuf_waits_for_the_peer, v15_setup,
	                                    v15_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
