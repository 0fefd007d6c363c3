/* BluFi in the module (src/cmd/ble_blufi.c) on the test port: the
 * commands and their refusals, the advertising, the GATT service a phone
 * discovers over ATT, frames both ways through the BLE entry points, the
 * link's end (hang-up, supervision timeout, AT+BLUFI=0) and a restart.
 * The provisioning itself runs end to end in tests/e2e/test_blufi.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "module_fixture.h"

#include "cmd/ble.h"
#include "cmd/ble_blufi.h"
#include "proto/att.h"
#include "proto/blufi.h"
#include "world/ble.h"

#define OK "\r\nOK\r\n"
#define EXEC_ERR "\r\nERROR\r\n"

static const uint8_t phone[6] = {0x60, 0x51, 0x42, 0xfe, 0x98, 0xb1};

static void add_phone(struct fx *f)
{
	const char *argv[] = {"addr=60:51:42:fe:98:b1", "name=phone"};
	char err[64];
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "phone", 2, argv, err, sizeof(err)),
	                 0);
}

/* One ATT request from the phone; the answer's decoded PDU (into buf). */
static struct espat_att_pdu att(struct fx *f, const struct espat_att_pdu *q, uint8_t *buf)
{
	uint8_t req[ESPAT_ATT_MTU_MAX];
	size_t n = espat_att_encode(q, 23, req, sizeof(req));
	assert_true(n > 0);
	size_t r = espat_ble_att_request(&f->m, phone, req, n, buf, ESPAT_ATT_MTU_MAX);
	struct espat_att_pdu p = {0};
	if (r > 0)
		assert_int_equal(espat_att_decode(buf, r, &p), ESPAT_ATT_OK);
	return p;
}

static void test_commands(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLUFI?\r\n", "+BLUFI:0\r\n" OK);
	cmd(f, "AT+BLUFINAME?\r\n", "+BLUFINAME:BLUFI_DEVICE\r\n" OK);
	cmd(f, "AT+BLUFINAME=\"blufi_test\"\r\n", OK);
	cmd(f, "AT+BLUFINAME?\r\n", "+BLUFINAME:blufi_test\r\n" OK);
	cmd(f, "AT+BLUFINAME=\"\"\r\n", EXEC_ERR);
	cmd(f, "AT+BLUFI=0,1\r\n", EXEC_ERR); /* the floor goes with starting */
	cmd(f, "AT+BLUFI=1,8\r\n", EXEC_ERR);
	cmd(f, "AT+BLUFISEND=1\r\n", EXEC_ERR);
	assert_false(f->tp.world.ble.own_on);
	cmd(f, "AT+BLUFI=1\r\n", OK);
	assert_true(f->tp.world.ble.own_on);
	/* flags, service 0xFFFF, the complete local name */
	const uint8_t adv[] = {2,   1,   6,   3,   3,   0xff, 0xff, 11,  9,  'b',
	                       'l', 'u', 'f', 'i', '_', 't',  'e',  's', 't'};
	assert_int_equal(f->tp.world.ble.own.adv_len, sizeof(adv));
	assert_memory_equal(f->tp.world.ble.own.adv, adv, sizeof(adv));
	cmd(f, "AT+BLUFI=1\r\n", EXEC_ERR);
	cmd(f, "AT+BLEINIT=2\r\n", EXEC_ERR);
	cmd(f, "AT+BLUFI=0\r\n", OK);
	cmd(f, "AT+BLUFI=0\r\n", OK);
	assert_false(f->tp.world.ble.own_on);
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	cmd(f, "AT+BLUFI=1\r\n", EXEC_ERR);
	cmd(f, "AT+BLUFI?\r\n", "+BLUFI:0\r\n" OK);
}

static void test_service_and_frames(void **state)
{
	struct fx *f = *state;
	add_phone(f);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), -1); /* BluFi is off */
	cmd(f, "AT+BLUFI=1\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLUFICONN\r\n");
	assert_false(f->tp.world.ble.own_on);
	assert_true(f->tp.world.ble.peer[0].connected);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), -1); /* one phone */
	cmd(f, "AT+BLECONN?\r\n", OK); /* not a link of the BLE family */

	/* discovery: the service, its two characteristics, the CCCD */
	uint8_t buf[ESPAT_ATT_MTU_MAX];
	struct espat_att_pdu q = {.op = ESPAT_ATT_READ_BY_GROUP_REQ,
	                          .start = 1,
	                          .end = 0xffff,
	                          .type = espat_att_uuid16(ESPAT_GATT_PRIMARY)};
	struct espat_att_pdu r = att(f, &q, buf);
	const uint8_t grp[] = {1, 0, 6, 0, 0xff, 0xff};
	assert_int_equal(r.op, ESPAT_ATT_READ_BY_GROUP_RSP);
	assert_int_equal(r.value_len, sizeof(grp));
	assert_memory_equal(r.value, grp, sizeof(grp));
	q.op = ESPAT_ATT_READ_BY_TYPE_REQ;
	q.type = espat_att_uuid16(ESPAT_GATT_CHAR);
	r = att(f, &q, buf);
	const uint8_t chars[] = {2, 0, 0x08, 3, 0, 0x01, 0xff, 4, 0, 0x12, 5, 0, 0x02, 0xff};
	assert_int_equal(r.op, ESPAT_ATT_READ_BY_TYPE_RSP);
	assert_memory_equal(r.value, chars, sizeof(chars));
	q.op = ESPAT_ATT_FIND_INFO_REQ;
	q.start = 6;
	r = att(f, &q, buf);
	const uint8_t info[] = {6, 0, 0x02, 0x29};
	assert_memory_equal(r.value, info, sizeof(info));
	q.start = 7;
	assert_int_equal(att(f, &q, buf).err, ESPAT_ATT_E_NOT_FOUND);
	struct espat_att_pdu rd = {.op = ESPAT_ATT_READ_REQ, .handle = ESPAT_BLUFI_H_P2E};
	assert_int_equal(att(f, &rd, buf).err, ESPAT_ATT_E_READ_NOT_PERMITTED);
	const uint8_t on[] = {1, 0};
	struct espat_att_pdu wr = {
	    .op = ESPAT_ATT_WRITE_REQ, .handle = ESPAT_BLUFI_H_CCCD, .value = on, .value_len = 2};
	assert_int_equal(att(f, &wr, buf).op, ESPAT_ATT_WRITE_RSP);
	rd.handle = ESPAT_BLUFI_H_CCCD;
	r = att(f, &rd, buf);
	assert_memory_equal(r.value, on, 2);
	wr.handle = ESPAT_BLUFI_H_E2P;
	assert_int_equal(att(f, &wr, buf).err, ESPAT_ATT_E_WRITE_NOT_PERMITTED);

	/* a custom data frame in, as a write command through espat_ble_att_in */
	const uint8_t frame[] = {0x4d, 0x00, 0x00, 0x03, 'h', 'i', '!'};
	uint8_t pdu[16] = {ESPAT_ATT_WRITE_CMD, ESPAT_BLUFI_H_P2E, 0};
	memcpy(pdu + 3, frame, sizeof(frame));
	espat_ble_att_in(&f->m, phone, pdu, 3 + sizeof(frame));
	expect(f, "+BLUFIDATA:3,hi!\r\n");

	/* AT+BLUFISEND: 20 bytes in two notified frames (12 + 8 under MTU 23) */
	send(f, "AT+BLUFISEND=20\r\n");
	expect(f, ">");
	send(f, "0123456789abcdefghij");
	expect(f, OK);
	struct espat_ble_peer *p = &f->tp.world.ble.peer[0];
	assert_int_equal(p->nlog, 2);
	struct espat_blufi_codec rx;
	espat_blufi_init(&rx);
	struct espat_blufi_msg m;
	uint8_t err;
	for (size_t i = 0; i < 2; i++) {
		struct espat_att_pdu n;
		assert_int_equal(espat_att_decode(p->log[i].pdu, p->log[i].len, &n), ESPAT_ATT_OK);
		assert_int_equal(n.op, ESPAT_ATT_NOTIFY);
		assert_int_equal(n.handle, ESPAT_BLUFI_H_E2P);
		assert_int_equal(espat_blufi_recv(&rx, n.value, n.value_len, &m, &err, NULL, NULL),
		                 i == 0 ? ESPAT_BLUFI_PART : ESPAT_BLUFI_MSG);
	}
	assert_int_equal(m.type, ESPAT_BLUFI_TYPE(ESPAT_BLUFI_DATA, ESPAT_BLUFI_D_CUSTOM));
	assert_int_equal(m.len, 20);
	assert_memory_equal(m.data, "0123456789abcdefghij", 20);
	p->nlog = 0;

	/* a frame out of sequence: an error report (data 0x12, code 0) */
	espat_ble_att_in(&f->m, phone, pdu, 3 + sizeof(frame));
	assert_int_equal(p->nlog, 1);
	const uint8_t seq_err[] = {ESPAT_ATT_NOTIFY, ESPAT_BLUFI_H_E2P, 0, 0x49, 0x04, 2, 1, 0};
	assert_int_equal(p->log[0].len, sizeof(seq_err));
	assert_memory_equal(p->log[0].pdu, seq_err, sizeof(seq_err));
	p->nlog = 0;

	/* the phone hangs up: +BLUFIDISCONN, advertising again; a new link
	 * starts the sequence numbers again */
	assert_true(espat_ble_remote_disconnect(&f->m, phone));
	expect(f, "+BLUFIDISCONN\r\n");
	assert_true(f->tp.world.ble.own_on);
	assert_false(espat_ble_remote_disconnect(&f->m, phone));
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLUFICONN\r\n");
	espat_ble_att_in(&f->m, phone, pdu, 3 + sizeof(frame));
	expect(f, "+BLUFIDATA:3,hi!\r\n");

	/* it vanishes: the link ends at the supervision timeout */
	assert_true(espat_ble_peer_lost(&f->m, phone));
	cmd(f, "AT+BLUFISEND=1\r\n", EXEC_ERR);
	advance(f, 4999);
	expect(f, "");
	advance(f, 1);
	expect(f, "+BLUFIDISCONN\r\n");

	/* AT+BLUFI=0 with a phone connected */
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLUFICONN\r\n");
	cmd(f, "AT+BLUFI=0\r\n", "+BLUFIDISCONN\r\n" OK);
	assert_false(f->tp.world.ble.peer[0].connected);
	assert_false(f->tp.world.ble.own_on);
	assert_int_equal(
	    espat_ble_att_request(&f->m, phone, pdu, 3 + sizeof(frame), buf, sizeof(buf)), 0);

	/* a restart takes BluFi off the air, without a report */
	cmd(f, "AT+BLUFI=1\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLUFICONN\r\n");
	fx_power_cycle(f);
	assert_false(f->tp.world.ble.own_on);
	assert_false(f->tp.world.ble.peer[0].connected);
	cmd(f, "AT+BLUFI?\r\n", "+BLUFI:0\r\n" OK);
	cmd(f, "AT+BLUFINAME?\r\n", "+BLUFINAME:BLUFI_DEVICE\r\n" OK); /* not saved */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_commands, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_service_and_frames, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
