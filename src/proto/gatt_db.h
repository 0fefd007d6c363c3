/* A GATT server's attribute database and the ATT server over it (Bluetooth
 * Core 5.x, Vol 3 Part F and G): one table of attributes, handles from 1
 * in table order, and `answer one request PDU`. The module's GATT server
 * (cmd/ble_gatts.c, which adds the AT semantics: +READ / +WRITE reports,
 * AT indices) and a scripted peripheral of the world (world/ble.c) both
 * serve through it, so there is one server implementation.
 *
 * Pure: no module, no clock, no allocation. The caller hands over the
 * storage (an attribute array and a byte arena for values) and keeps it
 * alive as long as the database. Callbacks carry `void *user`. */
#ifndef ESPAT_PROTO_GATT_DB_H
#define ESPAT_PROTO_GATT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/att.h"

#define ESPAT_GATT_DB_CLIENTS 3u /* clients served at once (a module's links) */

/* Attribute permissions, ESP-IDF's bits as the gatts_data.csv rows write them. */
#define ESPAT_GATT_PERM_READ 0x01u
#define ESPAT_GATT_PERM_READ_ENC 0x02u      /* read on an encrypted link */
#define ESPAT_GATT_PERM_READ_ENC_MITM 0x04u /* read on an authenticated (MITM) link */
#define ESPAT_GATT_PERM_WRITE 0x10u
#define ESPAT_GATT_PERM_WRITE_ENC 0x20u
#define ESPAT_GATT_PERM_WRITE_ENC_MITM 0x40u

/* Characteristic properties (the declaration's first byte, Vol 3 Part G 3.3.1.1). */
#define ESPAT_GATT_PROP_READ 0x02u
#define ESPAT_GATT_PROP_WRITE_NR 0x04u
#define ESPAT_GATT_PROP_WRITE 0x08u
#define ESPAT_GATT_PROP_NOTIFY 0x10u
#define ESPAT_GATT_PROP_INDICATE 0x20u

struct espat_gatt_attr {
	struct espat_att_uuid
	    type;         /* the attribute type (0x2800, 0x2803, a characteristic's UUID) */
	uint16_t perm;    /* ESPAT_GATT_PERM_* */
	uint16_t max_len; /* capacity of val */
	uint16_t len;     /* current value length */
	uint8_t *val;     /* in the database's arena. A characteristic declaration
	                   * stores only its properties byte; a service
	                   * declaration its UUID */
	bool hidden;      /* its service is stopped: not there for clients */
	uint16_t cccd[ESPAT_GATT_DB_CLIENTS]; /* a CCCD's value, per client (bit 0 notify,
	                                       * bit 1 indicate) */
};

/* What the owner hears. Each may be NULL. */
struct espat_gatt_db_ops {
	/* client reads handle h (permission checked, answer not built yet):
	 * the owner may refresh the value (a device name) or report it. */
	void (*on_read)(void *user, size_t client, uint16_t h);
	/* client wrote v[0..n) to h (stored already; a CCCD's bits too). */
	void (*on_write)(void *user, size_t client, uint16_t h, const uint8_t *v, size_t n);
	/* client confirmed the outstanding indication. */
	void (*on_confirm)(void *user, size_t client);
	void *user;
};

struct espat_gatt_db {
	struct espat_gatt_attr *attr; /* handle h is attr[h - 1] */
	size_t n, cap;
	uint8_t *mem; /* value arena */
	size_t used, mem_cap;
	/* an indication sent to that client and not confirmed yet (ATT allows one) */
	bool ind_pending[ESPAT_GATT_DB_CLIENTS];
	/* each client's link security: 0 plain, 1 encrypted, 2 encrypted and
	 * authenticated; attributes with the _ENC / _ENC_MITM permissions
	 * answer Insufficient Authentication below what they need */
	uint8_t level[ESPAT_GATT_DB_CLIENTS];
	struct espat_gatt_db_ops ops;
};

/* An empty database over the caller's storage. */
void espat_gatt_db_init(struct espat_gatt_db *db, struct espat_gatt_attr *attr, size_t cap,
                        uint8_t *mem, size_t mem_cap);
/* Appends an attribute whose value holds up to max_len bytes, starting as
 * val[0..len) (zeros past it; val may be NULL). Returns its handle, 0 when
 * the storage is full or len > max_len. */
uint16_t espat_gatt_db_add(struct espat_gatt_db *db, const struct espat_att_uuid *type,
                           uint16_t perm, uint16_t max_len, const uint8_t *val, uint16_t len);
/* Appends the GATT service (0x1801: Service Changed, indicate, with its
 * CCCD) and the GAP service (0x1800: Device Name = name, Appearance 0)
 * that every GATT server shows first. Returns the Device Name value's
 * handle (its value can change, up to 32 bytes), 0 when full. */
uint16_t espat_gatt_db_add_core(struct espat_gatt_db *db, const char *name);

/* Attribute h (hidden or not), NULL when out of range. */
struct espat_gatt_attr *espat_gatt_db_attr(struct espat_gatt_db *db, uint16_t h);
bool espat_gatt_db_is(const struct espat_gatt_attr *a, uint16_t uuid16);
/* Hides (or shows) the service whose declaration is at h: the
 * declaration and everything up to the next service. */
void espat_gatt_db_service_hide(struct espat_gatt_db *db, uint16_t h, bool hidden);
/* The last handle of the service declared at h. */
uint16_t espat_gatt_db_service_end(const struct espat_gatt_db *db, uint16_t h);

/* Answers one PDU from client (0 .. ESPAT_GATT_DB_CLIENTS-1) on a link of
 * ATT_MTU mtu: discovery (Read By Group Type, Read By Type, Find
 * Information, Find By Type Value), Read, Read Blob, Write Request /
 * Command, the Handle Value Confirmation. Writes the answer into rsp (cap
 * >= mtu) and returns its length; 0 when nothing is answered (a command,
 * a confirmation, a PDU that is not a request). */
size_t espat_gatt_db_answer(struct espat_gatt_db *db, size_t client, size_t mtu, const uint8_t *req,
                            size_t len, uint8_t *rsp, size_t cap);

/* Why espat_gatt_db_notify refused. */
enum espat_gatt_ntf_err {
	ESPAT_GATT_NTF_OK = 0,
	ESPAT_GATT_NTF_NOT_ENABLED, /* the characteristic lacks the property, or that client's
	                             * CCCD lacks the bit */
	ESPAT_GATT_NTF_BUSY,        /* an indication waits for its confirmation */
	ESPAT_GATT_NTF_TOO_LONG,    /* more than ATT_MTU - 3 bytes */
	ESPAT_GATT_NTF_BAD_HANDLE,  /* h is not a characteristic value */
};

/* Builds a notification or indication (op) of value v[0..n) of the
 * characteristic value at h for client into out (cap bytes); an
 * indication is outstanding from then until the client confirms. *len
 * gets the PDU's length. */
enum espat_gatt_ntf_err espat_gatt_db_notify(struct espat_gatt_db *db, size_t client, uint8_t op,
                                             uint16_t h, const uint8_t *v, size_t n, size_t mtu,
                                             uint8_t *out, size_t cap, size_t *len);
/* The checks of espat_gatt_db_notify for an n-byte value, without sending. */
enum espat_gatt_ntf_err espat_gatt_db_can_notify(const struct espat_gatt_db *db, size_t client,
                                                 uint8_t op, uint16_t h, size_t n, size_t mtu);
/* Bits of the CCCD of the characteristic whose value is at h for client
 * (0 when it has none). */
uint16_t espat_gatt_db_cccd(const struct espat_gatt_db *db, size_t client, uint16_t h);
/* A new client in that slot: its CCCDs cleared, no indication outstanding,
 * its link plain. */
void espat_gatt_db_client_reset(struct espat_gatt_db *db, size_t client);
/* The client's link reached security level (0 plain, 1 encrypted, 2
 * authenticated): pairing finished. */
void espat_gatt_db_set_level(struct espat_gatt_db *db, size_t client, uint8_t level);

#endif
