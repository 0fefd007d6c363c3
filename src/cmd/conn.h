/* The client-connection service: how every family that dials out reaches
 * a peer. SSL and TCP/UDP links (AT+CIPSTART, AT+SAVETRANSLINK), SNTP,
 * ping and AT+CIPDOMAIN use it today; MQTT, HTTP and WebSocket are to.
 *
 * A connection goes through the module's view of the network, so what
 * holds for links holds for every service:
 *  - it needs the way out (espat_wifi_online(): the station has an address
 *    on a network that leads to the host, or the softAP is up);
 *  - a host name resolves through the DNS servers in effect (AT+CIPDNS, or
 *    the network's own, which is the simulated router: the host's
 *    resolver), with the request's timeout;
 *  - it opens a socket of the net port, which the world's faults and
 *    `espat ctl` reach as they reach links;
 *  - TLS, when asked for, is ESP-AT's: the four authentication modes, the
 *    PKI by index from the manufacturing NVS (cmd/pki.h), the name check,
 *    SNI and ALPN (a host given by name is the default SNI and, when the
 *    server is verified, the name it must hold; COMPAT), a PSK, and
 *    certificates checked at the module's clock;
 *  - one timeout bounds name, connect and handshake;
 *  - back-pressure is the net port's: espat_conn_queued() and the
 *    drained() callback going out, espat_conn_pause() coming in.
 *
 * The service's own state is the DNS setting (AT+CIPDNS, whose command the
 * TCP/IP family keeps): a row of the registry without commands. */
#ifndef ESPAT_CMD_CONN_H
#define ESPAT_CMD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "cmd/pki.h"
#include "core/timers.h"
#include "port/net.h"

#define ESPAT_CONN_TIMEOUT_MS 10000u /* a request's timeout 0 */
#define ESPAT_CONN_NAME_MAX 64       /* SNI / the name to check, bytes */

/* ESP-AT's TLS client settings, as a family states them. Everything is
 * borrowed for the call to espat_conn_open() only. */
struct espat_conn_tls {
	uint8_t auth;           /* 0 none, 1 our certificate, 2 verify the server, 3 both */
	enum espat_pki_set set; /* where the PKI lives: client_* (links) or mqtt_* */
	uint8_t pki;            /* our certificate and key: their index */
	uint8_t ca;             /* the CA's index */
	const char *check_name; /* "" or NULL: the host, when given by name */
	const char *sni;        /* "" or NULL: the host, when given by name */
	const char *alpn[ESPAT_TLS_ALPN_MAX];
	size_t nalpn;
	const uint8_t *psk; /* psk_len 0: none */
	size_t psk_len;
	const uint8_t *psk_identity;
	size_t psk_identity_len;
};

struct espat_conn_req {
	enum espat_sock_kind kind; /* TCP (TLS allowed) or UDP */
	bool v6;                   /* IPv6: a name resolves to AAAA only, else A only */
	const char *host;          /* a name or a literal address, borrowed for the call */
	size_t host_len;
	uint16_t port;
	uint16_t local_port;              /* UDP; 0: any */
	uint32_t timeout_ms;              /* name + connect + handshake; 0: ESPAT_CONN_TIMEOUT_MS */
	const struct espat_conn_tls *tls; /* NULL: plain */
	/* TCP_NODELAY: a protocol client that writes a message in several
	 * pieces (MQTT's head and payload, a WebSocket frame) must not wait
	 * for the peer's delayed ACK between them (Nagle). */
	bool nodelay;
	/* NULL, or called once a host name has resolved (before the connect;
	 * never for a literal address), with the owner's user. */
	void (*resolved)(void *user);
};

enum espat_conn_phase {
	ESPAT_CONN_IDLE,       /* nothing; after close() or a failure */
	ESPAT_CONN_RESOLVING,  /* waiting for DNS */
	ESPAT_CONN_CONNECTING, /* TCP (and TLS) handshake under way */
	ESPAT_CONN_UP,         /* the socket is the owner's to use */
};

/* done(): the connection is up (err 0) or failed (an enum espat_net_err;
 * the connection is IDLE again). Never called from inside
 * espat_conn_open(). */
typedef void espat_conn_done_fn(void *user, int err);

/* One client connection, embedded in its owner. Fields are read-only
 * outside conn.c. */
struct espat_conn {
	struct espat_module *m;
	enum espat_conn_phase phase;
	struct espat_dns_req *dns;    /* RESOLVING */
	struct espat_sock *sock;      /* CONNECTING, UP */
	struct espat_endpoint remote; /* the peer (known once resolved) */
	uint16_t local_port;          /* UP: the socket's own port */
	enum espat_sock_kind kind;
	bool nodelay;
	struct espat_timer timer;       /* the request's timeout */
	struct espat_conn_creds *creds; /* TLS options kept through RESOLVING, owned */
	struct espat_sock_cbs cbs;      /* the owner's, for the socket once up */
	espat_conn_done_fn *done;
	void (*resolved)(void *user);
	void *user;
};

/* Starts a connection for an owner whose socket callbacks are cbs (their
 * connected() is not used: done() replaces it) with user. Returns 0 when
 * under way (done() follows), 1 when it is up already (UDP to a literal
 * address binds at once; no done()), or -1 with *err when it cannot start:
 * no way out (EUNREACH), an address of the wrong family (EINVAL), the PKI
 * absent or unreadable (ECERT), no socket (the port's error). */
int espat_conn_open(struct espat_conn *c, struct espat_module *m, const struct espat_conn_req *r,
                    const struct espat_sock_cbs *cbs, espat_conn_done_fn *done, void *user,
                    int *err);
/* Makes an accepted socket (a listener's accepted(), still paused) an UP
 * connection with the owner's callbacks, so that servers' links and
 * dialled ones are used alike. */
void espat_conn_adopt(struct espat_conn *c, struct espat_module *m, struct espat_sock *s,
                      const struct espat_sock_cbs *cbs, void *user);
/* Ends the connection in any phase; no callback of it runs afterwards. */
void espat_conn_close(struct espat_conn *c, enum espat_close_how how);

/* The socket of an UP connection, through the net port. */
int espat_conn_send(struct espat_conn *c, const uint8_t *p, size_t n,
                    const struct espat_endpoint *to);
size_t espat_conn_queued(const struct espat_conn *c);
void espat_conn_pause(struct espat_conn *c, bool paused);

/* ---- the module's name service ----------------------------------------- */

/* Starts resolving name (NUL-terminated) through the DNS servers in
 * effect; done() follows. NULL with *err when it cannot start (no net
 * port, no way out: EUNREACH). */
struct espat_dns_req *espat_conn_resolve(struct espat_module *m, const char *name,
                                         enum espat_dns_family family, uint32_t timeout_ms,
                                         espat_dns_fn *done, void *user, int *err);
void espat_conn_resolve_cancel(struct espat_module *m, struct espat_dns_req *r);

/* AT+CIPDNS: manual servers (n 1..ESPAT_DNS_SERVERS_MAX), or off (the
 * network's own; the fallbacks 208.67.222.222 and 8.8.8.8 show in the
 * query). Saved per AT+SYSSTORE. */
void espat_conn_dns_manual(struct espat_module *m, const struct espat_ip *s, size_t n);
void espat_conn_dns_auto(struct espat_module *m);
/* The setting: whether manual, and the servers it shows (n returned). */
size_t espat_conn_dns_get(const struct espat_module *m, bool *manual,
                          struct espat_ip s[ESPAT_DNS_SERVERS_MAX]);

extern const struct espat_family espat_conn_family;

#endif
