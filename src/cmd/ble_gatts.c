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

void espat_ble_gatts_free(struct espat_module *m)
{
	struct espat_ble_gatts *g = G(m);
	for (size_t i = 0; i < g->n; i++)
		free(g->attr[i].val);
	free(g->attr);
	memset(g, 0, sizeof(*g));
}


/* A UUID as the table writes it ("0x2800", or 32 hex digits for 128
 * bits), most significant digit first, into little-endian bytes. */
static bool uuid_in(const char *s, size_t n, unsigned bits, uint8_t out[16], uint8_t *len)
{
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	uint8_t be[16];
	size_t got;
	if ((bits != 16 && bits != 128) || n != bits / 4 || !espat_hex_decode(s, n, be, sizeof(be), &got))
		return false;
	for (size_t i = 0; i < got; i++)
		out[i] = be[got - 1 - i];
	*len = (uint8_t)got;
	return true;
}

static bool num_in(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *v)
{
	return espat_parse_int(s, n, v) && *v >= lo && *v <= hi;
}

static bool is16(const struct espat_gatts_attr *a, uint16_t u)
{
	return a->uuid_len == 2 && a->uuid[0] == (u & 0xff) && a->uuid[1] == (u >> 8);
}

/* Parses one row into a (its value allocated); false on any bad field. */
static bool row_in(const char *row, struct espat_gatts_attr *a)
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
	if (k != 7 || !num_in(f[1], fl[1], 16, 128, &bits) ||
	    !uuid_in(f[2], fl[2], (unsigned)bits, a->uuid, &a->uuid_len) ||
	    !num_in(f[3], fl[3], 0, 0xffff, &perm) || !num_in(f[4], fl[4], 1, 512, &max) ||
	    !num_in(f[5], fl[5], 0, max, &cur))
		return false;
	a->perm = (uint16_t)perm;
	a->max_len = (uint16_t)max;
	a->len = (uint16_t)cur;
	a->val = calloc(1, (size_t)max);
	if (!a->val)
		return false;
	size_t vl = 0;
	if (is16(a, ESPAT_GATT_PRIMARY) || is16(a, ESPAT_GATT_SECONDARY)) {
		/* a service's value is its UUID, written as one number */
		uint8_t ul;
		if (!uuid_in(f[6], fl[6], fl[6] == 32 ? 128 : 16, a->val, &ul) || ul > max) {
			free(a->val);
			return false;
		}
		a->len = ul;
		return true;
	}
	if (!espat_hex_decode(f[6], fl[6], a->val, (size_t)max, &vl)) {
		free(a->val);
		return false;
	}
	return true;
}

/* Reads the rows gatts_cfg0, gatts_cfg1, ... (stopping at the first
 * missing) and numbers services, characteristics and descriptors as
 * AT+BLEGATTSCHAR? shows them. False (nothing built) when a row is bad
 * or a characteristic comes before any service. */
static bool table_build(struct espat_module *m)
{
	struct espat_ble_gatts *g = G(m);
	const struct espat_kv *kv = &m->ports.mfg;
	g->attr = calloc(ROWS_MAX, sizeof(*g->attr));
	if (!g->attr)
		return false;
	uint8_t srv = 0, chr = 0, desc = 0;
	bool after_decl = false;
	for (size_t i = 0; i < ROWS_MAX; i++) {
		char key[16];
		uint8_t buf[ROW_MAX + 1];
		snprintf(key, sizeof(key), "gatts_cfg%u", (unsigned)(uint8_t)i);
		long n = kv->get ? kv->get(kv->user, ESPAT_BLE_DATA_NS, key, buf, ROW_MAX) : -1;
		if (n < 0)
			break;
		/* AT+SYSMFG string (type 7): the type byte, then the text */
		if (n < 1 || n > (long)ROW_MAX || buf[0] != ESPAT_MFG_STR)
			goto bad;
		buf[n] = '\0';
		struct espat_gatts_attr *a = &g->attr[g->n];
		if (!row_in((const char *)buf + 1, a))
			goto bad;
		g->n++;
		if (is16(a, ESPAT_GATT_PRIMARY) || is16(a, ESPAT_GATT_SECONDARY)) {
			a->kind = ESPAT_GATTS_SRV;
			srv++;
			chr = desc = 0;
			after_decl = false;
		} else if (srv == 0) {
			goto bad;
		} else if (is16(a, ESPAT_GATT_CHAR)) {
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
	return true;
bad:
	espat_ble_gatts_free(m);
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
	if (espat_ble_linked(m) || G(m)->created || !table_build(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	G(m)->created = true;
	return ESPAT_RC_OK;
}

static const struct espat_param p_srv_index[] = {
    P_INT("srv_index", 1, 32),
};

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

/* "0xA002" for 16-bit UUIDs, else the 128 bits most significant first. */
static const char *uuid_str(const struct espat_gatts_attr *a, char out[35])
{
	size_t k = 0;
	out[k++] = '0';
	out[k++] = 'x';
	for (size_t i = a->uuid_len; i-- > 0;)
		k += (size_t)snprintf(out + k, 3, "%02X", a->uuid[i]);
	out[k] = '\0';
	return out;
}

static enum espat_rc srv_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	const struct espat_ble_gatts *g = G(m);
	for (size_t i = 0; i < g->n; i++) {
		const struct espat_gatts_attr *s = &g->attr[i];
		if (s->kind != ESPAT_GATTS_SRV)
			continue;
		struct espat_gatts_attr as_uuid = {.uuid_len = (uint8_t)s->len};
		memcpy(as_uuid.uuid, s->val, s->len);
		char u[35];
		espat_wr_linef(&m->wr, "+BLEGATTSSRV:%u,%u,%s,%u", s->srv,
		               (g->started >> (s->srv - 1)) & 1u, uuid_str(&as_uuid, u),
		               is16(s, ESPAT_GATT_PRIMARY) ? 1u : 0u);
	}
	return ESPAT_RC_OK;
}

static enum espat_rc char_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	const struct espat_ble_gatts *g = G(m);
	for (size_t i = 0; i < g->n; i++) {
		const struct espat_gatts_attr *x = &g->attr[i];
		char u[35];
		if (x->kind == ESPAT_GATTS_VALUE) {
			const struct espat_gatts_attr *decl = &g->attr[i - 1];
			espat_wr_linef(&m->wr, "+BLEGATTSCHAR:\"char\",%u,%u,%s,0x%02X", x->srv,
			               x->chr, uuid_str(x, u), decl->len ? decl->val[0] : 0);
		} else if (x->kind == ESPAT_GATTS_DESC) {
			espat_wr_linef(&m->wr, "+BLEGATTSCHAR:\"desc\",%u,%u,%u,%s", x->srv, x->chr,
			               x->desc, uuid_str(x, u));
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

/* The attribute of a characteristic's value (desc 0) or of one of its
 * descriptors; -1 when there is none. */
static long find_attr(const struct espat_ble_gatts *g, int64_t srv, int64_t chr, int64_t desc)
{
	for (size_t i = 0; i < g->n; i++) {
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
		struct espat_gatts_attr *x = &g->attr[g->set_attr];
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
	long i = g->created ? find_attr(g, a->v[0].i, a->v[1].i, desc) : -1;
	if (i < 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (a->v[3].i > g->attr[i].max_len)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	g->set_attr = (size_t)i;
	g->set_len = (size_t)a->v[3].i;
	g->set_got = 0;
	espat_engine_expect_data(E(m), g->set_len, setattr_data);
	return ESPAT_RC_PROMPT;
}

/* ---- the ATT server ------------------------------------------------------------ */

/* Handles are 1 + the row's place in the table. An attribute of a service
 * that is not started is not there for clients. */
static struct espat_gatts_attr *attr_at(struct espat_ble_gatts *g, uint16_t h)
{
	if (!g->created || h == 0 || h > g->n)
		return NULL;
	struct espat_gatts_attr *a = &g->attr[h - 1];
	return (g->started >> (a->srv - 1)) & 1u ? a : NULL;
}

/* An attribute's value as a client reads it: a characteristic declaration
 * is properties, the value's handle and its UUID (Vol 3 Part G 3.3.1); a
 * CCCD is that client's; others are stored. */
static size_t attr_value(struct espat_ble_gatts *g, size_t link, uint16_t h, uint8_t *out)
{
	struct espat_gatts_attr *a = &g->attr[h - 1];
	if (a->kind == ESPAT_GATTS_DECL && h < g->n) {
		const struct espat_gatts_attr *v = &g->attr[h];
		out[0] = a->len ? a->val[0] : 0;
		out[1] = (uint8_t)((h + 1) & 0xff);
		out[2] = (uint8_t)((h + 1) >> 8);
		memcpy(out + 3, v->uuid, v->uuid_len);
		return 3u + v->uuid_len;
	}
	if (is16(a, ESPAT_GATT_CCCD)) {
		out[0] = (uint8_t)(g->cccd[link][h - 1] & 0xff);
		out[1] = (uint8_t)(g->cccd[link][h - 1] >> 8);
		return 2;
	}
	memcpy(out, a->val, a->len);
	return a->len;
}

static size_t att_error(uint8_t op, uint16_t h, uint8_t err, uint8_t *rsp, size_t cap)
{
	struct espat_att_pdu e = {.op = ESPAT_ATT_ERROR_RSP, .req_op = op, .handle = h, .err = err};
	return espat_att_encode(&e, cap, rsp, cap);
}

/* +WRITE:<conn_index>,<srv_index>,<char_index>,[<desc_index>],<len>,<value>
 * with the value's raw bytes [000:14352, 14374]. */
static void report_write(struct espat_module *m, size_t link, const struct espat_gatts_attr *a,
                         const uint8_t *v, size_t n)
{
	char head[48];
	char desc[8] = "";
	if (a->desc)
		snprintf(desc, sizeof(desc), "%u", a->desc);
	int hl = snprintf(head, sizeof(head), "+WRITE:%u,%u,%u,%s,%zu,", (unsigned)link, a->srv,
	                  a->chr, desc, n);
	uint8_t *line = malloc((size_t)hl + n + 2);
	if (!line)
		return;
	memcpy(line, head, (size_t)hl);
	memcpy(line + hl, v, n);
	memcpy(line + hl + n, "\r\n", 2);
	espat_wr_report(&m->wr, line, (size_t)hl + n + 2);
	free(line);
}

/* Discovery: the services (Read By Group Type of 0x2800), declarations
 * (Read By Type), descriptors (Find Information) in [start, end], as many
 * of one length as the MTU takes. */
static size_t att_list(struct espat_module *m, size_t link, const struct espat_att_pdu *q,
                       size_t mtu, uint8_t *rsp, size_t cap)
{
	struct espat_ble_gatts *g = G(m);
	uint8_t list[ESPAT_ATT_MTU_MAX], v[ESPAT_ATT_MTU_MAX];
	size_t n = 0, elem = 0;
	uint8_t op = q->op == ESPAT_ATT_READ_BY_GROUP_REQ  ? ESPAT_ATT_READ_BY_GROUP_RSP
	             : q->op == ESPAT_ATT_READ_BY_TYPE_REQ ? ESPAT_ATT_READ_BY_TYPE_RSP
	                                                   : ESPAT_ATT_FIND_INFO_RSP;
	if (q->start == 0 || q->start > q->end)
		return att_error(q->op, q->start, ESPAT_ATT_E_INVALID_HANDLE, rsp, cap);
	struct espat_att_uuid prim = espat_att_uuid16(ESPAT_GATT_PRIMARY);
	if (q->op == ESPAT_ATT_READ_BY_GROUP_REQ && !espat_att_uuid_eq(&q->type, &prim))
		return att_error(q->op, q->start, ESPAT_ATT_E_UNSUPPORTED_GROUP, rsp, cap);
	for (uint32_t h = q->start; h <= q->end && h <= g->n; h++) {
		struct espat_gatts_attr *a = attr_at(g, (uint16_t)h);
		if (!a)
			continue;
		struct espat_att_item it = {.handle = (uint16_t)h};
		if (q->op == ESPAT_ATT_FIND_INFO_REQ) {
			it.uuid.len = a->uuid_len;
			memcpy(it.uuid.b, a->uuid, a->uuid_len);
		} else {
			struct espat_att_uuid t = {.len = a->uuid_len};
			memcpy(t.b, a->uuid, a->uuid_len);
			if (!espat_att_uuid_eq(&t, &q->type))
				continue;
			it.len = attr_value(g, link, (uint16_t)h, v);
			it.data = v;
			if (q->op == ESPAT_ATT_READ_BY_GROUP_REQ) {
				uint32_t e = h;
				while (e < g->n && g->attr[e].srv == a->srv)
					e++;
				it.end = (uint16_t)e;
			}
		}
		uint8_t one[ESPAT_ATT_MTU_MAX];
		size_t k = espat_att_item_put(op, &it, one, sizeof(one));
		if (k == 0 || (elem && k != elem) || 2 + n + k > mtu)
			break;
		elem = k;
		memcpy(list + n, one, k);
		n += k;
	}
	if (n == 0)
		return att_error(q->op, q->start, ESPAT_ATT_E_NOT_FOUND, rsp, cap);
	struct espat_att_pdu r = {
	    .op = op, .elem_len = (uint8_t)elem, .value = list, .value_len = n};
	return espat_att_encode(&r, mtu, rsp, cap);
}

size_t espat_ble_att_request(struct espat_module *m, const uint8_t addr[6], const uint8_t *req,
                             size_t len, uint8_t *rsp, size_t cap)
{
	if (espat_blufi_peer(m, addr)) /* BluFi's phone: its own service */
		return espat_blufi_att_request(m, addr, req, len, rsp, cap);
	int li = espat_ble_link_of(m, addr);
	if (li < 0)
		return 0;
	size_t link = (size_t)li, mtu = m->ble->link[li].mtu;
	if (cap < mtu)
		return 0;
	struct espat_ble_gatts *g = G(m);
	struct espat_att_pdu q;
	enum espat_att_rc rc = espat_att_decode(req, len, &q);
	bool cmd = q.op & ESPAT_ATT_CMD_FLAG;
	if (rc == ESPAT_ATT_UNKNOWN)
		return cmd ? 0 : att_error(q.op, 0, ESPAT_ATT_E_REQ_NOT_SUPPORTED, rsp, cap);
	if (rc == ESPAT_ATT_MALFORMED)
		return cmd ? 0 : att_error(q.op, 0, ESPAT_ATT_E_INVALID_PDU, rsp, cap);
	uint8_t v[ESPAT_ATT_VALUE_MAX + 32];
	switch (q.op) {
	case ESPAT_ATT_READ_BY_GROUP_REQ:
	case ESPAT_ATT_READ_BY_TYPE_REQ:
	case ESPAT_ATT_FIND_INFO_REQ:
		return att_list(m, link, &q, mtu, rsp, cap);
	case ESPAT_ATT_READ_REQ:
	case ESPAT_ATT_READ_BLOB_REQ: {
		struct espat_gatts_attr *a = attr_at(g, q.handle);
		if (!a)
			return att_error(q.op, q.handle, ESPAT_ATT_E_INVALID_HANDLE, rsp, cap);
		if (!(a->perm & 0x01))
			return att_error(q.op, q.handle, ESPAT_ATT_E_READ_NOT_PERMITTED, rsp, cap);
		size_t n = attr_value(g, link, q.handle, v);
		if (q.offset > n)
			return att_error(q.op, q.handle, ESPAT_ATT_E_INVALID_OFFSET, rsp, cap);
		char s[18];
		espat_wr_reportf(&m->wr, "+READ:%zu,\"%s\"", link, espat_mac_str(addr, s));
		struct espat_att_pdu r = {
		    .op = q.op == ESPAT_ATT_READ_REQ ? ESPAT_ATT_READ_RSP : ESPAT_ATT_READ_BLOB_RSP,
		    .value = v + q.offset,
		    .value_len = n - q.offset};
		return espat_att_encode(&r, mtu, rsp, cap);
	}
	case ESPAT_ATT_WRITE_REQ:
	case ESPAT_ATT_WRITE_CMD: {
		struct espat_gatts_attr *a = attr_at(g, q.handle);
		uint8_t err = 0;
		if (!a)
			err = ESPAT_ATT_E_INVALID_HANDLE;
		else if (!(a->perm & 0x10))
			err = ESPAT_ATT_E_WRITE_NOT_PERMITTED;
		else if (q.value_len > a->max_len || (is16(a, ESPAT_GATT_CCCD) && q.value_len != 2))
			err = ESPAT_ATT_E_INVALID_LEN;
		if (err)
			return cmd ? 0 : att_error(q.op, q.handle, err, rsp, cap);
		if (is16(a, ESPAT_GATT_CCCD))
			g->cccd[link][q.handle - 1] = (uint16_t)(q.value[0] | (q.value[1] << 8));
		else {
			memcpy(a->val, q.value, q.value_len);
			a->len = (uint16_t)q.value_len;
		}
		report_write(m, link, a, q.value, q.value_len);
		if (cmd)
			return 0;
		struct espat_att_pdu r = {.op = ESPAT_ATT_WRITE_RSP};
		return espat_att_encode(&r, mtu, rsp, cap);
	}
	case ESPAT_ATT_MTU_REQ:
		/* the exchange runs through espat_ble_peer_mtu (ble peer mtu) */
		return att_error(q.op, 0, ESPAT_ATT_E_REQ_NOT_SUPPORTED, rsp, cap);
	default:
		/* responses, notifications, confirmations: not requests */
		return 0;
	}
}

void espat_ble_att_in(struct espat_module *m, const uint8_t addr[6], const uint8_t *pdu,
                      size_t len)
{
	if (len == 0 || (espat_ble_link_of(m, addr) < 0 && !espat_blufi_peer(m, addr)))
		return;
	if (pdu[0] & 1u)
		return; /* server -> client: the GATT client's (not built yet) */
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

static enum espat_rc ntfy_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_ble_gatts *g = G(m);
	size_t k = n < g->ntf_len - g->ntf_got ? n : g->ntf_len - g->ntf_got;
	memcpy(g->ntf_buf + g->ntf_got, p, k);
	g->ntf_got += k;
	if (!last)
		return ESPAT_RC_PENDING;
	const struct espat_ble_link *l = &m->ble->link[g->ntf_link];
	if (!l->up || g->ntf_attr >= g->n) /* the link went while the data came */
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct espat_gatts_attr *a = &g->attr[g->ntf_attr];
	/* the value is the characteristic's from now on */
	memcpy(a->val, g->ntf_buf, g->ntf_len < a->max_len ? g->ntf_len : a->max_len);
	a->len = (uint16_t)(g->ntf_len < a->max_len ? g->ntf_len : a->max_len);
	struct espat_att_pdu pdu = {.op = g->ntf_op,
	                            .handle = (uint16_t)(g->ntf_attr + 1),
	                            .value = g->ntf_buf,
	                            .value_len = g->ntf_len};
	uint8_t out[ESPAT_ATT_MTU_MAX];
	size_t len = espat_att_encode(&pdu, l->mtu, out, sizeof(out));
	if (len == 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (m->ports.ble.att)
		m->ports.ble.att(m->ports.ble.user, l->addr, out, len);
	return ESPAT_RC_OK;
}

/* `>`, <length> bytes, OK. ERROR unless the link is up, the characteristic
 * has the property, and that client enabled it in its CCCD [000:7715];
 * <length> at most ATT_MTU - 3 [000:7706] (COMPAT #411). */
static enum espat_rc ntfy_common(struct espat_module *m, const struct espat_args *a, uint8_t op)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	struct espat_ble_gatts *g = G(m);
	size_t link = (size_t)a->v[0].i;
	const struct espat_ble_link *l = &m->ble->link[link];
	long vi = g->created ? find_attr(g, a->v[1].i, a->v[2].i, 0) : -1;
	if (!l->up || vi < 0 || !((g->started >> (a->v[1].i - 1)) & 1u))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint8_t prop = g->attr[vi - 1].len ? g->attr[vi - 1].val[0] : 0;
	uint16_t want = op == ESPAT_ATT_NOTIFY ? 0x01 : 0x02;
	uint16_t bits = 0;
	for (size_t i = (size_t)vi + 1; i < g->n && g->attr[i].kind == ESPAT_GATTS_DESC; i++)
		if (is16(&g->attr[i], ESPAT_GATT_CCCD))
			bits = g->cccd[link][i];
	if (!(prop & (op == ESPAT_ATT_NOTIFY ? 0x10 : 0x20)) || !(bits & want))
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
