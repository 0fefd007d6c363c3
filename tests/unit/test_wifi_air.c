/* The station's side of a join to an AP in the shared air, on the test
 * port's default world with its radio wrapped: auth() of the AP "espat"
 * answers ESPAT_AUTH_PENDING as the air client does, and the test plays
 * the AP module, answering through espat_wifi_air_answer() and leasing
 * through espat_wifi_air_lease(), early or late against the station's
 * timers. Also the radio's leave() and softap_station() hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmd/module.h"
#include "cmd/wifi.h"
#include "testport/testport.h"
#include "world/world.h"

#include "module_fixture.h"

#define SCAN_ESPAT (6 * 120) /* "espat" is on channel 6, 120 ms a channel */
#define ASSOC 500
#define DHCP 300
#define LEASE 0xC0A80442u /* 192.168.4.66 */

/* The wrapper: the world's radio beneath, the calls it saw. */
struct air_fake {
	struct espat_radio world;
	uint32_t espat_id;
	int asked; /* auth() calls for "espat" */
	int left;  /* leave() calls */
	uint32_t left_id;
	int leased; /* softap_station() with an address */
	int gone;   /* softap_station() with 0 */
	uint8_t last_mac[6];
	uint32_t last_ip;
};

static struct air_fake fake;

static enum espat_auth fake_auth(void *user, uint32_t id, const uint8_t mac[6], const uint8_t *pwd,
                                 size_t pwd_len, const struct espat_eap_cred *eap,
                                 struct espat_ipnet *net)
{
	enum espat_auth a = fake.world.auth(fake.world.user, id, mac, pwd, pwd_len, eap, net);
	if (id != fake.espat_id || a == ESPAT_AUTH_GONE)
		return a;
	fake.asked++;
	net->ip = 0; /* the AP module's DHCP server decides */
	net->to_host = false;
	net->air = true;
	return ESPAT_AUTH_PENDING;
}

static void fake_leave(void *user, uint32_t id)
{
	fake.left++;
	fake.left_id = id;
}

static void fake_softap_station(void *user, const uint8_t mac[6], uint32_t ip)
{
	memcpy(fake.last_mac, mac, 6);
	fake.last_ip = ip;
	if (ip)
		fake.leased++;
	else
		fake.gone++;
}

static int setup(void **state)
{
	fx_setup(state);
	struct fx *f = *state;
	memset(&fake, 0, sizeof(fake));
	fake.world = f->m.ports.radio;
	fake.espat_id = espat_world_find(&f->tp.world, "espat")->bss.id;
	f->m.ports.radio.auth = fake_auth;
	f->m.ports.radio.leave = fake_leave;
	f->m.ports.radio.softap_station = fake_softap_station;
	return 0;
}

static void start_join(struct fx *f)
{
	int before = fake.asked;
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n", "");
	advance(f, SCAN_ESPAT);
	assert_int_equal(fake.asked, before + 1);
}

/* Answers after the station's association time: the station waits for it
 * (busy, no message), then goes on at once; the lease likewise. */
static void test_late_answer_and_lease(void **state)
{
	struct fx *f = *state;
	start_join(f);
	advance(f, ASSOC + 5000);
	expect(f, "");
	cmd(f, "AT\r\n", "busy p...\r\n");
	espat_wifi_air_answer(&f->m, fake.espat_id, ESPAT_AUTH_OK);
	expect(f, "WIFI CONNECTED\r\n");
	advance(f, DHCP + 5000);
	expect(f, "");
	espat_wifi_air_lease(&f->m, fake.espat_id, LEASE);
	expect(f, "WIFI GOT IP\r\n\r\nOK\r\n");
	send(f, "AT+CIPSTA?\r\n");
	assert_non_null(strstr(espat_tp_out(&f->tp), "+CIPSTA:ip:\"192.168.4.66\"\r\n"));
	espat_tp_clear(&f->tp);
	/* the station counts as online on an air network (links may open) */
	assert_true(espat_wifi_online(&f->m));
}

/* Answer and lease before the timers end: the station keeps its own
 * timing. A late duplicate answer changes nothing. */
static void test_early_answer_and_lease(void **state)
{
	struct fx *f = *state;
	start_join(f);
	espat_wifi_air_answer(&f->m, fake.espat_id, ESPAT_AUTH_OK);
	espat_wifi_air_lease(&f->m, fake.espat_id, LEASE);
	expect(f, "");
	advance(f, ASSOC - 1);
	expect(f, "");
	advance(f, 1);
	expect(f, "WIFI CONNECTED\r\n");
	advance(f, DHCP);
	expect(f, "WIFI GOT IP\r\n\r\nOK\r\n");
	espat_wifi_air_answer(&f->m, fake.espat_id, ESPAT_AUTH_WRONG_KEY);
	espat_wifi_air_lease(&f->m, fake.espat_id, LEASE + 1);
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:2,\"espat\"\r\n\r\nOK\r\n");
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	start_join(f);
	advance(f, ASSOC);
	espat_wifi_air_answer(&f->m, fake.espat_id, ESPAT_AUTH_WRONG_KEY);
	expect(f, "+CWJAP:2\r\n\r\nERROR\r\n");
	start_join(f);
	espat_wifi_air_answer(&f->m, fake.espat_id, ESPAT_AUTH_REJECTED);
	advance(f, ASSOC);
	expect(f, "+CWJAP:4\r\n\r\nERROR\r\n");
	/* an answer for another AP, or none under way, is ignored */
	espat_wifi_air_answer(&f->m, fake.espat_id + 1, ESPAT_AUTH_OK);
	espat_wifi_air_answer(&f->m, fake.espat_id, ESPAT_AUTH_OK);
	cmd(f, "AT\r\n", "\r\nOK\r\n");
}

/* A join given up (AT+CWJAP's timeout) while the AP module decides tells
 * the air; so does leaving once joined. */
static void test_leave(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\",,,,,,3\r\n", "");
	advance(f, 3000);
	expect(f, "+CWJAP:1\r\n\r\nERROR\r\n");
	assert_int_equal(fake.left, 1);
	assert_int_equal(fake.left_id, fake.espat_id);
	start_join(f);
	espat_wifi_air_answer(&f->m, fake.espat_id, ESPAT_AUTH_OK);
	espat_wifi_air_lease(&f->m, fake.espat_id, LEASE);
	advance(f, ASSOC + DHCP);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	assert_int_equal(fake.left, 2);
}

/* The softAP's DHCP server and its dropping of stations reach the hook. */
static void test_softap_hooks(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;
	uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x42};
	cmd(f, "AT+CWMODE=2\r\n", "\r\nOK\r\n");
	struct espat_wifi_softap ap;
	assert_true(espat_wifi_softap(&f->m, &ap));
	assert_int_equal(ap.ip, 0xC0A80401u);
	assert_int_equal(espat_wifi_ap_join(&f->m, mac, NULL, 0, &why), 0);
	expect(f, "+STA_CONNECTED:\"02:00:00:00:00:42\"\r\n");
	advance(f, 150);
	expect(f, "+DIST_STA_IP:\"02:00:00:00:00:42\",\"192.168.4.2\"\r\n");
	assert_int_equal(fake.leased, 1);
	assert_int_equal(fake.last_ip, 0xC0A80402u);
	cmd(f, "AT+CWQIF=\"02:00:00:00:00:42\"\r\n",
	    "\r\nOK\r\n+STA_DISCONNECTED:\"02:00:00:00:00:42\"\r\n");
	assert_int_equal(fake.gone, 1);
	assert_memory_equal(fake.last_mac, mac, 6);
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	assert_false(espat_wifi_softap(&f->m, &ap));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_late_answer_and_lease, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_early_answer_and_lease, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_leave, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_softap_hooks, setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
