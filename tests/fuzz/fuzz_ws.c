/* libFuzzer target: the WebSocket codec (src/proto/ws.c). The first byte
 * picks the role, the RSV bits allowed and the chunk size. The rest is
 * parsed as a stream in chunks, checking the feed contract (consumption,
 * progress, slices inside buffers, payload adding up to the declared
 * length, fragmentation rules, errors final) and that parsing it whole
 * gives the same frames. Then the same bytes are read as a script of valid
 * frames, written with the writer and parsed back; and the UTF-8 validator
 * is checked against a plain decoder. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static bool inside(const uint8_t *s, size_t n, const void *base, size_t size)
{
	uintptr_t a = (uintptr_t)s, b = (uintptr_t)base;
	return a >= b && a + n <= b + size;
}

/* What a parse produced, independent of how the input was cut. */
struct summary {
	size_t frames;
	uint64_t hash; /* FNV-1a over every frame's fields and payload */
	enum espat_ws_err err;
};

static void hash_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ p[i]) * 0x100000001b3ull;
}

/* The parse and its oracle: our own view of frame and message state. */
struct run {
	struct espat_ws_parser p;
	struct summary sum;
	bool in_frame;
	struct espat_ws_ev frame; /* the FRAME_START of the open frame */
	uint64_t got;             /* payload bytes reported for it */
	bool msg_open;            /* a fragmented message is open */
	uint8_t msg_opcode;
};

static void on_start(struct run *r, const struct espat_ws_ev *ev)
{
	CHECK(!r->in_frame);
	CHECK(ev->len >> 63 == 0);
	CHECK((ev->rsv & ~r->p.rsv_allowed) == 0);
	bool control = ev->opcode >= ESPAT_WS_CLOSE;
	if (control) {
		CHECK(ev->opcode <= ESPAT_WS_PONG && ev->fin && ev->len <= ESPAT_WS_CTRL_MAX);
		CHECK(ev->msg_opcode == ev->opcode);
		CHECK(!(ev->opcode == ESPAT_WS_CLOSE && ev->len == 1));
	} else if (ev->opcode == ESPAT_WS_CONT) {
		CHECK(r->msg_open && ev->msg_opcode == r->msg_opcode);
		r->msg_open = !ev->fin;
	} else {
		CHECK(ev->opcode <= ESPAT_WS_BINARY && !r->msg_open);
		CHECK(ev->msg_opcode == ev->opcode);
		r->msg_open = !ev->fin;
		r->msg_opcode = ev->opcode;
	}
	r->in_frame = true;
	r->frame = *ev;
	r->got = 0;
	r->sum.frames++;
	uint8_t f[4] = {ev->fin, ev->opcode, ev->rsv, ev->msg_opcode};
	hash_bytes(&r->sum.hash, f, sizeof(f));
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(ev->len >> (8 * i));
		hash_bytes(&r->sum.hash, &b, 1);
	}
}

static void on_payload(struct run *r, const struct espat_ws_ev *ev, const uint8_t *buf, size_t len)
{
	CHECK(r->in_frame && ev->n > 0);
	CHECK(ev->offset == r->got && ev->n <= r->frame.len - r->got);
	CHECK(ev->opcode == r->frame.opcode && ev->len == r->frame.len);
	CHECK(inside(ev->data, ev->n, buf, len) || inside(ev->data, ev->n, &r->p, sizeof(r->p)));
	if (r->p.role == ESPAT_WS_SERVER)
		CHECK(ev->n <= ESPAT_WS_UNMASK_MAX);
	if (ev->opcode >= ESPAT_WS_CLOSE)
		CHECK(ev->n == ev->len); /* control payloads come whole */
	if (ev->opcode == ESPAT_WS_CLOSE) {
		uint16_t code;
		const uint8_t *reason;
		size_t rlen;
		CHECK(espat_ws_close_parse(ev->data, ev->n, &code, &reason, &rlen) ==
		      ESPAT_WS_ERR_NONE);
		CHECK(espat_ws_close_code_valid(code) && rlen + 2 == ev->n);
	}
	hash_bytes(&r->sum.hash, ev->data, ev->n);
	r->got += ev->n;
}

/* Feeds one chunk the way the header says to; false once in error. */
static bool feed_chunk(struct run *r, const uint8_t *buf, size_t len)
{
	struct espat_ws_ev ev;
	enum espat_ws_ev_type prev = ESPAT_WS_EV_NEED_MORE;
	do {
		size_t used = espat_ws_feed(&r->p, buf, len, &ev);
		CHECK(used <= len);
		if (used == 0 && ev.type != ESPAT_WS_EV_NEED_MORE)
			CHECK(ev.type == ESPAT_WS_EV_FRAME_END || ev.type == ESPAT_WS_EV_ERROR);
		switch (ev.type) {
		case ESPAT_WS_EV_NEED_MORE:
			CHECK(used == len);
			break;
		case ESPAT_WS_EV_FRAME_START:
			CHECK(used > 0);
			on_start(r, &ev);
			break;
		case ESPAT_WS_EV_PAYLOAD:
			on_payload(r, &ev, buf, len);
			break;
		case ESPAT_WS_EV_FRAME_END:
			CHECK(r->in_frame && r->got == r->frame.len &&
			      prev != ESPAT_WS_EV_FRAME_END);
			CHECK(ev.opcode == r->frame.opcode);
			r->in_frame = false;
			break;
		case ESPAT_WS_EV_ERROR:
			CHECK(ev.err != ESPAT_WS_ERR_NONE);
			CHECK(espat_ws_err_str(ev.err) != NULL);
			r->sum.err = ev.err;
			break;
		}
		prev = ev.type;
		buf += used;
		len -= used;
	} while (ev.type != ESPAT_WS_EV_NEED_MORE && ev.type != ESPAT_WS_EV_ERROR);
	return ev.type != ESPAT_WS_EV_ERROR;
}

static void parse(struct run *r, enum espat_ws_role role, uint8_t rsv, const uint8_t *s, size_t n,
                  size_t chunk)
{
	memset(r, 0, sizeof(*r));
	r->sum.hash = 0xcbf29ce484222325ull;
	espat_ws_parser_init(&r->p, role);
	r->p.rsv_allowed = rsv;
	size_t pos = 0;
	bool ok = true;
	while (ok && pos < n) {
		size_t k = n - pos < chunk ? n - pos : chunk;
		ok = feed_chunk(r, s + pos, k);
		pos += k;
	}
	if (!ok) {
		/* dead for good */
		struct espat_ws_ev ev;
		CHECK(espat_ws_feed(&r->p, s, n, &ev) == 0);
		CHECK(ev.type == ESPAT_WS_EV_ERROR && ev.err == r->sum.err);
	}
}

/* ---- round trip: a script of valid frames ------------------------------- */

struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct cursor *c)
{
	if (c->n == 0)
		return 0;
	c->n--;
	return *c->p++;
}

/* Ping or pong; else continuation inside a message, text or binary. */
static uint8_t script_opcode(uint8_t b, bool control, bool open)
{
	if (control)
		return b & 0x8 ? ESPAT_WS_PING : ESPAT_WS_PONG;
	if (open)
		return ESPAT_WS_CONT;
	return b & 0x8 ? ESPAT_WS_TEXT : ESPAT_WS_BINARY;
}

#define RT_FRAMES 32
#define RT_BUF 16384

static void round_trip(const uint8_t *data, size_t size)
{
	static uint8_t out[RT_BUF];
	struct {
		bool fin;
		uint8_t opcode;
		const uint8_t *payload;
		size_t len;
	} want[RT_FRAMES];
	struct cursor c = {data, size};
	enum espat_ws_role role = take(&c) & 1 ? ESPAT_WS_SERVER : ESPAT_WS_CLIENT;
	size_t nw = 0, n = 0;
	bool open = false;

	while (c.n > 0 && nw < RT_FRAMES) {
		uint8_t b = take(&c);
		uint8_t key[4] = {take(&c), take(&c), take(&c), take(&c)};
		bool control = (b & 0x3) == 0;
		bool fin = control || (b & 0x4);
		uint8_t opcode = script_opcode(b, control, open);
		/* lengths reach every encoding; payload bytes repeat the input */
		size_t len = (size_t)take(&c) << 8 | take(&c);
		len = control ? len % 126 : b & 0x10 ? len % 300 : len;
		if (n + ESPAT_WS_HEADER_MAX + len > sizeof(out))
			break;
		const uint8_t *payload = data + (size > 0 ? len % size : 0);
		if (payload + len > data + size)
			len = (size_t)(data + size - payload);
		size_t h = espat_ws_write_header(out + n, sizeof(out) - n, fin, opcode, len,
		                                 role == ESPAT_WS_SERVER ? key : NULL);
		size_t want_h = (len < 126       ? 2
		                 : len <= 0xFFFF ? 4
		                                 : 10) +
		                (role == ESPAT_WS_SERVER ? 4 : 0);
		CHECK(h == want_h);
		memcpy(out + n + h, payload, len);
		if (role == ESPAT_WS_SERVER) {
			/* mask in two pieces, split where the script says */
			size_t cut = len ? b % (len + 1) : 0;
			espat_ws_mask(out + n + h, cut, key, 0);
			espat_ws_mask(out + n + h + cut, len - cut, key, cut);
		}
		want[nw].fin = fin;
		want[nw].opcode = opcode;
		want[nw].payload = payload;
		want[nw].len = len;
		nw++;
		n += h + len;
		if (!control)
			open = !fin;
	}

	/* parse back; every frame matches, payload byte for byte */
	struct espat_ws_parser p;
	struct espat_ws_ev ev;
	espat_ws_parser_init(&p, role);
	size_t pos = 0, i = 0, chunk = 1 + (size % 97);
	uint64_t got = 0;
	while (pos < n || i < nw) {
		size_t k = n - pos < chunk ? n - pos : chunk;
		size_t used = espat_ws_feed(&p, out + pos, k, &ev);
		pos += used;
		CHECK(ev.type != ESPAT_WS_EV_ERROR);
		if (ev.type == ESPAT_WS_EV_NEED_MORE)
			CHECK(pos < n || i == nw);
		if (ev.type == ESPAT_WS_EV_FRAME_START) {
			CHECK(i < nw && ev.fin == want[i].fin && ev.opcode == want[i].opcode);
			CHECK(ev.len == want[i].len);
			got = 0;
		} else if (ev.type == ESPAT_WS_EV_PAYLOAD) {
			CHECK(memcmp(ev.data, want[i].payload + got, ev.n) == 0);
			got += ev.n;
		} else if (ev.type == ESPAT_WS_EV_FRAME_END) {
			CHECK(got == want[i].len);
			i++;
		}
	}
	CHECK(i == nw);
}

/* ---- UTF-8 against a plain decoder -------------------------------------- */

static bool utf8_reference(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t len = c < 0x80       ? 1
		             : c >> 5 == 6  ? 2
		             : c >> 4 == 14 ? 3
		             : c >> 3 == 30 ? 4
		                            : 0;
		if (len == 0 || i + len > n)
			return false;
		uint32_t cp = len == 1 ? c : c & (0x7F >> len);
		for (size_t k = 1; k < len; k++) {
			if (s[i + k] >> 6 != 2)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

static void check_utf8(const uint8_t *s, size_t n, size_t chunk)
{
	struct espat_ws_utf8 u;
	espat_ws_utf8_init(&u);
	for (size_t i = 0; i < n; i += chunk)
		espat_ws_utf8_feed(&u, s + i, n - i < chunk ? n - i : chunk);
	CHECK(espat_ws_utf8_done(&u) == utf8_reference(s, n));
}

static void check_close(const uint8_t *s, size_t n)
{
	if (n < 2)
		return;
	uint8_t b[ESPAT_WS_CTRL_MAX];
	uint16_t code = (uint16_t)(s[0] << 8 | s[1]), got;
	const uint8_t *reason;
	size_t rlen, reason_len = n - 2 < 200 ? n - 2 : 200;
	size_t k = espat_ws_close_build(b, sizeof(b), code, (const char *)s + 2, reason_len);
	bool ok = espat_ws_close_code_valid(code) && reason_len <= 123 &&
	          utf8_reference(s + 2, reason_len);
	CHECK((k != 0) == ok);
	if (!ok)
		return;
	CHECK(k == reason_len + 2);
	CHECK(espat_ws_close_parse(b, k, &got, &reason, &rlen) == ESPAT_WS_ERR_NONE);
	CHECK(got == code && rlen == reason_len && memcmp(reason, s + 2, rlen) == 0);
}

/* The upgrade request from fields cut out of the input at NULs: when it is
 * built, it has exactly the lines asked for (nothing smuggled in) and ends
 * in an empty line. */
static void check_request(const uint8_t *data, size_t size)
{
	static char text[4096 + 1], out[8192];
	const char *field[6];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1, nf = 0;
	memcpy(text, data, n);
	text[n] = '\0';
	for (size_t i = 0; nf < 6;) {
		field[nf++] = text + i;
		const char *z = memchr(text + i, '\0', n + 1 - i);
		i = (size_t)(z - text) + 1;
		if (i > n)
			break;
	}
	for (size_t i = nf; i < 6; i++)
		field[i] = "x";
	static const uint8_t nonce[ESPAT_WS_NONCE_LEN];
	struct espat_ws_request rq = {
	    .host = field[0],
	    .port = (uint16_t)(size * 31),
	    .tls = size & 1,
	    .path = field[1],
	    .nonce = nonce,
	    .protocol = size & 2 ? field[2] : NULL,
	    .headers = field + 3,
	    .n_headers = 3,
	};
	size_t len = espat_ws_request_build(out, sizeof(out), &rq);
	if (len == 0)
		return;
	CHECK(len == strlen(out) && len >= 4 && memcmp(out + len - 4, "\r\n\r\n", 4) == 0);
	size_t lines = 0;
	for (const char *c = out; (c = strchr(c, '\n')) != NULL; c++) {
		CHECK(c > out && c[-1] == '\r');
		lines++;
	}
	/* request line, Host, Upgrade, Connection, Key, Version, protocol?,
	 * 3 extra, empty */
	CHECK(lines == 6 + (rq.protocol != NULL) + 3 + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t ctl = data[0];
	enum espat_ws_role role = ctl & 1 ? ESPAT_WS_SERVER : ESPAT_WS_CLIENT;
	uint8_t rsv = ctl & 2 ? 0x4 : 0;
	size_t chunk = 1 + (ctl >> 2); /* 1..64 */
	data++;
	size--;

	static struct run cut, whole;
	parse(&cut, role, rsv, data, size, chunk);
	parse(&whole, role, rsv, data, size, size ? size : 1);
	CHECK(cut.sum.frames == whole.sum.frames && cut.sum.hash == whole.sum.hash);
	CHECK(cut.sum.err == whole.sum.err);

	round_trip(data, size);
	check_utf8(data, size, chunk);
	check_close(data, size);
	check_request(data, size);

	char acc[ESPAT_WS_ACCEPT_SIZE];
	if (espat_ws_accept(acc, (const char *)data, size))
		CHECK(strlen(acc) == ESPAT_WS_ACCEPT_SIZE - 1 &&
		      espat_ws_accept_check((const char *)data, size, acc, strlen(acc)));
	else
		CHECK(size > ESPAT_WS_KEY_MAX);
	return 0;
}
