/* MQTT 3.1.1 (OASIS) and 3.1 codec: an incremental packet parser for either
 * side of a connection, writers for every packet, and topic helpers. Pure:
 * libc only, no allocation, no socket, no clock.
 *
 * Parser contract. espat_mqtt_feed() takes (buf, len), returns the bytes it
 * consumed and sets one event. Call it again with the rest until the event
 * is NEED_MORE (then all of buf was consumed) or ERROR:
 *
 *   do {
 *           size_t used = espat_mqtt_feed(&p, buf, len, &ev);
 *           buf += used, len -= used;
 *           ... handle ev ...
 *   } while (ev.type != ESPAT_MQTT_EV_NEED_MORE && ev.type != ESPAT_MQTT_EV_ERROR);
 *
 * Looping until len is 0 is not enough: PUBLISH_END consumes nothing, so
 * the end of a PUBLISH whose last byte came in this buf would otherwise
 * wait for the next read. A PUBLISH gives PUBLISH (its head), PAYLOAD
 * pieces whose sizes add up to pub.payload_len (none for an empty payload),
 * then PUBLISH_END. Every other packet is gathered whole and gives one
 * event named after it. Packets follow each other with nothing between.
 *
 * Role. A CLIENT parses what a broker sends (CONNACK, PUBLISH, PUBACK,
 * PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP); a BROKER (a test
 * peer) parses what a client sends (CONNECT, PUBLISH, the four publish
 * acknowledgements, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT). A packet
 * of the other direction is ERROR DIRECTION.
 *
 * Slices. PAYLOAD slices point into buf: payload bytes are never copied, a
 * payload of many MB streams through. Every other slice (topic, CONNECT
 * fields, topic lists, SUBACK codes) points into the parser's buffer and
 * stays valid until the next call on the parser, but pub.topic, which is
 * kept from PUBLISH through its PUBLISH_END.
 *
 * Limits. A PUBLISH topic is at most ESPAT_MQTT_TOPIC_MAX bytes and any
 * other packet at most ESPAT_MQTT_PACKET_MAX bytes after its fixed header;
 * more is ERROR TOO_LONG, never truncated (ESP-AT's longest client id,
 * user name and password, 1024 bytes each, fit in one CONNECT). A PUBLISH
 * payload is only limited by the remaining length (268,435,455 bytes).
 *
 * Decisions.
 *  - Strict 3.1.1 framing (2.2.2): fixed-header flags are 0b0010 for
 *    PUBREL, SUBSCRIBE and UNSUBSCRIBE and 0 for the others (3.1 clients
 *    that set DUP on a resent SUBSCRIBE are refused); PUBLISH QoS 3 is ERROR
 *    QOS, DUP on QoS 0 ERROR FLAGS (3.3.1). Type and flags are judged on
 *    the first byte, before the length.
 *  - The remaining length takes at most 4 bytes (a continuation bit on the
 *    4th is ERROR VARINT). Non-minimal encodings (0x80 0x00) are accepted:
 *    3.1.1 does not forbid them (MQTT 5 does).
 *  - Packet ids are never 0 (2.3.1). Topic names (PUBLISH, will topic) and
 *    filters (SUBSCRIBE, UNSUBSCRIBE) must pass espat_mqtt_topic_valid() /
 *    espat_mqtt_filter_valid() (ERROR TOPIC); a SUBSCRIBE or UNSUBSCRIBE
 *    without a filter is ERROR NO_TOPICS. Strings are not checked for
 *    well-formed UTF-8: esp-mqtt, the firmware's client, passes bytes
 *    through, and a broker that cares checks the slices itself (U+0000,
 *    which 1.5.3 bans outright, is refused in topics and filters).
 *  - CONNECT: "MQTT" must have level 4 and "MQIsdp" level 3; another level
 *    is ERROR VERSION (a broker answers CONNACK 0x01 and closes, 3.1.2.2),
 *    another name ERROR PROTOCOL. The reserved flag, will QoS or retain
 *    without the will flag, and (3.1.1 only) a password without a user name
 *    are ERROR CONNECT_FLAGS; a will QoS 3 is ERROR QOS. Every field a flag
 *    announces must be there and nothing may follow (ERROR LENGTH). An
 *    empty client id with clean session 0 is reported, not refused: the
 *    broker answers CONNACK 0x02 (3.1.3.1).
 *  - CONNACK: ack-flag bits 7-1 are ERROR RESERVED; session present with a
 *    return code other than 0 is ERROR CONNACK (3.2.2.2). Return codes past
 *    5 are reported as they are.
 *  - SUBSCRIBE: a requested-QoS byte with bits 7-2 set is ERROR RESERVED,
 *    QoS 3 ERROR QOS. SUBACK codes other than 0, 1, 2 and 0x80 are ERROR
 *    RETURN_CODE.
 *  - SUBSCRIBE and UNSUBSCRIBE give one event with the raw filter list
 *    (ev.topics), validated whole before the event; walk it with
 *    espat_mqtt_topics_next(). One event per packet keeps every packet but
 *    PUBLISH a single event, and a broker knows the filter count (n) for
 *    its SUBACK before it walks the list.
 *  - The codec is packet-level: CONNECT first and only once, packet-id
 *    reuse, keep-alive and the like are the connection's business.
 *  - ERROR is final: every later call returns it again, consuming nothing,
 *    until espat_mqtt_parser_init().
 *
 * Writers put a whole packet (or a PUBLISH head) into (buf, cap) and return
 * its length, or 0 when it does not fit or a field is invalid; they never
 * truncate. Their limits are the protocol's (a topic up to 65535 bytes, a
 * remaining length up to 268,435,455), not the parser's buffers. Every
 * packet the parser accepts, the writers write again (fuzz_mqtt checks
 * it), but for a CONNECT with an empty client id and no clean session,
 * which a client must not send (3.1.3.1). */
#ifndef ESPAT_PROTO_MQTT_H
#define ESPAT_PROTO_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_MQTT_TOPIC_MAX 1024           /* bytes of a PUBLISH topic the parser takes */
#define ESPAT_MQTT_PACKET_MAX 4096          /* a packet but PUBLISH, after its fixed header */
#define ESPAT_MQTT_REMAINING_MAX 268435455u /* the largest remaining length (4 bytes) */
#define ESPAT_MQTT_FIXED_HEADER_MAX 5       /* type byte and 4 length bytes */
#define ESPAT_MQTT_STRING_MAX 65535u        /* a length-prefixed string or binary field */
#define ESPAT_MQTT_PUBLISH_HEAD_MAX (ESPAT_MQTT_FIXED_HEADER_MAX + 2 + ESPAT_MQTT_STRING_MAX + 2)

/* A non-owning slice; not NUL-terminated. Also carries binary fields (will
 * message, password). */
struct espat_mqtt_str {
	const char *s;
	size_t len;
};

enum espat_mqtt_role {
	ESPAT_MQTT_CLIENT, /* parses what a broker sends */
	ESPAT_MQTT_BROKER, /* parses what a client sends */
};

/* Control packet types (2.2.1). */
enum espat_mqtt_type {
	ESPAT_MQTT_CONNECT = 1,
	ESPAT_MQTT_CONNACK = 2,
	ESPAT_MQTT_PUBLISH = 3,
	ESPAT_MQTT_PUBACK = 4,
	ESPAT_MQTT_PUBREC = 5,
	ESPAT_MQTT_PUBREL = 6,
	ESPAT_MQTT_PUBCOMP = 7,
	ESPAT_MQTT_SUBSCRIBE = 8,
	ESPAT_MQTT_SUBACK = 9,
	ESPAT_MQTT_UNSUBSCRIBE = 10,
	ESPAT_MQTT_UNSUBACK = 11,
	ESPAT_MQTT_PINGREQ = 12,
	ESPAT_MQTT_PINGRESP = 13,
	ESPAT_MQTT_DISCONNECT = 14,
};

/* The protocol level of CONNECT; it also names the protocol. */
enum espat_mqtt_version {
	ESPAT_MQTT_V31 = 3,  /* MQTT 3.1, protocol name "MQIsdp" */
	ESPAT_MQTT_V311 = 4, /* MQTT 3.1.1, protocol name "MQTT" */
};

#define ESPAT_MQTT_SUBACK_FAILURE 0x80 /* a SUBACK code: the subscription failed */

enum espat_mqtt_ev_type {
	ESPAT_MQTT_EV_NEED_MORE,   /* all input consumed, nothing to report */
	ESPAT_MQTT_EV_CONNECT,     /* connect */
	ESPAT_MQTT_EV_CONNACK,     /* session_present, return_code */
	ESPAT_MQTT_EV_PUBLISH,     /* pub (the head), packet_id */
	ESPAT_MQTT_EV_PAYLOAD,     /* data[0..len) at offset in the payload; pub */
	ESPAT_MQTT_EV_PUBLISH_END, /* the payload is complete; pub */
	ESPAT_MQTT_EV_PUBACK,      /* packet_id */
	ESPAT_MQTT_EV_PUBREC,      /* packet_id */
	ESPAT_MQTT_EV_PUBREL,      /* packet_id */
	ESPAT_MQTT_EV_PUBCOMP,     /* packet_id */
	ESPAT_MQTT_EV_SUBSCRIBE,   /* packet_id, topics (filters with QoS) */
	ESPAT_MQTT_EV_SUBACK,      /* packet_id, data[0..len) the return codes */
	ESPAT_MQTT_EV_UNSUBSCRIBE, /* packet_id, topics (filters) */
	ESPAT_MQTT_EV_UNSUBACK,    /* packet_id */
	ESPAT_MQTT_EV_PINGREQ,
	ESPAT_MQTT_EV_PINGRESP,
	ESPAT_MQTT_EV_DISCONNECT,
	ESPAT_MQTT_EV_ERROR, /* err says why; the parser is dead */
};

enum espat_mqtt_err {
	ESPAT_MQTT_ERR_NONE,
	ESPAT_MQTT_ERR_TYPE,          /* reserved packet type 0 or 15 */
	ESPAT_MQTT_ERR_DIRECTION,     /* a packet only the other role receives */
	ESPAT_MQTT_ERR_FLAGS,         /* fixed-header flags wrong for the type */
	ESPAT_MQTT_ERR_QOS,           /* QoS 3: PUBLISH, will, requested */
	ESPAT_MQTT_ERR_VARINT,        /* remaining length longer than 4 bytes */
	ESPAT_MQTT_ERR_LENGTH,        /* remaining length does not fit the fields */
	ESPAT_MQTT_ERR_TOO_LONG,      /* past ESPAT_MQTT_TOPIC_MAX or _PACKET_MAX */
	ESPAT_MQTT_ERR_PACKET_ID,     /* packet id 0 */
	ESPAT_MQTT_ERR_TOPIC,         /* bad topic name or topic filter */
	ESPAT_MQTT_ERR_NO_TOPICS,     /* SUBSCRIBE or UNSUBSCRIBE without a filter */
	ESPAT_MQTT_ERR_PROTOCOL,      /* CONNECT: name neither "MQTT" nor "MQIsdp" */
	ESPAT_MQTT_ERR_VERSION,       /* CONNECT: a level the name does not have */
	ESPAT_MQTT_ERR_CONNECT_FLAGS, /* CONNECT: flags that contradict each other */
	ESPAT_MQTT_ERR_RESERVED,      /* reserved bits set (CONNACK, SUBSCRIBE QoS) */
	ESPAT_MQTT_ERR_CONNACK,       /* session present on a refused connection */
	ESPAT_MQTT_ERR_RETURN_CODE,   /* SUBACK code not 0, 1, 2 or 0x80 */
};

/* A PUBLISH head: what the PUBLISH events report, and what the PUBLISH
 * writers take. */
struct espat_mqtt_publish {
	struct espat_mqtt_str topic;
	uint8_t qos; /* 0..2 */
	bool retain;
	bool dup;
	uint16_t packet_id;   /* QoS 1 and 2; 0 for QoS 0 */
	uint32_t payload_len; /* payload bytes after the head */
};

/* A CONNECT: what ESPAT_MQTT_EV_CONNECT reports, and what
 * espat_mqtt_write_connect() takes. Fields whose flag is false are empty. */
struct espat_mqtt_connect {
	enum espat_mqtt_version version;
	bool clean_session;
	uint16_t keepalive; /* seconds; 0 turns it off */
	struct espat_mqtt_str client_id;
	bool will; /* a will message: will_* below */
	uint8_t will_qos;
	bool will_retain;
	struct espat_mqtt_str will_topic;
	struct espat_mqtt_str will_message; /* binary */
	bool has_username;
	struct espat_mqtt_str username;
	bool has_password;
	struct espat_mqtt_str password; /* binary */
};

/* The filter list of a SUBSCRIBE (each filter with its requested-QoS byte)
 * or an UNSUBSCRIBE, as on the wire. */
struct espat_mqtt_topics {
	const uint8_t *p;
	size_t len;
	size_t n;      /* filters in the list (espat_mqtt_topics_next counts down) */
	bool with_qos; /* SUBSCRIBE: a QoS byte follows each filter */
};

/* One event; fields not named by the type are zero. */
struct espat_mqtt_ev {
	enum espat_mqtt_ev_type type;
	enum espat_mqtt_err err;           /* ERROR: why */
	uint16_t packet_id;                /* every packet that has one */
	struct espat_mqtt_publish pub;     /* PUBLISH, PAYLOAD, PUBLISH_END */
	const uint8_t *data;               /* PAYLOAD: a slice of buf; SUBACK: the codes */
	size_t len;                        /* bytes in data; never 0 for PAYLOAD */
	uint32_t offset;                   /* PAYLOAD: position of data[0] in the payload */
	bool session_present;              /* CONNACK */
	uint8_t return_code;               /* CONNACK: 0 accepted, 1..5 refused (3.2.2.3) */
	struct espat_mqtt_topics topics;   /* SUBSCRIBE, UNSUBSCRIBE */
	struct espat_mqtt_connect connect; /* CONNECT */
};

/* Parser states; internal, in the header only so the struct can live in
 * its owner without allocation. */
enum espat_mqtt_state {
	ESPAT_MQTT_ST_TYPE,    /* waiting for a fixed header's first byte */
	ESPAT_MQTT_ST_LENGTH,  /* gathering the remaining length */
	ESPAT_MQTT_ST_GATHER,  /* gathering a packet (or a PUBLISH head) into buf */
	ESPAT_MQTT_ST_PAYLOAD, /* streaming a PUBLISH payload */
	ESPAT_MQTT_ST_PUB_END, /* PUBLISH_END is due */
	ESPAT_MQTT_ST_ERROR,   /* final (err) */
};

struct espat_mqtt_parser {
	enum espat_mqtt_role role;
	enum espat_mqtt_state state;
	enum espat_mqtt_err err;
	uint8_t type;                  /* the packet's enum espat_mqtt_type */
	uint8_t flags;                 /* the low 4 bits of its first byte */
	uint8_t len_bytes;             /* remaining-length bytes read */
	uint32_t remaining;            /* the remaining length */
	uint32_t need;                 /* bytes to gather into buf */
	uint32_t have;                 /* bytes gathered */
	struct espat_mqtt_publish pub; /* the PUBLISH being streamed */
	uint32_t left;                 /* its payload bytes not yet streamed */
	/* the packet after its fixed header, or a PUBLISH's topic length,
	   topic and packet id */
	uint8_t buf[ESPAT_MQTT_PACKET_MAX];
};

void espat_mqtt_parser_init(struct espat_mqtt_parser *p, enum espat_mqtt_role role);

/* Consumes bytes of buf and sets *ev; see the contract above. Never returns
 * more than len. Only NEED_MORE, PUBLISH_END and ERROR may consume nothing;
 * NEED_MORE consumes all of buf. buf may be NULL when len is 0. */
size_t espat_mqtt_feed(struct espat_mqtt_parser *p, const uint8_t *buf, size_t len,
                       struct espat_mqtt_ev *ev);

/* Takes the next filter of *it into *filter (a slice of the list) and, for
 * a SUBSCRIBE, its requested QoS into *qos (qos may be NULL); false at the
 * end of the list or where the list is malformed. Walk a copy:
 *
 *   struct espat_mqtt_topics it = ev.topics;
 *   while (espat_mqtt_topics_next(&it, &filter, &qos)) ...
 */
bool espat_mqtt_topics_next(struct espat_mqtt_topics *it, struct espat_mqtt_str *filter,
                            uint8_t *qos);

/* A short English name of err, for logs. */
const char *espat_mqtt_err_str(enum espat_mqtt_err err);

/* ---- topics (4.7) ------------------------------------------------------- */

/* A topic name a PUBLISH (or a will) may carry: 1..65535 bytes, no '+',
 * '#' or NUL. A NULL s is not valid. */
bool espat_mqtt_topic_valid(struct espat_mqtt_str topic);

/* A topic filter a SUBSCRIBE may carry: 1..65535 bytes, no NUL, '+' alone
 * in its level, '#' alone in the last level. */
bool espat_mqtt_filter_valid(struct espat_mqtt_str filter);

/* Does filter match topic? '+' matches one level (maybe empty), '#' the
 * parent level and every level below; a wildcard in the first level does
 * not match a topic starting with '$' (4.7.2). False when either is not
 * valid. */
bool espat_mqtt_topic_match(struct espat_mqtt_str filter, struct espat_mqtt_str topic);

/* ---- writers ------------------------------------------------------------ */

/* Each writer returns the packet's length, or 0 when it does not fit in cap
 * or a field is invalid; nothing is written past cap. */

/* A CONNECT. Invalid: another version; a field over 65535 bytes; with a
 * will, its QoS over 2 or a topic espat_mqtt_topic_valid() refuses;
 * without one, a will QoS or retain; in 3.1.1, a password without a user
 * name; an empty client id without clean session. */
size_t espat_mqtt_write_connect(uint8_t *buf, size_t cap, const struct espat_mqtt_connect *c);

/* A PUBLISH's fixed header, topic and packet id, announcing
 * pub->payload_len bytes of payload: the caller sends those after it,
 * from wherever they are. Invalid: a topic espat_mqtt_topic_valid()
 * refuses; QoS over 2; QoS 0 with DUP or a packet id; QoS 1 or 2 with
 * packet id 0; a remaining length over ESPAT_MQTT_REMAINING_MAX. At most
 * ESPAT_MQTT_PUBLISH_HEAD_MAX bytes. */
size_t espat_mqtt_write_publish_head(uint8_t *buf, size_t cap,
                                     const struct espat_mqtt_publish *pub);

/* A whole PUBLISH: the head, then pub->payload_len bytes of payload (which
 * may be NULL when that is 0). */
size_t espat_mqtt_write_publish(uint8_t *buf, size_t cap, const struct espat_mqtt_publish *pub,
                                const void *payload);

/* A packet that is a packet id: PUBACK, PUBREC, PUBREL, PUBCOMP or
 * UNSUBACK. Invalid: another type, packet id 0. */
size_t espat_mqtt_write_ack(uint8_t *buf, size_t cap, enum espat_mqtt_type type,
                            uint16_t packet_id);

/* A packet without a body: PINGREQ, PINGRESP or DISCONNECT. */
size_t espat_mqtt_write_empty(uint8_t *buf, size_t cap, enum espat_mqtt_type type);

/* One filter of a SUBSCRIBE. */
struct espat_mqtt_sub {
	struct espat_mqtt_str filter;
	uint8_t qos; /* requested: 0..2 */
};

/* A SUBSCRIBE of subs[0..n). Invalid: n 0, packet id 0, a filter
 * espat_mqtt_filter_valid() refuses, QoS over 2. */
size_t espat_mqtt_write_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                  const struct espat_mqtt_sub *subs, size_t n);

/* An UNSUBSCRIBE of filters[0..n). Invalid: as for SUBSCRIBE. */
size_t espat_mqtt_write_unsubscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                    const struct espat_mqtt_str *filters, size_t n);

/* A CONNACK (broker side). Any return code goes (a test peer may send a
 * reserved one); session_present with a return code other than 0 is
 * invalid. */
size_t espat_mqtt_write_connack(uint8_t *buf, size_t cap, bool session_present,
                                uint8_t return_code);

/* A SUBACK of codes[0..n) (broker side). Invalid: n 0, packet id 0, a code
 * other than 0, 1, 2 and ESPAT_MQTT_SUBACK_FAILURE. */
size_t espat_mqtt_write_suback(uint8_t *buf, size_t cap, uint16_t packet_id, const uint8_t *codes,
                               size_t n);

#endif
