/* The web server (src/cmd/web*.c): AT+WEBSERVER, and its HTTP server on the
 * test port's memory network, where the test plays the browser
 * (espat_net_mem_connect) and checks the exact bytes on the wire and on the
 * UART: the page, the scan list, provisioning with +WEBSERVERRSP:1/2, the
 * OTA upload with +WEBSERVERRSP:3/4/5, bad requests, the connection limit,
 * the idle timeout, and the captive portal's DNS answer. docs/COMPAT.md
 * #180-199. */
#include "support.h"

#include "cmd/web.h"
#include "module_fixture.h"
#include "testport/net_mem.h"

#define PORT 8080
#define HDR "Cache-Control: no-store\r\nConnection: close\r\n"

static struct espat_net_mem *NETM(struct fx *f)
{
	return &f->tp.net;
}

static void settle(struct fx *f)
{
	espat_tp_settle(&f->tp, &f->m);
}

static struct espat_mem_conn *browser(struct fx *f)
{
	static uint16_t next = 40000;
	struct espat_mem_conn *c = espat_net_mem_connect(
	    NETM(f), PORT, (struct espat_endpoint){espat_mem_ip("192.168.4.2"), next++});
	assert_non_null(c);
	return c;
}

/* What the browser read, as a NUL-terminated string (static buffer). */
static const char *got(struct espat_mem_conn *c)
{
	static char buf[16384];
	size_t n = espat_mem_conn_take(c, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	return buf;
}

/* One whole request on a new connection; returns the whole response. */
static const char *req(struct fx *f, const char *text)
{
	struct espat_mem_conn *c = browser(f);
	assert_int_equal(espat_mem_conn_send(c, text, strlen(text)), 0);
	settle(f);
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	return got(c);
}

static void want(const char *have, const char *exp)
{
	if (strcmp(have, exp) != 0) {
		print_error("want: %s\ngot:  %s\n", exp, have);
		fail();
	}
}

static void json_resp(struct fx *f, const char *request, int status, const char *reason,
                      const char *body)
{
	char exp[1024];
	snprintf(exp, sizeof(exp),
	         "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n" HDR
	         "Content-Length: %zu\r\n\r\n%s",
	         status, reason, strlen(body), body);
	want(req(f, request), exp);
}

static int setup(void **state)
{
	fx_setup(state);
	struct fx *f = *state;
	cmd(f, "AT+CWMODE=3\r\n", "\r\nOK\r\n");
	cmd(f, "AT+WEBSERVER=1,8080,25\r\n", "\r\nOK\r\n");
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+WEBSERVER=0\r\n", "\r\nOK\r\n");
	assert_int_equal(espat_tp_out(&f->tp)[0], '\0');
	return fx_teardown(state);
}

static void test_command(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+WEBSERVER=1,8081,25\r\n", "\r\nERROR\r\n"); /* running already */
	cmd(f, "AT+WEBSERVER=0,80\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+WEBSERVER=0\r\n", "\r\nOK\r\n");
	assert_null(espat_net_mem_connect(NETM(f), PORT,
	                                  (struct espat_endpoint){espat_mem_ip("192.168.4.2"), 1}));
	cmd(f, "AT+WEBSERVER=0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+WEBSERVER=1,80,20\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+WEBSERVER=1,80,61\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+WEBSERVER=1,80\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+WEBSERVER=1,0,30\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+WEBSERVER=2\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+WEBSERVER=1,8080,60\r\n", "\r\nOK\r\n");
}

static void test_page(void **state)
{
	struct fx *f = *state;
	char exp[16384];
	snprintf(exp, sizeof(exp),
	         "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" HDR
	         "Content-Length: %zu\r\n\r\n%s",
	         espat_web_page_len, espat_web_page);
	want(req(f, "GET / HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n"), exp);
	/* byte by byte, as a slow phone sends it */
	struct espat_mem_conn *c = browser(f);
	espat_mem_conn_set_chunk(c, 1);
	const char *r = "GET /index.html?x=1 HTTP/1.0\r\n\r\n";
	espat_mem_conn_send(c, r, strlen(r));
	settle(f);
	want(got(c), exp);
	expect(f, "");
}

static void test_scan_list(void **state)
{
	struct fx *f = *state;
	const char *r = req(f, "GET /getaprecord HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r, "\r\n\r\n{\"aps\":[{\"ssid\":\""));
	assert_non_null(strstr(r, "{\"ssid\":\"HomeNet-2G\",\"rssi\":"));
	assert_non_null(strstr(r, "{\"ssid\":\"Cafe Free WiFi\",\"rssi\":"));
	assert_non_null(strstr(r, "]}"));
	/* the station off: no scan, an empty list */
	cmd(f, "AT+CWMODE=2\r\n", "\r\nOK\r\n");
	json_resp(f, "GET /getaprecord HTTP/1.1\r\n\r\n", 200, "OK", "{\"aps\":[]}");
}

#define SETSTA(body)                                                                               \
	"POST /setstainfo HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"         \
	"Content-Length: " #body "\r\n\r\n"

static const char *setsta(struct fx *f, const char *body)
{
	static char text[2048];
	snprintf(text, sizeof(text),
	         "POST /setstainfo HTTP/1.1\r\nContent-Type: "
	         "application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
	         strlen(body), body);
	return text;
}

static void test_provision(void **state)
{
	struct fx *f = *state;
	json_resp(f, "GET /getresult HTTP/1.1\r\n\r\n", 200, "OK", "{\"state\":\"idle\"}");
	json_resp(f, setsta(f, "ssid=HomeNet-2G&password=homepass123"), 200, "OK",
	          "{\"result\":\"ok\"}");
	expect(f, "+WEBSERVERRSP:1\r\n");
	json_resp(f, "POST /getresult HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 200, "OK",
	          "{\"state\":\"connecting\"}");
	advance(f, 10000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
	json_resp(f, "POST /getresult HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 200, "OK",
	          "{\"state\":\"connected\"}");
	expect(f, "+WEBSERVERRSP:2\r\n");
	/* once only */
	json_resp(f, "GET /getresult HTTP/1.1\r\n\r\n", 200, "OK", "{\"state\":\"connected\"}");
	expect(f, "");
	/* saved as AT+CWJAP's */
	send(f, "AT+CWJAP?\r\n");
	assert_non_null(strstr(espat_tp_out(&f->tp), "+CWJAP:\"HomeNet-2G\""));
	espat_tp_clear(&f->tp);
}

static void test_provision_fails(void **state)
{
	struct fx *f = *state;
	/* URL-encoded bytes, a wrong password: only +WEBSERVERRSP:1 */
	json_resp(f, setsta(f, "ssid=Home%4eet-2G&password=wrong+pass"), 200, "OK",
	          "{\"result\":\"ok\"}");
	expect(f, "+WEBSERVERRSP:1\r\n");
	advance(f, 20000);
	espat_tp_clear(&f->tp); /* the station's own messages */
	json_resp(f, "GET /getresult HTTP/1.1\r\n\r\n", 200, "OK", "{\"state\":\"failed\"}");
	expect(f, "");
	/* bad fields: answered 400, nothing printed, nothing joined */
	const char *bad[] = {
	    "password=homepass123",                   /* no ssid */
	    "ssid=&password=homepass123",             /* empty */
	    "ssid=123456789012345678901234567890123", /* 33 bytes */
	    "ssid=a&password=short",                  /* < 8 */
	    "ssid=a%zz&password=homepass123",         /* bad escape */
	    "ssid=a&password=%4",                     /* cut escape */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		json_resp(f, setsta(f, bad[i]), 400, "Bad Request",
		          "{\"error\":\"bad ssid or password\"}");
	char pwd[200] = "ssid=a&password=";
	memset(pwd + strlen(pwd), 'p', 65);
	json_resp(f, setsta(f, pwd), 400, "Bad Request", "{\"error\":\"bad ssid or password\"}");
	expect(f, "");
	/* the station off */
	cmd(f, "AT+CWMODE=2\r\n", "\r\nOK\r\n");
	json_resp(f, setsta(f, "ssid=HomeNet-2G&password=homepass123"), 503, "Service Unavailable",
	          "{\"error\":\"the station is off\"}");
	expect(f, "");
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	want(req(f, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
	     "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n" HDR
	     "Allow: GET\r\nContent-Length: 30\r\n\r\n{\"error\":\"Method Not Allowed\"}");
	want(req(f, "GET /setstainfo HTTP/1.1\r\n\r\n"),
	     "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n" HDR
	     "Allow: POST\r\nContent-Length: 30\r\n\r\n{\"error\":\"Method Not Allowed\"}");
	want(req(f, "DELETE /getresult HTTP/1.1\r\n\r\n"),
	     "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n" HDR
	     "Allow: GET, POST\r\nContent-Length: 30\r\n\r\n{\"error\":\"Method Not Allowed\"}");
	json_resp(f, "GET /nothing HTTP/1.1\r\n\r\n", 404, "Not Found",
	          "{\"error\":\"Not Found\"}");
	json_resp(f, "GARBAGE\r\n\r\n", 400, "Bad Request", "{\"error\":\"Bad Request\"}");
	json_resp(f, "GET / HTTP/2.0\r\n\r\n", 400, "Bad Request", "{\"error\":\"Bad Request\"}");
	json_resp(f, SETSTA(513), 413, "Content Too Large", "{\"error\":\"Content Too Large\"}");
	static char chunked[1024] =
	    "POST /setstainfo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "201\r\n";
	memset(chunked + strlen(chunked), 'a', 513);
	strcat(chunked, "\r\n0\r\n\r\n");
	json_resp(f, chunked, 413, "Content Too Large", "{\"error\":\"Content Too Large\"}");
	json_resp(f, "POST /setstainfo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
	          "Bad Request", "{\"error\":\"Bad Request\"}");
	/* a long target, a long header line */
	static char big[3000];
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 2100);
	strcpy(big + 2105, " HTTP/1.1\r\n\r\n");
	json_resp(f, big, 414, "URI Too Long", "{\"error\":\"URI Too Long\"}");
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'b', 2100);
	strcpy(big + 2119, "\r\n\r\n");
	json_resp(f, big, 431, "Request Header Fields Too Large",
	          "{\"error\":\"Request Header Fields Too Large\"}");
	/* captive-portal probes go to the page */
	want(req(f, "GET /generate_204 HTTP/1.1\r\n\r\n"),
	     "HTTP/1.1 302 Found\r\nContent-Type: text/plain\r\n" HDR
	     "Location: http://192.168.4.1/\r\nContent-Length: 0\r\n\r\n");
	expect(f, "");
}

static void test_half_sent_and_idle(void **state)
{
	struct fx *f = *state;
	struct espat_mem_conn *half = browser(f);
	espat_mem_conn_send(half, "GET / HT", 8);
	struct espat_mem_conn *idle = browser(f);
	settle(f);
	advance(f, 24000);
	assert_int_equal(half->closed_by_module, ESPAT_MEM_OPEN);
	advance(f, 1000);
	want(got(half), "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n" HDR
	                "Content-Length: 27\r\n\r\n{\"error\":\"Request Timeout\"}");
	assert_int_equal(half->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	want(got(idle), "");
	assert_int_equal(idle->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	/* a peer that leaves mid-request: dropped, the server goes on */
	struct espat_mem_conn *gone = browser(f);
	espat_mem_conn_send(gone, SETSTA(40) "ssid=x", strlen(SETSTA(40)) + 6);
	espat_mem_conn_close(gone);
	settle(f);
	assert_int_equal(gone->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	json_resp(f, "GET /getresult HTTP/1.1\r\n\r\n", 200, "OK", "{\"state\":\"idle\"}");
	expect(f, "");
}

static void test_connection_limit(void **state)
{
	struct fx *f = *state;
	struct espat_mem_conn *c[ESPAT_WEB_CONNS + 2];
	for (size_t i = 0; i < ESPAT_WEB_CONNS + 2; i++)
		c[i] = browser(f);
	settle(f);
	for (size_t i = ESPAT_WEB_CONNS; i < ESPAT_WEB_CONNS + 2; i++) {
		const char *r = got(c[i]);
		assert_true(strncmp(r, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
		const char *body = strstr(r, "\r\n\r\n") + 4;
		assert_int_equal(strlen(body), 32);
		assert_int_equal(c[i]->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	}
	for (size_t i = 0; i < ESPAT_WEB_CONNS; i++) {
		assert_int_equal(c[i]->closed_by_module, ESPAT_MEM_OPEN);
		espat_mem_conn_send(c[i], "GET /getresult HTTP/1.1\r\n\r\n", 27);
	}
	settle(f);
	for (size_t i = 0; i < ESPAT_WEB_CONNS; i++)
		assert_non_null(strstr(got(c[i]), "{\"state\":\"idle\"}"));
	json_resp(f, "GET /getresult HTTP/1.1\r\n\r\n", 200, "OK", "{\"state\":\"idle\"}");
}

static const char *ota_req(const uint8_t *img, size_t n, size_t declared)
{
	static char text[8192];
	int h = snprintf(text, sizeof(text),
	                 "POST /setotadata HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
	                 "Content-Length: %zu\r\n\r\n",
	                 declared);
	memcpy(text + h, img, n);
	text[(size_t)h + n] = '\0';
	return text;
}

static void test_ota(void **state)
{
	struct fx *f = *state;
	json_resp(f, "GET /getotainfo HTTP/1.1\r\n\r\n", 200, "OK",
	          "{\"app_version\":\"3.3.0.0\",\"partitions\":[\"ota\"]}");
	uint8_t img[1000];
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)('A' + i % 26);
	img[0] = 0xE9;
	/* a wrong image: fails at its first byte */
	img[0] = 0x01;
	json_resp(f, ota_req(img, 100, 100), 400, "Bad Request", "{\"result\":\"fail\"}");
	expect(f, "+WEBSERVERRSP:3\r\n+WEBSERVERRSP:5\r\n");
	assert_null(espat_files_mem_get(&f->tp.files, "ota_1.bin"));
	img[0] = 0xE9;
	/* no length, too long */
	json_resp(f, "POST /setotadata HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	          411, "Length Required", "{\"error\":\"Length Required\"}");
	json_resp(f, ota_req(img, 0, ESPAT_OTA_SLOT_SIZE + 1), 413, "Content Too Large",
	          "{\"error\":\"Content Too Large\"}");
	expect(f, "+WEBSERVERRSP:3\r\n+WEBSERVERRSP:5\r\n");
	/* cut short: the browser leaves */
	struct espat_mem_conn *c = browser(f);
	const char *r = ota_req(img, 500, 1000);
	espat_mem_conn_send(c, r, strlen(r));
	espat_mem_conn_close(c);
	settle(f);
	expect(f, "+WEBSERVERRSP:3\r\n+WEBSERVERRSP:5\r\n");
	assert_null(espat_files_mem_get(&f->tp.files, "ota_1.bin"));
	/* one upload at a time */
	c = browser(f);
	r = ota_req(img, 10, sizeof(img));
	espat_mem_conn_send(c, r, strlen(r));
	settle(f);
	expect(f, "+WEBSERVERRSP:3\r\n");
	want(req(f, ota_req(img, 0, 10)),
	     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n" HDR
	     "Retry-After: 5\r\nContent-Length: 31\r\n\r\n{\"error\":\"Service Unavailable\"}");
	/* disabling the server ends the upload */
	cmd(f, "AT+WEBSERVER=0\r\n", "+WEBSERVERRSP:5\r\n\r\nOK\r\n");
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	assert_null(espat_files_mem_get(&f->tp.files, "ota_1.bin"));
	cmd(f, "AT+WEBSERVER=1,8080,25\r\n", "\r\nOK\r\n");
	/* the whole image, in pieces */
	c = browser(f);
	espat_mem_conn_set_chunk(c, 97);
	r = ota_req(img, sizeof(img), sizeof(img));
	size_t hl = strlen(r); /* the image has no NUL: the head and all of it */
	espat_mem_conn_send(c, r, hl);
	settle(f);
	want(got(c), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" HDR
	             "Content-Length: 15\r\n\r\n{\"result\":\"ok\"}");
	expect(f, "+WEBSERVERRSP:3\r\n+WEBSERVERRSP:4\r\n");
	const struct espat_files_mem_file *file = espat_files_mem_get(&f->tp.files, "ota_1.bin");
	assert_non_null(file);
	assert_int_equal(file->len, sizeof(img));
	assert_memory_equal(file->data, img, sizeof(img));
	/* slot 1 boots next, holding the running version */
	struct espat_ota_state st;
	espat_ota_load(&f->m, &st);
	assert_int_equal(st.running, 1);
	assert_string_equal(st.version[1], "3.3.0.0");
	/* a second image before the restart would overwrite the running slot:
	 * refused (AT+CIUPDATE's partition conflict) */
	json_resp(f, ota_req(img, 0, sizeof(img)), 409, "Conflict", "{\"error\":\"Conflict\"}");
	expect(f, "+WEBSERVERRSP:3\r\n+WEBSERVERRSP:5\r\n");
	assert_null(espat_files_mem_get(&f->tp.files, "ota_0.bin"));
}

static void test_dns_answer(void **state)
{
	(void)state;
	/* id 0x1234, RD, one question: connectivitycheck.gstatic.com A IN */
	static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,   0,
	                            0,    3,    'w',  'w',  'w', 7,   'e', 'x', 'a', 'm', 'p',
	                            'l',  'e',  3,    'c',  'o', 'm', 0,   0,   1,   0,   1};
	uint8_t out[128];
	size_t n = espat_web_dns_answer(q, sizeof(q), 0xC0A80401u, out, sizeof(out));
	static const uint8_t want_a[] = {
	    0x12, 0x34, 0x85, 0x80, 0,   1,   0,   1, 0,   0,   0,   0,   3,   'w', 'w', 'w', 7,
	    'e',  'x',  'a',  'm',  'p', 'l', 'e', 3, 'c', 'o', 'm', 0,   0,   1,   0,   1,   0xC0,
	    0x0C, 0,    1,    0,    1,   0,   0,   0, 60,  0,   4,   192, 168, 4,   1};
	assert_int_equal(n, sizeof(want_a));
	assert_memory_equal(out, want_a, sizeof(want_a));
	/* AAAA: no answer, no error */
	uint8_t q6[sizeof(q)];
	memcpy(q6, q, sizeof(q));
	q6[sizeof(q) - 3] = 28;
	n = espat_web_dns_answer(q6, sizeof(q6), 0xC0A80401u, out, sizeof(out));
	assert_int_equal(n, sizeof(q));
	assert_int_equal(out[7], 0);
	/* not a query, truncated, too small a buffer */
	uint8_t r[sizeof(q)];
	memcpy(r, q, sizeof(q));
	r[2] |= 0x80;
	assert_int_equal(espat_web_dns_answer(r, sizeof(r), 1, out, sizeof(out)), 0);
	for (size_t i = 0; i < sizeof(q); i++)
		assert_int_equal(espat_web_dns_answer(q, i, 1, out, sizeof(out)), 0);
	assert_int_equal(espat_web_dns_answer(q, sizeof(q), 1, out, 40), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_command, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_page, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_provision, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_provision_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_half_sent_and_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ota, setup, teardown),
	    cmocka_unit_test(test_dns_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
