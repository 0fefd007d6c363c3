/* The PKI of the manufacturing NVS, as esp-at's mfg_nvs.py lays it out
 * (guide 6.8; AT+SYSMFG reads and writes it): for each set, namespaces for
 * the certificate, the private key and the CA, with keys "<ns>.<index>"
 * (a lone file's key is the bare namespace, taken as index 0). Values are
 * PEM, stored as AT+SYSMFG binary (type 8) or string (type 7).
 *
 * Every family that speaks TLS finds its certificates here: SSL links and
 * servers, and the client-connection service (cmd/conn.h) for everyone
 * that dials out. */
#ifndef ESPAT_CMD_PKI_H
#define ESPAT_CMD_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "port/tls.h"

enum espat_pki_set {
	ESPAT_PKI_CLIENT, /* client_cert / client_key / client_ca */
	ESPAT_PKI_SERVER, /* server_cert / server_key / server_ca (index 0) */
	ESPAT_PKI_MQTT,   /* mqtt_cert / mqtt_key / mqtt_ca */
};

/* What a TLS endpoint needs of a set: its own certificate and key (index
 * pki), and the CA (index ca) that the peer's certificate must chain to. */
struct espat_pki_need {
	enum espat_pki_set set;
	bool own;    /* our certificate and key */
	uint8_t pki; /* their index */
	bool verify; /* the peer's certificate against a CA */
	uint8_t ca;  /* its index */
};

/* NULL when every piece needed is there, else the guide's message for the
 * first one missing ("NO CERT FOUND", "NO PRVT_KEY FOUND", "NO CA FOUND"
 * [000:11660-11662]). */
const char *espat_pki_missing(struct espat_module *m, const struct espat_pki_need *n);

/* PEM loaded from the NVS; owned, free with espat_pki_pem_free(). */
struct espat_pki_pem {
	uint8_t *cert, *key, *ca; /* NUL-terminated; NULL: not needed */
	size_t cert_len, key_len, ca_len;
};

/* Loads what n needs. 0, or -1 when a piece is absent (nothing is left
 * allocated then). */
int espat_pki_load(struct espat_module *m, const struct espat_pki_need *n,
                   struct espat_pki_pem *out);
void espat_pki_pem_free(struct espat_pki_pem *p);

/* Points o's cert/key/ca at p (borrowed: p must outlive o's use). */
void espat_pki_to_tls(const struct espat_pki_pem *p, struct espat_tls_opts *o);

#endif
