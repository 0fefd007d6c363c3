/* What the BLE family tells a transport whose peer is another module (the
 * shared air, app/ble_air.c) and what it takes from it: the port's
 * conn_param() at an update's instant and mtu() when an exchange ends,
 * espat_ble_peer_conn_param() (the other end's update, printed with this
 * side's own min/max), espat_ble_own_addr() (the initiator's address),
 * and the link's end through link(). A recording port in front of the
 * test port's world; exact bytes on the UART. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmd/ble.h"
#include "world/ble.h"

#include "module_fixture.h"

#define OK "\r\nOK\r\n"

/* The calls the family made, in front of the world's port. */
struct rec {
	struct espat_ble_port world;
	int conn_params, mtus, downs;
	uint16_t interval, latency, timeout, mtu;
	uint8_t addr[6];
};

static struct rec rec; /* the recording port's state: one test at a time, reset by setup */

static bool r_advertiser(void *user, size_t i, struct espat_ble_adv *out)
{
	struct rec *r = user;
	return r->world.advertiser(r->world.user, i, out);
}

static void r_advertise(void *user, const struct espat_ble_adv *adv)
{
	struct rec *r = user;
	r->world.advertise(r->world.user, adv);
}

static void r_link(void *user, const uint8_t addr[6], bool up)
{
	struct rec *r = user;
	r->downs += !up;
	r->world.link(r->world.user, addr, up);
}

static uint16_t r_peer_mtu(void *user, const uint8_t addr[6])
{
	struct rec *r = user;
	return r->world.peer_mtu(r->world.user, addr);
}

static void r_att(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	struct rec *r = user;
	r->world.att(r->world.user, addr, pdu, len);
}

static void r_conn_param(void *user, const uint8_t addr[6], uint16_t interval, uint16_t latency,
                         uint16_t timeout)
{
	struct rec *r = user;
	r->conn_params++;
	memcpy(r->addr, addr, 6);
	r->interval = interval;
	r->latency = latency;
	r->timeout = timeout;
}

static void r_mtu(void *user, const uint8_t addr[6], uint16_t mtu)
{
	struct rec *r = user;
	r->mtus++;
	memcpy(r->addr, addr, 6);
	r->mtu = mtu;
}

static int setup(void **state)
{
	fx_setup(state);
	struct fx *f = *state;
	memset(&rec, 0, sizeof(rec));
	rec.world = f->m.ports.ble;
	f->m.ports.ble = (struct espat_ble_port){.advertiser = r_advertiser,
	                                         .advertise = r_advertise,
	                                         .link = r_link,
	                                         .peer_mtu = r_peer_mtu,
	                                         .att = r_att,
	                                         .conn_param = r_conn_param,
	                                         .mtu = r_mtu,
	                                         .user = &rec};
	cmd(f, "AT+SYSLOG=1\r\n", OK);
	char err[160];
	const char *a[] = {"addr=24:0a:c4:d6:e4:46", "interval=20", "mtu=247"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "board", 3, a, err, sizeof(err)), 0);
	return 0;
}

static const uint8_t board[6] = {0x24, 0x0a, 0xc4, 0xd6, 0xe4, 0x46};

static void connect_board(struct fx *f)
{
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	send(f, "AT+BLECONN=0,\"24:0a:c4:d6:e4:46\"\r\n");
	advance(f, 20);
	expect(f, "+BLECONN:0,\"24:0a:c4:d6:e4:46\"\r\n" OK);
}

static void test_own_update_reaches_the_port(void **state)
{
	struct fx *f = *state;
	connect_board(f);
	cmd(f, "AT+BLECONNPARAM=0,12,14,1,500\r\n", OK);
	advance(f, 179); /* 6 events of 30 ms: the instant */
	assert_int_equal(rec.conn_params, 0);
	advance(f, 1);
	expect(f, "+BLECONNPARAM:0,12,14,12,1,500\r\n");
	assert_int_equal(rec.conn_params, 1);
	assert_memory_equal(rec.addr, board, 6);
	assert_int_equal(rec.interval, 12);
	assert_int_equal(rec.latency, 1);
	assert_int_equal(rec.timeout, 500);
	/* the exchange: asked 300, offered 247 */
	cmd(f, "AT+BLECFGMTU=0,300\r\n", OK);
	assert_int_equal(rec.mtus, 0);
	advance(f, 15); /* one event at 12 x 1.25 ms */
	expect(f, "+BLECFGMTU:0,247\r\n");
	assert_int_equal(rec.mtus, 1);
	assert_int_equal(rec.mtu, 247);
	cmd(f, "AT+BLEDISCONN=0\r\n", OK);
	advance(f, 15);
	expect(f, "+BLEDISCONN:0,\"24:0a:c4:d6:e4:46\"\r\n");
	assert_int_equal(rec.downs, 1);
}

static void test_peer_update(void **state)
{
	struct fx *f = *state;
	assert_false(espat_ble_peer_conn_param(&f->m, board, 800, 0, 500)); /* BLE off */
	connect_board(f);
	/* the other end's update: min/max 0 here, as the guide's peripheral */
	assert_true(espat_ble_peer_conn_param(&f->m, board, 800, 0, 500));
	expect(f, "+BLECONNPARAM:0,0,0,800,0,500\r\n");
	cmd(f, "AT+BLECONNPARAM?\r\n", "+BLECONNPARAM:0,0,0,800,0,500\r\n" OK);
	assert_int_equal(rec.conn_params, 0); /* not echoed back to the port */
	/* after a request here, the other end's update is still reported
	 * with 0,0; the query keeps this side's last request */
	cmd(f, "AT+BLECONNPARAM=0,24,40,0,600\r\n", OK);
	advance(f, 6000);
	expect(f, "+BLECONNPARAM:0,24,40,24,0,600\r\n");
	assert_true(espat_ble_peer_conn_param(&f->m, board, 36, 2, 700));
	expect(f, "+BLECONNPARAM:0,0,0,36,2,700\r\n");
	cmd(f, "AT+BLECONNPARAM?\r\n", "+BLECONNPARAM:0,24,40,36,2,700\r\n" OK);
	/* the supervision timeout follows the update: 7 s */
	assert_true(espat_ble_peer_lost(&f->m, board));
	advance(f, 6999);
	expect(f, "");
	advance(f, 1);
	expect(f, "+BLEDISCONN:0,\"24:0a:c4:d6:e4:46\"\r\n");
	const uint8_t other[6] = {1, 2, 3, 4, 5, 6};
	assert_false(espat_ble_peer_conn_param(&f->m, other, 36, 0, 500)); /* no link */
}

static void test_own_addr(void **state)
{
	struct fx *f = *state;
	uint8_t a[6], type;
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	espat_ble_own_addr(&f->m, a, &type);
	assert_int_equal(type, 0);
	assert_memory_equal(a, f->m.ble->public_addr, 6);
	/* a random address is the initiator's only with <own_addr_type> 1 */
	cmd(f, "AT+BLEADDR=1,\"f8:7f:24:87:1c:7b\"\r\n", OK);
	espat_ble_own_addr(&f->m, a, &type);
	assert_int_equal(type, 0);
	cmd(f, "AT+BLESCANPARAM=1,1,0,160,80\r\n", OK);
	espat_ble_own_addr(&f->m, a, &type);
	const uint8_t want[6] = {0xf8, 0x7f, 0x24, 0x87, 0x1c, 0x7b};
	assert_int_equal(type, 1);
	assert_memory_equal(a, want, 6);
}

static void test_conn_on_an_existing_link(void **state)
{
	struct fx *f = *state;
	const uint8_t phone[6] = {0x24, 0x0a, 0xc4, 0x03, 0xa7, 0x4e};
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLECONN:0,\"24:0a:c4:03:a7:4e\"\r\n");
	/* the guide's 4.3.3: the server joins the link as a GATT client */
	cmd(f, "AT+BLECONN=0,\"24:0a:c4:03:a7:4e\"\r\n", OK);
	cmd(f, "AT+BLECONN?\r\n", "+BLECONN:0,\"24:0a:c4:03:a7:4e\"\r\n" OK);
	/* another index for the same device, or another device on index 0 */
	cmd(f, "AT+BLECONN=1,\"24:0a:c4:03:a7:4e\"\r\n", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+BLECONN=0,\"24:0a:c4:d6:e4:46\"\r\n", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	assert_int_equal(rec.downs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_own_update_reaches_the_port, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_peer_update, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_own_addr, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_conn_on_an_existing_link, setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
