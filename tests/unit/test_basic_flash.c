/* AT+SYSFLASH, AT+SYSMFG and AT+SYSROLLBACK, driven through the AT port of
 * a module on the test port; every expectation is the exact byte output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cmd/basic_internal.h"
#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/module.h"
#include "cmd/ota.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "testport/testport.h"

#include "module_fixture.h"

/* Expects head, the raw bytes data[0..n), CRLF and OK: the answer to a
 * read of binary data. */
static void expect_data(struct fx *f, const char *head, const uint8_t *data, size_t n)
{
	char want[256];
	size_t hl = strlen(head);
	assert_true(hl + n + 8 <= sizeof(want));
	memcpy(want, head, hl);
	memcpy(want + hl, data, n);
	memcpy(want + hl + n, "\r\n\r\nOK\r\n", 8);
	expectn(f, want, hl + n + 8);
}

/* Boots a module on the (possibly used) test port, echo off, SYSLOG on. */
static void boot(struct fx *f)
{
	fx_boot(f);
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
}

/* Power cut: the module goes, the test port (its flash) stays. */
static void power_cycle(struct fx *f)
{
	espat_module_free(&f->m);
	boot(f);
}

static int setup(void **state)
{
	fx_setup(state);
	cmd(*state, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	return 0;
}

#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"

/* ---- AT+SYSFLASH ---- */

static void test_flash_query(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSFLASH?\r\n",
	    "+SYSFLASH:\"mfg_nvs\",1,2,0x1f000,0x1f000\r\n"
	    "+SYSFLASH:\"fatfs\",1,129,0x47000,0x19000\r\n\r\nOK\r\n");
}

static void test_flash_erase_pending(void **state)
{
	struct fx *f = *state;
	uint8_t *fat = f->tp.flash[1];
	memset(fat, 0, f->tp.parts[1].size);
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",4096,8192\r\n", "");
	/* two sectors: 50 ms; meanwhile input is answered busy p... */
	cmd(f, "AT\r\n", "ERR CODE:0x010b0000\r\nbusy p...\r\n");
	advance(f, 49);
	expect(f, "");
	assert_int_equal(fat[4096], 0x00);
	advance(f, 1);
	expect(f, "\r\nOK\r\n");
	assert_int_equal(fat[4095], 0x00);
	assert_int_equal(fat[4096], 0xFF);
	assert_int_equal(fat[4096 + 8191], 0xFF);
	assert_int_equal(fat[4096 + 8192], 0x00);
	cmd(f, "AT\r\n", "\r\nOK\r\n");

	/* the whole partition when offset and length are omitted: 16 sectors */
	send(f, "AT+SYSFLASH=0,\"fatfs\"\r\n");
	advance(f, 25 * 25 - 1);
	expect(f, "");
	advance(f, 1);
	expect(f, "\r\nOK\r\n");
	for (size_t i = 0; i < f->tp.parts[1].size; i++)
		if (fat[i] != 0xFF)
			fail_msg("byte %zu not erased", i);
}

static void test_flash_erase_errors(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSFLASH=0,\"nope\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",100,4096\r\n", ERR("0x01070002"));
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",0,100\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",0,0\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",98304,8192\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",102400,4096\r\n", ERR("0x01070002"));
	cmd(f, "AT+SYSFLASH=0,\"fatfs\",0\r\n", ERR("0x01060403"));
	cmd(f, "AT+SYSFLASH=3,\"fatfs\"\r\n", ERR("0x01070000"));
	cmd(f, "AT+SYSFLASH=0,fatfs\r\n", ERR("0x01050001"));
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

static const uint8_t blob[] = {'a', '\r', '\n', 0, 'b', '"', ',', 0xFF, 0x80, '\r', '\n'};

static void test_flash_write_read(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSFLASH=1,\"fatfs\",10,11\r\n", ">");
	sendn(f, blob, sizeof(blob));
	expect(f, "\r\nOK\r\n");
	assert_memory_equal(f->tp.flash[1] + 10, blob, sizeof(blob));
	send(f, "AT+SYSFLASH=2,\"fatfs\",10,11\r\n");
	expect_data(f, "+SYSFLASH:11,", blob, sizeof(blob));
	/* a piece of it, unwritten bytes around it read 0xFF */
	send(f, "AT+SYSFLASH=2,\"fatfs\",9,3\r\n");
	expectn(f,
	        "+SYSFLASH:3,\xff"
	        "a\r\r\n\r\nOK\r\n",
	        23);
}

static void test_flash_write_chunks_and_and(void **state)
{
	struct fx *f = *state;
	/* one byte at a time, and the bytes after the data are a new line */
	cmd(f, "AT+SYSFLASH=1,\"mfg_nvs\",0,4\r\n", ">");
	const uint8_t first[4] = {0xF0, 0xF0, 0x0F, 'x'};
	for (size_t i = 0; i < 3; i++) {
		sendn(f, first + i, 1);
		expect(f, "");
	}
	sendn(f, "xAT\r\n", 5);
	expect(f, "\r\nOK\r\nERR CODE:0x010b0000\r\nbusy p...\r\n");
	/* over unerased flash, written bits can only clear */
	cmd(f, "AT+SYSFLASH=1,\"mfg_nvs\",0,3\r\n", ">");
	sendn(f, "\x0f\xff\xf0", 3);
	expect(f, "\r\nOK\r\n");
	send(f, "AT+SYSFLASH=2,\"mfg_nvs\",0,4\r\n");
	expectn(f, "+SYSFLASH:4,\x00\xf0\x00x\r\n\r\nOK\r\n", 24);
	/* erase brings the 1s back */
	send(f, "AT+SYSFLASH=0,\"mfg_nvs\",0,4096\r\n");
	advance(f, 25);
	expect(f, "\r\nOK\r\n");
	send(f, "AT+SYSFLASH=2,\"mfg_nvs\",0,2\r\n");
	expectn(f, "+SYSFLASH:2,\xff\xff\r\n\r\nOK\r\n", 22);
}

static void test_flash_write_read_errors(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSFLASH=1,\"fatfs\",0,0\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSFLASH=1,\"fatfs\",102399,2\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSFLASH=1,\"fatfs\",102400,1\r\n", ERR("0x01070002"));
	cmd(f, "AT+SYSFLASH=1,\"fatfs\",0,102401\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSFLASH=1,\"fatfs\",0\r\n", ERR("0x01060403"));
	cmd(f, "AT+SYSFLASH=1,\"fatfs\"\r\n", ERR("0x01060402"));
	cmd(f, "AT+SYSFLASH=2,\"fatfs\",0,102401\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSFLASH=2,\"fat\",0,1\r\n", ERR("0x01070001"));
	cmd(f, "AT+SYSFLASH=2,\"fatfs\",-1,1\r\n", ERR("0x01070002"));
	/* the whole partition in one read is fine */
	send(f, "AT+SYSFLASH=2,\"fatfs\",0,102400\r\n");
	assert_int_equal(f->tp.out_len, 17 + 102400 + 2 + 6);
	assert_memory_equal(f->tp.out, "+SYSFLASH:102400,\xff", 18);
	espat_tp_clear(&f->tp);
}

static void test_flash_power_cycle(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSFLASH=1,\"fatfs\",4096,11\r\n", ">");
	sendn(f, blob, sizeof(blob));
	expect(f, "\r\nOK\r\n");
	power_cycle(f);
	send(f, "AT+SYSFLASH=2,\"fatfs\",4096,11\r\n");
	expect_data(f, "+SYSFLASH:11,", blob, sizeof(blob));
}

/* A power cut during data entry or an erase leaves nothing allocated (ASan
 * checks) and no timer behind. */
static void test_flash_cut_midway(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",8,100\r\n", "\r\nOK\r\n>");
	send(f, "half");
	power_cycle(f);
	send(f, "AT+SYSFLASH=0,\"fatfs\"\r\n");
	power_cycle(f);
	assert_int_equal(espat_module_next_deadline(&f->m), ESPAT_NEVER);
	cmd(f, "AT+SYSMFG=1,\"ns\"\r\n", ERR("0x010a0000"));
}

/* ---- AT+SYSMFG ---- */

#define NS_LINE(ns) "+SYSMFG:\"" ns "\"\r\n"
/* The namespaces of a fresh device: the BLE service table (ble_data),
 * factory_param and the factory PKI. */
#define MFG_PKI_BEFORE                                                                             \
	NS_LINE("ble_data") NS_LINE("client_ca") NS_LINE("client_cert") NS_LINE("client_key")
#define MFG_PKI_AFTER                                                                              \
	NS_LINE("mqtt_ca")                                                                         \
	NS_LINE("mqtt_cert")                                                                       \
	NS_LINE("mqtt_key") NS_LINE("server_ca") NS_LINE("server_cert") NS_LINE("server_key")
#define MFG_FACTORY MFG_PKI_BEFORE NS_LINE("factory_param") MFG_PKI_AFTER

static void test_mfg_factory(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMFG?\r\n", MFG_FACTORY "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1\r\n", MFG_FACTORY "\r\nOK\r\n");
	/* esp-at's mfg_nvs.py names: "<ns>.<index>", a lone file by its namespace */
	cmd(f, "AT+SYSMFG=1,\"client_cert\"\r\n",
	    "+SYSMFG:\"client_cert\",\"client_cert.0\",8\r\n"
	    "+SYSMFG:\"client_cert\",\"client_cert.1\",8\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"server_cert\"\r\n",
	    "+SYSMFG:\"server_cert\",\"server_cert\",8\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"server_key\",\"server_key\",0,28\r\n",
	    "+SYSMFG:\"server_key\",\"server_key\",8,28,-----BEGIN PRIVATE "
	    "KEY-----\n\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"factory_param\",\"module_name\"\r\n",
	    "+SYSMFG:\"factory_param\",\"module_name\",7,6,MINI-1\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"factory_param\",\"uart_baudrate\"\r\n",
	    "+SYSMFG:\"factory_param\",\"uart_baudrate\",6,6,115200\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"factory_param\",\"max_tx_power\"\r\n",
	    "+SYSMFG:\"factory_param\",\"max_tx_power\",2,2,78\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"factory_param\"\r\n",
	    "+SYSMFG:\"factory_param\",\"channel_num\",1\r\n"
	    "+SYSMFG:\"factory_param\",\"country_code\",7\r\n"
	    "+SYSMFG:\"factory_param\",\"max_tx_power\",2\r\n"
	    "+SYSMFG:\"factory_param\",\"module_name\",7\r\n"
	    "+SYSMFG:\"factory_param\",\"start_channel\",1\r\n"
	    "+SYSMFG:\"factory_param\",\"sys_store\",1\r\n"
	    "+SYSMFG:\"factory_param\",\"uart_baudrate\",6\r\n"
	    "+SYSMFG:\"factory_param\",\"uart_cts_pin\",6\r\n"
	    "+SYSMFG:\"factory_param\",\"uart_port\",2\r\n"
	    "+SYSMFG:\"factory_param\",\"uart_rts_pin\",6\r\n"
	    "+SYSMFG:\"factory_param\",\"uart_rx_pin\",6\r\n"
	    "+SYSMFG:\"factory_param\",\"uart_tx_pin\",6\r\n"
	    "+SYSMFG:\"factory_param\",\"version\",2\r\n\r\nOK\r\n");
}

static void test_mfg_integers(void **state)
{
	struct fx *f = *state;
	static const struct {
		int type;
		const char *ok[2];
		const char *bad[2];
	} cases[] = {
	    {1, {"0", "255"}, {"-1", "256"}},
	    {2, {"-128", "127"}, {"-129", "128"}},
	    {3, {"0", "65535"}, {"-1", "65536"}},
	    {4, {"-32768", "32767"}, {"-32769", "32768"}},
	    {5, {"0", "4294967295"}, {"-1", "4294967296"}},
	    {6, {"-2147483648", "2147483647"}, {"-2147483649", "2147483648"}},
	};
	char line[96], want[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t j = 0; j < 2; j++) {
			snprintf(line, sizeof(line), "AT+SYSMFG=2,\"app\",\"k%d\",%d,%s\r\n",
			         cases[i].type, cases[i].type, cases[i].ok[j]);
			send(f, line);
			expect(f, "\r\nOK\r\n");
			snprintf(line, sizeof(line), "AT+SYSMFG=1,\"app\",\"k%d\"\r\n",
			         cases[i].type);
			send(f, line);
			snprintf(want, sizeof(want),
			         "+SYSMFG:\"app\",\"k%d\",%d,%zu,%s\r\n\r\nOK\r\n", cases[i].type,
			         cases[i].type, strlen(cases[i].ok[j]), cases[i].ok[j]);
			expect(f, want);
			snprintf(line, sizeof(line), "AT+SYSMFG=2,\"app\",\"k%d\",%d,%s\r\n",
			         cases[i].type, cases[i].type, cases[i].bad[j]);
			send(f, line);
			expect(f, ERR("0x01070004"));
		}
	}
	/* offset/length mean nothing for a number */
	cmd(f, "AT+SYSMFG=1,\"app\",\"k1\",0,1\r\n", ERR("0x01070003"));
	/* a key may change type */
	cmd(f, "AT+SYSMFG=2,\"app\",\"k1\",6,-7\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"app\",\"k1\"\r\n", "+SYSMFG:\"app\",\"k1\",6,2,-7\r\n\r\nOK\r\n");
}

static const uint8_t cert[] = {'-', '-', '\r', '\n', 0, 'Z', '"', ',', 0xFE, '\n'};

static void test_mfg_blob(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMFG=2,\"client_cert\",\"client_cert.0\",8,10\r\n", "\r\nOK\r\n>");
	sendn(f, cert, 4);
	expect(f, "");
	sendn(f, cert + 4, 6);
	expect(f, "\r\nOK\r\n");
	send(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\"\r\n");
	expect_data(f, "+SYSMFG:\"client_cert\",\"client_cert.0\",8,10,", cert, sizeof(cert));
	/* a window of it */
	send(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\",2,4\r\n");
	expectn(f, "+SYSMFG:\"client_cert\",\"client_cert.0\",8,4,\r\n\0Z\r\n\r\nOK\r\n", 54);
	send(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\",9,1\r\n");
	expectn(f, "+SYSMFG:\"client_cert\",\"client_cert.0\",8,1,\n\r\n\r\nOK\r\n", 51);
	/* past the end */
	cmd(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\",9,2\r\n", ERR("0x01070004"));
	cmd(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\",10,1\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\",0,0\r\n", ERR("0x01070004"));
	cmd(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\",0\r\n", ERR("0x01060504"));
	/* strings the same way */
	cmd(f, "AT+SYSMFG=2,\"factory_param\",\"module_name\",7,12\r\n", "\r\nOK\r\n>");
	cmd(f, "MY-MODULE-01", "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"factory_param\",\"module_name\"\r\n",
	    "+SYSMFG:\"factory_param\",\"module_name\",7,12,MY-MODULE-01\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG?\r\n", MFG_FACTORY "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"client_cert\"\r\n",
	    "+SYSMFG:\"client_cert\",\"client_cert.0\",8\r\n"
	    "+SYSMFG:\"client_cert\",\"client_cert.1\",8\r\n\r\nOK\r\n");
}

static void test_mfg_erase(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMFG=0,\"client_cert\"\r\n", "\r\nOK\r\n"); /* the factory's */
	cmd(f, "AT+SYSMFG=2,\"client_cert\",\"client_cert.0\",1,1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=2,\"client_cert\",\"client_cert.1\",1,2\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=0,\"client_cert\",\"client_cert.0\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=0,\"client_cert\",\"client_cert.0\"\r\n", ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG=1,\"client_cert\",\"client_cert.0\"\r\n", ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG=1,\"client_cert\"\r\n",
	    "+SYSMFG:\"client_cert\",\"client_cert.1\",1\r\n\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=0,\"client_cert\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=0,\"client_cert\"\r\n", ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG=1,\"client_cert\"\r\n", ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG?\r\n",
	    NS_LINE("ble_data") NS_LINE("client_ca") NS_LINE("client_key") NS_LINE("factory_param")
	        MFG_PKI_AFTER "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=0\r\n", ERR("0x01060201"));
}

static void test_mfg_errors(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMFG=2,\"0123456789abcdef\",\"k\",1,1\r\n", ERR("0x01040001"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"0123456789abcdef\",1,1\r\n", ERR("0x01040002"));
	cmd(f, "AT+SYSMFG=2,\"\",\"k\",1,1\r\n", ERR("0x01070001"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",9,1\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",0,1\r\n", ERR("0x01070003"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",\"1\",1\r\n", ERR("0x01050003"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",1,\"1\"\r\n", ERR("0x01050004"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",7,0\r\n", ERR("0x01070004"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",8,65536\r\n", ERR("0x01070004"));
	cmd(f, "AT+SYSMFG=2,\"ns\",\"k\",8\r\n", ERR("0x01060504"));
	cmd(f, "AT+SYSMFG=1,\"ns\",\"k\",0,1,2\r\n", ERR("0x01060506"));
	cmd(f, "AT+SYSMFG=3\r\n", ERR("0x01070000"));
	/* the longest names work */
	cmd(f, "AT+SYSMFG=2,\"0123456789abcde\",\"0123456789abcde\",3,7\r\n", "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=1,\"0123456789abcde\",\"0123456789abcde\"\r\n",
	    "+SYSMFG:\"0123456789abcde\",\"0123456789abcde\",3,1,7\r\n\r\nOK\r\n");
}

static void test_mfg_power_cycle(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSMFG=2,\"client_key\",\"client_key.0\",8,10\r\n", "\r\nOK\r\n>");
	sendn(f, cert, sizeof(cert));
	expect(f, "\r\nOK\r\n");
	cmd(f, "AT+SYSMFG=2,\"factory_param\",\"channel_num\",1,11\r\n", "\r\nOK\r\n");
	power_cycle(f);
	send(f, "AT+SYSMFG=1,\"client_key\",\"client_key.0\",0,10\r\n");
	expect_data(f, "+SYSMFG:\"client_key\",\"client_key.0\",8,10,", cert, sizeof(cert));
	/* factory data is seeded once, not over what was changed */
	cmd(f, "AT+SYSMFG=1,\"factory_param\",\"channel_num\"\r\n",
	    "+SYSMFG:\"factory_param\",\"channel_num\",1,2,11\r\n\r\nOK\r\n");
}

/* ---- AT+SYSROLLBACK ---- */

static void test_rollback(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSROLLBACK\r\n", ERR("0x010a0000"));
	struct espat_ota_state st;
	espat_ota_load(&f->m, &st);
	assert_int_equal(st.running, 0);
	assert_string_equal(st.version[0], "3.3.0.0");
	assert_string_equal(st.version[1], "");
	/* as an OTA update would leave it: the new firmware runs from ota_1 */
	st.running = 1;
	snprintf(st.version[1], sizeof(st.version[1]), "3.4.0.0");
	assert_int_equal(espat_ota_save(&f->m, &st), 0);
	cmd(f, "AT+SYSROLLBACK\r\n", "\r\nOK\r\n");
	cmd(f, "AT\r\n", "");
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	espat_ota_load(&f->m, &st);
	assert_int_equal(st.running, 0);
	assert_string_equal(st.version[1], "3.4.0.0");
	/* and back again */
	cmd(f, "AT+SYSROLLBACK\r\n", "AT+SYSROLLBACK\r\n\r\nOK\r\n");
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	power_cycle(f);
	espat_ota_load(&f->m, &st);
	assert_int_equal(st.running, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_flash_query),
	    T(test_flash_erase_pending),
	    T(test_flash_erase_errors),
	    T(test_flash_write_read),
	    T(test_flash_write_chunks_and_and),
	    T(test_flash_write_read_errors),
	    T(test_flash_power_cycle),
	    T(test_flash_cut_midway),
	    T(test_mfg_factory),
	    T(test_mfg_integers),
	    T(test_mfg_blob),
	    T(test_mfg_erase),
	    T(test_mfg_errors),
	    T(test_mfg_power_cycle),
	    T(test_rollback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
