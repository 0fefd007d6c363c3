/* The HTTP client commands (src/cmd/http.c) against scripted servers on the
 * memory network (testport/http_mem.h), over a module joined to the default
 * world's "espat" AP with AT+SYSLOG=1; every expectation is the exact byte
 * output. A name takes STEP to resolve, a connect STEP, a server STEP to
 * answer. */
#include "support.h"

#include "cmd/http.h"
#include "module_fixture.h"

#define STEP ESPAT_HTTP_MEM_STEP_MS
#define WEB "http://web.test"
#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"
#define CONN_ERR ERR("0x010a7000")
#define UA "User-Agent: ESP32 HTTP Client/1.0\n"
#define FORM "Content-Type: application/x-www-form-urlencoded\n"

static struct espat_http_mem_route *route(struct fx *f, const char *url, int status,
                                          const char *body)
{
	struct espat_http_mem_route *r =
	    espat_http_mem_route(&f->tp.http, url, status, body, strlen(body));
	assert_non_null(r);
	return r;
}

static const struct espat_http_mem_seen *seen(struct fx *f)
{
	const struct espat_http_mem_seen *s = espat_http_mem_last(&f->tp.http);
	assert_non_null(s);
	return s;
}

static void join(struct fx *f)
{
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 10000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
}

static int setup(void **state)
{
	fx_setup(state);
	struct fx *f = *state;
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	join(f);
	f->tp.net.dns_ms = STEP;
	f->tp.net.connect_ms = STEP;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	assert_int_equal(espat_http_mem_live(&f->tp.http), 0);
	return fx_teardown(state);
}

/* Runs a request to its end (well within the 5 s idle limit). */
static void run(struct fx *f, const char *line, const char *want)
{
	cmd(f, line, "");
	advance(f, 10 * STEP);
	expect(f, want);
}

/* HEAD prints the response's head line by line, then OK; the defaults go
 * out: the User-Agent and the content type of <content-type>. */
static void client_head(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/get", 200, "hello");
	run(f, "AT+HTTPCLIENT=1,0,\"" WEB "/get\",,,1\r\n",
	    "+HTTPCLIENT:17,Content-Length: 5\r\n\r\nOK\r\n");
	assert_string_equal(seen(f)->method, "HEAD");
	assert_string_equal(seen(f)->url, WEB "/get");
	assert_string_equal(seen(f)->headers, UA FORM);
}

/* GET: the body in records of at most 512 bytes, each ending CR LF. */
static void client_get_records(void **state)
{
	struct fx *f = *state;
	static char body[1201];
	for (size_t i = 0; i < 1200; i++)
		body[i] = (char)('a' + i % 26);
	f->tp.http.chunk = 4096; /* head and body in one read */
	route(f, WEB "/big", 200, body);
	cmd(f, "AT+HTTPCLIENT=2,1,\"" WEB "/big\",,,1\r\n", "");
	advance(f, 10 * STEP);
	char want[1400];
	snprintf(want, sizeof(want),
	         "+HTTPCLIENT:512,%.512s\r\n+HTTPCLIENT:512,%.512s\r\n+HTTPCLIENT:176,%.176s\r\n"
	         "\r\nOK\r\n",
	         body, body + 512, body + 1024);
	expect(f, want);
	assert_string_equal(seen(f)->method, "GET");
	assert_string_equal(seen(f)->headers, UA "Content-Type: application/json\n");
}

/* POST takes <"data">; later header arguments replace defaults of the same
 * name; Host and Content-Length given are the module's own. */
static void client_post_headers(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/post", 200, "done");
	run(f,
	    "AT+HTTPCLIENT=3,0,\"" WEB "/post\",,,1,\"a=1\",\"content-type: text/plain\","
	    "\"X-A: b\",\"Host: evil\",\"Content-Length: 99\"\r\n",
	    "+HTTPCLIENT:4,done\r\n\r\nOK\r\n");
	assert_string_equal(seen(f)->method, "POST");
	assert_string_equal(seen(f)->headers,
	                    UA "content-type: text/plain\nX-A: b\nContent-Length: 3\n");
}

/* PUT and DELETE send Content-Length 0 (the guide's httpbin echo); host and
 * path stand in for an empty URL, with <transport_type>'s scheme. */
static void client_put_delete_host_path(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/put?user=foo", 200, "p");
	run(f, "AT+HTTPCLIENT=4,0,\"" WEB "/put?user=foo\",,,1\r\n",
	    "+HTTPCLIENT:1,p\r\n\r\nOK\r\n");
	assert_string_equal(seen(f)->method, "PUT");
	assert_string_equal(seen(f)->headers, UA FORM "Content-Length: 0\n");
	route(f, WEB "/delete", 200, "d");
	run(f, "AT+HTTPCLIENT=5,3,\"\",\"web.test\",\"/delete\",1\r\n",
	    "+HTTPCLIENT:1,d\r\n\r\nOK\r\n");
	assert_string_equal(seen(f)->method, "DELETE");
	assert_string_equal(seen(f)->url, WEB "/delete");
	assert_string_equal(seen(f)->headers, UA "Content-Type: text/xml\nContent-Length: 0\n");
	/* a path without its slash gets one; the URL wins over host and path */
	route(f, WEB "/x", 200, "x");
	run(f, "AT+HTTPCLIENT=2,0,,\"web.test\",\"x\",1\r\n", "+HTTPCLIENT:1,x\r\n\r\nOK\r\n");
	run(f, "AT+HTTPCLIENT=2,0,\"" WEB "/x\",\"other.test\",\"/y\",1\r\n",
	    "+HTTPCLIENT:1,x\r\n\r\nOK\r\n");
}

/* Status >= 400: the body, then ERROR with 0x7000 + status; a redirect is
 * not followed: its body and OK. */
static void client_status_and_redirect(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/missing", 404, "nope");
	run(f, "AT+HTTPCLIENT=2,0,\"" WEB "/missing\",,,1\r\n",
	    "+HTTPCLIENT:4,nope\r\n" ERR("0x010a7194"));
	route(f, WEB "/boom", 503, "");
	run(f, "AT+HTTPCLIENT=2,0,\"" WEB "/boom\",,,1\r\n", ERR("0x010a71f7"));
	route(f, WEB "/moved", 302, "go");
	run(f, "AT+HTTPCLIENT=2,0,\"" WEB "/moved\",,,1\r\n", "+HTTPCLIENT:2,go\r\n\r\nOK\r\n");
	assert_int_equal(f->tp.http.requests, 3);
}

/* Arguments the command refuses at once. */
static void client_bad_input(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+HTTPCLIENT=6,0,\"" WEB "/\",,,1\r\n", ERR("0x01070000"));
	cmd(f, "AT+HTTPCLIENT=2,4,\"" WEB "/\",,,1\r\n", ERR("0x01070001"));
	cmd(f, "AT+HTTPCLIENT=2,0,\"" WEB "/\",,,3\r\n", ERR("0x01070005"));
	cmd(f, "AT+HTTPCLIENT=2,0,\"ftp://web.test/\",,,1\r\n", ERR("0x01070002"));
	cmd(f, "AT+HTTPCLIENT=2,0,\"http//web.test/\",,,1\r\n", ERR("0x01070002"));
	cmd(f, "AT+HTTPCLIENT=2,0,\"http://web test/\",,,1\r\n", ERR("0x01070002"));
	cmd(f, "AT+HTTPCLIENT=2,0,,,,1\r\n", ERR("0x01070003"));
	cmd(f, "AT+HTTPCLIENT=2,0,\"" WEB "/\",,,1,\"no colon\"\r\n", ERR("0x01070006"));
	cmd(f, "AT+HTTPCLIENT=2,0,\"" WEB "/\",,\r\n", ERR("0x01060604"));
	cmd(f, "AT+HTTPCLIENT?\r\n", ERR("0x010c0000"));
	assert_int_equal(f->tp.http.requests, 0);
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

/* The connection's failures: ERROR 0x7000; the module goes on. */
static void client_failures(void **state)
{
	struct fx *f = *state;
	run(f, "AT+HTTPCLIENT=2,0,\"http://nowhere.test/\",,,1\r\n", CONN_ERR);
	route(f, WEB "/a", 200, "a");
	espat_http_mem_refuse(&f->tp.http, WEB "/a");
	run(f, "AT+HTTPCLIENT=2,0,\"" WEB "/a\",,,1\r\n", CONN_ERR);
	/* a server that never answers: 5 s of silence */
	route(f, "http://slow.test/", 200, "")->fail = ESPAT_HTTP_MEM_SILENT;
	cmd(f, "AT+HTTPCLIENT=2,0,\"http://slow.test/\",,,1\r\n", "");
	advance(f, 5000);
	expect(f, "");
	cmd(f, "AT\r\n", "ERR CODE:0x010b0000\r\nbusy p...\r\n"); /* the command holds the port */
	advance(f, 5 * STEP);
	expect(f, CONN_ERR);
	/* cut mid-body: what came, then ERROR */
	static char half[200];
	memset(half, 'z', sizeof(half) - 1);
	route(f, "http://cut.test/", 200, half)->fail = ESPAT_HTTP_MEM_CUT;
	char want[300];
	snprintf(want, sizeof(want), "+HTTPCLIENT:99,%.99s\r\n" CONN_ERR, half);
	run(f, "AT+HTTPCLIENT=2,0,\"http://cut.test/\",,,1\r\n", want);
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

/* Without the way out: ERROR at once; losing it ends a request. */
static void client_offline(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	cmd(f, "AT+HTTPCLIENT=2,0,\"" WEB "/\",,,1\r\n", CONN_ERR);
	join(f);
	route(f, "http://slow.test/", 200, "")->fail = ESPAT_HTTP_MEM_SILENT;
	cmd(f, "AT+HTTPCLIENT=2,0,\"http://slow.test/\",,,1\r\n", "");
	advance(f, 5 * STEP);
	struct espat_world_err err;
	struct espat_world_ap *ap = espat_world_find(&f->tp.world, "espat");
	assert_non_null(ap);
	assert_int_equal(espat_world_set(&f->tp.world, ap, "up", "no", &err), 0);
	espat_wifi_world_changed(&f->m);
	expect(f, "WIFI DISCONNECT\r\n" CONN_ERR);
	assert_int_equal(espat_world_set(&f->tp.world, ap, "up", "yes", &err), 0);
	espat_wifi_world_changed(&f->m);
	advance(f, 10000);
	espat_tp_clear(&f->tp);
}

/* AT+HTTPGETSIZE asks with HEAD and prints Content-Length. */
static void getsize(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/img", 200, "0123456789");
	run(f, "AT+HTTPGETSIZE=\"" WEB "/img\"\r\n", "+HTTPGETSIZE:10\r\n\r\nOK\r\n");
	assert_string_equal(seen(f)->method, "HEAD");
	assert_string_equal(seen(f)->headers, UA);
	run(f, "AT+HTTPGETSIZE=\"" WEB "/img\",1024,1024,1000\r\n",
	    "+HTTPGETSIZE:10\r\n\r\nOK\r\n");
	route(f, WEB "/none", 404, "");
	run(f, "AT+HTTPGETSIZE=\"" WEB "/none\"\r\n", ERR("0x010a7194"));
	/* no length: no size */
	espat_http_mem_route(&f->tp.http, WEB "/open", 200, "abc", 3)->no_length = true;
	run(f, "AT+HTTPGETSIZE=\"" WEB "/open\"\r\n", CONN_ERR);
	cmd(f, "AT+HTTPGETSIZE=\"" WEB "/img\",10241\r\n", ERR("0x01070001"));
	cmd(f, "AT+HTTPGETSIZE=\"" WEB "/img\",0,0,180001\r\n", ERR("0x01070003"));
	cmd(f, "AT+HTTPGETSIZE=\"\"\r\n", ERR("0x01070000"));
}

/* AT+HTTPCGET: records of at most <rx size> bytes (0: 512); a body read
 * until close ends with it. */
static void cget(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/f", 200, "abcdefghij");
	run(f, "AT+HTTPCGET=\"" WEB "/f\"\r\n", "+HTTPCGET:10,abcdefghij\r\n\r\nOK\r\n");
	assert_string_equal(seen(f)->method, "GET");
	assert_string_equal(seen(f)->headers, UA);
	run(f, "AT+HTTPCGET=\"" WEB "/f\",2048,4,5000\r\n",
	    "+HTTPCGET:4,abcd\r\n+HTTPCGET:4,efgh\r\n+HTTPCGET:2,ij\r\n\r\nOK\r\n");
	espat_http_mem_route(&f->tp.http, WEB "/open", 200, "abc", 3)->no_length = true;
	run(f, "AT+HTTPCGET=\"" WEB "/open\"\r\n", "+HTTPCGET:3,abc\r\n\r\nOK\r\n");
	/* the idle limit is <timeout> */
	route(f, "http://slow.test/", 200, "")->fail = ESPAT_HTTP_MEM_SILENT;
	cmd(f, "AT+HTTPCGET=\"http://slow.test/\",0,0,100\r\n", "");
	advance(f, 2 * STEP + 99); /* the silence counts from the request */
	expect(f, "");
	advance(f, 1);
	expect(f, CONN_ERR);
}

/* AT+HTTPCPOST / AT+HTTPCPUT: the body after ">", the response, SEND OK. */
static void cpost_cput(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/post", 200, "ok");
	cmd(f,
	    "AT+HTTPCPOST=\"" WEB "/post\",5,2,\"X-Y: z\",\"Content-Type: application/json\"\r\n",
	    "\r\nOK\r\n>");
	sendn(f, "he\0lo", 5);
	advance(f, 10 * STEP);
	expect(f, "+HTTPCPOST:2,ok\r\n\r\nSEND OK\r\n");
	assert_string_equal(seen(f)->method, "POST");
	assert_string_equal(seen(f)->headers,
	                    UA "Content-Type: application/json\nX-Y: z\nContent-Length: 5\n");
	route(f, WEB "/put", 200, "put");
	cmd(f, "AT+HTTPCPUT=\"" WEB "/put\",3\r\n", "\r\nOK\r\n>");
	send(f, "abc");
	advance(f, 10 * STEP);
	expect(f, "+HTTPCPUT:3,put\r\n\r\nSEND OK\r\n");
	assert_string_equal(seen(f)->method, "PUT");
	assert_string_equal(seen(f)->headers, UA FORM "Content-Length: 3\n");
	/* a failed connection: SEND FAIL; a status >= 400: the body and ERROR */
	cmd(f, "AT+HTTPCPOST=\"http://nowhere.test/\",1\r\n", "\r\nOK\r\n>");
	send(f, "x");
	advance(f, 10 * STEP);
	expect(f, "\r\nSEND FAIL\r\n");
	route(f, WEB "/denied", 403, "no");
	cmd(f, "AT+HTTPCPUT=\"" WEB "/denied\",1\r\n", "\r\nOK\r\n>");
	send(f, "x");
	advance(f, 10 * STEP);
	expect(f, "+HTTPCPUT:2,no\r\n" ERR("0x010a7193"));
	/* refused at once */
	cmd(f, "AT+HTTPCPOST=\"" WEB "/post\",0\r\n", ERR("0x01070001"));
	cmd(f, "AT+HTTPCPOST=\"" WEB "/post\",163841\r\n", ERR("0x01070001"));
	cmd(f, "AT+HTTPCPOST=\"" WEB "/post\",5,2,\"X-Y: z\"\r\n", ERR("0x01070002"));
	cmd(f, "AT+HTTPCPOST=\"" WEB "/post\",5,1,\"bad\"\r\n", ERR("0x01070003"));
	cmd(f, "AT+HTTPCPOST=\"mqtt://x/\",5\r\n", ERR("0x01070000"));
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

/* A guarded +++ while the body is typed: nothing is sent, ERROR. */
static void cpost_escape(void **state)
{
	struct fx *f = *state;
	route(f, WEB "/post", 200, "ok");
	cmd(f, "AT+HTTPCPOST=\"" WEB "/post\",10\r\n", "\r\nOK\r\n>");
	send(f, "abc");
	advance(f, 100);
	send(f, "+++");
	advance(f, 100);
	expect(f, ERR("0x010a0000"));
	assert_int_equal(f->tp.http.requests, 0);
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

/* AT+HTTPURLCFG: a long URL for "" in any command; SET OK; 0 clears. */
static void urlcfg(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+HTTPURLCFG?\r\n", "\r\nOK\r\n");
	char url[400];
	int n = snprintf(url, sizeof(url), WEB "/long?q=");
	while (n < 300)
		url[n++] = 'q';
	url[n] = '\0';
	route(f, url, 200, "long");
	char line[64];
	snprintf(line, sizeof(line), "AT+HTTPURLCFG=%d\r\n", n);
	cmd(f, line, "\r\nOK\r\n>");
	send(f, url);
	expect(f, "\r\nSET OK\r\n");
	char want[512];
	snprintf(want, sizeof(want), "+HTTPURLCFG:%d,%s\r\n\r\nOK\r\n", n, url);
	cmd(f, "AT+HTTPURLCFG?\r\n", want);
	run(f, "AT+HTTPCGET=\"\"\r\n", "+HTTPCGET:4,long\r\n\r\nOK\r\n");
	run(f, "AT+HTTPCLIENT=2,0,\"\",,,1\r\n", "+HTTPCLIENT:4,long\r\n\r\nOK\r\n");
	run(f, "AT+HTTPGETSIZE=\"\"\r\n", "+HTTPGETSIZE:4\r\n\r\nOK\r\n");
	cmd(f, "AT+HTTPCPOST=\"\",1\r\n", "\r\nOK\r\n>");
	send(f, "x");
	advance(f, 10 * STEP);
	expect(f, "+HTTPCPOST:4,long\r\n\r\nSEND OK\r\n");
	cmd(f, "AT+HTTPURLCFG=0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+HTTPURLCFG?\r\n", "\r\nOK\r\n");
	cmd(f, "AT+HTTPCGET=\"\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+HTTPURLCFG=7\r\n", ERR("0x01070000"));
	cmd(f, "AT+HTTPURLCFG=8193\r\n", ERR("0x01070000"));
	/* a preset that is no URL fails when used */
	cmd(f, "AT+HTTPURLCFG=8\r\n", "\r\nOK\r\n>");
	send(f, "notaurl!");
	expect(f, "\r\nSET OK\r\n");
	cmd(f, "AT+HTTPCGET=\"\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+HTTPURLCFG=0\r\n", "\r\nOK\r\n");
}

/* AT+HTTPCHEAD: headers for every later request, replacing same-named
 * ones; 0 clears. */
static void chead(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+HTTPCHEAD?\r\n", "\r\nOK\r\n");
	cmd(f, "AT+HTTPCHEAD=18\r\n", "\r\nOK\r\n>");
	send(f, "Range: bytes=0-255");
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+HTTPCHEAD=24\r\n", "\r\nOK\r\n>");
	send(f, "User-Agent: espat-test/1");
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+HTTPCHEAD=16\r\n", "\r\nOK\r\n>");
	send(f, "range: bytes=1-2");
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+HTTPCHEAD?\r\n",
	    "+HTTPCHEAD:0,\"range: bytes=1-2\"\r\n+HTTPCHEAD:1,\"User-Agent: espat-test/1\"\r\n"
	    "\r\nOK\r\n");
	route(f, WEB "/r", 200, "r");
	run(f, "AT+HTTPCGET=\"" WEB "/r\"\r\n", "+HTTPCGET:1,r\r\n\r\nOK\r\n");
	assert_string_equal(seen(f)->headers, "User-Agent: espat-test/1\nrange: bytes=1-2\n");
	/* they win over the command's own */
	cmd(f, "AT+HTTPCPOST=\"" WEB "/r\",1,1,\"Range: bytes=5-6\"\r\n", "\r\nOK\r\n>");
	send(f, "x");
	advance(f, 10 * STEP);
	expect(f, "+HTTPCPOST:1,r\r\n\r\nSEND OK\r\n");
	assert_string_equal(seen(f)->headers, "User-Agent: espat-test/1\n" FORM
	                                      "range: bytes=1-2\nContent-Length: 1\n");
	/* not a header line */
	cmd(f, "AT+HTTPCHEAD=5\r\n", "\r\nOK\r\n>");
	send(f, "nocol");
	expect(f, ERR("0x01070000"));
	cmd(f, "AT+HTTPCHEAD=2049\r\n", ERR("0x01070000"));
	cmd(f, "AT+HTTPCHEAD=0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+HTTPCHEAD?\r\n", "\r\nOK\r\n");
	/* at most ESPAT_HTTPCMD_HEADS_MAX */
	for (int i = 0; i < ESPAT_HTTPCMD_HEADS_MAX + 1; i++) {
		char h[24];
		snprintf(h, sizeof(h), "X-%02d: v", i);
		cmd(f, "AT+HTTPCHEAD=7\r\n", "\r\nOK\r\n>");
		send(f, h);
		expect(f, i < ESPAT_HTTPCMD_HEADS_MAX ? "\r\nOK\r\n" : ERR("0x01070000"));
	}
	cmd(f, "AT+HTTPCHEAD=0\r\n", "\r\nOK\r\n");
}

/* The SYSMSGFILTER download of guide 4.1.1: each record's head and tail
 * are cut, the final OK too: only the bytes stay. */
static void filtered_download(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMSGFILTERCFG=1,18,3\r\n", "\r\nOK\r\n>");
	send(f, "^+HTTPCGET:[0-9]*,\r\n$");
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=1,0,7\r\n", "\r\nOK\r\n>");
	send(f, "\r\nOK\r\n$");
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTER=1\r\n", ""); /* its own OK is filtered */
	route(f, WEB "/png", 200, "\x89PNG\r\n\x1a\n-data-");
	run(f, "AT+HTTPCGET=\"" WEB "/png\",2048,4,5000\r\n", "\x89PNG\r\n\x1a\n-data-");
	cmd(f, "AT+SYSMSGFILTER=0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMSGFILTERCFG=0\r\n", "\r\nOK\r\n");
}

/* A restart ends a request quietly; the URL and headers are gone. */
static void restart_forgets(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+HTTPCHEAD=6\r\n", "\r\nOK\r\n>");
	send(f, "A: bcd");
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+HTTPURLCFG=8\r\n", "\r\nOK\r\n>");
	send(f, "http://a");
	expect(f, "\r\nSET OK\r\n");
	fx_power_cycle(f);
	cmd(f, "AT+HTTPCHEAD?\r\n", "\r\nOK\r\n");
	cmd(f, "AT+HTTPURLCFG?\r\n", "\r\nOK\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(client_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_get_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_post_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_put_delete_host_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_status_and_redirect, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_offline, setup, teardown),
	    cmocka_unit_test_setup_teardown(getsize, setup, teardown),
	    cmocka_unit_test_setup_teardown(cget, setup, teardown),
	    cmocka_unit_test_setup_teardown(cpost_cput, setup, teardown),
	    cmocka_unit_test_setup_teardown(cpost_escape, setup, teardown),
	    cmocka_unit_test_setup_teardown(urlcfg, setup, teardown),
	    cmocka_unit_test_setup_teardown(chead, setup, teardown),
	    cmocka_unit_test_setup_teardown(filtered_download, setup, teardown),
	    cmocka_unit_test_setup_teardown(restart_forgets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
