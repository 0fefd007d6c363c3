#include "proto/mdns.h"

#include <string.h>

/* TTLs of ESP-IDF's mdns component (MDNS_ANSWER_*_TTL). */
#define TTL_PTR 4500u
#define TTL_TXT 4500u
#define TTL_SRV 120u
#define TTL_A 120u
#define TTL_LEGACY_MAX 10u /* RFC 6762 6.7 */

#define CLASS_FLUSH 0x8000u /* cache-flush bit of a record's class (RFC 6762 10.2) */
#define CLASS_QU 0x8000u    /* unicast-response bit of a question's class (5.4) */
#define FLAGS_RESPONSE 0x8400u /* QR and AA */
#define PTR_HOPS_MAX 32     /* compression pointers followed in one name */

/* The records a response can hold, as bits. */
enum rec {
	REC_PTR_ENUM = 1u << 0, /* _services._dns-sd._udp.local -> service type */
	REC_PTR = 1u << 1,      /* service type -> instance */
	REC_SRV = 1u << 2,
	REC_TXT = 1u << 3,
	REC_A = 1u << 4,
	REC_ALL = (1u << 5) - 1,
};

/* ---- reading ------------------------------------------------------------------ */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads the name at *off into name (uncompressed wire format) and moves
 * *off past it. Pointers must point backwards, so every name ends. */
static bool read_name(const uint8_t *p, size_t n, size_t *off, uint8_t name[ESPAT_MDNS_NAME_MAX],
		      size_t *name_len)
{
	size_t pos = *off, len = 0;
	bool jumped = false;
	for (unsigned hops = 0;;) {
		if (pos >= n)
			return false;
		uint8_t l = p[pos];
		if ((l & 0xC0) == 0xC0) {
			if (pos + 1 >= n || ++hops > PTR_HOPS_MAX)
				return false;
			size_t to = (size_t)(l & 0x3F) << 8 | p[pos + 1];
			if (to >= pos)
				return false;
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			pos = to;
			continue;
		}
		if (l & 0xC0) /* 0x40 and 0x80: extended label types, unused */
			return false;
		if (pos + 1 + l > n || len + 1 + l > ESPAT_MDNS_NAME_MAX)
			return false;
		memcpy(name + len, p + pos, 1u + l);
		len += 1u + l;
		pos += 1u + l;
		if (l == 0) {
			if (!jumped)
				*off = pos;
			*name_len = len;
			return true;
		}
	}
}

bool espat_mdns_parse(const uint8_t *p, size_t n, struct espat_mdns_query *out)
{
	if (n < 12)
		return false;
	out->id = get16(p);
	out->flags = get16(p + 2);
	/* QR 0, opcode 0 (RFC 6762 18.3), rcode 0 (18.11) */
	if (out->flags & 0x8000u || (out->flags >> 11 & 0xF) != 0 || (out->flags & 0xF) != 0)
		return false;
	size_t qd = get16(p + 4), off = 12;
	out->nq = 0;
	for (size_t i = 0; i < qd; i++) {
		/* past ESPAT_MDNS_QMAX: read to stay in step, then drop */
		struct espat_mdns_q skip;
		struct espat_mdns_q *q = out->nq < ESPAT_MDNS_QMAX ? &out->q[out->nq] : &skip;
		if (!read_name(p, n, &off, q->name, &q->name_len) || off + 4 > n)
			return false;
		q->type = get16(p + off);
		uint16_t cls = get16(p + off + 2);
		q->qu = (cls & CLASS_QU) != 0;
		q->cls = cls & (uint16_t)~CLASS_QU;
		off += 4;
		if (q != &skip)
			out->nq++;
	}
	return true;
}

/* ---- names --------------------------------------------------------------------- */

bool espat_mdns_name_add(uint8_t name[ESPAT_MDNS_NAME_MAX], size_t *len, const char *text)
{
	size_t l = strlen(text);
	/* room for this label and the root label that ends the name */
	if (l == 0 || l > ESPAT_MDNS_LABEL_MAX || *len + 1 + l + 1 > ESPAT_MDNS_NAME_MAX)
		return false;
	name[*len] = (uint8_t)l;
	memcpy(name + *len + 1, text, l);
	*len += 1 + l;
	name[*len] = 0;
	return true;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

bool espat_mdns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	/* Length bytes are at most 63, below 'A', so lowering them is harmless. */
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* A name of up to four labels then "local", in wire format with the root
 * label; 0 when it does not fit. */
static size_t make_name(uint8_t name[ESPAT_MDNS_NAME_MAX], const char *l0, const char *l1,
			const char *l2)
{
	size_t len = 0;
	const char *ls[] = {l0, l1, l2, "local"};
	for (size_t i = 0; i < 4; i++)
		if (ls[i] && !espat_mdns_name_add(name, &len, ls[i]))
			return 0;
	return len + 1;
}

/* The names of a configuration, built once per message. */
struct names {
	uint8_t host[ESPAT_MDNS_NAME_MAX], type[ESPAT_MDNS_NAME_MAX],
		inst[ESPAT_MDNS_NAME_MAX], dnssd[ESPAT_MDNS_NAME_MAX];
	size_t host_len, type_len, inst_len, dnssd_len;
};

static bool make_names(const struct espat_mdns_cfg *c, struct names *nm)
{
	nm->host_len = make_name(nm->host, c->host, NULL, NULL);
	nm->type_len = make_name(nm->type, c->service, c->proto, NULL);
	nm->inst_len = make_name(nm->inst, c->instance, c->service, c->proto);
	nm->dnssd_len = make_name(nm->dnssd, "_services", "_dns-sd", "_udp");
	return nm->host_len && nm->type_len && nm->inst_len && nm->dnssd_len;
}

/* ---- writing ------------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t cap, len;
	bool full; /* something did not fit: the message is dropped */
};

static void put(struct wbuf *w, const void *src, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put16(struct wbuf *w, uint32_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 2);
}

static void put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 4);
}

/* How a message's records are written. */
struct style {
	bool legacy;  /* unicast reply to a legacy resolver */
	bool goodbye; /* TTL 0 */
};

static uint32_t ttl_of(const struct style *st, uint32_t ttl)
{
	if (st->goodbye)
		return 0;
	return st->legacy && ttl > TTL_LEGACY_MAX ? TTL_LEGACY_MAX : ttl;
}

/* Record header: name, type, class (cache-flush for unique records in
 * multicast messages), TTL; rdata follows with its length. */
static void put_rr(struct wbuf *w, const struct style *st, const uint8_t *name, size_t name_len,
		   uint16_t type, bool unique, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	put(w, name, name_len);
	put16(w, type);
	put16(w, ESPAT_DNS_C_IN | (unique && !st->legacy ? CLASS_FLUSH : 0u));
	put32(w, ttl_of(st, ttl));
	put16(w, (uint32_t)rdlen);
	put(w, rdata, rdlen);
}

static void put_record(struct wbuf *w, const struct style *st, const struct espat_mdns_cfg *c,
		       const struct names *nm, enum rec r)
{
	uint8_t rd[6 + ESPAT_MDNS_NAME_MAX];
	switch (r) {
	case REC_PTR_ENUM:
		put_rr(w, st, nm->dnssd, nm->dnssd_len, ESPAT_DNS_T_PTR, false, TTL_PTR, nm->type,
		       nm->type_len);
		break;
	case REC_PTR:
		put_rr(w, st, nm->type, nm->type_len, ESPAT_DNS_T_PTR, false, TTL_PTR, nm->inst,
		       nm->inst_len);
		break;
	case REC_SRV:
		/* priority 0, weight 0, port, target (RFC 2782) */
		memset(rd, 0, 4);
		rd[4] = (uint8_t)(c->port >> 8);
		rd[5] = (uint8_t)c->port;
		memcpy(rd + 6, nm->host, nm->host_len);
		put_rr(w, st, nm->inst, nm->inst_len, ESPAT_DNS_T_SRV, true, TTL_SRV, rd,
		       6 + nm->host_len);
		break;
	case REC_TXT: {
		static const uint8_t empty[1] = {0}; /* RFC 6763 6.1: one empty string */
		put_rr(w, st, nm->inst, nm->inst_len, ESPAT_DNS_T_TXT, true, TTL_TXT,
		       c->txt_len ? c->txt : empty, c->txt_len ? c->txt_len : 1);
		break;
	}
	case REC_A:
		put_rr(w, st, nm->host, nm->host_len, ESPAT_DNS_T_A, true, TTL_A, c->ip, 4);
		break;
	case REC_ALL:
		break;
	}
}

static size_t count(unsigned set)
{
	size_t n = 0;
	for (; set; set &= set - 1)
		n++;
	return n;
}

/* Header, the questions (legacy replies only), then the answer and
 * additional sections. */
static size_t build(const struct espat_mdns_cfg *c, const struct names *nm,
		    const struct style *st, const struct espat_mdns_query *q, unsigned ans,
		    unsigned add, uint8_t *out, size_t cap)
{
	struct wbuf w = {.p = out, .cap = cap};
	size_t nq = st->legacy && q ? q->nq : 0;
	put16(&w, st->legacy && q ? q->id : 0);
	put16(&w, FLAGS_RESPONSE);
	put16(&w, (uint32_t)nq);
	put16(&w, (uint32_t)count(ans));
	put16(&w, 0);
	put16(&w, (uint32_t)count(add));
	for (size_t i = 0; i < nq; i++) {
		put(&w, q->q[i].name, q->q[i].name_len);
		put16(&w, q->q[i].type);
		put16(&w, q->q[i].cls);
	}
	for (unsigned r = 1; r < REC_ALL; r <<= 1)
		if (ans & r)
			put_record(&w, st, c, nm, (enum rec)r);
	for (unsigned r = 1; r < REC_ALL; r <<= 1)
		if (add & r)
			put_record(&w, st, c, nm, (enum rec)r);
	return w.full ? 0 : w.len;
}

static bool type_is(uint16_t t, uint16_t want)
{
	return t == want || t == ESPAT_DNS_T_ANY;
}

size_t espat_mdns_answer(const struct espat_mdns_cfg *c, const struct espat_mdns_query *q,
			 bool legacy, uint8_t *out, size_t cap)
{
	struct names nm;
	if (!make_names(c, &nm))
		return 0;
	unsigned ans = 0, add = 0;
	for (size_t i = 0; i < q->nq; i++) {
		const struct espat_mdns_q *x = &q->q[i];
		if (x->cls != ESPAT_DNS_C_IN && x->cls != ESPAT_DNS_C_ANY)
			continue;
		if (espat_mdns_name_eq(x->name, x->name_len, nm.host, nm.host_len)) {
			if (type_is(x->type, ESPAT_DNS_T_A))
				ans |= REC_A;
		} else if (espat_mdns_name_eq(x->name, x->name_len, nm.dnssd, nm.dnssd_len)) {
			if (type_is(x->type, ESPAT_DNS_T_PTR))
				ans |= REC_PTR_ENUM;
		} else if (espat_mdns_name_eq(x->name, x->name_len, nm.type, nm.type_len)) {
			if (type_is(x->type, ESPAT_DNS_T_PTR)) {
				/* RFC 6763 12.1: SRV, TXT and the address come along */
				ans |= REC_PTR;
				add |= REC_SRV | REC_TXT | REC_A;
			}
		} else if (espat_mdns_name_eq(x->name, x->name_len, nm.inst, nm.inst_len)) {
			if (type_is(x->type, ESPAT_DNS_T_SRV)) {
				ans |= REC_SRV;
				add |= REC_A; /* 12.2 */
			}
			if (type_is(x->type, ESPAT_DNS_T_TXT))
				ans |= REC_TXT;
		}
	}
	if (!ans)
		return 0;
	struct style st = {.legacy = legacy};
	return build(c, &nm, &st, q, ans, add & ~ans, out, cap);
}

size_t espat_mdns_announce(const struct espat_mdns_cfg *c, bool goodbye, uint8_t *out, size_t cap)
{
	struct names nm;
	if (!make_names(c, &nm))
		return 0;
	struct style st = {.goodbye = goodbye};
	return build(c, &nm, &st, NULL, REC_ALL, 0, out, cap);
}
