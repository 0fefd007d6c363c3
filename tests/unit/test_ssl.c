/* The SSL family (src/cmd/tcpip_ssl.c) on the test port: the AT+CIPSSLC*
 * settings per link ID and for all links, what AT+SYSSTORE saves, and the
 * PKI lookups in the manufacturing NVS with their NO ... FOUND messages.
 * An SSL link that gets past the PKI checks dials a port nobody serves on
 * the in-memory network (whose TLS is only a stand-in): ERROR, and the
 * module goes on. TLS sessions themselves are tested end to end
 * (tests/e2e/test_ssl.py).
 * The decisions pinned here are docs/COMPAT.md #81-92. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "module_fixture.h"

#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"
#define OK "\r\nOK\r\n"

/* Station mode, joined to the default world's "espat" (network = host). */
static void join(struct fx *f)
{
	cmd(f, "AT+CWMODE=1\r\n", OK);
	send(f, "AT+CWJAP=\"espat\",\"espatpass\"\r\n");
	advance(f, 3000);
	expect(f, "WIFI CONNECTED\r\nWIFI GOT IP\r\n" OK);
}

static void test_cconf(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+SYSLOG=1\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,0,0,0\r\n" OK);
	/* single connection: link 0 implied, omitted indexes are 0 */
	cmd(f, "AT+CIPSSLCCONF=3\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,3,0,0\r\n" OK);
	cmd(f, "AT+CIPSSLCCONF=2,,1\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,2,0,1\r\n" OK);
	cmd(f, "AT+CIPSSLCCONF=1,1\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,1,1,0\r\n" OK);
	/* multiple connections: one line per link ID; 5 = every link */
	cmd(f, "AT+CIPMUX=1\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF=5,0\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF=2,3,1,1\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF?\r\n",
	    "+CIPSSLCCONF:0,0,0,0\r\n+CIPSSLCCONF:1,0,0,0\r\n+CIPSSLCCONF:2,3,1,1\r\n"
	    "+CIPSSLCCONF:3,0,0,0\r\n+CIPSSLCCONF:4,0,0,0\r\n" OK);
	/* bad input loses nothing */
	cmd(f, "AT+CIPSSLCCONF=2,4\r\n", ERR("0x01070001"));
	cmd(f, "AT+CIPSSLCCONF=6,1\r\n", ERR("0x01070000"));
	cmd(f, "AT+CIPSSLCCONF=2,1,256\r\n", ERR("0x01070002"));
	cmd(f, "AT+CIPSSLCCONF=2\r\n", ERR("0x01070001"));
	cmd(f, "AT+CIPSSLCCONF=2,\"1\"\r\n", ERR("0x01070001"));
	cmd(f, "AT+CIPSSLCCONF=2,1,0,0,0\r\n", ERR("0x01060405"));
	cmd(f, "AT+CIPSSLCCONF?\r\n",
	    "+CIPSSLCCONF:0,0,0,0\r\n+CIPSSLCCONF:1,0,0,0\r\n+CIPSSLCCONF:2,3,1,1\r\n"
	    "+CIPSSLCCONF:3,0,0,0\r\n+CIPSSLCCONF:4,0,0,0\r\n" OK);
	/* an index the manufacturing NVS does not hold */
	cmd(f, "AT+CIPSSLCCONF=0,1,2\r\n", "NO CERT FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+CIPSSLCCONF=0,2,0,7\r\n", "NO CA FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+CIPSSLCCONF=0,2,7,0\r\n", OK); /* auth 2 presents no certificate */
}

static void test_names_alpn_psk(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CIPSSLCCN?\r\n", "+CIPSSLCCN:0,\"\"\r\n" OK);
	cmd(f, "AT+CIPSSLCCN=\"espat.local\"\r\n", OK);
	cmd(f, "AT+CIPSSLCCN?\r\n", "+CIPSSLCCN:0,\"espat.local\"\r\n" OK);
	cmd(f, "AT+CIPSSLCSNI=\"a\\,b.example\"\r\n", OK); /* printed raw, as the firmware does */
	cmd(f, "AT+CIPSSLCSNI?\r\n", "+CIPSSLCSNI:0,\"a,b.example\"\r\n" OK);
	/* 64 bytes is the most */
	cmd(f, "AT+CIPSSLCCN=\"0123456789012345678901234567890123456789012345678901234567890123\"\r\n",
	    OK);
	cmd(f, "AT+CIPSSLCCN=\"01234567890123456789012345678901234567890123456789012345678901234\"\r\n",
	    "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCCN=1\r\n", "\r\nERROR\r\n");

	cmd(f, "AT+CIPSSLCALPN?\r\n", "+CIPSSLCALPN:0\r\n" OK);
	cmd(f, "AT+CIPSSLCALPN=3,\"h2\",\"http/1.1\",\"mqtt\"\r\n", OK);
	cmd(f, "AT+CIPSSLCALPN?\r\n", "+CIPSSLCALPN:0,\"h2\",\"http/1.1\",\"mqtt\"\r\n" OK);
	cmd(f, "AT+CIPSSLCALPN=2,\"h2\"\r\n", "\r\nERROR\r\n"); /* counts must match */
	cmd(f, "AT+CIPSSLCALPN=6,\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCALPN=1,\"\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCALPN?\r\n", "+CIPSSLCALPN:0,\"h2\",\"http/1.1\",\"mqtt\"\r\n" OK);
	cmd(f, "AT+CIPSSLCALPN=0\r\n", OK);
	cmd(f, "AT+CIPSSLCALPN?\r\n", "+CIPSSLCALPN:0\r\n" OK);

	cmd(f, "AT+CIPSSLCPSK?\r\n", "+CIPSSLCPSK:0,\"\",\"\"\r\n" OK);
	cmd(f, "AT+CIPSSLCPSK=\"psk\",\"myhint\"\r\n", OK);
	cmd(f, "AT+CIPSSLCPSK?\r\n", "+CIPSSLCPSK:0,\"psk\",\"myhint\"\r\n" OK);
	cmd(f, "AT+CIPSSLCPSKHEX?\r\n", "+CIPSSLCPSKHEX:0,\"70736b\",\"myhint\"\r\n" OK);
	/* the guide's example: the same key in hex */
	cmd(f, "AT+CIPSSLCPSKHEX=\"00ff10\",\"id\"\r\n", OK);
	cmd(f, "AT+CIPSSLCPSKHEX?\r\n", "+CIPSSLCPSKHEX:0,\"00ff10\",\"id\"\r\n" OK);
	cmd(f, "AT+CIPSSLCPSKHEX=\"0g\",\"id\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCPSKHEX=\"abc\",\"id\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCPSK=\"012345678901234567890123456789012\",\"id\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCPSK=\"psk\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCPSKHEX?\r\n", "+CIPSSLCPSKHEX:0,\"00ff10\",\"id\"\r\n" OK);

	/* multiple connections: per link and all links */
	cmd(f, "AT+CIPMUX=1\r\n", OK);
	cmd(f, "AT+CIPSSLCSNI=5,\"all.example\"\r\n", OK);
	cmd(f, "AT+CIPSSLCSNI=4,\"four.example\"\r\n", OK);
	cmd(f, "AT+CIPSSLCSNI?\r\n",
	    "+CIPSSLCSNI:0,\"all.example\"\r\n+CIPSSLCSNI:1,\"all.example\"\r\n"
	    "+CIPSSLCSNI:2,\"all.example\"\r\n+CIPSSLCSNI:3,\"all.example\"\r\n"
	    "+CIPSSLCSNI:4,\"four.example\"\r\n" OK);
	cmd(f, "AT+CIPSSLCALPN=1,1,\"h2\"\r\n", OK);
	cmd(f, "AT+CIPSSLCALPN?\r\n",
	    "+CIPSSLCALPN:0\r\n+CIPSSLCALPN:1,\"h2\"\r\n+CIPSSLCALPN:2\r\n"
	    "+CIPSSLCALPN:3\r\n+CIPSSLCALPN:4\r\n" OK);
	cmd(f, "AT+CIPSSLCPSK=3,\"k\",\"i\"\r\n", OK);
	cmd(f, "AT+CIPSSLCCN=6,\"x\"\r\n", "\r\nERROR\r\n");
	cmd(f, "AT+CIPSSLCCN=\"x\"\r\n", "\r\nERROR\r\n"); /* the link ID is required now */
}

static void test_persistence(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+CIPSSLCCONF=3,1,1\r\n", OK);
	cmd(f, "AT+CIPSSLCCN=\"espat.local\"\r\n", OK);
	cmd(f, "AT+CIPSSLCSNI=\"sni.example\"\r\n", OK);
	cmd(f, "AT+CIPSSLCALPN=2,\"h2\",\"a\\,b\"\r\n", OK);
	cmd(f, "AT+CIPSSLCPSKHEX=\"00ff\",\"i\\\"d\"\r\n", OK);
	fx_power_cycle(f);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,3,1,1\r\n" OK);
	cmd(f, "AT+CIPSSLCCN?\r\n", "+CIPSSLCCN:0,\"espat.local\"\r\n" OK);
	cmd(f, "AT+CIPSSLCSNI?\r\n", "+CIPSSLCSNI:0,\"sni.example\"\r\n" OK);
	cmd(f, "AT+CIPSSLCALPN?\r\n", "+CIPSSLCALPN:0,\"h2\",\"a,b\"\r\n" OK);
	cmd(f, "AT+CIPSSLCPSKHEX?\r\n", "+CIPSSLCPSKHEX:0,\"00ff\",\"i\"d\"\r\n" OK);
	/* AT+SYSSTORE=0: RAM only */
	cmd(f, "AT+SYSSTORE=0\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF=0\r\n", OK);
	cmd(f, "AT+CIPSSLCSNI=\"\"\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,0,0,0\r\n" OK);
	fx_power_cycle(f);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,3,1,1\r\n" OK);
	cmd(f, "AT+CIPSSLCSNI?\r\n", "+CIPSSLCSNI:0,\"sni.example\"\r\n" OK);
	/* AT+RESTORE forgets them */
	send(f, "AT+RESTORE\r\n");
	expect(f, OK);
	advance(f, 1000);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n" OK);
	cmd(f, "AT+CIPSSLCCONF?\r\n", "+CIPSSLCCONF:0,0,0,0\r\n" OK);
	cmd(f, "AT+CIPSSLCALPN?\r\n", "+CIPSSLCALPN:0\r\n" OK);
}

static void test_missing_pki(void **state)
{
	struct fx *f = *state;
	join(f);
	cmd(f, "AT+SYSLOG=1\r\n", OK);
	/* the factory PKI is there: auth 3 passes the checks; nothing listens
	 * at the server's port, so the connect fails */
	cmd(f, "AT+CIPSSLCCONF=3,0,0\r\n", OK);
	send(f, "AT+CIPSTART=\"SSL\",\"127.0.0.1\",8443\r\n");
	advance(f, 100);
	expect(f, ERR("0x010a0000"));
	cmd(f, "AT\r\n", OK);
	/* a piece goes missing after AT+CIPSSLCCONF: AT+CIPSTART says so */
	cmd(f, "AT+SYSMFG=0,\"client_key\",\"client_key.0\"\r\n", OK);
	cmd(f, "AT+CIPSTART=\"SSL\",\"127.0.0.1\",8443\r\n", "NO PRVT_KEY FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+CIPSSLCCONF=1,0\r\n", "NO PRVT_KEY FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG=0,\"client_ca\"\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF=2,0,0\r\n", "NO CA FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG=0,\"client_cert\"\r\n", OK);
	cmd(f, "AT+CIPSTART=\"SSL\",\"127.0.0.1\",8443\r\n", "NO CERT FOUND\r\n" ERR("0x010a0000"));
	/* auth 0 needs nothing */
	cmd(f, "AT+CIPSSLCCONF=0\r\n", OK);
	send(f, "AT+CIPSTART=\"SSL\",\"127.0.0.1\",8443\r\n");
	advance(f, 100);
	expect(f, ERR("0x010a0000"));
	/* a certificate written with AT+SYSMFG under the bare namespace name
	 * counts as index 0 (mfg_nvs.py's name for a lone file) */
	cmd(f, "AT+SYSMFG=2,\"client_ca\",\"client_ca\",8,4\r\n", OK ">");
	cmd(f, "----", OK);
	cmd(f, "AT+CIPSSLCCONF=2,0,0\r\n", OK);
	cmd(f, "AT+CIPSSLCCONF=2,0,1\r\n", "NO CA FOUND\r\n" ERR("0x010a0000"));

	/* the server's PKI */
	cmd(f, "AT+CIPMUX=1\r\n", OK);
	cmd(f, "AT+SYSMFG=0,\"server_ca\"\r\n", OK);
	cmd(f, "AT+CIPSERVER=1,8443,\"SSL\",1\r\n", "NO CA FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG=0,\"server_key\"\r\n", OK);
	cmd(f, "AT+CIPSERVER=1,8443,\"SSL\"\r\n", "NO PRVT_KEY FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+SYSMFG=0,\"server_cert\"\r\n", OK);
	cmd(f, "AT+CIPSERVER=1,8443,\"SSL\"\r\n", "NO CERT FOUND\r\n" ERR("0x010a0000"));
	cmd(f, "AT+CIPSERVER?\r\n", "+CIPSERVER:0\r\n" OK);
	cmd(f, "AT+CIPSERVER=1,8443\r\n", OK);
	cmd(f, "AT+CIPSERVER?\r\n", "+CIPSERVER:1,8443,\"TCP\",0\r\n" OK);
	cmd(f, "AT+CIPSERVER=0\r\n", OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cconf, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_names_alpn_psk, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_persistence, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_missing_pki, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
