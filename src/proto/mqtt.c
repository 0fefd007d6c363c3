#include "proto/mqtt.h"

#include <string.h>

_Static_assert(2 + ESPAT_MQTT_TOPIC_MAX + 2 <= ESPAT_MQTT_PACKET_MAX,
               "a PUBLISH head fits in the parser's buffer");

/* ---- packet types ------------------------------------------------------- */

#define BODY_VARIES (-1)

/* What each packet type is: who receives it, the flags of its fixed header,
 * the size of its body and the event it gives. */
struct type_info {
	bool to_client; /* a broker sends it */
	bool to_broker; /* a client sends it */
	uint8_t flags;  /* required fixed-header flags (PUBLISH's vary) */
	int body;       /* its remaining length, or BODY_VARIES */
	enum espat_mqtt_ev_type ev;
};

static const struct type_info types[16] = {
    [ESPAT_MQTT_CONNECT] = {false, true, 0, BODY_VARIES, ESPAT_MQTT_EV_CONNECT},
    [ESPAT_MQTT_CONNACK] = {true, false, 0, 2, ESPAT_MQTT_EV_CONNACK},
    [ESPAT_MQTT_PUBLISH] = {true, true, 0, BODY_VARIES, ESPAT_MQTT_EV_PUBLISH},
    [ESPAT_MQTT_PUBACK] = {true, true, 0, 2, ESPAT_MQTT_EV_PUBACK},
    [ESPAT_MQTT_PUBREC] = {true, true, 0, 2, ESPAT_MQTT_EV_PUBREC},
    [ESPAT_MQTT_PUBREL] = {true, true, 2, 2, ESPAT_MQTT_EV_PUBREL},
    [ESPAT_MQTT_PUBCOMP] = {true, true, 0, 2, ESPAT_MQTT_EV_PUBCOMP},
    [ESPAT_MQTT_SUBSCRIBE] = {false, true, 2, BODY_VARIES, ESPAT_MQTT_EV_SUBSCRIBE},
    [ESPAT_MQTT_SUBACK] = {true, false, 0, BODY_VARIES, ESPAT_MQTT_EV_SUBACK},
    [ESPAT_MQTT_UNSUBSCRIBE] = {false, true, 2, BODY_VARIES, ESPAT_MQTT_EV_UNSUBSCRIBE},
    [ESPAT_MQTT_UNSUBACK] = {true, false, 0, 2, ESPAT_MQTT_EV_UNSUBACK},
    [ESPAT_MQTT_PINGREQ] = {false, true, 0, 0, ESPAT_MQTT_EV_PINGREQ},
    [ESPAT_MQTT_PINGRESP] = {true, false, 0, 0, ESPAT_MQTT_EV_PINGRESP},
    [ESPAT_MQTT_DISCONNECT] = {false, true, 0, 0, ESPAT_MQTT_EV_DISCONNECT},
};

static bool known_type(unsigned type)
{
	return type >= ESPAT_MQTT_CONNECT && type <= ESPAT_MQTT_DISCONNECT;
}

/* The PUBLISH flags: DUP (bit 3), QoS (bits 2-1), RETAIN (bit 0). */
static uint8_t publish_qos(uint8_t flags)
{
	return (uint8_t)(flags >> 1 & 3);
}

static bool suback_code_valid(uint8_t c)
{
	return c <= 2 || c == ESPAT_MQTT_SUBACK_FAILURE;
}

/* ---- topics ------------------------------------------------------------- */

bool espat_mqtt_topic_valid(struct espat_mqtt_str topic)
{
	if (topic.s == NULL || topic.len == 0 || topic.len > ESPAT_MQTT_STRING_MAX)
		return false;
	for (size_t i = 0; i < topic.len; i++)
		if (topic.s[i] == '\0' || topic.s[i] == '+' || topic.s[i] == '#')
			return false;
	return true;
}

bool espat_mqtt_filter_valid(struct espat_mqtt_str filter)
{
	const char *f = filter.s;
	size_t n = filter.len;
	if (f == NULL || n == 0 || n > ESPAT_MQTT_STRING_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (f[i] == '\0')
			return false;
		if (f[i] != '+' && f[i] != '#')
			continue;
		bool alone = (i == 0 || f[i - 1] == '/') && (i + 1 == n || f[i + 1] == '/');
		if (!alone || (f[i] == '#' && i + 1 != n))
			return false;
	}
	return true;
}

/* The level of s at *pos, moving *pos past it and its '/'; false when no
 * level is left ("a/" has two levels, "a" and ""). */
static bool next_level(struct espat_mqtt_str s, size_t *pos, struct espat_mqtt_str *level)
{
	if (*pos > s.len)
		return false;
	const char *start = s.s + *pos;
	const char *slash = memchr(start, '/', s.len - *pos);
	size_t n = slash ? (size_t)(slash - start) : s.len - *pos;
	*level = (struct espat_mqtt_str){start, n};
	*pos += n + 1;
	return true;
}

static bool is_wildcard(struct espat_mqtt_str level, char w)
{
	return level.len == 1 && level.s[0] == w;
}

bool espat_mqtt_topic_match(struct espat_mqtt_str filter, struct espat_mqtt_str topic)
{
	if (!espat_mqtt_filter_valid(filter) || !espat_mqtt_topic_valid(topic))
		return false;
	if (topic.s[0] == '$' && (filter.s[0] == '+' || filter.s[0] == '#'))
		return false;
	size_t fpos = 0, tpos = 0;
	struct espat_mqtt_str fl, tl;
	while (next_level(filter, &fpos, &fl)) {
		if (is_wildcard(fl, '#'))
			return true; /* the parent level too: "a/#" matches "a" */
		if (!next_level(topic, &tpos, &tl))
			return false;
		if (!is_wildcard(fl, '+') && (fl.len != tl.len || memcmp(fl.s, tl.s, fl.len) != 0))
			return false;
	}
	return tpos > topic.len; /* no topic level left over */
}

/* ---- reading fields ----------------------------------------------------- */

/* A cursor over a gathered packet; reading past its end sets bad and gives
 * zeros. */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad;
};

static uint8_t rd_u8(struct rd *r)
{
	if (r->bad || r->pos >= r->len) {
		r->bad = true;
		return 0;
	}
	return r->p[r->pos++];
}

static uint16_t rd_u16(struct rd *r)
{
	uint16_t hi = rd_u8(r);
	uint16_t lo = rd_u8(r);
	return (uint16_t)(hi << 8 | lo);
}

/* A string or binary field: a 16-bit length, then the bytes. */
static struct espat_mqtt_str rd_str(struct rd *r)
{
	size_t n = rd_u16(r);
	if (r->bad || n > r->len - r->pos) {
		r->bad = true;
		return (struct espat_mqtt_str){NULL, 0};
	}
	struct espat_mqtt_str s = {(const char *)r->p + r->pos, n};
	r->pos += n;
	return s;
}

/* Every byte read, none missing. */
static bool rd_end(const struct rd *r)
{
	return !r->bad && r->pos == r->len;
}

static bool str_is(struct espat_mqtt_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.s, lit, s.len) == 0;
}

bool espat_mqtt_topics_next(struct espat_mqtt_topics *it, struct espat_mqtt_str *filter,
                            uint8_t *qos)
{
	struct rd r = {it->p, it->len, 0, false};
	struct espat_mqtt_str f = rd_str(&r);
	uint8_t q = it->with_qos ? rd_u8(&r) : 0;
	if (r.bad)
		return false;
	it->p += r.pos;
	it->len -= r.pos;
	if (it->n > 0)
		it->n--;
	*filter = f;
	if (qos != NULL)
		*qos = q;
	return true;
}

/* ---- decoding a gathered packet ----------------------------------------- */

static enum espat_mqtt_err read_connect(struct rd *r, struct espat_mqtt_connect *c)
{
	struct espat_mqtt_str name = rd_str(r);
	uint8_t level = rd_u8(r);
	uint8_t flags = rd_u8(r);
	c->keepalive = rd_u16(r);
	if (r->bad)
		return ESPAT_MQTT_ERR_LENGTH;
	enum espat_mqtt_version want;
	if (str_is(name, "MQTT"))
		want = ESPAT_MQTT_V311;
	else if (str_is(name, "MQIsdp"))
		want = ESPAT_MQTT_V31;
	else
		return ESPAT_MQTT_ERR_PROTOCOL;
	if (level != want)
		return ESPAT_MQTT_ERR_VERSION;
	c->version = want;

	if (flags & 0x01)
		return ESPAT_MQTT_ERR_CONNECT_FLAGS; /* reserved (3.1.2.3) */
	c->clean_session = flags & 0x02;
	c->will = flags & 0x04;
	c->will_qos = flags >> 3 & 3;
	c->will_retain = flags & 0x20;
	c->has_password = flags & 0x40;
	c->has_username = flags & 0x80;
	if (c->will_qos == 3)
		return ESPAT_MQTT_ERR_QOS;
	if (!c->will && (c->will_qos != 0 || c->will_retain))
		return ESPAT_MQTT_ERR_CONNECT_FLAGS;
	if (c->has_password && !c->has_username && c->version == ESPAT_MQTT_V311)
		return ESPAT_MQTT_ERR_CONNECT_FLAGS;

	c->client_id = rd_str(r);
	if (c->will) {
		c->will_topic = rd_str(r);
		c->will_message = rd_str(r);
	}
	if (c->has_username)
		c->username = rd_str(r);
	if (c->has_password)
		c->password = rd_str(r);
	if (!rd_end(r))
		return ESPAT_MQTT_ERR_LENGTH;
	if (c->will && !espat_mqtt_topic_valid(c->will_topic))
		return ESPAT_MQTT_ERR_TOPIC;
	return ESPAT_MQTT_ERR_NONE;
}

static enum espat_mqtt_err read_connack(struct rd *r, struct espat_mqtt_ev *ev)
{
	uint8_t ack_flags = rd_u8(r);
	ev->return_code = rd_u8(r);
	if (ack_flags & 0xfe)
		return ESPAT_MQTT_ERR_RESERVED;
	ev->session_present = ack_flags & 1;
	if (ev->session_present && ev->return_code != 0)
		return ESPAT_MQTT_ERR_CONNACK;
	return ESPAT_MQTT_ERR_NONE;
}

static enum espat_mqtt_err read_packet_id(struct rd *r, struct espat_mqtt_ev *ev)
{
	ev->packet_id = rd_u16(r);
	if (r->bad)
		return ESPAT_MQTT_ERR_LENGTH;
	return ev->packet_id == 0 ? ESPAT_MQTT_ERR_PACKET_ID : ESPAT_MQTT_ERR_NONE;
}

static enum espat_mqtt_err read_suback(struct rd *r, struct espat_mqtt_ev *ev)
{
	enum espat_mqtt_err err = read_packet_id(r, ev);
	if (err != ESPAT_MQTT_ERR_NONE)
		return err;
	if (r->pos == r->len)
		return ESPAT_MQTT_ERR_LENGTH; /* a SUBACK answers at least one filter */
	ev->data = r->p + r->pos;
	ev->len = r->len - r->pos;
	for (size_t i = 0; i < ev->len; i++)
		if (!suback_code_valid(ev->data[i]))
			return ESPAT_MQTT_ERR_RETURN_CODE;
	return ESPAT_MQTT_ERR_NONE;
}

/* The filter list of a SUBSCRIBE (with_qos) or an UNSUBSCRIBE. */
static enum espat_mqtt_err read_topics(struct rd *r, struct espat_mqtt_ev *ev, bool with_qos)
{
	enum espat_mqtt_err err = read_packet_id(r, ev);
	if (err != ESPAT_MQTT_ERR_NONE)
		return err;
	struct espat_mqtt_topics list = {r->p + r->pos, r->len - r->pos, 0, with_qos};
	if (list.len == 0)
		return ESPAT_MQTT_ERR_NO_TOPICS;
	while (r->pos < r->len) {
		struct espat_mqtt_str f = rd_str(r);
		uint8_t q = with_qos ? rd_u8(r) : 0;
		if (r->bad)
			return ESPAT_MQTT_ERR_LENGTH;
		if (q & 0xfc)
			return ESPAT_MQTT_ERR_RESERVED;
		if (q == 3)
			return ESPAT_MQTT_ERR_QOS;
		if (!espat_mqtt_filter_valid(f))
			return ESPAT_MQTT_ERR_TOPIC;
		list.n++;
	}
	ev->topics = list;
	return ESPAT_MQTT_ERR_NONE;
}

/* ---- parser ------------------------------------------------------------- */

void espat_mqtt_parser_init(struct espat_mqtt_parser *p, enum espat_mqtt_role role)
{
	memset(p, 0, sizeof(*p));
	p->role = role;
	p->state = ESPAT_MQTT_ST_TYPE;
}

static enum espat_mqtt_ev_type fail(struct espat_mqtt_parser *p, struct espat_mqtt_ev *ev,
                                    enum espat_mqtt_err err)
{
	p->state = ESPAT_MQTT_ST_ERROR;
	p->err = err;
	memset(ev, 0, sizeof(*ev));
	ev->type = ESPAT_MQTT_EV_ERROR;
	ev->err = err;
	return ev->type;
}

/* The first byte of a fixed header: type and flags are judged at once. */
static enum espat_mqtt_ev_type on_type(struct espat_mqtt_parser *p, uint8_t b,
                                       struct espat_mqtt_ev *ev)
{
	uint8_t type = b >> 4, flags = b & 0x0f;
	if (!known_type(type))
		return fail(p, ev, ESPAT_MQTT_ERR_TYPE);
	const struct type_info *t = &types[type];
	if (!(p->role == ESPAT_MQTT_CLIENT ? t->to_client : t->to_broker))
		return fail(p, ev, ESPAT_MQTT_ERR_DIRECTION);
	if (type == ESPAT_MQTT_PUBLISH) {
		if (publish_qos(flags) == 3)
			return fail(p, ev, ESPAT_MQTT_ERR_QOS);
		if ((flags & 0x08) && publish_qos(flags) == 0)
			return fail(p, ev, ESPAT_MQTT_ERR_FLAGS); /* DUP on QoS 0 */
	} else if (flags != t->flags) {
		return fail(p, ev, ESPAT_MQTT_ERR_FLAGS);
	}
	p->type = type;
	p->flags = flags;
	p->len_bytes = 0;
	p->remaining = 0;
	p->state = ESPAT_MQTT_ST_LENGTH;
	return ESPAT_MQTT_EV_NEED_MORE;
}

/* A gathered packet other than PUBLISH: its event. */
static enum espat_mqtt_ev_type packet_done(struct espat_mqtt_parser *p, struct espat_mqtt_ev *ev)
{
	struct rd r = {p->buf, p->need, 0, false};
	enum espat_mqtt_err err = ESPAT_MQTT_ERR_NONE;
	switch (p->type) {
	case ESPAT_MQTT_CONNECT:
		err = read_connect(&r, &ev->connect);
		break;
	case ESPAT_MQTT_CONNACK:
		err = read_connack(&r, ev);
		break;
	case ESPAT_MQTT_SUBACK:
		err = read_suback(&r, ev);
		break;
	case ESPAT_MQTT_SUBSCRIBE:
	case ESPAT_MQTT_UNSUBSCRIBE:
		err = read_topics(&r, ev, p->type == ESPAT_MQTT_SUBSCRIBE);
		break;
	case ESPAT_MQTT_PINGREQ:
	case ESPAT_MQTT_PINGRESP:
	case ESPAT_MQTT_DISCONNECT:
		break;
	default: /* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK */
		err = read_packet_id(&r, ev);
		break;
	}
	if (err != ESPAT_MQTT_ERR_NONE)
		return fail(p, ev, err);
	p->state = ESPAT_MQTT_ST_TYPE;
	ev->type = types[p->type].ev;
	return ev->type;
}

/* The remaining length is known: what to gather. */
static enum espat_mqtt_ev_type start_body(struct espat_mqtt_parser *p, struct espat_mqtt_ev *ev)
{
	const struct type_info *t = &types[p->type];
	uint32_t r = p->remaining;
	p->have = 0;
	p->state = ESPAT_MQTT_ST_GATHER;
	if (p->type == ESPAT_MQTT_PUBLISH) {
		if (r < 2)
			return fail(p, ev, ESPAT_MQTT_ERR_LENGTH);
		p->need = 2; /* the topic length says how long the head is */
		return ESPAT_MQTT_EV_NEED_MORE;
	}
	if (t->body != BODY_VARIES && r != (uint32_t)t->body)
		return fail(p, ev, ESPAT_MQTT_ERR_LENGTH);
	if (r > ESPAT_MQTT_PACKET_MAX)
		return fail(p, ev, ESPAT_MQTT_ERR_TOO_LONG);
	p->need = r;
	return r == 0 ? packet_done(p, ev) : ESPAT_MQTT_EV_NEED_MORE;
}

static enum espat_mqtt_ev_type on_length(struct espat_mqtt_parser *p, uint8_t b,
                                         struct espat_mqtt_ev *ev)
{
	p->remaining |= (uint32_t)(b & 0x7f) << (7 * p->len_bytes);
	p->len_bytes++;
	if (!(b & 0x80))
		return start_body(p, ev);
	if (p->len_bytes == 4)
		return fail(p, ev, ESPAT_MQTT_ERR_VARINT);
	return ESPAT_MQTT_EV_NEED_MORE;
}

static void fill_pub(const struct espat_mqtt_parser *p, struct espat_mqtt_ev *ev)
{
	ev->pub = p->pub;
	ev->packet_id = p->pub.packet_id;
}

/* A PUBLISH head is gathered in two steps: the topic length, which says
 * how long the rest is, then the topic and the packet id. */
static enum espat_mqtt_ev_type publish_head(struct espat_mqtt_parser *p, struct espat_mqtt_ev *ev)
{
	uint8_t qos = publish_qos(p->flags);
	size_t id_len = qos > 0 ? 2 : 0;
	if (p->need == 2) {
		size_t tlen = (size_t)p->buf[0] << 8 | p->buf[1];
		if (tlen == 0)
			return fail(p, ev, ESPAT_MQTT_ERR_TOPIC);
		if (tlen > ESPAT_MQTT_TOPIC_MAX)
			return fail(p, ev, ESPAT_MQTT_ERR_TOO_LONG);
		if (2 + tlen + id_len > p->remaining)
			return fail(p, ev, ESPAT_MQTT_ERR_LENGTH);
		p->need = (uint32_t)(2 + tlen + id_len);
		return ESPAT_MQTT_EV_NEED_MORE;
	}
	struct espat_mqtt_publish *pub = &p->pub;
	memset(pub, 0, sizeof(*pub));
	pub->topic = (struct espat_mqtt_str){(const char *)p->buf + 2, p->need - 2 - id_len};
	if (!espat_mqtt_topic_valid(pub->topic))
		return fail(p, ev, ESPAT_MQTT_ERR_TOPIC);
	if (qos > 0) {
		const uint8_t *id = p->buf + p->need - 2;
		pub->packet_id = (uint16_t)(id[0] << 8 | id[1]);
		if (pub->packet_id == 0)
			return fail(p, ev, ESPAT_MQTT_ERR_PACKET_ID);
	}
	pub->qos = qos;
	pub->retain = p->flags & 0x01;
	pub->dup = p->flags & 0x08;
	pub->payload_len = p->remaining - p->need;
	p->left = pub->payload_len;
	p->state = p->left > 0 ? ESPAT_MQTT_ST_PAYLOAD : ESPAT_MQTT_ST_PUB_END;
	ev->type = ESPAT_MQTT_EV_PUBLISH;
	fill_pub(p, ev);
	return ev->type;
}

static enum espat_mqtt_ev_type on_gather(struct espat_mqtt_parser *p, const uint8_t *in, size_t n,
                                         size_t *used, struct espat_mqtt_ev *ev)
{
	size_t take = p->need - p->have;
	if (take > n)
		take = n;
	memcpy(p->buf + p->have, in, take);
	p->have += (uint32_t)take;
	*used += take;
	if (p->have < p->need)
		return ESPAT_MQTT_EV_NEED_MORE;
	return p->type == ESPAT_MQTT_PUBLISH ? publish_head(p, ev) : packet_done(p, ev);
}

static enum espat_mqtt_ev_type on_payload(struct espat_mqtt_parser *p, const uint8_t *in, size_t n,
                                          size_t *used, struct espat_mqtt_ev *ev)
{
	size_t take = n < p->left ? n : p->left;
	ev->type = ESPAT_MQTT_EV_PAYLOAD;
	fill_pub(p, ev);
	ev->data = in;
	ev->len = take;
	ev->offset = p->pub.payload_len - p->left;
	p->left -= (uint32_t)take;
	*used += take;
	if (p->left == 0)
		p->state = ESPAT_MQTT_ST_PUB_END;
	return ev->type;
}

static enum espat_mqtt_ev_type publish_end(struct espat_mqtt_parser *p, struct espat_mqtt_ev *ev)
{
	ev->type = ESPAT_MQTT_EV_PUBLISH_END;
	fill_pub(p, ev);
	p->state = ESPAT_MQTT_ST_TYPE;
	return ev->type;
}

size_t espat_mqtt_feed(struct espat_mqtt_parser *p, const uint8_t *buf, size_t len,
                       struct espat_mqtt_ev *ev)
{
	size_t used = 0;
	memset(ev, 0, sizeof(*ev));
	for (;;) {
		enum espat_mqtt_ev_type t;
		/* Without input only PUBLISH_END and ERROR are due: each state
		 * below takes at least one byte. */
		if (p->state == ESPAT_MQTT_ST_ERROR) {
			fail(p, ev, p->err);
			return used;
		}
		if (p->state == ESPAT_MQTT_ST_PUB_END) {
			publish_end(p, ev);
			return used;
		}
		if (used == len)
			return used; /* NEED_MORE */
		const uint8_t *in = buf + used;
		size_t n = len - used;
		switch (p->state) {
		case ESPAT_MQTT_ST_TYPE:
			used++;
			t = on_type(p, in[0], ev);
			break;
		case ESPAT_MQTT_ST_LENGTH:
			used++;
			t = on_length(p, in[0], ev);
			break;
		case ESPAT_MQTT_ST_GATHER:
			t = on_gather(p, in, n, &used, ev);
			break;
		default: /* ESPAT_MQTT_ST_PAYLOAD */
			t = on_payload(p, in, n, &used, ev);
			break;
		}
		if (t != ESPAT_MQTT_EV_NEED_MORE)
			return used;
	}
}

const char *espat_mqtt_err_str(enum espat_mqtt_err err)
{
	switch (err) {
	case ESPAT_MQTT_ERR_NONE:
		return "no error";
	case ESPAT_MQTT_ERR_TYPE:
		return "reserved packet type";
	case ESPAT_MQTT_ERR_DIRECTION:
		return "packet of the other direction";
	case ESPAT_MQTT_ERR_FLAGS:
		return "bad fixed-header flags";
	case ESPAT_MQTT_ERR_QOS:
		return "QoS 3";
	case ESPAT_MQTT_ERR_VARINT:
		return "remaining length over 4 bytes";
	case ESPAT_MQTT_ERR_LENGTH:
		return "remaining length does not fit the packet";
	case ESPAT_MQTT_ERR_TOO_LONG:
		return "packet or topic too long";
	case ESPAT_MQTT_ERR_PACKET_ID:
		return "packet id 0";
	case ESPAT_MQTT_ERR_TOPIC:
		return "bad topic";
	case ESPAT_MQTT_ERR_NO_TOPICS:
		return "no topic filter";
	case ESPAT_MQTT_ERR_PROTOCOL:
		return "unknown protocol name";
	case ESPAT_MQTT_ERR_VERSION:
		return "unsupported protocol level";
	case ESPAT_MQTT_ERR_CONNECT_FLAGS:
		return "bad connect flags";
	case ESPAT_MQTT_ERR_RESERVED:
		return "reserved bits set";
	case ESPAT_MQTT_ERR_CONNACK:
		return "session present on a refused connection";
	case ESPAT_MQTT_ERR_RETURN_CODE:
		return "bad SUBACK return code";
	}
	return "unknown error";
}

/* ---- writers ------------------------------------------------------------ */

/* A bounded output; once something does not fit, nothing more is written
 * and the result is 0. */
struct out {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool bad;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->bad || n > o->cap - o->len) {
		o->bad = true;
		return;
	}
	if (n > 0)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_u8(struct out *o, uint8_t v)
{
	put(o, &v, 1);
}

static void put_u16(struct out *o, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(o, b, 2);
}

/* A string or binary field; its length was checked (at most 65535). */
static void put_str(struct out *o, struct espat_mqtt_str s)
{
	put_u16(o, (uint16_t)s.len);
	put(o, s.s, s.len);
}

/* The fixed header: the first byte and the remaining length, which was
 * checked (at most ESPAT_MQTT_REMAINING_MAX). */
static void put_fixed(struct out *o, enum espat_mqtt_type type, uint8_t flags, uint64_t remaining)
{
	put_u8(o, (uint8_t)(type << 4 | flags));
	do {
		uint8_t b = remaining & 0x7f;
		remaining >>= 7;
		put_u8(o, remaining > 0 ? (uint8_t)(b | 0x80) : b);
	} while (remaining > 0);
}

static size_t finish(const struct out *o)
{
	return o->bad ? 0 : o->len;
}

static bool field_ok(struct espat_mqtt_str s)
{
	return s.len <= ESPAT_MQTT_STRING_MAX && (s.len == 0 || s.s != NULL);
}

size_t espat_mqtt_write_connect(uint8_t *buf, size_t cap, const struct espat_mqtt_connect *c)
{
	const char *name;
	if (c->version == ESPAT_MQTT_V311)
		name = "MQTT";
	else if (c->version == ESPAT_MQTT_V31)
		name = "MQIsdp";
	else
		return 0;
	if (!field_ok(c->client_id) || (c->client_id.len == 0 && !c->clean_session))
		return 0;
	if (c->will ? c->will_qos > 2 || !espat_mqtt_topic_valid(c->will_topic) ||
	                  !field_ok(c->will_message)
	            : c->will_qos != 0 || c->will_retain)
		return 0;
	if ((c->has_username && !field_ok(c->username)) ||
	    (c->has_password && !field_ok(c->password)))
		return 0;
	if (c->has_password && !c->has_username && c->version == ESPAT_MQTT_V311)
		return 0;

	struct espat_mqtt_str proto = {name, strlen(name)};
	uint64_t len = 2 + proto.len + 4 + 2 + c->client_id.len;
	if (c->will)
		len += 2 + c->will_topic.len + 2 + c->will_message.len;
	if (c->has_username)
		len += 2 + c->username.len;
	if (c->has_password)
		len += 2 + c->password.len;
	uint8_t flags = (uint8_t)((c->clean_session ? 0x02 : 0) | (c->will ? 0x04 : 0) |
	                          c->will_qos << 3 | (c->will_retain ? 0x20 : 0) |
	                          (c->has_password ? 0x40 : 0) | (c->has_username ? 0x80 : 0));

	struct out o = {buf, cap, 0, false};
	put_fixed(&o, ESPAT_MQTT_CONNECT, 0, len);
	put_str(&o, proto);
	put_u8(&o, (uint8_t)c->version);
	put_u8(&o, flags);
	put_u16(&o, c->keepalive);
	put_str(&o, c->client_id);
	if (c->will) {
		put_str(&o, c->will_topic);
		put_str(&o, c->will_message);
	}
	if (c->has_username)
		put_str(&o, c->username);
	if (c->has_password)
		put_str(&o, c->password);
	return finish(&o);
}

size_t espat_mqtt_write_publish_head(uint8_t *buf, size_t cap, const struct espat_mqtt_publish *pub)
{
	if (!espat_mqtt_topic_valid(pub->topic) || pub->qos > 2)
		return 0;
	if (pub->qos == 0 ? pub->dup || pub->packet_id != 0 : pub->packet_id == 0)
		return 0;
	uint64_t len = 2 + (uint64_t)pub->topic.len + (pub->qos > 0 ? 2 : 0) + pub->payload_len;
	if (len > ESPAT_MQTT_REMAINING_MAX)
		return 0;
	uint8_t flags = (uint8_t)((pub->dup ? 0x08 : 0) | pub->qos << 1 | (pub->retain ? 0x01 : 0));
	struct out o = {buf, cap, 0, false};
	put_fixed(&o, ESPAT_MQTT_PUBLISH, flags, len);
	put_str(&o, pub->topic);
	if (pub->qos > 0)
		put_u16(&o, pub->packet_id);
	return finish(&o);
}

size_t espat_mqtt_write_publish(uint8_t *buf, size_t cap, const struct espat_mqtt_publish *pub,
                                const void *payload)
{
	if (pub->payload_len > 0 && payload == NULL)
		return 0;
	size_t head = espat_mqtt_write_publish_head(buf, cap, pub);
	if (head == 0)
		return 0;
	struct out o = {buf, cap, head, false};
	put(&o, payload, pub->payload_len);
	return finish(&o);
}

size_t espat_mqtt_write_ack(uint8_t *buf, size_t cap, enum espat_mqtt_type type, uint16_t packet_id)
{
	if (!known_type(type) || types[type].body != 2 || type == ESPAT_MQTT_CONNACK ||
	    packet_id == 0)
		return 0;
	struct out o = {buf, cap, 0, false};
	put_fixed(&o, type, types[type].flags, 2);
	put_u16(&o, packet_id);
	return finish(&o);
}

size_t espat_mqtt_write_empty(uint8_t *buf, size_t cap, enum espat_mqtt_type type)
{
	if (!known_type(type) || types[type].body != 0)
		return 0;
	struct out o = {buf, cap, 0, false};
	put_fixed(&o, type, 0, 0);
	return finish(&o);
}

/* SUBSCRIBE (subs) or UNSUBSCRIBE (filters): the packet id, then each
 * filter, with its QoS for a SUBSCRIBE. */
static size_t write_filters(uint8_t *buf, size_t cap, enum espat_mqtt_type type, uint16_t packet_id,
                            const struct espat_mqtt_sub *subs, const struct espat_mqtt_str *filters,
                            size_t n)
{
	bool with_qos = type == ESPAT_MQTT_SUBSCRIBE;
	if (n == 0 || packet_id == 0)
		return 0;
	uint64_t len = 2;
	for (size_t i = 0; i < n; i++) {
		struct espat_mqtt_str f = with_qos ? subs[i].filter : filters[i];
		if (!espat_mqtt_filter_valid(f) || (with_qos && subs[i].qos > 2))
			return 0;
		len += 2 + f.len + with_qos;
		if (len > ESPAT_MQTT_REMAINING_MAX)
			return 0;
	}
	struct out o = {buf, cap, 0, false};
	put_fixed(&o, type, types[type].flags, len);
	put_u16(&o, packet_id);
	for (size_t i = 0; i < n && !o.bad; i++) {
		put_str(&o, with_qos ? subs[i].filter : filters[i]);
		if (with_qos)
			put_u8(&o, subs[i].qos);
	}
	return finish(&o);
}

size_t espat_mqtt_write_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                  const struct espat_mqtt_sub *subs, size_t n)
{
	return write_filters(buf, cap, ESPAT_MQTT_SUBSCRIBE, packet_id, subs, NULL, n);
}

size_t espat_mqtt_write_unsubscribe(uint8_t *buf, size_t cap, uint16_t packet_id,
                                    const struct espat_mqtt_str *filters, size_t n)
{
	return write_filters(buf, cap, ESPAT_MQTT_UNSUBSCRIBE, packet_id, NULL, filters, n);
}

size_t espat_mqtt_write_connack(uint8_t *buf, size_t cap, bool session_present, uint8_t return_code)
{
	if (session_present && return_code != 0)
		return 0;
	struct out o = {buf, cap, 0, false};
	put_fixed(&o, ESPAT_MQTT_CONNACK, 0, 2);
	put_u8(&o, session_present ? 1 : 0);
	put_u8(&o, return_code);
	return finish(&o);
}

size_t espat_mqtt_write_suback(uint8_t *buf, size_t cap, uint16_t packet_id, const uint8_t *codes,
                               size_t n)
{
	if (n == 0 || packet_id == 0 || n > ESPAT_MQTT_REMAINING_MAX - 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!suback_code_valid(codes[i]))
			return 0;
	struct out o = {buf, cap, 0, false};
	put_fixed(&o, ESPAT_MQTT_SUBACK, 0, 2 + (uint64_t)n);
	put_u16(&o, packet_id);
	put(&o, codes, n);
	return finish(&o);
}
