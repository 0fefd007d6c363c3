/* The BLE family's first commands on the test port: AT+BLEINIT (roles, the
 * role fixed until a restart), AT+BLEADDR (public = base MAC + 2, static
 * random rules, saved always) and AT+BLENAME (32 bytes, saved under
 * AT+SYSSTORE). Exact bytes, under AT+SYSLOG=1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmd/ble.h"
#include "proto/att.h"
#include "world/ble.h"

#include "module_fixture.h"

#define OK "\r\nOK\r\n"
#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"
#define EXEC_ERR ERR("0x010a0000")

static int setup(void **state)
{
	fx_setup(state);
	cmd(*state, "AT+SYSLOG=1\r\n", OK);
	return 0;
}

static void rst(struct fx *f)
{
	cmd(f, "AT+RST\r\n", OK);
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n" OK);
	cmd(f, "AT+SYSLOG=1\r\n", OK);
}

static void test_init_roles(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEINIT?\r\n", "+BLEINIT:0\r\n" OK);
	/* nothing else works before initialization but the address and the name */
	cmd(f, "AT+BLESCANPARAM?\r\n", EXEC_ERR);
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:ESP-AT\r\n" OK);
	cmd(f, "AT+BLEADDR?\r\n", "+BLEADDR:\"34:85:18:12:34:58\"\r\n" OK);
	cmd(f, "AT+BLEINIT=3\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEINIT?\r\n", "+BLEINIT:2\r\n" OK);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEINIT=1\r\n", EXEC_ERR); /* the role stays until AT+RST */
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	cmd(f, "AT+BLEINIT?\r\n", "+BLEINIT:0\r\n" OK);
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	cmd(f, "AT+BLEINIT=1\r\n", EXEC_ERR); /* even after deinit */
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	assert_true(espat_ble_on(&f->m));
	rst(f);
	cmd(f, "AT+BLEINIT?\r\n", "+BLEINIT:0\r\n" OK); /* not saved */
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	cmd(f, "AT+BLEINIT?\r\n", "+BLEINIT:1\r\n" OK);
}

static void test_addr(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	/* the test port's base MAC is 34:85:18:12:34:56 */
	cmd(f, "AT+BLEADDR?\r\n", "+BLEADDR:\"34:85:18:12:34:58\"\r\n" OK);
	/* static random: the two top bits 1, not all 0 / all 1 after them */
	cmd(f, "AT+BLEADDR=1,\"38:7f:24:87:1c:7b\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADDR=1,\"c0:00:00:00:00:00\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADDR=1,\"ff:ff:ff:ff:ff:ff\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADDR=1,\"f8:7f:24:87:1c\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADDR=0,\"f8:7f:24:87:1c:7b\"\r\n", ERR("0x01060102"));
	cmd(f, "AT+BLEADDR=2\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEADDR=1,\"f8:7f:24:87:1c:7b\"\r\n", OK);
	assert_true(f->m.ble->random);
	const uint8_t want[6] = {0xf8, 0x7f, 0x24, 0x87, 0x1c, 0x7b};
	assert_memory_equal(f->m.ble->random_addr, want, 6);
	/* the query names the public address */
	cmd(f, "AT+BLEADDR?\r\n", "+BLEADDR:\"34:85:18:12:34:58\"\r\n" OK);
	/* saved whatever AT+SYSSTORE says */
	cmd(f, "AT+SYSSTORE=0\r\n", OK);
	fx_power_cycle(f);
	assert_true(f->m.ble->random);
	assert_memory_equal(f->m.ble->random_addr, want, 6);
	cmd(f, "AT+SYSLOG=1\r\n", OK);
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	/* a private address: the two top bits 0 */
	cmd(f, "AT+BLEADDR=1\r\n", OK);
	assert_true(f->m.ble->random);
	assert_int_equal(f->m.ble->random_addr[0] & 0xc0, 0);
	cmd(f, "AT+BLEADDR=0\r\n", OK);
	assert_false(f->m.ble->random);
	fx_power_cycle(f);
	assert_false(f->m.ble->random);
}

static void test_name(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:ESP-AT\r\n" OK);
	cmd(f, "AT+BLENAME=\"esp_demo\"\r\n", OK);
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:esp_demo\r\n" OK);
	cmd(f, "AT+BLENAME=\"123456789012345678901234567890123\"\r\n", ERR("0x01040000"));
	cmd(f, "AT+BLENAME=\"\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLENAME=5\r\n", ERR("0x01050000"));
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:esp_demo\r\n" OK);
	/* 32 bytes, with a comma and a quote, survive a power cut (SYSSTORE=1) */
	cmd(f, "AT+BLENAME=\"12345678901234567890123456789\\,\\\"2\"\r\n", OK);
	fx_power_cycle(f);
	cmd(f, "AT+BLEINIT=2\r\n", "\r\nOK\r\n");
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:12345678901234567890123456789,\"2\r\n" OK);
	/* under AT+SYSSTORE=0 the name is RAM only */
	cmd(f, "AT+SYSSTORE=0\r\n", OK);
	cmd(f, "AT+BLENAME=\"ram\"\r\n", OK);
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:ram\r\n" OK);
	fx_power_cycle(f);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:12345678901234567890123456789,\"2\r\n" OK);
	/* AT+RESTORE forgets it */
	cmd(f, "AT+RESTORE\r\n", OK);
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n" OK);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLENAME?\r\n", "+BLENAME:ESP-AT\r\n" OK);
}

/* ---- scanning -------------------------------------------------------------- */

#define ADV "0201060a09457370726573736966030302a0" /* the guide's [000:15360] */
#define LINE_A(rsp) "+BLESCAN:\"24:0a:c4:d6:e4:46\",-78," ADV "," rsp ",0\r\n"

static void add_peers(struct fx *f)
{
	char err[160];
	const char *a[] = {"addr=24:0a:c4:d6:e4:46", "adv=" ADV, "rsp=1122",
	                   "interval=100",           "phase=10", "rssi=-78"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "phone", 6, a, err, sizeof(err)), 0);
	const char *b[] = {"addr=c0:11:22:33:44:55", "addr_type=1", "name=other", "interval=20",
	                   "rssi=-40"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "tag", 5, b, err, sizeof(err)), 0);
	/* a bad peer changes nothing */
	const char *c[] = {"addr=c0:11:22:33:44:56", "adv=0g"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "bad", 2, c, err, sizeof(err)), -1);
	assert_int_equal(f->tp.world.ble.n, 2);
}

static void test_scan_windows(void **state)
{
	struct fx *f = *state;
	add_peers(f);
	cmd(f, "AT+BLESCANPARAM?\r\n", EXEC_ERR);
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	cmd(f, "AT+BLESCANPARAM?\r\n", "+BLESCANPARAM:1,0,0,160,80\r\n" OK);
	cmd(f, "AT+BLESCANPARAM=0,0,0,50,100\r\n", ERR("0x01070004")); /* window > interval */
	cmd(f, "AT+BLESCANPARAM=0,0,0,3,3\r\n", ERR("0x01070003"));
	/* the guide's example: 31.25 ms windows every 62.5 ms */
	cmd(f, "AT+BLESCANPARAM=0,0,0,100,50\r\n", OK);
	cmd(f, "AT+BLESCANPARAM?\r\n", "+BLESCANPARAM:0,0,0,100,50\r\n" OK);
	/* Only the phone (MAC filter). Its events at 10, 110, ... 910 ms fall
	 * into the windows [62.5 j, 62.5 j + 31.25) at 10, 210, 510 and 710
	 * only; a passive scan gets no scan response. */
	cmd(f, "AT+BLESCAN=1,1,1,\"24:0a:c4:d6:e4:46\"\r\n", OK);
	cmd(f, "AT+BLESCAN=1\r\n", EXEC_ERR);                 /* already scanning */
	cmd(f, "AT+BLESCANPARAM=0,0,0,100,50\r\n", EXEC_ERR); /* not while scanning */
	advance(f, 999);
	expect(f, LINE_A("") LINE_A("") LINE_A("") LINE_A(""));
	advance(f, 1);
	expect(f, "+BLESCANDONE\r\n");
	advance(f, 1000);
	expect(f, "");
}

static void test_scan_active_filters(void **state)
{
	struct fx *f = *state;
	add_peers(f);
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	/* window = interval: the scanner hears every event */
	cmd(f, "AT+BLESCANPARAM=1,0,0,160,160\r\n", OK);
	cmd(f, "AT+BLESCAN=1,1,2,\"Espressif\"\r\n", OK);
	advance(f, 1000);
	expect(f, LINE_A("1122") LINE_A("1122") LINE_A("1122") LINE_A("1122") LINE_A("1122")
	              LINE_A("1122") LINE_A("1122") LINE_A("1122") LINE_A("1122")
	                  LINE_A("1122") "+BLESCANDONE\r\n");
	/* the tag by its name, continuously, until AT+BLESCAN=0 (no +BLESCANDONE) */
	cmd(f, "AT+BLESCAN=1,0,2,\"other\"\r\n", OK);
	advance(f, 100);
	const char *tag = "+BLESCAN:\"c0:11:22:33:44:55\",-40,02010606096f74686572,,1\r\n";
	char want[512] = "";
	for (int i = 0; i < 5; i++)
		strcat(want, tag);
	expect(f, want);
	cmd(f, "AT+BLESCAN=0\r\n", OK);
	advance(f, 5000);
	expect(f, "");
	cmd(f, "AT+BLESCAN=0\r\n", OK);
	/* argument rules */
	cmd(f, "AT+BLESCAN=0,5\r\n", ERR("0x01060102"));
	cmd(f, "AT+BLESCAN=1,5,1\r\n", ERR("0x01060403"));
	cmd(f, "AT+BLESCAN=1,5,1,\"24:0a:c4\"\r\n", ERR("0x01070003"));
	cmd(f, "AT+BLESCAN=1,5,3,\"x\"\r\n", ERR("0x01070002"));
	/* parameters survive a power cut under AT+SYSSTORE=1 */
	fx_power_cycle(f);
	cmd(f, "AT+BLEINIT=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+BLESCANPARAM?\r\n", "+BLESCANPARAM:1,0,0,160,160\r\n" OK);
	/* a scan ends with AT+BLEINIT=0 */
	cmd(f, "AT+BLESCAN=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+BLEINIT=0\r\n", "\r\nOK\r\n");
	advance(f, 1000);
	expect(f, "");
}

/* ---- advertising ----------------------------------------------------------- */

static void test_advertising(void **state)
{
	struct fx *f = *state;
	const struct espat_ble_world *air = &f->tp.world.ble;
	cmd(f, "AT+BLEADVSTART\r\n", EXEC_ERR); /* not initialized */
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVPARAM?\r\n",
	    "+BLEADVPARAM:32,64,0,0,7,0,0,\"00:00:00:00:00:00\",1,1\r\n" OK);
	/* the guide's examples */
	cmd(f, "AT+BLEADVPARAM=50,50,0,0,4,0,1,\"12:34:45:78:66:88\"\r\n", OK);
	cmd(f, "AT+BLEADVPARAM?\r\n",
	    "+BLEADVPARAM:50,50,0,0,4,0,1,\"12:34:45:78:66:88\",1,1\r\n" OK);
	cmd(f, "AT+BLEADVPARAM=32,32,6,0,7,0,0,\"62:34:45:78:66:88\",1,3\r\n", OK);
	cmd(f, "AT+BLEADVPARAM?\r\n",
	    "+BLEADVPARAM:32,32,6,0,7,0,0,\"62:34:45:78:66:88\",1,3\r\n" OK);
	cmd(f, "AT+BLEADVPARAM=50,50,0,0,7,0,,\r\n", OK);
	cmd(f, "AT+BLEADVPARAM?\r\n",
	    "+BLEADVPARAM:50,50,0,0,7,0,0,\"00:00:00:00:00:00\",1,1\r\n" OK);
	/* bad ones */
	cmd(f, "AT+BLEADVPARAM=64,32,0,0,7\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADVPARAM=31,32,0,0,7\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEADVPARAM=32,32,0,0,7,0,1\r\n", ERR("0x01060807"));
	cmd(f, "AT+BLEADVPARAM=32,32,0,0,7,0,0,\"nope\"\r\n", ERR("0x01070007"));
	/* data: HEX strings, 31 bytes for legacy types */
	cmd(f, "AT+BLEADVDATA=\"0201060A09457370726573736966030302A0\"\r\n", OK);
	cmd(f, "AT+BLEADVDATA=\"0201\"\r\n", OK);
	cmd(f, "AT+BLEADVDATA=\"020\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEADVDATA=\"02zz\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEADVDATA=\"\"\r\n", ERR("0x01070000"));
	char line[128] = "AT+BLEADVDATA=\"";
	for (int i = 0; i < 32; i++)
		strcat(line, "ab");
	strcat(line, "\"\r\n");
	cmd(f, line, ERR("0x01070000")); /* 32 bytes */
	cmd(f, "AT+BLEADVDATA=\"0201060A09457370726573736966030302A0\"\r\n", OK);
	cmd(f, "AT+BLESCANRSPDATA=\"1122334455\"\r\n", OK);
	assert_false(air->own_on);
	/* on the air: the public address, the data, 50 * 0.625 = 31 ms */
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_true(air->own_on);
	const uint8_t pub[6] = {0x34, 0x85, 0x18, 0x12, 0x34, 0x58};
	assert_memory_equal(air->own.addr, pub, 6);
	assert_int_equal(air->own.adv_len, 18);
	assert_int_equal(air->own.adv[5], 'E');
	assert_int_equal(air->own.rsp_len, 5);
	assert_int_equal(air->own.interval_ms, 31);
	assert_int_equal(air->own.channel_map, 7);
	cmd(f, "AT+BLEADVSTART\r\n", EXEC_ERR); /* already */
	/* a change while on reaches the air */
	cmd(f, "AT+BLESCANRSPDATA=\"66\"\r\n", OK);
	assert_int_equal(air->own.rsp_len, 1);
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
	assert_false(air->own_on);
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
	/* a random own address needs AT+BLEADDR=1 first */
	cmd(f, "AT+BLEADVPARAM=50,50,0,1,7\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", EXEC_ERR);
	cmd(f, "AT+BLEADDR=1,\"f8:7f:24:87:1c:7b\"\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	const uint8_t rnd[6] = {0xf8, 0x7f, 0x24, 0x87, 0x1c, 0x7b};
	assert_memory_equal(air->own.addr, rnd, 6);
	assert_int_equal(air->own.addr_type, 1);
	/* deinit takes it off the air; so does a power cut */
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	assert_false(air->own_on);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	fx_power_cycle(f);
	assert_false(air->own_on);
	/* everything above was saved (AT+SYSSTORE=1) */
	cmd(f, "AT+BLEINIT=2\r\n", "\r\nOK\r\n");
	cmd(f, "AT+BLEADVPARAM?\r\n",
	    "+BLEADVPARAM:50,50,0,1,7,0,0,\"00:00:00:00:00:00\",1,1\r\n\r\nOK\r\n");
	cmd(f, "AT+BLEADVSTART\r\n", "\r\nOK\r\n");
	assert_int_equal(air->own.adv_len, 18);
	assert_int_equal(air->own.rsp_len, 1);
	/* extended types take up to 119 bytes */
	cmd(f, "AT+BLEADVSTOP\r\n", "\r\nOK\r\n");
	cmd(f, "AT+BLEADVPARAM=50,50,5,0,7\r\n", "\r\nOK\r\n");
	char big[300] = "AT+BLEADVDATA=\"";
	for (int i = 0; i < 119; i++)
		strcat(big, "0a");
	strcat(big, "\"\r\n");
	cmd(f, big, "\r\nOK\r\n");
	/* back to a legacy type: 119 bytes cannot go out */
	cmd(f, "AT+BLEADVPARAM=50,50,0,0,7\r\n", "\r\nOK\r\n");
	cmd(f, "AT+BLEADVSTART\r\n", "\r\nERROR\r\n");
}

/* ---- connections ----------------------------------------------------------- */

static void test_connect_as_central(void **state)
{
	struct fx *f = *state;
	add_peers(f);                  /* the phone advertises at 10, 110, 210, ... ms */
	cmd(f, "AT+BLECONN?\r\n", OK); /* before init: nothing listed */
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	advance(f, 15); /* now 15 ms after boot: the phone's next event is at 110 */
	send(f, "AT+BLECONN=0,\"24:0a:c4:d6:e4:46\"\r\n");
	advance(f, 94);
	expect(f, "");
	advance(f, 1);
	expect(f, "+BLECONN:0,\"24:0a:c4:d6:e4:46\"\r\n" OK);
	cmd(f, "AT+BLECONN?\r\n", "+BLECONN:0,\"24:0a:c4:d6:e4:46\"\r\n" OK);
	assert_true(f->tp.world.ble.peer[0].connected);
	/* a connected peer no longer advertises */
	cmd(f, "AT+BLESCANPARAM=1,0,0,160,160\r\n", OK);
	cmd(f, "AT+BLESCAN=1,1,1,\"24:0a:c4:d6:e4:46\"\r\n", OK);
	advance(f, 1000);
	expect(f, "+BLESCANDONE\r\n");
	cmd(f, "AT+BLECONN=0,\"c0:11:22:33:44:55\"\r\n", EXEC_ERR); /* index 0 is busy */
	cmd(f, "AT+BLECONN=1,\"24:0a:c4:d6:e4:46\"\r\n", EXEC_ERR); /* already linked */
	cmd(f, "AT+BLECONN=3,\"c0:11:22:33:44:55\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLECONN=1,\"c0:11:22:33:44:55\",1,2\r\n", ERR("0x01070003"));
	/* the tag, by its random address type, at its next event (20 ms apart) */
	send(f, "AT+BLECONN=1,\"c0:11:22:33:44:55\",1,3\r\n");
	advance(f, 20);
	expect(f, "+BLECONN:1,\"c0:11:22:33:44:55\"\r\n" OK);
	/* nobody there: +BLECONN:<idx>,-1 and ERROR at <timeout> */
	send(f, "AT+BLECONN=2,\"c0:11:22:33:44:99\",0,3\r\n");
	advance(f, 2999);
	expect(f, "");
	advance(f, 1);
	expect(f, "+BLECONN:2,-1\r\n" EXEC_ERR);
	cmd(f, "AT+BLEDISCONN=1\r\n", OK);
	advance(f, 30); /* the next connection event carries the terminate */
	expect(f, "+BLEDISCONN:1,\"c0:11:22:33:44:55\"\r\n");
	/* a wrong address type finds nobody either */
	send(f, "AT+BLECONN=1,\"c0:11:22:33:44:55\",0,3\r\n");
	advance(f, 3000);
	expect(f, "+BLECONN:1,-1\r\n" EXEC_ERR);
	cmd(f, "AT+BLEDISCONN=1\r\n", EXEC_ERR); /* no link */
	cmd(f, "AT+BLECONN?\r\n", "+BLECONN:0,\"24:0a:c4:d6:e4:46\"\r\n" OK);
	/* the phone vanishes: the link ends at the 5 s supervision timeout */
	assert_true(espat_ble_peer_lost(&f->m, f->tp.world.ble.peer[0].adv.addr));
	advance(f, 4999);
	expect(f, "");
	advance(f, 1);
	expect(f, "+BLEDISCONN:0,\"24:0a:c4:d6:e4:46\"\r\n");
	cmd(f, "AT+BLECONN?\r\n", OK);
	assert_false(f->tp.world.ble.peer[0].connected);
}

static void test_connect_as_peripheral(void **state)
{
	struct fx *f = *state;
	const uint8_t phone[6] = {0x60, 0x51, 0x42, 0xfe, 0x98, 0xaa};
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	/* not advertising: nobody can connect */
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), -1);
	cmd(f, "AT+BLEADVPARAM=32,32,3,0,7\r\n", OK); /* non-connectable */
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), -1);
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
	cmd(f, "AT+BLEADVPARAM=32,32,0,0,7\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n"); /* [000:15707] */
	assert_false(f->tp.world.ble.own_on);              /* advertising stopped */
	assert_false(f->m.ble->advertising);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), -1);
	cmd(f, "AT+BLECONN?\r\n", "+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n" OK);
	/* the phone hangs up */
	assert_true(espat_ble_remote_disconnect(&f->m, phone));
	expect(f, "+BLEDISCONN:0,\"60:51:42:fe:98:aa\"\r\n");
	assert_false(espat_ble_remote_disconnect(&f->m, phone));
	/* a phone whose old link waits out its supervision timeout cannot
	 * connect again while it does (Connection Already Exists, COMPAT #408) */
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n");
	assert_true(espat_ble_peer_lost(&f->m, phone));
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), -1);
	advance(f, 5000);
	expect(f, "+BLEDISCONN:0,\"60:51:42:fe:98:aa\"\r\n");
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n");
	assert_true(espat_ble_remote_disconnect(&f->m, phone));
	expect(f, "+BLEDISCONN:0,\"60:51:42:fe:98:aa\"\r\n");
	/* links end silently with AT+BLEINIT=0 */
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n");
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	cmd(f, "AT+BLECONN?\r\n", OK);
}

/* ---- link procedures ------------------------------------------------------- */

static void test_link_procedures(void **state)
{
	struct fx *f = *state;
	add_peers(f); /* the phone offers MTU 517 */
	char err[160];
	const char *small[] = {"addr=c0:11:22:33:44:66", "addr_type=1", "interval=20", "mtu=185"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "ios", 4, small, err, sizeof(err)),
	                 0);
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	cmd(f, "AT+BLECONNPARAM=0,6,6,0,500\r\n", EXEC_ERR); /* no link */
	cmd(f, "AT+BLECFGMTU=0,300\r\n", EXEC_ERR);
	cmd(f, "AT+BLEDATALEN=0,251\r\n", EXEC_ERR);
	cmd(f, "AT+BLECONNPARAM?\r\n", OK);
	send(f, "AT+BLECONN=0,\"24:0a:c4:d6:e4:46\"\r\n");
	advance(f, 10);
	expect(f, "+BLECONN:0,\"24:0a:c4:d6:e4:46\"\r\n" OK);
	/* fresh link: 30 ms, nothing requested here yet */
	cmd(f, "AT+BLECONNPARAM?\r\n", "+BLECONNPARAM:0,0,0,24,0,500\r\n" OK);
	cmd(f, "AT+BLECFGMTU?\r\n", "+BLECFGMTU:0,23\r\n" OK);
	/* the guide's update: in effect 6 events (6 x 30 ms) later */
	cmd(f, "AT+BLECONNPARAM=0,800,800,0,500\r\n", OK);
	cmd(f, "AT+BLECONNPARAM=0,800,800,0,500\r\n", EXEC_ERR); /* one at a time */
	advance(f, 179);
	expect(f, "");
	advance(f, 1);
	expect(f, "+BLECONNPARAM:0,800,800,800,0,500\r\n"); /* [000:18735] */
	cmd(f, "AT+BLECONNPARAM?\r\n", "+BLECONNPARAM:0,800,800,800,0,500\r\n" OK);
	cmd(f, "AT+BLECONNPARAM=0,100,50,0,500\r\n", ERR("0x01070002"));
	/* timeout 1 s is not above (1 + 4) * 125 ms * 2 */
	cmd(f, "AT+BLECONNPARAM=0,100,100,4,100\r\n", ERR("0x01070004"));
	cmd(f, "AT+BLECONNPARAM=0,5,100,0,500\r\n", ERR("0x01070001"));
	/* MTU: asked 300, the phone offers 517: 300, one event (1 s) later */
	cmd(f, "AT+BLECFGMTU=0,16\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLECFGMTU=0,300\r\n", OK);
	advance(f, 1000);
	expect(f, "+BLECFGMTU:0,300\r\n");
	cmd(f, "AT+BLECFGMTU?\r\n", "+BLECFGMTU:0,300\r\n" OK);
	cmd(f, "AT+BLECFGMTU=0,517\r\n", EXEC_ERR); /* once per link */
	cmd(f, "AT+BLEDATALEN=0,251\r\n", OK);
	cmd(f, "AT+BLEDATALEN=0,252\r\n", ERR("0x01070001"));
	assert_int_equal(f->m.ble->link[0].data_len, 251);
	/* the small peer offers 185 */
	send(f, "AT+BLECONN=1,\"c0:11:22:33:44:66\"\r\n");
	advance(f, 20);
	expect(f, "+BLECONN:1,\"c0:11:22:33:44:66\"\r\n" OK);
	cmd(f, "AT+BLECFGMTU=1,517\r\n", OK);
	advance(f, 30);
	expect(f, "+BLECFGMTU:1,185\r\n");
	cmd(f, "AT+BLECFGMTU?\r\n", "+BLECFGMTU:0,300\r\n+BLECFGMTU:1,185\r\n" OK);
	/* the supervision timeout follows the update: 5 s */
	assert_true(espat_ble_peer_lost(&f->m, f->tp.world.ble.peer[0].adv.addr));
	advance(f, 5000);
	expect(f, "+BLEDISCONN:0,\"24:0a:c4:d6:e4:46\"\r\n");
}

static void test_server_mtu(void **state)
{
	struct fx *f = *state;
	const uint8_t phone[6] = {0x60, 0x51, 0x42, 0xfe, 0x98, 0xaa};
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, phone, 0), 0);
	expect(f, "+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n");
	cmd(f, "AT+BLECFGMTU=0,200\r\n", EXEC_ERR); /* the GATT client asks, not the server */
	assert_true(espat_ble_peer_mtu(&f->m, phone, 600));
	expect(f, "+BLECFGMTU:0,517\r\n");
	assert_false(espat_ble_peer_mtu(&f->m, phone, 100));
	cmd(f, "AT+BLECFGMTU?\r\n", "+BLECFGMTU:0,517\r\n" OK);
}

/* ---- the GATT server's table -------------------------------------------------- */

static void test_gatts_table(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEGATTSSRVCRE\r\n", EXEC_ERR); /* not initialized */
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEGATTSSRV?\r\n", OK); /* nothing created yet */
	cmd(f, "AT+BLEGATTSSRVSTART\r\n", EXEC_ERR);
	cmd(f, "AT+BLEGATTSSRVCRE\r\n", OK);
	cmd(f, "AT+BLEGATTSSRVCRE\r\n", EXEC_ERR); /* once */
	cmd(f, "AT+BLEGATTSSRV?\r\n",
	    "+BLEGATTSSRV:1,0,0xA002,1\r\n+BLEGATTSSRV:2,0,0xA003,1\r\n" OK);
	cmd(f, "AT+BLEGATTSSRVSTART\r\n", OK);
	/* the guide's listing [000:14161-14182], [000:14663-14664] */
	cmd(f, "AT+BLEGATTSSRV?\r\n",
	    "+BLEGATTSSRV:1,1,0xA002,1\r\n+BLEGATTSSRV:2,1,0xA003,1\r\n" OK);
	cmd(f, "AT+BLEGATTSCHAR?\r\n",
	    "+BLEGATTSCHAR:\"char\",1,1,0xC300,0x02\r\n"
	    "+BLEGATTSCHAR:\"desc\",1,1,1,0x2901\r\n"
	    "+BLEGATTSCHAR:\"char\",1,2,0xC301,0x02\r\n"
	    "+BLEGATTSCHAR:\"desc\",1,2,1,0x2901\r\n"
	    "+BLEGATTSCHAR:\"char\",1,3,0xC302,0x08\r\n"
	    "+BLEGATTSCHAR:\"desc\",1,3,1,0x2901\r\n"
	    "+BLEGATTSCHAR:\"char\",1,4,0xC303,0x04\r\n"
	    "+BLEGATTSCHAR:\"desc\",1,4,1,0x2901\r\n"
	    "+BLEGATTSCHAR:\"char\",1,5,0xC304,0x08\r\n"
	    "+BLEGATTSCHAR:\"char\",1,6,0xC305,0x10\r\n"
	    "+BLEGATTSCHAR:\"desc\",1,6,1,0x2902\r\n"
	    "+BLEGATTSCHAR:\"char\",1,7,0xC306,0x20\r\n"
	    "+BLEGATTSCHAR:\"desc\",1,7,1,0x2902\r\n"
	    "+BLEGATTSCHAR:\"char\",1,8,0xC307,0x02\r\n"
	    "+BLEGATTSCHAR:\"desc\",1,8,1,0x2901\r\n"
	    "+BLEGATTSCHAR:\"char\",2,1,0xC400,0x02\r\n"
	    "+BLEGATTSCHAR:\"desc\",2,1,1,0x2901\r\n"
	    "+BLEGATTSCHAR:\"char\",2,2,0xC401,0x02\r\n"
	    "+BLEGATTSCHAR:\"desc\",2,2,1,0x2901\r\n" OK);
	cmd(f, "AT+BLEGATTSSRVSTOP=2\r\n", OK);
	cmd(f, "AT+BLEGATTSSRV?\r\n",
	    "+BLEGATTSSRV:1,1,0xA002,1\r\n+BLEGATTSSRV:2,0,0xA003,1\r\n" OK);
	cmd(f, "AT+BLEGATTSSRVSTART=3\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEGATTSSRVSTOP\r\n", OK);
	cmd(f, "AT+BLEGATTSSRV?\r\n",
	    "+BLEGATTSSRV:1,0,0xA002,1\r\n+BLEGATTSSRV:2,0,0xA003,1\r\n" OK);
	/* AT+BLEGATTSSETATTR: the guide's example, then bounds */
	cmd(f, "AT+BLEGATTSSETATTR=1,1,,1\r\n", ">");
	sendn(f, "7", 1);
	expect(f, OK);
	const struct espat_ble_gatts *g = &f->m.ble->gatts;
	assert_int_equal(g->db.attr[g->base - 1 + 2].len, 1);
	assert_int_equal(g->db.attr[g->base - 1 + 2].val[0], '7');
	cmd(f, "AT+BLEGATTSSETATTR=1,1,,2\r\n", ERR("0x01070003")); /* val_max_len 1 */
	cmd(f, "AT+BLEGATTSSETATTR=1,5,1,1\r\n", EXEC_ERR);         /* C304 has no descriptor */
	cmd(f, "AT+BLEGATTSSETATTR=1,9,,1\r\n", EXEC_ERR);
	cmd(f, "AT+BLEGATTSSETATTR=1,8,1,3\r\n", ">"); /* a descriptor: 256 bytes room */
	sendn(f, "abc", 3);
	expect(f, OK);
	assert_int_equal(g->db.attr[g->base - 1 + 23].len, 3);
	/* deinit drops the services */
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEGATTSSRV?\r\n", OK);
}

static void test_gatts_custom_table(void **state)
{
	struct fx *f = *state;
	/* AT+SYSMFG rewrites row 0 with a 128-bit service, erases row 24 on: one service */
	const struct espat_kv *kv = &f->tp.ports.mfg;
	const char *row = "0,16,0x2800,0x01,16,16,"
	                  "0000FFE000001000800000805F9B34FB";
	uint8_t buf[128];
	buf[0] = 7;
	memcpy(buf + 1, row, strlen(row));
	assert_int_equal(kv->set(kv->user, "ble_data", "gatts_cfg0", buf, 1 + strlen(row)), 0);
	assert_int_equal(kv->erase(kv->user, "ble_data", "gatts_cfg24"), 0);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEGATTSSRVCRE\r\n", OK);
	cmd(f, "AT+BLEGATTSSRV?\r\n",
	    "+BLEGATTSSRV:1,0,0x0000FFE000001000800000805F9B34FB,1\r\n" OK);
	/* a bad row: nothing is created */
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	const char *bad = "1,16,0x2803,0x01,1,2,02"; /* cur > max */
	buf[0] = 7;
	memcpy(buf + 1, bad, strlen(bad));
	assert_int_equal(kv->set(kv->user, "ble_data", "gatts_cfg1", buf, 1 + strlen(bad)), 0);
	cmd(f, "AT+BLEGATTSSRVCRE\r\n", EXEC_ERR);
	cmd(f, "AT+BLEGATTSSRV?\r\n", OK);
}

/* ---- the ATT server -------------------------------------------------------------- */

static const uint8_t PHONE[6] = {0x7c, 0xdf, 0xa1, 0xb3, 0x8d, 0xde};

/* One request from the phone; the answer's bytes in rsp, its length back. */
static size_t att(struct fx *f, const struct espat_att_pdu *q, uint8_t *rsp)
{
	uint8_t req[600];
	size_t n = espat_att_encode(q, 517, req, sizeof(req));
	assert_true(n > 0);
	return espat_ble_att_request(&f->m, PHONE, req, n, rsp, 600);
}

static void served(struct fx *f)
{
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEGATTSSRVCRE\r\n", OK);
	cmd(f, "AT+BLEGATTSSRVSTART\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, PHONE, 0), 0);
	expect(f, "+BLECONN:0,\"7c:df:a1:b3:8d:de\"\r\n");
}

static void test_att_server(void **state)
{
	struct fx *f = *state;
	uint8_t rsp[600];
	struct espat_att_pdu r;
	served(f);
	/* primary services: the GATT (0x1801, 1..4) and GAP (0x1800, 5..9) services a
	 * client sees first [000:14265-14277], then 0xA002 at 10..33, 0xA003 at 34..40 */
	struct espat_att_pdu grp = {.op = ESPAT_ATT_READ_BY_GROUP_REQ,
	                            .start = 1,
	                            .end = 0xffff,
	                            .type = espat_att_uuid16(ESPAT_GATT_PRIMARY)};
	size_t n = att(f, &grp, rsp);
	/* three 6-byte elements fill a 23-byte ATT_MTU */
	const uint8_t want[] = {0x11, 6, 1, 0,    4,  0, 0x01, 0x18, 5,    0,
	                        9,    0, 0, 0x18, 10, 0, 33,   0,    0x02, 0xa0};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(rsp, want, sizeof(want));
	grp.start = 34;
	n = att(f, &grp, rsp);
	const uint8_t rest[] = {0x11, 6, 34, 0, 40, 0, 0x03, 0xa0};
	assert_int_equal(n, sizeof(rest));
	assert_memory_equal(rsp, rest, sizeof(rest));
	grp.start = 41;
	n = att(f, &grp, rsp);
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.op, ESPAT_ATT_ERROR_RSP);
	assert_int_equal(r.err, ESPAT_ATT_E_NOT_FOUND);
	/* characteristic declarations: C300's at 11, its value at 12, read-only */
	struct espat_att_pdu rbt = {.op = ESPAT_ATT_READ_BY_TYPE_REQ,
	                            .start = 10,
	                            .end = 33,
	                            .type = espat_att_uuid16(ESPAT_GATT_CHAR)};
	n = att(f, &rbt, rsp);
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.op, ESPAT_ATT_READ_BY_TYPE_RSP);
	struct espat_att_item it;
	assert_true(espat_att_item(&r, 0, &it));
	const uint8_t decl[] = {0x02, 12, 0, 0x00, 0xc3};
	assert_int_equal(it.handle, 11);
	assert_memory_equal(it.data, decl, 5);
	/* read C300 (handle 12): "0", and the server says +READ [000:14332] */
	struct espat_att_pdu rd = {.op = ESPAT_ATT_READ_REQ, .handle = 12};
	n = att(f, &rd, rsp);
	assert_int_equal(n, 2);
	assert_int_equal(rsp[1], '0');
	expect(f, "+READ:0,\"7c:df:a1:b3:8d:de\"\r\n");
	/* C302 (value at 18) is write-only; C300 is read-only */
	rd.handle = 18;
	n = att(f, &rd, rsp);
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.err, ESPAT_ATT_E_READ_NOT_PERMITTED);
	uint8_t one = '5';
	struct espat_att_pdu wr = {
	    .op = ESPAT_ATT_WRITE_REQ, .handle = 12, .value = &one, .value_len = 1};
	n = att(f, &wr, rsp);
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.err, ESPAT_ATT_E_WRITE_NOT_PERMITTED);
	/* write C302: +WRITE with no desc index [000:14352] */
	wr.handle = 18;
	n = att(f, &wr, rsp);
	assert_int_equal(n, 1);
	assert_int_equal(rsp[0], ESPAT_ATT_WRITE_RSP);
	expect(f, "+WRITE:0,1,3,,1,5\r\n");
	uint8_t two[2] = {'1', '2'};
	wr.value = two;
	wr.value_len = 2; /* val_max_len 1 */
	n = att(f, &wr, rsp);
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_LEN);
	rd.handle = 999;
	n = att(f, &rd, rsp);
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_HANDLE);
	/* a stopped service is not there */
	cmd(f, "AT+BLEGATTSSRVSTOP=2\r\n", OK);
	rd.handle = 36;
	n = att(f, &rd, rsp);
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.err, ESPAT_ATT_E_INVALID_HANDLE);
	/* an unknown request gets REQ_NOT_SUPPORTED; an unknown command nothing */
	const uint8_t prep[] = {0x16, 3, 0, 0, 0};
	n = espat_ble_att_request(&f->m, PHONE, prep, sizeof(prep), rsp, sizeof(rsp));
	assert_int_equal(espat_att_decode(rsp, n, &r), ESPAT_ATT_OK);
	assert_int_equal(r.err, ESPAT_ATT_E_REQ_NOT_SUPPORTED);
	const uint8_t signed_wr[] = {0xd2, 3, 0, 1};
	assert_int_equal(
	    espat_ble_att_request(&f->m, PHONE, signed_wr, sizeof(signed_wr), rsp, sizeof(rsp)), 0);
}

static void test_notify_indicate(void **state)
{
	struct fx *f = *state;
	uint8_t rsp[600];
	const struct espat_ble_world *air = &f->tp.world.ble;
	char err[160];
	const char *kv[] = {"addr=7c:df:a1:b3:8d:de"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "phone", 1, kv, err, sizeof(err)), 0);
	served(f);
	/* C305 (value 26, CCCD 27) notifies only once the client enables it */
	cmd(f, "AT+BLEGATTSNTFY=0,1,6,3\r\n", EXEC_ERR);
	cmd(f, "AT+BLEGATTSNTFY=0,1,1,1\r\n", EXEC_ERR); /* C300 cannot notify */
	uint8_t on[2] = {1, 0};
	struct espat_att_pdu sub = {
	    .op = ESPAT_ATT_WRITE_REQ, .handle = 27, .value = on, .value_len = 2};
	assert_int_equal(att(f, &sub, rsp), 1);
	expectn(f, "+WRITE:0,1,6,1,2,\x01\x00\r\n", 21); /* [000:24944] */
	cmd(f, "AT+BLEGATTSNTFY=0,1,6,3\r\n", ">");
	sendn(f, "abc", 3);
	expect(f, OK);
	assert_int_equal(air->peer[0].nlog, 1);
	const uint8_t ntf[] = {0x1b, 26, 0, 'a', 'b', 'c'};
	assert_int_equal(air->peer[0].log[0].len, sizeof(ntf));
	assert_memory_equal(air->peer[0].log[0].pdu, ntf, sizeof(ntf));
	/* at most ATT_MTU - 3 = 20 bytes on a 23-byte link */
	cmd(f, "AT+BLEGATTSNTFY=0,1,6,21\r\n", ERR("0x01070003"));
	/* notify is not indicate: C306 (value 29, CCCD 30) */
	cmd(f, "AT+BLEGATTSIND=0,1,7,1\r\n", EXEC_ERR);
	on[0] = 2;
	sub.handle = 30;
	assert_int_equal(att(f, &sub, rsp), 1);
	expectn(f, "+WRITE:0,1,7,1,2,\x02\x00\r\n", 21);
	cmd(f, "AT+BLEGATTSIND=0,1,7,2\r\n", ">");
	sendn(f, "hi", 2);
	expect(f, OK);
	assert_int_equal(air->peer[0].nlog, 2);
	assert_int_equal(air->peer[0].log[1].pdu[0], ESPAT_ATT_INDICATE);
	/* the CCCD reads back per client; it is cleared on a new link */
	struct espat_att_pdu rd = {.op = ESPAT_ATT_READ_REQ, .handle = 30};
	size_t n = att(f, &rd, rsp);
	assert_int_equal(n, 3);
	assert_int_equal(rsp[1], 2);
	expect(f, "+READ:0,\"7c:df:a1:b3:8d:de\"\r\n");
	assert_true(espat_ble_remote_disconnect(&f->m, PHONE));
	expect(f, "+BLEDISCONN:0,\"7c:df:a1:b3:8d:de\"\r\n");
	cmd(f, "AT+BLEGATTSNTFY=0,1,6,1\r\n", EXEC_ERR); /* no link */
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, PHONE, 0), 0);
	expect(f, "+BLECONN:0,\"7c:df:a1:b3:8d:de\"\r\n");
	cmd(f, "AT+BLEGATTSNTFY=0,1,6,1\r\n", EXEC_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_roles, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_addr, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_name, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_scan_windows, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_scan_active_filters, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_advertising, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_connect_as_central, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_connect_as_peripheral, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_link_procedures, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_server_mtu, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_gatts_table, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_gatts_custom_table, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_att_server, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_notify_indicate, setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
