/* The WebSocket commands (src/cmd/ws.c) with exact AT output bytes, against
 * servers scripted byte by byte on the in-memory network (as
 * test_wsc.c plays them): open, send, receive (all byte values, pieces of
 * <buffer_size>, fragments, empty frames), both closing handshakes, the
 * ping interval and pong timeout on the module clock, reconnection, the AP
 * going, AT+WSHEAD, auth and subprotocol, wss, and every error. */
#include "support.h"

#include "cmd/ws.h"
#include "module_fixture.h"
#include "testport/net_mem.h"
#include "ws_server.h"

static void srv_gets(struct srv *s, uint8_t want_op, const void *want, size_t want_n)
{
	uint8_t op, pl[8192];
	bool fin;
	size_t n = srv_frame(s, &op, &fin, pl, sizeof(pl));
	assert_int_equal(op, want_op);
	assert_true(fin);
	assert_int_equal(n, want_n);
	if (want_n)
		assert_memory_equal(pl, want, want_n);
}

/* Takes the upgrade request (into req when given) and answers 101. */
static void srv_accept(struct srv *s, char *req, size_t cap)
{
	char r[2048], key[ESPAT_WS_KEY_SIZE], acc[ESPAT_WS_ACCEPT_SIZE], out[512];
	srv_request(s, r, sizeof(r));
	key_of(r, key);
	assert_true(espat_ws_accept(acc, key, strlen(key)));
	const char *cut = strstr(ok101, "{A}");
	int n = snprintf(out, sizeof(out), "%.*s%s\r\n\r\n", (int)(cut - ok101), ok101, acc);
	assert_int_equal(espat_mem_conn_send(s->c, out, (size_t)n), 0);
	if (req)
		snprintf(req, cap, "%s", r);
}

/* AT+WSOPEN=<link>,"<uri>"... up to the server holding the request. */
static void open_start(struct fx *f, const char *line, struct srv *s)
{
	send(f, line);
	expect(f, "");
	advance(f, 50);
	memset(s, 0, sizeof(*s));
	s->c = espat_net_mem_last_conn(&f->tp.net);
	assert_non_null(s->c);
}

/* ... and through the upgrade: +WS_CONNECTED:<link> then OK. */
static void open_link(struct fx *f, int link, const char *uri, struct srv *s, char *req, size_t cap)
{
	char line[512], want[64];
	snprintf(line, sizeof(line), "AT+WSOPEN=%d,\"%s\"\r\n", link, uri);
	open_start(f, line, s);
	srv_accept(s, req, cap);
	advance(f, 10);
	snprintf(want, sizeof(want), "+WS_CONNECTED:%d\r\n\r\nOK\r\n", link);
	expect(f, want);
}

/* AT+WSSEND of data (n bytes) with the given arguments after the length. */
static void wssend(struct fx *f, const char *args, const void *data, size_t n)
{
	char line[128];
	snprintf(line, sizeof(line), "AT+WSSEND=%s\r\n", args);
	cmd(f, line, "\r\nOK\r\n>");
	sendn(f, data, n);
	advance(f, 10);
	expect(f, "\r\nSEND OK\r\n");
}

static void all_closed(struct fx *f)
{
	advance(f, 10);
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
}

/* ---- tests ----------------------------------------------------------------- */

/* The guide's 4.8.1: open, send "test", the echo, then AT+WSCLOSE. */
static void open_send_echo_close(void **state)
{
	struct fx *f = *state;
	join(f);
	cmd(f, "AT+WSOPEN?\r\n", "\r\nOK\r\n");
	struct srv s;
	char req[2048];
	open_link(f, 0, "ws://ws.test:8080/chat?x=1#frag", &s, req, sizeof(req));
	assert_true(strncmp(req, "GET /chat?x=1 HTTP/1.1\r\nHost: ws.test:8080\r\n", 44) == 0);
	assert_null(strstr(req, "Sec-WebSocket-Protocol"));
	assert_null(strstr(req, "uthorization"));
	cmd(f, "AT+WSOPEN?\r\n", "+WSOPEN:0,2,\"ws://ws.test:8080/chat?x=1#frag\"\r\n\r\nOK\r\n");
	wssend(f, "0,4", "test", 4);
	srv_gets(&s, ESPAT_WS_TEXT, "test", 4);
	srv_send(&s, ESPAT_WS_TEXT, true, "test", 4, NULL);
	advance(f, 10);
	expect(f, "+WS_DATA:0,4,test\r\n");
	send(f, "AT+WSCLOSE=0\r\n");
	advance(f, 10);
	expect(f, ""); /* the handshake first */
	srv_gets(&s, ESPAT_WS_CLOSE, "\x03\xe8", 2);
	cmd(f, "AT+WSOPEN?\r\n", "busy p...\r\n");
	srv_send(&s, ESPAT_WS_CLOSE, true, "\x03\xe8", 2, NULL);
	advance(f, 10);
	expect(f, "+WS_CLOSED:0\r\n\r\nOK\r\n");
	cmd(f, "AT+WSOPEN?\r\n", "\r\nOK\r\n");
	all_closed(f);
	/* a close never answered ends after the wait, the same way */
	open_link(f, 1, "ws://ws.test/", &s, NULL, 0);
	send(f, "AT+WSCLOSE=1\r\n");
	advance(f, ESPAT_WSC_CLOSE_WAIT_MS - 1);
	expect(f, "");
	advance(f, 1);
	expect(f, "+WS_CLOSED:1\r\n\r\nOK\r\n");
	all_closed(f);
}

static void binary_pieces_and_fragments(void **state)
{
	struct fx *f = *state;
	join(f);
	cmd(f, "AT+WSCFG=2,10,120,100\r\n", "\r\nOK\r\n");
	struct srv s;
	open_link(f, 2, "ws://" PEER "/", &s, NULL, 0);
	uint8_t all[256];
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	espat_mem_conn_set_chunk(s.c, 7); /* the frame arrives in little pieces */
	srv_send(&s, ESPAT_WS_BINARY, true, all, sizeof(all), NULL);
	advance(f, 10);
	static char want[1024];
	size_t w = 0;
	w += (size_t)sprintf(want + w, "+WS_DATA:2,100,");
	memcpy(want + w, all, 100), w += 100;
	w += (size_t)sprintf(want + w, "\r\n+WS_DATA:2,100,");
	memcpy(want + w, all + 100, 100), w += 100;
	w += (size_t)sprintf(want + w, "\r\n+WS_DATA:2,56,");
	memcpy(want + w, all + 200, 56), w += 56;
	w += (size_t)sprintf(want + w, "\r\n");
	expectn(f, want, w);
	/* a fragmented message comes out reassembled (an empty last fragment
	 * adds nothing); a ping between its fragments is answered, not shown */
	srv_send(&s, ESPAT_WS_TEXT, false, "ab", 2, NULL);
	srv_send(&s, ESPAT_WS_PING, true, "hi", 2, NULL);
	srv_send(&s, ESPAT_WS_CONT, false, "cd", 2, NULL);
	srv_send(&s, ESPAT_WS_CONT, true, "", 0, NULL);
	advance(f, 50);
	expect(f, "+WS_DATA:2,4,abcd\r\n");
	/* an empty message is reported as one; a message longer than
	 * <buffer_size> in pieces of it, whatever its fragments */
	srv_send(&s, ESPAT_WS_TEXT, true, "", 0, NULL);
	advance(f, 50);
	expect(f, "+WS_DATA:2,0,\r\n");
	srv_send(&s, ESPAT_WS_BINARY, false, all, 60, NULL);
	srv_send(&s, ESPAT_WS_CONT, false, all + 60, 60, NULL);
	srv_send(&s, ESPAT_WS_CONT, true, all + 120, 10, NULL);
	advance(f, 50);
	w = (size_t)sprintf(want, "+WS_DATA:2,100,");
	memcpy(want + w, all, 100), w += 100;
	w += (size_t)sprintf(want + w, "\r\n+WS_DATA:2,30,");
	memcpy(want + w, all + 100, 30), w += 30;
	w += (size_t)sprintf(want + w, "\r\n");
	expectn(f, want, w);
	srv_gets(&s, ESPAT_WS_PONG, "hi", 2);
	/* out: <length> up to <buffer_size> - 10, every byte value, opcodes */
	cmd(f, "AT+WSSEND=2,91\r\n", "\r\nERROR\r\n");
	wssend(f, "2,90,2", all + 166, 90);
	srv_gets(&s, ESPAT_WS_BINARY, all + 166, 90);
	wssend(f, "2,3,0x9", "p\r\n", 3);
	srv_gets(&s, ESPAT_WS_PING, "p\r\n", 3);
	wssend(f, "2,1,10", "q", 1);
	srv_gets(&s, ESPAT_WS_PONG, "q", 1);
	wssend(f, "2,2,0,0", "zz", 2);
	srv_gets(&s, ESPAT_WS_CONT, "zz", 2);
	srv_quiet(&s);
	/* AT+WSCFG now changes nothing until the next AT+WSOPEN */
	cmd(f, "AT+WSCFG=2,10,120\r\n", "\r\nOK\r\n");
	cmd(f, "AT+WSSEND=2,91\r\n", "\r\nERROR\r\n");
	/* a close frame sent as data: its code and reason go out as given */
	wssend(f, "2,5,8",
	       "\x0f\xa0"
	       "bye",
	       5);
	srv_gets(&s, ESPAT_WS_CLOSE,
	         "\x0f\xa0"
	         "bye",
	         5);
	srv_send(&s, ESPAT_WS_CLOSE, true, "\x0f\xa0", 2, NULL);
	advance(f, 10);
	expect(f, "+WS_CLOSED:2\r\n");
	all_closed(f);
}

static void ping_interval_pong_timeout_reconnect(void **state)
{
	struct fx *f = *state;
	join(f);
	cmd(f, "AT+WSCFG=0,2,5\r\n", "\r\nOK\r\n");
	struct srv s;
	open_link(f, 0, "ws://ws.test/", &s, NULL, 0);
	advance(f, 1989);
	srv_quiet(&s);
	advance(f, 1);
	srv_gets(&s, ESPAT_WS_PING, NULL, 0); /* 2 s after the upgrade */
	srv_send(&s, ESPAT_WS_PONG, true, "", 0, NULL);
	advance(f, 1);
	/* what the server sends puts the next ping off */
	advance(f, 1500);
	srv_send(&s, ESPAT_WS_TEXT, true, "x", 1, NULL);
	advance(f, 1);
	expect(f, "+WS_DATA:0,1,x\r\n");
	advance(f, 1998);
	srv_quiet(&s);
	advance(f, 2);
	srv_gets(&s, ESPAT_WS_PING, NULL, 0);
	/* no pong from here: pings go on, the timeout counts from the first */
	advance(f, 2000);
	srv_gets(&s, ESPAT_WS_PING, NULL, 0);
	advance(f, 2000);
	srv_gets(&s, ESPAT_WS_PING, NULL, 0);
	advance(f, 990);
	expect(f, "");
	advance(f, 10); /* 5 s after the first ping not answered */
	expect(f, "+WS_DISCONNECTED:0\r\n");
	assert_int_equal(s.c->closed_by_module, ESPAT_MEM_CLOSED_ABORT);
	cmd(f, "AT+WSOPEN?\r\n", "+WSOPEN:0,3,\"ws://ws.test/\"\r\n\r\nOK\r\n");
	/* 10 s on, the link dials again (state 1) and is back */
	advance(f, 9950);
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
	advance(f, 60);
	cmd(f, "AT+WSOPEN?\r\n", "+WSOPEN:0,1,\"ws://ws.test/\"\r\n\r\nOK\r\n");
	advance(f, 50);
	struct srv s2 = {.c = espat_net_mem_last_conn(&f->tp.net)};
	assert_true(s2.c != s.c);
	srv_accept(&s2, NULL, 0);
	advance(f, 10);
	expect(f, "+WS_CONNECTED:0\r\n");
	cmd(f, "AT+WSOPEN?\r\n", "+WSOPEN:0,2,\"ws://ws.test/\"\r\n\r\nOK\r\n");
	/* the server going without a close frame breaks it the same way; a
	 * failed attempt waits for the next one quietly */
	espat_net_mem_unserve(&f->tp.net, (struct espat_endpoint){espat_mem_ip(PEER), 80});
	espat_mem_conn_close(s2.c);
	advance(f, 10);
	expect(f, "+WS_DISCONNECTED:0\r\n");
	advance(f, 10000 + 100);
	expect(f, "");
	cmd(f, "AT+WSOPEN?\r\n", "+WSOPEN:0,3,\"ws://ws.test/\"\r\n\r\nOK\r\n");
	/* AT+WSCLOSE between attempts */
	cmd(f, "AT+WSCLOSE=0\r\n", "+WS_CLOSED:0\r\n\r\nOK\r\n");
	advance(f, 30000);
	expect(f, "");
	cmd(f, "AT+WSOPEN?\r\n", "\r\nOK\r\n");
	all_closed(f);
}

static void server_closes(void **state)
{
	struct fx *f = *state;
	join(f);
	struct srv s;
	open_link(f, 0, "ws://ws.test/", &s, NULL, 0);
	srv_send(&s, ESPAT_WS_TEXT, true, "last", 4, NULL);
	srv_send(&s, ESPAT_WS_CLOSE, true,
	         "\x03\xe9"
	         "going away",
	         12, NULL);
	advance(f, 10);
	expect(f, "+WS_DATA:0,4,last\r\n+WS_CLOSED:0\r\n");
	srv_gets(&s, ESPAT_WS_CLOSE, "\x03\xe9", 2);
	cmd(f, "AT+WSOPEN?\r\n", "\r\nOK\r\n");
	advance(f, 20000); /* no reconnect after a clean close */
	expect(f, "");
	all_closed(f);
	/* a protocol violation (a masked server frame) is a break */
	open_link(f, 0, "ws://ws.test/", &s, NULL, 0);
	const uint8_t bad[] = {0x81, 0x81, 1, 2, 3, 4, 'x'};
	espat_mem_conn_send(s.c, bad, sizeof(bad));
	advance(f, 10);
	expect(f, "+WS_DISCONNECTED:0\r\n");
	cmd(f, "AT+WSCLOSE=0\r\n", "+WS_CLOSED:0\r\n\r\nOK\r\n");
	all_closed(f);
}

static void ap_leaves(void **state)
{
	struct fx *f = *state;
	join(f);
	struct srv s;
	open_link(f, 1, "ws://ws.test/", &s, NULL, 0);
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n+WS_DISCONNECTED:1\r\n");
	cmd(f, "AT+WSSEND=1,1\r\n", "\r\nERROR\r\n");
	advance(f, 10000);
	cmd(f, "AT+WSOPEN?\r\n", "+WSOPEN:1,3,\"ws://ws.test/\"\r\n\r\nOK\r\n");
	/* no way out: AT+WSOPEN fails at once */
	cmd(f, "AT+WSOPEN=0,\"ws://ws.test/\"\r\n", "\r\nERROR\r\n");
	/* back on the AP: the next attempt gets through */
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	advance(f, 10000);
	struct srv s2 = {.c = espat_net_mem_last_conn(&f->tp.net)};
	assert_true(s2.c != s.c);
	srv_accept(&s2, NULL, 0);
	advance(f, 10);
	expect(f, "+WS_CONNECTED:1\r\n");
	cmd(f, "AT+WSCLOSE=1\r\n", "");
	advance(f, 10);
	srv_gets(&s2, ESPAT_WS_CLOSE, "\x03\xe8", 2);
	espat_mem_conn_close(s2.c); /* a FIN instead of the answer */
	advance(f, 10);
	expect(f, "+WS_CLOSED:1\r\n\r\nOK\r\n");
	all_closed(f);
}

static void headers_auth_protocol_wss(void **state)
{
	struct fx *f = *state;
	join(f);
	static const char hdr[] = "AUTHORIZATION: Basic QTIzMzIyMDE5OTk6MTIzNDU2Nzg=";
	cmd(f, "AT+WSHEAD?\r\n", "\r\nOK\r\n");
	cmd(f, "AT+WSHEAD=49\r\n", "\r\nOK\r\n>");
	cmd(f, hdr, "\r\nOK\r\n");
	cmd(f, "AT+WSHEAD=10\r\n", "\r\nOK\r\n>");
	cmd(f, "X-Test: 1\"", "\r\nOK\r\n");
	cmd(f, "AT+WSHEAD=9\r\n", "\r\nOK\r\n>");
	cmd(f, "x-test: 2", "\r\nOK\r\n"); /* the same name: replaced */
	cmd(f, "AT+WSHEAD?\r\n",
	    "+WSHEAD:0,\"AUTHORIZATION: Basic QTIzMzIyMDE5OTk6MTIzNDU2Nzg=\"\r\n"
	    "+WSHEAD:1,\"x-test: 2\"\r\n\r\nOK\r\n");
	/* not a header line */
	cmd(f, "AT+WSHEAD=7\r\n", "\r\nOK\r\n>");
	cmd(f, "nocolon", "\r\nERROR\r\n");
	cmd(f, "AT+WSHEAD=6\r\n", "\r\nOK\r\n>");
	cmd(f, "a\r\nb:c", "\r\nERROR\r\n");
	cmd(f, "AT+WSHEAD=3\r\n", "\r\nOK\r\n>");
	cmd(f, ": x", "\r\nERROR\r\n");
	struct srv s;
	char req[2048];
	open_start(f, "AT+WSOPEN=1,\"wss://ws.test/v3/ch?k=1\",\"chat\",5000,\"Bearer t\"\r\n", &s);
	assert_true(s.c->tls);
	assert_false(s.c->tls_verify);
	assert_false(s.c->tls_cert);
	assert_string_equal(s.c->tls_sni, "ws.test");
	assert_int_equal(s.c->peer.port, 443);
	srv_accept(&s, req, sizeof(req));
	advance(f, 10);
	expect(f, "+WS_CONNECTED:1\r\n\r\nOK\r\n");
	assert_true(strncmp(req, "GET /v3/ch?k=1 HTTP/1.1\r\nHost: ws.test\r\n", 40) == 0);
	assert_non_null(strstr(req, "\r\nSec-WebSocket-Protocol: chat\r\n"));
	assert_non_null(strstr(req, "\r\n"
	                            "AUTHORIZATION: Basic QTIzMzIyMDE5OTk6MTIzNDU2Nzg=\r\n"));
	assert_non_null(strstr(req, "\r\nx-test: 2\r\n"));
	assert_non_null(strstr(req, "\r\nAuthorization: Bearer t\r\n"));
	cmd(f, "AT+WSOPEN?\r\n", "+WSOPEN:1,2,\"wss://ws.test/v3/ch?k=1\"\r\n\r\nOK\r\n");
	/* AT+WSHEAD=0 clears them all */
	cmd(f, "AT+WSHEAD=0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+WSHEAD?\r\n", "\r\nOK\r\n");
	/* mutual authentication (the guide's 4.8.2 settings): the client_*
	 * PKI, the server verified, our certificate presented */
	cmd(f, "AT+WSCFG=0,30,60,4096,3,0,0\r\n", "\r\nOK\r\n");
	struct srv t;
	open_start(f, "AT+WSOPEN=0,\"wss://ws.test:8080\"\r\n", &t);
	assert_true(t.c->tls);
	assert_true(t.c->tls_verify);
	assert_true(t.c->tls_cert);
	srv_accept(&t, req, sizeof(req));
	advance(f, 10);
	expect(f, "+WS_CONNECTED:0\r\n\r\nOK\r\n");
	cmd(f, "AT+WSOPEN?\r\n",
	    "+WSOPEN:0,2,\"wss://ws.test:8080\"\r\n+WSOPEN:1,2,\"wss://ws.test/v3/ch?k=1\"\r\n"
	    "\r\nOK\r\n");
	/* a power cut forgets everything */
	fx_power_cycle(f);
	cmd(f, "AT+WSOPEN?\r\n", "\r\nOK\r\n");
	all_closed(f);
}

static void errors(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	/* no way out yet */
	cmd(f, "AT+WSOPEN=0,\"ws://" PEER "/\"\r\n", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	join(f);
	static const char *const bad[] = {
	    "AT+WSOPEN=3,\"ws://ws.test/\"\r\n",
	    "AT+WSOPEN=0,\"http://ws.test/\"\r\n",
	    "AT+WSOPEN=0,\"ws://\"\r\n",
	    "AT+WSOPEN=0,\"ws://a b/\"\r\n",
	    "AT+WSOPEN=0,\"ws://ws.test:0/\"\r\n",
	    "AT+WSOPEN=0\r\n",
	    "AT+WSOPEN=0,\"ws://ws.test/\",,180001\r\n",
	    "AT+WSCFG=0,0,10\r\n",
	    "AT+WSCFG=0,10,7201\r\n",
	    "AT+WSCFG=0,10,10,8193\r\n",
	    "AT+WSCFG=0,10,10,0\r\n",
	    "AT+WSCFG=0,10,10,1024,2\r\n",
	    "AT+WSCFG=0,10,10,1024,4,0,0\r\n",
	    "AT+WSCFG=0,10,10,1024,,0,0\r\n",
	    "AT+WSSEND=0,4\r\n",
	    "AT+WSCLOSE=0\r\n",
	    "AT+WSCLOSE=3\r\n",
	    "AT+WSHEAD=257\r\n",
	    "AT+WSCFG?\r\n",
	    "AT+WSSEND?\r\n",
	    "AT+WSCLOSE\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send(f, bad[i]);
		const char *out = espat_tp_out(&f->tp);
		if (!strstr(out, "\r\nERROR\r\n"))
			fail_msg("%s -> %s", bad[i], out);
		espat_tp_clear(&f->tp);
	}
	/* nothing listens */
	send(f, "AT+WSOPEN=0,\"ws://ws.test:81/\"\r\n");
	advance(f, 100);
	expect(f, "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* a refused upgrade */
	struct srv s;
	open_start(f, "AT+WSOPEN=0,\"ws://ws.test/\"\r\n", &s);
	char r[2048];
	srv_request(&s, r, sizeof(r));
	espat_mem_conn_send(s.c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 45);
	advance(f, 10);
	expect(f, "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* no answer within <timeout_ms> */
	open_start(f, "AT+WSOPEN=0,\"ws://ws.test/\",,1000\r\n", &s);
	advance(f, 940);
	expect(f, "");
	advance(f, 10);
	expect(f, "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSOPEN?\r\n", "\r\nOK\r\n");
	/* the PKI named is not there */
	cmd(f, "AT+WSCFG=0,10,10,1024,1,7,0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+WSOPEN=0,\"wss://ws.test/\"\r\n", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSCFG=0,10,10,1024,0\r\n", "\r\nOK\r\n");
	/* an open link */
	open_link(f, 0, "ws://ws.test/", &s, NULL, 0);
	cmd(f, "AT+WSOPEN=0,\"ws://ws.test/\"\r\n", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,1015\r\n", "ERR CODE:0x01070001\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,0\r\n", "ERR CODE:0x01070001\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,1,3\r\n", "ERR CODE:0x01070002\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,1,0xB\r\n", "ERR CODE:0x01070002\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,1,16\r\n", "ERR CODE:0x01070002\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,126,9\r\n", "ERR CODE:0x01070001\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,1,1,60001\r\n", "ERR CODE:0x01070003\r\n\r\nERROR\r\n");
	/* a close payload that is not one: after the data */
	cmd(f, "AT+WSSEND=0,1,8\r\n", "\r\nOK\r\n>");
	cmd(f, "x", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSSEND=0,2,8\r\n", "\r\nOK\r\n>");
	cmd(f, "\x03\xed", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n"); /* 1005 */
	/* the link breaks while the host types: ERROR at the end */
	cmd(f, "AT+WSSEND=0,4\r\n", "\r\nOK\r\n>");
	sendn(f, "te", 2);
	espat_mem_conn_reset(s.c);
	advance(f, 10);
	expect(f, "+WS_DISCONNECTED:0\r\n");
	cmd(f, "st", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+WSCLOSE=0\r\n", "+WS_CLOSED:0\r\n\r\nOK\r\n");
	cmd(f, "AT\r\n", "\r\nOK\r\n");
	all_closed(f);
}

static void send_timeout_and_back_pressure(void **state)
{
	struct fx *f = *state;
	join(f);
	cmd(f, "AT+WSCFG=0,100,100,8192\r\n", "\r\nOK\r\n");
	struct srv s;
	open_link(f, 0, "ws://ws.test/", &s, NULL, 0);
	/* the peer reads nothing: the send does not drain within <timeout_ms> */
	espat_mem_conn_set_window(s.c, 100);
	static uint8_t big[8182];
	memset(big, 'a', sizeof(big));
	cmd(f, "AT+WSSEND=0,8182,2,500\r\n", "\r\nOK\r\n>");
	sendn(f, big, sizeof(big));
	advance(f, 499);
	expect(f, "");
	advance(f, 1);
	expect(f, "\r\nERROR\r\n");
	cmd(f, "AT+WSCLOSE=0\r\n", "");
	espat_mem_conn_reset(s.c);
	advance(f, 10);
	expect(f, "+WS_CLOSED:0\r\n\r\nOK\r\n");
	all_closed(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(open_send_echo_close, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(binary_pieces_and_fragments, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(ping_interval_pong_timeout_reconnect, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(server_closes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(ap_leaves, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(headers_auth_protocol_wss, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(errors, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(send_timeout_and_back_pressure, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
