/* The ATT PDU codec: see att.h. Lengths follow Vol 3 Part F section 3.4;
 * a PDU of a known opcode whose length does not match is malformed (a
 * server answers INVALID_PDU), never read past its end. */
#include "proto/att.h"

#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

struct espat_att_uuid espat_att_uuid16(uint16_t u)
{
	struct espat_att_uuid r = {.len = 2};
	put16(r.b, u);
	return r;
}

bool espat_att_uuid_eq(const struct espat_att_uuid *a, const struct espat_att_uuid *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static void set_uuid(struct espat_att_uuid *u, const uint8_t *p, size_t len)
{
	u->len = (uint8_t)len;
	memcpy(u->b, p, len);
}

/* Bytes of one element of a list response, from its first bytes: 0 when
 * the format is invalid. FIND_INFO_RSP's format byte: 1 = 16-bit UUIDs,
 * 2 = 128-bit. The Read By responses carry their element length; an
 * element holds at least its handle(s). */
static size_t list_elem(uint8_t op, const uint8_t *p, size_t n)
{
	switch (op) {
	case ESPAT_ATT_FIND_INFO_RSP:
		if (n < 2)
			return 0;
		return p[1] == 1 ? 4 : p[1] == 2 ? 18 : 0;
	case ESPAT_ATT_FIND_BY_TYPE_RSP:
		return 4;
	case ESPAT_ATT_READ_BY_TYPE_RSP:
		return n >= 2 && p[1] >= 2 ? p[1] : 0;
	case ESPAT_ATT_READ_BY_GROUP_RSP:
		return n >= 2 && p[1] >= 4 ? p[1] : 0;
	default:
		return 0;
	}
}

static enum espat_att_rc decode_list(const uint8_t *p, size_t n, struct espat_att_pdu *out)
{
	size_t elem = list_elem(out->op, p, n);
	size_t head = out->op == ESPAT_ATT_FIND_BY_TYPE_RSP ? 1 : 2;
	/* A list response holds at least one element (an empty answer is an
	 * ERROR_RSP NOT_FOUND instead). */
	if (elem == 0 || n < head + elem || (n - head) % elem != 0)
		return ESPAT_ATT_MALFORMED;
	out->elem_len = (uint8_t)elem;
	out->value = p + head;
	out->value_len = n - head;
	return ESPAT_ATT_OK;
}

enum espat_att_rc espat_att_decode(const uint8_t *p, size_t n, struct espat_att_pdu *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return ESPAT_ATT_MALFORMED;
	out->op = p[0];
	switch (p[0]) {
	case ESPAT_ATT_ERROR_RSP:
		if (n != 5)
			return ESPAT_ATT_MALFORMED;
		out->req_op = p[1];
		out->handle = get16(p + 2);
		out->err = p[4];
		return ESPAT_ATT_OK;
	case ESPAT_ATT_MTU_REQ:
	case ESPAT_ATT_MTU_RSP:
		if (n != 3)
			return ESPAT_ATT_MALFORMED;
		out->mtu = get16(p + 1);
		return ESPAT_ATT_OK;
	case ESPAT_ATT_FIND_INFO_REQ:
		if (n != 5)
			return ESPAT_ATT_MALFORMED;
		out->start = get16(p + 1);
		out->end = get16(p + 3);
		return ESPAT_ATT_OK;
	case ESPAT_ATT_FIND_BY_TYPE_REQ:
		if (n < 7)
			return ESPAT_ATT_MALFORMED;
		out->start = get16(p + 1);
		out->end = get16(p + 3);
		set_uuid(&out->type, p + 5, 2);
		out->value = p + 7;
		out->value_len = n - 7;
		return ESPAT_ATT_OK;
	case ESPAT_ATT_READ_BY_TYPE_REQ:
	case ESPAT_ATT_READ_BY_GROUP_REQ:
		if (n != 7 && n != 21)
			return ESPAT_ATT_MALFORMED;
		out->start = get16(p + 1);
		out->end = get16(p + 3);
		set_uuid(&out->type, p + 5, n - 5);
		return ESPAT_ATT_OK;
	case ESPAT_ATT_READ_REQ:
		if (n != 3)
			return ESPAT_ATT_MALFORMED;
		out->handle = get16(p + 1);
		return ESPAT_ATT_OK;
	case ESPAT_ATT_READ_BLOB_REQ:
		if (n != 5)
			return ESPAT_ATT_MALFORMED;
		out->handle = get16(p + 1);
		out->offset = get16(p + 3);
		return ESPAT_ATT_OK;
	case ESPAT_ATT_READ_RSP:
	case ESPAT_ATT_READ_BLOB_RSP:
		out->value = p + 1;
		out->value_len = n - 1;
		return ESPAT_ATT_OK;
	case ESPAT_ATT_WRITE_REQ:
	case ESPAT_ATT_WRITE_CMD:
	case ESPAT_ATT_NOTIFY:
	case ESPAT_ATT_INDICATE:
		if (n < 3)
			return ESPAT_ATT_MALFORMED;
		out->handle = get16(p + 1);
		out->value = p + 3;
		out->value_len = n - 3;
		return ESPAT_ATT_OK;
	case ESPAT_ATT_WRITE_RSP:
	case ESPAT_ATT_CONFIRM:
		return n == 1 ? ESPAT_ATT_OK : ESPAT_ATT_MALFORMED;
	case ESPAT_ATT_FIND_INFO_RSP:
	case ESPAT_ATT_FIND_BY_TYPE_RSP:
	case ESPAT_ATT_READ_BY_TYPE_RSP:
	case ESPAT_ATT_READ_BY_GROUP_RSP:
		return decode_list(p, n, out);
	default:
		return ESPAT_ATT_UNKNOWN;
	}
}

size_t espat_att_value_room(uint8_t op, size_t mtu)
{
	switch (op) {
	case ESPAT_ATT_READ_RSP:
	case ESPAT_ATT_READ_BLOB_RSP:
		return mtu >= 1 ? mtu - 1 : 0;
	case ESPAT_ATT_WRITE_REQ:
	case ESPAT_ATT_WRITE_CMD:
	case ESPAT_ATT_NOTIFY:
	case ESPAT_ATT_INDICATE:
		return mtu >= 3 ? mtu - 3 : 0;
	default:
		return 0;
	}
}

/* Encodes the fixed head of pdu into h; returns its length, or 0 for an
 * opcode or field set it cannot encode. *value says whether pdu->value
 * follows the head. */
static size_t head(const struct espat_att_pdu *pdu, uint8_t h[21], bool *value)
{
	h[0] = pdu->op;
	*value = false;
	switch (pdu->op) {
	case ESPAT_ATT_ERROR_RSP:
		h[1] = pdu->req_op;
		put16(h + 2, pdu->handle);
		h[4] = pdu->err;
		return 5;
	case ESPAT_ATT_MTU_REQ:
	case ESPAT_ATT_MTU_RSP:
		put16(h + 1, pdu->mtu);
		return 3;
	case ESPAT_ATT_FIND_INFO_REQ:
		put16(h + 1, pdu->start);
		put16(h + 3, pdu->end);
		return 5;
	case ESPAT_ATT_FIND_BY_TYPE_REQ:
		if (pdu->type.len != 2)
			return 0;
		put16(h + 1, pdu->start);
		put16(h + 3, pdu->end);
		memcpy(h + 5, pdu->type.b, 2);
		*value = true;
		return 7;
	case ESPAT_ATT_READ_BY_TYPE_REQ:
	case ESPAT_ATT_READ_BY_GROUP_REQ:
		if (pdu->type.len != 2 && pdu->type.len != 16)
			return 0;
		put16(h + 1, pdu->start);
		put16(h + 3, pdu->end);
		memcpy(h + 5, pdu->type.b, pdu->type.len);
		return 5u + pdu->type.len;
	case ESPAT_ATT_READ_REQ:
		put16(h + 1, pdu->handle);
		return 3;
	case ESPAT_ATT_READ_BLOB_REQ:
		put16(h + 1, pdu->handle);
		put16(h + 3, pdu->offset);
		return 5;
	case ESPAT_ATT_READ_RSP:
	case ESPAT_ATT_READ_BLOB_RSP:
		*value = true;
		return 1;
	case ESPAT_ATT_WRITE_REQ:
	case ESPAT_ATT_WRITE_CMD:
	case ESPAT_ATT_NOTIFY:
	case ESPAT_ATT_INDICATE:
		put16(h + 1, pdu->handle);
		*value = true;
		return 3;
	case ESPAT_ATT_WRITE_RSP:
	case ESPAT_ATT_CONFIRM:
		return 1;
	case ESPAT_ATT_FIND_INFO_RSP:
		if (pdu->elem_len != 4 && pdu->elem_len != 18)
			return 0;
		h[1] = pdu->elem_len == 4 ? 1 : 2;
		*value = true;
		return 2;
	case ESPAT_ATT_FIND_BY_TYPE_RSP:
		if (pdu->elem_len != 4)
			return 0;
		*value = true;
		return 1;
	case ESPAT_ATT_READ_BY_TYPE_RSP:
	case ESPAT_ATT_READ_BY_GROUP_RSP:
		if (pdu->elem_len < (pdu->op == ESPAT_ATT_READ_BY_TYPE_RSP ? 2 : 4))
			return 0;
		h[1] = pdu->elem_len;
		*value = true;
		return 2;
	default:
		return 0;
	}
}

static bool is_list(uint8_t op)
{
	return op == ESPAT_ATT_FIND_INFO_RSP || op == ESPAT_ATT_FIND_BY_TYPE_RSP ||
	       op == ESPAT_ATT_READ_BY_TYPE_RSP || op == ESPAT_ATT_READ_BY_GROUP_RSP;
}

size_t espat_att_encode(const struct espat_att_pdu *pdu, size_t mtu, uint8_t *buf, size_t cap)
{
	uint8_t h[21];
	bool with_value;
	size_t hl = head(pdu, h, &with_value);
	if (hl == 0)
		return 0;
	size_t vl = with_value ? pdu->value_len : 0;
	if (is_list(pdu->op) && (vl == 0 || vl % pdu->elem_len != 0))
		return 0;
	if ((pdu->op == ESPAT_ATT_READ_RSP || pdu->op == ESPAT_ATT_READ_BLOB_RSP) && hl + vl > mtu)
		vl = mtu > hl ? mtu - hl : 0;
	if (hl + vl > mtu || hl + vl > cap)
		return 0;
	memcpy(buf, h, hl);
	if (vl > 0)
		memcpy(buf + hl, pdu->value, vl);
	return hl + vl;
}

size_t espat_att_items(const struct espat_att_pdu *pdu)
{
	if (!is_list(pdu->op) || pdu->elem_len == 0)
		return 0;
	return pdu->value_len / pdu->elem_len;
}

bool espat_att_item(const struct espat_att_pdu *pdu, size_t i, struct espat_att_item *it)
{
	memset(it, 0, sizeof(*it));
	if (i >= espat_att_items(pdu))
		return false;
	const uint8_t *e = pdu->value + i * pdu->elem_len;
	size_t n = pdu->elem_len;
	it->handle = get16(e);
	switch (pdu->op) {
	case ESPAT_ATT_FIND_INFO_RSP:
		set_uuid(&it->uuid, e + 2, n - 2);
		break;
	case ESPAT_ATT_FIND_BY_TYPE_RSP:
		it->end = get16(e + 2);
		break;
	case ESPAT_ATT_READ_BY_TYPE_RSP:
		it->data = e + 2;
		it->len = n - 2;
		break;
	default: /* READ_BY_GROUP_RSP */
		it->end = get16(e + 2);
		it->data = e + 4;
		it->len = n - 4;
		break;
	}
	return true;
}

size_t espat_att_item_put(uint8_t op, const struct espat_att_item *it, uint8_t *buf, size_t cap)
{
	size_t n;
	switch (op) {
	case ESPAT_ATT_FIND_INFO_RSP:
		if (it->uuid.len != 2 && it->uuid.len != 16)
			return 0;
		n = 2u + it->uuid.len;
		break;
	case ESPAT_ATT_FIND_BY_TYPE_RSP:
		n = 4;
		break;
	case ESPAT_ATT_READ_BY_TYPE_RSP:
		n = 2 + it->len;
		break;
	case ESPAT_ATT_READ_BY_GROUP_RSP:
		n = 4 + it->len;
		break;
	default:
		return 0;
	}
	/* The element length is one byte in the Read By responses. */
	if (n > cap || n > 255)
		return 0;
	put16(buf, it->handle);
	switch (op) {
	case ESPAT_ATT_FIND_INFO_RSP:
		memcpy(buf + 2, it->uuid.b, it->uuid.len);
		break;
	case ESPAT_ATT_FIND_BY_TYPE_RSP:
		put16(buf + 2, it->end);
		break;
	case ESPAT_ATT_READ_BY_TYPE_RSP:
		if (it->len > 0)
			memcpy(buf + 2, it->data, it->len);
		break;
	default:
		put16(buf + 2, it->end);
		if (it->len > 0)
			memcpy(buf + 4, it->data, it->len);
		break;
	}
	return n;
}
