/* The captive portal's DNS answer (web.h): every name is the softAP. The
 * module's softAP DNS is not a socket in espat (its stations are peers on
 * the host, whose queries go to the host's resolver), so this is the
 * answer alone, pure and unit-tested (docs/COMPAT.md). */
#include <string.h>

#include "cmd/web.h"

#define DNS_HEAD 12u
#define DNS_TYPE_A 1u
#define DNS_CLASS_IN 1u
#define DNS_TTL 60u

size_t espat_web_dns_answer(const uint8_t *q, size_t qlen, uint32_t ip, uint8_t *out, size_t cap)
{
	if (qlen < DNS_HEAD || (q[2] & 0x80u) || (q[2] & 0x78u) != 0 /* a standard query */ ||
	    q[4] != 0 || q[5] != 1 /* one question */)
		return 0;
	size_t i = DNS_HEAD, name_len = 0;
	for (;;) {
		if (i >= qlen)
			return 0;
		uint8_t l = q[i];
		if (l == 0)
			break;
		if (l > 63 || (name_len += (size_t)l + 1) > 255) /* no compression in a question */
			return 0;
		i += (size_t)l + 1;
	}
	i++; /* the root label */
	if (i + 4 > qlen)
		return 0;
	unsigned type = (unsigned)q[i] << 8 | q[i + 1];
	unsigned cls = (unsigned)q[i + 2] << 8 | q[i + 3];
	size_t qend = i + 4;
	if (cls != DNS_CLASS_IN)
		return 0;
	bool answer = type == DNS_TYPE_A;
	size_t n = qend + (answer ? 16u : 0u);
	if (n > cap)
		return 0;
	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x80u | 0x04u | (q[2] & 0x01u)); /* QR, AA, RD as asked */
	out[3] = 0x80u;                                     /* RA, NOERROR */
	out[6] = 0;
	out[7] = answer ? 1u : 0u;
	memset(out + 8, 0, 4); /* no authority, no additional (EDNS dropped) */
	if (answer) {
		uint8_t *a = out + qend;
		static const uint8_t rr[] = {0xC0, 0x0C, 0, DNS_TYPE_A, 0, DNS_CLASS_IN,
		                             0,    0,    0, DNS_TTL,    0, 4};
		memcpy(a, rr, sizeof(rr));
		a[12] = (uint8_t)(ip >> 24);
		a[13] = (uint8_t)(ip >> 16);
		a[14] = (uint8_t)(ip >> 8);
		a[15] = (uint8_t)ip;
	}
	return n;
}
