/* A module on the test port driven line by line with exact-byte checks:
 * the fixture of the command-family unit tests (test_basic_flash.c,
 * test_msgfilter.c). Include after <cmocka.h>. */
#ifndef ESPAT_TEST_MODULE_FIXTURE_H
#define ESPAT_TEST_MODULE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/ble.h"
#include "cmd/module.h"
#include "cmd/ota.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "testport/testport.h"

struct fx {
	struct espat_testport tp;
	struct espat_module m;
};

static inline void sendn(struct fx *f, const void *p, size_t n)
{
	espat_module_input(&f->m, p, n);
}

static inline void send(struct fx *f, const char *s)
{
	sendn(f, s, strlen(s));
}

/* Asserts the output since the last check is exactly want[0..n), then
 * forgets it. */
static inline void expectn(struct fx *f, const char *want, size_t n)
{
	if (f->tp.out_len != n || memcmp(f->tp.out, want, n) != 0) {
		print_error("want %zu bytes: %.*s\ngot %zu bytes: %.*s\n", n, (int)n, want,
			    f->tp.out_len, (int)f->tp.out_len, espat_tp_out(&f->tp));
		fail();
	}
	espat_tp_clear(&f->tp);
}

static inline void expect(struct fx *f, const char *want)
{
	expectn(f, want, strlen(want));
}

/* Sends one command line and checks the whole answer. */
static inline void cmd(struct fx *f, const char *line, const char *want)
{
	send(f, line);
	expect(f, want);
}

/* What a scripted BLE peer of the test port's world sends the module. */
static inline void fx_ble_to_module(void *user, const uint8_t addr[6], const uint8_t *pdu,
                                    size_t len)
{
	espat_ble_att_in(user, addr, pdu, len);
}

/* Powers a module on the (possibly used) test port: consumes "ready" and
 * turns echo off. */
static inline void fx_boot(struct fx *f)
{
	espat_module_init(&f->m, &f->tp.ports, NULL);
	f->tp.world.ble.to_module = fx_ble_to_module;
	f->tp.world.ble.to_module_user = &f->m;
	espat_module_power_on(&f->m);
	expect(f, "\r\nready\r\n");
	cmd(f, "ATE0\r\n", "ATE0\r\n\r\nOK\r\n");
}

/* Power cut: the module goes; the test port (its flash, its world) stays. */
static inline void fx_power_cycle(struct fx *f)
{
	espat_module_free(&f->m);
	fx_boot(f);
}

/* cmocka setup/teardown: a fresh test port with a booted module. */
static inline int fx_setup(void **state)
{
	static struct fx fx;
	espat_tp_init(&fx.tp);
	fx_boot(&fx);
	*state = &fx;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	espat_module_free(&f->m);
	espat_tp_free(&f->tp);
	return 0;
}

/* Advances the clock by ms, firing every timer at its own due time. */
static inline void advance(struct fx *f, uint64_t ms)
{
	espat_tp_advance(&f->tp, &f->m, ms);
}

#endif
