/* WebSocket (RFC 6455) codec: a pure, incremental frame parser, a frame
 * writer, close-payload and UTF-8 helpers, and the opening-handshake
 * helpers of a client (and of a server later). It touches no socket, clock
 * or randomness: mask keys and the handshake nonce come from the caller.
 *
 * Parser contract. espat_ws_feed() takes (buf, len), returns the bytes it
 * consumed and sets one event. Call it again with the rest until the event
 * is NEED_MORE (then all of buf was consumed) or ERROR:
 *
 *   do {
 *           size_t used = espat_ws_feed(&p, buf, len, &ev);
 *           buf += used, len -= used;
 *           ... handle ev ...
 *   } while (ev.type != ESPAT_WS_EV_NEED_MORE && ev.type != ESPAT_WS_EV_ERROR);
 *
 * Looping until len is 0 is not enough: FRAME_END consumes nothing, so the
 * end of a frame whose last byte came in this buf would otherwise wait for
 * the next read. Every frame gives FRAME_START, then PAYLOAD events whose
 * sizes add up to the declared length (none for an empty payload), then
 * FRAME_END. Control frames may come between the frames of a fragmented
 * message, never inside a frame.
 *
 * Payload slices. An unmasked data frame's PAYLOAD points into buf (no
 * copy). A masked one is unmasked into the parser's own buffer, at most
 * ESPAT_WS_UNMASK_MAX bytes per event. A control frame (at most 125 bytes)
 * is gathered whole and validated first, then given as one PAYLOAD in the
 * parser's buffer. A slice stays valid until the next call on the parser
 * (or, for one into buf, as long as buf).
 *
 * Role: a client parses frames from a server, which must be unmasked; a
 * server parses frames from clients, which must be masked (section 5.1).
 *
 * Decisions: lengths up to 2^63-1 are reported and never buffered (the
 * caller decides what is too big); non-minimal length encodings are
 * rejected (5.2: "the minimal number of bytes MUST be used"); RSV bits are
 * errors unless the caller set them in rsv_allowed; a close frame's code
 * and reason (UTF-8) are validated; text payloads are not: the caller runs
 * espat_ws_utf8_feed() on them if it wants (ESP-AT passes bytes through).
 * The parser is frame-level: frames after a close are parsed like any
 * other; what a connection does after close is its owner's business.
 * ERROR is final: every later call returns it again, until init. */
#ifndef ESPAT_PROTO_WS_H
#define ESPAT_PROTO_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_WS_CTRL_MAX 125   /* longest control-frame payload (5.5) */
#define ESPAT_WS_UNMASK_MAX 512 /* most bytes of masked payload per PAYLOAD event */
#define ESPAT_WS_HEADER_MAX 14  /* 2 + 8 (64-bit length) + 4 (mask key) */
#define ESPAT_WS_NONCE_LEN 16   /* raw bytes behind Sec-WebSocket-Key */
#define ESPAT_WS_KEY_SIZE 25    /* base64 of the nonce, NUL included */
#define ESPAT_WS_ACCEPT_SIZE 29 /* base64 of a SHA-1, NUL included */
#define ESPAT_WS_KEY_MAX 64     /* longest key espat_ws_accept() hashes */

enum espat_ws_role {
	ESPAT_WS_CLIENT, /* parses a server's frames: unmasked */
	ESPAT_WS_SERVER, /* parses a client's frames: masked */
};

enum espat_ws_opcode {
	ESPAT_WS_CONT = 0x0,
	ESPAT_WS_TEXT = 0x1,
	ESPAT_WS_BINARY = 0x2,
	ESPAT_WS_CLOSE = 0x8,
	ESPAT_WS_PING = 0x9,
	ESPAT_WS_PONG = 0xA,
};

enum espat_ws_ev_type {
	ESPAT_WS_EV_NEED_MORE,   /* all input consumed, nothing more to report */
	ESPAT_WS_EV_FRAME_START, /* a header is complete: fin, opcode, rsv, len */
	ESPAT_WS_EV_PAYLOAD,     /* data[0..n) is payload at offset in the frame */
	ESPAT_WS_EV_FRAME_END,   /* the frame's payload is complete */
	ESPAT_WS_EV_ERROR,       /* protocol violation (err); the parser is dead */
};

enum espat_ws_err {
	ESPAT_WS_ERR_NONE,
	ESPAT_WS_ERR_RSV,             /* RSV bit set that no extension allows */
	ESPAT_WS_ERR_OPCODE,          /* reserved opcode 0x3-0x7, 0xB-0xF */
	ESPAT_WS_ERR_CTRL_LEN,        /* control frame longer than 125 */
	ESPAT_WS_ERR_CTRL_FRAGMENTED, /* control frame without FIN */
	ESPAT_WS_ERR_LEN_TOP_BIT,     /* 64-bit length with bit 63 set */
	ESPAT_WS_ERR_LEN_NOT_MINIMAL, /* length in 16/64 bits that fits in fewer */
	ESPAT_WS_ERR_MASK,            /* masked from a server / unmasked from a client */
	ESPAT_WS_ERR_CONT_NO_MSG,     /* continuation with no fragmented message open */
	ESPAT_WS_ERR_MSG_OPEN,        /* text/binary while a fragmented message is open */
	ESPAT_WS_ERR_CLOSE_LEN1,      /* close payload of 1 byte: half a code */
	ESPAT_WS_ERR_CLOSE_CODE,      /* close code that may not be on the wire */
	ESPAT_WS_ERR_CLOSE_UTF8,      /* close reason not UTF-8 */
};

/* One event. The frame fields are set on every event of a frame. */
struct espat_ws_ev {
	enum espat_ws_ev_type type;
	bool fin;
	uint8_t opcode;        /* the frame's own (ESPAT_WS_CONT for a continuation) */
	uint8_t msg_opcode;    /* TEXT/BINARY of the message a data frame is part
	                          of; a control frame's own opcode */
	uint8_t rsv;           /* RSV1..RSV3 as bits 2..0 */
	uint64_t len;          /* declared payload length */
	const uint8_t *data;   /* PAYLOAD: the slice (see lifetimes above) */
	size_t n;              /* PAYLOAD: bytes in data */
	uint64_t offset;       /* PAYLOAD: position of data[0] in the payload */
	enum espat_ws_err err; /* ERROR: why */
};

/* Parser states; internal, in the header only so the struct can live in
 * its owner without allocation. */
enum espat_ws_state {
	ESPAT_WS_ST_HEADER,  /* gathering 2..14 header bytes */
	ESPAT_WS_ST_DATA,    /* streaming a data frame's payload */
	ESPAT_WS_ST_CONTROL, /* gathering a control frame's payload */
	ESPAT_WS_ST_END,     /* FRAME_END is due */
	ESPAT_WS_ST_ERROR,
};

struct espat_ws_parser {
	enum espat_ws_role role;
	uint8_t rsv_allowed; /* RSV bits negotiated extensions use (bits 2..0);
	                        0 after init, the caller may set it */
	enum espat_ws_state state;
	uint8_t hdr[ESPAT_WS_HEADER_MAX]; /* the header so far */
	uint8_t hdr_len;                  /* bytes in hdr */
	uint8_t hdr_need;                 /* header size, known after 2 bytes */
	struct espat_ws_ev frame;         /* the current frame's fields */
	uint8_t key[4];                   /* its mask key, when masked */
	bool masked;
	uint64_t pos;       /* payload bytes of the frame consumed */
	bool msg_open;      /* a fragmented message awaits continuations */
	uint8_t msg_opcode; /* its TEXT/BINARY */
	enum espat_ws_err err;
	uint8_t ctrl[ESPAT_WS_CTRL_MAX];     /* a control frame's payload */
	uint8_t unmask[ESPAT_WS_UNMASK_MAX]; /* unmasked data-frame payload */
};

void espat_ws_parser_init(struct espat_ws_parser *p, enum espat_ws_role role);

/* Consumes bytes of buf and sets *ev; see the contract above. Never returns
 * more than len. Only NEED_MORE, FRAME_END and ERROR may consume nothing;
 * NEED_MORE consumes all of buf. */
size_t espat_ws_feed(struct espat_ws_parser *p, const uint8_t *buf, size_t len,
                     struct espat_ws_ev *ev);

/* A short English name of err, for logs. */
const char *espat_ws_err_str(enum espat_ws_err err);

/* ---- writer ------------------------------------------------------------- */

/* Writes a frame header into buf and returns its size (2..14), or 0 when
 * cap is too small or the frame would be invalid: reserved opcode (>0xF
 * included), length >= 2^63, or a control frame that is longer than 125 or
 * not FIN. mask_key is the 4-byte key of a masked (client) frame, or NULL.
 * The payload follows, masked by the caller with espat_ws_mask(). */
size_t espat_ws_write_header(uint8_t *buf, size_t cap, bool fin, uint8_t opcode,
                             uint64_t payload_len, const uint8_t *mask_key);

/* Masks (or unmasks: the same XOR) p[0..n) in place, where p[0] is the
 * byte at offset in the payload, so a payload can be masked in pieces. */
void espat_ws_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset);

/* ---- close payloads ----------------------------------------------------- */

/* May code be sent in a close frame? 1000-1003, 1007-1014 (the IANA
 * registry adds 1012-1014 to RFC 6455's list) and 3000-4999. */
bool espat_ws_close_code_valid(uint16_t code);

/* Splits a close payload. An empty one gives code 1005 (no status) and an
 * empty reason. *reason points into p. Returns ERR_NONE, ERR_CLOSE_LEN1,
 * ERR_CLOSE_CODE or ERR_CLOSE_UTF8. */
enum espat_ws_err espat_ws_close_parse(const uint8_t *p, size_t n, uint16_t *code,
                                       const uint8_t **reason, size_t *reason_len);

/* Writes a close payload (code, then reason) into buf and returns its size,
 * or 0 when code may not be sent, reason is not UTF-8, the payload would
 * pass 125 bytes or cap is too small. */
size_t espat_ws_close_build(uint8_t *buf, size_t cap, uint16_t code, const char *reason,
                            size_t reason_len);

/* ---- UTF-8 validation, incremental -------------------------------------- */

/* Validates text cut anywhere (across frames and feeds): overlong forms,
 * surrogates and code points past U+10FFFF are invalid. */
struct espat_ws_utf8 {
	uint8_t need; /* continuation bytes still expected */
	uint8_t lo;   /* range of the next continuation byte */
	uint8_t hi;
	bool bad; /* invalid so far; stays set */
};

void espat_ws_utf8_init(struct espat_ws_utf8 *u);

/* Returns false once the text so far cannot be UTF-8 (fail fast, 8.1). */
bool espat_ws_utf8_feed(struct espat_ws_utf8 *u, const uint8_t *s, size_t n);

/* True when the text so far is valid and ends on a character boundary:
 * call at the end of a message. */
bool espat_ws_utf8_done(const struct espat_ws_utf8 *u);

/* ---- opening handshake (section 4) -------------------------------------- */

struct espat_ws_request {
	const char *host;           /* name or address; an IPv6 one gets brackets */
	uint16_t port;              /* shown in Host unless the scheme's default */
	bool tls;                   /* wss: the default port is 443, not 80 */
	const char *path;           /* starts with '/'; NULL means "/" */
	const uint8_t *nonce;       /* ESPAT_WS_NONCE_LEN random bytes */
	const char *protocol;       /* Sec-WebSocket-Protocol value, or NULL */
	const char *const *headers; /* extra "Name: value" lines, without CR LF */
	size_t n_headers;
};

/* Writes the client's upgrade request, NUL-terminated, into buf and returns
 * its length without the NUL, or 0 when it does not fit or a field is bad:
 * no host or nonce; a path not starting with '/'; a space or control
 * character in host or path; an empty protocol or header line, or one with
 * a control character other than tab (no CR LF injection). */
size_t espat_ws_request_build(char *buf, size_t cap, const struct espat_ws_request *rq);

/* The Sec-WebSocket-Key for a nonce: base64, NUL-terminated. */
void espat_ws_key(char out[ESPAT_WS_KEY_SIZE], const uint8_t nonce[ESPAT_WS_NONCE_LEN]);

/* The Sec-WebSocket-Accept for a key: base64(SHA-1(key GUID)),
 * NUL-terminated. False when key is longer than ESPAT_WS_KEY_MAX or the
 * digest fails. */
bool espat_ws_accept(char out[ESPAT_WS_ACCEPT_SIZE], const char *key, size_t key_len);

/* Does a server's Sec-WebSocket-Accept value (spaces and tabs around it
 * ignored) match key? */
bool espat_ws_accept_check(const char *key, size_t key_len, const char *value, size_t value_len);

#endif
