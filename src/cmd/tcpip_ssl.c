/* SSL client configuration (guide 3.3.26-3.3.31) and the TLS options of
 * SSL links and servers. See tcpip_ssl.h. */
#include "cmd/tcpip_ssl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/params.h"
#include "cmd/tcpip_internal.h"
#include "core/settings.h"

#define S(m) ((m)->ssl)

/* ---- the PKI and the TLS options of links and servers ---------------------------- */

static bool auth_own(uint8_t auth)
{
	return auth == 1 || auth == 3;
}

static bool auth_verify(uint8_t auth)
{
	return auth == 2 || auth == 3;
}

bool espat_ssl_client_ready(struct espat_module *m, uint8_t id, bool say)
{
	const struct espat_ssl_conf *c = &S(m)->c[id];
	struct espat_pki_need n = {.set = ESPAT_PKI_CLIENT,
				   .own = auth_own(c->auth),
				   .pki = c->pki,
				   .verify = auth_verify(c->auth),
				   .ca = c->ca};
	const char *miss = espat_pki_missing(m, &n);
	if (miss && say)
		espat_wr_linef(&m->wr, "%s", miss);
	return miss == NULL;
}

void espat_ssl_conn_tls(struct espat_module *m, uint8_t id, struct espat_conn_tls *t)
{
	const struct espat_ssl_conf *cf = &S(m)->c[id];
	memset(t, 0, sizeof(*t));
	t->auth = cf->auth;
	t->set = ESPAT_PKI_CLIENT;
	t->pki = cf->pki;
	t->ca = cf->ca;
	t->check_name = cf->cn;
	t->sni = cf->sni;
	const char *p = cf->alpn;
	for (size_t i = 0; i < cf->nalpn; i++) {
		t->alpn[i] = p;
		p += strlen(p) + 1;
	}
	t->nalpn = cf->nalpn;
	if (cf->psk_len) {
		t->psk = cf->psk;
		t->psk_len = cf->psk_len;
		t->psk_identity = cf->hint;
		t->psk_identity_len = cf->hint_len;
	}
}

void espat_ssl_creds_free(struct espat_ssl_creds *c)
{
	espat_pki_pem_free(&c->pem);
	memset(c, 0, sizeof(*c));
}

static int64_t rtc(void *user)
{
	return espat_rtc_now(user);
}

int espat_ssl_server_creds(struct espat_module *m, bool verify_client, bool say,
			   struct espat_ssl_creds *c)
{
	memset(c, 0, sizeof(*c));
	c->o.now = espat_rtc_now(m);
	c->o.clock = rtc; /* a server checks clients at the clock of each handshake */
	c->o.clock_user = m;
	struct espat_pki_need n = {.set = ESPAT_PKI_SERVER, .own = true, .verify = verify_client};
	const char *miss = espat_pki_missing(m, &n);
	if (miss) {
		if (say)
			espat_wr_linef(&m->wr, "%s", miss);
		return -1;
	}
	if (espat_pki_load(m, &n, &c->pem) < 0)
		return -1;
	espat_pki_to_tls(&c->pem, &c->o);
	return 0;
}

/* ---- settings -------------------------------------------------------------------- */

static void save_cconf(struct espat_module *m)
{
	char text[ESPAT_LINKS * 16];
	size_t o = 0;
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		const struct espat_ssl_conf *c = &S(m)->c[i];
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%u,%u,%u", i ? "," : "",
				      c->auth, c->pki, c->ca);
	}
	espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, "sslcconf", text);
}

/* The per-link settings, each saved under one NVS key per link ID:
 * "<name><id>" (AT+CIPSSLCCONF's three numbers share one key, "sslcconf"). */
enum link_setting { SET_CN, SET_SNI, SET_ALPN, SET_PSK };

static void setting_key(char key[ESPAT_KV_NAME_MAX + 1], enum link_setting what, size_t id)
{
	static const char *const name[] = {
	    [SET_CN] = "sslccn", [SET_SNI] = "sslcsni", [SET_ALPN] = "sslcalpn", [SET_PSK] = "sslcpsk"};
	snprintf(key, ESPAT_KV_NAME_MAX + 1, "%s%u", name[what], (unsigned)id);
}

static void save_link(struct espat_module *m, enum link_setting what, size_t id)
{
	const struct espat_ssl_conf *c = &S(m)->c[id];
	char key[ESPAT_KV_NAME_MAX + 1], text[2 * ESPAT_LINE_MAX + 8], h[2 * ESPAT_SSL_PSK_MAX + 1];
	size_t o = 0;
	const char *p = c->alpn;
	switch (what) {
	case SET_CN:
		espat_args_quote(text, sizeof(text), c->cn, strlen(c->cn));
		break;
	case SET_SNI:
		espat_args_quote(text, sizeof(text), c->sni, strlen(c->sni));
		break;
	case SET_ALPN: /* the count, then the names */
		o = (size_t)snprintf(text, sizeof(text), "%u", c->nalpn);
		for (size_t i = 0; i < c->nalpn; i++) {
			text[o++] = ',';
			o += espat_args_quote(text + o, sizeof(text) - o, p, strlen(p));
			p += strlen(p) + 1;
		}
		break;
	case SET_PSK: /* the key in hex, then the identity */
		espat_hex_encode(h, c->psk, c->psk_len);
		o = espat_args_quote(text, sizeof(text), h, strlen(h));
		text[o++] = ',';
		espat_args_quote(text + o, sizeof(text) - o, (const char *)c->hint, c->hint_len);
		break;
	}
	setting_key(key, what, id);
	espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, key, text);
}

static void save_links(struct espat_module *m, enum link_setting what, size_t first, size_t last)
{
	for (size_t i = first; i <= last; i++)
		save_link(m, what, i);
}

static bool str_arg(const struct espat_args *a, size_t i, size_t max)
{
	return i < a->n && a->v[i].kind == ESPAT_ARG_STR && a->v[i].len <= max;
}

static bool set_alpn(struct espat_ssl_conf *c, const struct espat_args *a, size_t first,
		     size_t count)
{
	size_t o = 0;
	for (size_t i = 0; i < count; i++) {
		const struct espat_arg *v = &a->v[first + i];
		if (v->kind != ESPAT_ARG_STR || v->len == 0 || v->len > 255 ||
		    memchr(v->s, 0, v->len) || o + v->len + 1 > sizeof(c->alpn))
			return false;
		memcpy(c->alpn + o, v->s, v->len);
		o += v->len;
		c->alpn[o++] = 0;
	}
	c->nalpn = (uint8_t)count;
	return true;
}

static void load_settings(struct espat_module *m)
{
	struct espat_args a;
	if (espat_settings_load(&m->settings, "sslcconf", &a) && a.n == 3 * ESPAT_LINKS) {
		for (size_t i = 0; i < ESPAT_LINKS; i++) {
			const struct espat_arg *v = &a.v[3 * i];
			if (v[0].kind != ESPAT_ARG_INT || v[0].i < 0 || v[0].i > 3 ||
			    v[1].kind != ESPAT_ARG_INT || v[1].i < 0 || v[1].i > 255 ||
			    v[2].kind != ESPAT_ARG_INT || v[2].i < 0 || v[2].i > 255)
				continue;
			S(m)->c[i].auth = (uint8_t)v[0].i;
			S(m)->c[i].pki = (uint8_t)v[1].i;
			S(m)->c[i].ca = (uint8_t)v[2].i;
		}
	}
	for (size_t i = 0; i < ESPAT_LINKS; i++) {
		struct espat_ssl_conf *c = &S(m)->c[i];
		char key[ESPAT_KV_NAME_MAX + 1];
		setting_key(key, SET_CN, i);
		if (espat_settings_load(&m->settings, key, &a) && a.n == 1 &&
		    str_arg(&a, 0, ESPAT_SSL_NAME_MAX))
			memcpy(c->cn, a.v[0].s, a.v[0].len + 1);
		setting_key(key, SET_SNI, i);
		if (espat_settings_load(&m->settings, key, &a) && a.n == 1 &&
		    str_arg(&a, 0, ESPAT_SSL_NAME_MAX))
			memcpy(c->sni, a.v[0].s, a.v[0].len + 1);
		setting_key(key, SET_ALPN, i);
		if (espat_settings_load(&m->settings, key, &a) && a.n >= 1 &&
		    a.v[0].kind == ESPAT_ARG_INT && a.v[0].i >= 0 && a.v[0].i <= ESPAT_TLS_ALPN_MAX &&
		    a.n == 1 + (size_t)a.v[0].i && !set_alpn(c, &a, 1, (size_t)a.v[0].i))
			c->nalpn = 0;
		setting_key(key, SET_PSK, i);
		size_t n = 0;
		if (espat_settings_load(&m->settings, key, &a) && a.n == 2 &&
		    str_arg(&a, 0, 2 * ESPAT_SSL_PSK_MAX) && str_arg(&a, 1, ESPAT_SSL_PSK_MAX) &&
		    espat_hex_decode(a.v[0].s, a.v[0].len, c->psk, sizeof(c->psk), &n)) {
			c->psk_len = (uint8_t)n;
			memcpy(c->hint, a.v[1].s, a.v[1].len);
			c->hint_len = (uint8_t)a.v[1].len;
		}
	}
}

/* ---- the commands ---------------------------------------------------------------- */

/* The link IDs a set command addresses: in multiple-connection mode the
 * first argument (0..4, or 5 = all), else link 0. *first_arg is where the
 * command's own arguments start. False: a bad link ID. */
static bool target(struct espat_module *m, const struct espat_args *a, size_t *lo, size_t *hi,
		   size_t *first_arg)
{
	if (!espat_tcpip_mux(m)) {
		*lo = *hi = 0;
		*first_arg = 0;
		return true;
	}
	if (a->n < 1 || a->v[0].kind != ESPAT_ARG_INT || a->v[0].i < 0 ||
	    a->v[0].i > ESPAT_LINK_ALL)
		return false;
	*first_arg = 1;
	if (a->v[0].i == ESPAT_LINK_ALL) {
		*lo = 0;
		*hi = ESPAT_LINKS - 1;
	} else {
		*lo = *hi = (size_t)a->v[0].i;
	}
	return true;
}

/* How many link IDs a query lists: every one in multiple-connection mode,
 * link 0 otherwise (as AT+CIPTCPOPT?). */
static size_t query_links(struct espat_module *m)
{
	return espat_tcpip_mux(m) ? ESPAT_LINKS : 1;
}

static bool arg_u8(const struct espat_args *a, size_t i, int64_t lo, int64_t hi)
{
	return a->v[i].kind == ESPAT_ARG_INT && a->v[i].i >= lo && a->v[i].i <= hi;
}

static bool given(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind != ESPAT_ARG_OMITTED;
}

static enum espat_rc cconf_query(struct espat_module *m, const struct espat_args *a)
{
	for (size_t i = 0; i < query_links(m); i++) {
		const struct espat_ssl_conf *c = &S(m)->c[i];
		espat_wr_linef(&m->wr, "+CIPSSLCCONF:%u,%u,%u,%u", (unsigned)i, c->auth, c->pki,
			       c->ca);
	}
	return ESPAT_RC_OK;
}

static enum espat_rc cconf_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_engine *e = E(m);
	size_t lo, hi, k;
	if (!target(m, a, &lo, &hi, &k))
		return espat_fail(e, ESPAT_ERR_INVALID(0));
	if (a->n > k + 3)
		return espat_fail(e, ESPAT_ERR_NUM(k + 3, a->n));
	if (!given(a, k) || !arg_u8(a, k, 0, 3))
		return espat_fail(e, ESPAT_ERR_INVALID(k));
	for (size_t j = k + 1; j < a->n; j++)
		if (given(a, j) && !arg_u8(a, j, 0, 255))
			return espat_fail(e, ESPAT_ERR_INVALID(j));
	uint8_t auth = (uint8_t)a->v[k].i;
	uint8_t pki = given(a, k + 1) ? (uint8_t)a->v[k + 1].i : 0;
	uint8_t ca = given(a, k + 2) ? (uint8_t)a->v[k + 2].i : 0;
	struct espat_pki_need need = {.set = ESPAT_PKI_CLIENT,
				      .own = auth_own(auth),
				      .pki = pki,
				      .verify = auth_verify(auth),
				      .ca = ca};
	const char *miss = espat_pki_missing(m, &need);
	if (miss) {
		espat_wr_linef(&m->wr, "%s", miss);
		return espat_fail(e, ESPAT_ERR_EXEC);
	}
	for (size_t i = lo; i <= hi; i++) {
		S(m)->c[i].auth = auth;
		S(m)->c[i].pki = pki;
		S(m)->c[i].ca = ca;
	}
	save_cconf(m);
	return ESPAT_RC_OK;
}

/* A query line "+<cmd>:<id>" then each field quoted raw (no escaping, as
 * the firmware prints them), sent as one message. */
struct qline {
	char b[3 * ESPAT_LINE_MAX];
	size_t n;
};

static void q_start(struct qline *q, const char *cmd, size_t id)
{
	q->n = (size_t)snprintf(q->b, sizeof(q->b), "+%s:%u", cmd, (unsigned)id);
}

static void q_field(struct qline *q, const void *s, size_t len)
{
	if (q->n + len + 4 > sizeof(q->b))
		return; /* cannot happen: every field is bounded well below */
	q->b[q->n++] = ',';
	q->b[q->n++] = '"';
	memcpy(q->b + q->n, s, len);
	q->n += len;
	q->b[q->n++] = '"';
}

static void q_send(struct espat_module *m, struct qline *q)
{
	q->b[q->n++] = '\r';
	q->b[q->n++] = '\n';
	espat_wr_msg(&m->wr, (const uint8_t *)q->b, q->n);
}

static enum espat_rc name_query(struct espat_module *m, const char *cmd, size_t offset)
{
	for (size_t i = 0; i < query_links(m); i++) {
		const char *s = (const char *)&S(m)->c[i] + offset;
		struct qline q;
		q_start(&q, cmd, i);
		q_field(&q, s, strlen(s));
		q_send(m, &q);
	}
	return ESPAT_RC_OK;
}

static enum espat_rc name_set(struct espat_module *m, const struct espat_args *a, size_t offset,
			      enum link_setting what)
{
	struct espat_engine *e = E(m);
	size_t lo, hi, k;
	if (!target(m, a, &lo, &hi, &k))
		return espat_fail(e, ESPAT_ERR_INVALID(0));
	if (a->n != k + 1)
		return espat_fail(e, ESPAT_ERR_NUM(k + 1, a->n));
	if (!str_arg(a, k, ESPAT_SSL_NAME_MAX) || memchr(a->v[k].s, 0, a->v[k].len))
		return espat_fail(e, ESPAT_ERR_INVALID(k));
	for (size_t i = lo; i <= hi; i++)
		memcpy((char *)&S(m)->c[i] + offset, a->v[k].s, a->v[k].len + 1);
	save_links(m, what, lo, hi);
	return ESPAT_RC_OK;
}

static enum espat_rc ccn_query(struct espat_module *m, const struct espat_args *a)
{
	return name_query(m, "CIPSSLCCN", offsetof(struct espat_ssl_conf, cn));
}

static enum espat_rc ccn_set(struct espat_module *m, const struct espat_args *a)
{
	return name_set(m, a, offsetof(struct espat_ssl_conf, cn), SET_CN);
}

static enum espat_rc csni_query(struct espat_module *m, const struct espat_args *a)
{
	return name_query(m, "CIPSSLCSNI", offsetof(struct espat_ssl_conf, sni));
}

static enum espat_rc csni_set(struct espat_module *m, const struct espat_args *a)
{
	return name_set(m, a, offsetof(struct espat_ssl_conf, sni), SET_SNI);
}

static enum espat_rc calpn_query(struct espat_module *m, const struct espat_args *a)
{
	for (size_t i = 0; i < query_links(m); i++) {
		const struct espat_ssl_conf *c = &S(m)->c[i];
		struct qline q;
		q_start(&q, "CIPSSLCALPN", i);
		const char *p = c->alpn;
		for (size_t j = 0; j < c->nalpn; j++) {
			q_field(&q, p, strlen(p));
			p += strlen(p) + 1;
		}
		q_send(m, &q);
	}
	return ESPAT_RC_OK;
}

static enum espat_rc calpn_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_engine *e = E(m);
	size_t lo, hi, k;
	if (!target(m, a, &lo, &hi, &k))
		return espat_fail(e, ESPAT_ERR_INVALID(0));
	if (!given(a, k) || !arg_u8(a, k, 0, ESPAT_TLS_ALPN_MAX))
		return espat_fail(e, ESPAT_ERR_INVALID(k));
	size_t count = (size_t)a->v[k].i;
	if (a->n != k + 1 + count)
		return espat_fail(e, ESPAT_ERR_NUM(k + 1 + count, a->n));
	struct espat_ssl_conf tmp;
	if (!set_alpn(&tmp, a, k + 1, count))
		return espat_fail(e, ESPAT_ERR_INVALID(k + 1));
	for (size_t i = lo; i <= hi; i++) {
		S(m)->c[i].nalpn = tmp.nalpn;
		memcpy(S(m)->c[i].alpn, tmp.alpn, sizeof(tmp.alpn));
	}
	save_links(m, SET_ALPN, lo, hi);
	return ESPAT_RC_OK;
}

static enum espat_rc psk_query(struct espat_module *m, const char *cmd, bool as_hex)
{
	for (size_t i = 0; i < query_links(m); i++) {
		const struct espat_ssl_conf *c = &S(m)->c[i];
		struct qline q;
		q_start(&q, cmd, i);
		if (as_hex) {
			char h[2 * ESPAT_SSL_PSK_MAX + 1];
			espat_hex_encode(h, c->psk, c->psk_len);
			q_field(&q, h, strlen(h));
		} else {
			q_field(&q, c->psk, c->psk_len);
		}
		q_field(&q, c->hint, c->hint_len);
		q_send(m, &q);
	}
	return ESPAT_RC_OK;
}

static enum espat_rc psk_set(struct espat_module *m, const struct espat_args *a, bool as_hex)
{
	struct espat_engine *e = E(m);
	size_t lo, hi, k;
	if (!target(m, a, &lo, &hi, &k))
		return espat_fail(e, ESPAT_ERR_INVALID(0));
	if (a->n != k + 2)
		return espat_fail(e, ESPAT_ERR_NUM(k + 2, a->n));
	uint8_t psk[ESPAT_SSL_PSK_MAX];
	size_t psk_len = 0;
	if (as_hex) {
		if (!str_arg(a, k, 2 * ESPAT_SSL_PSK_MAX) ||
		    !espat_hex_decode(a->v[k].s, a->v[k].len, psk, sizeof(psk), &psk_len))
			return espat_fail(e, ESPAT_ERR_INVALID(k));
	} else {
		if (!str_arg(a, k, ESPAT_SSL_PSK_MAX))
			return espat_fail(e, ESPAT_ERR_INVALID(k));
		psk_len = a->v[k].len;
		memcpy(psk, a->v[k].s, psk_len);
	}
	if (!str_arg(a, k + 1, ESPAT_SSL_PSK_MAX))
		return espat_fail(e, ESPAT_ERR_INVALID(k + 1));
	for (size_t i = lo; i <= hi; i++) {
		struct espat_ssl_conf *c = &S(m)->c[i];
		memcpy(c->psk, psk, psk_len);
		c->psk_len = (uint8_t)psk_len;
		memcpy(c->hint, a->v[k + 1].s, a->v[k + 1].len);
		c->hint_len = (uint8_t)a->v[k + 1].len;
	}
	save_links(m, SET_PSK, lo, hi);
	return ESPAT_RC_OK;
}

static enum espat_rc cpsk_query(struct espat_module *m, const struct espat_args *a)
{
	return psk_query(m, "CIPSSLCPSK", false);
}

static enum espat_rc cpsk_set(struct espat_module *m, const struct espat_args *a)
{
	return psk_set(m, a, false);
}

static enum espat_rc cpskhex_query(struct espat_module *m, const struct espat_args *a)
{
	return psk_query(m, "CIPSSLCPSKHEX", true);
}

static enum espat_rc cpskhex_set(struct espat_module *m, const struct espat_args *a)
{
	return psk_set(m, a, true);
}

/* The argument positions move with AT+CIPMUX, so the handlers check them. */
static const struct espat_param p_any7[] = {
	P_ANY_OPT("p1"), P_ANY_OPT("p2"), P_ANY_OPT("p3"), P_ANY_OPT("p4"),
	P_ANY_OPT("p5"), P_ANY_OPT("p6"), P_ANY_OPT("p7"),
};

static const struct espat_cmd rows[] = {
	{.name = "+CIPSSLCCONF", .query = cconf_query, .set = cconf_set, .params = p_any7,
	 .nparams = 4, .help = "SSL client authentication and PKI indexes"},
	{.name = "+CIPSSLCCN", .query = ccn_query, .set = ccn_set, .params = p_any7, .nparams = 2,
	 .help = "common name the SSL server's certificate must hold"},
	{.name = "+CIPSSLCSNI", .query = csni_query, .set = csni_set, .params = p_any7,
	 .nparams = 2, .help = "SSL client server name indication"},
	{.name = "+CIPSSLCALPN", .query = calpn_query, .set = calpn_set, .params = p_any7,
	 .nparams = N(p_any7), .help = "SSL client ALPN protocols"},
	{.name = "+CIPSSLCPSK", .query = cpsk_query, .set = cpsk_set, .params = p_any7,
	 .nparams = 3, .help = "SSL client pre-shared key (string)"},
	{.name = "+CIPSSLCPSKHEX", .query = cpskhex_query, .set = cpskhex_set, .params = p_any7,
	 .nparams = 3, .help = "SSL client pre-shared key (hexadecimal)"},
};

const struct espat_cmd_table espat_ssl_table = {
	.family = "ssl",
	.rows = rows,
	.n = sizeof(rows) / sizeof(rows[0]),
};

void espat_ssl_load(struct espat_module *m)
{
	load_settings(m);
}

/* The state starts zeroed (auth 0, no names, no PSK): the factory state.
 * Its settings load with the TCP/IP row's boot (espat_ssl_load). */
const struct espat_family espat_ssl_family = {
	.name = "ssl",
	.table = &espat_ssl_table,
	.state_size = sizeof(struct espat_ssl),
	.state_slot = offsetof(struct espat_module, ssl),
};
