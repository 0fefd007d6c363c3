/* The attribute database and its ATT server: see gatt_db.h. */
#include "proto/gatt_db.h"

#include <string.h>

void espat_gatt_db_init(struct espat_gatt_db *db, struct espat_gatt_attr *attr, size_t cap,
                        uint8_t *mem, size_t mem_cap)
{
	*db = (struct espat_gatt_db){.attr = attr, .cap = cap, .mem = mem, .mem_cap = mem_cap};
}

uint16_t espat_gatt_db_add(struct espat_gatt_db *db, const struct espat_att_uuid *type,
                           uint16_t perm, uint16_t max_len, const uint8_t *val, uint16_t len)
{
	if (db->n == db->cap || db->n >= 0xffff || len > max_len ||
	    max_len > db->mem_cap - db->used)
		return 0;
	struct espat_gatt_attr *a = &db->attr[db->n];
	*a = (struct espat_gatt_attr){
	    .type = *type, .perm = perm, .max_len = max_len, .len = len, .val = db->mem + db->used};
	memset(a->val, 0, max_len);
	if (val && len)
		memcpy(a->val, val, len);
	db->used += max_len;
	return (uint16_t)++db->n;
}

static uint16_t add16(struct espat_gatt_db *db, uint16_t type, uint16_t perm, uint16_t max_len,
                      const uint8_t *val, uint16_t len)
{
	struct espat_att_uuid t = espat_att_uuid16(type);
	return espat_gatt_db_add(db, &t, perm, max_len, val, len);
}

/* A characteristic: its declaration (properties) and its value. */
static uint16_t add_char(struct espat_gatt_db *db, uint16_t uuid, uint8_t prop, uint16_t perm,
                         uint16_t max_len, const uint8_t *val, uint16_t len)
{
	if (!add16(db, ESPAT_GATT_CHAR, ESPAT_GATT_PERM_READ, 1, &prop, 1))
		return 0;
	return add16(db, uuid, perm, max_len, val, len);
}

uint16_t espat_gatt_db_add_core(struct espat_gatt_db *db, const char *name)
{
	const uint8_t gatt[2] = {0x01, 0x18}, gap[2] = {0x00, 0x18};
	const uint8_t changed[4] = {0x01, 0x00, 0xff, 0xff}, none[2] = {0, 0}, zero[2] = {0, 0};
	size_t nl = strlen(name);
	if (nl > 32)
		nl = 32;
	uint16_t h = 0;
	bool ok =
	    add16(db, ESPAT_GATT_PRIMARY, ESPAT_GATT_PERM_READ, 2, gatt, 2) &&
	    add_char(db, 0x2A05, ESPAT_GATT_PROP_INDICATE, 0, 4, changed, 4) &&
	    add16(db, ESPAT_GATT_CCCD, ESPAT_GATT_PERM_READ | ESPAT_GATT_PERM_WRITE, 2, none, 2) &&
	    add16(db, ESPAT_GATT_PRIMARY, ESPAT_GATT_PERM_READ, 2, gap, 2) &&
	    (h = add_char(db, 0x2A00, ESPAT_GATT_PROP_READ, ESPAT_GATT_PERM_READ, 32,
	                  (const uint8_t *)name, (uint16_t)nl)) != 0 &&
	    add_char(db, 0x2A01, ESPAT_GATT_PROP_READ, ESPAT_GATT_PERM_READ, 2, zero, 2);
	return ok ? h : 0;
}

struct espat_gatt_attr *espat_gatt_db_attr(struct espat_gatt_db *db, uint16_t h)
{
	return h >= 1 && h <= db->n ? &db->attr[h - 1] : NULL;
}

bool espat_gatt_db_is(const struct espat_gatt_attr *a, uint16_t uuid16)
{
	return a->type.len == 2 && a->type.b[0] == (uuid16 & 0xff) && a->type.b[1] == (uuid16 >> 8);
}

static bool is_service(const struct espat_gatt_attr *a)
{
	return espat_gatt_db_is(a, ESPAT_GATT_PRIMARY) || espat_gatt_db_is(a, ESPAT_GATT_SECONDARY);
}

uint16_t espat_gatt_db_service_end(const struct espat_gatt_db *db, uint16_t h)
{
	size_t e = h;
	while (e < db->n && !is_service(&db->attr[e]))
		e++;
	return (uint16_t)e;
}

void espat_gatt_db_service_hide(struct espat_gatt_db *db, uint16_t h, bool hidden)
{
	uint16_t end = espat_gatt_db_service_end(db, h);
	for (uint16_t i = h; i >= 1 && i <= end; i++)
		db->attr[i - 1].hidden = hidden;
}

/* Attribute h as a client may see it, or NULL. */
static struct espat_gatt_attr *visible(struct espat_gatt_db *db, uint16_t h)
{
	struct espat_gatt_attr *a = espat_gatt_db_attr(db, h);
	return a && !a->hidden ? a : NULL;
}

/* An attribute's value as a client reads it: a characteristic declaration
 * is properties, the value's handle and its UUID (Vol 3 Part G 3.3.1); a
 * CCCD is that client's; others are stored. */
static size_t value_of(struct espat_gatt_db *db, size_t client, uint16_t h, uint8_t *out)
{
	struct espat_gatt_attr *a = &db->attr[h - 1];
	if (espat_gatt_db_is(a, ESPAT_GATT_CHAR) && h < db->n) {
		const struct espat_gatt_attr *v = &db->attr[h];
		out[0] = a->len ? a->val[0] : 0;
		out[1] = (uint8_t)((h + 1) & 0xff);
		out[2] = (uint8_t)((h + 1) >> 8);
		memcpy(out + 3, v->type.b, v->type.len);
		return 3u + v->type.len;
	}
	if (espat_gatt_db_is(a, ESPAT_GATT_CCCD)) {
		out[0] = (uint8_t)(a->cccd[client] & 0xff);
		out[1] = (uint8_t)(a->cccd[client] >> 8);
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

/* Whether client may read (write) attribute a on its link now: 0, or the
 * ATT error. Plain permission first; else the encrypted kinds, which ask
 * for the level they need (Bluedroid answers a client below it
 * Insufficient Authentication, so that it pairs). */
static uint8_t may_access(const struct espat_gatt_db *db, size_t client,
                          const struct espat_gatt_attr *a, bool write)
{
	uint16_t plain = write ? ESPAT_GATT_PERM_WRITE : ESPAT_GATT_PERM_READ;
	uint16_t enc = write ? ESPAT_GATT_PERM_WRITE_ENC : ESPAT_GATT_PERM_READ_ENC;
	uint16_t mitm = write ? ESPAT_GATT_PERM_WRITE_ENC_MITM : ESPAT_GATT_PERM_READ_ENC_MITM;
	if (a->perm & plain)
		return 0;
	if (!(a->perm & (enc | mitm)))
		return write ? ESPAT_ATT_E_WRITE_NOT_PERMITTED : ESPAT_ATT_E_READ_NOT_PERMITTED;
	uint8_t need = (a->perm & mitm) ? 2 : 1;
	return db->level[client] >= need ? 0 : ESPAT_ATT_E_INSUF_AUTHEN;
}

/* Discovery: Read By Group Type (services), Read By Type, Find Information,
 * Find By Type Value in [start, end], as many elements of one length as
 * the MTU takes. */
static size_t att_list(struct espat_gatt_db *db, size_t client, const struct espat_att_pdu *q,
                       size_t mtu, uint8_t *rsp, size_t cap)
{
	uint8_t list[ESPAT_ATT_MTU_MAX], v[ESPAT_ATT_VALUE_MAX + 32];
	size_t n = 0, elem = 0;
	uint8_t op = (uint8_t)(q->op + 1); /* each of these responses is its request + 1 */
	if (q->start == 0 || q->start > q->end)
		return att_error(q->op, q->start, ESPAT_ATT_E_INVALID_HANDLE, rsp, cap);
	struct espat_att_uuid prim = espat_att_uuid16(ESPAT_GATT_PRIMARY);
	if (q->op == ESPAT_ATT_READ_BY_GROUP_REQ && !espat_att_uuid_eq(&q->type, &prim))
		return att_error(q->op, q->start, ESPAT_ATT_E_UNSUPPORTED_GROUP, rsp, cap);
	for (uint32_t h = q->start; h <= q->end && h <= db->n; h++) {
		struct espat_gatt_attr *a = visible(db, (uint16_t)h);
		if (!a)
			continue;
		struct espat_att_item it = {.handle = (uint16_t)h};
		if (q->op == ESPAT_ATT_FIND_INFO_REQ) {
			it.uuid = a->type;
		} else if (q->op == ESPAT_ATT_FIND_BY_TYPE_REQ) {
			if (!espat_att_uuid_eq(&a->type, &q->type) || q->value_len != a->len ||
			    memcmp(q->value, a->val, a->len) != 0)
				continue;
			it.end = is_service(a) ? espat_gatt_db_service_end(db, (uint16_t)h)
			                       : (uint16_t)h;
		} else {
			if (!espat_att_uuid_eq(&a->type, &q->type))
				continue;
			uint8_t denied = q->op == ESPAT_ATT_READ_BY_TYPE_REQ
			                     ? may_access(db, client, a, false)
			                     : 0;
			if (denied) {
				if (n == 0)
					return att_error(q->op, (uint16_t)h, denied, rsp, cap);
				break;
			}
			it.len = value_of(db, client, (uint16_t)h, v);
			it.data = v;
			if (q->op == ESPAT_ATT_READ_BY_GROUP_REQ)
				it.end = espat_gatt_db_service_end(db, (uint16_t)h);
		}
		uint8_t one[ESPAT_ATT_MTU_MAX];
		size_t k = espat_att_item_put(op, &it, one, sizeof(one));
		if (k == 0 && n == 0 && q->op == ESPAT_ATT_READ_BY_TYPE_REQ) {
			/* a long value: as much as fits the first element, whose
			 * length byte counts the handle too (Vol 3 Part F 3.4.4.2) */
			size_t room = mtu - 4 < 253 ? mtu - 4 : 253;
			it.len = room < it.len ? room : it.len;
			k = espat_att_item_put(op, &it, one, sizeof(one));
		}
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

static size_t att_read(struct espat_gatt_db *db, size_t client, const struct espat_att_pdu *q,
                       size_t mtu, uint8_t *rsp, size_t cap)
{
	uint8_t v[ESPAT_ATT_VALUE_MAX + 32];
	struct espat_gatt_attr *a = visible(db, q->handle);
	if (!a)
		return att_error(q->op, q->handle, ESPAT_ATT_E_INVALID_HANDLE, rsp, cap);
	uint8_t denied = may_access(db, client, a, false);
	if (denied)
		return att_error(q->op, q->handle, denied, rsp, cap);
	if (db->ops.on_read)
		db->ops.on_read(db->ops.user, client, q->handle);
	size_t n = value_of(db, client, q->handle, v);
	if (q->offset > n)
		return att_error(q->op, q->handle, ESPAT_ATT_E_INVALID_OFFSET, rsp, cap);
	struct espat_att_pdu r = {.op = q->op == ESPAT_ATT_READ_REQ ? ESPAT_ATT_READ_RSP
	                                                            : ESPAT_ATT_READ_BLOB_RSP,
	                          .value = v + q->offset,
	                          .value_len = n - q->offset};
	return espat_att_encode(&r, mtu, rsp, cap);
}

static size_t att_write(struct espat_gatt_db *db, size_t client, const struct espat_att_pdu *q,
                        size_t mtu, uint8_t *rsp, size_t cap)
{
	bool cmd = q->op & ESPAT_ATT_CMD_FLAG;
	struct espat_gatt_attr *a = visible(db, q->handle);
	bool cccd = a && espat_gatt_db_is(a, ESPAT_GATT_CCCD);
	uint8_t err = 0;
	if (!a)
		err = ESPAT_ATT_E_INVALID_HANDLE;
	else
		err = may_access(db, client, a, true);
	if (!err && (q->value_len > a->max_len || (cccd && q->value_len != 2)))
		err = ESPAT_ATT_E_INVALID_LEN;
	if (err)
		return cmd ? 0 : att_error(q->op, q->handle, err, rsp, cap);
	if (cccd) {
		a->cccd[client] = (uint16_t)(q->value[0] | (q->value[1] << 8));
	} else {
		memcpy(a->val, q->value, q->value_len);
		a->len = (uint16_t)q->value_len;
	}
	if (db->ops.on_write)
		db->ops.on_write(db->ops.user, client, q->handle, q->value, q->value_len);
	if (cmd)
		return 0;
	struct espat_att_pdu r = {.op = ESPAT_ATT_WRITE_RSP};
	return espat_att_encode(&r, mtu, rsp, cap);
}

size_t espat_gatt_db_answer(struct espat_gatt_db *db, size_t client, size_t mtu, const uint8_t *req,
                            size_t len, uint8_t *rsp, size_t cap)
{
	if (client >= ESPAT_GATT_DB_CLIENTS || cap < mtu || mtu < ESPAT_ATT_MTU_MIN || len == 0)
		return 0;
	struct espat_att_pdu q;
	enum espat_att_rc rc = espat_att_decode(req, len, &q);
	bool cmd = req[0] & ESPAT_ATT_CMD_FLAG;
	if (rc == ESPAT_ATT_UNKNOWN)
		return cmd || (req[0] & 1u)
		           ? 0
		           : att_error(req[0], 0, ESPAT_ATT_E_REQ_NOT_SUPPORTED, rsp, cap);
	if (rc == ESPAT_ATT_MALFORMED)
		return cmd || (req[0] & 1u)
		           ? 0
		           : att_error(req[0], 0, ESPAT_ATT_E_INVALID_PDU, rsp, cap);
	switch (q.op) {
	case ESPAT_ATT_READ_BY_GROUP_REQ:
	case ESPAT_ATT_READ_BY_TYPE_REQ:
	case ESPAT_ATT_FIND_INFO_REQ:
	case ESPAT_ATT_FIND_BY_TYPE_REQ:
		return att_list(db, client, &q, mtu, rsp, cap);
	case ESPAT_ATT_READ_REQ:
	case ESPAT_ATT_READ_BLOB_REQ:
		return att_read(db, client, &q, mtu, rsp, cap);
	case ESPAT_ATT_WRITE_REQ:
	case ESPAT_ATT_WRITE_CMD:
		return att_write(db, client, &q, mtu, rsp, cap);
	case ESPAT_ATT_CONFIRM:
		if (db->ind_pending[client]) {
			db->ind_pending[client] = false;
			if (db->ops.on_confirm)
				db->ops.on_confirm(db->ops.user, client);
		}
		return 0;
	case ESPAT_ATT_MTU_REQ:
		/* the exchange belongs to the link (the module's espat_ble_peer_mtu) */
		return att_error(q.op, 0, ESPAT_ATT_E_REQ_NOT_SUPPORTED, rsp, cap);
	default:
		return 0; /* responses, notifications: not for a server */
	}
}

uint16_t espat_gatt_db_cccd(const struct espat_gatt_db *db, size_t client, uint16_t h)
{
	for (size_t i = h; i < db->n && client < ESPAT_GATT_DB_CLIENTS; i++) {
		const struct espat_gatt_attr *a = &db->attr[i];
		if (is_service(a) || espat_gatt_db_is(a, ESPAT_GATT_CHAR))
			break;
		if (espat_gatt_db_is(a, ESPAT_GATT_CCCD))
			return a->cccd[client];
	}
	return 0;
}

enum espat_gatt_ntf_err espat_gatt_db_can_notify(const struct espat_gatt_db *db, size_t client,
                                                 uint8_t op, uint16_t h, size_t n, size_t mtu)
{
	if (client >= ESPAT_GATT_DB_CLIENTS || h < 2 || h > db->n ||
	    !espat_gatt_db_is(&db->attr[h - 2], ESPAT_GATT_CHAR))
		return ESPAT_GATT_NTF_BAD_HANDLE;
	const struct espat_gatt_attr *decl = &db->attr[h - 2];
	bool ind = op == ESPAT_ATT_INDICATE;
	uint8_t prop = decl->len ? decl->val[0] : 0;
	if (!(prop & (ind ? ESPAT_GATT_PROP_INDICATE : ESPAT_GATT_PROP_NOTIFY)) ||
	    !(espat_gatt_db_cccd(db, client, h) & (ind ? 2u : 1u)))
		return ESPAT_GATT_NTF_NOT_ENABLED;
	if (n > espat_att_value_room(op, mtu))
		return ESPAT_GATT_NTF_TOO_LONG;
	if (ind && db->ind_pending[client])
		return ESPAT_GATT_NTF_BUSY;
	return ESPAT_GATT_NTF_OK;
}

enum espat_gatt_ntf_err espat_gatt_db_notify(struct espat_gatt_db *db, size_t client, uint8_t op,
                                             uint16_t h, const uint8_t *v, size_t n, size_t mtu,
                                             uint8_t *out, size_t cap, size_t *len)
{
	enum espat_gatt_ntf_err e = espat_gatt_db_can_notify(db, client, op, h, n, mtu);
	if (e != ESPAT_GATT_NTF_OK)
		return e;
	struct espat_att_pdu pdu = {.op = op, .handle = h, .value = v, .value_len = n};
	*len = espat_att_encode(&pdu, mtu, out, cap);
	if (*len == 0)
		return ESPAT_GATT_NTF_TOO_LONG;
	if (op == ESPAT_ATT_INDICATE)
		db->ind_pending[client] = true;
	return ESPAT_GATT_NTF_OK;
}

void espat_gatt_db_client_reset(struct espat_gatt_db *db, size_t client)
{
	if (client >= ESPAT_GATT_DB_CLIENTS)
		return;
	for (size_t i = 0; i < db->n; i++)
		db->attr[i].cccd[client] = 0;
	db->ind_pending[client] = false;
	db->level[client] = 0;
}

void espat_gatt_db_set_level(struct espat_gatt_db *db, size_t client, uint8_t level)
{
	if (client < ESPAT_GATT_DB_CLIENTS)
		db->level[client] = level;
}
