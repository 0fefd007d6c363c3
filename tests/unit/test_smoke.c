#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

static void send(struct espat_module *m, const char *s)
{
	espat_module_input(m, (const uint8_t *)s, strlen(s));
}

static void smoke(void **state)
{
	struct espat_testport tp;
	struct espat_module m;
	espat_tp_init(&tp);
	espat_module_init(&m, &tp.ports, NULL);
	espat_module_power_on(&m);
	assert_string_equal(espat_tp_out(&tp), "\r\nready\r\n");
	espat_tp_clear(&tp);
	send(&m, "AT\r\n");
	assert_string_equal(espat_tp_out(&tp), "AT\r\n\r\nOK\r\n");
	espat_module_free(&m);
	espat_tp_free(&tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(smoke)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
