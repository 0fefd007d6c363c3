/* The rest of BLE GAP on the test port: AT+BLEADVDATAEX (the advertising
 * data it builds, byte for byte, and its rivalry with AT+BLEADVDATA), the
 * BLE settings AT+SYSSTORE governs, AT+CIPMODE=1 refused while BLE is
 * initialized, and periodic advertising (AT+BLEPERIODICDATA / START /
 * STOP, AT+BLESYNCSTART / STOP). COMPAT #450-#459. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmd/ble.h"
#include "world/ble.h"
#include "world/world.h"

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

/* The module's advertising data on the air, as lower-case hex. */
static const char *air_adv(struct fx *f)
{
	static char s[2 * ESPAT_BLE_ADV_DATA_MAX + 1];
	const struct espat_ble_world *air = &f->tp.world.ble;
	assert_true(air->own_on);
	for (size_t i = 0; i < air->own.adv_len; i++)
		snprintf(s + 2 * i, 3, "%02x", air->own.adv[i]);
	s[2 * air->own.adv_len] = '\0';
	return s;
}

/* Asserts the module's advertising data on the air is want (hex, blanks
 * between AD structures for the reader). */
static void adv_is(struct fx *f, const char *want)
{
	char w[2 * ESPAT_BLE_ADV_DATA_MAX + 1];
	size_t n = 0;
	for (const char *c = want; *c && n + 1 < sizeof(w); c++)
		if (*c != ' ')
			w[n++] = *c;
	w[n] = '\0';
	assert_string_equal(air_adv(f), w);
}

/* Sets AT+BLEADVDATAEX and restarts advertising. */
static void advex(struct fx *f, const char *args)
{
	char line[200];
	snprintf(line, sizeof(line), "AT+BLEADVDATAEX=%s\r\n", args);
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
	cmd(f, line, OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
}

static void test_advdataex_bytes(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEADVDATAEX?\r\n", EXEC_ERR); /* not initialized */
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVDATAEX?\r\n", EXEC_ERR); /* never set */
	/* the guide's example: flags, the name, the manufacturer data, the TX
	 * power, the 16-bit UUID */
	advex(f, "\"ESP-AT\",\"A002\",\"0102030405\",1");
	adv_is(f, "020106 0709 4553502d4154 06ff 0102030405 020a09 0303 02a0");
	cmd(f, "AT+BLEADVDATAEX?\r\n", "+BLEADVDATAEX:\"ESP-AT\",\"A002\",\"0102030405\",1\r\n" OK);
	/* no power, no manufacturer data */
	advex(f, "\"x\",\"180D\",\"\",0");
	adv_is(f, "020106 020978 03030d18");
	/* a long name is shortened to what fits and nothing else follows */
	advex(f, "\"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\",\"A002\",\"11\",1");
	adv_is(f, "020106 1b08 4142434445464748494a4b4c4d4e4f505152535455565758595a");
	/* the manufacturer data is cut to what fits */
	advex(f, "\"abcdefghijklmnopqrst\",\"A002\",\"11223344556677\",0");
	adv_is(f, "020106 1509 6162636465666768696a6b6c6d6e6f7071727374 05ff11223344");
	/* room for the UUID's header only: an empty, incomplete list (Bluedroid's) */
	advex(f, "\"abcdefghijklmnopqrstuvw\",\"A002\",\"\",0");
	adv_is(f, "020106 1809 6162636465666768696a6b6c6d6e6f70717273747576 77 0102");
	/* 128-bit: on the Bluetooth base it shrinks to 16 bits; otherwise whole */
	advex(f, "\"ESP-AT\",\"0000A00200001000800000805F9B34FB\",\"\",0");
	adv_is(f, "020106 07094553502d4154 030302a0");
	advex(f, "\"ESP-AT\",\"6E400001B5A3F393E0A9E50E24DCCA9E\",\"\",0");
	adv_is(f, "020106 07094553502d4154 1107 9ecadc240ee5a9e093f3a3b50100406e");
	/* 32-bit */
	advex(f, "\"ESP-AT\",\"12345678\",\"\",1");
	adv_is(f, "020106 07094553502d4154 020a09 050578563412");
	/* bad ones change nothing */
	cmd(f, "AT+BLEADVDATAEX=\"\",\"A002\",\"01\",1\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEADVDATAEX=\"x\",\"A00\",\"01\",1\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADVDATAEX=\"x\",\"\",\"01\",1\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADVDATAEX=\"x\",\"A0G2\",\"01\",1\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLEADVDATAEX=\"x\",\"A002\",\"012\",1\r\n", ERR("0x01070002"));
	cmd(f, "AT+BLEADVDATAEX=\"x\",\"A002\",\"01\",2\r\n", ERR("0x01070003"));
	cmd(f, "AT+BLEADVDATAEX=\"x\",\"A002\",\"01\"\r\n", ERR("0x01060403"));
	cmd(f, "AT+BLEADVDATAEX?\r\n", "+BLEADVDATAEX:\"ESP-AT\",\"12345678\",\"\",1\r\n" OK);
}

static void test_advdataex_vs_advdata(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	/* AT+BLEADVDATAEX makes <adv_type> 0 [000:7104] and does not start
	 * advertising (COMPAT #450) */
	cmd(f, "AT+BLEADVPARAM=50,50,5,0,7\r\n", OK);
	cmd(f, "AT+BLEADVDATAEX=\"ESP-AT\",\"A002\",\"0102030405\",1\r\n", OK);
	assert_false(f->tp.world.ble.own_on);
	cmd(f, "AT+BLEADVPARAM?\r\n",
	    "+BLEADVPARAM:50,50,0,0,7,0,0,\"00:00:00:00:00:00\",1,1\r\n" OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	adv_is(f, "0201060709 4553502d4154 06ff0102030405020a090303 02a0");
	/* AT+BLEADVDATA overwrites it, at once on the air; the EX query has
	 * nothing to show then */
	cmd(f, "AT+BLEADVDATA=\"0201\"\r\n", OK);
	adv_is(f, "0201");
	cmd(f, "AT+BLEADVDATAEX?\r\n", EXEC_ERR);
	/* and the other way round, while advertising */
	cmd(f, "AT+BLEADVDATAEX=\"ab\",\"A002\",\"\",0\r\n", OK);
	adv_is(f, "020106 03096162 030302a0");
	/* saved: the last one set is the one a power cut keeps */
	fx_power_cycle(f);
	cmd(f, "AT+SYSLOG=1\r\n", OK);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVDATAEX?\r\n", "+BLEADVDATAEX:\"ab\",\"A002\",\"\",0\r\n" OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	adv_is(f, "020106 03096162 030302a0");
	cmd(f, "AT+BLEADVDATA=\"0201\"\r\n", OK);
	fx_power_cycle(f);
	cmd(f, "AT+SYSLOG=1\r\n", OK);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVDATAEX?\r\n", EXEC_ERR);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	adv_is(f, "0201");
}

/* Every BLE setting the guide lists under AT+SYSSTORE [000:2622-2627] as
 * the current values show them (queries read RAM). */
static void settings_are(struct fx *f, const char *name, const char *scan, const char *adv,
                         const char *advhex, const char *rsp_len)
{
	char want[160];
	snprintf(want, sizeof(want), "+BLENAME:%s\r\n" OK, name);
	cmd(f, "AT+BLENAME?\r\n", want);
	snprintf(want, sizeof(want), "+BLESCANPARAM:%s\r\n" OK, scan);
	cmd(f, "AT+BLESCANPARAM?\r\n", want);
	snprintf(want, sizeof(want), "+BLEADVPARAM:%s,0,0,\"00:00:00:00:00:00\",1,1\r\n" OK, adv);
	cmd(f, "AT+BLEADVPARAM?\r\n", want);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	adv_is(f, advhex);
	char n[8];
	snprintf(n, sizeof(n), "%u", f->tp.world.ble.own.rsp_len);
	assert_string_equal(n, rsp_len);
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
}

static void test_sysstore(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	settings_are(f, "ESP-AT", "1,0,0,160,80", "32,64,0,0,7", "", "0");
	/* AT+SYSSTORE=1 (the factory mode): each reaches flash */
	cmd(f, "AT+BLENAME=\"one\"\r\n", OK);
	cmd(f, "AT+BLESCANPARAM=0,0,0,100,50\r\n", OK);
	cmd(f, "AT+BLEADVPARAM=40,48,0,0,7\r\n", OK);
	cmd(f, "AT+BLEADVDATA=\"020106\"\r\n", OK);
	cmd(f, "AT+BLESCANRSPDATA=\"1122\"\r\n", OK);
	fx_power_cycle(f);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	settings_are(f, "one", "0,0,0,100,50", "40,48,0,0,7", "020106", "2");
	/* AT+SYSSTORE=0: they change RAM only; a power cut brings back the
	 * saved ones. AT+BLEADDR is saved whatever the mode [000:6701]. */
	cmd(f, "AT+SYSSTORE=0\r\n", OK);
	cmd(f, "AT+BLENAME=\"two\"\r\n", OK);
	cmd(f, "AT+BLESCANPARAM=1,0,0,200,100\r\n", OK);
	cmd(f, "AT+BLEADVPARAM=80,80,3,0,7\r\n", OK);
	cmd(f, "AT+BLEADVDATA=\"0201\"\r\n", OK);
	cmd(f, "AT+BLESCANRSPDATA=\"33\"\r\n", OK);
	cmd(f, "AT+BLEADDR=1,\"f8:7f:24:87:1c:7b\"\r\n", OK);
	settings_are(f, "two", "1,0,0,200,100", "80,80,3,0,7", "0201", "1");
	cmd(f, "AT+BLEADVDATAEX=\"ex\",\"A002\",\"\",0\r\n", OK);
	settings_are(f, "two", "1,0,0,200,100", "80,80,0,0,7", "020106 03096578 030302a0", "1");
	fx_power_cycle(f);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	settings_are(f, "one", "0,0,0,100,50", "40,48,0,0,7", "020106", "2");
	cmd(f, "AT+BLEADVPARAM=40,48,0,1,7\r\n", OK); /* the random address stayed */
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(f->tp.world.ble.own.addr[0], 0xf8);
	/* AT+SYSSTORE=1 again: saved once more, AT+BLEADVDATAEX's forced type too */
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
	cmd(f, "AT+BLEADVPARAM=40,48,2,0,7\r\n", OK);
	cmd(f, "AT+SYSSTORE=1\r\n", OK);
	cmd(f, "AT+BLEADVDATAEX=\"ex\",\"A002\",\"\",0\r\n", OK);
	fx_power_cycle(f);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	settings_are(f, "one", "0,0,0,100,50", "40,48,0,0,7", "020106 03096578 030302a0", "2");
	/* AT+RESTORE brings the factory values back */
	cmd(f, "AT+RESTORE\r\n", OK);
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n" OK);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	settings_are(f, "ESP-AT", "1,0,0,160,80", "32,64,0,0,7", "", "0");
}

/* AT+CIPMODE=1 is refused while BLE is initialized [000:6644]; the other
 * way round is allowed (COMPAT #452). */
static void test_cipmode(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	cmd(f, "AT+CIPMODE=1\r\n", EXEC_ERR);
	cmd(f, "AT+CIPMODE?\r\n", "+CIPMODE:0\r\n" OK);
	cmd(f, "AT+CIPMODE=0\r\n", OK);
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	cmd(f, "AT+CIPMODE=1\r\n", OK);
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	cmd(f, "AT+CIPMODE?\r\n", "+CIPMODE:1\r\n" OK);
	cmd(f, "AT+CIPMODE=1\r\n", EXEC_ERR);
	cmd(f, "AT+CIPMODE=0\r\n", OK);
	cmd(f, "AT+CIPMODE=1\r\n", EXEC_ERR);
}

/* ---- periodic advertising ---------------------------------------------------- */

static void test_periodic_advertiser(void **state)
{
	struct fx *f = *state;
	const struct espat_ble_world *air = &f->tp.world.ble;
	cmd(f, "AT+BLEPERIODICDATA=\"1122334455\"\r\n", EXEC_ERR); /* not initialized */
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	/* the guide's sequence [000:8989-8993] */
	cmd(f, "AT+BLEPERIODICDATA=\"1122334455\"\r\n", OK);
	cmd(f, "AT+BLEPERIODICSTART\r\n", EXEC_ERR); /* not advertising */
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	cmd(f, "AT+BLEPERIODICSTART\r\n", EXEC_ERR); /* ADV_IND, not type 5 */
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
	cmd(f, "AT+BLEADVPARAM=32,32,5,0,7,0\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_false(air->own.per_on);
	cmd(f, "AT+BLEPERIODICSTART\r\n", OK);
	assert_true(air->own.per_on);
	assert_int_equal(air->own.per_len, 5);
	assert_memory_equal(air->own.per, "\x11\x22\x33\x44\x55", 5);
	assert_int_equal(air->own.per_interval_ms, ESPAT_BLE_PERIODIC_MS);
	cmd(f, "AT+BLEPERIODICSTART\r\n", EXEC_ERR); /* already */
	/* new data reaches the air at once */
	cmd(f, "AT+BLEPERIODICDATA=\"aa\"\r\n", OK);
	assert_int_equal(air->own.per_len, 1);
	/* bad data changes nothing */
	cmd(f, "AT+BLEPERIODICDATA=\"\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+BLEPERIODICDATA=\"abc\"\r\n", ERR("0x01070000"));
	/* the longest an AT line (256 bytes) carries: 116 bytes */
	char big[300] = "AT+BLEPERIODICDATA=\"";
	for (int i = 0; i < 116; i++)
		strcat(big, "0b");
	strcat(big, "\"\r\n");
	cmd(f, big, OK);
	assert_int_equal(air->own.per_len, 116);
	big[20] = 'c';
	memmove(big + 22, big + 20, strlen(big + 20) + 1);
	big[20] = '0', big[21] = 'c';
	cmd(f, big, ERR("0x01040000")); /* 117: the line is too long */
	assert_int_equal(air->own.per_len, 116);
	/* the train hangs from the set: off with it, back with it */
	cmd(f, "AT+BLEADVSTOP\r\n", OK);
	assert_false(air->own_on);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_true(air->own.per_on);
	cmd(f, "AT+BLEADVPARAM=32,32,3,0,7,0\r\n", OK); /* not extended: no train */
	assert_false(air->own.per_on);
	cmd(f, "AT+BLEADVPARAM=32,32,5,0,7,0\r\n", OK);
	assert_true(air->own.per_on);
	cmd(f, "AT+BLEPERIODICSTOP\r\n", OK);
	assert_false(air->own.per_on);
	assert_true(air->own_on);
	cmd(f, "AT+BLEPERIODICSTOP\r\n", OK);
	/* deinit ends it; the data is not saved (COMPAT #451) */
	cmd(f, "AT+BLEPERIODICSTART\r\n", OK);
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	assert_false(air->own_on);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_false(air->own.per_on);
	cmd(f, "AT+BLEPERIODICSTART\r\n", OK);
	assert_int_equal(air->own.per_len, 116);
	fx_power_cycle(f);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	cmd(f, "AT+BLEPERIODICSTART\r\n", OK);
	assert_int_equal(air->own.per_len, 0);
}

#define SYNC_LINE "+BLESYNC:\"24:0a:c4:09:34:23\",-62,aabb\r\n"

static void peer(struct fx *f, const char *label, const char *a1, const char *a2, const char *a3)
{
	const char *argv[3] = {a1, a2, a3};
	char e[160];
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, label, 3, argv, e, sizeof(e)), 0);
}

/* Advances to the next multiple of 50 ms on the module's clock. */
static void align50(struct fx *f)
{
	uint64_t now = espat_module_now(&f->m);
	if (now % 50)
		advance(f, 50 - now % 50);
}

static void test_periodic_sync(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	cmd(f, "AT+BLESYNCSTART=\"24:0a:c4:09:34:23\"\r\n", EXEC_ERR); /* no scan */
	/* a scan that hears nobody (its MAC filter), so only the sync speaks */
	cmd(f, "AT+BLESCAN=1,0,1,\"00:00:00:00:00:01\"\r\n", OK);
	cmd(f, "AT+BLESYNCSTART=\"nope\"\r\n", ERR("0x01070000"));
	align50(f);
	/* the target is not on the air yet: nothing until it comes */
	cmd(f, "AT+BLESYNCSTART=\"24:0a:c4:09:34:23\"\r\n", OK);
	cmd(f, "AT+BLESYNCSTART=\"24:0a:c4:09:34:23\"\r\n", EXEC_ERR); /* already */
	advance(f, 300);
	expect(f, "");
	peer(f, "beacon", "addr=24:0a:c4:09:34:23", "per=aabb", "per_interval=50");
	f->tp.world.ble.peer[0].adv.rssi = -62;
	/* the next look finds it (within 100 ms); from then on every 50 ms */
	advance(f, 100);
	align50(f);
	espat_tp_clear(&f->tp);
	advance(f, 200);
	expect(f, SYNC_LINE SYNC_LINE SYNC_LINE SYNC_LINE);
	/* AT+BLESYNCSTOP ends it */
	cmd(f, "AT+BLESYNCSTOP\r\n", OK);
	advance(f, 200);
	expect(f, "");
	cmd(f, "AT+BLESYNCSTOP\r\n", OK);
	/* so does AT+BLESCAN=0 [000:9083] */
	align50(f);
	cmd(f, "AT+BLESYNCSTART=\"24:0a:c4:09:34:23\"\r\n", OK);
	advance(f, 50);
	expect(f, SYNC_LINE);
	cmd(f, "AT+BLESCAN=0\r\n", OK);
	advance(f, 200);
	expect(f, "");
	/* a train that stops stops the reports; one that comes back resumes them */
	cmd(f, "AT+BLESCAN=1,0,1,\"00:00:00:00:00:01\"\r\n", OK);
	align50(f);
	cmd(f, "AT+BLESYNCSTART=\"24:0a:c4:09:34:23\"\r\n", OK);
	advance(f, 100);
	expect(f, SYNC_LINE SYNC_LINE);
	assert_true(espat_ble_peer_rm(&f->tp.world.ble, "beacon"));
	advance(f, 500);
	expect(f, "");
	peer(f, "beacon", "addr=24:0a:c4:09:34:23", "per=aabb", "per_interval=50");
	f->tp.world.ble.peer[0].adv.rssi = -62;
	advance(f, 100);
	align50(f);
	espat_tp_clear(&f->tp);
	advance(f, 100);
	expect(f, SYNC_LINE SYNC_LINE);
	/* the scan's report of the periodic advertiser: extended, type 5 */
	assert_int_equal(f->tp.world.ble.peer[0].adv.adv_type, 5);
	/* deinit ends everything */
	cmd(f, "AT+BLEINIT=0\r\n", OK);
	advance(f, 200);
	expect(f, "");
}

/* ---- world-file peers ------------------------------------------------------ */

static struct espat_world w; /* big: not on the stack */

static int parse(const char *text, struct espat_world_err *err)
{
	return espat_world_parse(&w, text, strlen(text), err);
}

static void test_world_file_peers(void **state)
{
	(void)state;
	struct espat_world_err err;
	assert_int_equal(parse("[ble phone]\n"
	                       "addr = 24:0a:c4:d6:e4:46\n"
	                       "name = Pixel\n"
	                       "rsp = 1122\n"
	                       "interval = 200\n"
	                       "phase = 50\n"
	                       "dist = 10\n"
	                       "\n"
	                       "[ap espat]\n"
	                       "ssid = espat\n"
	                       "\n"
	                       "[ble tag]\n"
	                       "addr = c1:00:00:00:00:01\n"
	                       "addr_type = 1\n"
	                       "adv = 0201060302a0\n"
	                       "rssi = -77\n"
	                       "mtu = 100\n",
	                       &err),
	                 0);
	assert_int_equal(w.ble.n, 2);
	const struct espat_ble_peer *p = espat_ble_peer_find(&w.ble, "phone");
	assert_non_null(p);
	const uint8_t addr[6] = {0x24, 0x0a, 0xc4, 0xd6, 0xe4, 0x46};
	assert_memory_equal(p->adv.addr, addr, 6);
	/* flags and the Complete Local Name, as `ble peer add name=` makes */
	assert_int_equal(p->adv.adv_len, 10);
	assert_memory_equal(p->adv.adv, "\x02\x01\x06\x06\x09Pixel", 10);
	assert_int_equal(p->adv.rsp_len, 2);
	assert_int_equal(p->adv.interval_ms, 200);
	assert_int_equal(p->adv.phase_ms, 50);
	assert_int_equal(p->adv.rssi, -60); /* -40 - 20 log10(10) */
	p = espat_ble_peer_find(&w.ble, "tag");
	assert_non_null(p);
	assert_int_equal(p->adv.addr_type, 1);
	assert_int_equal(p->adv.adv_len, 6);
	assert_int_equal(p->adv.rssi, -77);
	assert_int_equal(p->mtu, 100);
	/* errors carry the line: the bad key's, or the header's */
	assert_int_equal(parse("[ble a]\naddr = 24:0a:c4:d6:e4:46\nrssi = 5\n", &err), -1);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.msg, "BLE peer 'a': rssi: bad value \"5\"");
	assert_int_equal(w.ble.n, 0); /* an error leaves the world empty */
	assert_int_equal(parse("[ble a]\nname = x\n\n[world]\n", &err), -1);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.msg, "BLE peer 'a': addr= is required");
	assert_int_equal(
	    parse("[ble a]\naddr = 24:0a:c4:d6:e4:46\naddr = 24:0a:c4:d6:e4:47\n", &err), -1);
	assert_int_equal(err.line, 3);
	assert_int_equal(
	    parse("[ble a]\naddr = 24:0a:c4:d6:e4:46\n[ble a]\naddr = 24:0a:c4:d6:e4:47\n", &err),
	    -1);
	assert_int_equal(err.line, 3);
	assert_int_equal(parse("[ble a b]\naddr = 24:0a:c4:d6:e4:46\n", &err), -1);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse("[ble a]\naddr = 24:0a:c4:d6:e4:46\nrssi = -50\ndist = 2\n", &err),
	                 -1);
	assert_int_equal(err.line, 4);
	assert_int_equal(parse("[ble a]\naddr = 24:0a:c4:d6:e4:46\nwhat = 1\n", &err), -1);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse("[bluetooth]\n", &err), -1);
	/* RSSI from distance: clamped to [-100, -30] */
	assert_int_equal(espat_ble_rssi_at(0.01), -30);
	assert_int_equal(espat_ble_rssi_at(1), -40);
	assert_int_equal(espat_ble_rssi_at(2), -46);
	assert_int_equal(espat_ble_rssi_at(100), -80);
	assert_int_equal(espat_ble_rssi_at(1000), -100);
	assert_int_equal(espat_ble_rssi_at(10000), -100);
	/* the key's forms: decimals (up to 3), not zero, not negative */
	static const char *const good[] = {"addr=24:0a:c4:d6:e4:46", "dist=2.5"};
	struct espat_ble_world b;
	memset(&b, 0, sizeof(b));
	char e[160];
	assert_int_equal(espat_ble_peer_add(&b, "x", 2, good, e, sizeof(e)), 0);
	assert_int_equal(b.peer[0].adv.rssi, -48); /* -40 - 7.96 */
	/* per= and per_interval= */
	static const char *const per[] = {"addr=24:0a:c4:d6:e4:48", "per=", "per_interval=8"};
	assert_int_equal(espat_ble_peer_add(&b, "p", 3, per, e, sizeof(e)), 0);
	assert_true(b.peer[1].adv.per_on);
	assert_int_equal(b.peer[1].adv.per_len, 0);
	assert_int_equal(b.peer[1].adv.adv_type, 5);
	static const char *const per_bad[][2] = {{"per=abc", ""},
	                                         {"per=aa", "per_interval=7"},
	                                         {"per=aa", "per_interval=81919"},
	                                         {"per_interval=100", ""}};
	for (size_t i = 0; i < sizeof(per_bad) / sizeof(per_bad[0]); i++) {
		const char *argv[3] = {"addr=24:0a:c4:d6:e4:49", per_bad[i][0], per_bad[i][1]};
		assert_int_equal(
		    espat_ble_peer_add(&b, "q", per_bad[i][1][0] ? 3 : 2, argv, e, sizeof(e)), -1);
	}
	assert_int_equal(b.n, 2);
	static const char *const bad[] = {"0", "-1", "1.2345", "abc", "", ".", "10001", "1e3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char kv[32];
		snprintf(kv, sizeof(kv), "dist=%s", bad[i]);
		const char *argv[2] = {"addr=24:0a:c4:d6:e4:47", kv};
		assert_int_equal(espat_ble_peer_add(&b, "y", 2, argv, e, sizeof(e)), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_advdataex_bytes, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_advdataex_vs_advdata, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sysstore, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_cipmode, setup, fx_teardown),
	    cmocka_unit_test(test_world_file_peers),
	    cmocka_unit_test_setup_teardown(test_periodic_advertiser, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_periodic_sync, setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
