/* The Linux bus backend (posix/periph_linux.c) against fake device files:
 * its system calls go through a struct espat_sysio whose open/ioctl/read/
 * write this test implements, so what it asks of i2c-dev, spidev, IIO and
 * the sysfs PWM is checked call by call, without the kernel's modules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <linux/spi/spidev.h>
#include <stdio.h>
#include <string.h>

#include "posix/periph_linux.h"

#define FILES 16

/* The fake kernel: files by path, the last ioctls, what was written. */
struct fake {
	char path[FILES][128];
	int nfiles;
	char log[2048]; /* "path=text;" per write */
	uint8_t i2c_mem[256];
	uint16_t i2c_addr; /* the one device on the fake adapter */
	uint8_t spi_mode, spi_lsb;
	uint32_t spi_speed;
	uint8_t spi_head[16];
	size_t spi_head_len;
	uint8_t spi_tx[64];
	size_t spi_len;
	const char *raw, *scale;
};

static int f_open(void *user, const char *path, int flags)
{
	struct fake *k = user;
	(void)flags;
	if (strstr(path, "missing"))
		return -1;
	snprintf(k->path[k->nfiles], sizeof(k->path[0]), "%s", path);
	return 3 + k->nfiles++;
}

static int f_close(void *user, int fd)
{
	(void)user;
	(void)fd;
	return 0;
}

static const char *pathof(struct fake *k, int fd)
{
	return k->path[fd - 3];
}

static int f_ioctl(void *user, int fd, unsigned long req, void *arg)
{
	struct fake *k = user;
	(void)fd;
	if (req == I2C_RDWR) {
		struct i2c_rdwr_ioctl_data *d = arg;
		for (uint32_t i = 0; i < d->nmsgs; i++) {
			struct i2c_msg *m = &d->msgs[i];
			if (m->addr != k->i2c_addr) {
				errno = ENXIO;
				return -1;
			}
			if (m->flags & I2C_M_RD)
				memcpy(m->buf, k->i2c_mem, m->len);
			else
				memcpy(k->i2c_mem, m->buf, m->len);
		}
		return (int)d->nmsgs;
	}
	if (req == SPI_IOC_WR_MODE) {
		k->spi_mode = *(uint8_t *)arg;
		return 0;
	}
	if (req == SPI_IOC_WR_MAX_SPEED_HZ) {
		k->spi_speed = *(uint32_t *)arg;
		return 0;
	}
	if (req == SPI_IOC_WR_LSB_FIRST) {
		k->spi_lsb = *(uint8_t *)arg;
		return 0;
	}
	if (req == SPI_IOC_MESSAGE(2)) {
		struct spi_ioc_transfer *t = arg;
		k->spi_head_len = t[0].len;
		memcpy(k->spi_head, (const void *)(uintptr_t)t[0].tx_buf, t[0].len);
		k->spi_len = t[1].len;
		if (t[1].tx_buf)
			memcpy(k->spi_tx, (const void *)(uintptr_t)t[1].tx_buf, t[1].len);
		if (t[1].rx_buf)
			memset((void *)(uintptr_t)t[1].rx_buf, 0x01, t[1].len);
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static ssize_t f_read(void *user, int fd, void *buf, size_t n)
{
	struct fake *k = user;
	const char *p = pathof(k, fd);
	const char *text = strstr(p, "_raw") ? k->raw : strstr(p, "_scale") ? k->scale : NULL;
	if (!text) {
		errno = EIO;
		return -1;
	}
	size_t len = strlen(text) < n ? strlen(text) : n;
	memcpy(buf, text, len);
	return (ssize_t)len;
}

static ssize_t f_write(void *user, int fd, const void *buf, size_t n)
{
	struct fake *k = user;
	size_t at = strlen(k->log);
	snprintf(k->log + at, sizeof(k->log) - at, "%s=%.*s;", pathof(k, fd), (int)n,
	         (const char *)buf);
	return (ssize_t)n;
}

static struct espat_periph setup(struct espat_periph_linux *p, struct fake *k,
                                 const struct espat_periph_linux_cfg *cfg)
{
	memset(k, 0, sizeof(*k));
	const struct espat_sysio io = {k, f_open, f_close, f_ioctl, f_read, f_write};
	assert_int_equal(espat_periph_linux_init(p, cfg, &io), 0);
	return espat_periph_linux_port(p);
}

static void test_i2c(void **state)
{
	(void)state;
	struct espat_periph_linux p;
	struct fake k;
	const struct espat_periph_linux_cfg cfg = {.i2c_dev = "/dev/i2c-1"};
	struct espat_periph port = setup(&p, &k, &cfg);
	assert_null(port.spi_xfer); /* only what is mapped */
	assert_null(port.adc_mv);
	k.i2c_addr = 0x50;
	uint8_t out[2] = {0x27, 0xff}, in[2];
	assert_int_equal(port.i2c_xfer(port.user, 0, 0x50, false, out, 2, NULL, 0),
	                 ESPAT_PERIPH_FAIL); /* not open */
	assert_int_equal(port.i2c_open(port.user, 1, 100000), ESPAT_PERIPH_FAIL);
	assert_int_equal(port.i2c_open(port.user, 0, 100000), ESPAT_PERIPH_OK);
	assert_string_equal(k.path[0], "/dev/i2c-1");
	assert_int_equal(port.i2c_xfer(port.user, 0, 0x50, false, out, 2, NULL, 0), 0);
	assert_int_equal(port.i2c_xfer(port.user, 0, 0x50, false, NULL, 0, in, 2), 0);
	assert_memory_equal(in, out, 2);
	assert_int_equal(port.i2c_xfer(port.user, 0, 0x51, false, NULL, 0, in, 1),
	                 ESPAT_PERIPH_NACK);
	port.i2c_close(port.user, 0);
	espat_periph_linux_free(&p);

	const struct espat_periph_linux_cfg bad = {.i2c_dev = "/dev/missing"};
	port = setup(&p, &k, &bad);
	assert_int_equal(port.i2c_open(port.user, 0, 100000), ESPAT_PERIPH_FAIL);
	espat_periph_linux_free(&p);
}

static void test_spi(void **state)
{
	(void)state;
	struct espat_periph_linux p;
	struct fake k;
	const struct espat_periph_linux_cfg cfg = {.spi_dev = "/dev/spidev0.0"};
	struct espat_periph port = setup(&p, &k, &cfg);
	struct espat_spi_cfg c = {.clock_hz = 1000000, .mode = 3, .tx_lsb_first = true};
	assert_int_equal(port.spi_open(port.user, &c), 0);
	assert_int_equal(k.spi_mode, 3);
	assert_int_equal(k.spi_speed, 1000000);
	assert_int_equal(k.spi_lsb, 0); /* one direction only: done in software */
	uint8_t data[2] = {0x01, 0x80};
	struct espat_spi_xfer x = {
	    .cmd = 0x02, .cmd_bits = 8, .addr = 0x001000, .addr_bits = 24, .tx = data, .len = 2};
	assert_int_equal(port.spi_xfer(port.user, &x), 0);
	assert_int_equal(k.spi_head_len, 4);
	assert_memory_equal(k.spi_head, "\x02\x00\x10\x00", 4);
	assert_memory_equal(k.spi_tx, "\x80\x01", 2); /* LSB first */
	uint8_t rx[3];
	struct espat_spi_xfer r = {
	    .cmd = 0x03, .cmd_bits = 8, .addr = 7, .addr_bits = 8, .rx = rx, .len = 3};
	assert_int_equal(port.spi_xfer(port.user, &r), 0);
	assert_memory_equal(rx, "\x01\x01\x01", 3); /* MSB first in */
	port.spi_close(port.user);
	espat_periph_linux_free(&p);
}

static void test_adc_pwm(void **state)
{
	(void)state;
	struct espat_periph_linux p;
	struct fake k;
	const struct espat_periph_linux_cfg cfg = {.iio_dir = "/iio", .pwm_chip = "/pwm"};
	struct espat_periph port = setup(&p, &k, &cfg);
	uint32_t mv = 0;
	k.raw = "2048\n";
	k.scale = "0.805664062\n";
	assert_int_equal(port.adc_mv(port.user, 2, &mv), 0);
	assert_int_equal(mv, 1650);
	assert_string_equal(k.path[0], "/iio/in_voltage2_raw");
	k.raw = "junk";
	assert_int_equal(port.adc_mv(port.user, 2, &mv), ESPAT_PERIPH_FAIL);
	/* 5 kHz, 13 bits, duty 4096: half of a 200 us period */
	assert_int_equal(port.pwm_set(port.user, 1, 17, 5000, 13, 4096), 0);
	assert_string_equal(k.log, "/pwm/export=1;/pwm/pwm1/duty_cycle=0;/pwm/pwm1/period=200000;"
	                           "/pwm/pwm1/duty_cycle=100000;/pwm/pwm1/enable=1;");
	k.log[0] = '\0';
	port.pwm_stop(port.user, 1);
	assert_string_equal(k.log, "/pwm/pwm1/enable=0;");
	k.log[0] = '\0';
	espat_periph_linux_free(&p);
	assert_string_equal(k.log, "/pwm/pwm1/enable=0;");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_i2c),
	    cmocka_unit_test(test_spi),
	    cmocka_unit_test(test_adc_pwm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
