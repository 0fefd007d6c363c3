/* The attribute database and its ATT server (src/proto/gatt_db.c), alone:
 * handles, discovery by group / type / find information / type value,
 * permissions, per-client CCCDs, notifications and the one outstanding
 * indication, hidden services, the MTU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/gatt_db.h"

struct dbfx {
	struct espat_gatt_db db;
	struct espat_gatt_attr attr[32];
	uint8_t mem[1024];
	size_t reads, writes, confirms;
	uint16_t last_h;
	size_t last_client;
};

static void on_read(void *user, size_t client, uint16_t h)
{
	struct dbfx *x = user;
	x->reads++;
	x->last_h = h;
	x->last_client = client;
}

static void on_write(void *user, size_t client, uint16_t h, const uint8_t *v, size_t n)
{
	struct dbfx *x = user;
	(void)v, (void)n;
	x->writes++;
	x->last_h = h;
	x->last_client = client;
}

static void on_confirm(void *user, size_t client)
{
	struct dbfx *x = user;
	x->confirms++;
	x->last_client = client;
}

static uint16_t add(struct dbfx *x, uint16_t type, uint16_t perm, uint16_t max, const char *v)
{
	struct espat_att_uuid t = espat_att_uuid16(type);
	return espat_gatt_db_add(&x->db, &t, perm, max, (const uint8_t *)v, (uint16_t)strlen(v));
}

/* GATT + GAP (1..9), then service 0xA002 (10): a readable and writable
 * characteristic 0xC300 (11, 12) with a CCCD (13) that notifies and
 * indicates, and service 0xA003 (14) with a write-only 0xC400 (15, 16). */
static int setup(void **state)
{
	static struct dbfx x;
	memset(&x, 0, sizeof(x));
	espat_gatt_db_init(&x.db, x.attr, 32, x.mem, sizeof(x.mem));
	x.db.ops = (struct espat_gatt_db_ops){on_read, on_write, on_confirm, &x};
	assert_int_equal(espat_gatt_db_add_core(&x.db, "dev"), 7);
	assert_int_equal(add(&x, 0x2800, 1, 2, "\x02\xa0"), 10);
	assert_int_equal(add(&x, 0x2803, 1, 1, "\x3a"), 11);
	assert_int_equal(add(&x, 0xC300, 0x11, 4, "ab"), 12);
	assert_int_equal(add(&x, 0x2902, 0x11, 2, ""), 13);
	assert_int_equal(add(&x, 0x2800, 1, 2, "\x03\xa0"), 14);
	assert_int_equal(add(&x, 0x2803, 1, 1, "\x08"), 15);
	assert_int_equal(add(&x, 0xC400, 0x10, 1, ""), 16);
	*state = &x;
	return 0;
}

/* Sends q from client on ATT_MTU mtu; decodes the answer into r (op 0: none). */
static size_t ask(struct dbfx *x, size_t client, size_t mtu, const struct espat_att_pdu *q,
                  struct espat_att_pdu *r, uint8_t *rsp)
{
	uint8_t req[600];
	size_t n = espat_att_encode(q, 517, req, sizeof(req));
	assert_true(n > 0);
	size_t k = espat_gatt_db_answer(&x->db, client, mtu, req, n, rsp, 600);
	memset(r, 0, sizeof(*r));
	if (k > 0) {
		assert_true(k <= mtu);
		assert_int_equal(espat_att_decode(rsp, k, r), ESPAT_ATT_OK);
	}
	return k;
}

static void test_discovery(void **state)
{
	struct dbfx *x = *state;
	uint8_t rsp[600];
	struct espat_att_pdu r, it_pdu;
	struct espat_att_item it;
	struct espat_att_pdu grp = {.op = ESPAT_ATT_READ_BY_GROUP_REQ,
	                            .start = 1,
	                            .end = 0xffff,
	                            .type = espat_att_uuid16(ESPAT_GATT_PRIMARY)};
	ask(x, 0, 517, &grp, &r, rsp);
	assert_int_equal(r.op, ESPAT_ATT_READ_BY_GROUP_RSP);
	assert_int_equal(espat_att_items(&r), 4);
	const uint16_t ends[] = {4, 9, 13, 16};
	for (size_t i = 0; i < 4; i++) {
		assert_true(espat_att_item(&r, i, &it));
		assert_int_equal(it.end, ends[i]);
	}
	/* an unsupported group type */
	grp.type = espat_att_uuid16(0x2803);
	ask(x, 0, 23, &grp, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_UNSUPPORTED_GROUP);
	/* characteristic declarations of 0xA002: properties, value handle, UUID */
	struct espat_att_pdu rbt = {.op = ESPAT_ATT_READ_BY_TYPE_REQ,
	                            .start = 10,
	                            .end = 13,
	                            .type = espat_att_uuid16(ESPAT_GATT_CHAR)};
	ask(x, 0, 23, &rbt, &r, rsp);
	assert_true(espat_att_item(&r, 0, &it));
	const uint8_t decl[] = {0x3a, 12, 0, 0x00, 0xc3};
	assert_int_equal(it.handle, 11);
	assert_int_equal(it.len, 5);
	assert_memory_equal(it.data, decl, 5);
	/* a long value by type: cut to ATT_MTU - 4, and to 253 on a large MTU */
	struct espat_att_uuid c301 = espat_att_uuid16(0xC301);
	assert_int_equal(espat_gatt_db_add(&x->db, &c301, 1, 300, NULL, 300), 17);
	struct espat_att_pdu byval = {
	    .op = ESPAT_ATT_READ_BY_TYPE_REQ, .start = 1, .end = 0xffff, .type = c301};
	ask(x, 0, 23, &byval, &r, rsp);
	assert_true(espat_att_item(&r, 0, &it));
	assert_int_equal(it.len, 19);
	ask(x, 0, 517, &byval, &r, rsp);
	assert_true(espat_att_item(&r, 0, &it));
	assert_int_equal(it.len, 253);
	/* find information after the value: the CCCD */
	struct espat_att_pdu fi = {.op = ESPAT_ATT_FIND_INFO_REQ, .start = 13, .end = 13};
	ask(x, 0, 23, &fi, &r, rsp);
	assert_true(espat_att_item(&r, 0, &it));
	assert_int_equal(it.handle, 13);
	assert_int_equal(it.uuid.b[0], 0x02);
	assert_int_equal(it.uuid.b[1], 0x29);
	/* find by type value: where 0xA003 is */
	const uint8_t a003[] = {0x03, 0xa0};
	struct espat_att_pdu fbt = {.op = ESPAT_ATT_FIND_BY_TYPE_REQ,
	                            .start = 1,
	                            .end = 0xffff,
	                            .type = espat_att_uuid16(ESPAT_GATT_PRIMARY),
	                            .value = a003,
	                            .value_len = 2};
	ask(x, 0, 23, &fbt, &r, rsp);
	assert_true(espat_att_item(&r, 0, &it));
	assert_int_equal(it.handle, 14);
	assert_int_equal(it.end, 17); /* 0xC301's value (17) belongs to 0xA003 now */
	/* past the end: Attribute Not Found; a bad range: Invalid Handle */
	fi.start = 18;
	fi.end = 20;
	ask(x, 0, 23, &fi, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_NOT_FOUND);
	fi.start = 5;
	fi.end = 4;
	ask(x, 0, 23, &fi, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_HANDLE);
	/* a hidden (stopped) service is not there */
	espat_gatt_db_service_hide(&x->db, 14, true);
	grp.type = espat_att_uuid16(ESPAT_GATT_PRIMARY);
	grp.start = 10;
	ask(x, 0, 517, &grp, &r, rsp);
	assert_int_equal(espat_att_items(&r), 1);
	struct espat_att_pdu rd = {.op = ESPAT_ATT_READ_REQ, .handle = 16};
	(void)it_pdu;
	ask(x, 0, 23, &rd, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_HANDLE);
}

static void test_read_write_cccd(void **state)
{
	struct dbfx *x = *state;
	uint8_t rsp[600];
	struct espat_att_pdu r;
	struct espat_att_pdu rd = {.op = ESPAT_ATT_READ_REQ, .handle = 12};
	ask(x, 1, 23, &rd, &r, rsp);
	assert_int_equal(r.op, ESPAT_ATT_READ_RSP);
	assert_int_equal(r.value_len, 2);
	assert_memory_equal(r.value, "ab", 2);
	assert_int_equal(x->reads, 1);
	assert_int_equal(x->last_client, 1);
	/* write-only, then a blob read past the end */
	rd.handle = 16;
	ask(x, 0, 23, &rd, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_READ_NOT_PERMITTED);
	struct espat_att_pdu blob = {.op = ESPAT_ATT_READ_BLOB_REQ, .handle = 12, .offset = 3};
	ask(x, 0, 23, &blob, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_OFFSET);
	/* writes: stored, reported; too long; not permitted; a command is never answered */
	struct espat_att_pdu wr = {.op = ESPAT_ATT_WRITE_REQ,
	                           .handle = 12,
	                           .value = (const uint8_t *)"wxyz",
	                           .value_len = 4};
	ask(x, 0, 23, &wr, &r, rsp);
	assert_int_equal(r.op, ESPAT_ATT_WRITE_RSP);
	assert_int_equal(x->db.attr[11].len, 4);
	assert_int_equal(x->writes, 1);
	wr.value_len = 5;
	wr.value = (const uint8_t *)"vwxyz";
	ask(x, 0, 23, &wr, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_LEN);
	wr.handle = 11;
	wr.value_len = 1;
	ask(x, 0, 23, &wr, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_WRITE_NOT_PERMITTED);
	wr.op = ESPAT_ATT_WRITE_CMD;
	assert_int_equal(ask(x, 0, 23, &wr, &r, rsp), 0);
	/* the CCCD is per client */
	const uint8_t on[] = {3, 0};
	struct espat_att_pdu sub = {
	    .op = ESPAT_ATT_WRITE_REQ, .handle = 13, .value = on, .value_len = 2};
	ask(x, 2, 23, &sub, &r, rsp);
	assert_int_equal(espat_gatt_db_cccd(&x->db, 2, 12), 3);
	assert_int_equal(espat_gatt_db_cccd(&x->db, 0, 12), 0);
	rd.handle = 13;
	ask(x, 0, 23, &rd, &r, rsp);
	assert_int_equal(r.value[0], 0);
	ask(x, 2, 23, &rd, &r, rsp);
	assert_int_equal(r.value[0], 3);
	sub.value_len = 1;
	ask(x, 2, 23, &sub, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_LEN);
	/* an unknown request; a malformed one; a response is not a request */
	const uint8_t prep[] = {0x16, 3, 0, 0, 0}, bad[] = {0x0a, 1}, rsp_pdu[] = {0x13};
	assert_true(espat_gatt_db_answer(&x->db, 0, 23, prep, sizeof(prep), rsp, 600) > 0);
	assert_int_equal(rsp[4], ESPAT_ATT_E_REQ_NOT_SUPPORTED);
	assert_true(espat_gatt_db_answer(&x->db, 0, 23, bad, sizeof(bad), rsp, 600) > 0);
	assert_int_equal(rsp[4], ESPAT_ATT_E_INVALID_PDU);
	assert_int_equal(espat_gatt_db_answer(&x->db, 0, 23, rsp_pdu, 1, rsp, 600), 0);
	/* a new client in slot 2: cleared */
	espat_gatt_db_client_reset(&x->db, 2);
	assert_int_equal(espat_gatt_db_cccd(&x->db, 2, 12), 0);
}

/* Encrypted permissions: a plain link gets Insufficient Authentication
 * (reads, Read By Type, writes); encrypted opens READ_ENC / WRITE_ENC,
 * authenticated opens the MITM kinds; a new client is plain again. */
static void test_encrypted_permissions(void **state)
{
	struct dbfx *x = *state;
	uint8_t rsp[600];
	struct espat_att_pdu r;
	uint16_t enc = add(x, 0xC500, ESPAT_GATT_PERM_READ_ENC | ESPAT_GATT_PERM_WRITE_ENC, 2, "e");
	uint16_t mitm = add(x, 0xC501, ESPAT_GATT_PERM_READ_ENC_MITM, 2, "m");
	assert_int_equal(enc, 17);
	struct espat_att_pdu rd = {.op = ESPAT_ATT_READ_REQ, .handle = enc};
	ask(x, 1, 23, &rd, &r, rsp);
	assert_int_equal(r.op, ESPAT_ATT_ERROR_RSP);
	assert_int_equal(r.err, ESPAT_ATT_E_INSUF_AUTHEN);
	struct espat_att_pdu by_type = {.op = ESPAT_ATT_READ_BY_TYPE_REQ,
	                                .start = enc,
	                                .end = enc,
	                                .type = espat_att_uuid16(0xC500)};
	ask(x, 1, 23, &by_type, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INSUF_AUTHEN);
	struct espat_att_pdu wr = {
	    .op = ESPAT_ATT_WRITE_REQ, .handle = enc, .value = (const uint8_t *)"x", .value_len = 1};
	ask(x, 1, 23, &wr, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INSUF_AUTHEN);
	espat_gatt_db_set_level(&x->db, 1, 1); /* Just Works: encrypted */
	ask(x, 1, 23, &rd, &r, rsp);
	assert_int_equal(r.op, ESPAT_ATT_READ_RSP);
	ask(x, 1, 23, &wr, &r, rsp);
	assert_int_equal(r.op, ESPAT_ATT_WRITE_RSP);
	rd.handle = mitm;
	ask(x, 1, 23, &rd, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INSUF_AUTHEN);
	ask(x, 0, 23, &rd, &r, rsp); /* another client: still plain */
	assert_int_equal(r.err, ESPAT_ATT_E_INSUF_AUTHEN);
	espat_gatt_db_set_level(&x->db, 1, 2); /* passkey: authenticated */
	ask(x, 1, 23, &rd, &r, rsp);
	assert_int_equal(r.op, ESPAT_ATT_READ_RSP);
	espat_gatt_db_client_reset(&x->db, 1);
	ask(x, 1, 23, &rd, &r, rsp);
	assert_int_equal(r.err, ESPAT_ATT_E_INSUF_AUTHEN);
}

static void test_notify_indicate(void **state)
{
	struct dbfx *x = *state;
	uint8_t out[600];
	size_t len = 0;
	const uint8_t v[] = "hello";
	assert_int_equal(
	    espat_gatt_db_notify(&x->db, 0, ESPAT_ATT_NOTIFY, 12, v, 5, 23, out, 600, &len),
	    ESPAT_GATT_NTF_NOT_ENABLED);
	x->db.attr[12].cccd[0] = 3;
	assert_int_equal(
	    espat_gatt_db_notify(&x->db, 0, ESPAT_ATT_NOTIFY, 12, v, 5, 23, out, 600, &len),
	    ESPAT_GATT_NTF_OK);
	const uint8_t ntf[] = {0x1b, 12, 0, 'h', 'e', 'l', 'l', 'o'};
	assert_int_equal(len, sizeof(ntf));
	assert_memory_equal(out, ntf, sizeof(ntf));
	/* 21 bytes do not fit a 23-byte MTU; they do a 24-byte one */
	uint8_t big[21] = {0};
	assert_int_equal(
	    espat_gatt_db_notify(&x->db, 0, ESPAT_ATT_NOTIFY, 12, big, 21, 23, out, 600, &len),
	    ESPAT_GATT_NTF_TOO_LONG);
	assert_int_equal(
	    espat_gatt_db_notify(&x->db, 0, ESPAT_ATT_NOTIFY, 12, big, 21, 24, out, 600, &len),
	    ESPAT_GATT_NTF_OK);
	/* one indication outstanding until the confirmation */
	assert_int_equal(
	    espat_gatt_db_notify(&x->db, 0, ESPAT_ATT_INDICATE, 12, v, 1, 23, out, 600, &len),
	    ESPAT_GATT_NTF_OK);
	assert_int_equal(espat_gatt_db_can_notify(&x->db, 0, ESPAT_ATT_INDICATE, 12, 1, 23),
	                 ESPAT_GATT_NTF_BUSY);
	/* notifications still go; other clients are not held */
	assert_int_equal(espat_gatt_db_can_notify(&x->db, 0, ESPAT_ATT_NOTIFY, 12, 1, 23),
	                 ESPAT_GATT_NTF_OK);
	const uint8_t confirm = ESPAT_ATT_CONFIRM;
	assert_int_equal(espat_gatt_db_answer(&x->db, 1, 23, &confirm, 1, out, 600), 0);
	assert_int_equal(x->confirms, 0); /* client 1 had nothing outstanding */
	assert_int_equal(espat_gatt_db_answer(&x->db, 0, 23, &confirm, 1, out, 600), 0);
	assert_int_equal(x->confirms, 1);
	assert_int_equal(espat_gatt_db_can_notify(&x->db, 0, ESPAT_ATT_INDICATE, 12, 1, 23),
	                 ESPAT_GATT_NTF_OK);
	/* not a characteristic value; a characteristic without the property */
	assert_int_equal(espat_gatt_db_can_notify(&x->db, 0, ESPAT_ATT_NOTIFY, 13, 1, 23),
	                 ESPAT_GATT_NTF_BAD_HANDLE);
	assert_int_equal(espat_gatt_db_can_notify(&x->db, 0, ESPAT_ATT_NOTIFY, 16, 1, 23),
	                 ESPAT_GATT_NTF_NOT_ENABLED);
}

static void test_storage_limits(void **state)
{
	(void)state;
	struct espat_gatt_db db;
	struct espat_gatt_attr attr[2];
	uint8_t mem[8];
	espat_gatt_db_init(&db, attr, 2, mem, sizeof(mem));
	struct espat_att_uuid t = espat_att_uuid16(0x2800);
	assert_int_equal(espat_gatt_db_add(&db, &t, 1, 9, NULL, 0), 0); /* arena */
	assert_int_equal(espat_gatt_db_add(&db, &t, 1, 2, NULL, 3), 0); /* len > max */
	assert_int_equal(espat_gatt_db_add(&db, &t, 1, 4, NULL, 0), 1);
	assert_int_equal(espat_gatt_db_add(&db, &t, 1, 4, NULL, 0), 2);
	assert_int_equal(espat_gatt_db_add(&db, &t, 1, 0, NULL, 0), 0); /* attributes */
	assert_int_equal(espat_gatt_db_add_core(&db, "x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_discovery, setup),
	    cmocka_unit_test_setup(test_read_write_cccd, setup),
	    cmocka_unit_test_setup(test_encrypted_permissions, setup),
	    cmocka_unit_test_setup(test_notify_indicate, setup),
	    cmocka_unit_test(test_storage_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
