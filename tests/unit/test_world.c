/* The simulated radio world (src/world/): world files (good and bad, with
 * the line of each error), the key setter, describe -> parse round trips,
 * the built-in world against docs/world.example.ini, and the radio port:
 * scan order, auth for every security, leases, WPS, SmartConfig. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "world/world.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static struct espat_world w, w2; /* big: not on the stack */

static void parse_ok(struct espat_world *wp, const char *text)
{
	struct espat_world_err err;
	if (espat_world_parse(wp, text, strlen(text), &err) != 0)
		fail_msg("line %d: %s\n--- text:\n%s", err.line, err.msg, text);
}

static struct espat_world_ap *ap_of(struct espat_world *wp, const char *label)
{
	struct espat_world_ap *ap = espat_world_find(wp, label);
	if (!ap)
		fail_msg("no AP '%s'", label);
	return ap;
}

/* Every field a world file decides (not the runtime ones: key_epoch,
 * wps_pressed_ms). */
static void expect_same_ap(const struct espat_world_ap *a, const struct espat_world_ap *b)
{
	assert_string_equal(a->label, b->label);
	assert_int_equal(a->bss.ssid_len, b->bss.ssid_len);
	assert_memory_equal(a->bss.ssid, b->bss.ssid, sizeof(a->bss.ssid));
	assert_memory_equal(a->bss.bssid, b->bss.bssid, 6);
	assert_int_equal(a->bss.channel, b->bss.channel);
	assert_int_equal(a->bss.rssi, b->bss.rssi);
	assert_int_equal(a->bss.ecn, b->bss.ecn);
	assert_int_equal(a->bss.pairwise_cipher, b->bss.pairwise_cipher);
	assert_int_equal(a->bss.group_cipher, b->bss.group_cipher);
	assert_int_equal(a->bss.bgn, b->bss.bgn);
	assert_int_equal(a->bss.wps, b->bss.wps);
	assert_int_equal(a->bss.pmf_required, b->bss.pmf_required);
	assert_int_equal(a->up, b->up);
	assert_int_equal(a->hidden, b->hidden);
	assert_int_equal(a->pwd_len, b->pwd_len);
	assert_memory_equal(a->pwd, b->pwd, sizeof(a->pwd));
	assert_int_equal(a->eap_methods, b->eap_methods);
	assert_string_equal(a->eap_identity, b->eap_identity);
	assert_string_equal(a->eap_username, b->eap_username);
	assert_string_equal(a->eap_password, b->eap_password);
	assert_int_equal(a->net.dhcp, b->net.dhcp);
	assert_int_equal(a->net.ip, b->net.ip);
	assert_int_equal(a->net.mask, b->net.mask);
	assert_int_equal(a->net.gw, b->net.gw);
	assert_int_equal(a->net.dns[0], b->net.dns[0]);
	assert_int_equal(a->net.dns[1], b->net.dns[1]);
	assert_int_equal(a->net.lease_s, b->net.lease_s);
	assert_int_equal(a->net.assoc_ms, b->net.assoc_ms);
	assert_int_equal(a->net.dhcp_ms, b->net.dhcp_ms);
	assert_int_equal(a->net.to_host, b->net.to_host);
	assert_int_equal(a->pool, b->pool);
}

/* ---- world files ------------------------------------------------------- */

static const char every_key[] = "# a comment\n"
                                "; another\n"
                                "[world]\n"
                                "scan_channel_ms = 80\n"
                                "\n"
                                "[ap lab.1-x_Y]\n"
                                "ssid = \"a,b \\\"q\\\" \\x00 \\x3b; end\\\\\" ; inline comment\n"
                                "bssid = 02:11:22:33:44:55\n"
                                "channel = 14\n"
                                "rssi = -100\n"
                                "security = wpa2-wpa3\n"
                                "password = \"pass;word\"\n"
                                "bgn = bglr\n"
                                "wps = true\n"
                                "hidden = 1\n"
                                "up = no\n"
                                "pairwise_cipher = 5\n"
                                "group_cipher = 3\n"
                                "network = host\n"
                                "subnet = 10.1.2.3/16\n"
                                "gateway = 10.1.0.254\n"
                                "dns = 8.8.8.8,1.1.1.1\n"
                                "dhcp = no\n"
                                "lease = 60\n"
                                "pool_start = 10.1.1.1\n"
                                "pool_size = 7\n"
                                "assoc_ms = 0\n"
                                "dhcp_ms = 600000\n"
                                "[ap ent]\n"
                                "ssid = corp net\n" /* unquoted: as is, inner blank kept */
                                "security = 5\n"
                                "eap_methods = tls, ttls\n"
                                "eap_identity = \"id\"\n"
                                "eap_username = bob\n"
                                "eap_password = \"p\\tw\"\n";

static void file_every_key(void **state)
{
	parse_ok(&w, every_key);
	assert_int_equal(w.nap, 2);
	assert_int_equal(w.scan_channel_ms, 80);
	const struct espat_world_ap *a = ap_of(&w, "lab.1-x_Y");
	static const char ssid[] = "a,b \"q\" \0 ;; end\\";
	assert_int_equal(a->bss.ssid_len, sizeof(ssid) - 1);
	assert_memory_equal(a->bss.ssid, ssid, sizeof(ssid) - 1);
	static const uint8_t bssid[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	assert_memory_equal(a->bss.bssid, bssid, 6);
	assert_int_equal(a->bss.channel, 14);
	assert_int_equal(a->bss.rssi, -100);
	assert_int_equal(a->bss.ecn, ESPAT_ECN_WPA2_WPA3_PSK);
	assert_int_equal(a->pwd_len, 9);
	assert_memory_equal(a->pwd, "pass;word", 9);
	assert_int_equal(a->bss.bgn, 0xb);
	assert_true(a->bss.wps);
	assert_true(a->hidden);
	assert_false(a->up);
	assert_int_equal(a->bss.pairwise_cipher, 5);
	assert_int_equal(a->bss.group_cipher, 3);
	assert_true(a->net.to_host);
	assert_int_equal(a->net.mask, IP4(255, 255, 0, 0));
	assert_int_equal(a->net.gw, IP4(10, 1, 0, 254));
	assert_int_equal(a->net.dns[0], IP4(8, 8, 8, 8));
	assert_int_equal(a->net.dns[1], IP4(1, 1, 1, 1));
	assert_false(a->net.dhcp);
	assert_int_equal(a->net.lease_s, 60);
	assert_int_equal(a->net.ip, IP4(10, 1, 1, 1));
	assert_int_equal(a->pool, 7);
	assert_int_equal(a->net.assoc_ms, 0);
	assert_int_equal(a->net.dhcp_ms, 600000);

	const struct espat_world_ap *e = ap_of(&w, "ent");
	assert_int_equal(e->bss.ssid_len, 8);
	assert_memory_equal(e->bss.ssid, "corp net", 8);
	assert_int_equal(e->bss.ecn, ESPAT_ECN_WPA2_ENTERPRISE);
	assert_int_equal(e->eap_methods, 0x5);
	assert_string_equal(e->eap_identity, "id");
	assert_string_equal(e->eap_username, "bob");
	assert_string_equal(e->eap_password, "p\tw");
	/* the defaults of what was not set */
	assert_int_equal(e->bss.channel, 1);
	assert_int_equal(e->bss.rssi, -50);
	assert_int_equal(e->bss.bgn, 0x7);
	assert_int_equal(e->bss.pairwise_cipher, ESPAT_CIPHER_CCMP);
	assert_true(e->up);
	assert_false(e->hidden);
	assert_true(e->net.dhcp);
	assert_int_equal(e->net.ip, IP4(192, 168, 3, 100));
	assert_int_equal(e->net.gw, IP4(192, 168, 3, 1));
	assert_int_equal(e->net.dns[0], IP4(192, 168, 3, 1));
	assert_int_equal(e->net.lease_s, 7200);
	assert_int_equal(e->net.assoc_ms, 500);
	assert_int_equal(e->net.dhcp_ms, 300);
	assert_int_equal(e->pool, 100);
	assert_false(e->net.to_host);
	/* BSSIDs: from the label, unicast, locally administered, distinct */
	assert_int_equal(e->bss.bssid[0] & 3, 2);
	assert_memory_not_equal(e->bss.bssid, a->bss.bssid, 6);
	/* ids in order */
	assert_int_equal(a->bss.id, 1);
	assert_int_equal(e->bss.id, 2);
}

static void file_details(void **state)
{
	/* CRLF, a BOM, ':' as the separator, trailing NULs, an empty world */
	static const char crlf[] = "\xEF\xBB\xBF[ap a]\r\nssid: x\r\nrssi=-1\r\n\0\0";
	struct espat_world_err err;
	assert_int_equal(espat_world_parse(&w, crlf, sizeof(crlf), &err), 0);
	assert_int_equal(ap_of(&w, "a")->bss.rssi, -1);
	assert_memory_equal(ap_of(&w, "a")->bss.ssid, "x", 2);
	parse_ok(&w, "");
	assert_int_equal(w.nap, 0);
	assert_int_equal(w.scan_channel_ms, ESPAT_WORLD_SCAN_MS);
	/* a 197-byte line is the longest */
	char text[400];
	int n = snprintf(text, sizeof(text), "[ap a]\nssid = x\n;%196s\n", "");
	assert_int_equal(espat_world_parse(&w, text, (size_t)n, &err), 0);
	/* 64 APs fit, a 65th does not */
	size_t k = 0;
	static char big[8192];
	for (int i = 0; i < ESPAT_WORLD_APS_MAX; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, "[ap n%d]\nssid=s\n", i);
	assert_int_equal(espat_world_parse(&w, big, k, &err), 0);
	assert_int_equal(w.nap, ESPAT_WORLD_APS_MAX);
	k += (size_t)snprintf(big + k, sizeof(big) - k, "[ap one-more]\nssid=s\n");
	assert_int_equal(espat_world_parse(&w, big, k, &err), -1);
	assert_int_equal(err.line, 2 * ESPAT_WORLD_APS_MAX + 1);
	assert_non_null(strstr(err.msg, "too many APs"));
	assert_int_equal(w.nap, 0); /* left empty */
	/* a NUL before the end */
	static const char nul[] = "[ap a]\nssid=x\n\0junk\n";
	assert_int_equal(espat_world_parse(&w, nul, sizeof(nul) - 1, &err), -1);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.msg, "NUL byte in the text");
}

static void file_errors(void **state)
{
	static char long_line[300];
	snprintf(long_line, sizeof(long_line), "[ap a]\nssid = x\n;%197s\n", "");
	static const struct {
		const char *text;
		int line;
		const char *msg; /* a part of the message */
	} bad[] = {
	    {"[ap a]\nssid=x\ncolour = red\n", 3, "unknown key 'colour'"},
	    {"[world]\nssid = x\n", 2, "unknown key 'ssid'"},
	    {"[ap a]\nssid=x\nchannel = 15\n", 3, "channel must be an integer 1..14"},
	    {"[ap a]\nssid=x\nchannel = 0\n", 3, "1..14"},
	    {"[ap a]\nssid=x\nchannel = six\n", 3, "channel"},
	    {"[ap a]\nssid=x\nrssi = 1\n", 3, "rssi must be an integer -100..0"},
	    {"[ap a]\nssid=x\n\n[ap b]\nssid=y\n[ap a]\nssid=z\n", 6, "duplicate AP 'a'"},
	    {"[ap a]\nssid=x\n[ap b]\n[ap a]\n", 4, "duplicate AP 'a'"},
	    {"[world]\n[world]\n", 2, "duplicate section [world]"},
	    {"[ap a]\nssid=x\n[ap b]\nchannel=3\n", 3, "AP 'b' has no ssid"},
	    {"[ap a]\nssid=x\nsecurity=wpa2\n", 1, "AP 'a': security wpa2 needs a password"},
	    {"[ap a]\nssid=x\nsecurity=wpa2\npassword=short\n", 1, "8..63"},
	    {"[ap a]\nssid=x\nsecurity=wpa3\npassword=\"1234567\"\n", 1, "8..63"},
	    {"[ap a]\nssid=x\npassword=abcdefgh\n", 1, "security open takes no password"},
	    {"[ap a]\nssid=x\nsecurity=wep\npassword=abcdef\n", 1, "wep"},
	    {"[ap a]\nssid=x\nsecurity=wpa2-enterprise\n", 1, "needs eap_methods"},
	    {"[ap a]\nssid=\"abc\n", 2, "ssid: unterminated quote"},
	    {"[ap a]\nssid=\"a ;b\"\n", 2, "ssid: unterminated quote"},
	    {"[ap a]\nssid=\"a\\qb\"\n", 2, "ssid: bad escape"},
	    {"[ap a]\nssid=\"a\\x4\"\n", 2, "ssid: bad escape"},
	    {"[ap a]\nssid=\"a\"b\n", 2, "ssid: text after the closing quote"},
	    {"[ap a]\nssid=\"0123456789abcdef0123456789abcdefX\"\n", 2, "ssid: at most 32 bytes"},
	    {long_line, 3, "line longer than 197 bytes"},
	    {"[ap a]\nssid = x\n  rssi = -3\n", 3, "indented line"},
	    {"[ap a]\nssid = x\nrssi\n", 3, "expected 'key = value'"},
	    {"ssid = x\n", 1, "outside a section"},
	    {"[ap a]\nssid=x\n[ap b\n", 3, "without ']'"},
	    {"[ap a] x\nssid=x\n", 1, "after the section header"},
	    {"[station a]\n", 1, "unknown section [station a]"},
	    {"[ap]\n", 1, "unknown section"},
	    {"[ap bad label]\n", 1, "bad AP label"},
	    {"[ap 0123456789012345678901234567890x]\n", 1, "bad AP label"},
	    {"[ap a]\nssid=x\nbssid=01:00:00:00:00:01\n", 3, "unicast"},
	    {"[ap a]\nssid=x\nbssid=02:00:00:00:00\n", 3, "bssid"},
	    {"[ap a]\nssid=x\nsecurity=wpa4\n", 3, "security must be open, wep"},
	    {"[ap a]\nssid=x\nsecurity=10\n", 3, "security"},
	    {"[ap a]\nssid=x\nbgn=bgg\n", 3, "bgn"},
	    {"[ap a]\nssid=x\nbgn=16\n", 3, "bgn must be 0..15"},
	    {"[ap a]\nssid=x\nwps=maybe\n", 3, "wps must be yes/no"},
	    {"[ap a]\nssid=x\npairwise_cipher=8\n", 3, "0..7"},
	    {"[ap a]\nssid=x\nnetwork=lan\n", 3, "host or none"},
	    {"[ap a]\nssid=x\nsubnet=10.0.0.0/31\n", 3, "len 8..30"},
	    {"[ap a]\nssid=x\nsubnet=10.0.0.256/24\n", 3, "subnet"},
	    {"[ap a]\nssid=x\ngateway=1.2.3\n", 3, "gateway must be an IPv4"},
	    {"[ap a]\nssid=x\ndns=1.2.3.4,\n", 3, "dns"},
	    {"[ap a]\nssid=x\nlease=0\n", 3, "lease"},
	    {"[ap a]\nssid=x\npool_size=0\n", 3, "pool_size"},
	    {"[ap a]\nssid=x\ndhcp_ms=600001\n", 3, "dhcp_ms must be an integer 0..600000"},
	    {"[ap a]\nssid=x\neap_methods=md5\n", 3, "eap_methods"},
	    {"[ap a]\nssid=x\neap_username=\"a\\x00b\"\n", 3, "NUL"},
	    {"[world]\nscan_channel_ms=0\n", 2, "scan_channel_ms"},
	    {"[ap a]\nssid=x\npool_start=192.168.4.1\n", 1, "inside the subnet"},
	    {"[ap a]\nssid=x\ngateway=192.168.3.120\n", 1, "gateway must not lie inside"},
	    {"[ap a]\nssid=x\nsubnet=10.0.0.0/24\ngateway=10.0.1.1\n", 1, "gateway must lie"},
	    /* the first error wins: inih's own (line 3) before a later one */
	    {"[ap a]\nssid=x\nnonsense\nchannel=99\n", 3, "expected"},
	    {"[ap a]\nchannel=99\nnonsense\n", 2, "channel"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct espat_world_err err;
		int r = espat_world_parse(&w, bad[i].text, strlen(bad[i].text), &err);
		if (r != -1 || err.line != bad[i].line || !strstr(err.msg, bad[i].msg))
			fail_msg("case %zu: r=%d line %d '%s' (want line %d '%s')", i, r, err.line,
			         err.msg, bad[i].line, bad[i].msg);
		assert_int_equal(w.nap, 0);
	}
}

static void load_file(void **state)
{
	struct espat_world_err err;
	assert_int_equal(espat_world_load(&w, "/nonexistent/world.ini", &err), -1);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.msg,
	                    "cannot read /nonexistent/world.ini: No such file or directory");
}

/* ---- the setter (ctl's path) ------------------------------------------- */

static void set_keys(void **state)
{
	struct espat_world_err err;
	espat_world_init(&w);
	struct espat_world_ap *ap = espat_world_add(&w, "x", &err);
	assert_non_null(ap);
	assert_null(espat_world_add(&w, "x", &err));
	assert_string_equal(err.msg, "duplicate AP 'x'");
	assert_null(espat_world_add(&w, "a b", &err));
	assert_null(espat_world_add(&w, "", &err));

	assert_int_equal(espat_world_set(&w, ap, "nope", "1", &err), -1);
	assert_string_equal(err.msg, "unknown key 'nope'");
	assert_int_equal(err.line, 0);
	assert_int_equal(espat_world_set(&w, NULL, "ssid", "1", &err), -1);
	assert_int_equal(espat_world_set(&w, NULL, "scan_channel_ms", "33", &err), 0);
	assert_int_equal(w.scan_channel_ms, 33);

	/* a bad value changes nothing */
	assert_int_equal(espat_world_set(&w, ap, "channel", "99", &err), -1);
	assert_int_equal(ap->bss.channel, 1);

	/* numeric security and its ciphers, PMF for WPA3 only */
	static const struct {
		const char *sec;
		uint8_t ecn, pw, gr;
		bool pmf;
	} sec[] = {
	    {"open", 0, 0, 0, false},     {"wep", 1, 1, 1, false},
	    {"wpa", 2, 3, 3, false},      {"wpa2", 3, 4, 4, false},
	    {"wpa-wpa2", 4, 5, 3, false}, {"wpa2-enterprise", 5, 4, 4, false},
	    {"wpa3", 6, 4, 4, true},      {"wpa2-wpa3", 7, 4, 4, false},
	    {"wapi", 8, 7, 7, false},     {"owe", 9, 4, 4, false},
	};
	for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++) {
		char num[4];
		snprintf(num, sizeof(num), "%u", sec[i].ecn);
		for (int by_num = 0; by_num < 2; by_num++) {
			espat_world_set(&w, ap, "security", "open", &err);
			assert_int_equal(
			    espat_world_set(&w, ap, "security", by_num ? num : sec[i].sec, &err),
			    0);
			assert_int_equal(ap->bss.ecn, sec[i].ecn);
			assert_int_equal(ap->bss.pairwise_cipher, sec[i].pw);
			assert_int_equal(ap->bss.group_cipher, sec[i].gr);
			assert_int_equal(ap->bss.pmf_required, sec[i].pmf);
		}
	}

	/* the set is allowed; the check says what is wrong */
	espat_world_set(&w, ap, "security", "wpa2", &err);
	assert_int_equal(espat_world_check(ap, &err), -1);
	assert_non_null(strstr(err.msg, "wpa2 needs a password"));
	uint32_t epoch = ap->key_epoch;
	assert_int_equal(espat_world_set(&w, ap, "password", "\"12345678\"", &err), 0);
	assert_int_equal(ap->key_epoch, epoch + 1);
	assert_int_equal(espat_world_check(ap, &err), 0);
	/* an unchanged credential keeps the epoch; other keys never bump it */
	espat_world_set(&w, ap, "password", "12345678", &err);
	espat_world_set(&w, ap, "rssi", "-3", &err);
	assert_int_equal(ap->key_epoch, epoch + 1);
	espat_world_set(&w, ap, "eap_username", "u", &err);
	assert_int_equal(ap->key_epoch, epoch + 2);
	/* 64 hex digits are a raw PSK; 64 other bytes are not */
	char hex[67];
	snprintf(hex, sizeof(hex), "\"%064d\"", 7);
	assert_int_equal(espat_world_set(&w, ap, "password", hex, &err), 0);
	assert_int_equal(espat_world_check(ap, &err), 0);
	hex[5] = 'g';
	espat_world_set(&w, ap, "password", hex, &err);
	assert_int_equal(espat_world_check(ap, &err), -1);
	assert_int_equal(
	    espat_world_set(&w, ap, "password",
	                    "\"0123456789012345678901234567890123456789012345678901234567890123X\"",
	                    &err),
	    -1);
	assert_string_equal(err.msg, "password: at most 64 bytes");
	/* WEP keys: 5/13 ASCII, 10/26 hex */
	espat_world_set(&w, ap, "security", "wep", &err);
	static const struct {
		const char *key;
		int ok;
	} wep[] = {{"abcde", 0},      {"abcdefghijklm", 0},
	           {"0123456789", 0}, {"0123456789abcdef0123456789", 0},
	           {"abcd", -1},      {"012345678g", -1}};
	for (size_t i = 0; i < sizeof(wep) / sizeof(wep[0]); i++) {
		espat_world_set(&w, ap, "password", wep[i].key, &err);
		assert_int_equal(espat_world_check(ap, &err), wep[i].ok);
	}

	/* bgn forms */
	static const struct {
		const char *v;
		uint8_t bits;
	} bgn[] = {{"b", 1},   {"g", 2},      {"n", 4}, {"lr", 8}, {"bg", 3},
	           {"nbg", 7}, {"bgnlr", 15}, {"0", 0}, {"15", 15}};
	for (size_t i = 0; i < sizeof(bgn) / sizeof(bgn[0]); i++) {
		assert_int_equal(espat_world_set(&w, ap, "bgn", bgn[i].v, &err), 0);
		assert_int_equal(ap->bss.bgn, bgn[i].bits);
	}
	assert_int_equal(espat_world_set(&w, ap, "bgn", "", &err), -1);
	assert_int_equal(espat_world_set(&w, ap, "bgn", "l", &err), -1);

	/* subnet: pool at .100 when it fits, else .2; shrinks to fit */
	espat_world_set(&w, ap, "subnet", "172.16.5.77/24", &err);
	assert_int_equal(ap->net.ip, IP4(172, 16, 5, 100));
	assert_int_equal(ap->net.gw, IP4(172, 16, 5, 1));
	assert_int_equal(ap->net.dns[0], IP4(172, 16, 5, 1));
	assert_int_equal(ap->pool, 100);
	espat_world_set(&w, ap, "subnet", "172.16.5.64/28", &err);
	assert_int_equal(ap->net.ip, IP4(172, 16, 5, 66));
	assert_int_equal(ap->net.gw, IP4(172, 16, 5, 65));
	assert_int_equal(ap->pool, 13);
	espat_world_set(&w, ap, "password", "\"12345678\"", &err);
	espat_world_set(&w, ap, "security", "wpa2", &err);
	assert_int_equal(espat_world_check(ap, &err), 0);
	/* dns "a" clears the second */
	espat_world_set(&w, ap, "dns", "1.2.3.4,5.6.7.8", &err);
	espat_world_set(&w, ap, "dns", "9.9.9.9", &err);
	assert_int_equal(ap->net.dns[1], 0);
}

static void unescape_api(void **state)
{
	uint8_t out[8];
	assert_int_equal(espat_world_unescape("\"a\\x41\\n\"", out, sizeof(out)), 3);
	assert_memory_equal(out, "aA\n", 3);
	assert_int_equal(espat_world_unescape("a\\x41", out, sizeof(out)), 5); /* as is */
	assert_int_equal(espat_world_unescape("\"\"", out, sizeof(out)), 0);
	assert_int_equal(espat_world_unescape("\"abc", out, sizeof(out)), -1);
	assert_int_equal(espat_world_unescape("\"a\\\"", out, sizeof(out)), -1);
	assert_int_equal(espat_world_unescape("\"123456789\"", out, sizeof(out)), -1);
	assert_int_equal(espat_world_unescape("\"12345678\"", out, sizeof(out)), 8);
}

/* ---- describe and the default world ------------------------------------ */

static void describe_roundtrip(void **state)
{
	parse_ok(&w, every_key);
	/* bytes a file can only hold escaped, in every string key */
	struct espat_world_err err;
	struct espat_world_ap *ap = ap_of(&w, "ent");
	assert_int_equal(espat_world_set(&w, ap, "ssid",
	                                 "\"\\x00\\x01\\xff\\t\\r\\n;#=:[]\\\"\\\\ \\x3b \"", &err),
	                 0);
	espat_world_set(&w, ap, "eap_identity", "\" ; lead\"", &err);
	static char text[ESPAT_WORLD_APS_MAX * ESPAT_WORLD_DESCRIBE_MAX];
	size_t n = 0;
	for (size_t i = 0; i < w.nap; i++) {
		size_t k = espat_world_describe(&w.ap[i], text + n, sizeof(text) - n);
		assert_true(k < ESPAT_WORLD_DESCRIBE_MAX);
		assert_int_equal(strlen(text + n), k);
		n += k;
	}
	parse_ok(&w2, text);
	assert_int_equal(w2.nap, w.nap);
	for (size_t i = 0; i < w.nap; i++)
		expect_same_ap(&w.ap[i], &w2.ap[i]);

	/* a short buffer: a NUL-terminated prefix, the full length returned */
	char small[10];
	size_t full = espat_world_describe(&w.ap[0], small, sizeof(small));
	assert_true(full > sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void default_world_matches_example(void **state)
{
	struct espat_world_err err;
	espat_world_default(&w);
	if (espat_world_load(&w2, "docs/world.example.ini", &err) != 0)
		fail_msg("docs/world.example.ini line %d: %s", err.line, err.msg);
	assert_int_equal(w.nap, 5);
	assert_int_equal(w2.nap, w.nap);
	assert_int_equal(w2.scan_channel_ms, w.scan_channel_ms);
	assert_int_equal(w.scan_channel_ms, ESPAT_WORLD_SCAN_MS);
	for (size_t i = 0; i < w.nap; i++) {
		expect_same_ap(&w.ap[i], &w2.ap[i]);
		assert_int_equal(espat_world_check(&w.ap[i], &err), 0);
	}
	const struct espat_world_ap *e = ap_of(&w, "espat");
	assert_int_equal(e->bss.ecn, ESPAT_ECN_WPA2_PSK);
	assert_int_equal(e->bss.channel, 6);
	assert_int_equal(e->bss.rssi, -42);
	assert_true(e->bss.wps);
	assert_true(e->net.to_host);
	assert_int_equal(ap_of(&w, "home")->bss.ecn, ESPAT_ECN_WPA_WPA2_PSK);
	assert_int_equal(ap_of(&w, "cafe")->bss.ecn, ESPAT_ECN_OPEN);
	assert_int_equal(ap_of(&w, "office")->eap_methods, 0x6);
	assert_int_equal(ap_of(&w, "wpa3")->bss.channel, 13);
	assert_true(ap_of(&w, "wpa3")->bss.pmf_required);
	/* the devices on the pins */
	const struct espat_sim_periph *a = &w.periph, *b = &w2.periph;
	assert_int_equal(a->ni2c, 2);
	assert_int_equal(b->ni2c, a->ni2c);
	for (size_t i = 0; i < a->ni2c; i++) {
		assert_string_equal(a->i2c[i].label, b->i2c[i].label);
		assert_int_equal(a->i2c[i].addr, b->i2c[i].addr);
		assert_int_equal(a->i2c[i].kind, b->i2c[i].kind);
		assert_int_equal(a->i2c[i].size, b->i2c[i].size);
		assert_memory_equal(a->i2c[i].mem, b->i2c[i].mem, a->i2c[i].size);
	}
	assert_int_equal(a->i2c[1].mem[0x0f], 0x1a);
	assert_true(a->spi.present && b->spi.present);
	assert_int_equal(a->spi.size, b->spi.size);
	assert_memory_equal(a->spi.mem, b->spi.mem, a->spi.size);
	assert_memory_equal(a->adc_mv, b->adc_mv, sizeof(a->adc_mv));
	assert_int_equal(a->adc_mv[0], 1200);
}

/* ---- the radio port ---------------------------------------------------- */

static const char radio_world[] = "[ap c11]\nssid=eleven\nchannel=11\n"
                                  "[ap c1]\nssid=one\nchannel=1\n"
                                  "[ap hid]\nssid=secret\nchannel=6\nhidden=yes\n"
                                  "[ap down]\nssid=off\nchannel=1\nup=no\n"
                                  "[ap c1b]\nssid=one-b\nchannel=1\n";

static void scan_order(void **state)
{
	parse_ok(&w, radio_world);
	struct espat_radio r = espat_world_radio(&w);
	struct espat_bss b[8];
	assert_int_equal(r.scan(r.user, b, 8), 4);
	static const char *const want[] = {"one", "one-b", "", "eleven"};
	static const uint8_t ch[] = {1, 1, 6, 11};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(b[i].ssid_len, strlen(want[i]));
		assert_memory_equal(b[i].ssid, want[i], b[i].ssid_len);
		assert_int_equal(b[i].channel, ch[i]);
	}
	/* the hidden AP's SSID is found by id */
	struct espat_bss one;
	assert_true(r.find(r.user, b[2].id, &one));
	assert_int_equal(one.ssid_len, 6);
	assert_memory_equal(one.ssid, "secret", 6);
	/* max bounds what is written, not what is counted */
	memset(b, 0xee, sizeof(b));
	assert_int_equal(r.scan(r.user, b, 1), 4);
	assert_int_equal(b[1].channel, 0xee);
	assert_int_equal(r.scan(r.user, NULL, 0), 4);
	/* a down AP is not found */
	assert_false(r.find(r.user, ap_of(&w, "down")->bss.id, &one));
	assert_false(r.find(r.user, 999, &one));
	assert_int_equal(r.scan_channel_ms(r.user), ESPAT_WORLD_SCAN_MS);
}

static const char auth_world[] =
    "[ap open]\nssid=o\n"
    "[ap owe]\nssid=w\nsecurity=owe\n"
    "[ap wep]\nssid=e\nsecurity=wep\npassword=abcde\n"
    "[ap wpa]\nssid=a\nsecurity=wpa\npassword=wpa-pass\n"
    "[ap wpa2]\nssid=b\nsecurity=wpa2\npassword=wpa2-pass\n"
    "[ap mixed]\nssid=c\nsecurity=wpa-wpa2\npassword=mixed-pass\n"
    "[ap wpa3]\nssid=d\nsecurity=wpa3\npassword=wpa3-pass\n"
    "[ap trans]\nssid=f\nsecurity=wpa2-wpa3\npassword=trans-pass\n"
    "[ap wapi]\nssid=g\nsecurity=wapi\npassword=wapi-pass\n"
    "[ap ent]\nssid=h\nsecurity=wpa2-enterprise\neap_methods=peap,tls\n"
    "eap_identity=me\neap_username=u\neap_password=p\n"
    "[ap anyid]\nssid=i\nsecurity=wpa2-enterprise\neap_methods=ttls\n"
    "eap_username=u\neap_password=p\n"
    "[ap off]\nssid=j\nup=no\n";

static enum espat_auth auth(const char *label, const char *pwd, const struct espat_eap_cred *eap)
{
	struct espat_radio r = espat_world_radio(&w);
	static const uint8_t mac[6] = {0x24, 0x0a, 0xc4, 0, 0, 1};
	struct espat_ipnet net;
	struct espat_world_ap *ap = espat_world_find(&w, label);
	uint32_t id = ap ? ap->bss.id : 12345;
	return r.auth(r.user, id, mac, (const uint8_t *)pwd, strlen(pwd), eap, &net);
}

static struct espat_eap_cred cred(uint8_t method, const char *id, const char *user, const char *pwd)
{
	struct espat_eap_cred c;
	memset(&c, 0, sizeof(c));
	c.method = method;
	snprintf(c.identity, sizeof(c.identity), "%s", id);
	snprintf(c.username, sizeof(c.username), "%s", user);
	snprintf(c.password, sizeof(c.password), "%s", pwd);
	return c;
}

static void auth_every_security(void **state)
{
	parse_ok(&w, auth_world);
	assert_int_equal(auth("open", "", NULL), ESPAT_AUTH_OK);
	assert_int_equal(auth("open", "whatever", NULL), ESPAT_AUTH_OK);
	assert_int_equal(auth("owe", "whatever", NULL), ESPAT_AUTH_OK);
	static const struct {
		const char *label, *pwd;
	} psk[] = {{"wep", "abcde"},        {"wpa", "wpa-pass"},   {"wpa2", "wpa2-pass"},
	           {"mixed", "mixed-pass"}, {"wpa3", "wpa3-pass"}, {"trans", "trans-pass"},
	           {"wapi", "wapi-pass"}};
	for (size_t i = 0; i < sizeof(psk) / sizeof(psk[0]); i++) {
		char longer[80];
		snprintf(longer, sizeof(longer), "%sX", psk[i].pwd);
		assert_int_equal(auth(psk[i].label, psk[i].pwd, NULL), ESPAT_AUTH_OK);
		assert_int_equal(auth(psk[i].label, "", NULL), ESPAT_AUTH_WRONG_KEY);
		assert_int_equal(auth(psk[i].label, longer, NULL), ESPAT_AUTH_WRONG_KEY);
		longer[strlen(longer) - 2] = '\0';
		assert_int_equal(auth(psk[i].label, longer, NULL), ESPAT_AUTH_WRONG_KEY);
	}
	struct espat_eap_cred c = cred(1, "me", "u", "p");
	assert_int_equal(auth("ent", "", NULL), ESPAT_AUTH_WRONG_KEY);
	assert_int_equal(auth("ent", "", &c), ESPAT_AUTH_OK);
	c = cred(0, "me", "", ""); /* TLS: no username/password */
	assert_int_equal(auth("ent", "", &c), ESPAT_AUTH_OK);
	c = cred(2, "me", "u", "p"); /* TTLS not offered */
	assert_int_equal(auth("ent", "", &c), ESPAT_AUTH_REJECTED);
	c = cred(1, "you", "u", "p");
	assert_int_equal(auth("ent", "", &c), ESPAT_AUTH_REJECTED);
	c = cred(1, "me", "u", "q");
	assert_int_equal(auth("ent", "", &c), ESPAT_AUTH_REJECTED);
	c = cred(1, "me", "v", "p");
	assert_int_equal(auth("ent", "", &c), ESPAT_AUTH_REJECTED);
	c = cred(7, "me", "u", "p");
	assert_int_equal(auth("ent", "", &c), ESPAT_AUTH_REJECTED);
	c = cred(2, "anyone", "u", "p");
	assert_int_equal(auth("anyid", "", &c), ESPAT_AUTH_OK);
	/* EAP to a PSK or open AP */
	assert_int_equal(auth("wpa2", "wpa2-pass", &c), ESPAT_AUTH_REJECTED);
	assert_int_equal(auth("open", "", &c), ESPAT_AUTH_REJECTED);
	/* gone: down or absent */
	assert_int_equal(auth("off", "", NULL), ESPAT_AUTH_GONE);
	assert_int_equal(auth("absent", "", NULL), ESPAT_AUTH_GONE);
}

static void leases(void **state)
{
	parse_ok(&w, "[ap a]\nssid=x\nsubnet=10.9.0.0/16\npool_start=10.9.1.0\npool_size=1000\n"
	             "[ap one]\nssid=y\npool_size=1\n");
	struct espat_radio r = espat_world_radio(&w);
	uint32_t id = ap_of(&w, "a")->bss.id;
	uint32_t seen[32];
	size_t distinct = 0;
	for (uint8_t i = 0; i < 32; i++) {
		const uint8_t mac[6] = {0x24, 0x0a, 0xc4, 0x12, 0x34, i};
		struct espat_ipnet n1, n2;
		assert_int_equal(r.auth(r.user, id, mac, NULL, 0, NULL, &n1), ESPAT_AUTH_OK);
		assert_int_equal(r.auth(r.user, id, mac, NULL, 0, NULL, &n2), ESPAT_AUTH_OK);
		assert_int_equal(n1.ip, n2.ip); /* stable */
		assert_true(n1.ip >= IP4(10, 9, 1, 0) && n1.ip < IP4(10, 9, 1, 0) + 1000);
		assert_int_equal(n1.mask, IP4(255, 255, 0, 0));
		assert_int_equal(n1.gw, IP4(10, 9, 0, 1));
		assert_int_equal(n1.lease_s, 7200);
		bool dup = false;
		for (size_t k = 0; k < distinct; k++)
			dup |= seen[k] == n1.ip;
		if (!dup)
			seen[distinct++] = n1.ip;
	}
	assert_true(distinct >= 28); /* 32 MACs into 1000 addresses */
	/* a pool of one: everyone gets the same address */
	const uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
	struct espat_ipnet n;
	assert_int_equal(r.auth(r.user, ap_of(&w, "one")->bss.id, mac, NULL, 0, NULL, &n),
	                 ESPAT_AUTH_OK);
	assert_int_equal(n.ip, IP4(192, 168, 3, 100));
}

static void wps_window(void **state)
{
	parse_ok(&w, "[ap a]\nssid=alpha\nsecurity=wpa2\npassword=alpha-pass\nwps=yes\n"
	             "[ap b]\nssid=beta\nwps=yes\n");
	struct espat_radio r = espat_world_radio(&w);
	struct espat_prov p;
	struct espat_world_ap *a = ap_of(&w, "a"), *b = ap_of(&w, "b");
	assert_int_equal(r.wps(r.user, 5000, &p), 0);
	a->wps_pressed_ms = 1000;
	assert_int_equal(r.wps(r.user, 999, &p), 0); /* pressed in the future */
	memset(&p, 0xee, sizeof(p));
	assert_int_equal(r.wps(r.user, 1000, &p), 1);
	assert_int_equal(p.ap_id, a->bss.id);
	assert_int_equal(p.ssid_len, 5);
	assert_memory_equal(p.ssid, "alpha", 5);
	assert_int_equal(p.pwd_len, 10);
	assert_memory_equal(p.pwd, "alpha-pass", 10);
	assert_true(p.has_bssid);
	assert_memory_equal(p.bssid, a->bss.bssid, 6);
	assert_int_equal(p.rvd_len, 0);
	assert_int_equal(r.wps(r.user, 1000 + ESPAT_WPS_WINDOW_MS - 1, &p), 1);
	assert_int_equal(r.wps(r.user, 1000 + ESPAT_WPS_WINDOW_MS, &p), 0);
	/* two routers pressed: an overlap; the first is reported */
	b->wps_pressed_ms = 2000;
	assert_int_equal(r.wps(r.user, 3000, &p), 2);
	assert_int_equal(p.ap_id, a->bss.id);
	/* a router switched off does not count */
	a->up = false;
	assert_int_equal(r.wps(r.user, 3000, &p), 1);
	assert_int_equal(p.ap_id, b->bss.id);
}

static void smartconfig_mask(void **state)
{
	espat_world_init(&w);
	struct espat_radio r = espat_world_radio(&w);
	struct espat_prov p;
	assert_false(r.smartconfig(r.user, 0xff, &p));
	w.sc.active = true;
	w.sc.prov.type = 2; /* AirKiss */
	memcpy(w.sc.prov.ssid, "phone", 5);
	w.sc.prov.ssid_len = 5;
	assert_false(r.smartconfig(r.user, 1u << 1, &p));
	assert_false(r.smartconfig(r.user, 1u << 4, &p));
	assert_true(r.smartconfig(r.user, 1u << 2, &p));
	assert_int_equal(p.ssid_len, 5);
	assert_true(r.smartconfig(r.user, (1u << 1) | (1u << 2), &p)); /* still broadcasting */
	w.sc.prov.type = 40; /* nonsense type: never matches */
	assert_false(r.smartconfig(r.user, 0xffffffffu, &p));
	w.sc.prov.type = 4;
	w.sc.active = false;
	assert_false(r.smartconfig(r.user, 1u << 4, &p));
}

static void remove_keeps_ids(void **state)
{
	struct espat_world_err err;
	parse_ok(&w, "[ap a]\nssid=a\n[ap b]\nssid=b\n[ap c]\nssid=c\n");
	assert_true(espat_world_remove(&w, "b"));
	assert_false(espat_world_remove(&w, "b"));
	assert_int_equal(w.nap, 2);
	assert_string_equal(w.ap[1].label, "c");
	assert_int_equal(w.ap[1].bss.id, 3);
	struct espat_world_ap *b = espat_world_add(&w, "b", &err);
	assert_non_null(b);
	assert_int_equal(b->bss.id, 4); /* never reused */
	struct espat_radio r = espat_world_radio(&w);
	struct espat_bss bss;
	assert_false(r.find(r.user, 2, &bss));
	assert_true(r.find(r.user, 4, &bss));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(file_every_key),
	    cmocka_unit_test(file_details),
	    cmocka_unit_test(file_errors),
	    cmocka_unit_test(load_file),
	    cmocka_unit_test(set_keys),
	    cmocka_unit_test(unescape_api),
	    cmocka_unit_test(describe_roundtrip),
	    cmocka_unit_test(default_world_matches_example),
	    cmocka_unit_test(scan_order),
	    cmocka_unit_test(auth_every_security),
	    cmocka_unit_test(leases),
	    cmocka_unit_test(wps_window),
	    cmocka_unit_test(smartconfig_mask),
	    cmocka_unit_test(remove_keeps_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
