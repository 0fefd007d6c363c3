/* libFuzzer target: the MQTT codec (src/proto/mqtt.c) on arbitrary bytes.
 * The first byte picks what runs. Bit 0 clear: the parser, in both roles,
 * fed in pieces of 1 + (byte >> 1)^2 bytes and again whole; both runs must
 * give the same events, and every event must keep the contracts of
 * proto/mqtt.h: consumption, progress, slice bounds, event order, payload
 * totals. Every packet parsed is written again with the writers and parsed
 * back to the same event. Bit 0 set: the rest, split at its first '\n',
 * is a filter and a topic; espat_mqtt_topic_match() must agree with a
 * character-by-character reference, and the filter-list iterator walks the
 * raw bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* ---- event digests ------------------------------------------------------ */

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3u;
}

static void mix_str(uint64_t *h, struct espat_mqtt_str s)
{
	mix(h, &s.len, sizeof(s.len));
	mix(h, s.s, s.len);
}

static void mix_u32(uint64_t *h, uint32_t v)
{
	mix(h, &v, sizeof(v));
}

/* What an event says, slices by content; PAYLOAD and NEED_MORE depend on
 * the cut and are left out. */
static uint64_t digest(const struct espat_mqtt_ev *ev)
{
	uint64_t h = 0xcbf29ce484222325u;
	mix_u32(&h, ev->type);
	mix_u32(&h, ev->err);
	mix_u32(&h, ev->packet_id);
	const struct espat_mqtt_publish *pub = &ev->pub;
	const struct espat_mqtt_connect *c = &ev->connect;
	switch (ev->type) {
	case ESPAT_MQTT_EV_PUBLISH:
	case ESPAT_MQTT_EV_PUBLISH_END:
		mix_str(&h, pub->topic);
		mix_u32(&h, (uint32_t)pub->qos << 2 | (uint32_t)pub->retain << 1 | pub->dup);
		mix_u32(&h, pub->payload_len);
		break;
	case ESPAT_MQTT_EV_CONNECT:
		mix_u32(&h, c->version);
		mix_u32(&h, (uint32_t)c->clean_session | (uint32_t)c->will << 1 |
		                (uint32_t)c->will_qos << 2 | (uint32_t)c->will_retain << 4 |
		                (uint32_t)c->has_username << 5 | (uint32_t)c->has_password << 6);
		mix_u32(&h, c->keepalive);
		mix_str(&h, c->client_id);
		mix_str(&h, c->will_topic);
		mix_str(&h, c->will_message);
		mix_str(&h, c->username);
		mix_str(&h, c->password);
		break;
	case ESPAT_MQTT_EV_CONNACK:
		mix_u32(&h, (uint32_t)ev->session_present << 8 | ev->return_code);
		break;
	case ESPAT_MQTT_EV_SUBACK:
		mix(&h, ev->data, ev->len);
		break;
	case ESPAT_MQTT_EV_SUBSCRIBE:
	case ESPAT_MQTT_EV_UNSUBSCRIBE:
		mix(&h, &ev->topics.n, sizeof(ev->topics.n));
		mix(&h, ev->topics.p, ev->topics.len);
		break;
	default:
		break;
	}
	return h;
}

/* ---- re-writing what was parsed ----------------------------------------- */

static bool received_by(enum espat_mqtt_role role, enum espat_mqtt_ev_type t)
{
	switch (t) {
	case ESPAT_MQTT_EV_CONNACK:
	case ESPAT_MQTT_EV_SUBACK:
	case ESPAT_MQTT_EV_UNSUBACK:
	case ESPAT_MQTT_EV_PINGRESP:
		return role == ESPAT_MQTT_CLIENT;
	case ESPAT_MQTT_EV_CONNECT:
	case ESPAT_MQTT_EV_SUBSCRIBE:
	case ESPAT_MQTT_EV_UNSUBSCRIBE:
	case ESPAT_MQTT_EV_PINGREQ:
	case ESPAT_MQTT_EV_DISCONNECT:
		return role == ESPAT_MQTT_BROKER;
	default:
		return true;
	}
}

/* The packet type behind an event of a whole packet. */
static enum espat_mqtt_type packet_of(enum espat_mqtt_ev_type t)
{
	static const enum espat_mqtt_type types[] = {
	    [ESPAT_MQTT_EV_CONNECT] = ESPAT_MQTT_CONNECT,
	    [ESPAT_MQTT_EV_CONNACK] = ESPAT_MQTT_CONNACK,
	    [ESPAT_MQTT_EV_PUBLISH] = ESPAT_MQTT_PUBLISH,
	    [ESPAT_MQTT_EV_PUBACK] = ESPAT_MQTT_PUBACK,
	    [ESPAT_MQTT_EV_PUBREC] = ESPAT_MQTT_PUBREC,
	    [ESPAT_MQTT_EV_PUBREL] = ESPAT_MQTT_PUBREL,
	    [ESPAT_MQTT_EV_PUBCOMP] = ESPAT_MQTT_PUBCOMP,
	    [ESPAT_MQTT_EV_SUBSCRIBE] = ESPAT_MQTT_SUBSCRIBE,
	    [ESPAT_MQTT_EV_SUBACK] = ESPAT_MQTT_SUBACK,
	    [ESPAT_MQTT_EV_UNSUBSCRIBE] = ESPAT_MQTT_UNSUBSCRIBE,
	    [ESPAT_MQTT_EV_UNSUBACK] = ESPAT_MQTT_UNSUBACK,
	    [ESPAT_MQTT_EV_PINGREQ] = ESPAT_MQTT_PINGREQ,
	    [ESPAT_MQTT_EV_PINGRESP] = ESPAT_MQTT_PINGRESP,
	    [ESPAT_MQTT_EV_DISCONNECT] = ESPAT_MQTT_DISCONNECT,
	};
	return types[t];
}

/* Writes the packet behind ev with the writers; 0 where a writer refuses
 * it. */
static size_t rewrite(const struct espat_mqtt_ev *ev, uint8_t *out, size_t cap)
{
	static struct espat_mqtt_sub subs[ESPAT_MQTT_PACKET_MAX / 3];
	static struct espat_mqtt_str filters[ESPAT_MQTT_PACKET_MAX / 3];
	struct espat_mqtt_topics it = ev->topics;
	size_t n = 0;
	switch (ev->type) {
	case ESPAT_MQTT_EV_CONNECT:
		return espat_mqtt_write_connect(out, cap, &ev->connect);
	case ESPAT_MQTT_EV_CONNACK:
		return espat_mqtt_write_connack(out, cap, ev->session_present, ev->return_code);
	case ESPAT_MQTT_EV_PUBLISH:
		return espat_mqtt_write_publish_head(out, cap, &ev->pub);
	case ESPAT_MQTT_EV_SUBSCRIBE:
		while (n < ESPAT_MQTT_PACKET_MAX / 3 &&
		       espat_mqtt_topics_next(&it, &subs[n].filter, &subs[n].qos))
			n++;
		CHECK(n == ev->topics.n && it.len == 0);
		return espat_mqtt_write_subscribe(out, cap, ev->packet_id, subs, n);
	case ESPAT_MQTT_EV_UNSUBSCRIBE:
		while (n < ESPAT_MQTT_PACKET_MAX / 3 &&
		       espat_mqtt_topics_next(&it, &filters[n], NULL))
			n++;
		CHECK(n == ev->topics.n && it.len == 0);
		return espat_mqtt_write_unsubscribe(out, cap, ev->packet_id, filters, n);
	case ESPAT_MQTT_EV_SUBACK:
		return espat_mqtt_write_suback(out, cap, ev->packet_id, ev->data, ev->len);
	case ESPAT_MQTT_EV_PINGREQ:
	case ESPAT_MQTT_EV_PINGRESP:
	case ESPAT_MQTT_EV_DISCONNECT:
		return espat_mqtt_write_empty(out, cap, packet_of(ev->type));
	default:
		return espat_mqtt_write_ack(out, cap, packet_of(ev->type), ev->packet_id);
	}
}

/* What the writers write from a parsed packet parses back to it (a PUBLISH
 * to its head). */
static void check_rewrite(enum espat_mqtt_role role, const struct espat_mqtt_ev *ev)
{
	static uint8_t out[ESPAT_MQTT_PACKET_MAX + ESPAT_MQTT_FIXED_HEADER_MAX];
	static struct espat_mqtt_parser q;
	size_t n = rewrite(ev, out, sizeof(out));
	const struct espat_mqtt_connect *c = &ev->connect;
	if (ev->type == ESPAT_MQTT_EV_CONNECT && c->client_id.len == 0 && !c->clean_session) {
		CHECK(n == 0); /* the one packet the writer refuses (3.1.3.1) */
		return;
	}
	CHECK(n > 0);
	espat_mqtt_parser_init(&q, role);
	struct espat_mqtt_ev back;
	size_t used = espat_mqtt_feed(&q, out, n, &back);
	CHECK(used == n);
	CHECK(back.type == ev->type);
	CHECK(digest(&back) == digest(ev));
}

/* ---- parser runs -------------------------------------------------------- */

static bool in_parser(const struct espat_mqtt_parser *p, const void *s, size_t n)
{
	uintptr_t a = (uintptr_t)s, b = (uintptr_t)p;
	return n == 0 || (a >= b && n <= sizeof(*p) && a - b <= sizeof(*p) - n);
}

static bool str_in_parser(const struct espat_mqtt_parser *p, struct espat_mqtt_str s)
{
	return in_parser(p, s.s, s.len);
}

struct run {
	struct espat_mqtt_parser p;
	uint64_t hash; /* the digests of the events, payload bytes as one stream */
	size_t events;
	bool in_publish;
	struct espat_mqtt_publish pub; /* of the PUBLISH being streamed */
	uint64_t payload;              /* its payload bytes so far */
	bool dead;
	bool rewrite; /* check_rewrite() every packet (one run is enough) */
};

static void check_connect(const struct run *r, const struct espat_mqtt_connect *c)
{
	CHECK(c->version == ESPAT_MQTT_V31 || c->version == ESPAT_MQTT_V311);
	CHECK(c->will_qos <= 2);
	CHECK(c->will || (c->will_qos == 0 && !c->will_retain && c->will_topic.len == 0 &&
	                  c->will_message.len == 0));
	CHECK(!c->will || espat_mqtt_topic_valid(c->will_topic));
	CHECK(c->has_username || c->username.len == 0);
	CHECK(c->has_password || c->password.len == 0);
	CHECK(!c->has_password || c->has_username || c->version == ESPAT_MQTT_V31);
	CHECK(str_in_parser(&r->p, c->client_id) && str_in_parser(&r->p, c->will_topic));
	CHECK(str_in_parser(&r->p, c->will_message) && str_in_parser(&r->p, c->username));
	CHECK(str_in_parser(&r->p, c->password));
}

static void check_topics(const struct run *r, const struct espat_mqtt_ev *ev)
{
	CHECK(in_parser(&r->p, ev->topics.p, ev->topics.len));
	CHECK(ev->topics.with_qos == (ev->type == ESPAT_MQTT_EV_SUBSCRIBE));
	CHECK(ev->topics.n > 0);
	struct espat_mqtt_topics it = ev->topics;
	struct espat_mqtt_str f;
	uint8_t qos = 0;
	size_t n = 0;
	while (espat_mqtt_topics_next(&it, &f, &qos)) {
		CHECK(espat_mqtt_filter_valid(f) && qos <= 2);
		CHECK(f.s >= (const char *)ev->topics.p &&
		      f.s + f.len <= (const char *)ev->topics.p + ev->topics.len);
		n++;
	}
	CHECK(n == ev->topics.n && it.len == 0);
}

static void on_event(struct run *r, const struct espat_mqtt_ev *ev)
{
	enum espat_mqtt_role role = r->p.role;
	if (ev->type != ESPAT_MQTT_EV_PAYLOAD && ev->type != ESPAT_MQTT_EV_NEED_MORE) {
		uint64_t d = digest(ev);
		mix(&r->hash, &d, sizeof(d));
		r->events++;
	}
	CHECK(received_by(role, ev->type));
	switch (ev->type) {
	case ESPAT_MQTT_EV_NEED_MORE:
		return;
	case ESPAT_MQTT_EV_PAYLOAD:
		CHECK(r->in_publish && ev->len > 0);
		CHECK(ev->offset == r->payload);
		CHECK(r->payload + ev->len <= r->pub.payload_len);
		CHECK(ev->pub.topic.s == r->pub.topic.s &&
		      ev->pub.payload_len == r->pub.payload_len);
		r->payload += ev->len;
		mix(&r->hash, ev->data, ev->len);
		return;
	case ESPAT_MQTT_EV_PUBLISH_END:
		CHECK(r->in_publish && r->payload == r->pub.payload_len);
		CHECK(ev->pub.topic.s == r->pub.topic.s && ev->pub.topic.len == r->pub.topic.len);
		CHECK(ev->pub.qos == r->pub.qos && ev->packet_id == r->pub.packet_id);
		r->in_publish = false;
		return;
	case ESPAT_MQTT_EV_ERROR:
		CHECK(ev->err != ESPAT_MQTT_ERR_NONE);
		r->dead = true;
		return;
	default:
		break;
	}
	/* a whole packet (or a PUBLISH head) */
	CHECK(!r->in_publish);
	switch (ev->type) {
	case ESPAT_MQTT_EV_PUBLISH:
		CHECK(str_in_parser(&r->p, ev->pub.topic));
		CHECK(espat_mqtt_topic_valid(ev->pub.topic));
		CHECK(ev->pub.topic.len <= ESPAT_MQTT_TOPIC_MAX);
		CHECK(ev->pub.qos <= 2 && (ev->pub.qos == 0) == (ev->pub.packet_id == 0));
		CHECK(!ev->pub.dup || ev->pub.qos > 0);
		CHECK(ev->pub.packet_id == ev->packet_id);
		CHECK(ev->pub.payload_len <= ESPAT_MQTT_REMAINING_MAX);
		r->pub = ev->pub;
		r->payload = 0;
		r->in_publish = true;
		break;
	case ESPAT_MQTT_EV_CONNECT:
		check_connect(r, &ev->connect);
		break;
	case ESPAT_MQTT_EV_CONNACK:
		CHECK(!ev->session_present || ev->return_code == 0);
		break;
	case ESPAT_MQTT_EV_SUBACK:
		CHECK(ev->len > 0 && in_parser(&r->p, ev->data, ev->len));
		for (size_t i = 0; i < ev->len; i++)
			CHECK(ev->data[i] <= 2 || ev->data[i] == ESPAT_MQTT_SUBACK_FAILURE);
		break;
	case ESPAT_MQTT_EV_SUBSCRIBE:
	case ESPAT_MQTT_EV_UNSUBSCRIBE:
		check_topics(r, ev);
		break;
	default:
		break;
	}
	bool has_id = ev->type != ESPAT_MQTT_EV_CONNECT && ev->type != ESPAT_MQTT_EV_CONNACK &&
	              ev->type != ESPAT_MQTT_EV_PUBLISH && ev->type != ESPAT_MQTT_EV_PINGREQ &&
	              ev->type != ESPAT_MQTT_EV_PINGRESP && ev->type != ESPAT_MQTT_EV_DISCONNECT;
	CHECK(!has_id || ev->packet_id != 0);
	if (r->rewrite)
		check_rewrite(role, ev);
}

/* Feeds one piece as a caller must: until NEED_MORE or ERROR. */
static void feed_piece(struct run *r, const uint8_t *piece, size_t k)
{
	const uint8_t *cur = piece;
	size_t left = k;
	int zero_run = 0;
	struct espat_mqtt_ev ev;
	do {
		size_t used = espat_mqtt_feed(&r->p, cur, left, &ev);
		CHECK(used <= left);
		if (ev.type == ESPAT_MQTT_EV_NEED_MORE)
			CHECK(used == left);
		if (ev.type == ESPAT_MQTT_EV_PAYLOAD) {
			CHECK(ev.data >= piece && ev.data + ev.len <= piece + k);
			CHECK(ev.data + ev.len == cur + used);
		}
		if (ev.type == ESPAT_MQTT_EV_PUBLISH_END)
			CHECK(used == 0);
		/* progress: a zero-consumption event never repeats */
		zero_run = used == 0 && ev.type != ESPAT_MQTT_EV_NEED_MORE ? zero_run + 1 : 0;
		CHECK(zero_run <= 1 || ev.type == ESPAT_MQTT_EV_ERROR);
		on_event(r, &ev);
		cur += used;
		left -= used;
	} while (ev.type != ESPAT_MQTT_EV_NEED_MORE && ev.type != ESPAT_MQTT_EV_ERROR);

	if (ev.type == ESPAT_MQTT_EV_ERROR) {
		/* final: nothing more is taken */
		struct espat_mqtt_ev again;
		CHECK(espat_mqtt_feed(&r->p, piece, k, &again) == 0);
		CHECK(again.type == ESPAT_MQTT_EV_ERROR && again.err == ev.err);
	}
}

static void run_parser(struct run *r, enum espat_mqtt_role role, const uint8_t *data, size_t size,
                       size_t chunk, bool rewrite)
{
	memset(r, 0, sizeof(*r));
	espat_mqtt_parser_init(&r->p, role);
	r->rewrite = rewrite;
	size_t pos = 0;
	while (pos < size && !r->dead) {
		size_t k = size - pos < chunk ? size - pos : chunk;
		feed_piece(r, data + pos, k);
		pos += k;
	}
}

/* ---- topics ------------------------------------------------------------- */

/* Topic matching character by character (4.7), for filters and names that
 * are valid. */
static bool ref_match(const char *f, size_t fn, const char *t, size_t tn)
{
	if (tn > 0 && t[0] == '$' && fn > 0 && (f[0] == '+' || f[0] == '#'))
		return false;
	size_t i = 0, j = 0;
	while (i < fn) {
		if (f[i] == '#')
			return true;
		if (f[i] == '+') {
			while (j < tn && t[j] != '/')
				j++;
			i++;
			continue;
		}
		if (j == tn) /* "a/#" matches "a" too */
			return f[i] == '/' && i + 2 == fn && f[i + 1] == '#';
		if (f[i] != t[j])
			return false;
		i++;
		j++;
	}
	return j == tn;
}

static void check_topics_text(const uint8_t *data, size_t size, bool with_qos)
{
	const char *s = (const char *)data;
	const char *nl = size > 0 ? memchr(s, '\n', size) : NULL;
	struct espat_mqtt_str f = {s, size}, t = {s, size};
	if (nl != NULL) {
		f.len = (size_t)(nl - s);
		t = (struct espat_mqtt_str){nl + 1, size - f.len - 1};
	}
	bool fv = espat_mqtt_filter_valid(f), tv = espat_mqtt_topic_valid(t);
	bool m = espat_mqtt_topic_match(f, t);
	CHECK(!m || (fv && tv));
	if (fv && tv)
		CHECK(m == ref_match(f.s, f.len, t.s, t.len));
	/* a topic name is a filter that matches itself; "#" matches it unless
	   it is a '$' topic */
	if (tv) {
		CHECK(espat_mqtt_filter_valid(t) && espat_mqtt_topic_match(t, t));
		CHECK(espat_mqtt_topic_match((struct espat_mqtt_str){"#", 1}, t) ==
		      (t.s[0] != '$'));
	}

	/* the filter-list iterator on raw bytes: slices in bounds, progress */
	struct espat_mqtt_topics it = {data, size, 0, with_qos};
	struct espat_mqtt_str filter;
	uint8_t qos;
	while (espat_mqtt_topics_next(&it, &filter, &qos)) {
		CHECK(filter.s >= s && filter.s + filter.len <= s + size);
		CHECK(it.p >= data && it.p + it.len == data + size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	if (mode & 1) {
		check_topics_text(data, size, mode & 2);
		return 0;
	}
	size_t chunk = 1 + (size_t)(mode >> 1) * (mode >> 1);
	static struct run pieces, whole;
	for (int role = ESPAT_MQTT_CLIENT; role <= ESPAT_MQTT_BROKER; role++) {
		run_parser(&pieces, (enum espat_mqtt_role)role, data, size, chunk, false);
		run_parser(&whole, (enum espat_mqtt_role)role, data, size, size > 0 ? size : 1,
		           true);
		CHECK(pieces.hash == whole.hash && pieces.events == whole.events);
		CHECK(pieces.dead == whole.dead && pieces.in_publish == whole.in_publish);
	}
	return 0;
}
