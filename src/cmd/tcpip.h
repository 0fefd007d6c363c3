/* TCP/IP AT commands (guide section 3.3): links over real sockets (the net
 * port), sending in every mode, +IPD and passive receive, the server,
 * passthrough, DNS.
 *
 * Files: tcpip.c (the table, links, AT+CIPSTART/CLOSE/STATE/STATUS/MUX,
 * the server, DNS settings), tcpip_recv.c (+IPD, passive receive),
 * tcpip_send.c (AT+CIPSEND/SENDEX/SENDL and passthrough), tcpip_ssl.c (the
 * SSL row: AT+CIPSSLC* per link). Two rows of the registry, one unit: the
 * SSL settings are per link ID and the links' TLS comes from them. The
 * network services are families of their own: svc.c (SNTP, mDNS, ping)
 * and ota.c (AT+CIUPDATE). */
#ifndef ESPAT_CMD_TCPIP_H
#define ESPAT_CMD_TCPIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/conn.h"
#include "cmd/family.h"
#include "core/engine.h"
#include "core/timers.h"
#include "port/net.h"

struct espat_module;

#define ESPAT_LINKS 5              /* link IDs 0..4 (AT_SOCKET_MAX_CONN_NUM) */
#define ESPAT_LINK_ALL ESPAT_LINKS /* "max" as a link ID: every link */
#define ESPAT_HOST_MAX 64          /* <"remote host"> bytes */
#define ESPAT_SEND_MAX 8192        /* AT+CIPSEND / AT+CIPSENDEX <length> */
#define ESPAT_IPD_MAX 2920         /* payload bytes per active +IPD */
#define ESPAT_RECV_WINDOW 5760     /* passive mode: bytes buffered per link */
#define ESPAT_DGRAMS_MAX 64        /* passive UDP: datagrams buffered per link */
#define ESPAT_PT_CHUNK 2920        /* passthrough: bytes per packet sent */
#define ESPAT_PT_BUF 8192          /* passthrough: bytes gathered from the UART */
#define ESPAT_SOCK_HIGH (256 * 1024) /* socket output queued: stop reading the UART */

enum espat_link_type {
	ESPAT_LT_TCP,
	ESPAT_LT_TCP6,
	ESPAT_LT_UDP,
	ESPAT_LT_UDP6,
	ESPAT_LT_SSL,
	ESPAT_LT_SSL6,
};

enum espat_link_state {
	ESPAT_LINK_FREE,
	ESPAT_LINK_RESOLVING,  /* waiting for DNS */
	ESPAT_LINK_CONNECTING, /* TCP handshake under way */
	ESPAT_LINK_UP,
	ESPAT_LINK_GONE,       /* passive: the peer left, buffered data remains */
};

struct espat_dgram {
	uint16_t len;
	struct espat_endpoint from;
};

/* One connection: a link ID and its socket. */
struct espat_link {
	struct espat_module *m;
	uint8_t id;
	enum espat_link_state state;
	enum espat_link_type type;
	bool server;                 /* accepted by our server (<tetype> 1) */
	bool passive;                /* AT+CIPRECVTYPE 1 */
	bool ipd_said;               /* passive: +IPD announced and not read yet */
	bool paused;                 /* we stopped reading the socket */
	bool cmd;                    /* AT+CIPSTART(EX) waits for this link */
	uint32_t timeout_ms;         /* connect timeout */
	struct espat_conn conn;      /* its connection (dialled, or adopted from the server) */
	char host[ESPAT_HOST_MAX + 1]; /* remote host as given */
	struct espat_endpoint remote;  /* TCP: the peer; UDP: where sends go */
	uint16_t local_port;
	uint8_t udp_mode;            /* 0 fixed, 1 follow the first other sender, 2 follow each */
	bool udp_moved;              /* mode 1: the remote has changed once */
	uint16_t keepalive;          /* seconds, 0 off */
	struct espat_timer timer;    /* the AT+CIPSTO idle timeout (the connect timeout is conn's) */
	uint8_t *rx;                 /* passive receive buffer, owned, ESPAT_RECV_WINDOW max */
	size_t rx_len;
	struct espat_dgram dg[ESPAT_DGRAMS_MAX]; /* passive UDP: datagram boundaries in rx */
	size_t ndg;
	struct espat_endpoint rx_from; /* passive TCP: the peer, for AT+CIPDINFO */
};

/* AT+CIPSEND / AT+CIPSENDEX / AT+CIPSENDL running. */
enum espat_tx_kind {
	ESPAT_TX_NONE,
	ESPAT_TX_SEND,
	ESPAT_TX_SENDEX,
	ESPAT_TX_SENDL,
};

/* v1.5 AT+CIPSENDBUF: numbered segments written into a link's TCP send
 * buffer (tcpip_v15.c). A segment is sent successfully once the stack has
 * taken all of its bytes (the net port's queue has drained past its end). */
#define ESPAT_SEG_HISTORY 32   /* AT+CIPCHECKSEQ keeps the latest 32 */
#define ESPAT_SEGBUF_SIZE 5840 /* the TCP send buffer: two 2920-byte segments (TCP_SND_BUF) */
#define ESPAT_SEG_QUEUE 8      /* AT+CIPBUFSTATUS <queue number> with nothing pending */
struct espat_seg {
	uint32_t id;  /* 0: unused slot */
	uint64_t end; /* byte offset (of espat_segs.handed) where it ends */
	bool done;    /* out of the queue (or failed) */
	bool ok;      /* ... and sent successfully */
};
struct espat_segs {
	uint32_t next;   /* the ID the next AT+CIPSENDBUF gets, from 1 */
	uint32_t sent;   /* the latest handed to the stack */
	uint32_t acked;  /* the latest sent successfully */
	uint64_t handed; /* bytes handed to the socket by AT+CIPSENDBUF */
	struct espat_seg ring[ESPAT_SEG_HISTORY]; /* by id % ESPAT_SEG_HISTORY */
};

struct espat_tcpip {
	struct espat_link links[ESPAT_LINKS];
	struct espat_segs segs[ESPAT_LINKS]; /* v1.5 AT+CIPSENDBUF, per link ID */
	struct espat_link *seg_link;         /* AT+CIPSENDBUF's data entry goes to this link */
	uint8_t mux;                 /* AT+CIPMUX */
	uint8_t mode;                /* AT+CIPMODE: 0 normal, 1 passthrough */
	bool ipv6;                   /* AT+CIPV6 */
	bool dinfo;                  /* AT+CIPDINFO */
	uint8_t recvtype[ESPAT_LINKS]; /* AT+CIPRECVTYPE per link ID */
	struct espat_tcpopt opt[ESPAT_LINKS]; /* AT+CIPTCPOPT per link ID */
	uint16_t reconnintv;         /* AT+CIPRECONNINTV, 100 ms units */
	uint32_t sendl_report;       /* AT+CIPSENDLCFG */
	uint32_t sendl_transmit;
	bool had_link;               /* AT+CIPSTATUS 4: links existed and all closed */

	/* server */
	struct espat_sock *srv;
	uint16_t srv_port;
	bool srv_v6;
	enum espat_link_type srv_type; /* TCP, TCPv6, SSL or SSLv6 */
	bool srv_ca;                 /* SSL server: <CA enable>, clients must present a certificate */
	uint8_t srv_max;             /* AT+CIPSERVERMAXCONN */
	uint16_t sto;                /* AT+CIPSTO, seconds */

	/* DNS */
	struct espat_dns_req *domain; /* AT+CIPDOMAIN running */
	struct espat_timer domain_timer;

	/* sending */
	enum espat_tx_kind tx;
	struct espat_link *tx_link;
	struct espat_endpoint tx_to; /* UDP: this send's destination */
	bool tx_has_to;
	uint8_t tx_buf[ESPAT_SEND_MAX];
	size_t tx_len;               /* bytes gathered (after CIPSENDEX unescaping) */
	size_t tx_want;              /* <length> */
	bool tx_bs;                  /* CIPSENDEX: a backslash is pending */
	bool tx_wait;                /* data handed to the socket, waiting for drained */
	uint64_t l_total, l_recv, l_handed, l_sent, l_reported; /* AT+CIPSENDL progress */
	bool l_failed;
	struct espat_timer tx_timer; /* SO_SNDTIMEO, CIPSENDL packets */

	/* passthrough */
	struct espat_link *pt_link;  /* the link of passthrough */
	uint8_t pt_buf[ESPAT_PT_BUF];
	size_t pt_len;
	bool pt_rx_paused;           /* we asked the UART to stop */
	struct espat_timer pt_timer; /* AT+TRANSINTVL */
	struct espat_timer reconn_timer; /* passthrough client reconnects */
	bool translink;              /* this passthrough came from AT+SAVETRANSLINK */
	struct {
		bool valid;
		enum espat_link_type type;
		char host[ESPAT_HOST_MAX + 1];
		uint16_t port, local_port, keepalive;
		uint8_t udp_mode;
	} pt_cfg;                    /* how to reopen the passthrough client link */
};

extern const struct espat_cmd_table espat_tcpip_table;

extern const struct espat_family espat_tcpip_family;
/* The same family speaking the ESP8266 v1.5 set (tcpip_v15.c). */
extern const struct espat_family espat_tcpip_v15_family;

/* ---- for other families and the app ---------------------------------------- */

/* AT+CIPMUX and AT+CIPV6 in effect. */
bool espat_tcpip_mux(const struct espat_module *m);
bool espat_tcpip_ipv6(const struct espat_module *m);

/* "TCP", "UDPv6", ... as AT+CIPSTATE prints them. */
const char *espat_link_type_name(enum espat_link_type t);

/* The network resets link id (the control interface's "link reset"): its
 * socket is aborted and the module reacts as to a reset by the peer.
 * Returns -1 when the link is not up. */
int espat_tcpip_link_reset(struct espat_module *m, uint8_t id);

#endif
