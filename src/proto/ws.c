#include "proto/ws.h"

#include <string.h>

#include <openssl/evp.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool is_control(uint8_t opcode)
{
	return (opcode & 0x8) != 0;
}

static bool is_known_opcode(uint8_t opcode)
{
	return opcode <= ESPAT_WS_BINARY || (opcode >= ESPAT_WS_CLOSE && opcode <= ESPAT_WS_PONG);
}

/* ---- parser ------------------------------------------------------------- */

void espat_ws_parser_init(struct espat_ws_parser *p, enum espat_ws_role role)
{
	memset(p, 0, sizeof(*p));
	p->role = role;
	p->state = ESPAT_WS_ST_HEADER;
	p->hdr_need = 2;
}

static size_t fail(struct espat_ws_parser *p, enum espat_ws_err err, struct espat_ws_ev *ev,
                   size_t used)
{
	p->state = ESPAT_WS_ST_ERROR;
	p->err = err;
	ev->type = ESPAT_WS_EV_ERROR;
	ev->err = err;
	return used;
}

static size_t need_more(struct espat_ws_ev *ev, size_t used)
{
	ev->type = ESPAT_WS_EV_NEED_MORE;
	return used;
}

/* Checks what the first two header bytes alone can tell, and sizes the
 * rest of the header. Message state is not changed yet: the length may
 * still be bad. */
static enum espat_ws_err check_start(struct espat_ws_parser *p)
{
	uint8_t b0 = p->hdr[0], b1 = p->hdr[1];
	uint8_t opcode = b0 & 0x0F, len7 = b1 & 0x7F;
	bool masked = (b1 & 0x80) != 0;

	if (((b0 >> 4) & 0x7) & ~p->rsv_allowed)
		return ESPAT_WS_ERR_RSV;
	if (!is_known_opcode(opcode))
		return ESPAT_WS_ERR_OPCODE;
	if (is_control(opcode)) {
		if (!(b0 & 0x80))
			return ESPAT_WS_ERR_CTRL_FRAGMENTED;
		if (len7 > ESPAT_WS_CTRL_MAX)
			return ESPAT_WS_ERR_CTRL_LEN;
		if (opcode == ESPAT_WS_CLOSE && len7 == 1)
			return ESPAT_WS_ERR_CLOSE_LEN1;
	} else if (opcode == ESPAT_WS_CONT && !p->msg_open) {
		return ESPAT_WS_ERR_CONT_NO_MSG;
	} else if (opcode != ESPAT_WS_CONT && p->msg_open) {
		return ESPAT_WS_ERR_MSG_OPEN;
	}
	if (masked != (p->role == ESPAT_WS_SERVER))
		return ESPAT_WS_ERR_MASK;

	p->hdr_need = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0));
	return ESPAT_WS_ERR_NONE;
}

/* Decodes the length of a complete header; rejects what 5.2 forbids. */
static enum espat_ws_err decode_length(const uint8_t *hdr, uint64_t *len)
{
	uint8_t len7 = hdr[1] & 0x7F;
	if (len7 < 126) {
		*len = len7;
		return ESPAT_WS_ERR_NONE;
	}
	size_t bytes = len7 == 126 ? 2 : 8;
	uint64_t v = 0;
	for (size_t i = 0; i < bytes; i++)
		v = v << 8 | hdr[2 + i];
	if (bytes == 8 && (v >> 63))
		return ESPAT_WS_ERR_LEN_TOP_BIT;
	if (v < (bytes == 2 ? 126u : 0x10000u))
		return ESPAT_WS_ERR_LEN_NOT_MINIMAL;
	*len = v;
	return ESPAT_WS_ERR_NONE;
}

/* A complete, valid header: the frame starts, and so may a message. */
static void start_frame(struct espat_ws_parser *p, uint64_t len)
{
	struct espat_ws_ev *f = &p->frame;
	memset(f, 0, sizeof(*f));
	f->fin = (p->hdr[0] & 0x80) != 0;
	f->rsv = (p->hdr[0] >> 4) & 0x7;
	f->opcode = p->hdr[0] & 0x0F;
	f->len = len;
	p->masked = (p->hdr[1] & 0x80) != 0;
	if (p->masked)
		memcpy(p->key, p->hdr + p->hdr_len - 4, 4);
	p->pos = 0;

	if (is_control(f->opcode)) {
		f->msg_opcode = f->opcode;
	} else {
		if (f->opcode != ESPAT_WS_CONT)
			p->msg_opcode = f->opcode;
		p->msg_open = !f->fin;
		f->msg_opcode = p->msg_opcode;
	}
	if (len == 0)
		p->state = ESPAT_WS_ST_END;
	else if (is_control(f->opcode))
		p->state = ESPAT_WS_ST_CONTROL;
	else
		p->state = ESPAT_WS_ST_DATA;
}

static size_t feed_header(struct espat_ws_parser *p, const uint8_t *buf, size_t len,
                          struct espat_ws_ev *ev)
{
	size_t used = 0;
	while (used < len && p->hdr_len < p->hdr_need) {
		p->hdr[p->hdr_len++] = buf[used++];
		if (p->hdr_len == 2) {
			enum espat_ws_err err = check_start(p);
			if (err != ESPAT_WS_ERR_NONE)
				return fail(p, err, ev, used);
		}
	}
	if (p->hdr_len < p->hdr_need)
		return need_more(ev, used);

	uint64_t plen = 0;
	enum espat_ws_err err = decode_length(p->hdr, &plen);
	if (err != ESPAT_WS_ERR_NONE)
		return fail(p, err, ev, used);
	start_frame(p, plen);
	*ev = p->frame;
	ev->type = ESPAT_WS_EV_FRAME_START;
	return used;
}

static size_t feed_data(struct espat_ws_parser *p, const uint8_t *buf, size_t len,
                        struct espat_ws_ev *ev)
{
	uint64_t left = p->frame.len - p->pos;
	size_t take = left < len ? (size_t)left : len;
	if (take == 0)
		return need_more(ev, 0);

	*ev = p->frame;
	ev->type = ESPAT_WS_EV_PAYLOAD;
	ev->offset = p->pos;
	if (p->masked) {
		if (take > sizeof(p->unmask))
			take = sizeof(p->unmask);
		memcpy(p->unmask, buf, take);
		espat_ws_mask(p->unmask, take, p->key, p->pos);
		ev->data = p->unmask;
	} else {
		ev->data = buf;
	}
	ev->n = take;
	p->pos += take;
	if (p->pos == p->frame.len)
		p->state = ESPAT_WS_ST_END;
	return take;
}

/* Gathers a control payload; validates a close one before anything of it is
 * reported. */
static size_t feed_control(struct espat_ws_parser *p, const uint8_t *buf, size_t len,
                           struct espat_ws_ev *ev)
{
	size_t n = (size_t)p->frame.len; /* <= 125, checked in check_start */
	if (len == 0)
		return need_more(ev, 0);
	size_t take = n - (size_t)p->pos < len ? n - (size_t)p->pos : len;
	memcpy(p->ctrl + p->pos, buf, take);
	p->pos += take;
	if (p->pos < n)
		return need_more(ev, take);

	if (p->masked)
		espat_ws_mask(p->ctrl, n, p->key, 0);
	if (p->frame.opcode == ESPAT_WS_CLOSE) {
		uint16_t code;
		const uint8_t *reason;
		size_t rlen;
		enum espat_ws_err err = espat_ws_close_parse(p->ctrl, n, &code, &reason, &rlen);
		if (err != ESPAT_WS_ERR_NONE)
			return fail(p, err, ev, take);
	}
	*ev = p->frame;
	ev->type = ESPAT_WS_EV_PAYLOAD;
	ev->data = p->ctrl;
	ev->n = n;
	p->state = ESPAT_WS_ST_END;
	return take;
}

static void end_frame(struct espat_ws_parser *p, struct espat_ws_ev *ev)
{
	*ev = p->frame;
	ev->type = ESPAT_WS_EV_FRAME_END;
	p->state = ESPAT_WS_ST_HEADER;
	p->hdr_len = 0;
	p->hdr_need = 2;
}

size_t espat_ws_feed(struct espat_ws_parser *p, const uint8_t *buf, size_t len,
                     struct espat_ws_ev *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (p->state) {
	case ESPAT_WS_ST_HEADER:
		return feed_header(p, buf, len, ev);
	case ESPAT_WS_ST_DATA:
		return feed_data(p, buf, len, ev);
	case ESPAT_WS_ST_CONTROL:
		return feed_control(p, buf, len, ev);
	case ESPAT_WS_ST_END:
		end_frame(p, ev);
		return 0;
	case ESPAT_WS_ST_ERROR:
		break;
	}
	return fail(p, p->err, ev, 0);
}

const char *espat_ws_err_str(enum espat_ws_err err)
{
	switch (err) {
	case ESPAT_WS_ERR_NONE:
		return "no error";
	case ESPAT_WS_ERR_RSV:
		return "reserved bit set";
	case ESPAT_WS_ERR_OPCODE:
		return "reserved opcode";
	case ESPAT_WS_ERR_CTRL_LEN:
		return "control frame longer than 125";
	case ESPAT_WS_ERR_CTRL_FRAGMENTED:
		return "fragmented control frame";
	case ESPAT_WS_ERR_LEN_TOP_BIT:
		return "64-bit length with the top bit set";
	case ESPAT_WS_ERR_LEN_NOT_MINIMAL:
		return "length not minimally encoded";
	case ESPAT_WS_ERR_MASK:
		return "wrong masking for the role";
	case ESPAT_WS_ERR_CONT_NO_MSG:
		return "continuation without a message";
	case ESPAT_WS_ERR_MSG_OPEN:
		return "new message inside a fragmented one";
	case ESPAT_WS_ERR_CLOSE_LEN1:
		return "close payload of 1 byte";
	case ESPAT_WS_ERR_CLOSE_CODE:
		return "invalid close code";
	case ESPAT_WS_ERR_CLOSE_UTF8:
		return "close reason not UTF-8";
	}
	return "unknown error";
}

/* ---- writer ------------------------------------------------------------- */

size_t espat_ws_write_header(uint8_t *buf, size_t cap, bool fin, uint8_t opcode,
                             uint64_t payload_len, const uint8_t *mask_key)
{
	if (!is_known_opcode(opcode) || (payload_len >> 63))
		return 0;
	if (is_control(opcode) && (!fin || payload_len > ESPAT_WS_CTRL_MAX))
		return 0;

	size_t ext = payload_len < 126 ? 0 : payload_len <= 0xFFFF ? 2 : 8;
	size_t n = 2 + ext + (mask_key ? 4 : 0);
	if (n > cap)
		return 0;
	buf[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	buf[1] = (uint8_t)((mask_key ? 0x80 : 0) | (ext == 0 ? payload_len : ext == 2 ? 126 : 127));
	for (size_t i = 0; i < ext; i++)
		buf[2 + i] = (uint8_t)(payload_len >> (8 * (ext - 1 - i)));
	if (mask_key)
		memcpy(buf + 2 + ext, mask_key, 4);
	return n;
}

void espat_ws_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= key[(offset + i) & 3];
}

/* ---- close payloads ----------------------------------------------------- */

bool espat_ws_close_code_valid(uint16_t code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

enum espat_ws_err espat_ws_close_parse(const uint8_t *p, size_t n, uint16_t *code,
                                       const uint8_t **reason, size_t *reason_len)
{
	*reason = p;
	*reason_len = 0;
	if (n == 0) {
		*code = 1005;
		return ESPAT_WS_ERR_NONE;
	}
	if (n == 1)
		return ESPAT_WS_ERR_CLOSE_LEN1;
	*code = (uint16_t)(p[0] << 8 | p[1]);
	if (!espat_ws_close_code_valid(*code))
		return ESPAT_WS_ERR_CLOSE_CODE;
	struct espat_ws_utf8 u;
	espat_ws_utf8_init(&u);
	espat_ws_utf8_feed(&u, p + 2, n - 2);
	if (!espat_ws_utf8_done(&u))
		return ESPAT_WS_ERR_CLOSE_UTF8;
	*reason = p + 2;
	*reason_len = n - 2;
	return ESPAT_WS_ERR_NONE;
}

size_t espat_ws_close_build(uint8_t *buf, size_t cap, uint16_t code, const char *reason,
                            size_t reason_len)
{
	if (!espat_ws_close_code_valid(code) || reason_len > ESPAT_WS_CTRL_MAX - 2 ||
	    reason_len + 2 > cap)
		return 0;
	struct espat_ws_utf8 u;
	espat_ws_utf8_init(&u);
	espat_ws_utf8_feed(&u, (const uint8_t *)reason, reason_len);
	if (!espat_ws_utf8_done(&u))
		return 0;
	buf[0] = (uint8_t)(code >> 8);
	buf[1] = (uint8_t)code;
	if (reason_len > 0)
		memcpy(buf + 2, reason, reason_len);
	return reason_len + 2;
}

/* ---- UTF-8 -------------------------------------------------------------- */

void espat_ws_utf8_init(struct espat_ws_utf8 *u)
{
	memset(u, 0, sizeof(*u));
}

/* The lead byte c starts a sequence: how many continuation bytes follow and
 * the range of the first one (Unicode table 3-7), or false if c cannot
 * lead. */
static bool utf8_lead(struct espat_ws_utf8 *u, uint8_t c)
{
	u->lo = 0x80;
	u->hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		u->need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		u->need = 2;
		if (c == 0xE0)
			u->lo = 0xA0; /* overlong */
		else if (c == 0xED)
			u->hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		u->need = 3;
		if (c == 0xF0)
			u->lo = 0x90; /* overlong */
		else if (c == 0xF4)
			u->hi = 0x8F; /* past U+10FFFF */
	} else {
		return false;
	}
	return true;
}

bool espat_ws_utf8_feed(struct espat_ws_utf8 *u, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n && !u->bad; i++) {
		uint8_t c = s[i];
		if (u->need == 0) {
			if (c >= 0x80 && !utf8_lead(u, c))
				u->bad = true;
		} else if (c < u->lo || c > u->hi) {
			u->bad = true;
		} else {
			u->need--;
			u->lo = 0x80;
			u->hi = 0xBF;
		}
	}
	return !u->bad;
}

bool espat_ws_utf8_done(const struct espat_ws_utf8 *u)
{
	return !u->bad && u->need == 0;
}

/* ---- opening handshake -------------------------------------------------- */

/* Appends to a bounded text buffer; once something does not fit, the
 * result is void. */
struct out {
	char *buf;
	size_t cap; /* room, NUL included */
	size_t len;
	bool full;
};

static void put_n(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put(struct out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

static void put_u16(struct out *o, uint16_t v)
{
	char d[5];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put_n(o, d + i, sizeof(d) - i);
}

/* A token for the request line or a header value: printable, no spaces. */
static bool is_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7F)
			return false;
	return true;
}

/* A header value or line of our caller: not empty, no control character
 * but tab (so no line break to smuggle a header in). */
static bool is_field_text(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || (unsigned char)*s == 0x7F)
			return false;
	return true;
}

static bool request_valid(const struct espat_ws_request *rq)
{
	const char *path = rq->path ? rq->path : "/";
	if (!rq->host || !*rq->host || !is_printable(rq->host) || !rq->nonce)
		return false;
	if (path[0] != '/' || !is_printable(path))
		return false;
	if (rq->protocol && !is_field_text(rq->protocol))
		return false;
	for (size_t i = 0; i < rq->n_headers; i++)
		if (!rq->headers[i] || !is_field_text(rq->headers[i]))
			return false;
	return true;
}

size_t espat_ws_request_build(char *buf, size_t cap, const struct espat_ws_request *rq)
{
	if (cap == 0 || !request_valid(rq))
		return 0;
	struct out o = {.buf = buf, .cap = cap};
	char key[ESPAT_WS_KEY_SIZE];
	espat_ws_key(key, rq->nonce);
	bool ipv6 = strchr(rq->host, ':') != NULL && rq->host[0] != '[';

	put(&o, "GET ");
	put(&o, rq->path ? rq->path : "/");
	put(&o, " HTTP/1.1\r\nHost: ");
	put(&o, ipv6 ? "[" : "");
	put(&o, rq->host);
	put(&o, ipv6 ? "]" : "");
	if (rq->port != (rq->tls ? 443 : 80)) {
		put(&o, ":");
		put_u16(&o, rq->port);
	}
	put(&o, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
	put(&o, key);
	put(&o, "\r\nSec-WebSocket-Version: 13\r\n");
	if (rq->protocol) {
		put(&o, "Sec-WebSocket-Protocol: ");
		put(&o, rq->protocol);
		put(&o, "\r\n");
	}
	for (size_t i = 0; i < rq->n_headers; i++) {
		put(&o, rq->headers[i]);
		put(&o, "\r\n");
	}
	put(&o, "\r\n");
	if (o.full) {
		buf[0] = '\0';
		return 0;
	}
	buf[o.len] = '\0';
	return o.len;
}

void espat_ws_key(char out[ESPAT_WS_KEY_SIZE], const uint8_t nonce[ESPAT_WS_NONCE_LEN])
{
	EVP_EncodeBlock((unsigned char *)out, nonce, ESPAT_WS_NONCE_LEN);
}

bool espat_ws_accept(char out[ESPAT_WS_ACCEPT_SIZE], const char *key, size_t key_len)
{
	uint8_t in[ESPAT_WS_KEY_MAX + sizeof(ws_guid)];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	out[0] = '\0';
	if (key_len > ESPAT_WS_KEY_MAX)
		return false;
	memcpy(in, key, key_len);
	memcpy(in + key_len, ws_guid, sizeof(ws_guid) - 1);
	if (!EVP_Digest(in, key_len + sizeof(ws_guid) - 1, md, &md_len, EVP_sha1(), NULL) ||
	    md_len != 20)
		return false;
	EVP_EncodeBlock((unsigned char *)out, md, 20);
	return true;
}

bool espat_ws_accept_check(const char *key, size_t key_len, const char *value, size_t value_len)
{
	char want[ESPAT_WS_ACCEPT_SIZE];
	if (!espat_ws_accept(want, key, key_len))
		return false;
	while (value_len > 0 && (value[0] == ' ' || value[0] == '\t')) {
		value++;
		value_len--;
	}
	while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
		value_len--;
	return value_len == ESPAT_WS_ACCEPT_SIZE - 1 && memcmp(value, want, value_len) == 0;
}
