/* SSL client configuration commands (guide 3.3.26-3.3.31): AT+CIPSSLCCONF,
 * AT+CIPSSLCCN, AT+CIPSSLCSNI, AT+CIPSSLCALPN, AT+CIPSSLCPSK(HEX), per link
 * ID. The TCP/IP family asks this row for the TLS settings of an "SSL"
 * link (AT+CIPSTART, AT+SAVETRANSLINK), which it dials through the
 * client-connection service (cmd/conn.h), and for the TLS options of an
 * "SSL" server (AT+CIPSERVER). The PKI they name is in the manufacturing
 * NVS (cmd/pki.h); the TLS session itself is the net port's (port/tls.h). */
#ifndef ESPAT_CMD_TCPIP_SSL_H
#define ESPAT_CMD_TCPIP_SSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/conn.h"
#include "cmd/pki.h"
#include "cmd/tcpip.h"
#include "core/args.h"
#include "core/engine.h"
#include "port/tls.h"

struct espat_module;

#define ESPAT_SSL_NAME_MAX 64 /* AT+CIPSSLCCN common name, AT+CIPSSLCSNI */
#define ESPAT_SSL_PSK_MAX 32  /* AT+CIPSSLCPSK <"psk"> and <"hint"> bytes */
#define ESPAT_SSL_ALPN_BUF ESPAT_LINE_MAX /* every ALPN name of a link, NUL-separated */

/* The client settings of one link ID. */
struct espat_ssl_conf {
	uint8_t auth;                       /* 0 none, 1 our certificate, 2 verify the server, 3 both */
	uint8_t pki;                        /* <pki_number>: client_cert/client_key index */
	uint8_t ca;                         /* <ca_number>: client_ca index */
	char cn[ESPAT_SSL_NAME_MAX + 1];    /* name the server's certificate must hold; "" none */
	char sni[ESPAT_SSL_NAME_MAX + 1];   /* ClientHello server name; "" default */
	uint8_t nalpn;                      /* ALPN protocols, 0..ESPAT_TLS_ALPN_MAX */
	char alpn[ESPAT_SSL_ALPN_BUF];      /* nalpn NUL-terminated names back to back */
	uint8_t psk[ESPAT_SSL_PSK_MAX];     /* the pre-shared key; psk_len 0: no PSK */
	uint8_t psk_len;
	uint8_t hint[ESPAT_SSL_PSK_MAX];    /* the PSK identity sent to the server */
	uint8_t hint_len;
};

struct espat_ssl {
	struct espat_ssl_conf c[ESPAT_LINKS];
	uint16_t v15_bufsize; /* v1.5 AT+CIPSSLSIZE: the TLS buffer, 2048..4096 bytes */
};

/* A server's TLS options with the PEM they point into; owned, free with
 * espat_ssl_creds_free(). */
struct espat_ssl_creds {
	struct espat_tls_opts o;
	struct espat_pki_pem pem;
};

extern const struct espat_cmd_table espat_ssl_table;

extern const struct espat_family espat_ssl_family;
/* v1.5's SSL row: AT+CIPSSLSIZE only (tcpip_v15.c). */
extern const struct espat_family espat_ssl_v15_family;
/* Loads the saved settings (the TCP/IP row's boot calls it before it may
 * open an SSL passthrough link). */
void espat_ssl_load(struct espat_module *m);

/* Whether the PKI link id's auth mode needs is in the manufacturing NVS.
 * When say, the first missing piece is printed as the guide's message
 * (NO CERT FOUND, NO PRVT_KEY FOUND, NO CA FOUND). */
bool espat_ssl_client_ready(struct espat_module *m, uint8_t id, bool say);
/* Link id's TLS client settings as the client-connection service takes
 * them; t points into the module's state, valid until the settings
 * change. */
void espat_ssl_conn_tls(struct espat_module *m, uint8_t id, struct espat_conn_tls *t);
/* The TLS server options (server_cert, server_key, and server_ca when
 * verify_client). When say, a missing piece is printed as for clients.
 * 0, or -1. */
int espat_ssl_server_creds(struct espat_module *m, bool verify_client, bool say,
			   struct espat_ssl_creds *c);
void espat_ssl_creds_free(struct espat_ssl_creds *c);

#endif
