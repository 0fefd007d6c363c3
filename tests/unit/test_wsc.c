/* The module's WebSocket client (src/cmd/wsc.c) driven directly, as MQTT
 * over WebSocket and the AT+WS* commands drive it, against servers scripted
 * byte by byte on the in-memory network: the upgrade request's bytes,
 * frames in the same read as the 101, refused upgrades, frames cut into
 * 1-byte pieces, pings, masked frames out, both closing handshakes, a close
 * never answered, a reset mid-frame, a protocol violation, wss, abort
 * from inside a callback, the ping callback and a close with a reason. */
#include "support.h"

#include "cmd/wsc.h"
#include "module_fixture.h"
#include "testport/net_mem.h"
#include "ws_server.h"

struct probe {
	char log[256]; /* "O" open, "F<op>,<fin>,<len>", "E" frame end, "P" pong, "C" closed */
	uint8_t data[4096];
	size_t data_len;
	int open_err;
	int close_err;
	uint16_t close_code;
	int drains;
	bool abort_in_open, abort_in_data;
	struct espat_wsc *w;
};

static void logs(struct probe *p, const char *s)
{
	strncat(p->log, s, sizeof(p->log) - strlen(p->log) - 1);
}

static void on_open(void *user, int err)
{
	struct probe *p = user;
	logs(p, "O");
	p->open_err = err;
	if (p->abort_in_open)
		espat_wsc_abort(p->w);
}

static void on_frame_start(void *user, uint8_t opcode, bool fin, uint64_t len)
{
	char s[48];
	snprintf(s, sizeof(s), "F%u,%d,%llu", opcode, fin, (unsigned long long)len);
	logs(user, s);
}

static void on_data(void *user, const uint8_t *b, size_t n)
{
	struct probe *p = user;
	assert_true(p->data_len + n <= sizeof(p->data));
	memcpy(p->data + p->data_len, b, n);
	p->data_len += n;
	if (p->abort_in_data)
		espat_wsc_abort(p->w);
}

static void on_frame_end(void *user)
{
	logs(user, "E");
}

static void on_pong(void *user)
{
	logs(user, "P");
}

static void on_closed(void *user, int err, uint16_t code)
{
	struct probe *p = user;
	logs(p, "C");
	p->close_err = err;
	p->close_code = code;
}

static void on_drained(void *user)
{
	struct probe *p = user;
	p->drains++;
}

static const struct espat_wsc_cbs cbs = {
    .open = on_open,
    .frame_start = on_frame_start,
    .data = on_data,
    .frame_end = on_frame_end,
    .pong = on_pong,
    .closed = on_closed,
    .drained = on_drained,
};

static const struct espat_wsc_req plain = {.host = "ws.test", .host_len = 7, .port = 80};

/* Starts a client and runs it until the server has the request. */
static void start(struct fx *f, struct espat_wsc *w, struct probe *p, const struct espat_wsc_req *r,
                  struct srv *s)
{
	p->w = w;
	int err = -1;
	assert_int_equal(espat_wsc_open(w, &f->m, r, &cbs, p, &err), 0);
	assert_int_equal(err, 0);
	assert_true(espat_wsc_busy(w));
	assert_string_equal(p->log, ""); /* nothing from inside the call */
	advance(f, 50);
	memset(s, 0, sizeof(*s));
	s->c = espat_net_mem_last_conn(&f->tp.net);
	assert_non_null(s->c);
	assert_int_equal(w->state, ESPAT_WSC_UPGRADING);
}

/* ... and through a good upgrade. */
static void start_open(struct fx *f, struct espat_wsc *w, struct probe *p, struct srv *s)
{
	start(f, w, p, &plain, s);
	srv_answer(s, ok101, NULL, 0);
	advance(f, 10);
	assert_string_equal(p->log, "O");
	assert_int_equal(p->open_err, 0);
	assert_int_equal(w->state, ESPAT_WSC_OPEN);
}

static void all_closed(struct fx *f, struct espat_wsc *w)
{
	assert_false(espat_wsc_busy(w));
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
}

/* ---- tests ----------------------------------------------------------------- */

static void upgrade_request_and_frames_after_head(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	const char *hdr[] = {"Origin: http://ws.test"};
	struct espat_wsc_req r = {.host = "ws.test",
	                          .host_len = 7,
	                          .port = 8080,
	                          .path = "/chat?x=1",
	                          .protocol = "mqtt",
	                          .headers = hdr,
	                          .nheaders = 1};
	start(f, &w, &p, &r, &s);
	assert_false(s.c->tls);
	assert_int_equal(s.c->peer.port, 8080);
	char req[1024], key[ESPAT_WS_KEY_SIZE], want[1024];
	srv_request(&s, req, sizeof(req));
	key_of(req, key);
	snprintf(want, sizeof(want),
	         "GET /chat?x=1 HTTP/1.1\r\nHost: ws.test:8080\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	         "Sec-WebSocket-Protocol: mqtt\r\nOrigin: http://ws.test\r\n\r\n",
	         key);
	assert_string_equal(req, want);
	/* the answer, its headers in other cases and lists, a frame right behind */
	char acc[ESPAT_WS_ACCEPT_SIZE], resp[512];
	assert_true(espat_ws_accept(acc, key, strlen(key)));
	int n = snprintf(resp, sizeof(resp),
	                 "HTTP/1.1 101 Switching Protocols\r\nUPGRADE: WebSocket\r\n"
	                 "connection: keep-alive, upgrade\r\nsec-websocket-accept:  %s \r\n"
	                 "Sec-WebSocket-Protocol: mqtt\r\n\r\n\x81\x02hi",
	                 acc);
	assert_int_equal(espat_mem_conn_send(s.c, resp, (size_t)n), 0);
	advance(f, 10);
	assert_string_equal(p.log, "OF1,1,2E");
	assert_int_equal(p.open_err, 0);
	assert_int_equal(p.data_len, 2);
	assert_memory_equal(p.data, "hi", 2);
	assert_int_equal(w.state, ESPAT_WSC_OPEN);
	/* a second client gets another nonce */
	struct espat_wsc w2 = {0};
	struct probe p2 = {0};
	struct srv s2;
	start(f, &w2, &p2, &plain, &s2);
	char req2[1024], key2[ESPAT_WS_KEY_SIZE];
	srv_request(&s2, req2, sizeof(req2));
	key_of(req2, key2);
	assert_string_not_equal(key, key2);
	espat_wsc_abort(&w2);
	espat_wsc_abort(&w);
	advance(f, 100);
	assert_string_equal(p.log, "OF1,1,2E"); /* abort: no callback */
	all_closed(f, &w);
}

static void refused_upgrades(void **state)
{
	struct fx *f = *state;
	join(f);
	static const char *const answers[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: {A}\r\n\r\n",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
	    "Sec-WebSocket-Accept: {A}\r\n\r\n",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: {A}\r\n\r\n",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: {A}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
	    "SSH-2.0-x\r\n",
	};
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct espat_wsc w = {0};
		struct probe p = {0};
		struct srv s;
		start(f, &w, &p, &plain, &s);
		srv_answer(&s, answers[i], "\x81\x01x", 3);
		advance(f, 10);
		assert_string_equal(p.log, "O"); /* and no frame */
		assert_int_equal(p.open_err, ESPAT_NET_EIO);
		assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
		all_closed(f, &w);
	}
	/* the connection ends before the answer: closed, reset */
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start(f, &w, &p, &plain, &s);
	espat_mem_conn_send(s.c, "HTTP/1.1 101 Sw", 15);
	espat_mem_conn_close(s.c);
	advance(f, 10);
	assert_string_equal(p.log, "O");
	assert_int_equal(p.open_err, ESPAT_NET_EIO);
	all_closed(f, &w);
	struct probe q = {0};
	start(f, &w, &q, &plain, &s);
	espat_mem_conn_reset(s.c);
	advance(f, 10);
	assert_string_equal(q.log, "O");
	assert_int_equal(q.open_err, ESPAT_NET_ERESET);
	all_closed(f, &w);
	/* no answer: the request's timeout bounds connect and upgrade together */
	struct probe t = {0};
	struct espat_wsc_req r = plain;
	r.timeout_ms = 2000;
	start(f, &w, &t, &r, &s); /* 50 ms of it gone */
	advance(f, 1900);
	assert_string_equal(t.log, "");
	advance(f, 50);
	assert_string_equal(t.log, "O");
	assert_int_equal(t.open_err, ESPAT_NET_ETIMEDOUT);
	all_closed(f, &w);
	/* nothing listens */
	espat_net_mem_unserve(&f->tp.net, (struct espat_endpoint){espat_mem_ip(PEER), 80});
	struct probe u = {0};
	int err = 0;
	u.w = &w;
	assert_int_equal(espat_wsc_open(&w, &f->m, &plain, &cbs, &u, &err), 0);
	advance(f, 100);
	assert_string_equal(u.log, "O");
	assert_int_equal(u.open_err, ESPAT_NET_EREFUSED);
	all_closed(f, &w);
}

static void frames_in_tiny_pieces(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start_open(f, &w, &p, &s);
	espat_mem_conn_set_chunk(s.c, 1);
	uint8_t big[300];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	srv_send(&s, ESPAT_WS_TEXT, true, "hello", 5, NULL);
	srv_send(&s, ESPAT_WS_BINARY, false, "abc", 3, NULL);
	srv_send(&s, ESPAT_WS_PONG, true, "", 0, NULL); /* between the fragments */
	srv_send(&s, ESPAT_WS_CONT, false, "", 0, NULL);
	srv_send(&s, ESPAT_WS_CONT, true, "defg", 4, NULL);
	srv_send(&s, ESPAT_WS_BINARY, true, big, sizeof(big), NULL);
	advance(f, 10);
	assert_string_equal(p.log, "OF1,1,5EF2,0,3EPF0,0,0EF0,1,4EF2,1,300E");
	assert_int_equal(p.data_len, 12 + sizeof(big));
	assert_memory_equal(p.data, "helloabcdefg", 12);
	assert_memory_equal(p.data + 12, big, sizeof(big));
	srv_quiet(&s);
	espat_wsc_abort(&w);
	all_closed(f, &w);
}

static void ping_answered_with_masked_pong(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start_open(f, &w, &p, &s);
	srv_send(&s, ESPAT_WS_PING, true, "are you there", 13, NULL);
	srv_send(&s, ESPAT_WS_PING, true, "", 0, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "O"); /* pings are the client's business */
	uint8_t op, pl[200];
	bool fin;
	assert_int_equal(srv_frame(&s, &op, &fin, pl, sizeof(pl)), 13);
	assert_int_equal(op, ESPAT_WS_PONG);
	assert_true(fin);
	assert_memory_equal(pl, "are you there", 13);
	assert_int_equal(srv_frame(&s, &op, &fin, pl, sizeof(pl)), 0);
	assert_int_equal(op, ESPAT_WS_PONG);
	srv_quiet(&s);
	espat_wsc_abort(&w);
	all_closed(f, &w);
}

static void client_sends_masked(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_TEXT, true, (const uint8_t *)"x", 1),
	                 ESPAT_NET_EINVAL); /* idle */
	start(f, &w, &p, &plain, &s);
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_TEXT, true, (const uint8_t *)"x", 1),
	                 ESPAT_NET_EINVAL); /* not open yet */
	srv_answer(&s, ok101, NULL, 0);
	advance(f, 10);
	assert_int_equal(p.drains, 0); /* the request's drained() is not the owner's */
	static uint8_t big[3000], got[4000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_TEXT, true, (const uint8_t *)"hello", 5), 0);
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_BINARY, false, big, sizeof(big)), 0);
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_CONT, true, (const uint8_t *)"z", 1), 0);
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_PING, true, (const uint8_t *)"p", 1), 0);
	/* a close goes through espat_wsc_close(); a control frame fits 125 */
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_CLOSE, true, NULL, 0), ESPAT_NET_EINVAL);
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_PING, true, big, 126), ESPAT_NET_EINVAL);
	assert_int_equal(espat_wsc_send(&w, 0x3, true, NULL, 0), ESPAT_NET_EINVAL);
	advance(f, 10);
	assert_true(p.drains >= 1);
	assert_int_equal(espat_wsc_queued(&w), 0);
	uint8_t op;
	bool fin;
	assert_int_equal(srv_frame(&s, &op, &fin, got, sizeof(got)), 5);
	assert_int_equal(op, ESPAT_WS_TEXT);
	assert_true(fin);
	assert_memory_equal(got, "hello", 5);
	assert_int_equal(srv_frame(&s, &op, &fin, got, sizeof(got)), sizeof(big));
	assert_int_equal(op, ESPAT_WS_BINARY);
	assert_false(fin);
	assert_memory_equal(got, big, sizeof(big));
	assert_int_equal(srv_frame(&s, &op, &fin, got, sizeof(got)), 1);
	assert_int_equal(op, ESPAT_WS_CONT);
	assert_true(fin);
	assert_int_equal(got[0], 'z');
	assert_int_equal(srv_frame(&s, &op, &fin, got, sizeof(got)), 1);
	assert_int_equal(op, ESPAT_WS_PING);
	srv_quiet(&s);
	/* pause holds what comes in */
	espat_wsc_pause(&w, true);
	srv_send(&s, ESPAT_WS_TEXT, true, "later", 5, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "O");
	espat_wsc_pause(&w, false);
	advance(f, 10);
	assert_string_equal(p.log, "OF1,1,5E");
	espat_wsc_abort(&w);
	all_closed(f, &w);
}

static void server_initiated_close(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start_open(f, &w, &p, &s);
	srv_send(&s, ESPAT_WS_CLOSE, true, "\x03\xe9going away", 12, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "OC");
	assert_int_equal(p.close_err, 0);
	assert_int_equal(p.close_code, 1001);
	srv_gets_close(&s, 1001); /* the code echoed, no reason */
	srv_quiet(&s);
	assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	assert_true(s.c->fin);
	all_closed(f, &w);
	/* a close without a code: an empty one back, and 1005 */
	struct probe q = {0};
	start_open(f, &w, &q, &s);
	srv_send(&s, ESPAT_WS_CLOSE, true, "", 0, NULL);
	advance(f, 10);
	assert_string_equal(q.log, "OC");
	assert_int_equal(q.close_err, 0);
	assert_int_equal(q.close_code, 1005);
	srv_gets_close(&s, 0);
	all_closed(f, &w);
}

static void client_initiated_close_answered(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start_open(f, &w, &p, &s);
	espat_wsc_close(&w, 1000);
	assert_int_equal(w.state, ESPAT_WSC_CLOSING);
	assert_int_equal(espat_wsc_send(&w, ESPAT_WS_TEXT, true, (const uint8_t *)"x", 1),
	                 ESPAT_NET_EINVAL); /* nothing after our close */
	advance(f, 10);
	srv_gets_close(&s, 1000);
	/* what the server sent before its answer still arrives; its ping is
	 * not answered any more */
	srv_send(&s, ESPAT_WS_TEXT, true, "late", 4, NULL);
	srv_send(&s, ESPAT_WS_PING, true, "", 0, NULL);
	srv_send(&s, ESPAT_WS_CLOSE, true, "\x03\xe8", 2, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "OF1,1,4EC");
	assert_int_equal(p.close_err, 0);
	assert_int_equal(p.close_code, 1000);
	srv_quiet(&s);
	assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL);
	all_closed(f, &w);
	advance(f, ESPAT_WSC_CLOSE_WAIT_MS); /* the wait ended with it */
	assert_string_equal(p.log, "OF1,1,4EC");
}

static void close_never_answered(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start_open(f, &w, &p, &s);
	espat_wsc_close(&w, 4000);
	advance(f, ESPAT_WSC_CLOSE_WAIT_MS - 1);
	assert_string_equal(p.log, "O");
	advance(f, 1);
	assert_string_equal(p.log, "OC");
	assert_int_equal(p.close_err, ESPAT_NET_ETIMEDOUT);
	assert_int_equal(p.close_code, 1006);
	srv_gets_close(&s, 4000);
	assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	all_closed(f, &w);
	/* while the upgrade is under way a close aborts, without a word */
	struct probe q = {0};
	start(f, &w, &q, &plain, &s);
	srv_answer(&s, ok101, NULL, 0);
	espat_wsc_close(&w, 1000); /* before the answer is read */
	advance(f, 100);
	assert_string_equal(q.log, "");
	all_closed(f, &w);
	struct probe r = {0};
	int err = 0;
	assert_int_equal(espat_wsc_open(&w, &f->m, &plain, &cbs, &r, &err), 0);
	espat_wsc_close(&w, 1000); /* connecting */
	advance(f, 100);
	assert_string_equal(r.log, "");
	all_closed(f, &w);
}

static void reset_mid_frame(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start_open(f, &w, &p, &s);
	const uint8_t part[] = {0x82, 10, 'a', 'b', 'c'}; /* 3 of 10 payload bytes */
	assert_int_equal(espat_mem_conn_send(s.c, part, sizeof(part)), 0);
	advance(f, 10);
	assert_string_equal(p.log, "OF2,1,10");
	espat_mem_conn_reset(s.c);
	advance(f, 10);
	assert_string_equal(p.log, "OF2,1,10C");
	assert_int_equal(p.close_err, ESPAT_NET_ERESET);
	assert_int_equal(p.close_code, 1006);
	assert_int_equal(p.data_len, 3);
	all_closed(f, &w);
	/* a FIN without a close frame */
	struct probe q = {0};
	start_open(f, &w, &q, &s);
	espat_mem_conn_close(s.c);
	advance(f, 10);
	assert_string_equal(q.log, "OC");
	assert_int_equal(q.close_err, ESPAT_NET_ERESET);
	assert_int_equal(q.close_code, 1006);
	assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_GRACEFUL); /* no RST for a FIN */
	all_closed(f, &w);
}

static void masked_server_frame_fails(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	start_open(f, &w, &p, &s);
	const uint8_t key[4] = {1, 2, 3, 4};
	srv_send(&s, ESPAT_WS_TEXT, true, "hi", 2, key);
	srv_send(&s, ESPAT_WS_TEXT, true, "after", 5, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "OC");
	assert_int_equal(p.close_err, ESPAT_NET_EIO);
	assert_int_equal(p.close_code, 1002);
	srv_gets_close(&s, 1002); /* best effort, before the abort */
	assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	all_closed(f, &w);
}

static void wss_asks_for_tls(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	struct srv s;
	struct espat_wsc_req r = {
	    .host = "ws.test", .host_len = 7, .port = 443, .secure = true, .path = "/mqtt"};
	start(f, &w, &p, &r, &s);
	assert_true(s.c->tls);
	assert_false(s.c->tls_verify); /* no settings: no checks */
	assert_string_equal(s.c->tls_sni, "ws.test");
	assert_int_equal(s.c->peer.port, 443);
	char req[1024];
	srv_request(&s, req, sizeof(req));
	assert_true(strncmp(req, "GET /mqtt HTTP/1.1\r\nHost: ws.test\r\n", 35) == 0);
	espat_wsc_abort(&w);
	all_closed(f, &w);
}

static void abort_from_callbacks(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {.abort_in_data = true};
	struct srv s;
	start_open(f, &w, &p, &s);
	srv_send(&s, ESPAT_WS_TEXT, true, "abc", 3, NULL);
	srv_send(&s, ESPAT_WS_PING, true, "x", 1, NULL);
	srv_send(&s, ESPAT_WS_TEXT, true, "def", 3, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "OF1,1,3"); /* nothing after the abort */
	assert_int_equal(p.data_len, 3);
	srv_quiet(&s); /* no pong */
	assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	all_closed(f, &w);
	/* from open(), with a frame behind the 101 */
	struct probe q = {.abort_in_open = true};
	start(f, &w, &q, &plain, &s);
	srv_answer(&s, ok101, "\x81\x01x", 3);
	advance(f, 10);
	assert_string_equal(q.log, "O");
	assert_int_equal(q.open_err, 0);
	all_closed(f, &w);
}

static void bad_requests_refused_at_once(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {0};
	int err = 0;
	const char *evil[] = {"X-Evil: a\r\nInjected: yes"};
	const char *many[ESPAT_WSC_HEADERS_MAX + 1];
	for (size_t i = 0; i < ESPAT_WSC_HEADERS_MAX + 1; i++)
		many[i] = "X-A: b";
	struct espat_wsc_req bad[] = {
	    {.host = "ws.test", .host_len = 7, .port = 80, .path = "chat"},
	    {.host = "ws.test", .host_len = 7, .port = 80, .path = "/a b"},
	    {.host = "ws.test", .host_len = 7, .port = 80, .headers = evil, .nheaders = 1},
	    {.host = "ws.test",
	     .host_len = 7,
	     .port = 80,
	     .headers = many,
	     .nheaders = ESPAT_WSC_HEADERS_MAX + 1},
	    {.host = "ws.test", .host_len = 7, .port = 80, .protocol = ""},
	    {.host = "", .host_len = 0, .port = 80},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(espat_wsc_open(&w, &f->m, &bad[i], &cbs, &p, &err), -1);
		assert_int_equal(err, ESPAT_NET_EINVAL);
		assert_false(espat_wsc_busy(&w));
	}
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	assert_int_equal(espat_wsc_open(&w, &f->m, &plain, &cbs, &p, &err), -1);
	assert_int_equal(err, ESPAT_NET_EUNREACH);
	advance(f, 100);
	assert_string_equal(p.log, "");
	all_closed(f, &w);
}

static void on_ping(void *user)
{
	logs(user, "I");
}

static const struct espat_wsc_cbs cbs_ping = {
    .open = on_open,
    .frame_start = on_frame_start,
    .data = on_data,
    .frame_end = on_frame_end,
    .pong = on_pong,
    .ping = on_ping,
    .closed = on_closed,
};

/* ping() follows each ping, after the pong went out; a close may carry a
 * reason, and a code that may not be sent or a reason that is not UTF-8
 * changes nothing. */
static void ping_callback_and_close_reason(void **state)
{
	struct fx *f = *state;
	join(f);
	struct espat_wsc w = {0};
	struct probe p = {.w = &w};
	struct srv s;
	int err = -1;
	assert_int_equal(espat_wsc_open(&w, &f->m, &plain, &cbs_ping, &p, &err), 0);
	advance(f, 50);
	memset(&s, 0, sizeof(s));
	s.c = espat_net_mem_last_conn(&f->tp.net);
	srv_answer(&s, ok101, NULL, 0);
	advance(f, 10);
	srv_send(&s, ESPAT_WS_PING, true, "a", 1, NULL);
	srv_send(&s, ESPAT_WS_PONG, true, "", 0, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "OIP");
	uint8_t op, pl[200];
	bool fin;
	assert_int_equal(srv_frame(&s, &op, &fin, pl, sizeof(pl)), 1);
	assert_int_equal(op, ESPAT_WS_PONG);
	assert_int_equal(espat_wsc_close_reason(&w, 1005, (const uint8_t *)"x", 1),
	                 ESPAT_NET_EINVAL);
	assert_int_equal(espat_wsc_close_reason(&w, 999, NULL, 0), ESPAT_NET_EINVAL);
	assert_int_equal(espat_wsc_close_reason(&w, 4000, (const uint8_t *)"\xff", 1),
	                 ESPAT_NET_EINVAL);
	assert_int_equal(w.state, ESPAT_WSC_OPEN);
	srv_quiet(&s);
	assert_int_equal(espat_wsc_close_reason(&w, 4000, (const uint8_t *)"bye", 3), 0);
	assert_int_equal(w.state, ESPAT_WSC_CLOSING);
	advance(f, 10);
	assert_int_equal(srv_frame(&s, &op, &fin, pl, sizeof(pl)), 5);
	assert_int_equal(op, ESPAT_WS_CLOSE);
	assert_memory_equal(pl,
	                    "\x0f\xa0"
	                    "bye",
	                    5);
	srv_send(&s, ESPAT_WS_CLOSE, true, "\x0f\xa0", 2, NULL);
	advance(f, 10);
	assert_string_equal(p.log, "OIPC");
	assert_int_equal(p.close_code, 4000);
	all_closed(f, &w);
	/* 1005 without a reason: an empty close frame */
	struct probe q = {.w = &w};
	start_open(f, &w, &q, &s);
	assert_int_equal(espat_wsc_close_reason(&w, 1005, NULL, 0), 0);
	advance(f, 10);
	srv_gets_close(&s, 0);
	espat_wsc_abort(&w);
	all_closed(f, &w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(upgrade_request_and_frames_after_head, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(refused_upgrades, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(frames_in_tiny_pieces, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(ping_answered_with_masked_pong, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(client_sends_masked, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(server_initiated_close, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(client_initiated_close_answered, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(close_never_answered, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(reset_mid_frame, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(masked_server_frame_fails, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(wss_asks_for_tls, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(abort_from_callbacks, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(bad_requests_refused_at_once, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(ping_callback_and_close_reason, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
