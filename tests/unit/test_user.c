/* The user commands (3.12) on the test port: AT+USERRAM, AT+USERDOCS, the
 * host wake of AT+USERWKMCUCFG / AT+USERMCUSLEEP (a GPIO of the simulated
 * bus, or a byte on the AT port, before a report), and AT+USEROTA against
 * scripted HTTP(S) servers on the memory network (testport/http_mem.h).
 * Every expectation is the exact byte output, under AT+SYSLOG=1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/basic_internal.h"
#include "cmd/user.h"

#include "module_fixture.h"

#define OK "\r\nOK\r\n"
#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"
#define EXEC_ERR ERR("0x010a0000")
#define STEP ESPAT_HTTP_MEM_STEP_MS
#define URL "http://fw.example/esp-at.bin"
#define SURL "https://fw.example/esp-at.bin"

static int setup(void **state)
{
	fx_setup(state);
	cmd(*state, "AT+SYSLOG=1\r\n", OK);
	return 0;
}

/* ---- AT+USERRAM ----------------------------------------------------------- */

static void test_userram(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+USERRAM?\r\n", "+USERRAM:163840\r\n" OK);
	cmd(f, "AT+USERRAM=2,10\r\n", EXEC_ERR); /* malloc first */
	cmd(f, "AT+USERRAM=3,10\r\n", EXEC_ERR);
	cmd(f, "AT+USERRAM=4\r\n", EXEC_ERR);
	cmd(f, "AT+USERRAM=1,163841\r\n", ERR("0x01070001"));
	cmd(f, "AT+USERRAM=1\r\n", ERR("0x01060201"));
	cmd(f, "AT+USERRAM=1,2048\r\n", OK);
	cmd(f, "AT+USERRAM?\r\n", "+USERRAM:161792\r\n" OK);
	cmd(f, "AT+USERRAM=1,16\r\n", EXEC_ERR); /* once */
	cmd(f, "AT+USERRAM=2,5,100\r\n", OK ">");
	sendn(f, "a\r\nb\0", 5);
	expect(f, OK);
	send(f, "AT+USERRAM=3,5,100\r\n");
	expectn(f, "+USERRAM:5,a\r\nb\0\r\n" OK, 24);
	/* reads over 1 KiB come in records of 1 KiB */
	send(f, "AT+USERRAM=3,2048\r\n");
	const char *out = espat_tp_out(&f->tp);
	assert_int_equal(f->tp.out_len, 2 * (strlen("+USERRAM:1024,\r\n") + 1024) + strlen(OK));
	assert_memory_equal(out, "+USERRAM:1024,", 14);
	assert_memory_equal(out + 14 + 100, "a\r\nb", 4);
	assert_memory_equal(out + 14 + 1024 + 2, "+USERRAM:1024,", 14);
	espat_tp_clear(&f->tp);
	cmd(f, "AT+USERRAM=3,2049\r\n", ERR("0x01070001"));
	cmd(f, "AT+USERRAM=3,10,2039\r\n", ERR("0x01070002"));
	cmd(f, "AT+USERRAM=2,1,2048\r\n", ERR("0x01070002"));
	cmd(f, "AT+USERRAM=5,1\r\n", ERR("0x01070000"));
	cmd(f, "AT+USERRAM=4\r\n", OK);
	send(f, "AT+USERRAM=3,3,100\r\n");
	expectn(f, "+USERRAM:3,\0\0\0\r\n" OK, 22);
	cmd(f, "AT+USERRAM=0\r\n", OK); /* the guide's form, without <size> */
	cmd(f, "AT+USERRAM?\r\n", "+USERRAM:163840\r\n" OK);
	cmd(f, "AT+USERRAM=3,1\r\n", EXEC_ERR);
	/* a restart loses it */
	cmd(f, "AT+USERRAM=1,8\r\n", OK);
	cmd(f, "AT+RST\r\n", OK);
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n" OK);
	cmd(f, "AT+USERRAM?\r\n", "+USERRAM:163840\r\n" OK);
}

static void test_userdocs(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+USERDOCS?\r\n",
	    "+USERDOCS:\"https://docs.espressif.com/projects/esp-at/en/latest/esp32c3/"
	    "index.html\"\r\n"
	    "+USERDOCS:\"https://docs.espressif.com/projects/esp-at/zh_CN/latest/esp32c3/"
	    "index.html\"\r\n" OK);
	cmd(f, "AT+USERDOCS\r\n", ERR("0x010c0000"));
}

/* ---- waking the host ------------------------------------------------------ */

static void report(struct fx *f, const char *s)
{
	espat_wr_reportf(&f->m.wr, "%s", s);
}

static int8_t pin(struct fx *f, int n)
{
	return f->tp.world.periph.gpio[n];
}

static void test_wake_gpio(void **state)
{
	struct fx *f = *state;
	const struct espat_user *u = espat_user_state(&f->m);
	cmd(f, "AT+USERWKMCUCFG=1,1,18,1,10000,3\r\n", OK);
	assert_int_equal(pin(f, 18), 0); /* idle: the other level */
	/* the host sent the command, so it is awake: reports go at once */
	report(f, "+A");
	expect(f, "+A\r\n");
	cmd(f, "AT+USERMCUSLEEP=1\r\n", OK);
	report(f, "+B");
	report(f, "+C");
	expect(f, "");
	assert_int_equal(pin(f, 18), 1);
	assert_true(u->waking);
	advance(f, 9999);
	expect(f, "");
	advance(f, 1); /* held 10 s, then the level goes back and the reports out */
	expect(f, "+B\r\n+C\r\n");
	assert_int_equal(pin(f, 18), 0);
	assert_int_equal(f->tp.world.periph.gpio_edges[18], 2);
	/* bit2 clear: the host still counts as asleep; it wakes and says so */
	report(f, "+D");
	expect(f, "");
	assert_int_equal(pin(f, 18), 1);
	advance(f, 100);
	cmd(f, "AT+USERMCUSLEEP=0\r\n", "+D\r\n" OK);
	assert_int_equal(pin(f, 18), 0);
	report(f, "+E");
	expect(f, "+E\r\n");
	assert_int_equal(u->wakes, 2);
	/* disabled: nothing is held */
	cmd(f, "AT+USERMCUSLEEP=1\r\n", OK);
	cmd(f, "AT+USERWKMCUCFG=0\r\n", OK);
	report(f, "+F");
	expect(f, "+F\r\n");
}

static void test_wake_uart_timeout_awake(void **state)
{
	struct fx *f = *state;
	/* no linkage: every report wakes; bit2: awake after the wait */
	cmd(f, "AT+USERWKMCUCFG=1,2,1,0x5a,50,4\r\n", OK);
	report(f, "+A");
	expect(f, "\x5a");
	advance(f, 50);
	expect(f, "+A\r\n");
	report(f, "+B"); /* no linkage: still asleep for AT, so it wakes again */
	expect(f, "\x5a");
	advance(f, 50);
	expect(f, "+B\r\n");
	/* USERMCUSLEEP linkage with bit2: once woken, it counts as awake */
	cmd(f, "AT+USERWKMCUCFG=1,2,1,255,20,5\r\n", OK);
	cmd(f, "AT+USERMCUSLEEP=1\r\n", OK);
	report(f, "+C");
	expect(f, "\xff");
	advance(f, 20);
	expect(f, "+C\r\n");
	report(f, "+D");
	expect(f, "+D\r\n");
	/* AT+SLEEP linkage (bit1): asleep while AT+SLEEP is not 0 */
	cmd(f, "AT+USERWKMCUCFG=1,2,1,1,0,2\r\n", OK);
	report(f, "+E");
	expect(f, "+E\r\n");
	cmd(f, "AT+SLEEP=2\r\n", OK);
	report(f, "+F");
	expect(f, "\x01");
	advance(f, 1);
	expect(f, "+F\r\n");
	cmd(f, "AT+SLEEP=0\r\n", OK);
	/* ... and AT+SLEEP=0 during a wake ends it at once */
	cmd(f, "AT+USERWKMCUCFG=1,2,1,2,5000,2\r\n", OK);
	cmd(f, "AT+SLEEP=1\r\n", OK);
	report(f, "+G");
	expect(f, "\x02");
	advance(f, 100);
	cmd(f, "AT+SLEEP=0\r\n", OK "+G\r\n");
	report(f, "+H");
	expect(f, "+H\r\n");
}

static void test_wake_bad(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+USERWKMCUCFG=1,1,22,1,10\r\n", ERR("0x01070002"));
	cmd(f, "AT+USERWKMCUCFG=1,2,0,1,10\r\n", ERR("0x01070002")); /* only UART1 */
	cmd(f, "AT+USERWKMCUCFG=1,1,18,2,10\r\n", ERR("0x01070003"));
	cmd(f, "AT+USERWKMCUCFG=1,2,1,256,10\r\n", ERR("0x01070003"));
	cmd(f, "AT+USERWKMCUCFG=1,1,18,1,60001\r\n", ERR("0x01070004"));
	cmd(f, "AT+USERWKMCUCFG=1,1,18,1,10,8\r\n", ERR("0x01070005")); /* bit3: not implemented */
	cmd(f, "AT+USERWKMCUCFG=1,3,18,1,10\r\n", ERR("0x01070001"));
	cmd(f, "AT+USERWKMCUCFG=1,1,18,1\r\n", ERR("0x01060504"));
	cmd(f, "AT+USERWKMCUCFG=2\r\n", ERR("0x01070000"));
	cmd(f, "AT+USERMCUSLEEP=2\r\n", ERR("0x01070000"));
	cmd(f, "AT+USERMCUSLEEP?\r\n", ERR("0x010c0000"));
	assert_false(espat_user_state(&f->m)->wk_on);
}

/* ---- AT+USEROTA ----------------------------------------------------------- */

#define IMAGE_LEN 3000u
static uint8_t image[IMAGE_LEN];

static void join(struct fx *f)
{
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n", "");
	advance(f, 10000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n" OK);
}

static int setup_online(void **state)
{
	setup(state);
	struct fx *f = *state;
	join(f);
	f->tp.net.dns_ms = STEP;
	f->tp.net.connect_ms = STEP;
	image[0] = 0xE9;
	for (size_t i = 1; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 11u);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	assert_int_equal(espat_http_mem_live(&f->tp.http), 0);
	return fx_teardown(state);
}

/* AT+USEROTA=<len>, the URL after the prompt: "Recv <len> bytes", then
 * then (what comes at once). */
static void userota_then(struct fx *f, const char *url, const char *then)
{
	char line[64], recv[128];
	snprintf(line, sizeof(line), "AT+USEROTA=%zu\r\n", strlen(url));
	cmd(f, line, OK ">");
	snprintf(recv, sizeof(recv), "\r\nRecv %zu bytes\r\n%s", strlen(url), then);
	send(f, url);
	expect(f, recv);
}

static void userota(struct fx *f, const char *url)
{
	userota_then(f, url, "");
}

static uint8_t boot_slot(struct fx *f)
{
	struct espat_ota_state st;
	espat_ota_load(&f->m, &st);
	return st.running;
}

static void updated(struct fx *f, const char *url)
{
	assert_non_null(espat_http_mem_route(&f->tp.http, url, 200, image, sizeof(image)));
	userota(f, url);
	advance(f, 25 * STEP);
	expect(f, OK);
	const struct espat_files_mem_file *img = espat_files_mem_get(&f->tp.files, "ota_1.bin");
	assert_non_null(img);
	assert_int_equal(img->len, sizeof(image));
	assert_memory_equal(img->data, image, sizeof(image));
	assert_int_equal(boot_slot(f), 1);
	advance(f, ESPAT_RESTART_MS); /* it restarts into the new image */
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n" OK);
	assert_int_equal(f->m.ota->running_slot, 1);
}

#define GMR(ver)                                                                                   \
	"AT version:" ver "(3b13d04 - ESP32C3 - May  8 2024 08:21:54)\r\n"                         \
	"SDK version:v5.0.6-dirty\r\n"                                                             \
	"compile time(be332568):May  8 2024 08:51:33\r\n"                                          \
	"Bin version:v" ver "(MINI-1)\r\n\r\nOK\r\n"

static void test_userota_http(void **state)
{
	updated(*state, URL);
	/* no app descriptor in the image: AT+GMR keeps the running version */
	cmd(*state, "AT+GMR\r\n", GMR("3.3.0.0"));
	/* the request is a plain GET of the URL, without the OTA API's token */
	assert_string_equal(espat_http_mem_last(&((struct fx *)*state)->tp.http)->headers, "");
}

/* An image with an app descriptor (esp_app_desc_t after the image and
 * segment headers): AT+GMR shows its version once it runs. */
static void test_userota_https(void **state)
{
	static const uint8_t magic[4] = {0x32, 0x54, 0xcd, 0xab};
	memcpy(image + ESPAT_OTA_DESC_OFF, magic, 4);
	memset(image + ESPAT_OTA_DESC_VERSION_OFF, 0, 32);
	memcpy(image + ESPAT_OTA_DESC_VERSION_OFF, "v3.5.1.0", 8);
	updated(*state, SURL);
	cmd(*state, "AT+GMR\r\n", GMR("3.5.1.0"));
}

static void test_userota_fail(void **state)
{
	struct fx *f = *state;
	/* not found, no magic, no Content-Length: ERROR, and nothing changes */
	assert_non_null(espat_http_mem_route(&f->tp.http, URL, 404, "no", 2));
	userota(f, URL);
	advance(f, 25 * STEP);
	expect(f, EXEC_ERR);
	image[0] = 0x00;
	assert_non_null(espat_http_mem_route(&f->tp.http, URL, 200, image, sizeof(image)));
	userota(f, URL);
	advance(f, 25 * STEP);
	expect(f, EXEC_ERR);
	image[0] = 0xE9;
	assert_int_equal(boot_slot(f), 0);
	assert_null(espat_files_mem_get(&f->tp.files, "ota_1.bin"));
	/* a URL the HTTP client cannot fetch: ERROR at once */
	userota_then(f, "ftp://x/y", EXEC_ERR);
	cmd(f, "AT+USEROTA=0\r\n", ERR("0x01070000"));
	cmd(f, "AT+USEROTA=8193\r\n", ERR("0x01070000"));
	cmd(f, "AT+USEROTA?\r\n", ERR("0x010c0000"));
	/* a server that never answers: busy meanwhile, ERROR after 3 minutes */
	espat_http_mem_route(&f->tp.http, URL, 200, image, sizeof(image))->fail =
	    ESPAT_HTTP_MEM_SILENT;
	userota(f, URL);
	cmd(f, "AT\r\n", "ERR CODE:0x010b0000\r\nbusy p...\r\n");
	advance(f, 3 * 60 * 1000);
	expect(f, EXEC_ERR);
	cmd(f, "AT\r\n", OK);
}

static void test_userota_offline(void **state)
{
	userota_then(*state, URL, EXEC_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_userram, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_userdocs, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wake_gpio, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wake_uart_timeout_awake, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wake_bad, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_userota_http, setup_online, teardown),
	    cmocka_unit_test_setup_teardown(test_userota_https, setup_online, teardown),
	    cmocka_unit_test_setup_teardown(test_userota_fail, setup_online, teardown),
	    cmocka_unit_test_setup_teardown(test_userota_offline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
