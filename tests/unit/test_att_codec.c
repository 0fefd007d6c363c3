/* The ATT PDU codec (src/proto/att.c): byte-exact encodings of the PDUs a
 * GATT exchange uses (checked against the layouts of Bluetooth Core Vol 3
 * Part F 3.4), round trips, malformed lengths, the MTU limits on values
 * and the list responses' elements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/att.h"

static void round_trip(const uint8_t *bytes, size_t n)
{
	struct espat_att_pdu p;
	uint8_t out[600];
	assert_int_equal(espat_att_decode(bytes, n, &p), ESPAT_ATT_OK);
	assert_int_equal(espat_att_encode(&p, 600, out, sizeof(out)), n);
	assert_memory_equal(out, bytes, n);
}

static void test_fixed_pdus(void **state)
{
	(void)state;
	struct espat_att_pdu p;
	const uint8_t mtu[] = {0x02, 0x05, 0x02}; /* MTU_REQ 517 */
	assert_int_equal(espat_att_decode(mtu, sizeof(mtu), &p), ESPAT_ATT_OK);
	assert_int_equal(p.mtu, 517);
	round_trip(mtu, sizeof(mtu));

	const uint8_t err[] = {0x01, 0x10, 0x01, 0x00, 0x0a}; /* group read at 1: not found */
	assert_int_equal(espat_att_decode(err, sizeof(err), &p), ESPAT_ATT_OK);
	assert_int_equal(p.req_op, ESPAT_ATT_READ_BY_GROUP_REQ);
	assert_int_equal(p.handle, 1);
	assert_int_equal(p.err, ESPAT_ATT_E_NOT_FOUND);
	round_trip(err, sizeof(err));

	const uint8_t grp[] = {0x10, 0x01, 0x00, 0xff, 0xff, 0x00, 0x28};
	assert_int_equal(espat_att_decode(grp, sizeof(grp), &p), ESPAT_ATT_OK);
	assert_int_equal(p.start, 1);
	assert_int_equal(p.end, 0xffff);
	struct espat_att_uuid prim = espat_att_uuid16(ESPAT_GATT_PRIMARY);
	assert_true(espat_att_uuid_eq(&p.type, &prim));
	round_trip(grp, sizeof(grp));

	const uint8_t blob[] = {0x0c, 0x2a, 0x00, 0x16, 0x00};
	assert_int_equal(espat_att_decode(blob, sizeof(blob), &p), ESPAT_ATT_OK);
	assert_int_equal(p.handle, 42);
	assert_int_equal(p.offset, 22);
	round_trip(blob, sizeof(blob));

	const uint8_t ntf[] = {0x1b, 0x03, 0x00, 'h', 'i'};
	assert_int_equal(espat_att_decode(ntf, sizeof(ntf), &p), ESPAT_ATT_OK);
	assert_int_equal(p.handle, 3);
	assert_int_equal(p.value_len, 2);
	assert_memory_equal(p.value, "hi", 2);
	round_trip(ntf, sizeof(ntf));

	const uint8_t cfm[] = {0x1e};
	round_trip(cfm, 1);
	const uint8_t wr_empty[] = {0x12, 0x05, 0x00}; /* a zero-length write is legal */
	round_trip(wr_empty, sizeof(wr_empty));
	const uint8_t fbt[] = {0x06, 0x01, 0x00, 0xff, 0xff, 0x00, 0x28, 0xa0, 0x02};
	round_trip(fbt, sizeof(fbt));
}

static void test_malformed_and_unknown(void **state)
{
	(void)state;
	struct espat_att_pdu p;
	const uint8_t short_mtu[] = {0x02, 0x17};
	assert_int_equal(espat_att_decode(short_mtu, 2, &p), ESPAT_ATT_MALFORMED);
	assert_int_equal(p.op, ESPAT_ATT_MTU_REQ);
	const uint8_t long_read[] = {0x0a, 0x01, 0x00, 0x00};
	assert_int_equal(espat_att_decode(long_read, 4, &p), ESPAT_ATT_MALFORMED);
	const uint8_t bad_uuid[] = {0x08, 0x01, 0x00, 0xff,
	                            0xff, 0x03, 0x28, 0x00}; /* 3-byte UUID */
	assert_int_equal(espat_att_decode(bad_uuid, sizeof(bad_uuid), &p), ESPAT_ATT_MALFORMED);
	const uint8_t confirm_extra[] = {0x1e, 0x00};
	assert_int_equal(espat_att_decode(confirm_extra, 2, &p), ESPAT_ATT_MALFORMED);
	const uint8_t ntf_short[] = {0x1b, 0x03};
	assert_int_equal(espat_att_decode(ntf_short, 2, &p), ESPAT_ATT_MALFORMED);
	assert_int_equal(espat_att_decode(NULL, 0, &p), ESPAT_ATT_MALFORMED);
	/* Signed Write Command and Prepare Write are not modelled. */
	const uint8_t signed_wr[] = {0xd2, 0x01, 0x00};
	assert_int_equal(espat_att_decode(signed_wr, 3, &p), ESPAT_ATT_UNKNOWN);
	assert_true(p.op & ESPAT_ATT_CMD_FLAG);
	const uint8_t prep[] = {0x16, 0x01, 0x00, 0x00, 0x00};
	assert_int_equal(espat_att_decode(prep, 5, &p), ESPAT_ATT_UNKNOWN);
	assert_false(p.op & ESPAT_ATT_CMD_FLAG);
	/* Lists: a bad format byte, a remainder, no element at all. */
	const uint8_t info_fmt[] = {0x05, 0x03, 0x01, 0x00, 0x00, 0x28};
	assert_int_equal(espat_att_decode(info_fmt, sizeof(info_fmt), &p), ESPAT_ATT_MALFORMED);
	const uint8_t rbt_rem[] = {0x09, 0x04, 0x01, 0x00, 0x41, 0x42, 0x02};
	assert_int_equal(espat_att_decode(rbt_rem, sizeof(rbt_rem), &p), ESPAT_ATT_MALFORMED);
	const uint8_t grp_empty[] = {0x11, 0x06};
	assert_int_equal(espat_att_decode(grp_empty, 2, &p), ESPAT_ATT_MALFORMED);
	const uint8_t grp_small[] = {0x11, 0x03, 0x01, 0x00, 0x05};
	assert_int_equal(espat_att_decode(grp_small, sizeof(grp_small), &p), ESPAT_ATT_MALFORMED);
}

static void test_mtu_limits(void **state)
{
	(void)state;
	uint8_t val[40];
	for (size_t i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)i;
	uint8_t out[64];
	/* A read response is cut to ATT_MTU - 1. */
	struct espat_att_pdu rsp = {.op = ESPAT_ATT_READ_RSP, .value = val, .value_len = 40};
	assert_int_equal(espat_att_encode(&rsp, ESPAT_ATT_MTU_MIN, out, sizeof(out)), 23);
	assert_int_equal(out[0], ESPAT_ATT_READ_RSP);
	assert_memory_equal(out + 1, val, 22);
	/* A notification is not cut: it is refused past ATT_MTU - 3. */
	struct espat_att_pdu ntf = {.op = ESPAT_ATT_NOTIFY, .handle = 3, .value = val};
	ntf.value_len = espat_att_value_room(ESPAT_ATT_NOTIFY, ESPAT_ATT_MTU_MIN);
	assert_int_equal(ntf.value_len, 20);
	assert_int_equal(espat_att_encode(&ntf, ESPAT_ATT_MTU_MIN, out, sizeof(out)), 23);
	ntf.value_len = 21;
	assert_int_equal(espat_att_encode(&ntf, ESPAT_ATT_MTU_MIN, out, sizeof(out)), 0);
	assert_int_equal(espat_att_encode(&ntf, 24, out, sizeof(out)), 24);
	/* The buffer bounds the encoding too. */
	assert_int_equal(espat_att_encode(&ntf, 517, out, 10), 0);
	assert_int_equal(espat_att_value_room(ESPAT_ATT_READ_BLOB_RSP, 23), 22);
	assert_int_equal(espat_att_value_room(ESPAT_ATT_WRITE_CMD, 517), 514);
	assert_int_equal(espat_att_value_room(ESPAT_ATT_MTU_REQ, 517), 0);
	/* Unknown opcodes and half-set fields are not encoded. */
	struct espat_att_pdu unk = {.op = 0x16};
	assert_int_equal(espat_att_encode(&unk, 517, out, sizeof(out)), 0);
	struct espat_att_pdu rbt = {.op = ESPAT_ATT_READ_BY_TYPE_REQ, .start = 1, .end = 5};
	assert_int_equal(espat_att_encode(&rbt, 517, out, sizeof(out)), 0); /* no UUID */
}

static void test_lists(void **state)
{
	(void)state;
	/* A Read By Group Type response with two primary services. */
	uint8_t list[64];
	size_t n = 0;
	const uint8_t uuid_a[] = {0x0f, 0x18}; /* Battery Service */
	const uint8_t uuid_b[] = {0xa0, 0x02};
	struct espat_att_item a = {.handle = 1, .end = 5, .data = uuid_a, .len = 2};
	struct espat_att_item b = {.handle = 6, .end = 0xffff, .data = uuid_b, .len = 2};
	n += espat_att_item_put(ESPAT_ATT_READ_BY_GROUP_RSP, &a, list + n, sizeof(list) - n);
	n += espat_att_item_put(ESPAT_ATT_READ_BY_GROUP_RSP, &b, list + n, sizeof(list) - n);
	assert_int_equal(n, 12);
	struct espat_att_pdu rsp = {
	    .op = ESPAT_ATT_READ_BY_GROUP_RSP, .elem_len = 6, .value = list, .value_len = n};
	uint8_t out[64];
	size_t len = espat_att_encode(&rsp, 23, out, sizeof(out));
	const uint8_t want[] = {0x11, 0x06, 0x01, 0x00, 0x05, 0x00, 0x0f,
	                        0x18, 0x06, 0x00, 0xff, 0xff, 0xa0, 0x02};
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	struct espat_att_pdu p;
	assert_int_equal(espat_att_decode(out, len, &p), ESPAT_ATT_OK);
	assert_int_equal(espat_att_items(&p), 2);
	struct espat_att_item it;
	assert_true(espat_att_item(&p, 1, &it));
	assert_int_equal(it.handle, 6);
	assert_int_equal(it.end, 0xffff);
	assert_int_equal(it.len, 2);
	assert_memory_equal(it.data, uuid_b, 2);
	assert_false(espat_att_item(&p, 2, &it));

	/* Find Information with one 128-bit UUID. */
	struct espat_att_item info = {.handle = 9, .uuid = {.len = 16}};
	for (int i = 0; i < 16; i++)
		info.uuid.b[i] = (uint8_t)(0xf0 + i);
	uint8_t el[18];
	assert_int_equal(espat_att_item_put(ESPAT_ATT_FIND_INFO_RSP, &info, el, sizeof(el)), 18);
	struct espat_att_pdu fi = {
	    .op = ESPAT_ATT_FIND_INFO_RSP, .elem_len = 18, .value = el, .value_len = 18};
	len = espat_att_encode(&fi, 23, out, sizeof(out));
	assert_int_equal(len, 20);
	assert_int_equal(out[1], 2); /* format: 128-bit */
	assert_int_equal(espat_att_decode(out, len, &p), ESPAT_ATT_OK);
	assert_true(espat_att_item(&p, 0, &it));
	assert_int_equal(it.handle, 9);
	assert_true(espat_att_uuid_eq(&it.uuid, &info.uuid));
	/* A list that is not whole elements is not encoded; an item too big for one byte's
	 * length is not put. */
	fi.value_len = 17;
	assert_int_equal(espat_att_encode(&fi, 23, out, sizeof(out)), 0);
	uint8_t big[300] = {0};
	struct espat_att_item huge = {.handle = 1, .data = big, .len = 260};
	assert_int_equal(espat_att_item_put(ESPAT_ATT_READ_BY_TYPE_RSP, &huge, big, sizeof(big)),
	                 0);
	assert_int_equal(espat_att_item_put(ESPAT_ATT_READ_REQ, &a, list, sizeof(list)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixed_pdus),
	    cmocka_unit_test(test_malformed_and_unknown),
	    cmocka_unit_test(test_mtu_limits),
	    cmocka_unit_test(test_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
