/* The Attribute Protocol (Bluetooth Core 5.x, Vol 3 Part F): the PDUs a
 * GATT client and server exchange, as bytes. The BLE model
 * (docs/internals/ble.md) carries these bytes between the two ends of a
 * connection, so the GATT server, the GATT client and the scripted peer all
 * speak real ATT and a handle, a permission or an MTU means what it means
 * on a real link.
 *
 * ATT PDUs arrive whole (L2CAP delivers one complete SDU at a time; on the
 * shared air one frame carries one PDU), so the decoder takes a whole PDU
 * and says ok, malformed or unknown; there is no need-more. Pure: no
 * module, no clock, no allocation. Decoded values are borrowed slices of
 * the input. Multi-byte fields are little-endian on the wire. */
#ifndef ESPAT_PROTO_ATT_H
#define ESPAT_PROTO_ATT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_ATT_MTU_MIN 23u    /* ATT_MTU every LE link starts with */
#define ESPAT_ATT_MTU_MAX 517u   /* largest ATT_MTU ESP-AT negotiates (AT+BLECFGMTU) */
#define ESPAT_ATT_VALUE_MAX 512u /* longest attribute value (Vol 3 Part F 3.2.9) */

enum espat_att_op {
	ESPAT_ATT_ERROR_RSP = 0x01,
	ESPAT_ATT_MTU_REQ = 0x02,
	ESPAT_ATT_MTU_RSP = 0x03,
	ESPAT_ATT_FIND_INFO_REQ = 0x04,
	ESPAT_ATT_FIND_INFO_RSP = 0x05,
	ESPAT_ATT_FIND_BY_TYPE_REQ = 0x06, /* Find By Type Value */
	ESPAT_ATT_FIND_BY_TYPE_RSP = 0x07,
	ESPAT_ATT_READ_BY_TYPE_REQ = 0x08,
	ESPAT_ATT_READ_BY_TYPE_RSP = 0x09,
	ESPAT_ATT_READ_REQ = 0x0a,
	ESPAT_ATT_READ_RSP = 0x0b,
	ESPAT_ATT_READ_BLOB_REQ = 0x0c,
	ESPAT_ATT_READ_BLOB_RSP = 0x0d,
	ESPAT_ATT_READ_BY_GROUP_REQ = 0x10, /* Read By Group Type */
	ESPAT_ATT_READ_BY_GROUP_RSP = 0x11,
	ESPAT_ATT_WRITE_REQ = 0x12,
	ESPAT_ATT_WRITE_RSP = 0x13,
	ESPAT_ATT_NOTIFY = 0x1b,   /* Handle Value Notification */
	ESPAT_ATT_INDICATE = 0x1d, /* Handle Value Indication */
	ESPAT_ATT_CONFIRM = 0x1e,  /* Handle Value Confirmation */
	ESPAT_ATT_WRITE_CMD = 0x52,
};

/* An opcode with this bit is a command: a server never answers it, not
 * even with an error (Vol 3 Part F 3.3.1). */
#define ESPAT_ATT_CMD_FLAG 0x40u

/* ERROR_RSP's error code (Vol 3 Part F 3.4.1.1), the subset the model uses. */
enum espat_att_err {
	ESPAT_ATT_E_INVALID_HANDLE = 0x01,
	ESPAT_ATT_E_READ_NOT_PERMITTED = 0x02,
	ESPAT_ATT_E_WRITE_NOT_PERMITTED = 0x03,
	ESPAT_ATT_E_INVALID_PDU = 0x04,
	ESPAT_ATT_E_INSUF_AUTHEN = 0x05, /* Insufficient Authentication: pair first */
	ESPAT_ATT_E_REQ_NOT_SUPPORTED = 0x06,
	ESPAT_ATT_E_INVALID_OFFSET = 0x07,
	ESPAT_ATT_E_NOT_FOUND = 0x0a, /* Attribute Not Found: the end of a discovery */
	ESPAT_ATT_E_NOT_LONG = 0x0b,
	ESPAT_ATT_E_INVALID_LEN = 0x0d, /* Invalid Attribute Value Length */
	ESPAT_ATT_E_UNSUPPORTED_GROUP = 0x10,
};

/* A UUID as on the wire: 2 bytes (a Bluetooth SIG 16-bit UUID) or 16
 * bytes, little-endian. */
struct espat_att_uuid {
	uint8_t len; /* 2 or 16 */
	uint8_t b[16];
};

/* One decoded PDU. Which fields an opcode uses:
 *   ERROR_RSP              req_op, handle, err
 *   MTU_REQ / MTU_RSP      mtu (as sent; a value under 23 means 23 to the receiver)
 *   FIND_INFO_REQ          start, end
 *   FIND_BY_TYPE_REQ       start, end, type (16-bit), value
 *   READ_BY_TYPE_REQ,
 *   READ_BY_GROUP_REQ      start, end, type
 *   READ_REQ               handle
 *   READ_BLOB_REQ          handle, offset
 *   READ_RSP, READ_BLOB_RSP value
 *   WRITE_REQ, WRITE_CMD,
 *   NOTIFY, INDICATE       handle, value
 *   WRITE_RSP, CONFIRM     nothing
 *   FIND_INFO_RSP, FIND_BY_TYPE_RSP, READ_BY_TYPE_RSP, READ_BY_GROUP_RSP:
 *                          value = the list of elements, elem_len = bytes of each
 *                          (espat_att_item() reads element i)
 * Fields an opcode does not use are zero after decode and ignored by encode. */
struct espat_att_pdu {
	uint8_t op;
	uint8_t req_op;
	uint8_t err;
	uint8_t elem_len;
	uint16_t handle;
	uint16_t start, end;
	uint16_t offset;
	uint16_t mtu;
	struct espat_att_uuid type;
	const uint8_t *value;
	size_t value_len;
};

enum espat_att_rc {
	ESPAT_ATT_OK = 0,
	ESPAT_ATT_MALFORMED = -1, /* a known opcode with a wrong length or format: a server
	                           * answers a request with ERROR_RSP INVALID_PDU */
	ESPAT_ATT_UNKNOWN = -2,   /* an opcode this codec does not know: a server answers
	                           * REQ_NOT_SUPPORTED unless it is a command */
};

/* Decodes the whole PDU p[0..n). On ESPAT_ATT_UNKNOWN and MALFORMED only
 * out->op is meaningful. */
enum espat_att_rc espat_att_decode(const uint8_t *p, size_t n, struct espat_att_pdu *out);

/* Encodes pdu into buf (cap bytes) for a link whose ATT_MTU is mtu.
 * READ_RSP and READ_BLOB_RSP values longer than mtu - 1 are cut to it, as
 * the spec has the server do; any other PDU longer than mtu (or than cap),
 * an unknown opcode or a list whose value_len is not a whole number of
 * elem_len elements returns 0. Returns the PDU's length. */
size_t espat_att_encode(const struct espat_att_pdu *pdu, size_t mtu, uint8_t *buf, size_t cap);

/* The most value bytes a PDU of opcode op carries on a link of ATT_MTU
 * mtu: mtu - 1 for READ_RSP / READ_BLOB_RSP, mtu - 3 for WRITE_REQ,
 * WRITE_CMD, NOTIFY, INDICATE (what AT+BLEGATTSNTFY and AT+BLEGATTCWR may
 * send at most), 0 for others. */
size_t espat_att_value_room(uint8_t op, size_t mtu);

/* One element of a list response. FIND_INFO_RSP: handle, uuid.
 * FIND_BY_TYPE_RSP: handle (found), end (group end). READ_BY_TYPE_RSP:
 * handle, data (the value). READ_BY_GROUP_RSP: handle, end, data (the
 * group's value: a service UUID). */
struct espat_att_item {
	uint16_t handle;
	uint16_t end;
	struct espat_att_uuid uuid;
	const uint8_t *data;
	size_t len;
};

/* Number of elements in a decoded list response (0 for other opcodes). */
size_t espat_att_items(const struct espat_att_pdu *pdu);
/* Element i of a decoded list response; false past the end. */
bool espat_att_item(const struct espat_att_pdu *pdu, size_t i, struct espat_att_item *it);
/* Writes one element of a list response of opcode op into buf (cap bytes):
 * the inverse of espat_att_item. Returns its length, 0 if it does not fit
 * or op is not a list response. For FIND_INFO_RSP the element's length
 * follows it.uuid.len; for READ_BY_TYPE_RSP and READ_BY_GROUP_RSP every
 * element of one PDU must have the same length (the caller stops at the
 * first that differs, as a server must). */
size_t espat_att_item_put(uint8_t op, const struct espat_att_item *it, uint8_t *buf, size_t cap);

/* A 16-bit SIG UUID. */
struct espat_att_uuid espat_att_uuid16(uint16_t u);
bool espat_att_uuid_eq(const struct espat_att_uuid *a, const struct espat_att_uuid *b);

/* GATT's attribute types (Vol 3 Part G 3). */
#define ESPAT_GATT_PRIMARY 0x2800u
#define ESPAT_GATT_SECONDARY 0x2801u
#define ESPAT_GATT_INCLUDE 0x2802u
#define ESPAT_GATT_CHAR 0x2803u
#define ESPAT_GATT_CCCD                                                                            \
	0x2902u /* Client Characteristic Configuration: bit 0 notify, bit 1 indicate */

#endif
