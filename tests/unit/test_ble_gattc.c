/* The GATT client (AT+BLEGATTCPRIMSRV, INCLSRV, CHAR, RD, WR, +NOTIFY,
 * +INDICATE) against a scripted peripheral serving the default table
 * through the same attribute database the module's server uses: the
 * guide's chapter-4 client lines [000:14259-14392, 14712-14868]. */
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
#define SRV "24:0a:c4:d6:e4:46"

static int setup(void **state)
{
	fx_setup(state);
	cmd(*state, "AT+SYSLOG=1\r\n", OK);
	return 0;
}

/* A peripheral "srv" with the default table (gatt=default), and the module
 * (AT+BLEINIT=1) connected to it as link 0. */
static struct espat_ble_peer *linked(struct fx *f, bool served)
{
	char err[160];
	const char *a[] = {"addr=" SRV, "name=srv", "interval=100"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "srv", 3, a, err, sizeof(err)), 0);
	struct espat_ble_peer *p = &f->tp.world.ble.peer[0];
	if (served) {
		espat_ble_peer_serve(p, "srv");
		for (size_t i = 0; i < espat_ble_gatts_default_n; i++)
			assert_true(espat_ble_gatts_row_add(&p->db, espat_ble_gatts_default[i]) >
			            0);
	}
	cmd(f, "AT+BLEINIT=1\r\n", OK);
	send(f, "AT+BLECONN=0,\"" SRV "\"\r\n");
	advance(f, 100);
	expect(f, "+BLECONN:0,\"" SRV "\"\r\n" OK);
	return p;
}

static const char PRIM[] = "+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n"
                           "+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n"
                           "+BLEGATTCPRIMSRV:0,3,0xA002,1\r\n"
                           "+BLEGATTCPRIMSRV:0,4,0xA003,1\r\n" OK;

static void test_discovery(void **state)
{
	struct fx *f = *state;
	linked(f, true);
	/* before discovery there is no service 3 to list; a read discovers the
	 * services and the characteristics quietly first (the guide's 4.3.3
	 * writes without AT+BLEGATTCPRIMSRV) */
	cmd(f, "AT+BLEGATTCCHAR=0,3\r\n", EXEC_ERR);
	send(f, "AT+BLEGATTCRD=0,3,1\r\n");
	advance(f, 2000);
	expect(f, "+BLEGATTCRD:0,1,0\r\n" OK);
	cmd(f, "AT+BLEGATTCRD=0,9,1\r\n", EXEC_ERR); /* no service 9 */
	/* three Read By Group Type rounds, one per 30 ms connection event */
	send(f, "AT+BLEGATTCPRIMSRV=0\r\n");
	advance(f, 89);
	expect(f, "");
	advance(f, 1);
	expect(f, PRIM);
	/* [000:14290-14306] */
	send(f, "AT+BLEGATTCCHAR=0,3\r\n");
	advance(f, 2000);
	expect(f, "+BLEGATTCCHAR:\"char\",0,3,1,0xC300,0x02\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,3,1,1,0x2901\r\n"
	          "+BLEGATTCCHAR:\"char\",0,3,2,0xC301,0x02\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,3,2,1,0x2901\r\n"
	          "+BLEGATTCCHAR:\"char\",0,3,3,0xC302,0x08\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,3,3,1,0x2901\r\n"
	          "+BLEGATTCCHAR:\"char\",0,3,4,0xC303,0x04\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,3,4,1,0x2901\r\n"
	          "+BLEGATTCCHAR:\"char\",0,3,5,0xC304,0x08\r\n"
	          "+BLEGATTCCHAR:\"char\",0,3,6,0xC305,0x10\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,3,6,1,0x2902\r\n"
	          "+BLEGATTCCHAR:\"char\",0,3,7,0xC306,0x20\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,3,7,1,0x2902\r\n"
	          "+BLEGATTCCHAR:\"char\",0,3,8,0xC307,0x02\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,3,8,1,0x2901\r\n" OK);
	send(f, "AT+BLEGATTCCHAR=0,1\r\n");
	advance(f, 2000);
	expect(f, "+BLEGATTCCHAR:\"char\",0,1,1,0x2A05,0x20\r\n"
	          "+BLEGATTCCHAR:\"desc\",0,1,1,1,0x2902\r\n" OK);
	/* no included services in the default table: just OK */
	send(f, "AT+BLEGATTCINCLSRV=0,4\r\n");
	advance(f, 100);
	expect(f, OK);
	cmd(f, "AT+BLEGATTCCHAR=0,5\r\n", EXEC_ERR);
	cmd(f, "AT+BLEGATTCCHAR=1,3\r\n", EXEC_ERR); /* no link 1 */
	/* the GAP Device Name, read without AT+BLEGATTCCHAR first (a quiet discovery) */
	send(f, "AT+BLEGATTCRD=0,2,1\r\n");
	advance(f, 2000);
	expect(f, "+BLEGATTCRD:0,3,srv\r\n" OK);
}

static void test_read_write_notify(void **state)
{
	struct fx *f = *state;
	struct espat_ble_peer *p = linked(f, true);
	send(f, "AT+BLEGATTCPRIMSRV=0\r\n");
	advance(f, 1000);
	expect(f, PRIM);
	/* [000:14316-14322]: C300 holds "0" */
	send(f, "AT+BLEGATTCRD=0,3,1\r\n");
	advance(f, 2000);
	expect(f, "+BLEGATTCRD:0,1,0\r\n" OK);
	/* C302 is write-only, C300 read-only [000:8015, 8069] */
	send(f, "AT+BLEGATTCRD=0,3,3\r\n");
	advance(f, 100);
	expect(f, EXEC_ERR);
	cmd(f, "AT+BLEGATTCWR=0,3,1,,1\r\n", ">");
	sendn(f, "x", 1);
	advance(f, 100);
	expect(f, EXEC_ERR);
	/* [000:14339-14352]: the peer's C302 gets the byte */
	cmd(f, "AT+BLEGATTCWR=0,3,3,,1\r\n", ">");
	sendn(f, "7", 1);
	expect(f, "");
	advance(f, 30);
	expect(f, OK);
	assert_int_equal(p->db.attr[18 - 1].val[0], '7'); /* row 8 = handle 18 */
	assert_int_equal(p->wr_bytes, 1);
	/* longer than val_max_len: the server's INVALID_LEN is ERROR */
	cmd(f, "AT+BLEGATTCWR=0,3,3,,2\r\n", ">");
	sendn(f, "77", 2);
	advance(f, 30);
	expect(f, EXEC_ERR);
	/* at most ATT_MTU - 3 = 20 bytes on a 23-byte link */
	cmd(f, "AT+BLEGATTCWR=0,3,5,,21\r\n", ERR("0x01070004"));
	/* C303 is write-without-response: a command, OK once sent */
	cmd(f, "AT+BLEGATTCWR=0,3,4,,1\r\n", ">");
	sendn(f, "9", 1);
	advance(f, 30);
	expect(f, OK);
	assert_int_equal(p->wr_bytes, 2);
	/* a long value: Read, then Read Blob from each full answer's end (512 bytes) */
	send(f, "AT+BLEGATTCRD=0,3,2\r\n");
	advance(f, 30 * 25);
	static char want[20 + 512 + 2 + sizeof(OK)];
	memcpy(want, "+BLEGATTCRD:0,512,", 18);
	memset(want + 18, 0, 512);
	memcpy(want + 18 + 512, "\r\n" OK, 2 + strlen(OK));
	expectn(f, want, 18 + 512 + 2 + strlen(OK));
	/* no notification before the CCCD is written */
	const uint8_t v[] = "1234567890";
	assert_int_equal(espat_ble_peer_notify(p, ESPAT_ATT_NOTIFY, 26, v, 10),
	                 ESPAT_GATT_NTF_NOT_ENABLED);
	/* subscribe C305 (notify) and C306 (indicate) [000:14360-14374] */
	cmd(f, "AT+BLEGATTCWR=0,3,6,1,2\r\n", ">");
	sendn(f, "\x01\x00", 2);
	advance(f, 30);
	expect(f, OK);
	assert_int_equal(espat_ble_peer_notify(p, ESPAT_ATT_NOTIFY, 26, v, 10), ESPAT_GATT_NTF_OK);
	expect(f, "+NOTIFY:0,3,6,10,1234567890\r\n"); /* [000:14868] */
	cmd(f, "AT+BLEGATTCWR=0,3,7,1,2\r\n", ">");
	sendn(f, "\x02\x00", 2);
	advance(f, 30);
	expect(f, OK);
	assert_int_equal(espat_ble_peer_notify(p, ESPAT_ATT_INDICATE, 29, v, 3), ESPAT_GATT_NTF_OK);
	expect(f, "+INDICATE:0,3,7,3,123\r\n");
	/* the module confirmed: the peer may indicate again */
	assert_false(p->db.ind_pending[0]);
	assert_int_equal(espat_ble_peer_notify(p, ESPAT_ATT_INDICATE, 29, v, 2), ESPAT_GATT_NTF_OK);
	expect(f, "+INDICATE:0,3,7,2,12\r\n");
	/* a value longer than the link allows is refused by the peer's server */
	uint8_t big[21] = {0};
	assert_int_equal(espat_ble_peer_notify(p, ESPAT_ATT_NOTIFY, 26, big, 21),
	                 ESPAT_GATT_NTF_TOO_LONG);
}

static void test_timeout_and_loss(void **state)
{
	struct fx *f = *state;
	linked(f, false); /* a peer that never answers ATT */
	send(f, "AT+BLEGATTCPRIMSRV=0\r\n");
	advance(f, 30000);
	expect(f, "");
	advance(f, 30);
	expect(f, EXEC_ERR);
	cmd(f, "AT+BLEGATTCPRIMSRV=0\r\n", "");
	/* the link drops mid-procedure: ERROR after +BLEDISCONN */
	assert_true(espat_ble_remote_disconnect(&f->m, f->tp.world.ble.peer[0].adv.addr));
	expect(f, "+BLEDISCONN:0,\"" SRV "\"\r\n" EXEC_ERR);
	cmd(f, "AT+BLEGATTCPRIMSRV=0\r\n", EXEC_ERR);
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* SPP as the client [000:15510-15545]: tx = C304 (write), rx = C306
 * (indicate); bytes typed go to the peer in 20-byte Write Requests, the
 * peer's indications come out raw; +++ leaves. */
static void test_spp_client(void **state)
{
	struct fx *f = *state;
	struct espat_ble_peer *p = linked(f, true);
	cmd(f, "AT+BLESPPCFG?\r\n", "+BLESPPCFG:0,0,0,0,1\r\n" OK);
	cmd(f, "AT+BLESPP\r\n", EXEC_ERR); /* not configured */
	cmd(f, "AT+BLESPPCFG=1,3,5,3,7\r\n", OK);
	cmd(f, "AT+BLESPPCFG?\r\n", "+BLESPPCFG:3,5,3,7,1\r\n" OK);
	cmd(f, "AT+BLESPPCFG=0,1\r\n", ERR("0x01070001"));
	cmd(f, "AT+BLESPPCFG=1,3,5\r\n", ERR("0x01070003"));
	cmd(f, "AT+BLESPP\r\n", EXEC_ERR); /* nothing discovered */
	send(f, "AT+BLEGATTCPRIMSRV=0\r\n");
	advance(f, 1000);
	expect(f, PRIM);
	send(f, "AT+BLEGATTCCHAR=0,3\r\n");
	advance(f, 2000);
	espat_tp_clear(&f->tp);
	cmd(f, "AT+BLESPPCFG=1,3,1,3,7\r\n", OK); /* C300 is read-only: no tx */
	cmd(f, "AT+BLESPP\r\n", EXEC_ERR);
	cmd(f, "AT+BLESPPCFG=1,3,5,3,7,0\r\n", OK);
	/* entering writes the rx CCCD (indicate): the peer sees it enabled */
	cmd(f, "AT+BLESPP\r\n", OK ">");
	assert_int_equal(espat_gatt_db_cccd(&p->db, 0, 29), 2);
	static uint8_t d[3000];
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 7 + i / 251);
	sendn(f, d, sizeof(d));
	expect(f, "");
	assert_int_equal(p->wr_bytes, sizeof(d));
	assert_int_equal(p->wr_hash, fnv(d, sizeof(d)));
	/* the peer's indications arrive raw, no +INDICATE */
	assert_int_equal(
	    espat_ble_peer_notify(p, ESPAT_ATT_INDICATE, 29, (const uint8_t *)"xyz", 3),
	    ESPAT_GATT_NTF_OK);
	expect(f, "xyz");
	advance(f, 1100);
	send(f, "+++");
	advance(f, 1100);
	expect(f, "");
	cmd(f, "AT\r\n", OK);
	/* out of SPP, an indication is a report again */
	assert_int_equal(espat_ble_peer_notify(p, ESPAT_ATT_INDICATE, 29, (const uint8_t *)"q", 1),
	                 ESPAT_GATT_NTF_OK);
	expect(f, "+INDICATE:0,3,7,1,q\r\n");
	/* a peer that stops answering ATT: AT+BLESPP waits for its CCCD write,
	 * and ends in ERROR when the link drops */
	p->served = false;
	send(f, "AT+BLESPP\r\n");
	advance(f, 1000);
	expect(f, "");
	assert_true(espat_ble_remote_disconnect(&f->m, p->adv.addr));
	expect(f, "+BLEDISCONN:0,\"" SRV "\"\r\n" EXEC_ERR);
}

/* SPP as the server [000:15547-15580]: tx = C306 (indicate), rx = C304
 * (write). ERROR until the client enabled the tx CCCD. */
static void test_spp_server(void **state)
{
	struct fx *f = *state;
	static const uint8_t PHONE[6] = {0x7c, 0xdf, 0xa1, 0xb3, 0x8d, 0xde};
	char err[160];
	const char *kv[] = {"addr=7c:df:a1:b3:8d:de"};
	assert_int_equal(espat_ble_peer_add(&f->tp.world.ble, "phone", 1, kv, err, sizeof(err)), 0);
	cmd(f, "AT+BLEINIT=2\r\n", OK);
	cmd(f, "AT+BLEGATTSSRVCRE\r\n", OK);
	cmd(f, "AT+BLEGATTSSRVSTART\r\n", OK);
	cmd(f, "AT+BLEADVSTART\r\n", OK);
	assert_int_equal(espat_ble_central_connect(&f->m, PHONE, 0), 0);
	expect(f, "+BLECONN:0,\"7c:df:a1:b3:8d:de\"\r\n");
	cmd(f, "AT+BLESPPCFG=1,1,7,1,5\r\n", OK);
	cmd(f, "AT+BLESPP\r\n", EXEC_ERR); /* the client has not subscribed */
	/* the phone subscribes to C306's indications (its CCCD at handle 30) */
	uint8_t req[8] = {ESPAT_ATT_WRITE_REQ, 30, 0, 2, 0}, rsp[600];
	assert_int_equal(espat_ble_att_request(&f->m, PHONE, req, 5, rsp, sizeof(rsp)), 1);
	expectn(f, "+WRITE:0,1,7,1,2,\x02\x00\r\n", 21);
	cmd(f, "AT+BLESPP\r\n", OK ">");
	/* typed bytes: indications of at most 20 bytes, each confirmed by the phone */
	sendn(f, "0123456789abcdefghijKLM", 23);
	const struct espat_ble_peer *p = &f->tp.world.ble.peer[0];
	assert_int_equal(p->nlog, 2);
	assert_int_equal(p->log[0].len, 23);
	assert_memory_equal(p->log[0].pdu + 3, "0123456789abcdefghij", 20);
	assert_int_equal(p->log[1].len, 6);
	/* the phone writes C304 (value 24): raw on the UART, no +WRITE */
	uint8_t wr[8] = {ESPAT_ATT_WRITE_REQ, 24, 0, 'h', 'i'};
	assert_int_equal(espat_ble_att_request(&f->m, PHONE, wr, 5, rsp, sizeof(rsp)), 1);
	expect(f, "hi");
	advance(f, 1100);
	send(f, "+++");
	advance(f, 1100);
	cmd(f, "AT\r\n", OK);
	/* under AT+SYSMSG bit0, leaving BLE SPP prints +QUITT [000:1710] */
	cmd(f, "AT+SYSMSG=1\r\n", OK);
	send(f, "AT+BLESPP\r\n");
	advance(f, 100);
	expect(f, OK ">");
	advance(f, 1100);
	send(f, "+++");
	advance(f, 1100);
	expect(f, "+QUITT\r\n");
	cmd(f, "AT\r\n", OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_discovery, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_read_write_notify, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_and_loss, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_spp_client, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_spp_server, setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
