/* AT+CIUPDATE, AT+CIPFWVER and AT+SYSROLLBACK against scripted update
 * servers on the memory network (testport/http_mem.h: the module's own
 * HTTP client, connection service and DNS are under test), over a module
 * that joined the default world's "espat" AP; every expectation is the
 * exact byte output. A name takes STEP to resolve, a connect STEP, a
 * server STEP to answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/basic_internal.h"
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

#define SERVER ESPAT_OTA_SERVER
#define SSL_SERVER ESPAT_OTA_SSL_SERVER
#define ASK "/v1/device/rom/?is_format_simple=true"
#define FETCH(v, name) "/v1/device/rom/?action=download_rom&version=" v "&filename=" name ".bin"
#define LIST "/v1/device/rom"
#define TOKEN "Authorization: token dbe740016d7d88ceff35f4318d57b8a81dc75db0\n"
#define SSL_TOKEN "Authorization: token fae8808e653d27daab2e64a8b23f9ed8ecacd66c\n"
#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"
#define EXEC_ERR ERR("0x010a0000")
#define STEP ESPAT_HTTP_MEM_STEP_MS

#define GMR(ver)                                                                                   \
	"AT version:" ver "(3b13d04 - ESP32C3 - May  8 2024 08:21:54)\r\n"                         \
	"SDK version:v5.0.6-dirty\r\n"                                                             \
	"compile time(be332568):May  8 2024 08:51:33\r\n"                                          \
	"Bin version:v" ver "(MINI-1)\r\n\r\nOK\r\n"

#define IMAGE_LEN 3000u
static uint8_t image[IMAGE_LEN];

static const char version_answer[] = "{\"rom_version\": \"v3.4.0.0\", \"status\": 200}";

static void route(struct fx *f, const char *url, int status, const void *body, size_t len)
{
	assert_non_null(espat_http_mem_route(&f->tp.http, url, status, body, len));
}

static void route_str(struct fx *f, const char *url, int status, const char *body)
{
	route(f, url, status, body, strlen(body));
}

/* The usual server: version v3.4.0.0 and its image. */
static void serve(struct fx *f)
{
	route_str(f, SERVER ASK, 200, version_answer);
	route(f, SERVER FETCH("v3.4.0.0", "ota"), 200, image, sizeof(image));
}

static void join(struct fx *f)
{
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n", "");
	advance(f, 10000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
}

/* SYSLOG on (so failures show their code), joined. */
static int setup(void **state)
{
	fx_setup(state);
	struct fx *f = *state;
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	join(f);
	f->tp.net.dns_ms = STEP;
	f->tp.net.connect_ms = STEP;
	image[0] = 0xE9;
	for (size_t i = 1; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7u);
	return 0;
}

static int setup_offline(void **state)
{
	fx_setup(state);
	cmd(*state, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	assert_int_equal(espat_http_mem_live(&f->tp.http), 0);
	return fx_teardown(state);
}

/* Waits for the restart an update (or a rollback) makes; echo is back on. */
static void restarted(struct fx *f)
{
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
}

#define STATES_1234 "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n+CIPUPDATE:3\r\n+CIPUPDATE:4\r\n"

/* A blocking update of the app ends with states, OK and a restart into
 * the new firmware (the whole exchange takes ~12 steps, the restart
 * ESPAT_RESTART_MS after the OK). */
static void updated(struct fx *f, const char *states)
{
	char want[160];
	snprintf(want, sizeof(want), "%s\r\nOK\r\n", states);
	advance(f, 25 * STEP);
	expect(f, want);
	restarted(f);
}

/* The blocking update of the latest version, step by step. */
static void test_blocking(void **state)
{
	struct fx *f = *state;
	serve(f);
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:0\r\n\r\nOK\r\n");
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, STEP);
	expect(f, "+CIPUPDATE:1\r\n");
	advance(f, STEP);
	expect(f, "+CIPUPDATE:2\r\n");
	cmd(f, "AT\r\n", "ERR CODE:0x010b0000\r\nbusy p...\r\n"); /* the command holds the port */
	assert_string_equal(espat_http_mem_last(&f->tp.http)->headers, TOKEN);
	advance(f, 3 * STEP);
	expect(f, "+CIPUPDATE:3\r\n");
	assert_string_equal(espat_http_mem_last(&f->tp.http)->url, SERVER FETCH("v3.4.0.0", "ota"));
	assert_string_equal(espat_http_mem_last(&f->tp.http)->headers, TOKEN);
	advance(f, 10 * STEP);
	expect(f, "+CIPUPDATE:4\r\n\r\nOK\r\n");
	/* the image is in the other slot's file; the module restarts into it */
	const struct espat_files_mem_file *img = espat_files_mem_get(&f->tp.files, "ota_1.bin");
	assert_non_null(img);
	assert_int_equal(img->len, sizeof(image));
	assert_memory_equal(img->data, image, sizeof(image));
	restarted(f);
	cmd(f, "AT+GMR\r\n", GMR("3.4.0.0"));
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:0\r\n\r\nOK\r\n");
	/* a power cut keeps it */
	fx_power_cycle(f);
	cmd(f, "AT+GMR\r\n", GMR("3.4.0.0"));
}

static void test_nonblocking(void **state)
{
	struct fx *f = *state;
	serve(f);
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", "\r\nOK\r\n");
	cmd(f, "AT\r\n", "\r\nOK\r\n"); /* the port is free meanwhile */
	advance(f, 2 * STEP);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n");
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", EXEC_ERR); /* one update at a time */
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:2\r\n\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:3\r\n+CIPUPDATE:4\r\n");
	/* no restart of its own: the old firmware runs until the host restarts */
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:4\r\n\r\nOK\r\n");
	cmd(f, "AT+RST\r\n", "\r\nOK\r\n");
	restarted(f);
	cmd(f, "AT+GMR\r\n", GMR("3.4.0.0"));
}

/* With <version> there is no version query: states 2 and 3 never come. */
static void test_version_given(void **state)
{
	struct fx *f = *state;
	serve(f);
	cmd(f, "AT+CIUPDATE=0,\"v3.4.0.0\"\r\n", "");
	updated(f, "+CIPUPDATE:1\r\n+CIPUPDATE:4\r\n");
	assert_int_equal(f->tp.http.requests, 1);
	cmd(f, "AT+GMR\r\n", GMR("3.4.0.0"));
	/* non-blocking, "ota" named */
	join(f);
	route(f, SERVER FETCH("v3.5.0.0", "ota"), 200, image, sizeof(image));
	cmd(f, "AT+CIUPDATE=0,\"v3.5.0.0\",\"ota\",1\r\n", "\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:4\r\n");
	/* it went to ota_0 (ota_1 runs) */
	assert_int_equal(espat_files_mem_get(&f->tp.files, "ota_0.bin")->len, sizeof(image));
}

/* TLS mode: the TLS server and its token. */
static void test_tls_mode(void **state)
{
	struct fx *f = *state;
	route_str(f, SSL_SERVER ASK, 200, version_answer);
	route(f, SSL_SERVER FETCH("v3.4.0.0", "ota"), 200, image, sizeof(image));
	cmd(f, "AT+CIUPDATE=1\r\n", "");
	updated(f, STATES_1234);
	assert_string_equal(espat_http_mem_last(&f->tp.http)->headers, SSL_TOKEN);
	/* over TLS that checks nothing (esp-at gives its OTA client no CA),
	 * with the server's name as SNI */
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	assert_true(c->tls);
	assert_false(c->tls_verify);
	assert_false(c->tls_cert);
	assert_string_equal(c->tls_sni, "iot.espressif.cn");
}

/* The update goes through the module's network view: a DNS server that
 * fails, a server that never answers the SYN. */
static void test_network_faults(void **state)
{
	struct fx *f = *state;
	serve(f);
	cmd(f, "AT+CIPDNS=1,\"10.1.1.1\"\r\n", "\r\nOK\r\n");
	assert_int_equal(espat_net_mem_dns_fail(&f->tp.net, "iot.espressif.cn", ESPAT_NET_EDNS), 0);
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, EXEC_ERR);
	assert_true(f->tp.net.dns_last.nservers == 1); /* asked the server AT+CIPDNS set */
	assert_int_equal(f->tp.http.requests, 0);
	/* a literal address that never answers: the connect times out */
	struct espat_world_err err;
	assert_int_equal(
	    espat_world_set(&f->tp.world, NULL, "ota_server", "http://10.2.2.2:8070", &err), 0);
	assert_int_equal(espat_net_mem_blackhole(&f->tp.net, espat_ip4(10, 2, 2, 2)), 0);
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", "\r\nOK\r\n");
	advance(f, STEP);
	expect(f, "+CIPUPDATE:1\r\n");
	advance(f, ESPAT_CONN_TIMEOUT_MS);
	expect(f, "+CIPUPDATE:-1\r\n");
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
}

static void test_offline(void **state)
{
	struct fx *f = *state;
	serve(f);
	cmd(f, "AT+CIUPDATE\r\n", EXEC_ERR);
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:-1\r\n\r\nOK\r\n");
	cmd(f, "AT+CIUPDATE=1,,,1\r\n", "\r\nOK\r\n");
	advance(f, 1);
	expect(f, "+CIPUPDATE:-1\r\n");
	cmd(f, "AT+CIPFWVER?\r\n", EXEC_ERR);
	assert_int_equal(f->tp.http.requests, 0);
}

static void test_server_down(void **state)
{
	struct fx *f = *state;
	serve(f);
	espat_http_mem_refuse(&f->tp.http, SERVER ASK);
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n" EXEC_ERR);
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", "\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:-1\r\n");
	/* a server whose name does not resolve: no state at all */
	struct espat_world_err err;
	assert_int_equal(
	    espat_world_set(&f->tp.world, NULL, "ota_server", "http://nowhere.invalid", &err), 0);
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, EXEC_ERR);
	assert_string_equal(f->tp.net.dns_last.name, "nowhere.invalid");
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:-1\r\n\r\nOK\r\n");
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
}

static void test_not_found(void **state)
{
	struct fx *f = *state;
	serve(f);
	/* a version the server does not have */
	cmd(f, "AT+CIUPDATE=0,\"v9.9.9.9\"\r\n", "");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n" EXEC_ERR);
	/* no version service */
	route_str(f, SERVER ASK, 404, "{\"status\": 404}");
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n" EXEC_ERR);
	assert_null(espat_files_mem_get(&f->tp.files, "ota_1.bin"));
}

static void test_bad_metadata(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
	    "{\"status\": 200}",
	    "{\"rom_version\": 340, \"status\": 200}",
	    "{\"rom_version\": \"\", \"status\": 200}",
	    "{\"rom_version\": \"v3.4, beta\", \"status\": 200}",
	    "{\"rom_version\": \"v3.4.0.0",
	    "<html>Service Unavailable</html>",
	};
	serve(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		route_str(f, SERVER ASK, 200, bad[i]);
		cmd(f, "AT+CIUPDATE\r\n", "");
		advance(f, 1000);
		expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n" EXEC_ERR);
	}
	/* an answer larger than the module keeps */
	size_t big = ESPAT_OTA_META_MAX + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, ' ', big);
	memcpy(text, version_answer, strlen(version_answer));
	route(f, SERVER ASK, 200, text, big);
	free(text);
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n" EXEC_ERR);
	/* blanks around the colon are fine */
	route_str(f, SERVER ASK, 200, "{ \"status\" : 200 , \"rom_version\" :\n\"v3.4.0.0\" }");
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", "\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n+CIPUPDATE:3\r\n+CIPUPDATE:4\r\n");
}

/* Images the module refuses, each after +CIPUPDATE:3. */
static void test_bad_images(void **state)
{
	struct fx *f = *state;
	const char *url = SERVER FETCH("v3.4.0.0", "ota");
	const char *fail = "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n+CIPUPDATE:3\r\n" EXEC_ERR;
	serve(f);

	size_t big = ESPAT_OTA_SLOT_SIZE + 1;
	uint8_t *huge = calloc(1, big);
	assert_non_null(huge);
	huge[0] = 0xE9;
	route(f, url, 200, huge, big); /* larger than a slot */
	free(huge);
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, fail);

	route(f, url, 200, "", 0); /* empty */
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, fail);

	static const uint8_t not_app[] = {0x7F, 'E', 'L', 'F', 1, 2, 3};
	route(f, url, 200, not_app, sizeof(not_app)); /* no ESP image magic */
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, fail);

	espat_http_mem_route(&f->tp.http, url, 200, image, sizeof(image))->no_length = true;
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, fail);

	espat_http_mem_route(&f->tp.http, url, 200, image, sizeof(image))->fail =
	    ESPAT_HTTP_MEM_CUT; /* the connection breaks half-way */
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 1000);
	expect(f, fail);

	assert_null(espat_files_mem_get(&f->tp.files, "ota_1.bin"));
	cmd(f, "AT+SYSROLLBACK\r\n", EXEC_ERR); /* nothing in the other slot */
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
}

/* A server that connects and never answers: the 3-minute limit. */
static void test_timeout(void **state)
{
	struct fx *f = *state;
	serve(f);
	espat_http_mem_route(&f->tp.http, SERVER ASK, 200, "", 0)->fail = ESPAT_HTTP_MEM_SILENT;
	cmd(f, "AT+CIUPDATE\r\n", "");
	advance(f, 2 * STEP);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n");
	advance(f, ESPAT_OTA_TIMEOUT_MS - 2 * STEP - 1);
	expect(f, "");
	advance(f, 1);
	expect(f, EXEC_ERR);
}

/* Restart into the new firmware, roll back, roll forward. */
static void test_rollback(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSROLLBACK\r\n", EXEC_ERR); /* no update yet */
	serve(f);
	cmd(f, "AT+CIUPDATE\r\n", "");
	updated(f, STATES_1234);
	cmd(f, "AT+GMR\r\n", GMR("3.4.0.0"));
	cmd(f, "AT+SYSROLLBACK\r\n", "\r\nOK\r\n");
	restarted(f);
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
	cmd(f, "AT+SYSROLLBACK\r\n", "\r\nOK\r\n");
	restarted(f);
	cmd(f, "AT+GMR\r\n", GMR("3.4.0.0"));
	struct espat_ota_state st;
	espat_ota_load(&f->m, &st);
	assert_int_equal(st.running, 1);
	assert_string_equal(st.version[0], "3.3.0.0");
	assert_string_equal(st.version[1], "3.4.0.0");
	/* the next update replaces the factory image in ota_0 */
	join(f);
	route_str(f, SERVER ASK, 200, "{\"rom_version\": \"v3.5.0.0\", \"status\": 200}");
	route(f, SERVER FETCH("v3.5.0.0", "ota"), 200, image, sizeof(image));
	cmd(f, "AT+CIUPDATE\r\n", "");
	updated(f, STATES_1234);
	cmd(f, "AT+GMR\r\n", GMR("3.5.0.0"));
	cmd(f, "AT+SYSROLLBACK\r\n", "\r\nOK\r\n");
	restarted(f);
	cmd(f, "AT+GMR\r\n", GMR("3.4.0.0"));
}

/* A second update before restarting would overwrite the running slot:
 * refused (esp_ota_begin's partition conflict); a rollback first is fine. */
static void test_second_update(void **state)
{
	struct fx *f = *state;
	serve(f);
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", "\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n+CIPUPDATE:3\r\n+CIPUPDATE:4\r\n");
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", "\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n+CIPUPDATE:3\r\n+CIPUPDATE:-1\r\n");
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
}

/* <firmware name> other than "ota": a user partition, erased first. */
static void test_partitions(void **state)
{
	struct fx *f = *state;
	static const uint8_t ca[] = {0xF1, 0xF1, 'c', 'e', 'r', 't'};
	route(f, SSL_SERVER FETCH("v2.2.0.0", "mqtt_ca"), 200, ca, sizeof(ca));
	cmd(f, "AT+CIUPDATE=1,\"v2.2.0.0\",\"mqtt_ca\"\r\n", "");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n" EXEC_ERR); /* no such partition on an ESP32-C3 */
	/* fatfs exists but has no image signature: erased, then refused */
	f->tp.flash[1][0] = 0x12;
	route(f, SSL_SERVER FETCH("v2.2.0.0", "fatfs"), 200, ca, sizeof(ca));
	cmd(f, "AT+CIUPDATE=1,\"v2.2.0.0\",\"fatfs\",1\r\n", "\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:-1\r\n");
	assert_int_equal(f->tp.flash[1][0], 0xFF);
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
}

static void test_args(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CIUPDATE=2\r\n", ERR("0x01070000"));
	cmd(f, "AT+CIUPDATE=0,\"v3.4.0.0\",\"ota\",2\r\n", ERR("0x01070003"));
	cmd(f, "AT+CIUPDATE=0,\"v3.4,0\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+CIUPDATE=0,1\r\n", ERR("0x01050001"));
	cmd(f, "AT+CIUPDATE=0,,,1,1\r\n", ERR("0x01060405"));
	cmd(f, "AT+CIUPDATE=?\r\n", ERR("0x010c0000"));
	cmd(f, "AT+CIPFWVER\r\n", ERR("0x010c0000"));
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:0\r\n\r\nOK\r\n");
	assert_int_equal(f->tp.http.requests, 0);
}

static void test_cipfwver(void **state)
{
	struct fx *f = *state;
	route_str(f, SSL_SERVER LIST, 200,
	          "{\"status\": 200, \"productbatch\": {\"name\": \"MINI-1\"}, \"roms\": ["
	          "{\"id\": 1, \"version\": \"v3.3.0.0\", \"rom_version\": \"x\", \"filename\": "
	          "\"ota.bin\"}, "
	          "{\"id\": 2, \"version\": \"v3.4.0.0\", \"filename\": \"ota.bin\"}]}");
	cmd(f, "AT+CIPFWVER?\r\n", "");
	advance(f, 1000);
	expect(f, "+CIPFWVER:\"v3.3.0.0\"\r\n+CIPFWVER:\"v3.4.0.0\"\r\n\r\nOK\r\n");
	assert_string_equal(espat_http_mem_last(&f->tp.http)->headers, SSL_TOKEN);
	route_str(f, SSL_SERVER LIST, 200, "{\"status\": 200, \"roms\": []}");
	cmd(f, "AT+CIPFWVER?\r\n", "");
	advance(f, 1000);
	expect(f, "\r\nOK\r\n");
	route_str(f, SSL_SERVER LIST, 403, "{\"status\": 403}");
	cmd(f, "AT+CIPFWVER?\r\n", "");
	advance(f, 1000);
	expect(f, EXEC_ERR);
	espat_http_mem_route(&f->tp.http, SSL_SERVER LIST, 200, "", 0)->fail =
	    ESPAT_HTTP_MEM_SILENT;
	cmd(f, "AT+CIPFWVER?\r\n", "");
	advance(f, ESPAT_FWVER_TIMEOUT_MS + 2 * STEP);
	expect(f, EXEC_ERR);
}

/* A restart in the middle of a non-blocking update ends it. */
static void test_restart_midway(void **state)
{
	struct fx *f = *state;
	serve(f);
	espat_http_mem_route(&f->tp.http, SERVER FETCH("v3.4.0.0", "ota"), 200, image,
	                     sizeof(image))
	    ->fail = ESPAT_HTTP_MEM_SILENT;
	cmd(f, "AT+CIUPDATE=0,,,1\r\n", "\r\nOK\r\n");
	advance(f, 6 * STEP);
	expect(f, "+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n+CIPUPDATE:3\r\n");
	cmd(f, "AT+RST\r\n", "\r\nOK\r\n");
	restarted(f);
	assert_int_equal(espat_http_mem_live(&f->tp.http), 0);
	cmd(f, "AT+GMR\r\n", GMR("3.3.0.0"));
	cmd(f, "AT+CIUPDATE?\r\n", "+CIUPDATE:0\r\n\r\nOK\r\n");
}

/* The world's ota_server / ota_ssl_server keys. */
static void test_world_keys(void **state)
{
	struct espat_world w;
	struct espat_world_err err = {0};
	espat_world_init(&w);
	assert_string_equal(w.ota_server[0], ESPAT_OTA_SERVER);
	assert_string_equal(w.ota_server[1], ESPAT_OTA_SSL_SERVER);
	static const char text[] = "[world]\nota_server = \"http://127.0.0.1:8070/\"\n"
	                           "ota_ssl_server = https://ota.example:8443\n";
	assert_int_equal(espat_world_parse(&w, text, sizeof(text) - 1, &err), 0);
	assert_string_equal(w.ota_server[0], "http://127.0.0.1:8070");
	assert_string_equal(w.ota_server[1], "https://ota.example:8443");
	static const char *const bad[] = {
	    "ftp://host",     "http://", "http://host/path", "http://host?x", "http://a b",
	    "127.0.0.1:8070", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(espat_world_set(&w, NULL, "ota_server", bad[i], &err), -1);
		assert_non_null(strstr(err.msg, "ota_server must be"));
	}
	assert_string_equal(w.ota_server[0], "http://127.0.0.1:8070");
	struct espat_radio r = espat_world_radio(&w);
	assert_string_equal(r.ota_server(r.user, false), "http://127.0.0.1:8070");
	assert_string_equal(r.ota_server(r.user, true), "https://ota.example:8443");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_blocking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nonblocking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version_given, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_network_faults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offline, setup_offline, teardown),
	    cmocka_unit_test_setup_teardown(test_server_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_metadata, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_images, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partitions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cipfwver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_midway, setup, teardown),
	    cmocka_unit_test(test_world_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
