/* The driver commands (3.11) and AT+FACTPLCP (3.9) on the test port, whose
 * periph port is the default world's simulated bus (world/periph.h): the
 * test attaches devices to it and reads back what the commands did. Every
 * expectation is the exact byte output, under AT+SYSLOG=1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/drv.h"
#include "cmd/sig.h"

#include "module_fixture.h"

#define OK "\r\nOK\r\n"
#define ERR(code) "ERR CODE:" code "\r\n\r\nERROR\r\n"
#define EXEC_ERR ERR("0x010a0000")

static struct espat_sim_periph *bus(struct fx *f)
{
	return &f->tp.world.periph;
}

static struct espat_sim_i2c *attach(struct fx *f, const char *label, const char *const *kv,
                                    size_t n)
{
	struct espat_world_err e;
	struct espat_sim_i2c *d = espat_sim_i2c_add(bus(f), label, &e);
	assert_non_null(d);
	for (size_t i = 0; i < n; i += 2)
		assert_int_equal(espat_sim_i2c_set(d, kv[i], kv[i + 1], &e), 0);
	return d;
}

/* The default world's devices go: each test attaches its own. */
static int setup(void **state)
{
	fx_setup(state);
	struct fx *f = *state;
	bus(f)->ni2c = 0;
	bus(f)->spi.present = false;
	memset(bus(f)->adc_mv, 0, sizeof(bus(f)->adc_mv));
	cmd(f, "AT+SYSLOG=1\r\n", OK);
	return 0;
}

/* ---- ADC ---------------------------------------------------------------- */

static void test_adc(void **state)
{
	struct fx *f = *state;
	bus(f)->adc_mv[0] = 375; /* the guide's example: 2048 at 0 dB */
	cmd(f, "AT+DRVADC=0,0\r\n", "+DRVADC:2048\r\n" OK);
	bus(f)->adc_mv[2] = 1300;
	cmd(f, "AT+DRVADC=2,2\r\n", "+DRVADC:4095\r\n" OK);
	cmd(f, "AT+DRVADC=2,3\r\n", "+DRVADC:2129\r\n" OK);
	cmd(f, "AT+DRVADC=2,0\r\n", "+DRVADC:4095\r\n" OK); /* over the range: clipped */
	cmd(f, "AT+DRVADC=4,1\r\n", "+DRVADC:0\r\n" OK);
	cmd(f, "AT+DRVADC=5,0\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVADC=0,4\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVADC=0\r\n", ERR("0x01060201"));
	cmd(f, "AT+DRVADC?\r\n", ERR("0x010c0000"));
}

/* ---- PWM ---------------------------------------------------------------- */

static void test_pwm_init_limits(void **state)
{
	struct fx *f = *state;
	struct espat_sim_periph *b = bus(f);
	cmd(f, "AT+DRVPWMINIT=5000,13,17,16,18,19\r\n", OK);
	assert_true(b->pwm[3].on);
	assert_int_equal(b->pwm[3].gpio, 19);
	assert_int_equal(b->pwm[0].freq_hz, 5000);
	assert_int_equal(b->pwm[0].res, 13);
	/* the LEDC trade-off: 10 kHz << 14 bits is 163.84 MHz > APB's 80 */
	cmd(f, "AT+DRVPWMINIT=10000,14,17\r\n", ERR("0x01070000"));
	/* ... and 1 Hz << 13 is below what the slowest clock divides to */
	cmd(f, "AT+DRVPWMINIT=1,13,17\r\n", ERR("0x01070000"));
	/* the C3's timers count 1..14 bits; the guide's range is 0..20 */
	cmd(f, "AT+DRVPWMINIT=100,15,17\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVPWMINIT=100,0,17\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVPWMINIT=100,21,17\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVPWMINIT=8000001,1,17\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVPWMINIT=1000,10,22\r\n", ERR("0x01070002")); /* no GPIO22 */
	cmd(f, "AT+DRVPWMINIT=1000,10,4,4\r\n", ERR("0x01070003"));
	cmd(f, "AT+DRVPWMINIT=1000,10,4,,5\r\n", ERR("0x01070003"));
	/* a refused init leaves the running one alone */
	assert_int_equal(b->pwm[0].freq_hz, 5000);
	cmd(f, "AT+DRVPWMINIT=10000,10,17\r\n", OK);
	assert_false(b->pwm[1].on);
	assert_int_equal(b->pwm[0].res, 10);
}

static void test_pwm_duty(void **state)
{
	struct fx *f = *state;
	struct espat_sim_periph *b = bus(f);
	cmd(f, "AT+DRVPWMDUTY=1\r\n", EXEC_ERR); /* before init */
	cmd(f, "AT+DRVPWMINIT=5000,13,17,16,18,19\r\n", OK);
	cmd(f, "AT+DRVPWMDUTY=255,512\r\n", OK);
	assert_int_equal(b->pwm[0].duty, 255);
	assert_int_equal(b->pwm[1].duty, 512);
	cmd(f, "AT+DRVPWMDUTY=,,8192\r\n", OK); /* 2^13: always high */
	assert_int_equal(b->pwm[0].duty, 255);
	assert_int_equal(b->pwm[2].duty, 8192);
	cmd(f, "AT+DRVPWMDUTY=,,8193\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVPWMINIT=10000,10,17\r\n", OK);
	cmd(f, "AT+DRVPWMDUTY=1,1\r\n", ERR("0x01070001")); /* one channel only */
	cmd(f, "AT+DRVPWMDUTY=1,1,1,1,1\r\n", ERR("0x01060405"));
}

static void test_pwm_fade(void **state)
{
	struct fx *f = *state;
	struct espat_sim_periph *b = bus(f);
	cmd(f, "AT+DRVPWMFADE=1,1\r\n", EXEC_ERR);
	cmd(f, "AT+DRVPWMINIT=5000,13,17,16\r\n", OK);
	cmd(f, "AT+DRVPWMDUTY=0,4000\r\n", OK);
	cmd(f, "AT+DRVPWMFADE=1024,1000,0,2000,\r\n", OK);
	assert_true(f->m.drv->ch[0].fading);
	advance(f, 500);
	assert_int_equal(espat_drv_pwm_duty(&f->m, 0), 512);
	assert_int_equal(espat_drv_pwm_duty(&f->m, 1), 3000);
	assert_int_equal(b->pwm[0].duty, 512); /* the output moves with it */
	advance(f, 500);
	assert_int_equal(b->pwm[0].duty, 1024);
	assert_false(f->m.drv->ch[0].fading);
	advance(f, 1000);
	assert_int_equal(b->pwm[1].duty, 0);
	assert_false(f->m.drv->ch[1].fading);
	/* the target's range is [0, 2^res - 1]; pairs are whole */
	cmd(f, "AT+DRVPWMFADE=8192,10\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVPWMFADE=100\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVPWMFADE=,100\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVPWMFADE=,,,,1,1\r\n", ERR("0x01070004")); /* channel 2 has no GPIO */
	/* the guide's example: channel 1 to 0 in a second; a duty stops a fade */
	cmd(f, "AT+DRVPWMFADE=,,4000,1000\r\n", OK);
	advance(f, 100);
	cmd(f, "AT+DRVPWMDUTY=,7\r\n", OK);
	advance(f, 2000);
	assert_int_equal(b->pwm[1].duty, 7);
}

/* ---- I2C ---------------------------------------------------------------- */

static void test_i2c_init(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+DRVI2CRD=0,0x50,1\r\n", EXEC_ERR);                /* before init */
	cmd(f, "AT+DRVI2CINIT=1,4,5,100000\r\n", ERR("0x01070000")); /* one controller */
	cmd(f, "AT+DRVI2CINIT=0,25,26,1000\r\n", ERR("0x01070001")); /* the guide's ESP32 pins */
	cmd(f, "AT+DRVI2CINIT=0,4,4,1000\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVI2CINIT=0,4,5,1000001\r\n", ERR("0x01070003"));
	cmd(f, "AT+DRVI2CINIT=0,4,5\r\n", ERR("0x01060403"));
	cmd(f, "AT+DRVI2CINIT=0,4,5,1000\r\n", OK);
	assert_true(bus(f)->i2c_open);
	cmd(f, "AT+DRVI2CINIT=0,4,5,1000\r\n", EXEC_ERR); /* installed already */
	cmd(f, "AT+DRVI2CINIT=0\r\n", OK);
	assert_false(bus(f)->i2c_open);
	cmd(f, "AT+DRVI2CINIT=0\r\n", OK);
}

static void test_i2c_eeprom(void **state)
{
	struct fx *f = *state;
	static const char *const kv[] = {"addr", "0x50", "size", "1024"};
	struct espat_sim_i2c *d = attach(f, "ee", kv, 4);
	cmd(f, "AT+DRVI2CINIT=0,4,5,400000\r\n", OK);
	/* two address bytes (a 1 KiB part), then data */
	cmd(f, "AT+DRVI2CWRDATA=0,0x50,6\r\n", OK ">");
	send(f, "\x01\x02hey!");
	expect(f, OK);
	assert_memory_equal(d->mem + 0x102, "hey!", 4);
	cmd(f, "AT+DRVI2CWRBYTES=0,0x50,2,0x0102\r\n", OK);
	cmd(f, "AT+DRVI2CRD=0,0x50,4\r\n", "+DRVI2CRD:68657921\r\n" OK);
	/* reads go on from where the pointer is */
	cmd(f, "AT+DRVI2CRD=0,0x50,1\r\n", "+DRVI2CRD:ff\r\n" OK);
	/* a NACK: nobody at 0x51; the data of WRDATA is taken, then ERROR */
	cmd(f, "AT+DRVI2CRD=0,0x51,1\r\n", EXEC_ERR);
	cmd(f, "AT+DRVI2CWRDATA=0,0x51,2\r\n", OK ">");
	send(f, "ab");
	expect(f, EXEC_ERR);
	cmd(f, "AT+DRVI2CWRBYTES=0,0x51,1,1\r\n", EXEC_ERR);
	/* ranges */
	cmd(f, "AT+DRVI2CRD=0,0x50,2049\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVI2CRD=0,0x50,0\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVI2CRD=0,0x80,1\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVI2CRD=0,0x7C00,1\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVI2CRD=1,0x50,1\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVI2CWRDATA=0,0x50,2049\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVI2CWRBYTES=0,0x50,5,1\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVI2CWRBYTES=0,0x50,1,0x100\r\n", ERR("0x01070003"));
	cmd(f, "AT+DRVI2CWRBYTES=0,0x50,4,0x100000000\r\n", ERR("0x01070003"));
	cmd(f, "AT\r\n", OK);
}

static void test_i2c_sensor_ten_bit(void **state)
{
	struct fx *f = *state;
	static const char *const sensor[] = {"addr", "0x34", "type", "sensor"};
	static const char *const far[] = {"addr", "0x2ff", "size", "64"};
	struct espat_sim_i2c *s = attach(f, "sensor", sensor, 4);
	struct espat_sim_i2c *t = attach(f, "far", far, 4);
	s->mem[0x27] = 0x12;
	s->mem[0x28] = 0x34;
	cmd(f, "AT+DRVI2CINIT=0,4,5,100000\r\n", OK);
	/* the guide's register idiom */
	cmd(f, "AT+DRVI2CWRBYTES=0,0x34,1,0x27\r\n", OK);
	cmd(f, "AT+DRVI2CRD=0,0x34,2\r\n", "+DRVI2CRD:1234\r\n" OK);
	cmd(f, "AT+DRVI2CWRBYTES=0,0x34,2,0x27FF\r\n", OK);
	assert_int_equal(s->mem[0x27], 0xff);
	/* 0x7AFF is the 10-bit address 0x2FF; 7-bit 0x7F is another device */
	cmd(f, "AT+DRVI2CWRBYTES=0,0x7AFF,2,0x1234\r\n", OK);
	assert_int_equal(t->mem[0x12], 0x34);
	cmd(f, "AT+DRVI2CWRBYTES=0,0x7AFF,1,0x12\r\n", OK);
	cmd(f, "AT+DRVI2CRD=0,0x7AFF,1\r\n", "+DRVI2CRD:34\r\n" OK);
	cmd(f, "AT+DRVI2CRD=0,0x7F,1\r\n", EXEC_ERR);
}

/* ---- SPI ---------------------------------------------------------------- */

static void test_spi(void **state)
{
	struct fx *f = *state;
	struct espat_sim_spi *d = &bus(f)->spi;
	d->present = true;
	d->size = 256;
	memset(d->mem, 0, sizeof(d->mem));
	memcpy(d->mem + 0x10, "\xca\xfe", 2);
	cmd(f, "AT+DRVSPIRD=2\r\n", EXEC_ERR);                  /* before init */
	cmd(f, "AT+DRVSPIINIT=102400,0,0,0,0,3\r\n", EXEC_ERR); /* pins first */
	cmd(f, "AT+DRVSPICONFGPIO=7,2,6,10\r\n", OK);
	cmd(f, "AT+DRVSPICONFGPIO=7,-1,7,-1\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVSPICONFGPIO=-1,2,6,10\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVSPIINIT=40000001,0,0,0,0\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVSPIINIT=1000000,4,0,0,0\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVSPIINIT=1000000,0,0,0\r\n", ERR("0x01060504"));
	cmd(f, "AT+DRVSPIINIT=1000000,0,8,24,1\r\n", OK);
	cmd(f, "AT+DRVSPICONFGPIO=7,2,6,10\r\n", EXEC_ERR); /* the driver holds them */
	/* no command the memory knows: MISO stays high (the guide's "ffff") */
	cmd(f, "AT+DRVSPIRD=2\r\n", "+DRVSPIRD:ffff\r\n" OK);
	cmd(f, "AT+DRVSPIRD=2,0x03,1,0x10,3\r\n", "+DRVSPIRD:cafe\r\n" OK);
	cmd(f, "AT+DRVSPIWR=3,0x02,1,0x20,3\r\n", OK ">");
	send(f, "xyz");
	expect(f, OK);
	assert_memory_equal(d->mem + 0x20, "xyz", 3);
	cmd(f, "AT+DRVSPIWR=0,0x03,1,0x001000,3\r\n", OK);
	send(f, "AT+DRVSPIRD=4092\r\n"); /* the most, with DMA */
	assert_int_equal(f->tp.out_len, strlen("+DRVSPIRD:\r\n" OK) + 2 * 4092);
	espat_tp_clear(&f->tp);
	cmd(f, "AT+DRVSPIRD=4093\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVSPIRD=0\r\n", ERR("0x01070000"));
	cmd(f, "AT+DRVSPIRD=1,0x3,1\r\n", "+DRVSPIRD:ff\r\n" OK); /* no address: not a read */
	cmd(f, "AT+DRVSPIRD=1,0x3\r\n", ERR("0x01070002"));
	cmd(f, "AT+DRVSPIRD=1,0x300,1\r\n", ERR("0x01070001"));
	cmd(f, "AT+DRVSPIRD=1,0x3,3\r\n", ERR("0x01070002"));
	/* without DMA, 64 bytes at most */
	cmd(f, "AT+DRVSPIINIT=0\r\n", OK);
	cmd(f, "AT+DRVSPIINIT=102400,0,0,0,0,3\r\n", OK);
	cmd(f, "AT+DRVSPIRD=65\r\n", ERR("0x01070000"));
	/* LSB first both ways: the byte on the wire is reversed */
	memcpy(d->mem + 0x10, "\x01", 1);
	cmd(f, "AT+DRVSPIRD=1,0x03,1,0x10,3\r\n", "+DRVSPIRD:80\r\n" OK);
	cmd(f, "AT+DRVSPIINIT=0\r\n", OK);
	assert_false(bus(f)->spi_open);
}

/* ---- AT+FACTPLCP, restart ------------------------------------------------ */

static void test_factplcp(void **state)
{
	struct fx *f = *state;
	assert_false(espat_sig_plcp_long(&f->m));
	cmd(f, "AT+FACTPLCP=1,1\r\n", OK);
	assert_true(espat_sig_plcp_long(&f->m));
	cmd(f, "AT+FACTPLCP=0,1\r\n", OK); /* manual off: the default, short */
	assert_false(espat_sig_plcp_long(&f->m));
	assert_false(espat_sig_plcp_manual(&f->m));
	cmd(f, "AT+FACTPLCP=1,0\r\n", OK);
	assert_true(espat_sig_plcp_manual(&f->m));
	assert_false(espat_sig_plcp_long(&f->m));
	cmd(f, "AT+FACTPLCP=2,0\r\n", ERR("0x01070000"));
	cmd(f, "AT+FACTPLCP=1\r\n", ERR("0x01060201"));
	cmd(f, "AT+FACTPLCP?\r\n", ERR("0x010c0000"));
	cmd(f, "AT+FACTPLCP=1,1\r\n", OK);
	cmd(f, "AT+RST\r\n", OK);
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	assert_false(espat_sig_plcp_long(&f->m));
}

static void test_restart_releases(void **state)
{
	struct fx *f = *state;
	cmd(f, "AT+DRVI2CINIT=0,4,5,1000\r\n", OK);
	cmd(f, "AT+DRVPWMINIT=5000,13,17\r\n", OK);
	cmd(f, "AT+DRVPWMFADE=100,1000\r\n", OK);
	cmd(f, "AT+RST\r\n", OK);
	advance(f, ESPAT_RESTART_MS);
	expect(f, "\r\nready\r\n");
	assert_false(bus(f)->i2c_open);
	assert_false(bus(f)->pwm[0].on);
	cmd(f, "ATE0\r\n", "ATE0\r\n" OK);
	cmd(f, "AT+DRVI2CRD=0,0x50,1\r\n", "\r\nERROR\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_adc, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_pwm_init_limits, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_pwm_duty, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_pwm_fade, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_i2c_init, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_i2c_eeprom, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_i2c_sensor_ten_bit, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_spi, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_factplcp, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_restart_releases, setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
