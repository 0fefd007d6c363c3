/* The local GATT server's commands (guide 3.4.18-3.4.25): AT+BLEGATTSSRVCRE,
 * AT+BLEGATTSSRVSTART, AT+BLEGATTSSRVSTOP, AT+BLEGATTSSRV?, AT+BLEGATTSCHAR?,
 * AT+BLEGATTSSETATTR. The service table comes from the manufacturing NVS
 * (namespace ble_data, one string row per attribute, guide 6.9), as
 * esp-at reads it from its mfg_nvs partition. Serving it to peers over ATT
 * is the next step (docs/internals/ble.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/ble.h"
#include "cmd/ble_blufi.h"
#include "cmd/params.h"
#include "core/args.h"
#include "proto/att.h"

#define E(m) (&(m)->eng)
#define G(m) (&(m)->ble->gatts)
#define ROWS_MAX 128u /* gatts_cfg0 .. gatts_cfg127 at most */
#define ROW_MAX 1100u /* a row's text: 512 value bytes in hex and the fields */

/* esp-at's gatts_data.csv (catalog §1.3): services 0xA002 (eight
 * characteristics) and 0xA003 (two). Values are hex; a service row's value
 * is its UUID. A value shorter than val_cur_len is padded with zeros. */
const char *const espat_ble_gatts_default[] = {
    "0,16,0x2800,0x01,2,2,A002",  "1,16,0x2803,0x01,1,1,02",  "2,16,0xC300,0x01,1,1,30",
    "3,16,0x2901,0x11,1,1,30",    "4,16,0x2803,0x01,1,1,02",  "5,16,0xC301,0x01,512,512,",
    "6,16,0x2901,0x11,512,512,",  "7,16,0x2803,0x01,1,1,08",  "8,16,0xC302,0x10,1,1,30",
    "9,16,0x2901,0x01,1,1,30",    "10,16,0x2803,0x01,1,1,04", "11,16,0xC303,0x10,1,1,30",
    "12,16,0x2901,0x10,1,1,30",   "13,16,0x2803,0x01,1,1,08", "14,16,0xC304,0x10,512,512,",
    "15,16,0x2803,0x01,1,1,10",   "16,16,0xC305,0x01,1,1,00", "17,16,0x2902,0x11,2,2,0000",
    "18,16,0x2803,0x01,1,1,20",   "19,16,0xC306,0x01,1,1,00", "20,16,0x2902,0x11,2,2,0000",
    "21,16,0x2803,0x01,1,1,02",   "22,16,0xC307,0x01,1,1,30", "23,16,0x2901,0x11,256,1,30",
    "24,16,0x2800,0x01,2,2,A003", "25,16,0x2803,0x01,1,1,02", "26,16,0xC400,0x01,1,1,30",
    "27,16,0x2901,0x11,1,1,30",   "28,16,0x2803,0x01,1,1,02", "29,16,0xC401,0x01,1,1,30",
    "30,16,0x2901,0x11,256,1,30",
};
const size_t espat_ble_gatts_default_n =
    sizeof(espat_ble_gatts_default) / sizeof(espat_ble_gatts_default[0]);

#define CORE_ATTRS 16u                  /* the GATT and GAP services' attributes */
#define DB_MEM (ROWS_MAX * 512u + 256u) /* every row at its largest, and the core's */

void espat_ble_gatts_free(struct espat_module *m)
{
	struct espat_ble_gatts *g = G(m);
	free(g->db_attr);
	free(g->db_mem);
	free(g->attr);
	memset(g, 0, sizeof(*g));
}

/* A UUID as the table writes it ("0x2800", or 32 hex digits for 128
 * bits), most significant digit first, into little-endian bytes. */
static bool uuid_in(const char *s, size_t n, unsigned bits, struct espat_att_uuid *u)
{
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	uint8_t be[16];
	size_t got;
	if ((bits != 16 && bits != 128) || n != bits / 4 ||
	    !espat_hex_decode(s, n, be, sizeof(be), &got))
		return false;
	for (size_t i = 0; i < got; i++)
		u->b[i] = be[got - 1 - i];
	u->len = (uint8_t)got;
	return true;
}

static bool num_in(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *v)
{
	return espat_parse_int(s, n, v) && *v >= lo && *v <= hi;
}

uint16_t espat_ble_gatts_row_add(struct espat_gatt_db *db, const char *row)
{
	const char *f[7];
	size_t fl[7], k = 0;
	const char *p = row;
	for (;;) {
		const char *c = strchr(p, ',');
		if (k == 6 || !c) {
			f[k] = p;
			fl[k] = strlen(p);
			k++;
			break;
		}
		f[k] = p;
		fl[k] = (size_t)(c - p);
		k++;
		p = c + 1;
	}
	int64_t bits, perm, max, cur;
	struct espat_att_uuid type;
	if (k != 7 || !num_in(f[1], fl[1], 16, 128, &bits) ||
	    !uuid_in(f[2], fl[2], (unsigned)bits, &type) ||
	    !num_in(f[3], fl[3], 0, 0xffff, &perm) || !num_in(f[4], fl[4], 1, 512, &max) ||
	    !num_in(f[5], fl[5], 0, max, &cur))
		return 0;
	uint8_t val[512] = {0};
	size_t vl = 0;
	struct espat_att_uuid prim = espat_att_uuid16(ESPAT_GATT_PRIMARY),
	                      sec = espat_att_uuid16(ESPAT_GATT_SECONDARY);
	if (espat_att_uuid_eq(&type, &prim) || espat_att_uuid_eq(&type, &sec)) {
		/* a service's value is its UUID, written as one number */
		struct espat_att_uuid su;
		if (!uuid_in(f[6], fl[6], fl[6] == 32 ? 128 : 16, &su) || su.len > max)
			return 0;
		return espat_gatt_db_add(db, &type, (uint16_t)perm, (uint16_t)max, su.b, su.len);
	}
	if (!espat_hex_decode(f[6], fl[6], val, (size_t)max, &vl))
		return 0;
	/* a value shorter than val_cur_len is padded with zeros */
	return espat_gatt_db_add(db, &type, (uint16_t)perm, (uint16_t)max, val, (uint16_t)cur);
}

static void on_read(void *user, size_t client, uint16_t h);
static void on_write(void *user, size_t client, uint16_t h, const uint8_t *v, size_t n);

static void on_confirm(void *user, size_t client)
{
	espat_ble_spp_confirmed(user, client);
}

/* The database with the GATT and GAP services, made when first needed:
 * a client sees those before any AT+BLEGATTSSRVCRE. False: no memory. */
static bool db_ready(struct espat_module *m)
{
	struct espat_ble_gatts *g = G(m);
	if (g->db_attr)
		return true;
	g->db_attr = calloc(CORE_ATTRS + ROWS_MAX, sizeof(*g->db_attr));
	g->db_mem = malloc(DB_MEM);
	if (!g->db_attr || !g->db_mem) {
		espat_ble_gatts_free(m);
		return false;
	}
	espat_gatt_db_init(&g->db, g->db_attr, CORE_ATTRS + ROWS_MAX, g->db_mem, DB_MEM);
	g->db.ops = (struct espat_gatt_db_ops){
	    .on_read = on_read, .on_write = on_write, .on_confirm = on_confirm, .user = m};
	g->name_h = espat_gatt_db_add_core(&g->db, m->ble->name);
	g->base = (uint16_t)(g->db.n + 1);
	return true;
}

/* The database attribute of table row i. */
static struct espat_gatt_attr *row_attr(struct espat_ble_gatts *g, size_t i)
{
	return &g->db.attr[g->base - 1 + i];
}

/* Where a table's rows come from: row i's text into buf (cap bytes, NUL
 * ended); 1, 0 past the last row, -1 when the row cannot be read. */
typedef int (*row_fn)(struct espat_module *m, const void *src, size_t i, char *buf, size_t cap);

/* The manufacturing NVS's gatts_cfg<i> strings (AT+SYSMFG type 7). */
static int mfg_row(struct espat_module *m, const void *src, size_t i, char *buf, size_t cap)
{
	(void)src;
	const struct espat_kv *kv = &m->ports.mfg;
	char key[16];
	uint8_t raw[ROW_MAX + 1];
	snprintf(key, sizeof(key), "gatts_cfg%u", (unsigned)(uint8_t)i);
	long n = kv->get ? kv->get(kv->user, ESPAT_BLE_DATA_NS, key, raw, ROW_MAX) : -1;
	if (n < 0)
		return 0;
	/* the type byte, then the text */
	if (n < 1 || n > (long)ROW_MAX || (size_t)n > cap || raw[0] != ESPAT_MFG_STR)
		return -1;
	memcpy(buf, raw + 1, (size_t)n - 1);
	buf[n - 1] = '\0';
	return 1;
}

/* A fixed table's rows (the HID device's). */
struct fixed_rows {
	const char *const *rows;
	size_t n;
};

static int fixed_row(struct espat_module *m, const void *src, size_t i, char *buf, size_t cap)
{
	(void)m;
	const struct fixed_rows *f = src;
	if (i >= f->n)
		return 0;
	size_t len = strlen(f->rows[i]);
	if (len >= cap)
		return -1;
	memcpy(buf, f->rows[i], len + 1);
	return 1;
}

/* Reads the rows (stopping at the first missing) and numbers services,
 * characteristics and descriptors as AT+BLEGATTSCHAR? shows them. False
 * (nothing built) when a row is bad or a characteristic comes before any
 * service. */
static bool table_build(struct espat_module *m, row_fn next, const void *src)
{
	struct espat_ble_gatts *g = G(m);
	if (!db_ready(m))
		return false;
	size_t core_n = g->db.n, core_used = g->db.used;
	g->attr = calloc(ROWS_MAX, sizeof(*g->attr));
	if (!g->attr)
		return false;
	uint8_t srv = 0, chr = 0, desc = 0;
	bool after_decl = false;
	for (size_t i = 0; i < ROWS_MAX; i++) {
		char buf[ROW_MAX + 1];
		int got = next(m, src, i, buf, sizeof(buf));
		if (got == 0)
			break;
		if (got < 0 || !espat_ble_gatts_row_add(&g->db, buf))
			goto bad;
		struct espat_gatts_attr *a = &g->attr[g->n];
		const struct espat_gatt_attr *d = row_attr(g, g->n);
		g->n++;
		if (espat_gatt_db_is(d, ESPAT_GATT_PRIMARY) ||
		    espat_gatt_db_is(d, ESPAT_GATT_SECONDARY)) {
			a->kind = ESPAT_GATTS_SRV;
			srv++;
			chr = desc = 0;
			after_decl = false;
		} else if (srv == 0) {
			goto bad;
		} else if (espat_gatt_db_is(d, ESPAT_GATT_CHAR)) {
			a->kind = ESPAT_GATTS_DECL;
			chr++;
			desc = 0;
			after_decl = true;
		} else if (after_decl) {
			a->kind = ESPAT_GATTS_VALUE;
			after_decl = false;
		} else if (chr > 0) {
			a->kind = ESPAT_GATTS_DESC;
			desc++;
		} else {
			goto bad;
		}
		a->srv = srv;
		a->chr = a->kind == ESPAT_GATTS_SRV ? 0 : chr;
		a->desc = a->kind == ESPAT_GATTS_DESC ? desc : 0;
	}
	if (srv == 0 || srv > 32)
		goto bad;
	g->nsrv = srv;
	/* services start stopped: not there for clients until AT+BLEGATTSSRVSTART */
	for (size_t i = 0; i < g->n; i++)
		row_attr(g, i)->hidden = true;
	return true;
bad:
	free(g->attr);
	g->attr = NULL;
	g->n = 0;
	g->db.n = core_n;
	g->db.used = core_used;
	return false;
}

/* ---- AT+BLEGATTSSRVCRE, SRVSTART, SRVSTOP ------------------------------------- */

/* ERROR when a link is up [000:7484], when the services exist already, or
 * when the table in the manufacturing NVS is missing or bad (COMPAT #410). */
static enum espat_rc srvcre_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	if (espat_ble_linked(m) || G(m)->created || !table_build(m, mfg_row, NULL))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	G(m)->created = true;
	return ESPAT_RC_OK;
}

bool espat_ble_gatts_load(struct espat_module *m, const char *const *rows, size_t n)
{
	struct espat_ble_gatts *g = G(m);
	const struct fixed_rows src = {rows, n};
	if (g->created || !table_build(m, fixed_row, &src))
		return false;
	g->created = true;
	g->started = g->nsrv >= 32 ? 0xffffffffu : ((1u << g->nsrv) - 1);
	for (size_t i = 0; i < g->n; i++)
		row_attr(g, i)->hidden = false;
	return true;
}

static const struct espat_param p_srv_index[] = {
    P_INT("srv_index", 1, 32),
};

static bool srv_on(const struct espat_ble_gatts *g, unsigned srv)
{
	return (g->started >> (srv - 1)) & 1u;
}

static enum espat_rc srv_switch(struct espat_module *m, const struct espat_args *a, bool on)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gatts *g = G(m);
	if (!g->created)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint32_t bits = g->nsrv >= 32 ? 0xffffffffu : ((1u << g->nsrv) - 1);
	if (a && a->n >= 1) {
		if (a->v[0].i > g->nsrv)
			return espat_fail(E(m), ESPAT_ERR_INVALID(0));
		bits = 1u << (a->v[0].i - 1);
	}
	g->started = on ? g->started | bits : g->started & ~bits;
	/* an attribute of a stopped service is not there for clients */
	for (size_t i = 0; i < g->n; i++)
		row_attr(g, i)->hidden = !srv_on(g, g->attr[i].srv);
	return ESPAT_RC_OK;
}

static enum espat_rc srvstart_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	return srv_switch(m, NULL, true);
}

static enum espat_rc srvstart_set(struct espat_module *m, const struct espat_args *a)
{
	return srv_switch(m, a, true);
}

static enum espat_rc srvstop_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	return srv_switch(m, NULL, false);
}

static enum espat_rc srvstop_set(struct espat_module *m, const struct espat_args *a)
{
	return srv_switch(m, a, false);
}

/* ---- AT+BLEGATTSSRV?, AT+BLEGATTSCHAR? ---------------------------------------- */

const char *espat_ble_uuid_str(const struct espat_att_uuid *u, char out[35])
{
	size_t k = 0;
	out[k++] = '0';
	out[k++] = 'x';
	for (size_t i = u->len; i-- > 0;)
		k += (size_t)snprintf(out + k, 3, "%02X", u->b[i]);
	out[k] = '\0';
	return out;
}

static enum espat_rc srv_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gatts *g = G(m);
	for (size_t i = 0; i < g->n; i++) {
		const struct espat_gatts_attr *s = &g->attr[i];
		if (s->kind != ESPAT_GATTS_SRV)
			continue;
		const struct espat_gatt_attr *d = row_attr(g, i);
		struct espat_att_uuid u = {.len = (uint8_t)d->len};
		memcpy(u.b, d->val, d->len);
		char us[35];
		espat_wr_linef(&m->wr, "+BLEGATTSSRV:%u,%u,%s,%u", s->srv,
		               srv_on(g, s->srv) ? 1u : 0u, espat_ble_uuid_str(&u, us),
		               espat_gatt_db_is(d, ESPAT_GATT_PRIMARY) ? 1u : 0u);
	}
	return ESPAT_RC_OK;
}

static enum espat_rc char_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gatts *g = G(m);
	for (size_t i = 0; i < g->n; i++) {
		const struct espat_gatts_attr *x = &g->attr[i];
		const struct espat_gatt_attr *d = row_attr(g, i);
		char u[35];
		if (x->kind == ESPAT_GATTS_VALUE) {
			const struct espat_gatt_attr *decl = row_attr(g, i - 1);
			espat_wr_linef(&m->wr, "+BLEGATTSCHAR:\"char\",%u,%u,%s,0x%02X", x->srv,
			               x->chr, espat_ble_uuid_str(&d->type, u),
			               decl->len ? decl->val[0] : 0);
		} else if (x->kind == ESPAT_GATTS_DESC) {
			espat_wr_linef(&m->wr, "+BLEGATTSCHAR:\"desc\",%u,%u,%u,%s", x->srv, x->chr,
			               x->desc, espat_ble_uuid_str(&d->type, u));
		}
	}
	return ESPAT_RC_OK;
}

/* ---- AT+BLEGATTSSETATTR --------------------------------------------------------- */

static const struct espat_param p_setattr[] = {
    P_INT("srv_index", 1, 32),
    P_INT("char_index", 1, 255),
    P_INT_OPT("desc_index", 1, 255),
    P_INT("length", 1, 512),
};

long espat_ble_gatts_find(const struct espat_module *m, int64_t srv, int64_t chr, int64_t desc)
{
	const struct espat_ble_gatts *g = &m->ble->gatts;
	for (size_t i = 0; g->created && i < g->n; i++) {
		const struct espat_gatts_attr *x = &g->attr[i];
		if (x->srv != srv || x->chr != chr)
			continue;
		if ((desc == 0 && x->kind == ESPAT_GATTS_VALUE) ||
		    (desc > 0 && x->kind == ESPAT_GATTS_DESC && x->desc == desc))
			return (long)i;
	}
	return -1;
}

static enum espat_rc setattr_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_ble_gatts *g = G(m);
	/* the table may be gone (AT+BLEINIT=0 cannot come mid-entry, a restart ends it) */
	if (g->set_attr < g->n) {
		struct espat_gatt_attr *x = row_attr(g, g->set_attr);
		size_t k = n < g->set_len - g->set_got ? n : g->set_len - g->set_got;
		memcpy(x->val + g->set_got, p, k);
		g->set_got += k;
		if (last)
			x->len = (uint16_t)g->set_len;
	}
	return last ? ESPAT_RC_OK : ESPAT_RC_PENDING;
}

/* `>`, <length> bytes, OK; <length> above val_max_len is ERROR [000:7822]. */
static enum espat_rc setattr_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gatts *g = G(m);
	int64_t desc = a->v[2].kind == ESPAT_ARG_OMITTED ? 0 : a->v[2].i;
	long i = espat_ble_gatts_find(m, a->v[0].i, a->v[1].i, desc);
	if (i < 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (a->v[3].i > row_attr(g, (size_t)i)->max_len)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	g->set_attr = (size_t)i;
	g->set_len = (size_t)a->v[3].i;
	g->set_got = 0;
	espat_engine_expect_data(E(m), g->set_len, setattr_data);
	return ESPAT_RC_PROMPT;
}

/* ---- the ATT server ------------------------------------------------------------ */

/* The database's client number is the link's <conn_index>. */
static void on_read(void *user, size_t client, uint16_t h)
{
	struct espat_module *m = user;
	struct espat_ble_gatts *g = G(m);
	if (h == g->name_h && g->name_h) {
		/* the GAP Device Name is AT+BLENAME's */
		struct espat_gatt_attr *a = espat_gatt_db_attr(&g->db, h);
		size_t nl = strlen(m->ble->name);
		nl = nl < a->max_len ? nl : a->max_len;
		memcpy(a->val, m->ble->name, nl);
		a->len = (uint16_t)nl;
	}
	/* the HID device's profile reports nothing on the UART (COMPAT #481) */
	if (h < g->base || espat_ble_hid_on(m))
		return; /* the GATT and GAP services are the stack's: no report */
	char s[18];
	espat_wr_reportf(&m->wr, "+READ:%zu,\"%s\"", client,
	                 espat_mac_str(m->ble->link[client].addr, s));
}

/* +WRITE:<conn_index>,<srv_index>,<char_index>,[<desc_index>],<len>,<value>
 * with the value's raw bytes [000:14352, 14374]. */
static void on_write(void *user, size_t client, uint16_t h, const uint8_t *v, size_t n)
{
	struct espat_module *m = user;
	struct espat_ble_gatts *g = G(m);
	if (h < g->base || (size_t)(h - g->base) >= g->n || espat_ble_hid_on(m))
		return;
	size_t row = (size_t)(h - g->base);
	const struct espat_gatts_attr *a = &g->attr[row];
	if (espat_ble_spp_write_in(m, client, row, v, n))
		return; /* SPP data: raw to the UART */
	char head[48];
	char desc[8] = "";
	if (a->desc)
		snprintf(desc, sizeof(desc), "%u", a->desc);
	int hl = snprintf(head, sizeof(head), "+WRITE:%zu,%u,%u,%s,%zu,", client, a->srv, a->chr,
	                  desc, n);
	uint8_t *line = malloc((size_t)hl + n + 2);
	if (!line)
		return;
	memcpy(line, head, (size_t)hl);
	memcpy(line + hl, v, n);
	memcpy(line + hl + n, "\r\n", 2);
	espat_wr_report(&m->wr, line, (size_t)hl + n + 2);
	free(line);
}

void espat_ble_gatts_client_reset(struct espat_module *m, size_t link)
{
	if (G(m)->db_attr)
		espat_gatt_db_client_reset(&G(m)->db, link);
}

void espat_ble_gatts_set_level(struct espat_module *m, size_t link, uint8_t level)
{
	if (G(m)->db_attr)
		espat_gatt_db_set_level(&G(m)->db, link, level);
}

size_t espat_ble_att_request(struct espat_module *m, const uint8_t addr[6], const uint8_t *req,
                             size_t len, uint8_t *rsp, size_t cap)
{
	if (espat_blufi_peer(m, addr)) /* BluFi's phone: its own service */
		return espat_blufi_att_request(m, addr, req, len, rsp, cap);
	int li = espat_ble_link_of(m, addr);
	if (li < 0 || !db_ready(m))
		return 0;
	return espat_gatt_db_answer(&G(m)->db, (size_t)li, m->ble->link[li].mtu, req, len, rsp,
	                            cap);
}

void espat_ble_att_in(struct espat_module *m, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	int li = espat_ble_link_of(m, addr);
	bool blufi = li < 0 && espat_blufi_peer(m, addr); /* BluFi's phone: no BLE link */
	if (len == 0 || (li < 0 && !blufi))
		return;
	if (pdu[0] & 1u) {
		/* server -> client: a response, a notification, an indication */
		if (!blufi)
			espat_ble_gattc_in(m, (size_t)li, pdu, len);
		return;
	}
	uint8_t rsp[ESPAT_ATT_MTU_MAX];
	size_t n = espat_ble_att_request(m, addr, pdu, len, rsp, sizeof(rsp));
	if (n > 0 && m->ports.ble.att)
		m->ports.ble.att(m->ports.ble.user, addr, rsp, n);
}

/* ---- AT+BLEGATTSNTFY, AT+BLEGATTSIND ---------------------------------------------- */

static const struct espat_param p_ntfy[] = {
    P_INT("conn_index", 0, ESPAT_BLE_LINKS - 1),
    P_INT("srv_index", 1, 32),
    P_INT("char_index", 1, 255),
    P_INT("length", 1, ESPAT_ATT_MTU_MAX - 3),
};

enum espat_gatt_ntf_err espat_ble_gatts_send(struct espat_module *m, size_t link, uint8_t op,
                                             size_t row, const uint8_t *v, size_t n)
{
	struct espat_ble_gatts *g = G(m);
	const struct espat_ble_link *l = &m->ble->link[link];
	if (!l->up || row >= g->n || !srv_on(g, g->attr[row].srv))
		return ESPAT_GATT_NTF_BAD_HANDLE;
	uint8_t out[ESPAT_ATT_MTU_MAX];
	size_t len = 0;
	enum espat_gatt_ntf_err e = espat_gatt_db_notify(
	    &g->db, link, op, (uint16_t)(g->base + row), v, n, l->mtu, out, sizeof(out), &len);
	if (e != ESPAT_GATT_NTF_OK)
		return e;
	/* the value is the characteristic's from now on */
	struct espat_gatt_attr *a = row_attr(g, row);
	a->len = (uint16_t)(n < a->max_len ? n : a->max_len);
	memcpy(a->val, v, a->len);
	if (m->ports.ble.att)
		m->ports.ble.att(m->ports.ble.user, l->addr, out, len);
	return ESPAT_GATT_NTF_OK;
}

static enum espat_rc ntfy_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_ble_gatts *g = G(m);
	size_t k = n < g->ntf_len - g->ntf_got ? n : g->ntf_len - g->ntf_got;
	memcpy(g->ntf_buf + g->ntf_got, p, k);
	g->ntf_got += k;
	if (!last)
		return ESPAT_RC_PENDING;
	/* the link may have gone, or the CCCD changed, while the data came */
	if (espat_ble_gatts_send(m, g->ntf_link, g->ntf_op, g->ntf_attr, g->ntf_buf, g->ntf_len) !=
	    ESPAT_GATT_NTF_OK)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return ESPAT_RC_OK;
}

/* `>`, <length> bytes, OK. ERROR unless the link is up, the characteristic
 * has the property, and that client enabled it in its CCCD [000:7715];
 * <length> at most ATT_MTU - 3 [000:7706] (COMPAT #411); an indication
 * while the last one waits for its confirmation is ERROR at once (COMPAT
 * #430). */
static enum espat_rc ntfy_common(struct espat_module *m, const struct espat_args *a, uint8_t op)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gatts *g = G(m);
	size_t link = (size_t)a->v[0].i;
	const struct espat_ble_link *l = &m->ble->link[link];
	long vi = espat_ble_gatts_find(m, a->v[1].i, a->v[2].i, 0);
	if (!l->up || vi < 0 || !srv_on(g, (unsigned)a->v[1].i))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	/* the checks the send makes, refused now rather than after `>` */
	if (espat_gatt_db_can_notify(&g->db, link, op, (uint16_t)(g->base + vi), 0, l->mtu) !=
	    ESPAT_GATT_NTF_OK)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if ((size_t)a->v[3].i > espat_att_value_room(op, l->mtu))
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	g->ntf_op = op;
	g->ntf_link = link;
	g->ntf_attr = (size_t)vi;
	g->ntf_len = (size_t)a->v[3].i;
	g->ntf_got = 0;
	espat_engine_expect_data(E(m), g->ntf_len, ntfy_data);
	return ESPAT_RC_PROMPT;
}

static enum espat_rc ntfy_set(struct espat_module *m, const struct espat_args *a)
{
	return ntfy_common(m, a, ESPAT_ATT_NOTIFY);
}

static enum espat_rc ind_set(struct espat_module *m, const struct espat_args *a)
{
	return ntfy_common(m, a, ESPAT_ATT_INDICATE);
}

static const struct espat_cmd gatts_rows[] = {
    {.name = "+BLEGATTSSRVCRE", .exec = srvcre_exec, .help = "GATTS creates services"},
    {.name = "+BLEGATTSSRVSTART",
     .exec = srvstart_exec,
     .set = srvstart_set,
     .params = p_srv_index,
     .nparams = N(p_srv_index),
     .help = "GATTS starts services"},
    {.name = "+BLEGATTSSRVSTOP",
     .exec = srvstop_exec,
     .set = srvstop_set,
     .params = p_srv_index,
     .nparams = N(p_srv_index),
     .help = "GATTS stops services"},
    {.name = "+BLEGATTSSRV", .query = srv_query, .help = "GATTS discovers services"},
    {.name = "+BLEGATTSCHAR", .query = char_query, .help = "GATTS discovers characteristics"},
    {.name = "+BLEGATTSNTFY",
     .set = ntfy_set,
     .params = p_ntfy,
     .nparams = N(p_ntfy),
     .help = "Notify a client of the value of a characteristic"},
    {.name = "+BLEGATTSIND",
     .set = ind_set,
     .params = p_ntfy,
     .nparams = N(p_ntfy),
     .help = "Indicate the value of a characteristic to a client"},
    {.name = "+BLEGATTSSETATTR",
     .set = setattr_set,
     .params = p_setattr,
     .nparams = N(p_setattr),
     .help = "GATTS sets an attribute"},
};

static const struct espat_cmd_table gatts_table = {
    .family = "ble_gatts",
    .rows = gatts_rows,
    .n = sizeof(gatts_rows) / sizeof(gatts_rows[0]),
};

/* No state of its own: the server lives in the ble family's slot, which
 * frees it. */
const struct espat_family espat_ble_gatts_family = {
    .name = "ble_gatts",
    .table = &gatts_table,
};
