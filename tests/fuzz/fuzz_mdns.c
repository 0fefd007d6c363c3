/* libFuzzer target: the mDNS codec (proto/mdns.c) on arbitrary datagrams.
 * The first byte picks how the responder answers (legacy unicast or
 * multicast, a tight output buffer), the second the length of its host
 * label (so names near the 255-byte limit are built); the rest is the
 * datagram. Checks: a parsed query holds well-formed names; every
 * response (and the announcement) is a well-formed DNS message that fills
 * exactly what was returned, within the buffer, with the legacy rules
 * (query ID echoed, TTLs at most 10 s) where they apply. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mdns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An uncompressed wire-format name: labels of 1..63 bytes, then the root
 * label as its last byte. */
static void check_name(const uint8_t *name, size_t len)
{
	CHECK(len >= 1 && len <= ESPAT_MDNS_NAME_MAX);
	size_t pos = 0;
	while (name[pos] != 0) {
		CHECK(name[pos] <= ESPAT_MDNS_LABEL_MAX);
		pos += 1u + name[pos];
		CHECK(pos < len);
	}
	CHECK(pos == len - 1);
	CHECK(espat_mdns_name_eq(name, len, name, len));
}

/* Walks an uncompressed name in a message from *off; false past the end. */
static bool skip_name(const uint8_t *p, size_t n, size_t *off)
{
	size_t start = *off;
	while (*off < n) {
		uint8_t l = p[*off];
		CHECK(l <= ESPAT_MDNS_LABEL_MAX); /* we never compress or extend */
		*off += 1u + l;
		if (l == 0) {
			CHECK(*off - start <= ESPAT_MDNS_NAME_MAX);
			return true;
		}
	}
	return false;
}

/* A response we built: header, questions, records, nothing left over. */
static void check_response(const uint8_t *p, size_t n, bool legacy,
                           const struct espat_mdns_query *q)
{
	CHECK(n >= 12 && n <= ESPAT_MDNS_MSG_MAX);
	CHECK(get16(p + 2) == 0x8400); /* QR + AA, opcode 0, rcode 0 */
	CHECK(get16(p) == (legacy && q ? q->id : 0));
	size_t qd = get16(p + 4), an = get16(p + 6), ns = get16(p + 8), ar = get16(p + 10);
	CHECK(ns == 0 && an + ar >= 1 && an + ar <= 5);
	CHECK(qd == (legacy && q ? q->nq : 0));
	size_t off = 12;
	for (size_t i = 0; i < qd; i++) {
		CHECK(skip_name(p, n, &off));
		CHECK(off + 4 <= n);
		off += 4;
	}
	for (size_t i = 0; i < an + ar; i++) {
		CHECK(skip_name(p, n, &off));
		CHECK(off + 10 <= n);
		uint16_t cls = get16(p + off + 2);
		uint32_t ttl = (uint32_t)get16(p + off + 4) << 16 | get16(p + off + 6);
		size_t rdlen = get16(p + off + 8);
		CHECK((cls & 0x7FFF) == ESPAT_DNS_C_IN);
		if (legacy)
			CHECK(ttl <= 10 && !(cls & 0x8000));
		off += 10;
		CHECK(rdlen <= n - off);
		off += rdlen;
	}
	CHECK(off == n);
	/* a response is no query */
	struct espat_mdns_query again;
	CHECK(!espat_mdns_parse(p, n, &again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	bool legacy = data[0] & 1;
	size_t cap = data[0] & 2 ? 12u + data[0] : ESPAT_MDNS_MSG_MAX;
	struct espat_mdns_cfg c = {.port = 80, .ip = {192, 168, 4, 1}};
	memcpy(c.host, "espat", 6);
	if (data[1] & 0x80) { /* a long host label */
		size_t l = 1u + data[1] % ESPAT_MDNS_LABEL_MAX;
		memset(c.host, 'h', l);
		c.host[l] = '\0';
	}
	memcpy(c.service, "_iot", 5);
	memcpy(c.proto, "_tcp", 5);
	memcpy(c.instance, "fuzz", 5);
	if (data[1] & 0x20) { /* the longest instance name */
		memset(c.instance, 'i', ESPAT_MDNS_LABEL_MAX);
		c.instance[ESPAT_MDNS_LABEL_MAX] = '\0';
	}
	if (data[1] & 0x40) {
		static const uint8_t txt[] = "\x07"
		                             "a=1,b=2"
		                             "\x03"
		                             "k=v";
		memcpy(c.txt, txt, sizeof(txt) - 1);
		c.txt_len = sizeof(txt) - 1;
	}
	data += 2;
	size -= 2;

	uint8_t out[ESPAT_MDNS_MSG_MAX];
	struct espat_mdns_query q;
	if (espat_mdns_parse(data, size, &q)) {
		CHECK(q.nq <= ESPAT_MDNS_QMAX);
		for (size_t i = 0; i < q.nq; i++) {
			check_name(q.q[i].name, q.q[i].name_len);
			CHECK(!(q.q[i].cls & 0x8000));
		}
		size_t n = espat_mdns_answer(&c, &q, legacy, out, cap);
		CHECK(n <= cap);
		if (n > 0)
			check_response(out, n, legacy, &q);
	}
	size_t n = espat_mdns_announce(&c, size > 0 && data[0] == 0, out, sizeof(out));
	if (n > 0)
		check_response(out, n, false, NULL);

	/* names built from the input's text: a label each, never past the limit */
	uint8_t name[ESPAT_MDNS_NAME_MAX];
	size_t len = 0;
	char label[ESPAT_MDNS_LABEL_MAX + 2];
	for (size_t pos = 0; pos < size;) {
		size_t l = size - pos < sizeof(label) - 1 ? size - pos : sizeof(label) - 1;
		const uint8_t *nul = memchr(data + pos, 0, l);
		if (nul)
			l = (size_t)(nul - (data + pos));
		memcpy(label, data + pos, l);
		label[l] = '\0';
		pos += l + 1;
		size_t before = len;
		if (espat_mdns_name_add(name, &len, label)) {
			check_name(name, len + 1);
		} else {
			CHECK(len == before);
			break;
		}
	}
	return 0;
}
