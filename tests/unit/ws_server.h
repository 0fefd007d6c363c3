/* A WebSocket server scripted byte by byte on the in-memory network, for
 * the unit tests of the WebSocket client (test_wsc.c) and the AT+WS*
 * commands (test_wsfam.c): the module joins the AP, the server reads the
 * upgrade request and the client's frames (checked masked) and sends
 * frames of its own. Include after module_fixture.h. */
#ifndef ESPAT_TEST_WS_SERVER_H
#define ESPAT_TEST_WS_SERVER_H

#include "proto/ws.h"
#include "testport/net_mem.h"

#define PEER "10.0.0.9"

static inline void join(struct fx *f)
{
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	struct espat_net_mem *n = &f->tp.net;
	const uint16_t ports[] = {80, 443, 8080};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(
		    espat_net_mem_serve(n, (struct espat_endpoint){espat_mem_ip(PEER), ports[i]}),
		    0);
	assert_int_equal(espat_net_mem_dns_add(n, "ws.test", espat_mem_ip(PEER)), 0);
}

/* ---- the scripted server ------------------------------------------------- */

/* What the server read from the client, parsed frame by frame. */
struct srv {
	struct espat_mem_conn *c;
	uint8_t buf[16384];
	size_t len, pos;
};

static inline void srv_fill(struct srv *s)
{
	s->len += espat_mem_conn_take(s->c, s->buf + s->len, sizeof(s->buf) - s->len);
}

/* The upgrade request, whole (it ends with an empty line). */
static inline void srv_request(struct srv *s, char *out, size_t cap)
{
	srv_fill(s);
	const char *end = NULL;
	for (size_t i = s->pos; i + 4 <= s->len && !end; i++)
		if (memcmp(s->buf + i, "\r\n\r\n", 4) == 0)
			end = (const char *)s->buf + i + 4;
	assert_non_null(end);
	size_t n = (size_t)(end - (const char *)s->buf) - s->pos;
	assert_true(n < cap);
	memcpy(out, s->buf + s->pos, n);
	out[n] = 0;
	s->pos += n;
}

/* Sec-WebSocket-Key of a request. */
static inline void key_of(const char *req, char key[ESPAT_WS_KEY_SIZE])
{
	const char *k = strstr(req, "Sec-WebSocket-Key: ");
	assert_non_null(k);
	k += strlen("Sec-WebSocket-Key: ");
	const char *e = strstr(k, "\r\n");
	assert_int_equal(e - k, ESPAT_WS_KEY_SIZE - 1);
	memcpy(key, k, ESPAT_WS_KEY_SIZE - 1);
	key[ESPAT_WS_KEY_SIZE - 1] = 0;
}

/* The client's next frame: it must be masked; its payload unmasked into
 * out. Returns the payload's length. */
static inline size_t srv_frame(struct srv *s, uint8_t *op, bool *fin, uint8_t *out, size_t cap)
{
	srv_fill(s);
	const uint8_t *h = s->buf + s->pos;
	size_t avail = s->len - s->pos;
	assert_true(avail >= 2);
	*fin = (h[0] & 0x80) != 0;
	*op = h[0] & 0x0F;
	assert_int_equal(h[0] & 0x70, 0);    /* no RSV */
	assert_int_equal(h[1] & 0x80, 0x80); /* masked */
	uint64_t len = h[1] & 0x7F;
	size_t at = 2;
	if (len == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
		at = 4;
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
		at = 10;
	}
	assert_true(avail >= at + 4 + len);
	assert_true(len <= cap);
	uint8_t key[4];
	memcpy(key, h + at, 4);
	assert_true(key[0] | key[1] | key[2] | key[3]); /* a key from the randomness */
	memcpy(out, h + at + 4, (size_t)len);
	espat_ws_mask(out, (size_t)len, key, 0);
	s->pos += at + 4 + (size_t)len;
	return (size_t)len;
}

/* The client's next frame is a close with code and no reason (code 0: an
 * empty one). */
static inline void srv_gets_close(struct srv *s, uint16_t code)
{
	uint8_t op, pl[ESPAT_WS_CTRL_MAX];
	bool fin;
	size_t n = srv_frame(s, &op, &fin, pl, sizeof(pl));
	assert_int_equal(op, ESPAT_WS_CLOSE);
	assert_true(fin);
	assert_int_equal(n, code ? 2 : 0);
	if (code)
		assert_int_equal(pl[0] << 8 | pl[1], code);
}

/* Nothing more from the client. */
static inline void srv_quiet(struct srv *s)
{
	srv_fill(s);
	assert_int_equal(s->len, s->pos);
}

/* Sends a server frame: unmasked, or masked with key. */
static inline void srv_send(struct srv *s, uint8_t op, bool fin, const void *p, size_t n,
                            const uint8_t *key)
{
	static uint8_t buf[16384];
	size_t h = espat_ws_write_header(buf, sizeof(buf), fin, op, n, key);
	assert_true(h > 0 && h + n <= sizeof(buf));
	memcpy(buf + h, p, n);
	if (key)
		espat_ws_mask(buf + h, n, key, 0);
	assert_int_equal(espat_mem_conn_send(s->c, buf, h + n), 0);
}

/* A 101 for the request's key: response with "{A}" standing for the
 * accept value, then extra bytes in the same send. */
static inline void srv_answer(struct srv *s, const char *response, const void *extra,
                              size_t extra_n)
{
	char req[1024], key[ESPAT_WS_KEY_SIZE], acc[ESPAT_WS_ACCEPT_SIZE];
	srv_request(s, req, sizeof(req));
	key_of(req, key);
	assert_true(espat_ws_accept(acc, key, strlen(key)));
	char out[2048];
	size_t o = 0;
	for (const char *r = response; *r;) {
		if (strncmp(r, "{A}", 3) == 0) {
			memcpy(out + o, acc, strlen(acc));
			o += strlen(acc);
			r += 3;
		} else {
			out[o++] = *r++;
		}
	}
	assert_true(o + extra_n <= sizeof(out));
	if (extra_n)
		memcpy(out + o, extra, extra_n);
	assert_int_equal(espat_mem_conn_send(s->c, out, o + extra_n), 0);
}

static const char ok101[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Accept: {A}\r\n\r\n";

#endif
