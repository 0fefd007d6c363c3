/* WebSocket codec (src/proto/ws.c): frames, close payloads, UTF-8 and the
 * opening handshake. Every stream is parsed whole, byte by byte and in
 * seeded random pieces; all three must give the same frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ws.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

static const uint8_t rfc_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* xorshift32; a zero state is bumped so it never sticks at 0. */
static uint32_t prng(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9E3779B9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* ---- the recorder: parse a stream, keep what came out ------------------- */

struct frame {
	bool fin;
	uint8_t opcode;
	uint8_t msg_opcode;
	uint8_t rsv;
	uint64_t len;
	uint8_t *data; /* the payload reassembled from PAYLOAD events */
	size_t n;
	bool ended; /* FRAME_END seen */
};

#define MAX_FRAMES 256

struct log {
	struct espat_ws_parser p;
	struct frame f[MAX_FRAMES];
	size_t nf;
	bool in_frame;
	enum espat_ws_err err; /* the ERROR's reason, or NONE */
};

static void log_free(struct log *g)
{
	for (size_t i = 0; i < g->nf; i++)
		free(g->f[i].data);
	g->nf = 0;
}

static bool inside(const uint8_t *s, size_t n, const void *base, size_t size)
{
	uintptr_t a = (uintptr_t)s, b = (uintptr_t)base;
	return a >= b && a + n <= b + size;
}

/* One read's worth of input, handled the way the header says: loop until
 * NEED_MORE or ERROR, checking every event's contract. */
static void log_feed(struct log *g, const uint8_t *buf, size_t len)
{
	struct espat_ws_ev ev;
	do {
		size_t used = espat_ws_feed(&g->p, buf, len, &ev);
		assert_true(used <= len);
		struct frame *f = g->nf > 0 ? &g->f[g->nf - 1] : NULL;
		switch (ev.type) {
		case ESPAT_WS_EV_NEED_MORE:
			assert_int_equal(used, len);
			break;
		case ESPAT_WS_EV_FRAME_START:
			assert_false(g->in_frame);
			assert_true(used > 0);
			assert_true(g->nf < MAX_FRAMES);
			assert_true(ev.len <= 64u << 20);
			f = &g->f[g->nf++];
			memset(f, 0, sizeof(*f));
			f->fin = ev.fin;
			f->opcode = ev.opcode;
			f->msg_opcode = ev.msg_opcode;
			f->rsv = ev.rsv;
			f->len = ev.len;
			f->data = malloc(ev.len ? (size_t)ev.len : 1);
			assert_non_null(f->data);
			g->in_frame = true;
			break;
		case ESPAT_WS_EV_PAYLOAD:
			assert_true(g->in_frame);
			assert_true(ev.n > 0);
			assert_true(ev.offset == f->n);
			assert_true(f->n + ev.n <= f->len);
			assert_true(ev.opcode == f->opcode && ev.len == f->len);
			assert_true(inside(ev.data, ev.n, buf, len) ||
			            inside(ev.data, ev.n, &g->p, sizeof(g->p)));
			memcpy(f->data + f->n, ev.data, ev.n);
			f->n += ev.n;
			break;
		case ESPAT_WS_EV_FRAME_END:
			assert_true(g->in_frame);
			assert_int_equal(used, 0);
			assert_true(f->n == f->len);
			f->ended = true;
			g->in_frame = false;
			break;
		case ESPAT_WS_EV_ERROR:
			assert_int_not_equal(ev.err, ESPAT_WS_ERR_NONE);
			g->err = ev.err;
			break;
		}
		buf += used;
		len -= used;
	} while (ev.type != ESPAT_WS_EV_NEED_MORE && ev.type != ESPAT_WS_EV_ERROR);
}

enum split { WHOLE, BYTES, RANDOM };

/* Parses s[0..n) cut as mode says (random pieces of 1..maxpiece bytes). */
static void run(struct log *g, enum espat_ws_role role, const uint8_t *s, size_t n, enum split mode,
                uint32_t seed, size_t maxpiece)
{
	memset(g, 0, sizeof(*g));
	espat_ws_parser_init(&g->p, role);
	while (n > 0 && g->err == ESPAT_WS_ERR_NONE) {
		size_t k = mode == WHOLE ? n : mode == BYTES ? 1 : 1 + prng(&seed) % maxpiece;
		if (k > n)
			k = n;
		log_feed(g, s, k);
		s += k;
		n -= k;
	}
	if (g->err != ESPAT_WS_ERR_NONE) {
		/* dead for good */
		struct espat_ws_ev ev;
		assert_int_equal(espat_ws_feed(&g->p, B("\x81\x00"), &ev), 0);
		assert_int_equal(ev.type, ESPAT_WS_EV_ERROR);
		assert_int_equal(ev.err, g->err);
	}
}

static void assert_same(const struct log *a, const struct log *b)
{
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->nf, b->nf);
	for (size_t i = 0; i < a->nf; i++) {
		const struct frame *x = &a->f[i], *y = &b->f[i];
		assert_true(x->fin == y->fin && x->opcode == y->opcode && x->rsv == y->rsv);
		assert_true(x->msg_opcode == y->msg_opcode && x->len == y->len);
		assert_true(x->ended == y->ended);
		assert_int_equal(x->n, y->n);
		assert_memory_equal(x->data, y->data, x->n);
	}
}

/* Parses s whole into *ref, then byte by byte and in random pieces (many
 * seeds), each of which must give the same log. */
static void run_all(struct log *ref, enum espat_ws_role role, const uint8_t *s, size_t n)
{
	static struct log got;
	run(ref, role, s, n, WHOLE, 0, 0);
	run(&got, role, s, n, BYTES, 0, 0);
	assert_same(ref, &got);
	log_free(&got);
	for (uint32_t seed = 1; seed <= 40; seed++) {
		run(&got, role, s, n, RANDOM, seed, seed % 2 ? 17 : 300);
		assert_same(ref, &got);
		log_free(&got);
	}
}

static void assert_frame(const struct log *g, size_t i, bool fin, uint8_t opcode, const void *data,
                         size_t n)
{
	assert_true(i < g->nf);
	const struct frame *f = &g->f[i];
	assert_true(f->ended);
	assert_int_equal(f->fin, fin);
	assert_int_equal(f->opcode, opcode);
	assert_int_equal(f->n, n);
	assert_memory_equal(f->data, data, n);
}

/* A whole frame from the writer: header, then the payload masked if key. */
static size_t put_frame(uint8_t *out, bool fin, uint8_t opcode, const uint8_t *payload, size_t n,
                        const uint8_t *key)
{
	size_t h = espat_ws_write_header(out, ESPAT_WS_HEADER_MAX, fin, opcode, n, key);
	assert_true(h >= 2);
	memcpy(out + h, payload, n);
	if (key)
		espat_ws_mask(out + h, n, key, 0);
	return h + n;
}

/* ---- RFC 6455 section 5.7 ----------------------------------------------- */

static void rfc_single_frames(void **state)
{
	static struct log g;
	run_all(&g, ESPAT_WS_CLIENT, B("\x81\x05\x48\x65\x6c\x6c\x6f"));
	assert_int_equal(g.nf, 1);
	assert_frame(&g, 0, true, ESPAT_WS_TEXT, "Hello", 5);
	assert_int_equal(g.f[0].msg_opcode, ESPAT_WS_TEXT);
	log_free(&g);

	run_all(&g, ESPAT_WS_SERVER, B("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
	assert_int_equal(g.nf, 1);
	assert_frame(&g, 0, true, ESPAT_WS_TEXT, "Hello", 5);
	log_free(&g);

	/* unmasked ping, then the masked pong that answers it */
	run_all(&g, ESPAT_WS_CLIENT, B("\x89\x05\x48\x65\x6c\x6c\x6f"));
	assert_frame(&g, 0, true, ESPAT_WS_PING, "Hello", 5);
	assert_int_equal(g.f[0].msg_opcode, ESPAT_WS_PING);
	log_free(&g);
	run_all(&g, ESPAT_WS_SERVER, B("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
	assert_frame(&g, 0, true, ESPAT_WS_PONG, "Hello", 5);
	log_free(&g);
}

static void rfc_fragmented(void **state)
{
	static struct log g;
	run_all(&g, ESPAT_WS_CLIENT, B("\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"));
	assert_int_equal(g.nf, 2);
	assert_frame(&g, 0, false, ESPAT_WS_TEXT, "Hel", 3);
	assert_frame(&g, 1, true, ESPAT_WS_CONT, "lo", 2);
	assert_int_equal(g.f[1].msg_opcode, ESPAT_WS_TEXT);
	log_free(&g);
}

static void rfc_long_lengths(void **state)
{
	static uint8_t s[65536 + 10];
	static struct log g;
	uint32_t seed = 5;
	/* 256 bytes: 16-bit length 7E 01 00 */
	memcpy(s, "\x82\x7e\x01\x00", 4);
	for (size_t i = 0; i < 256; i++)
		s[4 + i] = (uint8_t)prng(&seed);
	run_all(&g, ESPAT_WS_CLIENT, s, 4 + 256);
	assert_int_equal(g.nf, 1);
	assert_frame(&g, 0, true, ESPAT_WS_BINARY, s + 4, 256);
	log_free(&g);
	uint8_t h[ESPAT_WS_HEADER_MAX];
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, ESPAT_WS_BINARY, 256, NULL), 4);
	assert_memory_equal(h, s, 4);

	/* 64 KiB: 64-bit length 7F 00 00 00 00 00 01 00 00 */
	memcpy(s, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	for (size_t i = 0; i < 65536; i++)
		s[10 + i] = (uint8_t)prng(&seed);
	run_all(&g, ESPAT_WS_CLIENT, s, sizeof(s));
	assert_int_equal(g.nf, 1);
	assert_frame(&g, 0, true, ESPAT_WS_BINARY, s + 10, 65536);
	log_free(&g);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, ESPAT_WS_BINARY, 65536, NULL),
	                 10);
	assert_memory_equal(h, s, 10);
}

static void rfc_writer_bytes(void **state)
{
	uint8_t f[32];
	assert_int_equal(put_frame(f, true, ESPAT_WS_TEXT, (const uint8_t *)"Hello", 5, NULL), 7);
	assert_memory_equal(f, "\x81\x05\x48\x65\x6c\x6c\x6f", 7);
	assert_int_equal(put_frame(f, true, ESPAT_WS_TEXT, (const uint8_t *)"Hello", 5, rfc_key),
	                 11);
	assert_memory_equal(f, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
	assert_int_equal(put_frame(f, false, ESPAT_WS_TEXT, (const uint8_t *)"Hel", 3, NULL), 5);
	assert_memory_equal(f, "\x01\x03\x48\x65\x6c", 5);
	assert_int_equal(put_frame(f, true, ESPAT_WS_CONT, (const uint8_t *)"lo", 2, NULL), 4);
	assert_memory_equal(f, "\x80\x02\x6c\x6f", 4);
	assert_int_equal(put_frame(f, true, ESPAT_WS_PONG, (const uint8_t *)"Hello", 5, rfc_key),
	                 11);
	assert_memory_equal(f, "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
}

/* ---- the feed contract -------------------------------------------------- */

static void events_in_order(void **state)
{
	struct espat_ws_parser p;
	struct espat_ws_ev ev;
	const uint8_t s[] = "\x81\x00\x82\x02hi";
	espat_ws_parser_init(&p, ESPAT_WS_CLIENT);
	/* an empty frame: START, then END without more input */
	assert_int_equal(espat_ws_feed(&p, s, 6, &ev), 2);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_START);
	assert_true(ev.fin && ev.opcode == ESPAT_WS_TEXT && ev.len == 0);
	assert_int_equal(espat_ws_feed(&p, s + 2, 4, &ev), 0);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_END);
	/* unmasked payload is a slice of the input, no copy */
	assert_int_equal(espat_ws_feed(&p, s + 2, 4, &ev), 2);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_START);
	assert_int_equal(espat_ws_feed(&p, s + 4, 2, &ev), 2);
	assert_int_equal(ev.type, ESPAT_WS_EV_PAYLOAD);
	assert_ptr_equal(ev.data, s + 4);
	assert_int_equal(ev.n, 2);
	/* the last payload byte came: END is due with no input at all */
	assert_int_equal(espat_ws_feed(&p, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_END);
	assert_int_equal(espat_ws_feed(&p, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, ESPAT_WS_EV_NEED_MORE);
	/* a partial header is kept */
	assert_int_equal(espat_ws_feed(&p, B("\x82\x7e\x00"), &ev), 3);
	assert_int_equal(ev.type, ESPAT_WS_EV_NEED_MORE);
	assert_int_equal(espat_ws_feed(&p, B("\x80xyz"), &ev), 1);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_START);
	assert_int_equal(ev.len, 128);
}

static void masked_payload_bounded(void **state)
{
	static uint8_t s[2000 + 8], plain[2000];
	struct espat_ws_parser p;
	struct espat_ws_ev ev;
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7);
	size_t n = put_frame(s, true, ESPAT_WS_BINARY, plain, sizeof(plain), rfc_key);
	espat_ws_parser_init(&p, ESPAT_WS_SERVER);
	size_t used = espat_ws_feed(&p, s, n, &ev);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_START);
	uint64_t got = 0;
	while (got < sizeof(plain)) {
		size_t k = espat_ws_feed(&p, s + used, n - used, &ev);
		assert_int_equal(ev.type, ESPAT_WS_EV_PAYLOAD);
		assert_true(ev.n <= ESPAT_WS_UNMASK_MAX && ev.n == k);
		assert_ptr_equal(ev.data, p.unmask);
		assert_memory_equal(ev.data, plain + got, ev.n);
		assert_true(ev.offset == got);
		got += ev.n;
		used += k;
	}
	assert_int_equal(espat_ws_feed(&p, s + used, n - used, &ev), 0);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_END);
}

static void control_between_fragments(void **state)
{
	static struct log g;
	/* text "Hel", empty ping, pong "hi", close, then "lo": the message
	 * continues across the control frames */
	run_all(&g, ESPAT_WS_CLIENT,
	        B("\x01\x03Hel\x89\x00\x8a\x02hi\x88\x04\x03\xe8ok\x00\x01x\x80\x01o"));
	assert_int_equal(g.err, ESPAT_WS_ERR_NONE);
	assert_int_equal(g.nf, 6);
	assert_frame(&g, 0, false, ESPAT_WS_TEXT, "Hel", 3);
	assert_frame(&g, 1, true, ESPAT_WS_PING, "", 0);
	assert_frame(&g, 2, true, ESPAT_WS_PONG, "hi", 2);
	assert_frame(&g, 3, true, ESPAT_WS_CLOSE, "\x03\xe8ok", 4);
	assert_frame(&g, 4, false, ESPAT_WS_CONT, "x", 1);
	assert_frame(&g, 5, true, ESPAT_WS_CONT, "o", 1);
	assert_int_equal(g.f[1].msg_opcode, ESPAT_WS_PING);
	assert_int_equal(g.f[5].msg_opcode, ESPAT_WS_TEXT);
	log_free(&g);

	/* masked, binary, through the writer */
	static uint8_t s[512];
	size_t n = 0;
	n += put_frame(s + n, false, ESPAT_WS_BINARY, (const uint8_t *)"ab", 2, rfc_key);
	n += put_frame(s + n, true, ESPAT_WS_PING, (const uint8_t *)"ping!", 5, rfc_key);
	n += put_frame(s + n, true, ESPAT_WS_CONT, (const uint8_t *)"cd", 2, rfc_key);
	n += put_frame(s + n, true, ESPAT_WS_TEXT, (const uint8_t *)"next", 4, rfc_key);
	run_all(&g, ESPAT_WS_SERVER, s, n);
	assert_int_equal(g.nf, 4);
	assert_frame(&g, 0, false, ESPAT_WS_BINARY, "ab", 2);
	assert_frame(&g, 1, true, ESPAT_WS_PING, "ping!", 5);
	assert_frame(&g, 2, true, ESPAT_WS_CONT, "cd", 2);
	assert_int_equal(g.f[2].msg_opcode, ESPAT_WS_BINARY);
	assert_frame(&g, 3, true, ESPAT_WS_TEXT, "next", 4);
	log_free(&g);
}

/* ---- every error -------------------------------------------------------- */

struct bad {
	const char *name;
	enum espat_ws_role role;
	const uint8_t *s;
	size_t n;
	size_t frames; /* frames started before the error */
	enum espat_ws_err err;
};

static const struct bad bads[] = {
    {"rsv1", ESPAT_WS_CLIENT, B("\xc1\x00"), 0, ESPAT_WS_ERR_RSV},
    {"rsv3", ESPAT_WS_CLIENT, B("\x91\x00"), 0, ESPAT_WS_ERR_RSV},
    {"opcode 3", ESPAT_WS_CLIENT, B("\x83\x00"), 0, ESPAT_WS_ERR_OPCODE},
    {"opcode 7", ESPAT_WS_CLIENT, B("\x87\x00"), 0, ESPAT_WS_ERR_OPCODE},
    {"opcode B", ESPAT_WS_CLIENT, B("\x8b\x00"), 0, ESPAT_WS_ERR_OPCODE},
    {"opcode F", ESPAT_WS_CLIENT, B("\x8f\x00"), 0, ESPAT_WS_ERR_OPCODE},
    {"ping 126", ESPAT_WS_CLIENT, B("\x89\x7e\x00\x7e"), 0, ESPAT_WS_ERR_CTRL_LEN},
    {"close 127", ESPAT_WS_CLIENT, B("\x88\x7f"), 0, ESPAT_WS_ERR_CTRL_LEN},
    {"ping no fin", ESPAT_WS_CLIENT, B("\x09\x00"), 0, ESPAT_WS_ERR_CTRL_FRAGMENTED},
    {"close no fin", ESPAT_WS_CLIENT, B("\x08\x02\x03\xe8"), 0, ESPAT_WS_ERR_CTRL_FRAGMENTED},
    {"top bit", ESPAT_WS_CLIENT, B("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"), 0,
     ESPAT_WS_ERR_LEN_TOP_BIT},
    {"16 for 125", ESPAT_WS_CLIENT, B("\x82\x7e\x00\x7d"), 0, ESPAT_WS_ERR_LEN_NOT_MINIMAL},
    {"16 for 0", ESPAT_WS_CLIENT, B("\x82\x7e\x00\x00"), 0, ESPAT_WS_ERR_LEN_NOT_MINIMAL},
    {"64 for 65535", ESPAT_WS_CLIENT, B("\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff"), 0,
     ESPAT_WS_ERR_LEN_NOT_MINIMAL},
    {"64 for 5", ESPAT_WS_CLIENT, B("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x05"), 0,
     ESPAT_WS_ERR_LEN_NOT_MINIMAL},
    {"masked to client", ESPAT_WS_CLIENT, B("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), 0,
     ESPAT_WS_ERR_MASK},
    {"unmasked to server", ESPAT_WS_SERVER, B("\x81\x05Hello"), 0, ESPAT_WS_ERR_MASK},
    {"unmasked ping to server", ESPAT_WS_SERVER, B("\x89\x00"), 0, ESPAT_WS_ERR_MASK},
    {"cont first", ESPAT_WS_CLIENT, B("\x80\x02lo"), 0, ESPAT_WS_ERR_CONT_NO_MSG},
    {"cont after fin", ESPAT_WS_CLIENT, B("\x81\x01\x61\x80\x01\x62"), 1, ESPAT_WS_ERR_CONT_NO_MSG},
    {"cont after end", ESPAT_WS_CLIENT, B("\x01\x01\x61\x80\x01\x62\x00\x01\x63"), 2,
     ESPAT_WS_ERR_CONT_NO_MSG},
    {"text inside", ESPAT_WS_CLIENT, B("\x01\x01\x61\x81\x01\x62"), 1, ESPAT_WS_ERR_MSG_OPEN},
    {"binary inside", ESPAT_WS_CLIENT, B("\x02\x01\x61\x89\x00\x82\x01\x62"), 2,
     ESPAT_WS_ERR_MSG_OPEN},
    {"close 1 byte", ESPAT_WS_CLIENT, B("\x88\x01\x03"), 0, ESPAT_WS_ERR_CLOSE_LEN1},
    {"close 0", ESPAT_WS_CLIENT, B("\x88\x02\x00\x00"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close 999", ESPAT_WS_CLIENT, B("\x88\x02\x03\xe7"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close 1004", ESPAT_WS_CLIENT, B("\x88\x02\x03\xec"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close 1005", ESPAT_WS_CLIENT, B("\x88\x02\x03\xed"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close 1006", ESPAT_WS_CLIENT, B("\x88\x02\x03\xee"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close 1015", ESPAT_WS_CLIENT, B("\x88\x02\x03\xf7"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close 2999", ESPAT_WS_CLIENT, B("\x88\x02\x0b\xb7"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close 5000", ESPAT_WS_CLIENT, B("\x88\x02\x13\x88"), 1, ESPAT_WS_ERR_CLOSE_CODE},
    {"close masked 999", ESPAT_WS_SERVER, B("\x88\x82\x37\xfa\x21\x3d\x34\x1d"), 1,
     ESPAT_WS_ERR_CLOSE_CODE},
    {"close reason", ESPAT_WS_CLIENT, B("\x88\x04\x03\xe8\xc3\x28"), 1, ESPAT_WS_ERR_CLOSE_UTF8},
    {"close cut char", ESPAT_WS_CLIENT, B("\x88\x03\x03\xe8\xe2"), 1, ESPAT_WS_ERR_CLOSE_UTF8},
};

static void every_error(void **state)
{
	static struct log g;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		run_all(&g, b->role, b->s, b->n);
		if (g.err != b->err || g.nf != b->frames)
			fail_msg("%s: err %d (%s) frames %zu, want err %d frames %zu", b->name,
			         g.err, espat_ws_err_str(g.err), g.nf, b->err, b->frames);
		log_free(&g);
	}
}

static void error_is_final(void **state)
{
	struct espat_ws_parser p;
	struct espat_ws_ev ev;
	espat_ws_parser_init(&p, ESPAT_WS_CLIENT);
	assert_int_equal(espat_ws_feed(&p, B("\x83\x00\x81\x00"), &ev), 2); /* found at byte 2 */
	assert_int_equal(ev.type, ESPAT_WS_EV_ERROR);
	assert_int_equal(ev.err, ESPAT_WS_ERR_OPCODE);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(espat_ws_feed(&p, B("\x81\x00"), &ev), 0);
		assert_int_equal(ev.type, ESPAT_WS_EV_ERROR);
		assert_int_equal(ev.err, ESPAT_WS_ERR_OPCODE);
	}
	espat_ws_parser_init(&p, ESPAT_WS_CLIENT);
	assert_int_equal(espat_ws_feed(&p, B("\x81\x00"), &ev), 2);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_START);
	assert_string_equal(espat_ws_err_str(ESPAT_WS_ERR_MASK), "wrong masking for the role");
}

static void rsv_allowed_by_extension(void **state)
{
	static struct log g;
	memset(&g, 0, sizeof(g));
	espat_ws_parser_init(&g.p, ESPAT_WS_CLIENT);
	g.p.rsv_allowed = 0x4; /* RSV1, as permessage-deflate uses it */
	log_feed(&g, B("\xc1\x01z"));
	assert_int_equal(g.err, ESPAT_WS_ERR_NONE);
	assert_int_equal(g.f[0].rsv, 0x4);
	log_feed(&g, B("\xa1\x01z"));
	assert_int_equal(g.err, ESPAT_WS_ERR_RSV);
	log_free(&g);
}

/* ---- big payloads ------------------------------------------------------- */

static void multi_megabyte_streamed(void **state)
{
	const size_t sizes[] = {1u << 20, 1536u << 10, 512u << 10};
	size_t total = sizes[0] + sizes[1] + sizes[2];
	uint8_t *plain = malloc(total);
	uint8_t *s = malloc(total + 64);
	assert_true(plain && s);
	uint32_t seed = 99;
	for (size_t i = 0; i < total; i++)
		plain[i] = (uint8_t)prng(&seed);

	for (int role = ESPAT_WS_CLIENT; role <= ESPAT_WS_SERVER; role++) {
		const uint8_t *key = role == ESPAT_WS_SERVER ? rfc_key : NULL;
		size_t n = 0;
		n += put_frame(s + n, false, ESPAT_WS_BINARY, plain, sizes[0], key);
		n += put_frame(s + n, true, ESPAT_WS_PING, (const uint8_t *)"x", 1, key);
		n += put_frame(s + n, false, ESPAT_WS_CONT, plain + sizes[0], sizes[1], key);
		n += put_frame(s + n, true, ESPAT_WS_CONT, plain + sizes[0] + sizes[1], sizes[2],
		               key);
		static struct log ref, got;
		run(&ref, role, s, n, WHOLE, 0, 0);
		assert_int_equal(ref.err, ESPAT_WS_ERR_NONE);
		assert_int_equal(ref.nf, 4);
		assert_frame(&ref, 0, false, ESPAT_WS_BINARY, plain, sizes[0]);
		assert_frame(&ref, 1, true, ESPAT_WS_PING, "x", 1);
		assert_frame(&ref, 2, false, ESPAT_WS_CONT, plain + sizes[0], sizes[1]);
		assert_frame(&ref, 3, true, ESPAT_WS_CONT, plain + sizes[0] + sizes[1], sizes[2]);
		assert_true(ref.f[0].len == sizes[0]);
		run(&got, role, s, n, BYTES, 0, 0);
		assert_same(&ref, &got);
		log_free(&got);
		for (uint32_t sd = 1; sd <= 4; sd++) {
			run(&got, role, s, n, RANDOM, sd, 65536);
			assert_same(&ref, &got);
			log_free(&got);
		}
		log_free(&ref);
	}
	free(plain);
	free(s);
}

static void huge_length_not_buffered(void **state)
{
	/* 2^63-1 announced: the header is accepted and payload streams */
	struct espat_ws_parser p;
	struct espat_ws_ev ev;
	uint8_t h[ESPAT_WS_HEADER_MAX];
	uint64_t max = UINT64_MAX >> 1;
	size_t hn = espat_ws_write_header(h, sizeof(h), true, ESPAT_WS_BINARY, max, NULL);
	assert_int_equal(hn, 10);
	assert_memory_equal(h, "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10);
	espat_ws_parser_init(&p, ESPAT_WS_CLIENT);
	assert_int_equal(espat_ws_feed(&p, h, hn, &ev), 10);
	assert_int_equal(ev.type, ESPAT_WS_EV_FRAME_START);
	assert_true(ev.len == max);
	assert_int_equal(espat_ws_feed(&p, B("abc"), &ev), 3);
	assert_int_equal(ev.type, ESPAT_WS_EV_PAYLOAD);
	assert_int_equal(espat_ws_feed(&p, B(""), &ev), 0);
	assert_int_equal(ev.type, ESPAT_WS_EV_NEED_MORE);
}

/* ---- writer ------------------------------------------------------------- */

static void writer_limits(void **state)
{
	uint8_t h[ESPAT_WS_HEADER_MAX];
	/* boundaries of the three length forms */
	const struct {
		uint64_t len;
		size_t n;
	} forms[] = {{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {UINT64_MAX >> 1, 10}};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(espat_ws_write_header(h, sizeof(h), true, 2, forms[i].len, NULL),
		                 forms[i].n);
		assert_int_equal(
		    espat_ws_write_header(h, sizeof(h), true, 2, forms[i].len, rfc_key),
		    forms[i].n + 4);
		/* one byte short: nothing */
		assert_int_equal(
		    espat_ws_write_header(h, forms[i].n + 3, true, 2, forms[i].len, rfc_key), 0);
	}
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, 2, UINT64_MAX, NULL), 0);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, 2, 1ull << 63, NULL), 0);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, 3, 1, NULL), 0);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, 0xB, 1, NULL), 0);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, 0x11, 1, NULL), 0);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), false, ESPAT_WS_PING, 1, NULL), 0);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, ESPAT_WS_PING, 126, NULL), 0);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), true, ESPAT_WS_PING, 125, NULL), 2);
	assert_int_equal(espat_ws_write_header(h, sizeof(h), false, ESPAT_WS_CONT, 9, NULL), 2);
	assert_memory_equal(h, "\x00\x09", 2);
}

/* Random valid frame sequences (fragmented messages, control frames
 * between fragments, all length forms) written, then parsed back. */
static void writer_round_trip(void **state)
{
	static uint8_t s[1 << 18], payload[70000];
	static struct log g;
	uint32_t seed = 1234;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)prng(&seed);
	for (int iter = 0; iter < 60; iter++) {
		enum espat_ws_role role = iter % 2 ? ESPAT_WS_SERVER : ESPAT_WS_CLIENT;
		struct {
			bool fin;
			uint8_t op;
			size_t off, len;
		} want[40];
		size_t nw = 0, n = 0;
		bool open = false;
		while (nw < 40) {
			uint32_t r = prng(&seed);
			uint8_t key[4] = {(uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16),
			                  (uint8_t)(r >> 24)};
			uint8_t op;
			bool fin = true;
			size_t len;
			if (r % 5 == 0) {
				const uint8_t ctl[] = {ESPAT_WS_PING, ESPAT_WS_PONG};
				op = ctl[(r >> 3) % 2];
				len = prng(&seed) % 126;
			} else {
				op = open           ? ESPAT_WS_CONT
				     : (r >> 3) % 2 ? ESPAT_WS_TEXT
				                    : ESPAT_WS_BINARY;
				fin = (r >> 4) % 3 == 0;
				const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
				len = (r >> 6) % 4 ? prng(&seed) % 300 : lens[(r >> 8) % 8];
				open = !fin;
			}
			size_t off = prng(&seed) % (sizeof(payload) - len + 1);
			if (n + len + ESPAT_WS_HEADER_MAX > sizeof(s))
				break;
			n += put_frame(s + n, fin, op, payload + off, len,
			               role == ESPAT_WS_SERVER ? key : NULL);
			want[nw].fin = fin;
			want[nw].op = op;
			want[nw].off = off;
			want[nw].len = len;
			nw++;
		}
		run_all(&g, role, s, n);
		assert_int_equal(g.err, ESPAT_WS_ERR_NONE);
		assert_int_equal(g.nf, nw);
		for (size_t i = 0; i < nw; i++)
			assert_frame(&g, i, want[i].fin, want[i].op, payload + want[i].off,
			             want[i].len);
		log_free(&g);
	}
}

static void mask_in_pieces(void **state)
{
	uint8_t plain[1000], whole[1000], pieces[1000];
	const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
	uint32_t seed = 77;
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)prng(&seed);
	memcpy(whole, plain, sizeof(plain));
	espat_ws_mask(whole, sizeof(whole), key, 0);
	for (size_t i = 0; i < sizeof(plain); i++)
		assert_int_equal(whole[i], plain[i] ^ key[i % 4]);
	for (uint32_t sd = 1; sd <= 50; sd++) {
		memcpy(pieces, plain, sizeof(plain));
		size_t off = 0;
		while (off < sizeof(pieces)) {
			size_t k = 1 + prng(&sd) % 13;
			if (k > sizeof(pieces) - off)
				k = sizeof(pieces) - off;
			espat_ws_mask(pieces + off, k, key, off);
			off += k;
		}
		assert_memory_equal(pieces, whole, sizeof(whole));
	}
	/* offsets past 4 GiB keep their phase */
	memcpy(pieces, plain, sizeof(plain));
	espat_ws_mask(pieces, 3, key, (1ull << 40) + 1);
	assert_int_equal(pieces[0], plain[0] ^ key[1]);
	assert_int_equal(pieces[2], plain[2] ^ key[3]);
	/* masking twice restores */
	espat_ws_mask(whole, sizeof(whole), key, 0);
	assert_memory_equal(whole, plain, sizeof(plain));
}

/* ---- close payloads ----------------------------------------------------- */

static void close_payloads(void **state)
{
	uint8_t b[ESPAT_WS_CTRL_MAX + 8];
	uint16_t code = 0;
	const uint8_t *reason = NULL;
	size_t rlen = 99;

	assert_int_equal(espat_ws_close_build(b, sizeof(b), 1000, "bye", 3), 5);
	assert_memory_equal(b,
	                    "\x03\xe8"
	                    "bye",
	                    5);
	assert_int_equal(espat_ws_close_parse(b, 5, &code, &reason, &rlen), ESPAT_WS_ERR_NONE);
	assert_int_equal(code, 1000);
	assert_int_equal(rlen, 3);
	assert_memory_equal(reason, "bye", 3);

	assert_int_equal(espat_ws_close_parse(b, 0, &code, &reason, &rlen), ESPAT_WS_ERR_NONE);
	assert_int_equal(code, 1005);
	assert_int_equal(rlen, 0);
	assert_int_equal(espat_ws_close_parse(b, 1, &code, &reason, &rlen),
	                 ESPAT_WS_ERR_CLOSE_LEN1);
	assert_int_equal(espat_ws_close_build(b, sizeof(b), 4999, NULL, 0), 2);
	assert_memory_equal(b, "\x13\x87", 2);

	const uint16_t good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
	                         1010, 1011, 1012, 1013, 1014, 3000, 4999};
	const uint16_t bad[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(espat_ws_close_code_valid(good[i]));
		assert_int_equal(espat_ws_close_build(b, sizeof(b), good[i], "", 0), 2);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(espat_ws_close_code_valid(bad[i]));
		assert_int_equal(espat_ws_close_build(b, sizeof(b), bad[i], "", 0), 0);
		b[0] = (uint8_t)(bad[i] >> 8);
		b[1] = (uint8_t)bad[i];
		assert_int_equal(espat_ws_close_parse(b, 2, &code, &reason, &rlen),
		                 ESPAT_WS_ERR_CLOSE_CODE);
	}

	char r[200];
	memset(r, 'r', sizeof(r));
	assert_int_equal(espat_ws_close_build(b, sizeof(b), 1000, r, 123), 125);
	assert_int_equal(espat_ws_close_build(b, sizeof(b), 1000, r, 124), 0);
	assert_int_equal(espat_ws_close_build(b, 10, 1000, r, 9), 0);
	assert_int_equal(espat_ws_close_build(b, 10, 1000, r, 8), 10);
	assert_int_equal(espat_ws_close_build(b, sizeof(b), 1000, "\xff", 1), 0);
	assert_int_equal(espat_ws_close_build(b, sizeof(b), 1001, "\xc3\xa9t\xc3\xa9", 6), 8);
	assert_int_equal(espat_ws_close_parse(b, 8, &code, &reason, &rlen), ESPAT_WS_ERR_NONE);
	assert_int_equal(code, 1001);
}

/* ---- UTF-8 -------------------------------------------------------------- */

static bool utf8_split(const char *s, size_t n, size_t piece)
{
	struct espat_ws_utf8 u;
	espat_ws_utf8_init(&u);
	for (size_t i = 0; i < n; i += piece)
		espat_ws_utf8_feed(&u, (const uint8_t *)s + i, n - i < piece ? n - i : piece);
	return espat_ws_utf8_done(&u);
}

static void utf8_validation(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		bool ok;
	} cases[] = {
#define U(lit, ok) {lit, sizeof(lit) - 1, ok}
	    U("", true),
	    U("Hello", true),
	    U("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true), /* kosme */
	    U("\xc2\x80", true),
	    U("\xdf\xbf", true),
	    U("\xe0\xa0\x80", true),
	    U("\xed\x9f\xbf", true), /* U+D7FF */
	    U("\xee\x80\x80", true), /* U+E000 */
	    U("\xef\xbf\xbf", true), /* U+FFFF */
	    U("\xf0\x90\x80\x80", true),
	    U("\xf4\x8f\xbf\xbf", true), /* U+10FFFF */
	    U("\x00", true),
	    U("\x80", false),
	    U("\xbf", false),
	    U("\xc0\x80", false), /* overlong NUL */
	    U("\xc1\xbf", false),
	    U("\xe0\x9f\xbf", false),     /* overlong */
	    U("\xed\xa0\x80", false),     /* surrogate */
	    U("\xed\xbf\xbf", false),     /* surrogate */
	    U("\xf0\x8f\xbf\xbf", false), /* overlong */
	    U("\xf4\x90\x80\x80", false), /* past U+10FFFF */
	    U("\xf5\x80\x80\x80", false),
	    U("\xfe", false),
	    U("\xff", false),
	    U("\xc3\x28", false),
	    U("ab\xc3", false), /* cut in a character */
	    U("\xe2\x82", false),
	    U("\xf0\x9f\x98", false),
	    U("\xf0\x9f\x98\x80 ok", true),
#undef U
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t piece = 1; piece <= 5; piece++) {
			if (utf8_split(cases[i].s, cases[i].n, piece) != cases[i].ok)
				fail_msg("utf8 case %zu piece %zu", i, piece);
		}
	}
	/* fails fast, at the bad byte, and stays failed */
	struct espat_ws_utf8 u;
	espat_ws_utf8_init(&u);
	assert_true(espat_ws_utf8_feed(&u, B("ab\xe2\x82")));
	assert_false(espat_ws_utf8_done(&u));
	assert_false(espat_ws_utf8_feed(&u, B("(")));
	assert_false(espat_ws_utf8_feed(&u, B("a")));
	assert_false(espat_ws_utf8_done(&u));
}

/* ---- handshake ---------------------------------------------------------- */

static const uint8_t rfc_nonce[16] = "the sample nonce";

static void accept_value(void **state)
{
	char key[ESPAT_WS_KEY_SIZE], acc[ESPAT_WS_ACCEPT_SIZE];
	espat_ws_key(key, rfc_nonce);
	assert_string_equal(key, "dGhlIHNhbXBsZSBub25jZQ==");
	assert_true(espat_ws_accept(acc, key, strlen(key)));
	assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

	const char *k = "dGhlIHNhbXBsZSBub25jZQ==";
	assert_true(espat_ws_accept_check(k, 24, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28));
	assert_true(espat_ws_accept_check(k, 24, " \ts3pPLMBiTxaQ9kYGzzhZRbK+xOo= ", 31));
	assert_false(espat_ws_accept_check(k, 24, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo", 27));
	assert_false(espat_ws_accept_check(k, 24, "s3pPLMBiTxaQ9kYGzzhZRbK+xOO=", 28));
	assert_false(espat_ws_accept_check(k, 24, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo==", 29));
	assert_false(espat_ws_accept_check(k, 23, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28));
	assert_false(espat_ws_accept_check(k, 24, "", 0));

	char big[ESPAT_WS_KEY_MAX + 1];
	memset(big, 'A', sizeof(big));
	assert_true(espat_ws_accept(acc, big, ESPAT_WS_KEY_MAX));
	assert_int_equal(strlen(acc), 28);
	assert_false(espat_ws_accept(acc, big, ESPAT_WS_KEY_MAX + 1));
}

static void request_rfc(void **state)
{
	static const char want[] = "GET /chat HTTP/1.1\r\n"
	                           "Host: server.example.com\r\n"
	                           "Upgrade: websocket\r\n"
	                           "Connection: Upgrade\r\n"
	                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	                           "Sec-WebSocket-Version: 13\r\n"
	                           "Sec-WebSocket-Protocol: chat, superchat\r\n"
	                           "Origin: http://example.com\r\n"
	                           "X-Two: 2\r\n"
	                           "\r\n";
	const char *const hdrs[] = {"Origin: http://example.com", "X-Two: 2"};
	struct espat_ws_request rq = {
	    .host = "server.example.com",
	    .port = 80,
	    .path = "/chat",
	    .nonce = rfc_nonce,
	    .protocol = "chat, superchat",
	    .headers = hdrs,
	    .n_headers = 2,
	};
	char b[512];
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &rq), sizeof(want) - 1);
	assert_string_equal(b, want);
	/* every smaller buffer: nothing */
	for (size_t cap = 0; cap < sizeof(want); cap++)
		assert_int_equal(espat_ws_request_build(b, cap, &rq), 0);
	assert_int_equal(espat_ws_request_build(b, sizeof(want), &rq), sizeof(want) - 1);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void request_host_and_fields(void **state)
{
	struct espat_ws_request rq = {.host = "h", .port = 8080, .nonce = rfc_nonce};
	char b[512];
	assert_true(espat_ws_request_build(b, sizeof(b), &rq) > 0);
	assert_true(starts_with(b, "GET / HTTP/1.1\r\nHost: h:8080\r\n"));
	assert_null(strstr(b, "Protocol"));
	rq.tls = true;
	rq.port = 443;
	assert_true(espat_ws_request_build(b, sizeof(b), &rq) > 0);
	assert_true(starts_with(b, "GET / HTTP/1.1\r\nHost: h\r\n"));
	rq.port = 80; /* not the default for wss */
	assert_true(espat_ws_request_build(b, sizeof(b), &rq) > 0);
	assert_true(starts_with(b, "GET / HTTP/1.1\r\nHost: h:80\r\n"));
	rq.tls = false;
	rq.host = "::1";
	rq.port = 65535;
	rq.path = "/a?b=c";
	assert_true(espat_ws_request_build(b, sizeof(b), &rq) > 0);
	assert_true(starts_with(b, "GET /a?b=c HTTP/1.1\r\nHost: [::1]:65535\r\n"));
	rq.host = "[::1]";
	rq.port = 80;
	assert_true(espat_ws_request_build(b, sizeof(b), &rq) > 0);
	assert_true(starts_with(b, "GET /a?b=c HTTP/1.1\r\nHost: [::1]\r\n"));
	rq.port = 1;
	assert_true(espat_ws_request_build(b, sizeof(b), &rq) > 0);
	assert_true(starts_with(b, "GET /a?b=c HTTP/1.1\r\nHost: [::1]:1\r\n"));

	/* bad fields: nothing is written */
	const char *const crlf[] = {"X-A: 1", "X-B: 2\r\nEvil: 1"};
	const char *const empty[] = {""};
	struct espat_ws_request ok = {.host = "h", .port = 80, .nonce = rfc_nonce};
	struct espat_ws_request r;
	r = ok, r.host = NULL;
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.host = "";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.host = "a b";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.path = "chat";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.path = "/a b";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.path = "/a\r\nX: y";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.nonce = NULL;
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.protocol = "";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.protocol = "a\nb";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.protocol = "a\x01b";
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.protocol = "chat,\tsuperchat";
	assert_true(espat_ws_request_build(b, sizeof(b), &r) > 0);
	r = ok, r.headers = crlf, r.n_headers = 2;
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.headers = empty, r.n_headers = 1;
	assert_int_equal(espat_ws_request_build(b, sizeof(b), &r), 0);
	r = ok, r.headers = crlf, r.n_headers = 1;
	assert_true(espat_ws_request_build(b, sizeof(b), &r) > 0);
	assert_non_null(strstr(b, "\r\nX-A: 1\r\n\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc_single_frames),
	    cmocka_unit_test(rfc_fragmented),
	    cmocka_unit_test(rfc_long_lengths),
	    cmocka_unit_test(rfc_writer_bytes),
	    cmocka_unit_test(events_in_order),
	    cmocka_unit_test(masked_payload_bounded),
	    cmocka_unit_test(control_between_fragments),
	    cmocka_unit_test(every_error),
	    cmocka_unit_test(error_is_final),
	    cmocka_unit_test(rsv_allowed_by_extension),
	    cmocka_unit_test(multi_megabyte_streamed),
	    cmocka_unit_test(huge_length_not_buffered),
	    cmocka_unit_test(writer_limits),
	    cmocka_unit_test(writer_round_trip),
	    cmocka_unit_test(mask_in_pieces),
	    cmocka_unit_test(close_payloads),
	    cmocka_unit_test(utf8_validation),
	    cmocka_unit_test(accept_value),
	    cmocka_unit_test(request_rfc),
	    cmocka_unit_test(request_host_and_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
