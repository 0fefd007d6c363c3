/* The Wi-Fi family on the test port's default world (src/world/
 * default_world.c): joins and their timing, failures, losing the AP and
 * reconnecting, auto-connect at power-on, scans, the softAP's stations and
 * provisioning. Every expectation is the exact byte output; time passes
 * only through the test clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/module.h"
#include "cmd/ota.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "testport/testport.h"
#include "world/world.h"

#include "module_fixture.h"

/* Default world timings: 120 ms per channel, association 500 ms, DHCP
 * 300 ms; "espat" is on channel 6. */
#define SCAN_ESPAT (6 * 120)
#define FULL_SWEEP (13 * 120)
#define ASSOC 500
#define DHCP 300

static void set_ap(struct fx *f, const char *label, const char *key, const char *value)
{
	struct espat_world_err err;
	struct espat_world_ap *ap = espat_world_find(&f->tp.world, label);
	assert_non_null(ap);
	assert_int_equal(espat_world_set(&f->tp.world, ap, key, value, &err), 0);
	espat_wifi_world_changed(&f->m);
}

static void join_espat(struct fx *f)
{
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n", "");
	advance(f, SCAN_ESPAT + ASSOC - 1);
	expect(f, "");
	advance(f, 1);
	expect(f, "WIFI CONNECTED\r\n");
	advance(f, DHCP);
	expect(f, "WIFI GOT IP\r\n\r\nOK\r\n");
}

static void test_join(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:0,\"\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CWJAP?\r\n", "No AP\r\n\r\nOK\r\n");
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n", "");
	/* busy while the join runs */
	cmd(f, "AT\r\n", "busy p...\r\n");
	advance(f, SCAN_ESPAT + ASSOC);
	expect(f, "WIFI CONNECTED\r\n");
	cmd(f, "AT+CWSTATE?\r\n", "busy p...\r\n");
	advance(f, DHCP);
	expect(f, "WIFI GOT IP\r\n\r\nOK\r\n");
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:2,\"espat\"\r\n\r\nOK\r\n");
	send(f, "AT+CWJAP?\r\n");
	char want[160];
	const struct espat_world_ap *ap = espat_world_find(&f->tp.world, "espat");
	char mac[18];
	snprintf(want, sizeof(want), "+CWJAP:\"espat\",\"%s\",6,-42,0,1,3,0,1\r\n\r\nOK\r\n",
		 espat_mac_str(ap->bss.bssid, mac));
	expect(f, want);
	send(f, "AT+CIPSTA?\r\n");
	/* the world's pool starts at .100; the lease depends on the MAC */
	assert_non_null(strstr(espat_tp_out(&f->tp), "+CIPSTA:ip:\"192.168.3.1"));
	assert_non_null(strstr(espat_tp_out(&f->tp), "+CIPSTA:gateway:\"192.168.3.1\"\r\n"));
	assert_non_null(strstr(espat_tp_out(&f->tp), "+CIPSTA:netmask:\"255.255.255.0\"\r\n"));
	espat_tp_clear(&f->tp);
	/* OK first, then the disconnect event */
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:4,\"espat\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CWJAP?\r\n", "No AP\r\n\r\nOK\r\n");
}

static void test_join_failures(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSLOG=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWJAP=\"espat\",\"wrong-pass\"\r\n", "");
	advance(f, SCAN_ESPAT + ASSOC);
	expect(f, "+CWJAP:2\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	cmd(f, "AT+CWJAP=\"nowhere\",\"whatever1\"\r\n", "");
	advance(f, FULL_SWEEP - 1);
	expect(f, "");
	advance(f, 1);
	expect(f, "+CWJAP:3\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* pci_en refuses the open cafe */
	cmd(f, "AT+CWJAP=\"Cafe Free WiFi\",\"\",,1\r\n", "");
	advance(f, FULL_SWEEP);
	expect(f, "+CWJAP:3\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* a network without DHCP: associated, no address, timeout */
	set_ap(f, "espat", "dhcp", "no");
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\",,,,,,3\r\n", "");
	advance(f, SCAN_ESPAT + ASSOC);
	expect(f, "WIFI CONNECTED\r\n");
	advance(f, 3000 - SCAN_ESPAT - ASSOC);
	expect(f, "WIFI DISCONNECT\r\n+CWJAP:1\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* not in station mode */
	cmd(f, "AT+CWMODE=2\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n", "ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
	/* parameter checks */
	cmd(f, "AT+CWMODE=1\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\",\"zz:00:00:00:00:00\"\r\n",
	    "ERR CODE:0x01070002\r\n\r\nERROR\r\n");
	cmd(f, "AT+CWJAP=\"espat\",\"espatpass\",,,,,,2\r\n", "ERR CODE:0x01070007\r\n\r\nERROR\r\n");
}

static void test_lost_and_back(void **state)
{
	struct fx *f = *state;
	join_espat(f);
	/* AT+CWJAP's default reconnect interval is 1 s, for ever */
	set_ap(f, "espat", "up", "no");
	expect(f, "WIFI DISCONNECT\r\n");
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:3,\"espat\"\r\n\r\nOK\r\n");
	advance(f, 10000);
	expect(f, "");
	/* attempts every second (each a full sweep that finds nothing) until
	 * the AP is back */
	set_ap(f, "espat", "up", "yes");
	advance(f, FULL_SWEEP + 1000 + SCAN_ESPAT + ASSOC + DHCP);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:2,\"espat\"\r\n\r\nOK\r\n");
	/* a new password on the AP: deauthenticated, and the old one fails */
	set_ap(f, "espat", "password", "newpass99");
	expect(f, "WIFI DISCONNECT\r\n");
	/* no reconnect: the station gives up at once */
	cmd(f, "AT+CWRECONNCFG=0,0\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWRECONNCFG?\r\n", "+CWRECONNCFG:0,0\r\n\r\nOK\r\n");
}

static void test_autoconnect_after_power_cut(void **state)
{
	struct fx *f = *state;
	join_espat(f);
	fx_power_cycle(f);
	advance(f, SCAN_ESPAT + ASSOC + DHCP);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
	cmd(f, "AT+CWAUTOCONN=0\r\n", "\r\nOK\r\n");
	fx_power_cycle(f);
	advance(f, 5000);
	expect(f, "");
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:0,\"espat\"\r\n\r\nOK\r\n");
}

static void test_scan(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CWLAPOPT=1,0x17\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWLAP\r\n", "");
	advance(f, FULL_SWEEP);
	expect(f, "+CWLAP:(3,\"espat\",-42,6)\r\n"
		  "+CWLAP:(4,\"HomeNet-2G\",-67,1)\r\n"
		  "+CWLAP:(5,\"Office-Corp\",-71,11)\r\n"
		  "+CWLAP:(6,\"Modern-WPA3\",-75,13)\r\n"
		  "+CWLAP:(0,\"Cafe Free WiFi\",-80,11)\r\n"
		  "\r\nOK\r\n");
	/* scan order, an RSSI floor, only WPA2/WPA3 */
	cmd(f, "AT+CWLAPOPT=0,0x17,-72,0x48\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWLAP\r\n", "");
	advance(f, FULL_SWEEP);
	expect(f, "+CWLAP:(3,\"espat\",-42,6)\r\n\r\nOK\r\n");
	cmd(f, "AT+CWLAPOPT=1,0x7FF\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWLAP=\"Cafe Free WiFi\"\r\n", "");
	advance(f, FULL_SWEEP);
	const struct espat_world_ap *ap = espat_world_find(&f->tp.world, "cafe");
	char want[200], mac[18];
	snprintf(want, sizeof(want), "+CWLAP:(0,\"Cafe Free WiFi\",-80,\"%s\",11,-1,-1,0,0,7,0)\r\n\r\nOK\r\n",
		 espat_mac_str(ap->bss.bssid, mac));
	expect(f, want);
	/* one channel: one dwell */
	cmd(f, "AT+CWLAP=,,6\r\n", "");
	advance(f, 119);
	expect(f, "");
	advance(f, 1);
	assert_non_null(strstr(espat_tp_out(&f->tp), "\"espat\""));
	espat_tp_clear(&f->tp);
}

static void test_softap_stations(void **state)
{
	struct fx *f = *state;
	const char *why = NULL;
	uint8_t a[6] = {0x5e, 0xd9, 0x97, 0x7b, 0xad, 0x3c}, b[6] = {0x02, 0, 0, 0, 0, 0x42};
	assert_int_equal(espat_wifi_ap_join(&f->m, a, NULL, 0, &why), -1);
	cmd(f, "AT+CWMODE=3\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWSAP=\"espat-ap\",\"secret123\",5,3,2\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWSAP?\r\n", "+CWSAP:\"espat-ap\",\"secret123\",5,3,2,0\r\n\r\nOK\r\n");
	assert_int_equal(espat_wifi_ap_join(&f->m, a, (const uint8_t *)"nope", 4, &why), -2); /* wrong password */
	assert_int_equal(espat_wifi_ap_join(&f->m, a, NULL, 0, &why), 0);
	expect(f, "+STA_CONNECTED:\"5e:d9:97:7b:ad:3c\"\r\n");
	advance(f, 150);
	expect(f, "+DIST_STA_IP:\"5e:d9:97:7b:ad:3c\",\"192.168.4.2\"\r\n");
	assert_int_equal(espat_wifi_ap_join(&f->m, b, NULL, 0, &why), 0);
	advance(f, 150);
	expect(f, "+STA_CONNECTED:\"02:00:00:00:00:42\"\r\n"
		  "+DIST_STA_IP:\"02:00:00:00:00:42\",\"192.168.4.3\"\r\n");
	/* max conn 2 */
	uint8_t c[6] = {0x02, 0, 0, 0, 0, 0x43};
	assert_int_equal(espat_wifi_ap_join(&f->m, c, NULL, 0, &why), -1);
	cmd(f, "AT+CWLIF\r\n", "+CWLIF:192.168.4.2,5e:d9:97:7b:ad:3c\r\n"
			       "+CWLIF:192.168.4.3,02:00:00:00:00:42\r\n\r\nOK\r\n");
	assert_int_equal(espat_wifi_ap_leave(&f->m, a, &why), 0);
	expect(f, "+STA_DISCONNECTED:\"5e:d9:97:7b:ad:3c\"\r\n");
	cmd(f, "AT+CWQIF\r\n", "\r\nOK\r\n+STA_DISCONNECTED:\"02:00:00:00:00:42\"\r\n");
	cmd(f, "AT+CWLIF\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWDHCPS?\r\n", "+CWDHCPS:120,\"192.168.4.2\",\"192.168.4.101\"\r\n\r\nOK\r\n");
	cmd(f, "AT+CWDHCPS=1,3,\"192.168.4.10\",\"192.168.4.15\"\r\n", "\r\nOK\r\n");
	cmd(f, "AT+CWDHCPS?\r\n", "+CWDHCPS:3,\"192.168.4.10\",\"192.168.4.15\"\r\n\r\nOK\r\n");
	assert_int_equal(espat_wifi_ap_join(&f->m, c, NULL, 0, &why), 0);
	advance(f, 150);
	expect(f, "+STA_CONNECTED:\"02:00:00:00:00:43\"\r\n"
		  "+DIST_STA_IP:\"02:00:00:00:00:43\",\"192.168.4.10\"\r\n");
}

static void test_smartconfig_and_wps(void **state)
{
	struct fx *f = *state;
	struct espat_world *w = &f->tp.world;
	cmd(f, "AT+CWSTARTSMART\r\n", "\r\nOK\r\n");
	memset(&w->sc, 0, sizeof(w->sc));
	w->sc.active = true;
	w->sc.prov.type = 1;
	memcpy(w->sc.prov.ssid, "espat", 5);
	w->sc.prov.ssid_len = 5;
	memcpy(w->sc.prov.pwd, "espatpass", 9);
	w->sc.prov.pwd_len = 9;
	espat_wifi_world_changed(&f->m);
	advance(f, 400);
	expect(f, "smartconfig type:ESPTOUCH\r\n");
	advance(f, 1200);
	expect(f, "Smart get wifi info\r\nssid:espat\r\npassword:espatpass\r\n");
	advance(f, SCAN_ESPAT + ASSOC + DHCP);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\nsmartconfig connected wifi\r\n");
	cmd(f, "AT+CWSTOPSMART\r\n", "\r\nOK\r\n");
	w->sc.active = false;
	cmd(f, "AT+CWQAP\r\n", "\r\nOK\r\nWIFI DISCONNECT\r\n");

	cmd(f, "AT+WPS=1\r\n", "\r\nOK\r\n");
	espat_world_find(w, "espat")->wps_pressed_ms = espat_module_now(&f->m);
	espat_wifi_world_changed(&f->m);
	advance(f, 1500 + SCAN_ESPAT + ASSOC + DHCP);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
	cmd(f, "AT+CWSTATE?\r\n", "+CWSTATE:2,\"espat\"\r\n\r\nOK\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_join, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_join_failures, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lost_and_back, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_autoconnect_after_power_cut, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_scan, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_softap_stations, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_smartconfig_and_wps, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
