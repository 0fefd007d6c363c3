/* The network services: the SNTP and mDNS codecs and the time helpers as
 * pure functions, then AT+CIPSNTPCFG / CIPSNTPTIME / CIPSNTPINTV, AT+PING
 * and AT+MDNS on the test port's in-memory network (src/testport/
 * net_mem.h), with the test playing the SNTP servers, the pinged hosts and
 * the mDNS queriers. Time passes only through the test clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/mdns.h"
#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/module.h"
#include "cmd/ota.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "proto/sntp.h"
#include "testport/testport.h"

#include "module_fixture.h"

/* 2021-10-19 09:47:56 UTC: the guide's example time at UTC+8. */
#define T_GUIDE 1634636876

/* ---- SNTP codec -------------------------------------------------------------- */

static void test_sntp_codec(void **state)
{
	uint8_t pkt[ESPAT_SNTP_PKT];
	uint64_t nonce = 0xE51912CC12345678u;
	espat_sntp_request(pkt, nonce);
	assert_int_equal(pkt[0], 0x23); /* LI 0, VN 4, mode 3 */
	for (size_t i = 1; i < 40; i++)
		assert_int_equal(pkt[i], 0);
	assert_int_equal(pkt[40], 0xE5);
	assert_int_equal(pkt[47], 0x78);

	/* a reply: mode 4, stratum 2, originate = our transmit */
	uint8_t r[ESPAT_SNTP_PKT] = {0x24, 2};
	memcpy(r + 24, pkt + 40, 8);
	uint64_t ts = espat_ntp_from_unix(T_GUIDE, 500);
	for (int i = 0; i < 8; i++)
		r[40 + i] = (uint8_t)(ts >> (56 - 8 * i));
	int64_t s = 0;
	uint32_t ms = 0;
	assert_int_equal(espat_sntp_parse(r, sizeof(r), nonce, &s, &ms), ESPAT_SNTP_TIME);
	assert_int_equal(s, T_GUIDE);
	assert_int_equal(ms, 500);
	/* not ours */
	assert_int_equal(espat_sntp_parse(r, 47, nonce, &s, &ms), ESPAT_SNTP_IGNORE);
	assert_int_equal(espat_sntp_parse(r, sizeof(r), nonce + 1, &s, &ms), ESPAT_SNTP_IGNORE);
	r[0] = 0x23;
	assert_int_equal(espat_sntp_parse(r, sizeof(r), nonce, &s, &ms), ESPAT_SNTP_IGNORE);
	/* refusals: kiss-o'-death (stratum 0), unsynchronised (LI 3), no time */
	r[0] = 0x24;
	r[1] = 0;
	assert_int_equal(espat_sntp_parse(r, sizeof(r), nonce, &s, &ms), ESPAT_SNTP_REFUSE);
	r[1] = 2;
	r[0] = 0xE4;
	assert_int_equal(espat_sntp_parse(r, sizeof(r), nonce, &s, &ms), ESPAT_SNTP_REFUSE);
	r[0] = 0x24;
	memset(r + 40, 0, 8);
	assert_int_equal(espat_sntp_parse(r, sizeof(r), nonce, &s, &ms), ESPAT_SNTP_REFUSE);

	/* eras: 2040 has the top bit clear (RFC 4330 3) */
	espat_ntp_to_unix(espat_ntp_from_unix(2208988800, 0), &s, &ms);
	assert_int_equal(s, 2208988800);
	assert_int_equal((espat_ntp_from_unix(2208988800, 0) >> 32), 0x0754FD00u);
	espat_ntp_to_unix(espat_ntp_from_unix(0, 999), &s, &ms);
	assert_int_equal(s, 0);
	assert_int_equal(ms, 999);
}

static void test_timezones(void **state)
{
	static const struct {
		int64_t v;
		bool ok;
		int32_t min, shown;
	} rows[] = {
		{8, true, 480, 8},        {800, true, 480, 8},      {-5, true, -300, -5},
		{-500, true, -300, -5},   {1245, true, 765, 12},    {530, true, 330, 5},
		{15, true, 15, 0},        /* "015": UTC+00:15, shown 0 (guide note) */
		{-13, true, -13, 0},      {14, true, 840, 14},      {-12, true, -720, -12},
		{1459, true, 899, 14},    {-1259, true, -779, -12}, {0, true, 0, 0},
		{60, false, 0, 0},        {99, false, 0, 0},        {1500, false, 0, 0},
		{-1300, false, 0, 0},     {-1260, false, 0, 0},     {INT64_MIN, false, 0, 0},
		{INT64_MAX, false, 0, 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int32_t min = 1, shown = 1;
		bool ok = espat_sntp_tz_parse(rows[i].v, &min, &shown);
		assert_int_equal(ok, rows[i].ok);
		if (ok) {
			assert_int_equal(min, rows[i].min);
			assert_int_equal(shown, rows[i].shown);
		}
	}
}

static void test_asctime(void **state)
{
	char b[ESPAT_ASCTIME_MAX];
	static const struct {
		int64_t t;
		const char *want;
	} rows[] = {
		{0, "Thu Jan  1 00:00:00 1970"},
		{128, "Thu Jan  1 00:02:08 1970"},
		{-1, "Wed Dec 31 23:59:59 1969"},
		{T_GUIDE + 8 * 3600, "Tue Oct 19 17:47:56 2021"},
		{T_GUIDE + 330 * 60, "Tue Oct 19 15:17:56 2021"},
		{951782400, "Tue Feb 29 00:00:00 2000"},
		{4102444800, "Fri Jan  1 00:00:00 2100"},
		{-2208988800, "Mon Jan  1 00:00:00 1900"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = espat_asctime(b, rows[i].t);
		assert_string_equal(b, rows[i].want);
		assert_int_equal(n, strlen(rows[i].want));
	}
	/* the extremes format without overflow */
	assert_true(espat_asctime(b, INT64_MAX) > 0);
	assert_true(espat_asctime(b, INT64_MIN) > 0);
}

/* ---- mDNS codec -------------------------------------------------------------- */

/* Appends a dotted name (test input, no dots inside labels). */
static size_t put_name(uint8_t *p, const char *dotted)
{
	size_t n = 0;
	const char *s = dotted;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		p[n++] = (uint8_t)l;
		memcpy(p + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

/* A query from id with nq questions; qu sets the unicast-response bit. */
static size_t make_query(uint8_t *p, uint16_t id, const char *const *names,
			 const uint16_t *types, size_t nq, bool qu)
{
	memset(p, 0, 12);
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
	p[5] = (uint8_t)nq;
	size_t n = 12;
	for (size_t i = 0; i < nq; i++) {
		n += put_name(p + n, names[i]);
		p[n++] = (uint8_t)(types[i] >> 8);
		p[n++] = (uint8_t)types[i];
		p[n++] = qu ? 0x80 : 0;
		p[n++] = 1;
	}
	return n;
}

/* One record of a response we built (names uncompressed). */
struct rr {
	char name[256]; /* dotted */
	uint16_t type, cls;
	uint32_t ttl;
	const uint8_t *rd;
	size_t rdlen;
};

static size_t get_name(const uint8_t *p, size_t off, char *out)
{
	size_t o = 0;
	while (p[off]) {
		uint8_t l = p[off];
		assert_true(l < 64);
		if (o)
			out[o++] = '.';
		memcpy(out + o, p + off + 1, l);
		o += l;
		off += 1u + l;
	}
	out[o] = 0;
	return off + 1;
}

struct resp {
	uint16_t id, flags, qd, an, ns, ar;
	struct rr rr[16];
	size_t nrr;
	char q[4][256];
};

static void parse_resp(const uint8_t *p, size_t n, struct resp *r)
{
	assert_true(n >= 12);
	uint16_t h[6];
	for (int i = 0; i < 6; i++)
		h[i] = (uint16_t)(p[2 * i] << 8 | p[2 * i + 1]);
	r->id = h[0];
	r->flags = h[1];
	r->qd = h[2];
	r->an = h[3];
	r->ns = h[4];
	r->ar = h[5];
	size_t off = 12;
	for (size_t i = 0; i < r->qd; i++) {
		off = get_name(p, off, r->q[i < 4 ? i : 3]);
		off += 4;
	}
	r->nrr = (size_t)r->an + r->ar;
	assert_true(r->nrr <= 16);
	for (size_t i = 0; i < r->nrr; i++) {
		struct rr *x = &r->rr[i];
		off = get_name(p, off, x->name);
		x->type = (uint16_t)(p[off] << 8 | p[off + 1]);
		x->cls = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		x->ttl = (uint32_t)p[off + 4] << 24 | (uint32_t)p[off + 5] << 16 |
			 (uint32_t)p[off + 6] << 8 | p[off + 7];
		x->rdlen = (size_t)(p[off + 8] << 8 | p[off + 9]);
		x->rd = p + off + 10;
		off += 10 + x->rdlen;
		assert_true(off <= n);
	}
	assert_int_equal(off, n);
}

static void cfg_example(struct espat_mdns_cfg *c)
{
	/* guide 4.2.13 */
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "espressif");
	snprintf(c->service, sizeof(c->service), "_printer");
	snprintf(c->proto, sizeof(c->proto), "_tcp");
	snprintf(c->instance, sizeof(c->instance), "my_instance");
	c->port = 35;
	c->ip[0] = 127;
	c->ip[3] = 1;
	static const char txt[] = "\x12product=my_printer\x1c"
				  "firmware_version=AT-V3.4.1.0";
	memcpy(c->txt, txt, sizeof(txt) - 1);
	c->txt_len = sizeof(txt) - 1;
}

static void test_mdns_parse(void **state)
{
	struct espat_mdns_query q;
	uint8_t p[512];
	/* two questions, the second compressed against the first */
	size_t n = 12;
	memset(p, 0, 12);
	p[5] = 2;
	n += put_name(p + n, "_printer._tcp.local"); /* at 12 */
	memcpy(p + n, "\x00\x0c\x00\x01", 4);
	n += 4;
	static const uint8_t inst[] = "\x0bmy_instance\xc0\x0c\x00\x21\x80\x01";
	memcpy(p + n, inst, sizeof(inst) - 1);
	n += sizeof(inst) - 1;
	assert_true(espat_mdns_parse(p, n, &q));
	assert_int_equal(q.nq, 2);
	uint8_t want[ESPAT_MDNS_NAME_MAX];
	size_t wl = 0;
	assert_true(espat_mdns_name_add(want, &wl, "my_instance"));
	assert_true(espat_mdns_name_add(want, &wl, "_PRINTER"));
	assert_true(espat_mdns_name_add(want, &wl, "_tcp"));
	assert_true(espat_mdns_name_add(want, &wl, "Local"));
	assert_true(espat_mdns_name_eq(q.q[1].name, q.q[1].name_len, want, wl + 1));
	assert_int_equal(q.q[1].type, ESPAT_DNS_T_SRV);
	assert_true(q.q[1].qu);
	assert_int_equal(q.q[1].cls, 1);
	assert_false(q.q[0].qu);

	/* malformed: truncated, a pointer to itself or forward, a bad label type */
	assert_false(espat_mdns_parse(p, n - 1, &q));
	assert_false(espat_mdns_parse(p, 11, &q));
	uint8_t loop[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
	assert_false(espat_mdns_parse(loop, sizeof(loop), &q));
	uint8_t fwd[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0, 0, 1, 0, 1};
	assert_false(espat_mdns_parse(fwd, sizeof(fwd), &q));
	uint8_t ext[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1};
	assert_false(espat_mdns_parse(ext, sizeof(ext), &q));
	/* a response, or another opcode, is no query */
	uint8_t resp[12] = {0, 0, 0x84, 0};
	assert_false(espat_mdns_parse(resp, sizeof(resp), &q));
	uint8_t op[12] = {0, 0, 0x28, 0};
	assert_false(espat_mdns_parse(op, sizeof(op), &q));
	/* more questions than we keep: read, the rest dropped */
	const char *names[20];
	uint16_t types[20];
	for (int i = 0; i < 20; i++) {
		names[i] = "x.local";
		types[i] = ESPAT_DNS_T_A;
	}
	n = make_query(p, 1, names, types, 20, false);
	assert_true(espat_mdns_parse(p, n, &q));
	assert_int_equal(q.nq, ESPAT_MDNS_QMAX);
	/* labels too long for a name */
	size_t len = 0;
	uint8_t nm[ESPAT_MDNS_NAME_MAX];
	char l63[64];
	memset(l63, 'a', 63);
	l63[63] = 0;
	for (int i = 0; i < 3; i++)
		assert_true(espat_mdns_name_add(nm, &len, l63));
	assert_false(espat_mdns_name_add(nm, &len, l63));
	char l64[65];
	memset(l64, 'a', 64);
	l64[64] = 0;
	len = 0;
	assert_false(espat_mdns_name_add(nm, &len, l64));
	assert_false(espat_mdns_name_add(nm, &len, ""));
}

static const struct rr *find_rr(const struct resp *r, uint16_t type, const char *name)
{
	for (size_t i = 0; i < r->nrr; i++)
		if (r->rr[i].type == type && strcmp(r->rr[i].name, name) == 0)
			return &r->rr[i];
	return NULL;
}

static void test_mdns_answers(void **state)
{
	struct espat_mdns_cfg c;
	cfg_example(&c);
	struct espat_mdns_query q;
	uint8_t p[512], out[ESPAT_MDNS_MSG_MAX];
	struct resp r;

	/* A for the host, case-insensitively; multicast style */
	const char *n1[] = {"ESPRESSIF.local"};
	uint16_t t1[] = {ESPAT_DNS_T_A};
	assert_true(espat_mdns_parse(p, make_query(p, 0x1234, n1, t1, 1, false), &q));
	size_t len = espat_mdns_answer(&c, &q, false, out, sizeof(out));
	parse_resp(out, len, &r);
	assert_int_equal(r.id, 0);
	assert_int_equal(r.flags, 0x8400);
	assert_int_equal(r.qd, 0);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.ar, 0);
	assert_string_equal(r.rr[0].name, "espressif.local");
	assert_int_equal(r.rr[0].type, ESPAT_DNS_T_A);
	assert_int_equal(r.rr[0].cls, 0x8001); /* cache flush */
	assert_int_equal(r.rr[0].ttl, 120);
	assert_int_equal(r.rr[0].rdlen, 4);
	assert_memory_equal(r.rr[0].rd, "\x7f\x00\x00\x01", 4);

	/* AAAA for the host, other names: nothing */
	uint16_t t6[] = {ESPAT_DNS_T_AAAA};
	assert_true(espat_mdns_parse(p, make_query(p, 1, n1, t6, 1, false), &q));
	assert_int_equal(espat_mdns_answer(&c, &q, false, out, sizeof(out)), 0);
	const char *n2[] = {"other.local"};
	assert_true(espat_mdns_parse(p, make_query(p, 1, n2, t1, 1, false), &q));
	assert_int_equal(espat_mdns_answer(&c, &q, false, out, sizeof(out)), 0);

	/* browsing: PTR, with SRV, TXT and A as additional records */
	const char *n3[] = {"_printer._tcp.local"};
	uint16_t t3[] = {ESPAT_DNS_T_PTR};
	assert_true(espat_mdns_parse(p, make_query(p, 1, n3, t3, 1, true), &q));
	len = espat_mdns_answer(&c, &q, false, out, sizeof(out));
	parse_resp(out, len, &r);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.ar, 3);
	const struct rr *ptr = find_rr(&r, ESPAT_DNS_T_PTR, "_printer._tcp.local");
	assert_non_null(ptr);
	assert_int_equal(ptr->cls, 1); /* shared: no cache flush */
	assert_int_equal(ptr->ttl, 4500);
	char target[256];
	get_name(ptr->rd, 0, target);
	assert_string_equal(target, "my_instance._printer._tcp.local");
	const struct rr *srv = find_rr(&r, ESPAT_DNS_T_SRV, "my_instance._printer._tcp.local");
	assert_non_null(srv);
	assert_int_equal(srv->ttl, 120);
	assert_memory_equal(srv->rd, "\0\0\0\0\0\x23", 6);
	get_name(srv->rd, 6, target);
	assert_string_equal(target, "espressif.local");
	const struct rr *txt = find_rr(&r, ESPAT_DNS_T_TXT, "my_instance._printer._tcp.local");
	assert_non_null(txt);
	assert_int_equal(txt->ttl, 4500);
	assert_int_equal(txt->rdlen, c.txt_len);
	assert_memory_equal(txt->rd, c.txt, c.txt_len);
	assert_non_null(find_rr(&r, ESPAT_DNS_T_A, "espressif.local"));

	/* the service enumeration, and ANY for the instance */
	const char *n4[] = {"_services._dns-sd._udp.local", "my_instance._printer._tcp.local"};
	uint16_t t4[] = {ESPAT_DNS_T_PTR, ESPAT_DNS_T_ANY};
	assert_true(espat_mdns_parse(p, make_query(p, 1, n4, t4, 2, false), &q));
	len = espat_mdns_answer(&c, &q, false, out, sizeof(out));
	parse_resp(out, len, &r);
	assert_int_equal(r.an, 3);
	assert_int_equal(r.ar, 1);
	ptr = find_rr(&r, ESPAT_DNS_T_PTR, "_services._dns-sd._udp.local");
	assert_non_null(ptr);
	get_name(ptr->rd, 0, target);
	assert_string_equal(target, "_printer._tcp.local");

	/* a legacy resolver: its ID and questions back, TTLs capped at 10 s,
	 * no cache-flush bits */
	assert_true(espat_mdns_parse(p, make_query(p, 0xBEEF, n3, t3, 1, false), &q));
	len = espat_mdns_answer(&c, &q, true, out, sizeof(out));
	parse_resp(out, len, &r);
	assert_int_equal(r.id, 0xBEEF);
	assert_int_equal(r.qd, 1);
	assert_string_equal(r.q[0], "_printer._tcp.local");
	for (size_t i = 0; i < r.nrr; i++) {
		assert_true(r.rr[i].ttl <= 10);
		assert_int_equal(r.rr[i].cls, 1);
	}

	/* no TXT pairs: one empty string */
	c.txt_len = 0;
	const char *n5[] = {"my_instance._printer._tcp.local"};
	uint16_t t5[] = {ESPAT_DNS_T_TXT};
	assert_true(espat_mdns_parse(p, make_query(p, 1, n5, t5, 1, false), &q));
	len = espat_mdns_answer(&c, &q, false, out, sizeof(out));
	parse_resp(out, len, &r);
	assert_int_equal(r.rr[0].rdlen, 1);
	assert_int_equal(r.rr[0].rd[0], 0);
	/* a buffer too small: nothing rather than half a message */
	assert_int_equal(espat_mdns_answer(&c, &q, false, out, 20), 0);
}

static void test_mdns_announce(void **state)
{
	struct espat_mdns_cfg c;
	cfg_example(&c);
	uint8_t out[ESPAT_MDNS_MSG_MAX];
	struct resp r;
	size_t len = espat_mdns_announce(&c, false, out, sizeof(out));
	parse_resp(out, len, &r);
	assert_int_equal(r.an, 5);
	assert_int_equal(r.ar, 0);
	assert_non_null(find_rr(&r, ESPAT_DNS_T_PTR, "_services._dns-sd._udp.local"));
	assert_non_null(find_rr(&r, ESPAT_DNS_T_PTR, "_printer._tcp.local"));
	assert_non_null(find_rr(&r, ESPAT_DNS_T_SRV, "my_instance._printer._tcp.local"));
	assert_non_null(find_rr(&r, ESPAT_DNS_T_TXT, "my_instance._printer._tcp.local"));
	assert_non_null(find_rr(&r, ESPAT_DNS_T_A, "espressif.local"));
	len = espat_mdns_announce(&c, true, out, sizeof(out));
	parse_resp(out, len, &r);
	for (size_t i = 0; i < r.nrr; i++)
		assert_int_equal(r.rr[i].ttl, 0);

	/* the largest configuration an AT line allows fits one datagram */
	memset(c.host, 'h', ESPAT_MDNS_LABEL_MAX);
	memset(c.service, 's', ESPAT_MDNS_LABEL_MAX);
	memset(c.proto, 'p', ESPAT_MDNS_LABEL_MAX);
	memset(c.instance, 'i', ESPAT_MDNS_LABEL_MAX);
	c.txt_len = ESPAT_LINE_MAX;
	memset(c.txt, 1, c.txt_len);
	assert_true(espat_mdns_announce(&c, false, out, sizeof(out)) > 0);
}

/* ---- the commands --------------------------------------------------------------- */

static struct espat_net_mem *NETM(struct fx *f)
{
	return &f->tp.net;
}

/* Station mode, joined to the default world's "espat" (network = host),
 * and a second for the services to notice. */
static void join(struct fx *f)
{
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	advance(f, ESPAT_SVC_OFFLINE_POLL_MS);
}

static struct espat_mem_udp_peer *udp_peer(struct fx *f, const char *ip, uint16_t port)
{
	struct espat_mem_udp_peer *u =
		espat_net_mem_udp_peer(NETM(f), (struct espat_endpoint){espat_mem_ip(ip), port});
	assert_non_null(u);
	return u;
}

/* from answers the request req (sent to whichever server) with
 * unix_s.ms, to the socket that sent req. */
static void sntp_reply(struct fx *f, struct espat_mem_udp_peer *from,
		       const struct espat_mem_dgram *req, int64_t unix_s, uint32_t ms, uint8_t stratum)
{
	struct espat_mem_udp_peer *srv = from;
	assert_int_equal(req->len, ESPAT_SNTP_PKT);
	assert_int_equal(req->data[0], 0x23);
	uint8_t r[ESPAT_SNTP_PKT] = {0x24, stratum};
	memcpy(r + 24, req->data + 40, 8);
	uint64_t ts = espat_ntp_from_unix(unix_s, ms);
	for (int i = 0; i < 8; i++)
		r[32 + i] = r[40 + i] = (uint8_t)(ts >> (56 - 8 * i));
	assert_int_equal(espat_mem_udp_send(srv, req->from.port, r, sizeof(r)), 0);
	espat_tp_settle(&f->tp, &f->m);
}

/* The SNTP server answers its latest request. */
static void sntp_answer(struct fx *f, struct espat_mem_udp_peer *srv, int64_t unix_s, uint32_t ms,
			uint8_t stratum)
{
	assert_true(srv->n > 0);
	sntp_reply(f, srv, &srv->dgrams[srv->n - 1], unix_s, ms, stratum);
}

/* AT+RST, through to ready, echo off again. */
static void rst(struct fx *f)
{
	cmd(f, "AT+RST\r\n", "\r\nOK\r\n");
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n\r\nOK\r\n");
}

static void expect_time(struct fx *f, const char *asc)
{
	char want[80];
	snprintf(want, sizeof(want), "+CIPSNTPTIME:%s\r\n\r\nOK\r\n", asc);
	cmd(f, "AT+CIPSNTPTIME?\r\n", want);
}

static void test_sntp_config(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CIPSNTPCFG?\r\n",
	    "+CIPSNTPCFG:0,0,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\",\"us.pool.ntp.org\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPINTV?\r\n", "+CIPSNTPINTV:3600\r\n\r\nOK\r\n");
	/* the guide's examples (3.3.20) and what the query shows */
	cmd(f, "AT+CIPSNTPCFG=1,8,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n",
	    "+CIPSNTPCFG:1,8,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG=1,800,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG=1,-5,\"0.pool.ntp.org\",\"time.google.com\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG=1,-500,\"0.pool.ntp.org\",\"time.google.com\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n",
	    "+CIPSNTPCFG:1,-5,\"0.pool.ntp.org\",\"time.google.com\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG=1,1245,\"0.pool.ntp.org\",\"time.google.com\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n",
	    "+CIPSNTPCFG:1,12,\"0.pool.ntp.org\",\"time.google.com\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG=1,015\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n",
	    "+CIPSNTPCFG:1,0,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\",\"us.pool.ntp.org\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG=0,-3,\"a\",\"b\",\"c\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n", "+CIPSNTPCFG:0,-3,\"a\",\"b\",\"c\"\r\n\r\nOK\r\n");
	/* bad input changes nothing */
	static const char *const bad[] = {
		"AT+CIPSNTPCFG=1,60\r\n",      "AT+CIPSNTPCFG=1,1500\r\n",
		"AT+CIPSNTPCFG=1,-1300\r\n",   "AT+CIPSNTPCFG=2,8\r\n",
		"AT+CIPSNTPCFG=1\r\n",         "AT+CIPSNTPCFG=1,8,\"\"\r\n",
		"AT+CIPSNTPCFG=1,8,,\"b\"\r\n", "AT+CIPSNTPCFG=1,8,\"a\",\"b\",\"c\",\"d\"\r\n",
		"AT+CIPSNTPCFG=1,\"8\"\r\n",   "AT+CIPSNTPCFG=1,8,1\r\n",
		"AT+CIPSNTPINTV=14\r\n",       "AT+CIPSNTPINTV=4294968\r\n",
		"AT+CIPSNTPTIME=1\r\n",        "AT+CIPSNTPINTV\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cmd(f, bad[i], "\r\nERROR\r\n");
	char longname[120];
	snprintf(longname, sizeof(longname), "AT+CIPSNTPCFG=1,8,\"%065d\"\r\n", 0);
	cmd(f, longname, "\r\nERROR\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n", "+CIPSNTPCFG:0,-3,\"a\",\"b\",\"c\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPINTV=15\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPINTV=4294967\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPINTV?\r\n", "+CIPSNTPINTV:4294967\r\n\r\nOK\r\n");
	/* RAM only: a restart brings the defaults back */
	rst(f);
	cmd(f, "AT+CIPSNTPINTV?\r\n", "+CIPSNTPINTV:3600\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG?\r\n",
	    "+CIPSNTPCFG:0,0,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\",\"us.pool.ntp.org\"\r\n\r\nOK\r\n");
	assert_int_equal(NETM(f)->dns_queries, 0);
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
}

static void test_sntp_sync(void **state)
{
	struct fx *f = *state;
	NETM(f)->dns_ms = 20;
	struct espat_mem_udp_peer *srv = udp_peer(f, "10.0.0.123", 123);
	espat_net_mem_dns_add(NETM(f), "ntp.test", espat_mem_ip("10.0.0.123"));
	/* before any sync the RTC shows what AT+SYSTIMESTAMP set */
	cmd(f, "AT+SYSTIMESTAMP=128\r\n", "\r\nOK\r\n");
	expect_time(f, "Thu Jan  1 00:02:08 1970");
	/* offline: configured, nothing sent */
	cmd(f, "AT+CIPSNTPCFG=1,8,\"ntp.test\"\r\n", "\r\nOK\r\n");
	expect_time(f, "Thu Jan  1 08:02:08 1970");
	advance(f, 5000);
	expect(f, "");
	assert_int_equal(NETM(f)->dns_queries, 0);
	assert_int_equal(srv->n, 0);
	join(f);
	assert_int_equal(NETM(f)->dns_queries, 1);
	assert_string_equal(NETM(f)->dns_last.name, "ntp.test");
	assert_int_equal(NETM(f)->dns_last.family, ESPAT_DNS_V4_ONLY);
	advance(f, NETM(f)->dns_ms);
	assert_int_equal(srv->n, 1);
	expect(f, "");
	/* a stranger's datagram and a wrong nonce are ignored */
	struct espat_mem_udp_peer *other = udp_peer(f, "10.0.0.99", 123);
	uint8_t junk[ESPAT_SNTP_PKT] = {0x24, 1};
	assert_int_equal(espat_mem_udp_send(other, srv->dgrams[0].from.port, junk, sizeof(junk)), 0);
	espat_tp_settle(&f->tp, &f->m);
	expect(f, "");
	/* the answer sets the RTC: +TIME_UPDATED, then local time at UTC+8 */
	sntp_answer(f, srv, T_GUIDE, 0, 2);
	expect(f, "+TIME_UPDATED\r\n");
	expect_time(f, "Tue Oct 19 17:47:56 2021");
	char ts[64];
	snprintf(ts, sizeof(ts), "+SYSTIMESTAMP:%d\r\n\r\nOK\r\n", T_GUIDE);
	cmd(f, "AT+SYSTIMESTAMP?\r\n", ts);
	advance(f, 999);
	expect_time(f, "Tue Oct 19 17:47:56 2021");
	advance(f, 1);
	expect_time(f, "Tue Oct 19 17:47:57 2021");
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0); /* closed after the reply */
	/* a new time zone shows at once (guide example 2: UTC+05:30) */
	cmd(f, "AT+CIPSNTPCFG=1,530,\"ntp.test\"\r\n", "\r\nOK\r\n");
	expect_time(f, "Tue Oct 19 15:17:57 2021");
	advance(f, NETM(f)->dns_ms);
	assert_int_equal(srv->n, 2);
	sntp_answer(f, srv, T_GUIDE + 100, 250, 3);
	expect(f, "+TIME_UPDATED\r\n");
	advance(f, 749);
	expect_time(f, "Tue Oct 19 15:19:36 2021");
	advance(f, 1);
	expect_time(f, "Tue Oct 19 15:19:37 2021");
	/* the next sync comes after AT+CIPSNTPINTV; shortening it counts from
	 * the last sync */
	advance(f, 10000);
	assert_int_equal(srv->n, 2);
	cmd(f, "AT+CIPSNTPINTV=15\r\n", "\r\nOK\r\n");
	advance(f, 4250 + NETM(f)->dns_ms - 1);
	assert_int_equal(srv->n, 2);
	advance(f, 1);
	assert_int_equal(srv->n, 3);
	sntp_answer(f, srv, T_GUIDE + 200, 0, 2);
	expect(f, "+TIME_UPDATED\r\n");
	advance(f, 15000 + NETM(f)->dns_ms);
	assert_int_equal(srv->n, 4);
	/* disabling stops it all */
	cmd(f, "AT+CIPSNTPCFG=0,8\r\n", "\r\nOK\r\n");
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
	advance(f, 60000);
	assert_int_equal(srv->n, 4);
	expect(f, "");
}

static void test_sntp_failover(void **state)
{
	struct fx *f = *state;
	NETM(f)->dns_ms = 20;
	struct espat_mem_udp_peer *s2 = udp_peer(f, "10.0.0.2", 123);
	struct espat_mem_udp_peer *s3 = udp_peer(f, "10.0.0.3", 123);
	espat_net_mem_dns_fail(NETM(f), "gone.test", ESPAT_NET_ENOTFOUND);
	join(f);
	/* server 1 does not resolve, server 2 stays silent, server 3 answers */
	cmd(f, "AT+CIPSNTPCFG=1,0,\"gone.test\",\"10.0.0.2\",\"10.0.0.3\"\r\n", "\r\nOK\r\n");
	advance(f, NETM(f)->dns_ms);
	assert_int_equal(s2->n, 1);
	assert_int_equal(s3->n, 0);
	advance(f, ESPAT_SNTP_RECV_MS - 1);
	assert_int_equal(s3->n, 0);
	advance(f, 1);
	assert_int_equal(s3->n, 1);
	/* server 2 answering the request meant for server 3 does not count */
	sntp_reply(f, s2, &s3->dgrams[0], 1000, 0, 1);
	expect(f, "");
	/* server 3 sends a kiss-o'-death: the round is over, a pause, then
	 * server 1 (no name) and 2 again */
	sntp_answer(f, s3, 0, 0, 0);
	expect(f, "");
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
	advance(f, ESPAT_SNTP_RETRY_MS + NETM(f)->dns_ms - 1);
	assert_int_equal(s2->n, 1);
	advance(f, 1);
	assert_int_equal(s2->n, 2);
	sntp_answer(f, s2, 2000000000, 0, 1);
	expect(f, "+TIME_UPDATED\r\n");
	expect_time(f, "Wed May 18 03:33:20 2033");

	/* every server fails: a pause of ESPAT_SNTP_RETRY_MS, then again */
	espat_net_mem_blackhole(NETM(f), espat_mem_ip("10.0.0.9"));
	cmd(f, "AT+CIPSNTPCFG=1,0,\"10.0.0.9\"\r\n", "\r\nOK\r\n");
	unsigned dns = NETM(f)->dns_queries;
	advance(f, ESPAT_SNTP_RECV_MS + ESPAT_SNTP_RETRY_MS - 1);
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
	advance(f, 1);
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 1);
	assert_int_equal(NETM(f)->dns_queries, dns);
	/* losing the network: a round fails, then it waits for the network */
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	advance(f, 2 * (ESPAT_SNTP_RECV_MS + ESPAT_SNTP_RETRY_MS));
	espat_tp_clear(&f->tp);
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
	/* the RTC kept the synced time */
	send(f, "AT+SYSTIMESTAMP?\r\n");
	assert_non_null(strstr(espat_tp_out(&f->tp), "+SYSTIMESTAMP:2000"));
	espat_tp_clear(&f->tp);
}

static void test_ping(void **state)
{
	struct fx *f = *state;
	NETM(f)->dns_ms = 20;
	espat_net_mem_ping_host(NETM(f), espat_mem_ip("10.0.0.5"), 12);
	espat_net_mem_dns_add(NETM(f), "host.test", espat_mem_ip("10.0.0.5"));
	espat_net_mem_dns_fail(NETM(f), "nx.test", ESPAT_NET_ENOTFOUND);
	/* offline: the failure answer at once */
	cmd(f, "AT+PING=\"10.0.0.5\"\r\n", "+PING:TIMEOUT\r\n\r\nERROR\r\n");
	assert_int_equal(NETM(f)->pings, 0);
	join(f);
	cmd(f, "AT+PING=\"10.0.0.5\"\r\n", "");
	cmd(f, "AT\r\n", "busy p...\r\n");
	advance(f, 11);
	expect(f, "");
	advance(f, 1);
	expect(f, "+PING:12\r\n\r\nOK\r\n");
	/* a name: IPv4 only, IPv4 first under AT+CIPV6=1 */
	cmd(f, "AT+PING=\"host.test\"\r\n", "");
	advance(f, NETM(f)->dns_ms + 12);
	expect(f, "+PING:12\r\n\r\nOK\r\n");
	assert_int_equal(NETM(f)->dns_last.family, ESPAT_DNS_V4_ONLY);
	cmd(f, "AT+PING=\"fe80::1\"\r\n", "+PING:TIMEOUT\r\n\r\nERROR\r\n");
	cmd(f, "AT+CIPV6=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+PING=\"host.test\"\r\n", "");
	advance(f, NETM(f)->dns_ms + 12);
	expect(f, "+PING:12\r\n\r\nOK\r\n");
	assert_int_equal(NETM(f)->dns_last.family, ESPAT_DNS_PREFER_V4);
	cmd(f, "AT+CIPV6=0\r\n", "\r\nOK\r\n");
	/* no answer within ESPAT_PING_TIMEOUT_MS */
	cmd(f, "AT+PING=\"10.0.0.6\"\r\n", "");
	advance(f, ESPAT_PING_TIMEOUT_MS - 1);
	expect(f, "");
	advance(f, 1);
	expect(f, "+PING:TIMEOUT\r\n\r\nERROR\r\n");
	/* a name that does not resolve */
	cmd(f, "AT+PING=\"nx.test\"\r\n", "");
	advance(f, NETM(f)->dns_ms);
	expect(f, "+PING:TIMEOUT\r\n\r\nERROR\r\n");
	/* bad arguments */
	cmd(f, "AT+PING=\"\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+PING=1\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+PING\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+PING?\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+PING=\"a\",\"b\"\r\n", "\r\nERROR\r\n");
	/* a restart during a ping cancels it */
	cmd(f, "AT+PING=\"10.0.0.6\"\r\n", "");
	espat_module_restart(&f->m, 10);
	advance(f, ESPAT_PING_TIMEOUT_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n\r\nOK\r\n");
}

/* An mDNS peer on the multicast group records what the module multicasts. */
static struct espat_mem_udp_peer *mdns_group(struct fx *f)
{
	return udp_peer(f, "224.0.0.251", 5353);
}

static void test_mdns(void **state)
{
	struct fx *f = *state;
	struct espat_mem_udp_peer *grp = mdns_group(f);
	/* offline: accepted, nothing on the air yet */
	cmd(f, "AT+MDNS=1,\"espressif\",\"_printer\",35,\"my_instance\",\"_tcp\",2,\"product\","
	       "\"my_printer\",\"firmware_version\",\"AT-V3.4.1.0\"\r\n",
	    "\r\nOK\r\n");
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
	/* a second enable is refused; disable first */
	cmd(f, "AT+MDNS=1,\"x\",\"_iot\",1\r\n", "\r\nERROR\r\n");
	join(f);
	advance(f, 1500);
	/* two announcements a second apart */
	assert_int_equal(grp->n, 2);
	struct resp r;
	parse_resp(grp->dgrams[0].data, grp->dgrams[0].len, &r);
	assert_int_equal(r.an, 5);
	assert_int_equal(grp->dgrams[0].from.port, 5353);
	const struct rr *txt = find_rr(&r, ESPAT_DNS_T_TXT, "my_instance._printer._tcp.local");
	assert_non_null(txt);
	assert_memory_equal(txt->rd, "\x12product=my_printer\x1c"
				     "firmware_version=AT-V3.4.1.0",
			    txt->rdlen);
	/* a query from port 5353: answered on the group */
	struct espat_mem_udp_peer *q = udp_peer(f, "192.168.3.50", 5353);
	uint8_t p[256];
	const char *n1[] = {"espressif.local"};
	uint16_t t1[] = {ESPAT_DNS_T_A};
	size_t len = make_query(p, 7, n1, t1, 1, false);
	assert_int_equal(espat_mem_udp_send(q, 5353, p, len), 0);
	espat_tp_settle(&f->tp, &f->m);
	assert_int_equal(grp->n, 3);
	assert_int_equal(q->n, 0);
	parse_resp(grp->dgrams[2].data, grp->dgrams[2].len, &r);
	assert_int_equal(r.an, 1);
	assert_memory_equal(r.rr[0].rd, "\x7f\x00\x00\x01", 4);
	/* a legacy query (another port): unicast, with its ID */
	struct espat_mem_udp_peer *legacy = udp_peer(f, "192.168.3.50", 40000);
	const char *n2[] = {"_printer._tcp.local"};
	uint16_t t2[] = {ESPAT_DNS_T_PTR};
	len = make_query(p, 0x4242, n2, t2, 1, false);
	assert_int_equal(espat_mem_udp_send(legacy, 5353, p, len), 0);
	espat_tp_settle(&f->tp, &f->m);
	assert_int_equal(legacy->n, 1);
	assert_int_equal(grp->n, 3);
	parse_resp(legacy->dgrams[0].data, legacy->dgrams[0].len, &r);
	assert_int_equal(r.id, 0x4242);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.ar, 3);
	/* junk and our own multicast coming back are ignored */
	assert_int_equal(espat_mem_udp_send(q, 5353, "junk", 4), 0);
	assert_int_equal(espat_mem_udp_send(q, 5353, grp->dgrams[0].data, grp->dgrams[0].len), 0);
	espat_tp_settle(&f->tp, &f->m);
	assert_int_equal(grp->n, 3);
	/* disable: goodbye (TTL 0), the socket closes */
	cmd(f, "AT+MDNS=0\r\n", "\r\nOK\r\n");
	assert_int_equal(grp->n, 4);
	parse_resp(grp->dgrams[3].data, grp->dgrams[3].len, &r);
	assert_int_equal(r.an, 5);
	for (size_t i = 0; i < r.nrr; i++)
		assert_int_equal(r.rr[i].ttl, 0);
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
	cmd(f, "AT+MDNS=0\r\n", "\r\nOK\r\n");
	/* the guide's short example: instance = hostname, proto _tcp, empty TXT */
	cmd(f, "AT+MDNS=1,\"espressif\",\"_iot\",8080\r\n", "\r\nOK\r\n");
	assert_int_equal(grp->n, 5);
	parse_resp(grp->dgrams[4].data, grp->dgrams[4].len, &r);
	const struct rr *srv = find_rr(&r, ESPAT_DNS_T_SRV, "espressif._iot._tcp.local");
	assert_non_null(srv);
	assert_memory_equal(srv->rd, "\0\0\0\0\x1f\x90", 6);
	txt = find_rr(&r, ESPAT_DNS_T_TXT, "espressif._iot._tcp.local");
	assert_non_null(txt);
	assert_int_equal(txt->rdlen, 1);
	/* offline, queries go unanswered */
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	advance(f, 2000); /* the second announcement is not sent offline */
	assert_int_equal(grp->n, 5);
	len = make_query(p, 7, n1, t1, 1, false);
	assert_int_equal(espat_mem_udp_send(q, 5353, p, len), 0);
	espat_tp_settle(&f->tp, &f->m);
	assert_int_equal(grp->n, 5);
	/* back on the network: announced again (found by the offline poll) */
	join(f);
	advance(f, 1500);
	assert_int_equal(grp->n, 7);
	/* the same through the module's network event, whether it is wired or not */
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	espat_module_emit(&f->m, ESPAT_EV_NET_CHANGED);
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	espat_module_emit(&f->m, ESPAT_EV_NET_CHANGED);
	advance(f, 1500);
	assert_int_equal(grp->n, 9);
	/* a restart drops the responder without a goodbye */
	rst(f);
	assert_int_equal(grp->n, 9);
	assert_int_equal(espat_net_mem_open_socks(NETM(f)), 0);
}

static void test_mdns_args(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"AT+MDNS=1\r\n",
		"AT+MDNS=1,\"h\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",0\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",65536\r\n",
		"AT+MDNS=1,\"\",\"_iot\",80\r\n",
		"AT+MDNS=1,\"h\",\"\",80\r\n",
		"AT+MDNS=1,,\"_iot\",80\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,,\"\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",1\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",1,\"k\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",1,\"k\",\"v\",\"k2\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",0\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",11\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",1,\"\",\"v\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",1,\"a=b\",\"v\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",1,1,\"v\"\r\n",
		"AT+MDNS=1,\"h\",\"_iot\",80,\"i\",\"_tcp\",,\"k\",\"v\"\r\n",
		"AT+MDNS=0,\"h\"\r\n",
		"AT+MDNS=2\r\n",
		"AT+MDNS\r\n",
		"AT+MDNS?\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cmd(f, bad[i], "\r\nERROR\r\n");
	char line[200];
	snprintf(line, sizeof(line), "AT+MDNS=1,\"%064d\",\"_iot\",80\r\n", 0);
	cmd(f, line, "\r\nERROR\r\n");
	/* the largest label, an empty value, _udp */
	snprintf(line, sizeof(line),
		 "AT+MDNS=1,\"%063d\",\"_iot\",80,\"inst\",\"_udp\",2,\"k\",\"\",\"k2\",\"v\"\r\n", 0);
	cmd(f, line, "\r\nOK\r\n");
	cmd(f, "AT+MDNS=0\r\n", "\r\nOK\r\n");
}

/* A module whose net port is empty answers ERROR rather than OK for work it
 * cannot do. */
static void test_no_net(void **state)
{
	struct fx *f = *state;
	espat_module_free(&f->m);
	struct espat_ports ports = f->tp.ports;
	memset(&ports.net, 0, sizeof(ports.net));
	espat_module_init(&f->m, &ports, NULL);
	espat_module_power_on(&f->m);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n\r\nOK\r\n");
	cmd(f, "AT+CIPSNTPCFG=1,8\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSNTPCFG=0,8\r\n", "\r\nOK\r\n");
	cmd(f, "AT+PING=\"127.0.0.1\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+MDNS=1,\"h\",\"_iot\",80\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+MDNS=0\r\n", "\r\nOK\r\n");
	send(f, "AT+CIPSNTPTIME?\r\n");
	assert_non_null(strstr(espat_tp_out(&f->tp), "+CIPSNTPTIME:"));
	espat_tp_clear(&f->tp);
}

static int svc_teardown(void **state)
{
	struct fx *f = *state;
	espat_module_free(&f->m);
	/* the module left no socket behind */
	assert_int_equal(espat_net_mem_open_socks(&f->tp.net), 0);
	espat_tp_free(&f->tp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sntp_codec),
		cmocka_unit_test(test_timezones),
		cmocka_unit_test(test_asctime),
		cmocka_unit_test(test_mdns_parse),
		cmocka_unit_test(test_mdns_answers),
		cmocka_unit_test(test_mdns_announce),
		cmocka_unit_test_setup_teardown(test_sntp_config, fx_setup, svc_teardown),
		cmocka_unit_test_setup_teardown(test_sntp_sync, fx_setup, svc_teardown),
		cmocka_unit_test_setup_teardown(test_sntp_failover, fx_setup, svc_teardown),
		cmocka_unit_test_setup_teardown(test_ping, fx_setup, svc_teardown),
		cmocka_unit_test_setup_teardown(test_mdns, fx_setup, svc_teardown),
		cmocka_unit_test_setup_teardown(test_mdns_args, fx_setup, svc_teardown),
		cmocka_unit_test_setup_teardown(test_no_net, fx_setup, svc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
