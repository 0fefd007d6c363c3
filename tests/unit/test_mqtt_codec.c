/* MQTT 3.1.1 / 3.1 codec (src/proto/mqtt.c): the parser fed whole, byte by
 * byte, in random pieces and cut at every position must give the same
 * events; every packet a writer writes parses back; every validation rule
 * has a malformed packet that breaks it; the writers give exact bytes or
 * nothing; topic names, filters and matching. */
#include "support.h"

#include "proto/mqtt.h"


/* Bytes of a string literal (which may hold NULs). A hex escape swallows
 * every hex digit after it, so "\x05" "abc" is split where letters follow. */
#define B(s) (const uint8_t *)(s), sizeof(s) - 1
#define S(lit) ((struct espat_mqtt_str){(lit), sizeof(lit) - 1})

#define CLI ESPAT_MQTT_CLIENT
#define BRK ESPAT_MQTT_BROKER

/* ---- an event log --------------------------------------------------------- */

/* The events of a run as text, one line each; consecutive PAYLOAD pieces
 * merge into one line, so any split of the input gives the same log. */
struct rec {
	struct espat_mqtt_parser p;
	char *log;
	size_t len, cap;
	bool in_payload;               /* the last line logged is an open PAYLOAD line */
	bool in_publish;               /* between PUBLISH and PUBLISH_END */
	uint64_t payload;              /* payload bytes of the PUBLISH so far */
	struct espat_mqtt_publish pub; /* as PUBLISH gave it */
	bool dead;                     /* ERROR seen: the rest is not fed */
};

static void put_log(struct rec *r, const char *s, size_t n)
{
	t_text_put(&r->log, &r->len, &r->cap, s, n);
}

static void printf_log(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_log(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t_text_vprintf(&r->log, &r->len, &r->cap, fmt, ap);
	va_end(ap);
}

/* Bytes in brackets; '[', ']', '\' and what is not printable as \xNN. */
static void put_esc(struct rec *r, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		if (b[i] < 0x20 || b[i] > 0x7e || b[i] == '[' || b[i] == ']' || b[i] == '\\')
			printf_log(r, "\\x%02x", b[i]);
		else
			put_log(r, (const char *)b + i, 1);
	}
}

static void put_field(struct rec *r, const char *label, struct espat_mqtt_str s)
{
	printf_log(r, " %s[", label);
	put_esc(r, s.s, s.len);
	put_log(r, "]", 1);
}

static bool inside(const void *s, size_t n, const void *base, size_t size)
{
	uintptr_t a = (uintptr_t)s, b = (uintptr_t)base;
	return n == 0 || (a >= b && n <= size && a - b <= size - n);
}

static bool in_parser(const struct rec *r, struct espat_mqtt_str s)
{
	return inside(s.s, s.len, &r->p, sizeof(r->p));
}

static const char *ev_name(enum espat_mqtt_ev_type t)
{
	static const char *names[] = {
	    "NEED_MORE",   "CONNECT",  "CONNACK", "PUBLISH",  "PAYLOAD",    "PUBLISH_END",
	    "PUBACK",      "PUBREC",   "PUBREL",  "PUBCOMP",  "SUBSCRIBE",  "SUBACK",
	    "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "ERROR",
	};
	return names[t];
}

static void log_connect(struct rec *r, const struct espat_mqtt_connect *c)
{
	printf_log(r, "CONNECT v%d clean=%d ka=%u", (int)c->version, c->clean_session,
	           (unsigned)c->keepalive);
	assert_true(in_parser(r, c->client_id));
	put_field(r, "id=", c->client_id);
	if (c->will) {
		assert_true(in_parser(r, c->will_topic) && in_parser(r, c->will_message));
		put_field(r, "will=", c->will_topic);
		printf_log(r, " q%d r%d", c->will_qos, c->will_retain);
		put_field(r, "", c->will_message);
	} else {
		assert_true(c->will_qos == 0 && !c->will_retain && c->will_topic.len == 0);
	}
	if (c->has_username) {
		assert_true(in_parser(r, c->username));
		put_field(r, "user=", c->username);
	}
	if (c->has_password) {
		assert_true(in_parser(r, c->password));
		put_field(r, "pass=", c->password);
	}
	put_log(r, "\n", 1);
}

/* SUBSCRIBE and UNSUBSCRIBE: the list walked with the iterator. */
static void log_topics(struct rec *r, const struct espat_mqtt_ev *ev)
{
	printf_log(r, "%s %u", ev_name(ev->type), ev->packet_id);
	struct espat_mqtt_topics it = ev->topics;
	assert_true(inside(it.p, it.len, &r->p, sizeof(r->p)));
	assert_true(it.with_qos == (ev->type == ESPAT_MQTT_EV_SUBSCRIBE));
	struct espat_mqtt_str f;
	uint8_t qos = 9;
	size_t n = 0;
	while (espat_mqtt_topics_next(&it, &f, &qos)) {
		assert_true(espat_mqtt_filter_valid(f));
		put_field(r, "", f);
		if (ev->topics.with_qos)
			printf_log(r, " q%d", qos);
		n++;
	}
	assert_int_equal(n, ev->topics.n);
	assert_int_equal(it.len, 0);
	assert_int_equal(it.n, 0);
	put_log(r, "\n", 1);
}

static void log_ev(struct rec *r, const struct espat_mqtt_ev *ev)
{
	if (ev->type == ESPAT_MQTT_EV_PAYLOAD) {
		assert_true(r->in_publish);
		assert_int_equal(ev->offset, r->payload);
		assert_true(ev->len > 0 && r->payload + ev->len <= r->pub.payload_len);
		assert_true(ev->pub.topic.s == r->pub.topic.s && ev->pub.qos == r->pub.qos);
		assert_int_equal(ev->packet_id, r->pub.packet_id);
		r->payload += ev->len;
		if (r->in_payload)
			r->len -= 2; /* reopen "...]\n" */
		else
			put_log(r, "PAYLOAD [", 9);
		put_esc(r, ev->data, ev->len);
		put_log(r, "]\n", 2);
		r->in_payload = true;
		return;
	}
	r->in_payload = false;
	assert_true(!r->in_publish || ev->type == ESPAT_MQTT_EV_PUBLISH_END ||
	            ev->type == ESPAT_MQTT_EV_NEED_MORE || ev->type == ESPAT_MQTT_EV_ERROR);
	switch (ev->type) {
	case ESPAT_MQTT_EV_NEED_MORE:
		break;
	case ESPAT_MQTT_EV_CONNECT:
		log_connect(r, &ev->connect);
		break;
	case ESPAT_MQTT_EV_CONNACK:
		printf_log(r, "CONNACK sp=%d rc=%d\n", ev->session_present, ev->return_code);
		break;
	case ESPAT_MQTT_EV_PUBLISH:
		assert_true(in_parser(r, ev->pub.topic));
		assert_int_equal(ev->packet_id, ev->pub.packet_id);
		printf_log(r, "PUBLISH");
		put_field(r, "", ev->pub.topic);
		printf_log(r, " q%d r%d d%d id=%u len=%lu\n", ev->pub.qos, ev->pub.retain,
		           ev->pub.dup, ev->pub.packet_id, (unsigned long)ev->pub.payload_len);
		r->pub = ev->pub;
		r->payload = 0;
		r->in_publish = true;
		break;
	case ESPAT_MQTT_EV_PUBLISH_END:
		assert_true(r->in_publish);
		assert_true(r->payload == r->pub.payload_len);
		/* the topic is still there */
		assert_ptr_equal(ev->pub.topic.s, r->pub.topic.s);
		assert_int_equal(ev->pub.payload_len, r->pub.payload_len);
		printf_log(r, "PUBLISH_END\n");
		r->in_publish = false;
		break;
	case ESPAT_MQTT_EV_SUBSCRIBE:
	case ESPAT_MQTT_EV_UNSUBSCRIBE:
		log_topics(r, ev);
		break;
	case ESPAT_MQTT_EV_SUBACK:
		assert_true(ev->len > 0 && inside(ev->data, ev->len, &r->p, sizeof(r->p)));
		printf_log(r, "SUBACK %u", ev->packet_id);
		for (size_t i = 0; i < ev->len; i++)
			printf_log(r, " %02x", ev->data[i]);
		put_log(r, "\n", 1);
		break;
	case ESPAT_MQTT_EV_PUBACK:
	case ESPAT_MQTT_EV_PUBREC:
	case ESPAT_MQTT_EV_PUBREL:
	case ESPAT_MQTT_EV_PUBCOMP:
	case ESPAT_MQTT_EV_UNSUBACK:
		assert_int_not_equal(ev->packet_id, 0);
		printf_log(r, "%s %u\n", ev_name(ev->type), ev->packet_id);
		break;
	case ESPAT_MQTT_EV_PINGREQ:
	case ESPAT_MQTT_EV_PINGRESP:
	case ESPAT_MQTT_EV_DISCONNECT:
		printf_log(r, "%s\n", ev_name(ev->type));
		break;
	case ESPAT_MQTT_EV_ERROR:
		assert_int_not_equal(ev->err, ESPAT_MQTT_ERR_NONE);
		printf_log(r, "ERROR %s\n", espat_mqtt_err_str(ev->err));
		break;
	default:
		fail_msg("unexpected event %d", ev->type);
	}
}

/* Feeds one piece as a caller must: until NEED_MORE or ERROR. */
static void sink(void *user, const uint8_t *buf, size_t n)
{
	struct rec *r = user;
	int zero_run = 0;
	while (!r->dead) {
		struct espat_mqtt_ev ev;
		size_t used = espat_mqtt_feed(&r->p, buf, n, &ev);
		assert_true(used <= n);
		if (ev.type == ESPAT_MQTT_EV_NEED_MORE) {
			assert_int_equal(used, n);
			return;
		}
		if (ev.type == ESPAT_MQTT_EV_PAYLOAD) {
			/* a slice of the input itself, never a copy */
			assert_true(ev.len > 0 && ev.len <= used);
			assert_ptr_equal(ev.data + ev.len, buf + used);
		}
		/* no event repeats without progress (ERROR is final) */
		zero_run = used == 0 ? zero_run + 1 : 0;
		assert_true(zero_run <= 1 || ev.type == ESPAT_MQTT_EV_ERROR);
		log_ev(r, &ev);
		r->dead = ev.type == ESPAT_MQTT_EV_ERROR;
		buf += used;
		n -= used;
	}
}

static void rec_init(struct rec *r, enum espat_mqtt_role role)
{
	memset(r, 0, sizeof(*r));
	espat_mqtt_parser_init(&r->p, role);
	put_log(r, "", 0);
}

/* How a run cuts its input: a split mode, or (cut > 0) two pieces. */
struct cutting {
	enum t_split split;
	uint32_t seed;
	size_t cut;
};

static char *run(enum espat_mqtt_role role, const uint8_t *in, size_t n, struct cutting c)
{
	struct rec *r = malloc(sizeof(*r));
	assert_non_null(r);
	rec_init(r, role);
	if (c.cut > 0) {
		sink(r, in, c.cut);
		sink(r, in + c.cut, n - c.cut);
	} else {
		t_feed(sink, r, in, n, c.split, &c.seed);
	}
	/* nothing is left pending: a call without input says NEED_MORE (or
	   the ERROR again, consuming nothing) */
	struct espat_mqtt_ev ev;
	assert_int_equal(espat_mqtt_feed(&r->p, NULL, 0, &ev), 0);
	if (r->dead) {
		assert_int_equal(ev.type, ESPAT_MQTT_EV_ERROR);
		assert_int_equal(espat_mqtt_feed(&r->p, in, n, &ev), 0);
		assert_int_equal(ev.type, ESPAT_MQTT_EV_ERROR);
		assert_int_equal(ev.err, r->p.err);
	} else {
		assert_int_equal(ev.type, ESPAT_MQTT_EV_NEED_MORE);
	}
	char *log = r->log;
	free(r);
	return log;
}

static void same_log(const char *got, const char *want, const char *how, size_t arg)
{
	if (strcmp(got, want) == 0)
		return;
	print_error("log mismatch (%s %zu)\nwant:\n%s\ngot:\n%s\n", how, arg, want, got);
	fail();
}

#define CUT_MAX 2048 /* inputs up to this size are also cut at every position */

/* The input cut in every way gives want. */
static void check_n(enum espat_mqtt_role role, const uint8_t *in, size_t n, const char *want)
{
	char *log = run(role, in, n, (struct cutting){T_WHOLE, 0, 0});
	same_log(log, want, "whole", 0);
	free(log);
	log = run(role, in, n, (struct cutting){T_BYTES, 0, 0});
	same_log(log, want, "bytes", 0);
	free(log);
	for (uint32_t seed = 1; seed <= 30; seed++) {
		log = run(role, in, n, (struct cutting){T_RANDOM, seed, 0});
		same_log(log, want, "random seed", seed);
		free(log);
	}
	for (size_t cut = 1; cut < n && n <= CUT_MAX; cut++) {
		log = run(role, in, n, (struct cutting){T_WHOLE, 0, cut});
		same_log(log, want, "cut at", cut);
		free(log);
	}
}

/* A packet either side may send: the same events in both roles. */
static void check_both(const uint8_t *in, size_t n, const char *want)
{
	check_n(CLI, in, n, want);
	check_n(BRK, in, n, want);
}

/* ---- packets a client receives -------------------------------------------- */

static void connack(void **state)
{
	check_n(CLI, B("\x20\x02\x00\x00"), "CONNACK sp=0 rc=0\n");
	check_n(CLI, B("\x20\x02\x01\x00"), "CONNACK sp=1 rc=0\n");
	/* refusals 1..5, and codes the spec reserves, reported as they are */
	const uint8_t codes[] = {1, 2, 3, 4, 5, 6, 0x80, 0xff};
	for (size_t i = 0; i < sizeof(codes); i++) {
		uint8_t in[4] = {0x20, 0x02, 0x00, codes[i]};
		char want[64];
		snprintf(want, sizeof(want), "CONNACK sp=0 rc=%d\n", codes[i]);
		check_n(CLI, in, sizeof(in), want);
	}
}

static void publish_qos_levels(void **state)
{
	/* QoS 0: no packet id */
	check_both(B("\x30\x0a\x00\x03"
	             "a/bhello"),
	           "PUBLISH [a/b] q0 r0 d0 id=0 len=5\n"
	           "PAYLOAD [hello]\n"
	           "PUBLISH_END\n");
	/* QoS 1, retained */
	check_both(B("\x33\x08\x00\x01t\x12\x34"
	             "abc"),
	           "PUBLISH [t] q1 r1 d0 id=4660 len=3\n"
	           "PAYLOAD [abc]\n"
	           "PUBLISH_END\n");
	/* QoS 2, a duplicate, binary payload */
	check_both(B("\x3c\x0a\x00\x02x/\xff\xff\x00\x01\x02\x03"),
	           "PUBLISH [x/] q2 r0 d1 id=65535 len=4\n"
	           "PAYLOAD [\\x00\\x01\\x02\\x03]\n"
	           "PUBLISH_END\n");
	/* QoS 1 with DUP and RETAIN */
	check_both(B("\x3b\x05\x00\x01t\x00\x07"), "PUBLISH [t] q1 r1 d1 id=7 len=0\n"
	                                           "PUBLISH_END\n");
	/* an empty payload still ends with PUBLISH_END; '$' topics and UTF-8
	   pass through */
	check_both(B("\x30\x06\x00\x04$SYS"), "PUBLISH [$SYS] q0 r0 d0 id=0 len=0\n"
	                                      "PUBLISH_END\n");
	check_both(B("\x30\x06\x00\x04\xc3\xa9/\xc3"),
	           "PUBLISH [\\xc3\\xa9/\\xc3] q0 r0 d0 id=0 len=0\n"
	           "PUBLISH_END\n");
}

static void acks(void **state)
{
	check_both(B("\x40\x02\x00\x01"), "PUBACK 1\n");
	check_both(B("\x50\x02\x12\x34"), "PUBREC 4660\n");
	check_both(B("\x62\x02\xff\xff"), "PUBREL 65535\n");
	check_both(B("\x70\x02\x01\x00"), "PUBCOMP 256\n");
	check_n(CLI, B("\xb0\x02\x00\x09"), "UNSUBACK 9\n");
	check_n(CLI, B("\xd0\x00"), "PINGRESP\n");
}

static void suback(void **state)
{
	check_n(CLI, B("\x90\x03\x00\x05\x01"), "SUBACK 5 01\n");
	check_n(CLI, B("\x90\x06\x00\x05\x00\x01\x02\x80"), "SUBACK 5 00 01 02 80\n");
}

/* ---- packets a client sends ----------------------------------------------- */

static void connect_fields(void **state)
{
	/* every field: will QoS 1 retained, user name, a binary password */
	check_n(BRK,
	        B("\x10\x26\x00\x04MQTT\x04\xee\x00\x3c\x00\x05"
	          "espat\x00\x03w/t\x00\x03"
	          "bye\x00\x04user\x00\x03\x00\xffp"),
	        "CONNECT v4 clean=1 ka=60 id=[espat] will=[w/t] q1 r1 [bye] user=[user] "
	        "pass=[\\x00\\xffp]\n");
	/* the least: an empty client id with clean session, keep-alive off */
	check_n(BRK, B("\x10\x0c\x00\x04MQTT\x04\x02\x00\x00\x00\x00"),
	        "CONNECT v4 clean=1 ka=0 id=[]\n");
	/* an empty client id without clean session is the broker's to refuse
	   (CONNACK 0x02), not a malformed packet */
	check_n(BRK, B("\x10\x0c\x00\x04MQTT\x04\x00\x00\x00\x00\x00"),
	        "CONNECT v4 clean=0 ka=0 id=[]\n");
	/* MQTT 3.1: "MQIsdp", level 3; a password without a user name is
	   allowed there */
	check_n(BRK,
	        B("\x10\x13\x00\x06MQIsdp\x03\x02\x00\x0a\x00\x05"
	          "espat"),
	        "CONNECT v3 clean=1 ka=10 id=[espat]\n");
	check_n(BRK,
	        B("\x10\x13\x00\x06MQIsdp\x03\x40\xff\xff\x00\x01"
	          "c\x00\x02pw"),
	        "CONNECT v3 clean=0 ka=65535 id=[c] pass=[pw]\n");
	/* a will at QoS 2, empty user name and password, an empty will message */
	check_n(BRK,
	        B("\x10\x18\x00\x04MQTT\x04\xd4\x00\x01\x00\x01"
	          "c\x00\x03"
	          "a/b\x00\x00\x00\x00\x00\x00"),
	        "CONNECT v4 clean=0 ka=1 id=[c] will=[a/b] q2 r0 [] user=[] pass=[]\n");
}

static void subscribe_lists(void **state)
{
	check_n(BRK,
	        B("\x82\x12\x00\x0a\x00\x03"
	          "a/b\x01\x00\x01#\x02\x00\x03+/c\x00"),
	        "SUBSCRIBE 10 [a/b] q1 [#] q2 [+/c] q0\n");
	check_n(BRK, B("\x82\x06\x12\x34\x00\x01x\x00"), "SUBSCRIBE 4660 [x] q0\n");
	check_n(BRK,
	        B("\xa2\x0b\x00\x02\x00\x03"
	          "a/b\x00\x02/#"),
	        "UNSUBSCRIBE 2 [a/b] [/#]\n");
	check_n(BRK, B("\xc0\x00\xe0\x00"), "PINGREQ\nDISCONNECT\n");
}

/* The iterator is safe on any list, valid or not. */
static void topics_iterator(void **state)
{
	struct espat_mqtt_str f;
	uint8_t q = 7;
	struct espat_mqtt_topics it = {NULL, 0, 0, true};
	assert_false(espat_mqtt_topics_next(&it, &f, &q));
	static const uint8_t list[] = "\x00\x02"
	                              "ab\x01\x00\x05"
	                              "cd";
	it = (struct espat_mqtt_topics){list, 5, 1, true};
	assert_true(espat_mqtt_topics_next(&it, &f, &q));
	assert_true(f.len == 2 && memcmp(f.s, "ab", 2) == 0 && q == 1);
	assert_true(it.len == 0 && it.n == 0);
	assert_false(espat_mqtt_topics_next(&it, &f, &q));
	/* a QoS byte missing, a length past the end */
	it = (struct espat_mqtt_topics){list, 4, 1, true};
	assert_false(espat_mqtt_topics_next(&it, &f, &q));
	it = (struct espat_mqtt_topics){list + 5, 4, 1, false};
	assert_false(espat_mqtt_topics_next(&it, &f, NULL));
	/* without QoS bytes the list reads as filters only */
	it = (struct espat_mqtt_topics){list, 4, 1, false};
	assert_true(espat_mqtt_topics_next(&it, &f, NULL));
	assert_true(f.len == 2 && it.len == 0);
	assert_int_equal(q, 1); /* untouched */
}

/* ---- streams -------------------------------------------------------------- */

static void back_to_back(void **state)
{
	/* CONNACK, SUBACK, PUBLISH at QoS 0 and 1, one with an empty payload,
	   PUBREL, PUBLISH at QoS 2, PINGRESP, UNSUBACK, PUBACK */
	check_n(CLI,
	        B("\x20\x02\x00\x00"
	          "\x90\x03\x00\x01\x01"
	          "\x30\x05\x00\x01thi"
	          "\x32\x08\x00\x01t\x00\x02"
	          "abc"
	          "\x30\x03\x00\x01u"
	          "\x62\x02\x00\x03"
	          "\x34\x06\x00\x01v\x00\x04z"
	          "\xd0\x00"
	          "\xb0\x02\x00\x05"
	          "\x40\x02\x00\x06"),
	        "CONNACK sp=0 rc=0\n"
	        "SUBACK 1 01\n"
	        "PUBLISH [t] q0 r0 d0 id=0 len=2\n"
	        "PAYLOAD [hi]\n"
	        "PUBLISH_END\n"
	        "PUBLISH [t] q1 r0 d0 id=2 len=3\n"
	        "PAYLOAD [abc]\n"
	        "PUBLISH_END\n"
	        "PUBLISH [u] q0 r0 d0 id=0 len=0\n"
	        "PUBLISH_END\n"
	        "PUBREL 3\n"
	        "PUBLISH [v] q2 r0 d0 id=4 len=1\n"
	        "PAYLOAD [z]\n"
	        "PUBLISH_END\n"
	        "PINGRESP\n"
	        "UNSUBACK 5\n"
	        "PUBACK 6\n");
	/* events before an error stay; the error ends the stream */
	check_n(CLI, B("\xd0\x00\x30\x04\x00\x01t!\xd0\x00\x00\x00"),
	        "PINGRESP\n"
	        "PUBLISH [t] q0 r0 d0 id=0 len=1\n"
	        "PAYLOAD [!]\n"
	        "PUBLISH_END\n"
	        "PINGRESP\n"
	        "ERROR reserved packet type\n");
}

/* The feed contract, call by call. */
static void feed_contract(void **state)
{
	struct espat_mqtt_parser p;
	struct espat_mqtt_ev ev;
	static const uint8_t s[] = "\x30\x05\x00\x01t"
	                           "ab\x30\x03\x00\x01u";
	espat_mqtt_parser_init(&p, CLI);
	assert_int_equal(espat_mqtt_feed(&p, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_NEED_MORE);
	/* the head, then the payload as a slice of the input */
	assert_int_equal(espat_mqtt_feed(&p, s, 12, &ev), 5);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PUBLISH);
	const char *topic = ev.pub.topic.s;
	assert_int_equal(espat_mqtt_feed(&p, s + 5, 7, &ev), 2);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PAYLOAD);
	assert_ptr_equal(ev.data, s + 5);
	assert_int_equal(ev.len, 2);
	assert_int_equal(ev.offset, 0);
	/* the last payload byte came: PUBLISH_END is due without input, and
	   the topic is still there */
	assert_int_equal(espat_mqtt_feed(&p, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PUBLISH_END);
	assert_ptr_equal(ev.pub.topic.s, topic);
	assert_memory_equal(ev.pub.topic.s, "t", 1);
	assert_int_equal(espat_mqtt_feed(&p, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_NEED_MORE);
	/* an empty payload: PUBLISH, then PUBLISH_END consuming nothing */
	assert_int_equal(espat_mqtt_feed(&p, s + 7, 5, &ev), 5);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PUBLISH);
	assert_int_equal(ev.pub.payload_len, 0);
	assert_int_equal(espat_mqtt_feed(&p, s, 12, &ev), 0);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PUBLISH_END);
	/* a partial fixed header is kept */
	assert_int_equal(espat_mqtt_feed(&p, B("\x90\x83"), &ev), 2);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_NEED_MORE);
	assert_int_equal(espat_mqtt_feed(&p, B("\x00"), &ev), 1);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_NEED_MORE);
	assert_int_equal(p.remaining, 3);
	/* ERROR is final and consumes nothing more, until init */
	assert_int_equal(espat_mqtt_feed(&p, B("\x00\x01\x03\x20"), &ev), 3);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_ERROR);
	assert_int_equal(ev.err, ESPAT_MQTT_ERR_RETURN_CODE);
	assert_int_equal(espat_mqtt_feed(&p, B("\xd0\x00"), &ev), 0);
	assert_int_equal(ev.err, ESPAT_MQTT_ERR_RETURN_CODE);
	espat_mqtt_parser_init(&p, CLI);
	assert_int_equal(espat_mqtt_feed(&p, B("\xd0\x00"), &ev), 2);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PINGRESP);
}

/* ---- malformed packets ---------------------------------------------------- */

struct bad {
	enum espat_mqtt_role role;
	const uint8_t *in;
	size_t n;
	enum espat_mqtt_err err;
};

static void check_bad(const struct bad *t, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		char want[128];
		snprintf(want, sizeof(want), "ERROR %s\n", espat_mqtt_err_str(t[i].err));
		char *log = run(t[i].role, t[i].in, t[i].n, (struct cutting){T_WHOLE, 0, 0});
		if (strcmp(log, want) != 0)
			fail_msg("case %zu (%s): want %sgot %s", i,
			         t[i].role == CLI ? "client" : "broker", want, log);
		free(log);
		check_n(t[i].role, t[i].in, t[i].n, want);
	}
}

#define CHECK_BAD(table) check_bad(table, sizeof(table) / sizeof(table[0]))

static void bad_types_and_direction(void **state)
{
	static const struct bad t[] = {
	    {CLI, B("\x00\x00"), ESPAT_MQTT_ERR_TYPE},
	    {BRK, B("\x00\x00"), ESPAT_MQTT_ERR_TYPE},
	    {CLI, B("\xf0\x00"), ESPAT_MQTT_ERR_TYPE},
	    {BRK, B("\xf0"), ESPAT_MQTT_ERR_TYPE},
	    /* a client never receives these */
	    {CLI, B("\x10\x0c\x00\x04MQTT\x04\x02\x00\x00\x00\x00"), ESPAT_MQTT_ERR_DIRECTION},
	    {CLI, B("\x82\x06\x00\x01\x00\x01x\x00"), ESPAT_MQTT_ERR_DIRECTION},
	    {CLI, B("\xa2\x05\x00\x01\x00\x01x"), ESPAT_MQTT_ERR_DIRECTION},
	    {CLI, B("\xc0\x00"), ESPAT_MQTT_ERR_DIRECTION},
	    {CLI, B("\xe0\x00"), ESPAT_MQTT_ERR_DIRECTION},
	    /* nor a broker these */
	    {BRK, B("\x20\x02\x00\x00"), ESPAT_MQTT_ERR_DIRECTION},
	    {BRK, B("\x90\x03\x00\x01\x00"), ESPAT_MQTT_ERR_DIRECTION},
	    {BRK, B("\xb0\x02\x00\x01"), ESPAT_MQTT_ERR_DIRECTION},
	    {BRK, B("\xd0\x00"), ESPAT_MQTT_ERR_DIRECTION},
	};
	CHECK_BAD(t);
}

static void bad_flags(void **state)
{
	static const struct bad t[] = {
	    {BRK, B("\x11\x0c"), ESPAT_MQTT_ERR_FLAGS},
	    {CLI, B("\x28\x02\x00\x00"), ESPAT_MQTT_ERR_FLAGS},
	    {CLI, B("\x41\x02\x00\x01"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\x52\x02\x00\x01"), ESPAT_MQTT_ERR_FLAGS},
	    /* PUBREL, SUBSCRIBE and UNSUBSCRIBE must say 0b0010 */
	    {CLI, B("\x60\x02\x00\x01"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\x63\x02\x00\x01"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\x6a\x02\x00\x01"), ESPAT_MQTT_ERR_FLAGS},
	    {CLI, B("\x72\x02\x00\x01"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\x80\x06\x00\x01\x00\x01x\x00"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\x8a\x06\x00\x01\x00\x01x\x00"), ESPAT_MQTT_ERR_FLAGS},
	    {CLI, B("\x92\x03\x00\x01\x00"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\xa0\x05\x00\x01\x00\x01x"), ESPAT_MQTT_ERR_FLAGS},
	    {CLI, B("\xb2\x02\x00\x01"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\xc1\x00"), ESPAT_MQTT_ERR_FLAGS},
	    {CLI, B("\xd8\x00"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\xe2\x00"), ESPAT_MQTT_ERR_FLAGS},
	    /* PUBLISH: DUP on QoS 0 (judged on the first byte) */
	    {CLI, B("\x38"), ESPAT_MQTT_ERR_FLAGS},
	    {BRK, B("\x39\x03\x00\x01t"), ESPAT_MQTT_ERR_FLAGS},
	};
	CHECK_BAD(t);
}

static void bad_qos(void **state)
{
	static const struct bad t[] = {
	    {CLI, B("\x36\x05\x00\x01t\x00\x01"), ESPAT_MQTT_ERR_QOS},
	    {BRK, B("\x3f"), ESPAT_MQTT_ERR_QOS},
	    /* will QoS 3 */
	    {BRK,
	     B("\x10\x13\x00\x04MQTT\x04\x1c\x00\x00\x00\x01"
	       "c\x00\x01t\x00\x01m"),
	     ESPAT_MQTT_ERR_QOS},
	    /* requested QoS 3 */
	    {BRK, B("\x82\x06\x00\x01\x00\x01x\x03"), ESPAT_MQTT_ERR_QOS},
	};
	CHECK_BAD(t);
}

static void bad_lengths(void **state)
{
	static const struct bad t[] = {
	    /* fixed sizes */
	    {CLI, B("\x20\x03\x00\x00\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\x20\x01\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\x40\x03\x00\x01\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x50\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\x62\x01\x01"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x70\x04\x00\x01\x00\x01"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\xb0\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\xd0\x01\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\xc0\x01"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\xe0\x02\x00\x00"), ESPAT_MQTT_ERR_LENGTH},
	    /* PUBLISH: no room for the topic length, the topic, the id */
	    {CLI, B("\x30\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\x30\x01\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\x30\x03\x00\x02"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x32\x04\x00\x01t\x00"), ESPAT_MQTT_ERR_LENGTH},
	    /* SUBACK without codes */
	    {CLI, B("\x90\x02\x00\x01"), ESPAT_MQTT_ERR_LENGTH},
	    {CLI, B("\x90\x01\x00"), ESPAT_MQTT_ERR_LENGTH},
	    /* SUBSCRIBE: a filter past the end, a QoS missing; UNSUBSCRIBE too */
	    {BRK, B("\x82\x06\x00\x01\x00\x03x\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x82\x05\x00\x01\x00\x01x"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x82\x01\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\xa2\x04\x00\x01\x00\x01"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\xa2\x06\x00\x01\x00\x01x\x00"), ESPAT_MQTT_ERR_LENGTH},
	    /* CONNECT: cut short, a flagged field missing, bytes left over */
	    {BRK, B("\x10\x05\x00\x04MQT"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x10\x0a\x00\x04MQTT\x04\x02\x00\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x10\x0c\x00\x04MQTT\x04\x82\x00\x00\x00\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x10\x0f\x00\x04MQTT\x04\x06\x00\x00\x00\x00\x00\x01t"),
	     ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x00\x00"), ESPAT_MQTT_ERR_LENGTH},
	    {BRK, B("\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x02x"), ESPAT_MQTT_ERR_LENGTH},
	};
	CHECK_BAD(t);
}

static void zero_packet_ids(void **state)
{
	static const struct bad t[] = {
	    {CLI, B("\x32\x05\x00\x01t\x00\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	    {BRK,
	     B("\x34\x07\x00\x01t\x00\x00"
	       "ab"),
	     ESPAT_MQTT_ERR_PACKET_ID},
	    {CLI, B("\x40\x02\x00\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	    {BRK, B("\x50\x02\x00\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	    {CLI, B("\x62\x02\x00\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	    {BRK, B("\x70\x02\x00\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	    {CLI, B("\x90\x03\x00\x00\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	    {BRK, B("\x82\x06\x00\x00\x00\x01x\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	    {BRK, B("\xa2\x05\x00\x00\x00\x01x"), ESPAT_MQTT_ERR_PACKET_ID},
	    {CLI, B("\xb0\x02\x00\x00"), ESPAT_MQTT_ERR_PACKET_ID},
	};
	CHECK_BAD(t);
}

static void bad_topics(void **state)
{
	static const struct bad t[] = {
	    /* PUBLISH topic names: empty, wildcards, NUL */
	    {CLI, B("\x30\x02\x00\x00"), ESPAT_MQTT_ERR_TOPIC},
	    {CLI, B("\x32\x04\x00\x00\x00\x01"), ESPAT_MQTT_ERR_TOPIC},
	    {CLI, B("\x30\x03\x00\x01+"), ESPAT_MQTT_ERR_TOPIC},
	    {BRK,
	     B("\x30\x05\x00\x03"
	       "a/#"),
	     ESPAT_MQTT_ERR_TOPIC},
	    {CLI,
	     B("\x30\x05\x00\x03"
	       "a+b"),
	     ESPAT_MQTT_ERR_TOPIC},
	    {CLI,
	     B("\x30\x05\x00\x03"
	       "a\x00"
	       "b"),
	     ESPAT_MQTT_ERR_TOPIC},
	    /* will topics */
	    {BRK,
	     B("\x10\x13\x00\x04MQTT\x04\x06\x00\x00\x00\x01"
	       "c\x00\x01#\x00\x01m"),
	     ESPAT_MQTT_ERR_TOPIC},
	    {BRK,
	     B("\x10\x12\x00\x04MQTT\x04\x06\x00\x00\x00\x01"
	       "c\x00\x00\x00\x01m"),
	     ESPAT_MQTT_ERR_TOPIC},
	    /* filters: empty, '#' not last, wildcards sharing a level, NUL */
	    {BRK, B("\x82\x05\x00\x01\x00\x00\x00"), ESPAT_MQTT_ERR_TOPIC},
	    {BRK, B("\x82\x08\x00\x01\x00\x03#/a\x00"), ESPAT_MQTT_ERR_TOPIC},
	    {BRK,
	     B("\x82\x09\x00\x01\x00\x04"
	       "a/b#\x00"),
	     ESPAT_MQTT_ERR_TOPIC},
	    {BRK,
	     B("\x82\x07\x00\x01\x00\x02"
	       "a+\x00"),
	     ESPAT_MQTT_ERR_TOPIC},
	    {BRK, B("\x82\x08\x00\x01\x00\x03+a/\x00"), ESPAT_MQTT_ERR_TOPIC},
	    {BRK,
	     B("\x82\x07\x00\x01\x00\x02"
	       "a\x00\x00"),
	     ESPAT_MQTT_ERR_TOPIC},
	    {BRK, B("\xa2\x04\x00\x01\x00\x00"), ESPAT_MQTT_ERR_TOPIC},
	    {BRK, B("\xa2\x09\x00\x01\x00\x01x\x00\x02##"), ESPAT_MQTT_ERR_TOPIC},
	    /* no filter at all */
	    {BRK, B("\x82\x02\x00\x01"), ESPAT_MQTT_ERR_NO_TOPICS},
	    {BRK, B("\xa2\x02\x00\x01"), ESPAT_MQTT_ERR_NO_TOPICS},
	};
	CHECK_BAD(t);
}

static void bad_connects(void **state)
{
	static const struct bad t[] = {
	    /* protocol names, levels */
	    {BRK, B("\x10\x0c\x00\x04MQTX\x04\x02\x00\x00\x00\x00"), ESPAT_MQTT_ERR_PROTOCOL},
	    {BRK, B("\x10\x0c\x00\x04mqtt\x04\x02\x00\x00\x00\x00"), ESPAT_MQTT_ERR_PROTOCOL},
	    {BRK, B("\x10\x08\x00\x00\x04\x02\x00\x00\x00\x00"), ESPAT_MQTT_ERR_PROTOCOL},
	    {BRK, B("\x10\x0c\x00\x04MQTT\x05\x02\x00\x00\x00\x00"), ESPAT_MQTT_ERR_VERSION},
	    {BRK, B("\x10\x0c\x00\x04MQTT\x03\x02\x00\x00\x00\x00"), ESPAT_MQTT_ERR_VERSION},
	    {BRK, B("\x10\x0e\x00\x06MQIsdp\x04\x02\x00\x00\x00\x00"), ESPAT_MQTT_ERR_VERSION},
	    /* the reserved flag */
	    {BRK, B("\x10\x0c\x00\x04MQTT\x04\x03\x00\x00\x00\x00"), ESPAT_MQTT_ERR_CONNECT_FLAGS},
	    /* will QoS or retain without a will */
	    {BRK, B("\x10\x0c\x00\x04MQTT\x04\x0a\x00\x00\x00\x00"), ESPAT_MQTT_ERR_CONNECT_FLAGS},
	    {BRK, B("\x10\x0c\x00\x04MQTT\x04\x22\x00\x00\x00\x00"), ESPAT_MQTT_ERR_CONNECT_FLAGS},
	    /* a password without a user name, in 3.1.1 */
	    {BRK, B("\x10\x10\x00\x04MQTT\x04\x42\x00\x00\x00\x00\x00\x02pw"),
	     ESPAT_MQTT_ERR_CONNECT_FLAGS},
	    /* CONNACK: reserved ack flags, session present on a refusal */
	    {CLI, B("\x20\x02\x02\x00"), ESPAT_MQTT_ERR_RESERVED},
	    {CLI, B("\x20\x02\x80\x00"), ESPAT_MQTT_ERR_RESERVED},
	    {CLI, B("\x20\x02\x01\x05"), ESPAT_MQTT_ERR_CONNACK},
	    /* SUBACK codes; SUBSCRIBE's reserved QoS bits */
	    {CLI, B("\x90\x03\x00\x01\x03"), ESPAT_MQTT_ERR_RETURN_CODE},
	    {CLI, B("\x90\x04\x00\x01\x00\x81"), ESPAT_MQTT_ERR_RETURN_CODE},
	    {BRK, B("\x82\x06\x00\x01\x00\x01x\x04"), ESPAT_MQTT_ERR_RESERVED},
	    {BRK, B("\x82\x06\x00\x01\x00\x01x\x80"), ESPAT_MQTT_ERR_RESERVED},
	};
	CHECK_BAD(t);
}

/* ---- the remaining length ------------------------------------------------- */

static const uint8_t zeros[65536];

/* Feeds a PUBLISH head, then payload_len bytes of payload from one buffer
 * in random pieces (no byte is copied, so any size streams through), then
 * a PINGRESP. */
static void stream_publish(const uint8_t *head, size_t hn, uint32_t payload_len, uint32_t seed)
{
	struct espat_mqtt_parser p;
	struct espat_mqtt_ev ev;
	espat_mqtt_parser_init(&p, CLI);
	assert_int_equal(espat_mqtt_feed(&p, head, hn, &ev), hn);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PUBLISH);
	assert_true(ev.pub.payload_len == payload_len);
	uint64_t got = 0, events = 0;
	bool ended = false;
	while (!ended) {
		size_t k = 1 + t_rand(&seed) % sizeof(zeros);
		const uint8_t *cur = zeros;
		size_t left = k;
		do {
			size_t used = espat_mqtt_feed(&p, cur, left, &ev);
			if (ev.type == ESPAT_MQTT_EV_PAYLOAD) {
				assert_true(ev.offset == got);
				assert_ptr_equal(ev.data, cur);
				assert_true(ev.data + ev.len <= zeros + k);
				got += ev.len;
				events++;
			} else if (ev.type == ESPAT_MQTT_EV_PUBLISH_END) {
				assert_true(got == payload_len);
				ended = true; /* the rest of this piece is not payload */
			} else {
				assert_int_equal(ev.type, ESPAT_MQTT_EV_NEED_MORE);
			}
			cur += used;
			left -= used;
		} while (!ended && ev.type != ESPAT_MQTT_EV_NEED_MORE);
	}
	/* pieces are large: the payload is not cut into tiny events */
	assert_true(events <= payload_len / 16384 + 2);
	assert_int_equal(espat_mqtt_feed(&p, B("\xd0\x00"), &ev), 2);
	assert_int_equal(ev.type, ESPAT_MQTT_EV_PINGRESP);
}

static void varint_edges(void **state)
{
	static const struct {
		uint32_t value;
		const char *enc;
		size_t n;
	} edges[] = {
	    {0, "\x00", 1},
	    {127, "\x7f", 1},
	    {128, "\x80\x01", 2},
	    {16383, "\xff\x7f", 2},
	    {16384, "\x80\x80\x01", 3},
	    {2097151, "\xff\xff\x7f", 3},
	    {2097152, "\x80\x80\x80\x01", 4},
	    {268435455, "\xff\xff\xff\x7f", 4},
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		uint32_t v = edges[i].value;
		uint8_t want[16], got[16];
		if (v == 0) {
			/* a packet without a body */
			assert_int_equal(
			    espat_mqtt_write_empty(got, sizeof(got), ESPAT_MQTT_PINGRESP), 2);
			assert_memory_equal(got, "\xd0\x00", 2);
			check_n(CLI, got, 2, "PINGRESP\n");
			continue;
		}
		/* a PUBLISH to "t" at QoS 0 whose remaining length is v */
		struct espat_mqtt_publish pub = {S("t"), 0, false, false, 0, v - 3};
		size_t hn = 1 + edges[i].n + 3;
		want[0] = 0x30;
		memcpy(want + 1, edges[i].enc, edges[i].n);
		memcpy(want + 1 + edges[i].n, "\x00\x01t", 3);
		assert_int_equal(espat_mqtt_write_publish_head(got, sizeof(got), &pub), hn);
		assert_memory_equal(got, want, hn);
		stream_publish(got, hn, v - 3, v);
		if (v <= 16384) {
			/* small enough to cut everywhere */
			static uint8_t in[16400];
			static char log[16500];
			memcpy(in, got, hn);
			memset(in + hn, 'z', v - 3);
			size_t n = (size_t)snprintf(log, sizeof(log),
			                            "PUBLISH [t] q0 r0 d0 id=0 len=%u\nPAYLOAD [",
			                            (unsigned)(v - 3));
			memset(log + n, 'z', v - 3);
			snprintf(log + n + v - 3, sizeof(log) - n - (v - 3), "]\nPUBLISH_END\n");
			check_n(CLI, in, hn + v - 3, log);
		}
	}
	/* non-minimal encodings are accepted (3.1.1 does not forbid them) */
	check_n(CLI, B("\xd0\x80\x00"), "PINGRESP\n");
	check_n(CLI, B("\x40\x82\x80\x80\x00\x00\x01"), "PUBACK 1\n");
	/* a fifth length byte is an error, seen at the fourth's continuation */
	check_n(CLI, B("\x30\xff\xff\xff\xff\x7f"), "ERROR remaining length over 4 bytes\n");
	check_n(BRK, B("\xc0\x80\x80\x80\x80"), "ERROR remaining length over 4 bytes\n");
	/* one past the largest remaining length does not get written */
	uint8_t buf[16];
	struct espat_mqtt_publish pub = {S("t"), 0, false, false, 0, 268435453};
	assert_int_equal(espat_mqtt_write_publish_head(buf, sizeof(buf), &pub), 0);
	pub.payload_len = 268435452;
	assert_int_equal(espat_mqtt_write_publish_head(buf, sizeof(buf), &pub), 8);
	pub.qos = 1;
	pub.packet_id = 1;
	assert_int_equal(espat_mqtt_write_publish_head(buf, sizeof(buf), &pub), 0);
	pub.payload_len -= 2;
	assert_int_equal(espat_mqtt_write_publish_head(buf, sizeof(buf), &pub), 10);
}

/* The largest PUBLISH there is, and a few MB at QoS 2, stream through. */
static void huge_payload(void **state)
{
	uint8_t head[16];
	struct espat_mqtt_publish pub = {S("big/file"), 0, false, false, 0, 0};
	pub.payload_len = ESPAT_MQTT_REMAINING_MAX - 10;
	size_t hn = espat_mqtt_write_publish_head(head, sizeof(head), &pub);
	assert_int_equal(hn, 15);
	stream_publish(head, hn, pub.payload_len, 1);
	pub = (struct espat_mqtt_publish){S("x"), 2, true, true, 513, 5u << 20};
	hn = espat_mqtt_write_publish_head(head, sizeof(head), &pub);
	stream_publish(head, hn, pub.payload_len, 2);
}

/* ---- limits --------------------------------------------------------------- */

static void limits(void **state)
{
	static uint8_t in[ESPAT_MQTT_PACKET_MAX + 64];
	static char want[ESPAT_MQTT_PACKET_MAX * 4];
	/* a topic of ESPAT_MQTT_TOPIC_MAX bytes, and one more */
	char topic[ESPAT_MQTT_TOPIC_MAX + 1];
	memset(topic, 'a', sizeof(topic));
	struct espat_mqtt_publish pub = {{topic, ESPAT_MQTT_TOPIC_MAX}, 1, false, false, 1, 1};
	size_t n = espat_mqtt_write_publish(in, sizeof(in), &pub, "!");
	assert_int_equal(n, 3 + 2 + ESPAT_MQTT_TOPIC_MAX + 2 + 1);
	snprintf(want, sizeof(want),
	         "PUBLISH [%.*s] q1 r0 d0 id=1 len=1\nPAYLOAD [!]\nPUBLISH_END\n",
	         ESPAT_MQTT_TOPIC_MAX, topic);
	check_n(CLI, in, n, want);
	pub.topic.len++;
	n = espat_mqtt_write_publish(in, sizeof(in), &pub, "!");
	assert_int_not_equal(n, 0); /* the writer has the protocol's limit */
	check_n(CLI, in, n, "ERROR packet or topic too long\n");
	/* known at the topic length, before the topic comes */
	check_n(CLI, in, 5, "ERROR packet or topic too long\n");

	/* a SUBACK of ESPAT_MQTT_PACKET_MAX bytes, and one more */
	uint8_t codes[ESPAT_MQTT_PACKET_MAX];
	memset(codes, 0x80, sizeof(codes));
	n = espat_mqtt_write_suback(in, sizeof(in), 7, codes, ESPAT_MQTT_PACKET_MAX - 2);
	assert_int_equal(n, 3 + ESPAT_MQTT_PACKET_MAX);
	size_t w = (size_t)snprintf(want, sizeof(want), "SUBACK 7");
	for (size_t i = 0; i < ESPAT_MQTT_PACKET_MAX - 2; i++)
		w += (size_t)snprintf(want + w, sizeof(want) - w, " 80");
	snprintf(want + w, sizeof(want) - w, "\n");
	check_n(CLI, in, n, want);
	n = espat_mqtt_write_suback(in, sizeof(in), 7, codes, ESPAT_MQTT_PACKET_MAX - 1);
	assert_int_equal(n, 3 + ESPAT_MQTT_PACKET_MAX + 1);
	check_n(CLI, in, 3, "ERROR packet or topic too long\n");

	/* a CONNECT with ESP-AT's longest client id, user name and password */
	char id[1024], user[1024], pass[1024];
	memset(id, 'i', sizeof(id));
	memset(user, 'u', sizeof(user));
	memset(pass, 'p', sizeof(pass));
	struct espat_mqtt_connect c = {
	    .version = ESPAT_MQTT_V311,
	    .clean_session = true,
	    .keepalive = 120,
	    .client_id = {id, sizeof(id)},
	    .will = true,
	    .will_qos = 1,
	    .will_topic = S("lwt"),
	    .will_message = S("gone"),
	    .has_username = true,
	    .username = {user, sizeof(user)},
	    .has_password = true,
	    .password = {pass, sizeof(pass)},
	};
	n = espat_mqtt_write_connect(in, sizeof(in), &c);
	assert_int_equal(n, 3 + 10 + 3 * 1026 + 5 + 6);
	snprintf(want, sizeof(want),
	         "CONNECT v4 clean=1 ka=120 id=[%.1024s] will=[lwt] q1 r0 [gone] user=[%.1024s] "
	         "pass=[%.1024s]\n",
	         id, user, pass);
	check_n(BRK, in, n, want);
	/* a CONNECT one byte over the limit */
	c.will_message.len = ESPAT_MQTT_PACKET_MAX - (10 + 3 * 1026 + 5 + 2) + 1;
	char msg[ESPAT_MQTT_PACKET_MAX];
	memset(msg, 'm', sizeof(msg));
	c.will_message.s = msg;
	n = espat_mqtt_write_connect(in, sizeof(in), &c);
	assert_int_equal(n, 3 + ESPAT_MQTT_PACKET_MAX + 1);
	check_n(BRK, in, n, "ERROR packet or topic too long\n");
}

/* ---- writers -------------------------------------------------------------- */

/* What to write: the type and the arguments of its writer. */
struct pkt {
	enum espat_mqtt_type type;
	struct espat_mqtt_connect connect;
	struct espat_mqtt_publish pub;
	const char *payload; /* PUBLISH: the whole packet; NULL: the head only */
	uint16_t id;
	const struct espat_mqtt_sub *subs;
	const struct espat_mqtt_str *filters;
	const uint8_t *codes;
	size_t n;
	bool session_present;
	uint8_t return_code;
};

static size_t write_pkt(uint8_t *buf, size_t cap, const struct pkt *k)
{
	switch (k->type) {
	case ESPAT_MQTT_CONNECT:
		return espat_mqtt_write_connect(buf, cap, &k->connect);
	case ESPAT_MQTT_CONNACK:
		return espat_mqtt_write_connack(buf, cap, k->session_present, k->return_code);
	case ESPAT_MQTT_PUBLISH:
		if (k->payload == NULL)
			return espat_mqtt_write_publish_head(buf, cap, &k->pub);
		return espat_mqtt_write_publish(buf, cap, &k->pub, k->payload);
	case ESPAT_MQTT_SUBSCRIBE:
		return espat_mqtt_write_subscribe(buf, cap, k->id, k->subs, k->n);
	case ESPAT_MQTT_SUBACK:
		return espat_mqtt_write_suback(buf, cap, k->id, k->codes, k->n);
	case ESPAT_MQTT_UNSUBSCRIBE:
		return espat_mqtt_write_unsubscribe(buf, cap, k->id, k->filters, k->n);
	case ESPAT_MQTT_PINGREQ:
	case ESPAT_MQTT_PINGRESP:
	case ESPAT_MQTT_DISCONNECT:
		return espat_mqtt_write_empty(buf, cap, k->type);
	default:
		return espat_mqtt_write_ack(buf, cap, k->type, k->id);
	}
}

/* The writer gives want exactly, and 0 (touching nothing past cap) for
 * every smaller cap. */
static void check_writer(const struct pkt *k, const uint8_t *want, size_t n)
{
	uint8_t buf[512];
	memset(buf, 'Z', sizeof(buf));
	size_t got = write_pkt(buf, sizeof(buf), k);
	if (got != n || memcmp(buf, want, n) != 0)
		fail_msg("type %d: want \"%s\" got \"%s\"", k->type, t_esc(want, n, 0),
		         t_esc(buf, got, 1));
	for (size_t cap = 0; cap < n; cap++) {
		memset(buf, 'Z', sizeof(buf));
		assert_int_equal(write_pkt(buf, cap, k), 0);
		assert_int_equal(buf[cap], 'Z');
	}
	assert_int_equal(write_pkt(buf, n, k), n);
}

static const struct espat_mqtt_sub two_subs[] = {{{"a/+", 3}, 1}, {{"#", 1}, 2}};
static const struct espat_mqtt_str two_filters[] = {{"a/+", 3}, {"$SYS/#", 6}};
static const uint8_t suback_codes[] = {0, 1, 2, 0x80};

static void writer_bytes(void **state)
{
	struct pkt k = {.type = ESPAT_MQTT_CONNECT};
	k.connect = (struct espat_mqtt_connect){
	    .version = ESPAT_MQTT_V311,
	    .clean_session = true,
	    .keepalive = 60,
	    .client_id = S("espat"),
	    .will = true,
	    .will_qos = 1,
	    .will_retain = true,
	    .will_topic = S("w/t"),
	    .will_message = S("bye"),
	    .has_username = true,
	    .username = S("user"),
	    .has_password = true,
	    .password = {"\x00\xffp", 3},
	};
	check_writer(&k, B("\x10\x26\x00\x04MQTT\x04\xee\x00\x3c\x00\x05"
	                   "espat\x00\x03w/t\x00\x03"
	                   "bye\x00\x04user\x00\x03\x00\xffp"));
	k.connect = (struct espat_mqtt_connect){.version = ESPAT_MQTT_V31,
	                                        .clean_session = true,
	                                        .keepalive = 10,
	                                        .client_id = S("espat")};
	check_writer(&k, B("\x10\x13\x00\x06MQIsdp\x03\x02\x00\x0a\x00\x05"
	                   "espat"));
	/* fields without their flag are not written */
	k.connect = (struct espat_mqtt_connect){.version = ESPAT_MQTT_V311,
	                                        .clean_session = false,
	                                        .client_id = S("c"),
	                                        .will_topic = S("ignored"),
	                                        .username = S("ignored")};
	check_writer(&k, B("\x10\x0d\x00\x04MQTT\x04\x00\x00\x00\x00\x01"
	                   "c"));

	check_writer(&(struct pkt){.type = ESPAT_MQTT_CONNACK}, B("\x20\x02\x00\x00"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_CONNACK, .session_present = true},
	             B("\x20\x02\x01\x00"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_CONNACK, .return_code = 5},
	             B("\x20\x02\x00\x05"));

	k = (struct pkt){.type = ESPAT_MQTT_PUBLISH, .pub = {S("a/b"), 0, false, false, 0, 5}};
	check_writer(&k, B("\x30\x0a\x00\x03"
	                   "a/b"));
	k.payload = "hello";
	check_writer(&k, B("\x30\x0a\x00\x03"
	                   "a/bhello"));
	k.pub = (struct espat_mqtt_publish){S("t"), 2, true, true, 0x1234, 0};
	check_writer(&k, B("\x3d\x05\x00\x01t\x12\x34"));
	k.payload = NULL;
	check_writer(&k, B("\x3d\x05\x00\x01t\x12\x34"));

	check_writer(&(struct pkt){.type = ESPAT_MQTT_PUBACK, .id = 1}, B("\x40\x02\x00\x01"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_PUBREC, .id = 0x1234}, B("\x50\x02\x12\x34"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_PUBREL, .id = 0xffff}, B("\x62\x02\xff\xff"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_PUBCOMP, .id = 256}, B("\x70\x02\x01\x00"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_UNSUBACK, .id = 9}, B("\xb0\x02\x00\x09"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_PINGREQ}, B("\xc0\x00"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_PINGRESP}, B("\xd0\x00"));
	check_writer(&(struct pkt){.type = ESPAT_MQTT_DISCONNECT}, B("\xe0\x00"));

	check_writer(
	    &(struct pkt){.type = ESPAT_MQTT_SUBSCRIBE, .id = 10, .subs = two_subs, .n = 2},
	    B("\x82\x0c\x00\x0a\x00\x03"
	      "a/+\x01\x00\x01#\x02"));
	check_writer(
	    &(struct pkt){.type = ESPAT_MQTT_UNSUBSCRIBE, .id = 2, .filters = two_filters, .n = 2},
	    B("\xa2\x0f\x00\x02\x00\x03"
	      "a/+\x00\x06$SYS/#"));
	check_writer(
	    &(struct pkt){.type = ESPAT_MQTT_SUBACK, .id = 5, .codes = suback_codes, .n = 4},
	    B("\x90\x06\x00\x05\x00\x01\x02\x80"));
}

static void writer_invalid(void **state)
{
	uint8_t buf[512];
	const struct espat_mqtt_connect good = {
	    .version = ESPAT_MQTT_V311, .clean_session = true, .client_id = S("c")};
	assert_int_not_equal(espat_mqtt_write_connect(buf, sizeof(buf), &good), 0);
	struct espat_mqtt_connect c = good;
	c.version = 5;
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c = good;
	c.clean_session = false;
	c.client_id = S("");
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c = good;
	c.will_qos = 1; /* without a will */
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c = good;
	c.will_retain = true;
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c = good;
	c.will = true;
	c.will_topic = S("a/+");
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c.will_topic = S("");
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c.will_topic = S("t");
	c.will_qos = 3;
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c.will_qos = 2;
	assert_int_not_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c = good;
	c.has_password = true;
	c.password = S("pw");
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c.version = ESPAT_MQTT_V31; /* 3.1 allows it */
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 21);
	c = good;
	c.client_id.len = 65536;
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);
	c = good;
	c.has_username = true;
	c.username = (struct espat_mqtt_str){NULL, 3};
	assert_int_equal(espat_mqtt_write_connect(buf, sizeof(buf), &c), 0);

	const struct espat_mqtt_publish bad_pubs[] = {
	    {S(""), 0, false, false, 0, 0},  {S("a/#"), 0, false, false, 0, 0},
	    {S("+"), 1, false, false, 1, 0}, {{"a\0b", 3}, 0, false, false, 0, 0},
	    {S("t"), 3, false, false, 1, 0}, {S("t"), 0, false, true, 0, 0},
	    {S("t"), 0, false, false, 1, 0}, {S("t"), 1, false, false, 0, 0},
	    {S("t"), 2, false, false, 0, 0},
	};
	for (size_t i = 0; i < sizeof(bad_pubs) / sizeof(bad_pubs[0]); i++) {
		assert_int_equal(espat_mqtt_write_publish_head(buf, sizeof(buf), &bad_pubs[i]), 0);
		assert_int_equal(espat_mqtt_write_publish(buf, sizeof(buf), &bad_pubs[i], "x"), 0);
	}
	struct espat_mqtt_publish pub = {S("t"), 0, false, false, 0, 1};
	assert_int_equal(espat_mqtt_write_publish(buf, sizeof(buf), &pub, NULL), 0);

	assert_int_equal(espat_mqtt_write_ack(buf, sizeof(buf), ESPAT_MQTT_PUBACK, 0), 0);
	assert_int_equal(espat_mqtt_write_ack(buf, sizeof(buf), ESPAT_MQTT_CONNACK, 1), 0);
	assert_int_equal(espat_mqtt_write_ack(buf, sizeof(buf), ESPAT_MQTT_SUBACK, 1), 0);
	assert_int_equal(espat_mqtt_write_ack(buf, sizeof(buf), ESPAT_MQTT_PINGREQ, 1), 0);
	assert_int_equal(espat_mqtt_write_ack(buf, sizeof(buf), (enum espat_mqtt_type)15, 1), 0);
	assert_int_equal(espat_mqtt_write_ack(buf, sizeof(buf), (enum espat_mqtt_type)0, 1), 0);
	assert_int_equal(espat_mqtt_write_empty(buf, sizeof(buf), ESPAT_MQTT_PUBACK), 0);
	assert_int_equal(espat_mqtt_write_empty(buf, sizeof(buf), (enum espat_mqtt_type)0), 0);
	assert_int_equal(espat_mqtt_write_empty(buf, sizeof(buf), (enum espat_mqtt_type)15), 0);
	assert_int_equal(espat_mqtt_write_connack(buf, sizeof(buf), true, 1), 0);

	const struct espat_mqtt_sub bad_qos[] = {{S("a"), 3}};
	const struct espat_mqtt_sub bad_filter[] = {{S("a"), 0}, {S("a#"), 0}};
	assert_int_equal(espat_mqtt_write_subscribe(buf, sizeof(buf), 1, two_subs, 0), 0);
	assert_int_equal(espat_mqtt_write_subscribe(buf, sizeof(buf), 0, two_subs, 2), 0);
	assert_int_equal(espat_mqtt_write_subscribe(buf, sizeof(buf), 1, bad_qos, 1), 0);
	assert_int_equal(espat_mqtt_write_subscribe(buf, sizeof(buf), 1, bad_filter, 2), 0);
	const struct espat_mqtt_str bad_filters[] = {S("a"), S("")};
	assert_int_equal(espat_mqtt_write_unsubscribe(buf, sizeof(buf), 1, two_filters, 0), 0);
	assert_int_equal(espat_mqtt_write_unsubscribe(buf, sizeof(buf), 0, two_filters, 2), 0);
	assert_int_equal(espat_mqtt_write_unsubscribe(buf, sizeof(buf), 1, bad_filters, 2), 0);
	const uint8_t bad_codes[] = {0, 3};
	assert_int_equal(espat_mqtt_write_suback(buf, sizeof(buf), 1, suback_codes, 0), 0);
	assert_int_equal(espat_mqtt_write_suback(buf, sizeof(buf), 0, suback_codes, 4), 0);
	assert_int_equal(espat_mqtt_write_suback(buf, sizeof(buf), 1, bad_codes, 2), 0);
}

/* Every packet type, written by its writer, parses back in the role that
 * receives it, cut every way. */
static void round_trip(void **state)
{
	const struct {
		enum espat_mqtt_role role;
		struct pkt k;
		const char *want;
	} cases[] = {
	    {BRK,
	     {.type = ESPAT_MQTT_CONNECT,
	      .connect = {.version = ESPAT_MQTT_V311,
	                  .clean_session = true,
	                  .keepalive = 300,
	                  .client_id = S("ESP32_1234"),
	                  .will = true,
	                  .will_qos = 2,
	                  .will_retain = true,
	                  .will_topic = S("dev/1/status"),
	                  .will_message = S("offline"),
	                  .has_username = true,
	                  .username = S("espressif"),
	                  .has_password = true,
	                  .password = S("1234567890")}},
	     "CONNECT v4 clean=1 ka=300 id=[ESP32_1234] will=[dev/1/status] q2 r1 [offline] "
	     "user=[espressif] pass=[1234567890]\n"},
	    {BRK,
	     {.type = ESPAT_MQTT_CONNECT,
	      .connect = {.version = ESPAT_MQTT_V31,
	                  .client_id = S("old"),
	                  .has_password = true,
	                  .password = S("")}},
	     "CONNECT v3 clean=0 ka=0 id=[old] pass=[]\n"},
	    {CLI, {.type = ESPAT_MQTT_CONNACK, .session_present = true}, "CONNACK sp=1 rc=0\n"},
	    {CLI, {.type = ESPAT_MQTT_CONNACK, .return_code = 4}, "CONNACK sp=0 rc=4\n"},
	    {CLI,
	     {.type = ESPAT_MQTT_PUBLISH,
	      .pub = {S("dev/1/temp"), 1, true, false, 77, 4},
	      .payload = "21.5"},
	     "PUBLISH [dev/1/temp] q1 r1 d0 id=77 len=4\nPAYLOAD [21.5]\nPUBLISH_END\n"},
	    {BRK,
	     {.type = ESPAT_MQTT_PUBLISH, .pub = {S("/"), 2, false, true, 65535, 0}, .payload = ""},
	     "PUBLISH [/] q2 r0 d1 id=65535 len=0\nPUBLISH_END\n"},
	    {BRK,
	     {.type = ESPAT_MQTT_PUBLISH, .pub = {S("$x"), 0, false, false, 0, 0}, .payload = ""},
	     "PUBLISH [$x] q0 r0 d0 id=0 len=0\nPUBLISH_END\n"},
	    {BRK, {.type = ESPAT_MQTT_PUBACK, .id = 77}, "PUBACK 77\n"},
	    {CLI, {.type = ESPAT_MQTT_PUBREC, .id = 78}, "PUBREC 78\n"},
	    {BRK, {.type = ESPAT_MQTT_PUBREL, .id = 78}, "PUBREL 78\n"},
	    {CLI, {.type = ESPAT_MQTT_PUBCOMP, .id = 78}, "PUBCOMP 78\n"},
	    {BRK,
	     {.type = ESPAT_MQTT_SUBSCRIBE, .id = 3, .subs = two_subs, .n = 2},
	     "SUBSCRIBE 3 [a/+] q1 [#] q2\n"},
	    {CLI,
	     {.type = ESPAT_MQTT_SUBACK, .id = 3, .codes = suback_codes, .n = 4},
	     "SUBACK 3 00 01 02 80\n"},
	    {BRK,
	     {.type = ESPAT_MQTT_UNSUBSCRIBE, .id = 4, .filters = two_filters, .n = 2},
	     "UNSUBSCRIBE 4 [a/+] [$SYS/#]\n"},
	    {CLI, {.type = ESPAT_MQTT_UNSUBACK, .id = 4}, "UNSUBACK 4\n"},
	    {BRK, {.type = ESPAT_MQTT_PINGREQ}, "PINGREQ\n"},
	    {CLI, {.type = ESPAT_MQTT_PINGRESP}, "PINGRESP\n"},
	    {BRK, {.type = ESPAT_MQTT_DISCONNECT}, "DISCONNECT\n"},
	};
	/* each alone, then all of one role back to back */
	static uint8_t all[2][2048];
	static char all_want[2][2048];
	size_t all_n[2] = {0, 0};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[256];
		size_t n = write_pkt(buf, sizeof(buf), &cases[i].k);
		assert_int_not_equal(n, 0);
		check_n(cases[i].role, buf, n, cases[i].want);
		int r = cases[i].role == BRK;
		memcpy(all[r] + all_n[r], buf, n);
		all_n[r] += n;
		strcat(all_want[r], cases[i].want);
	}
	check_n(CLI, all[0], all_n[0], all_want[0]);
	check_n(BRK, all[1], all_n[1], all_want[1]);

	/* a PUBLISH head, then its payload sent from elsewhere */
	uint8_t buf[64];
	struct espat_mqtt_publish pub = {S("fw"), 1, false, false, 9, 10};
	size_t n = espat_mqtt_write_publish_head(buf, sizeof(buf), &pub);
	memcpy(buf + n, "0123456789", 10);
	check_both(buf, n + 10,
	           "PUBLISH [fw] q1 r0 d0 id=9 len=10\nPAYLOAD [0123456789]\n"
	           "PUBLISH_END\n");
}

/* ---- topics --------------------------------------------------------------- */

static struct espat_mqtt_str str(const char *s)
{
	return (struct espat_mqtt_str){s, strlen(s)};
}

static void topic_validity(void **state)
{
	static const char *names_ok[] = {"a", "/", "a/b", "/a/", "$SYS/x", "a b", "//", "\xc3\xa9"};
	static const char *names_bad[] = {"", "+", "#", "a/+", "a/#", "a+", "#a", "a/b/#"};
	static const char *filters_ok[] = {"a",
	                                   "#",
	                                   "+",
	                                   "/",
	                                   "a/#",
	                                   "a/+/b",
	                                   "+/+",
	                                   "/+",
	                                   "+/#",
	                                   "$SYS/#",
	                                   "sport/tennis/player1/#",
	                                   "//#",
	                                   "a//+"};
	static const char *filters_bad[] = {"",   "a#",     "#/", "#/a", "a/#/b", "a+",
	                                    "+a", "a/b+/c", "++", "##",  "a/#b",  "sport/tennis#",
	                                    "+#"};
	for (size_t i = 0; i < sizeof(names_ok) / sizeof(names_ok[0]); i++)
		if (!espat_mqtt_topic_valid(str(names_ok[i])))
			fail_msg("topic name \"%s\" refused", names_ok[i]);
	for (size_t i = 0; i < sizeof(names_bad) / sizeof(names_bad[0]); i++)
		if (espat_mqtt_topic_valid(str(names_bad[i])))
			fail_msg("topic name \"%s\" accepted", names_bad[i]);
	for (size_t i = 0; i < sizeof(filters_ok) / sizeof(filters_ok[0]); i++)
		if (!espat_mqtt_filter_valid(str(filters_ok[i])))
			fail_msg("filter \"%s\" refused", filters_ok[i]);
	for (size_t i = 0; i < sizeof(filters_bad) / sizeof(filters_bad[0]); i++)
		if (espat_mqtt_filter_valid(str(filters_bad[i])))
			fail_msg("filter \"%s\" accepted", filters_bad[i]);
	/* NUL anywhere; the 65535-byte limit of a string */
	assert_false(espat_mqtt_topic_valid((struct espat_mqtt_str){"a\0b", 3}));
	assert_false(espat_mqtt_filter_valid((struct espat_mqtt_str){"a/\0", 3}));
	assert_false(espat_mqtt_topic_valid((struct espat_mqtt_str){NULL, 1}));
	assert_false(espat_mqtt_filter_valid((struct espat_mqtt_str){NULL, 1}));
	static char big[65536];
	memset(big, 'a', sizeof(big));
	assert_true(espat_mqtt_topic_valid((struct espat_mqtt_str){big, 65535}));
	assert_false(espat_mqtt_topic_valid((struct espat_mqtt_str){big, 65536}));
	assert_true(espat_mqtt_filter_valid((struct espat_mqtt_str){big, 65535}));
	assert_false(espat_mqtt_filter_valid((struct espat_mqtt_str){big, 65536}));
}

static void topic_matching(void **state)
{
	static const struct {
		const char *filter, *topic;
		bool match;
	} cases[] = {
	    /* 4.7.1.2: the multi-level wildcard */
	    {"sport/tennis/player1/#", "sport/tennis/player1", true},
	    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
	    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
	    {"sport/tennis/player1/#", "sport/tennis/player2", false},
	    {"sport/tennis/player1/#", "sport/tennis", false},
	    {"sport/#", "sport", true},
	    {"#", "sport/tennis", true},
	    {"#", "/", true},
	    /* 4.7.1.3: the single-level wildcard */
	    {"sport/tennis/+", "sport/tennis/player1", true},
	    {"sport/tennis/+", "sport/tennis/player2", true},
	    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
	    {"sport/+", "sport", false},
	    {"sport/+", "sport/", true},
	    {"+/+", "/finance", true},
	    {"/+", "/finance", true},
	    {"+", "/finance", false},
	    {"+", "finance", true},
	    {"+/tennis/#", "sport/tennis/player1", true},
	    {"+/+/+", "a/b", false},
	    {"a/+/c", "a//c", true},
	    {"+/#", "a", true},
	    /* 4.7.2: wildcards at the first level do not match '$' topics */
	    {"#", "$SYS/monitor/Clients", false},
	    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
	    {"$SYS/#", "$SYS/monitor/Clients", true},
	    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
	    {"$SYS/#", "$SYS", true},
	    {"+", "$SYS", false},
	    {"a/$x", "a/$x", true},
	    {"a/+", "a/$x", true},
	    /* no wildcards: bytes must be equal (case too) */
	    {"a/b", "a/b", true},
	    {"a/b", "a/B", false},
	    {"a/b", "a/b/", false},
	    {"a/b/", "a/b", false},
	    {"/", "/", true},
	    {"a", "ab", false},
	    {"ab", "a", false},
	    /* invalid filters or topic names never match */
	    {"a/#/b", "a/x/b", false},
	    {"a+", "a+", false},
	    {"#", "", false},
	    {"a/#", "a/#", false},
	    {"", "", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = espat_mqtt_topic_match(str(cases[i].filter), str(cases[i].topic));
		if (got != cases[i].match)
			fail_msg("\"%s\" vs \"%s\": want %d", cases[i].filter, cases[i].topic,
			         cases[i].match);
	}
	/* only len bytes count */
	assert_true(espat_mqtt_topic_match((struct espat_mqtt_str){"a/+XX", 3},
	                                   (struct espat_mqtt_str){"a/bcYY", 4}));
}

static void err_names(void **state)
{
	for (int e = ESPAT_MQTT_ERR_NONE; e <= ESPAT_MQTT_ERR_RETURN_CODE; e++) {
		const char *s = espat_mqtt_err_str((enum espat_mqtt_err)e);
		assert_string_not_equal(s, "unknown error");
		for (int f = ESPAT_MQTT_ERR_NONE; f < e; f++)
			assert_string_not_equal(s, espat_mqtt_err_str((enum espat_mqtt_err)f));
	}
	assert_string_equal(espat_mqtt_err_str((enum espat_mqtt_err)99), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(connack),
	    cmocka_unit_test(publish_qos_levels),
	    cmocka_unit_test(acks),
	    cmocka_unit_test(suback),
	    cmocka_unit_test(connect_fields),
	    cmocka_unit_test(subscribe_lists),
	    cmocka_unit_test(topics_iterator),
	    cmocka_unit_test(back_to_back),
	    cmocka_unit_test(feed_contract),
	    cmocka_unit_test(bad_types_and_direction),
	    cmocka_unit_test(bad_flags),
	    cmocka_unit_test(bad_qos),
	    cmocka_unit_test(bad_lengths),
	    cmocka_unit_test(zero_packet_ids),
	    cmocka_unit_test(bad_topics),
	    cmocka_unit_test(bad_connects),
	    cmocka_unit_test(varint_edges),
	    cmocka_unit_test(huge_payload),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(writer_bytes),
	    cmocka_unit_test(writer_invalid),
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(topic_validity),
	    cmocka_unit_test(topic_matching),
	    cmocka_unit_test(err_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
