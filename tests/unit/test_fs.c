/* AT+FS and AT+FSMOUNT on the test port's fatfs partition: exact bytes of
 * every operation, the format of a blank partition, bad arguments, and a
 * power cut during the data entry (the file stays as it was). The host's
 * FAT tools check the same in tests/e2e/test_fs.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "module_fixture.h"

#define OKS "\r\nOK\r\n"
#define ERRS "\r\nERROR\r\n"

static int setup(void **state)
{
	return fx_setup(state);
}

static int teardown(void **state)
{
	return fx_teardown(state);
}

static void operations(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+FS=0,4,\".\"\r\n", "+FS:\r\n.\r\n..\r\n" OKS);
	send(f, "AT+FS=0,1,\"my file.txt\",0,5\r\n");
	expect(f, ">");
	send(f, "hello");
	expect(f, OKS);
	send(f, "AT+FS=0,1,\"my file.txt\",8,2\r\n");
	expect(f, ">");
	send(f, "!!");
	expect(f, OKS);
	cmd(f, "AT+FS=0,3,\"MY FILE.TXT\"\r\n", "+FS:10\r\n" OKS);
	send(f, "AT+FS=0,2,\"my file.txt\",0,100\r\n");
	expectn(f, "+FS:10,hello\0\0\0!!\r\n" OKS, 25);
	cmd(f, "AT+FS=0,2,\"my file.txt\",9,100\r\n", "+FS:1,!\r\n" OKS);
	cmd(f, "AT+FS=0,2,\"my file.txt\",50,1\r\n", "+FS:0,\r\n" OKS);
	send(f, "AT+FS=0,1,\"B.BIN\",0,1\r\n");
	expect(f, ">");
	send(f, "x");
	expect(f, OKS);
	cmd(f, "AT+FS=0,4,\".\"\r\n", "+FS:\r\n.\r\n..\r\nmy file.txt\r\nB.BIN\r\n" OKS);
	cmd(f, "AT+FS=0,0,\"my file.txt\"\r\n", OKS);
	cmd(f, "AT+FS=0,0,\"my file.txt\"\r\n", ERRS);
	cmd(f, "AT+FS=0,4,\".\"\r\n", "+FS:\r\n.\r\n..\r\nB.BIN\r\n" OKS);
	cmd(f, "AT+FSMOUNT=0\r\n", OKS);
	cmd(f, "AT+FSMOUNT=0\r\n", OKS);
	cmd(f, "AT+FSMOUNT=1\r\n", OKS);
	cmd(f, "AT+FS=0,3,\"B.BIN\"\r\n", "+FS:1\r\n" OKS);
	/* the volume outlives the module */
	fx_power_cycle(f);
	cmd(f, "AT+FS=0,2,\"b.bin\",0,1\r\n", "+FS:1,x\r\n" OKS);
}

static void bad_arguments(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
	    "AT+FS=1,4,\".\"\r\n",          "AT+FS=0,5,\".\"\r\n",
	    "AT+FS=0,4,\"..\"\r\n",         "AT+FS=0,3,\"../x\"\r\n",
	    "AT+FS=0,3,\"a/b\"\r\n",        "AT+FS=0,2,\"a\"\r\n",
	    "AT+FS=0,3,\"a\",0,1\r\n",      "AT+FS=0,1,\"a\",0,0\r\n",
	    "AT+FS=0,1,\"a\",0,200000\r\n", "AT+FS=0,3,\"missing\"\r\n",
	    "AT+FSMOUNT=2\r\n",             "AT+FSMOUNT?\r\n",
	    "AT+FS\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send(f, bad[i]);
		const char *out = espat_tp_out(&f->tp);
		size_t n = f->tp.out_len;
		if (n < 9 || memcmp(out + n - 9, ERRS, 9) != 0) {
			print_error("%s-> %.*s\n", bad[i], (int)n, out);
			fail();
		}
		espat_tp_clear(&f->tp);
	}
}

static void power_cut_in_entry(void **state)
{
	struct fx *f = *state;
	send(f, "AT+FS=0,1,\"k\",0,3\r\n");
	expect(f, ">");
	send(f, "old");
	expect(f, OKS);
	send(f, "AT+FS=0,1,\"k\",0,5000\r\n");
	expect(f, ">");
	send(f, "newnewnew");
	fx_power_cycle(f);
	cmd(f, "AT+FS=0,2,\"k\",0,10\r\n", "+FS:3,old\r\n" OKS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(operations, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(power_cut_in_entry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
