/* The PKI of the manufacturing NVS. See pki.h. */
#include "cmd/pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port/kv.h"

static const char *const set_ns[][3] = {
    [ESPAT_PKI_CLIENT] = {"client_cert", "client_key", "client_ca"},
    [ESPAT_PKI_SERVER] = {"server_cert", "server_key", "server_ca"},
    [ESPAT_PKI_MQTT] = {"mqtt_cert", "mqtt_key", "mqtt_ca"},
};

/* The PEM stored under ns for index idx ("<ns>.<idx>", or the bare "<ns>"
 * for index 0), NUL-terminated and owned by the caller; NULL when absent
 * or not a string/binary value. */
static uint8_t *mfg_pem(struct espat_module *m, const char *ns, unsigned idx, size_t *len)
{
	const struct espat_kv *kv = &m->ports.mfg;
	char key[ESPAT_KV_NAME_MAX + 1];
	snprintf(key, sizeof(key), "%s.%u", ns, idx);
	long n = kv->get(kv->user, ns, key, NULL, 0);
	if (n < 0 && idx == 0) {
		snprintf(key, sizeof(key), "%s", ns);
		n = kv->get(kv->user, ns, key, NULL, 0);
	}
	if (n < 2)
		return NULL;
	uint8_t *v = malloc((size_t)n + 1);
	if (!v)
		return NULL;
	if (kv->get(kv->user, ns, key, v, (size_t)n) != n ||
	    (v[0] != ESPAT_MFG_STR && v[0] != ESPAT_MFG_BLOB)) {
		free(v);
		return NULL;
	}
	memmove(v, v + 1, (size_t)n - 1);
	v[n - 1] = 0;
	*len = (size_t)n - 1;
	return v;
}

static bool mfg_has(struct espat_module *m, const char *ns, unsigned idx)
{
	size_t len;
	uint8_t *v = mfg_pem(m, ns, idx, &len);
	free(v);
	return v != NULL;
}

const char *espat_pki_missing(struct espat_module *m, const struct espat_pki_need *n)
{
	const char *const *ns = set_ns[n->set];
	if (n->own && !mfg_has(m, ns[0], n->pki))
		return "NO CERT FOUND";
	if (n->own && !mfg_has(m, ns[1], n->pki))
		return "NO PRVT_KEY FOUND";
	if (n->verify && !mfg_has(m, ns[2], n->ca))
		return "NO CA FOUND";
	return NULL;
}

void espat_pki_pem_free(struct espat_pki_pem *p)
{
	free(p->cert);
	free(p->key);
	free(p->ca);
	memset(p, 0, sizeof(*p));
}

int espat_pki_load(struct espat_module *m, const struct espat_pki_need *n,
                   struct espat_pki_pem *out)
{
	const char *const *ns = set_ns[n->set];
	memset(out, 0, sizeof(*out));
	if (n->own) {
		out->cert = mfg_pem(m, ns[0], n->pki, &out->cert_len);
		out->key = mfg_pem(m, ns[1], n->pki, &out->key_len);
		if (!out->cert || !out->key)
			goto fail;
	}
	if (n->verify && !(out->ca = mfg_pem(m, ns[2], n->ca, &out->ca_len)))
		goto fail;
	return 0;
fail:
	espat_pki_pem_free(out);
	return -1;
}

void espat_pki_to_tls(const struct espat_pki_pem *p, struct espat_tls_opts *o)
{
	o->cert = p->cert;
	o->cert_len = p->cert_len;
	o->key = p->key;
	o->key_len = p->key_len;
	o->ca = p->ca;
	o->ca_len = p->ca_len;
}
