/* The module's HTTP client (src/cmd/httpc.c) driven directly, as the HTTP
 * families drive it, against peers scripted byte by byte on the in-memory
 * network: the request's bytes, phases in order, a chunked response with
 * an interim 100 before it, a response read until close, HEAD, a body
 * sent, a response cut short, a bad one, cancel from inside a callback,
 * the final response's header fields, the idle limit and pause. */
#include "support.h"

#include "cmd/httpc.h"
#include "module_fixture.h"
#include "testport/net_mem.h"

struct probe {
	char log[512]; /* "R" resolved, "C" connected, "S<status>,<len>" */
	char body[256];
	size_t body_len;
	int done;      /* done() calls */
	int err;       /* the last one's */
	bool cancel_in_status;
	struct espat_httpc *h;
};

static void logf_(struct probe *p, const char *s)
{
	strncat(p->log, s, sizeof(p->log) - strlen(p->log) - 1);
}

static void on_phase(void *user, enum espat_httpc_phase ph)
{
	logf_(user, ph == ESPAT_HTTPC_RESOLVED ? "R" : "C");
}

static void on_status(void *user, int status, int64_t len)
{
	struct probe *p = user;
	char s[48];
	snprintf(s, sizeof(s), "S%d,%lld", status, (long long)len);
	logf_(p, s);
	if (p->cancel_in_status)
		espat_httpc_cancel(p->h);
}

static void on_body(void *user, const uint8_t *b, size_t n)
{
	struct probe *p = user;
	assert_true(p->body_len + n < sizeof(p->body));
	memcpy(p->body + p->body_len, b, n);
	p->body_len += n;
}

static void on_done(void *user, int err)
{
	struct probe *p = user;
	p->done++;
	p->err = err;
}

static const struct espat_httpc_cbs cbs = {
    .phase = on_phase, .status = on_status, .body = on_body, .done = on_done};

/* header(): "H<name>=<value>;" */
static void on_header(void *user, struct espat_http_str name, struct espat_http_str value)
{
	char s[96];
	snprintf(s, sizeof(s), "H%.*s=%.*s;", (int)name.len, name.s, (int)value.len, value.s);
	logf_(user, s);
}

static const struct espat_httpc_cbs hcbs = {.phase = on_phase,
                                            .status = on_status,
                                            .body = on_body,
                                            .done = on_done,
                                            .header = on_header};

#define PEER "10.0.0.9"

static void join(struct fx *f)
{
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	struct espat_net_mem *n = &f->tp.net;
	assert_int_equal(espat_net_mem_serve(n, (struct espat_endpoint){espat_mem_ip(PEER), 80}), 0);
	assert_int_equal(espat_net_mem_dns_add(n, "web.test", espat_mem_ip(PEER)), 0);
}

/* Starts a request and runs it until the peer has the request. */
static struct espat_mem_conn *start(struct fx *f, struct espat_httpc *h, struct probe *p,
                                    const struct espat_httpc_req *r)
{
	p->h = h;
	int err = -1;
	assert_int_equal(espat_httpc_start(h, &f->m, r, &cbs, p, &err), 0);
	assert_string_equal(p->log, ""); /* nothing from inside the call */
	advance(f, 50);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	assert_non_null(c);
	return c;
}

static void sent_is(struct espat_mem_conn *c, const char *want)
{
	size_t n = 0;
	const uint8_t *v = espat_mem_conn_view(c, &n);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

static void get_named_chunked_with_interim(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	struct probe p = {0};
	static const char url[] = "http://web.test/a/b?x=1#frag";
	const char *hdr[] = {"Authorization: token t", "Accept: */*"};
	struct espat_httpc_req r = {.method = "GET", .url = url, .url_len = strlen(url),
	                            .headers = hdr, .nheaders = 2};
	struct espat_mem_conn *c = start(f, &h, &p, &r);
	assert_string_equal(p.log, "RC");
	assert_false(c->tls);
	sent_is(c, "GET /a/b?x=1 HTTP/1.1\r\nHost: web.test\r\nAuthorization: token t\r\n"
	           "Accept: */*\r\n\r\n");
	static const char resp[] = "HTTP/1.1 100 Continue\r\n\r\n"
	                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	espat_mem_conn_set_chunk(c, 3); /* in pieces, as from a real socket */
	assert_int_equal(espat_mem_conn_send(c, resp, strlen(resp)), 0);
	advance(f, 10);
	assert_string_equal(p.log, "RCS200,-1");
	assert_int_equal(p.body_len, 11);
	assert_memory_equal(p.body, "hello world", 11);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.err, 0);
	assert_false(espat_httpc_busy(&h));
	assert_int_equal(c->closed_by_module, ESPAT_MEM_CLOSED_ABORT); /* one request per connection */
}

static void post_literal_until_close(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	struct probe p = {0};
	static const char url[] = "http://" PEER ":80/post";
	struct espat_httpc_req r = {.method = "POST", .url = url, .url_len = strlen(url),
	                            .body = (const uint8_t *)"a=1&b", .body_len = 5,
	                            .send_length = true};
	struct espat_mem_conn *c = start(f, &h, &p, &r);
	assert_string_equal(p.log, "RC"); /* a literal is "resolved" too */
	sent_is(c, "POST /post HTTP/1.1\r\nHost: " PEER ":80\r\nContent-Length: 5\r\n\r\na=1&b");
	static const char resp[] = "HTTP/1.0 201 Created\r\n\r\nmade it";
	assert_int_equal(espat_mem_conn_send(c, resp, strlen(resp)), 0);
	advance(f, 10);
	assert_string_equal(p.log, "RCS201,-1");
	assert_int_equal(p.done, 0); /* the body runs until the close */
	espat_mem_conn_close(c);
	advance(f, 10);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.err, 0);
	assert_memory_equal(p.body, "made it", 7);
}

static void head_has_no_body(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	struct probe p = {0};
	static const char url[] = "http://web.test/";
	struct espat_httpc_req r = {.method = "HEAD", .url = url, .url_len = strlen(url)};
	struct espat_mem_conn *c = start(f, &h, &p, &r);
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
	assert_int_equal(espat_mem_conn_send(c, resp, strlen(resp)), 0);
	advance(f, 10);
	assert_string_equal(p.log, "RCS200,1234");
	assert_int_equal(p.body_len, 0);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.err, 0);
}

static void cut_bad_and_refused(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	static const char url[] = "http://web.test/x";
	struct espat_httpc_req r = {.method = "GET", .url = url, .url_len = strlen(url)};
	/* cut short: a Content-Length body the close interrupts */
	struct probe p = {0};
	struct espat_mem_conn *c = start(f, &h, &p, &r);
	static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
	assert_int_equal(espat_mem_conn_send(c, part, strlen(part)), 0);
	espat_mem_conn_close(c);
	advance(f, 10);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.err, ESPAT_NET_EIO);
	/* reset */
	struct probe q = {0};
	c = start(f, &h, &q, &r);
	espat_mem_conn_reset(c);
	advance(f, 10);
	assert_int_equal(q.done, 1);
	assert_int_equal(q.err, ESPAT_NET_ERESET);
	/* not HTTP */
	struct probe b = {0};
	c = start(f, &h, &b, &r);
	assert_int_equal(espat_mem_conn_send(c, "SSH-2.0-x\r\n", 11), 0);
	advance(f, 10);
	assert_int_equal(b.done, 1);
	assert_int_equal(b.err, ESPAT_NET_EIO);
	/* nothing listens */
	espat_net_mem_unserve(&f->tp.net, (struct espat_endpoint){espat_mem_ip(PEER), 80});
	struct probe n = {0};
	int err = 0;
	n.h = &h;
	assert_int_equal(espat_httpc_start(&h, &f->m, &r, &cbs, &n, &err), 0);
	advance(f, 100);
	assert_string_equal(n.log, "R");
	assert_int_equal(n.err, ESPAT_NET_EREFUSED);
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
}

static void bad_requests_refused_at_once(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	struct probe p = {0};
	int err = 0;
	static const char *const urls[] = {"ftp://web.test/", "http://", "ws://web.test/",
	                                   "http://web.test/a b"};
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct espat_httpc_req r = {.method = "GET", .url = urls[i],
		                            .url_len = strlen(urls[i])};
		assert_int_equal(espat_httpc_start(&h, &f->m, &r, &cbs, &p, &err), -1);
		assert_int_equal(err, ESPAT_NET_EINVAL);
	}
	const char *hdr[] = {"X-Evil: a\r\nInjected: yes"};
	struct espat_httpc_req r = {.method = "GET", .url = "http://web.test/", .url_len = 16,
	                            .headers = hdr, .nheaders = 1};
	assert_int_equal(espat_httpc_start(&h, &f->m, &r, &cbs, &p, &err), -1);
	assert_int_equal(err, ESPAT_NET_EINVAL);
	/* offline */
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	r.nheaders = 0;
	assert_int_equal(espat_httpc_start(&h, &f->m, &r, &cbs, &p, &err), -1);
	assert_int_equal(err, ESPAT_NET_EUNREACH);
	assert_int_equal(p.done, 0);
	assert_false(espat_httpc_busy(&h));
}

static void cancel_from_a_callback(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	struct probe p = {.cancel_in_status = true};
	static const char url[] = "http://web.test/";
	struct espat_httpc_req r = {.method = "GET", .url = url, .url_len = strlen(url)};
	struct espat_mem_conn *c = start(f, &h, &p, &r);
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
	assert_int_equal(espat_mem_conn_send(c, resp, strlen(resp)), 0);
	advance(f, 10);
	assert_string_equal(p.log, "RCS200,3");
	assert_int_equal(p.body_len, 0); /* nothing after the cancel */
	assert_int_equal(p.done, 0);
	assert_false(espat_httpc_busy(&h));
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
	/* and before anything came: the pending RESOLVED of a literal too */
	struct probe q = {0};
	static const char lit[] = "http://" PEER "/";
	struct espat_httpc_req l = {.method = "GET", .url = lit, .url_len = strlen(lit)};
	int err = 0;
	assert_int_equal(espat_httpc_start(&h, &f->m, &l, &cbs, &q, &err), 0);
	espat_httpc_cancel(&h);
	advance(f, 100);
	assert_string_equal(q.log, "");
	assert_int_equal(q.done, 0);
}

static void https_asks_for_tls(void **state)
{
	struct fx *f = *state;
	join(f);
	assert_int_equal(
	    espat_net_mem_serve(&f->tp.net, (struct espat_endpoint){espat_mem_ip(PEER), 443}), 0);
	struct espat_httpc h = {0};
	struct probe p = {0};
	static const char url[] = "https://web.test/s";
	struct espat_httpc_req r = {.method = "GET", .url = url, .url_len = strlen(url)};
	struct espat_mem_conn *c = start(f, &h, &p, &r);
	assert_true(c->tls);
	assert_false(c->tls_verify); /* no settings: no checks */
	assert_string_equal(c->tls_sni, "web.test");
	assert_int_equal(c->peer.port, 443);
	espat_httpc_cancel(&h);
}

/* header() gets the final response's fields (not an interim one's), in
 * order, before status(). */
static void headers_of_the_final_response(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	struct probe p = {.h = &h};
	static const char url[] = "http://web.test/";
	struct espat_httpc_req r = {.method = "GET", .url = url, .url_len = strlen(url)};
	int err = -1;
	assert_int_equal(espat_httpc_start(&h, &f->m, &r, &hcbs, &p, &err), 0);
	advance(f, 50);
	struct espat_mem_conn *c = espat_net_mem_last_conn(&f->tp.net);
	static const char resp[] = "HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n"
	                           "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 2\r\n\r\nhi";
	espat_mem_conn_set_chunk(c, 5);
	assert_int_equal(espat_mem_conn_send(c, resp, strlen(resp)), 0);
	advance(f, 10);
	assert_string_equal(p.log, "RCHServer=t;HContent-Length=2;S200,2");
	assert_int_equal(p.done, 1);
	assert_int_equal(p.err, 0);
}

/* idle_ms: silence after the request fails the exchange (ETIMEDOUT);
 * every byte restarts the clock; a paused exchange is not idle. */
static void idle_limit_and_pause(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_httpc h = {0};
	struct probe p = {0};
	static const char url[] = "http://web.test/";
	struct espat_httpc_req r = {
	    .method = "GET", .url = url, .url_len = strlen(url), .idle_ms = 1000};
	struct espat_mem_conn *c = start(f, &h, &p, &r);
	advance(f, 900);
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab";
	assert_int_equal(espat_mem_conn_send(c, head, strlen(head)), 0);
	advance(f, 900);
	assert_int_equal(p.done, 0);
	espat_httpc_pause(&h, true);
	advance(f, 5000);
	assert_int_equal(p.done, 0); /* held back: not idle */
	assert_int_equal(espat_mem_conn_send(c, "c", 1), 0);
	advance(f, 10);
	assert_int_equal(p.body_len, 2); /* the byte waits */
	espat_httpc_pause(&h, false);
	advance(f, 10);
	assert_int_equal(p.body_len, 3);
	advance(f, 989);
	assert_int_equal(p.done, 0);
	advance(f, 1);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.err, ESPAT_NET_ETIMEDOUT);
	assert_false(espat_httpc_busy(&h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(get_named_chunked_with_interim, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(post_literal_until_close, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(head_has_no_body, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(cut_bad_and_refused, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(bad_requests_refused_at_once, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(cancel_from_a_callback, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(https_asks_for_tls, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(headers_of_the_final_response, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(idle_limit_and_pause, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
