/* The mDNS codec of AT+MDNS (RFC 6762, DNS-SD per RFC 6763): parses
 * queries and builds the responses of a minimal responder that owns
 *
 *   <host>.local                      A    (TTL 120)
 *   <service>.<proto>.local           PTR  -> <instance>.<service>.<proto>.local (TTL 4500)
 *   _services._dns-sd._udp.local      PTR  -> <service>.<proto>.local (TTL 4500)
 *   <instance>.<service>.<proto>.local SRV -> <host>.local:<port> (TTL 120)
 *                                      TXT  key=value ... (TTL 4500)
 *
 * (the TTLs of ESP-IDF's mdns component, which esp-at uses). Pure
 * functions over caller buffers; the socket side is in cmd/svc.c. Names
 * are written uncompressed; received names may be compressed. */
#ifndef ESPAT_PROTO_MDNS_H
#define ESPAT_PROTO_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_MDNS_PORT 5353
#define ESPAT_MDNS_LABEL_MAX 63   /* bytes of a host, service, proto or instance label */
#define ESPAT_MDNS_TXT_MAX 10     /* AT+MDNS <txt_number> */
#define ESPAT_MDNS_TXT_RDATA 512  /* packed TXT strings (an AT line is shorter) */
#define ESPAT_MDNS_NAME_MAX 255   /* a name in wire format (RFC 1035 3.1) */
#define ESPAT_MDNS_QMAX 16        /* questions looked at per query; more are ignored */
#define ESPAT_MDNS_MSG_MAX 1472   /* what we send fits one Ethernet-MTU datagram */

/* DNS types and classes used here. */
#define ESPAT_DNS_T_A 1
#define ESPAT_DNS_T_PTR 12
#define ESPAT_DNS_T_TXT 16
#define ESPAT_DNS_T_AAAA 28
#define ESPAT_DNS_T_SRV 33
#define ESPAT_DNS_T_ANY 255
#define ESPAT_DNS_C_IN 1
#define ESPAT_DNS_C_ANY 255

/* What the responder answers for. Strings are NUL-terminated, 1 to
 * ESPAT_MDNS_LABEL_MAX bytes, each used as one label. */
struct espat_mdns_cfg {
	char host[ESPAT_MDNS_LABEL_MAX + 1];
	char service[ESPAT_MDNS_LABEL_MAX + 1];  /* "_iot" */
	char proto[ESPAT_MDNS_LABEL_MAX + 1];    /* "_tcp" */
	char instance[ESPAT_MDNS_LABEL_MAX + 1];
	uint16_t port;
	uint8_t ip[4];                           /* the A record */
	uint8_t txt[ESPAT_MDNS_TXT_RDATA];       /* TXT rdata: length-prefixed strings */
	size_t txt_len;                          /* 0: the TXT holds one empty string */
};

/* One question, its name uncompressed in wire format. */
struct espat_mdns_q {
	uint8_t name[ESPAT_MDNS_NAME_MAX];
	size_t name_len;
	uint16_t type;
	uint16_t cls;  /* without the unicast-response bit */
	bool qu;       /* unicast response requested (top bit of the class) */
};

struct espat_mdns_query {
	uint16_t id;
	uint16_t flags;
	size_t nq;     /* questions kept, at most ESPAT_MDNS_QMAX */
	struct espat_mdns_q q[ESPAT_MDNS_QMAX];
};

/* Parses a message's header and questions. False when it is malformed or
 * not a standard query (a response, another opcode, a non-zero rcode). */
bool espat_mdns_parse(const uint8_t *p, size_t n, struct espat_mdns_query *out);

/* Appends text as one label to a wire-format name being built in
 * name[0..*len); false when it does not fit. Used to build names to look
 * for (tests, and the responder's own names). */
bool espat_mdns_name_add(uint8_t name[ESPAT_MDNS_NAME_MAX], size_t *len, const char *text);

/* Case-insensitive (ASCII) equality of two wire-format names. */
bool espat_mdns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* The response to a parsed query, in out[0..cap): 0 when nothing asked is
 * ours. legacy: the query came from a port other than 5353 (RFC 6762
 * 6.7): the reply is unicast, carries the query's ID and questions, TTLs at
 * most 10 s and no cache-flush bits. Otherwise it is a multicast response
 * (ID 0, no questions, cache-flush set on the unique records). */
size_t espat_mdns_answer(const struct espat_mdns_cfg *c, const struct espat_mdns_query *q,
			 bool legacy, uint8_t *out, size_t cap);

/* An unsolicited response holding every record: the announcement (RFC
 * 6762 8.3) or, with goodbye, the same records with TTL 0 (10.1). */
size_t espat_mdns_announce(const struct espat_mdns_cfg *c, bool goodbye, uint8_t *out, size_t cap);

#endif
