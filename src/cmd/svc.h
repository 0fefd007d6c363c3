/* The network services of the TCP/IP family (guide 3.3): AT+CIPSNTPCFG,
 * AT+CIPSNTPTIME, AT+CIPSNTPINTV (an SNTP client that sets the module's
 * RTC), AT+PING, and AT+MDNS (a responder for one host and one service).
 *
 * A family row of its own (state, table, the network event). Everything
 * goes through the net port (m->ports.net); a port whose ops are NULL
 * answers ERROR. Files: svc.c (table, commands, the SNTP and mDNS machines
 * over sockets); the codecs beneath it are proto/sntp.c (SNTP, time zones,
 * asctime) and proto/mdns.c (mDNS messages). Nothing here is saved to
 * flash (guide 1.7 lists none of these commands). */
#ifndef ESPAT_CMD_SVC_H
#define ESPAT_CMD_SVC_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/family.h"
#include "core/engine.h"
#include "core/timers.h"
#include "port/net.h"
#include "proto/mdns.h"

struct espat_module;

#define ESPAT_SNTP_SERVERS 3          /* AT+CIPSNTPCFG <SNTP server1..3> */
#define ESPAT_SNTP_NAME_MAX 64        /* bytes of one server name */
#define ESPAT_SNTP_INTV_DEFAULT 3600u /* AT+CIPSNTPINTV default (ESP-IDF's LWIP_SNTP_UPDATE_DELAY) */
#define ESPAT_SNTP_RECV_MS 15000u     /* wait for a reply before the next server (lwIP SNTP_RECV_TIMEOUT) */
#define ESPAT_SNTP_RETRY_MS 15000u    /* after every server failed, wait this long (SNTP_RETRY_TIMEOUT) */
#define ESPAT_SVC_OFFLINE_POLL_MS 1000u /* re-check the network while waiting for it */
#define ESPAT_PING_TIMEOUT_MS 1000u   /* one echo request (ESP-IDF esp_ping's default timeout) */
#define ESPAT_PING_HOST_MAX 64        /* AT+PING <"host"> bytes */

enum espat_sntp_phase {
	ESPAT_SNTP_OFF,       /* disabled */
	ESPAT_SNTP_OFFLINE,   /* enabled, waiting for the network */
	ESPAT_SNTP_RESOLVING, /* looking up servers[cur] */
	ESPAT_SNTP_ASKING,    /* request sent, waiting for the reply */
	ESPAT_SNTP_IDLE,      /* synced; the next sync is due AT+CIPSNTPINTV after it */
	ESPAT_SNTP_BACKOFF,   /* every server failed; the next round waits ESPAT_SNTP_RETRY_MS */
};

struct espat_svc_sntp {
	bool enabled;                /* AT+CIPSNTPCFG <enable> */
	int32_t tz_min;              /* UTC offset in minutes (CIPSNTPTIME shows local time) */
	int32_t tz_shown;            /* <timezone> as the query prints it */
	char servers[ESPAT_SNTP_SERVERS][ESPAT_SNTP_NAME_MAX + 1];
	uint8_t nservers;            /* 1..3 */
	uint32_t interval_s;         /* AT+CIPSNTPINTV */
	enum espat_sntp_phase phase;
	uint8_t cur;                 /* server being asked */
	uint8_t tried;               /* servers tried in this round */
	struct espat_dns_req *dns;   /* RESOLVING */
	struct espat_sock *sock;     /* ASKING */
	struct espat_endpoint server;/* ASKING: where the request went */
	uint64_t xmit;               /* ASKING: the request's transmit timestamp (nonce) */
	uint64_t synced_ms;          /* module clock at the last good reply */
	bool synced;                 /* a reply set the RTC since enabled */
	struct espat_timer timer;    /* reply timeout, next sync, retry, offline poll */
};

struct espat_svc_ping {
	bool running;                /* AT+PING pending */
	struct espat_dns_req *dns;
	struct espat_ping_req *req;
};

struct espat_svc_mdns {
	bool on;                     /* AT+MDNS=1 in effect */
	bool online;                 /* the network was up when last looked at */
	struct espat_mdns_cfg cfg;
	struct espat_sock *sock;     /* UDP 5353 in group 224.0.0.251; NULL while offline */
	uint8_t announce_left;       /* announcements still to send (RFC 6762 8.3: two) */
	struct espat_timer timer;    /* next announcement, or offline poll */
	uint8_t buf[ESPAT_MDNS_MSG_MAX]; /* outgoing message */
};

struct espat_svc {
	struct espat_svc_sntp sntp;
	struct espat_svc_ping ping;
	struct espat_svc_mdns mdns;
};

extern const struct espat_cmd_table espat_svc_table;

extern const struct espat_family espat_svc_family;
/* v1.5's rows of the family: AT+PING and its AT+MDNS (svc_v15.c). */
extern const struct espat_family espat_svc_v15_family;
/* What svc_v15.c shares with svc.c (not for other families). */
espat_handler_fn espat_svc_ping_set, espat_svc_mdns_set;
void espat_svc_init(struct espat_module *m);
void espat_svc_free(struct espat_module *m);
void espat_svc_event(struct espat_module *m, enum espat_event ev);

#endif
