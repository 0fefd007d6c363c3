/* The periph port on the host's buses (posix/periph_linux.h). */
#include "posix/periph_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <linux/spi/spidev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- libc ---------------------------------------------------------------- */

static int libc_open(void *user, const char *path, int flags)
{
	(void)user;
	return open(path, flags | O_CLOEXEC);
}

static int libc_close(void *user, int fd)
{
	(void)user;
	return close(fd);
}

static int libc_ioctl(void *user, int fd, unsigned long req, void *arg)
{
	(void)user;
	return ioctl(fd, req, arg);
}

static ssize_t libc_read(void *user, int fd, void *buf, size_t n)
{
	(void)user;
	return read(fd, buf, n);
}

static ssize_t libc_write(void *user, int fd, const void *buf, size_t n)
{
	(void)user;
	return write(fd, buf, n);
}

struct espat_sysio espat_sysio_libc(void)
{
	return (struct espat_sysio){NULL, libc_open, libc_close, libc_ioctl, libc_read, libc_write};
}

/* ---- helpers ------------------------------------------------------------- */

static int copy_path(char *dst, const char *src)
{
	dst[0] = '\0';
	if (!src)
		return 0;
	size_t n = strlen(src);
	if (n >= ESPAT_PERIPH_PATH_MAX)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Writes text to a sysfs attribute. 0 or -1. */
static int attr_write(struct espat_periph_linux *p, const char *path, const char *text)
{
	int fd = p->io.open(p->io.user, path, O_WRONLY);
	if (fd < 0)
		return -1;
	size_t n = strlen(text);
	ssize_t w = p->io.write(p->io.user, fd, text, n);
	p->io.close(p->io.user, fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* Reads a sysfs attribute as text (NUL-terminated). 0 or -1. */
static int attr_read(struct espat_periph_linux *p, const char *path, char *buf, size_t cap)
{
	int fd = p->io.open(p->io.user, path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t r = p->io.read(p->io.user, fd, buf, cap - 1);
	p->io.close(p->io.user, fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

/* ---- I2C ----------------------------------------------------------------- */

static int i2c_open(void *user, uint8_t bus, uint32_t clock_hz)
{
	struct espat_periph_linux *p = user;
	(void)clock_hz; /* the adapter's clock is the kernel's (device tree) */
	if (bus != 0)
		return ESPAT_PERIPH_FAIL;
	if (p->i2c_fd >= 0)
		return ESPAT_PERIPH_OK;
	p->i2c_fd = p->io.open(p->io.user, p->i2c_dev, O_RDWR);
	return p->i2c_fd >= 0 ? ESPAT_PERIPH_OK : ESPAT_PERIPH_FAIL;
}

static void i2c_close(void *user, uint8_t bus)
{
	struct espat_periph_linux *p = user;
	if (bus == 0 && p->i2c_fd >= 0) {
		p->io.close(p->io.user, p->i2c_fd);
		p->i2c_fd = -1;
	}
}

static int i2c_xfer(void *user, uint8_t bus, uint16_t addr, bool ten_bit, const uint8_t *w,
                    size_t wn, uint8_t *r, size_t rn)
{
	struct espat_periph_linux *p = user;
	if (bus != 0 || p->i2c_fd < 0 || wn > UINT16_MAX || rn > UINT16_MAX)
		return ESPAT_PERIPH_FAIL;
	struct i2c_msg msgs[2];
	uint32_t n = 0;
	uint16_t flags = ten_bit ? I2C_M_TEN : 0;
	if (wn || !rn)
		msgs[n++] = (struct i2c_msg){addr, flags, (uint16_t)wn, (uint8_t *)(uintptr_t)w};
	if (rn)
		msgs[n++] = (struct i2c_msg){addr, (uint16_t)(flags | I2C_M_RD), (uint16_t)rn, r};
	struct i2c_rdwr_ioctl_data d = {msgs, n};
	if (p->io.ioctl(p->io.user, p->i2c_fd, I2C_RDWR, &d) >= 0)
		return ESPAT_PERIPH_OK;
	/* i2c-dev's adapters report an unanswered address as ENXIO (or
	 * EREMOTEIO on some); the rest is the bus failing */
	return errno == ENXIO || errno == EREMOTEIO ? ESPAT_PERIPH_NACK : ESPAT_PERIPH_FAIL;
}

/* ---- SPI ----------------------------------------------------------------- */

static int spi_open(void *user, const struct espat_spi_cfg *cfg)
{
	struct espat_periph_linux *p = user;
	if (p->spi_fd < 0)
		p->spi_fd = p->io.open(p->io.user, p->spi_dev, O_RDWR);
	if (p->spi_fd < 0)
		return ESPAT_PERIPH_FAIL;
	uint8_t mode = cfg->mode & 3;
	uint32_t speed = cfg->clock_hz;
	/* spidev has one bit order for both directions: LSB first when either
	 * asks for it (the rest is fixed up in software) */
	uint8_t lsb = cfg->tx_lsb_first && cfg->rx_lsb_first;
	p->spi_lsb = (uint8_t)((cfg->tx_lsb_first ? 1 : 0) | (cfg->rx_lsb_first ? 2 : 0));
	if (p->io.ioctl(p->io.user, p->spi_fd, SPI_IOC_WR_MODE, &mode) < 0 ||
	    p->io.ioctl(p->io.user, p->spi_fd, SPI_IOC_WR_MAX_SPEED_HZ, &speed) < 0 ||
	    p->io.ioctl(p->io.user, p->spi_fd, SPI_IOC_WR_LSB_FIRST, &lsb) < 0) {
		p->io.close(p->io.user, p->spi_fd);
		p->spi_fd = -1;
		return ESPAT_PERIPH_FAIL;
	}
	return ESPAT_PERIPH_OK;
}

static void spi_close(void *user)
{
	struct espat_periph_linux *p = user;
	if (p->spi_fd >= 0) {
		p->io.close(p->io.user, p->spi_fd);
		p->spi_fd = -1;
	}
}

/* The command and address phases as bytes, MSB first (whole bytes: the
 * AT commands give their lengths in bytes). */
static size_t phase_bytes(uint8_t *out, uint64_t v, uint8_t bits)
{
	size_t n = (bits + 7u) / 8u;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return n;
}

static int spi_xfer(void *user, const struct espat_spi_xfer *x)
{
	struct espat_periph_linux *p = user;
	if (p->spi_fd < 0)
		return ESPAT_PERIPH_FAIL;
	uint8_t head[16];
	size_t hn = phase_bytes(head, x->cmd, x->cmd_bits);
	hn += phase_bytes(head + hn, x->addr, x->addr_bits);
	uint8_t *tx = NULL;
	bool mixed = (p->spi_lsb == 1 || p->spi_lsb == 2);
	if (x->tx && mixed && (p->spi_lsb & 1)) {
		if (!(tx = malloc(x->len)))
			return ESPAT_PERIPH_FAIL;
		for (size_t i = 0; i < x->len; i++)
			tx[i] = espat_bit_reverse(x->tx[i]);
	}
	struct spi_ioc_transfer t[2];
	memset(t, 0, sizeof(t));
	uint32_t n = 0;
	if (hn) {
		t[n].tx_buf = (uintptr_t)head;
		t[n].len = (uint32_t)hn;
		n++;
	}
	if (x->len) {
		t[n].tx_buf = (uintptr_t)(tx ? tx : x->tx);
		t[n].rx_buf = (uintptr_t)x->rx;
		t[n].len = (uint32_t)x->len;
		n++;
	}
	int rc = n ? p->io.ioctl(p->io.user, p->spi_fd, SPI_IOC_MESSAGE(n), t) : 0;
	free(tx);
	if (rc < 0)
		return ESPAT_PERIPH_FAIL;
	if (x->rx && mixed && (p->spi_lsb & 2))
		for (size_t i = 0; i < x->len; i++)
			x->rx[i] = espat_bit_reverse(x->rx[i]);
	return ESPAT_PERIPH_OK;
}

/* ---- ADC (IIO) ----------------------------------------------------------- */

/* mV = in_voltageN_raw * in_voltage_scale (the scale is in mV per step). */
static int adc_mv(void *user, uint8_t ch, uint32_t *mv)
{
	struct espat_periph_linux *p = user;
	char path[ESPAT_PERIPH_PATH_MAX + 40], buf[64], *end;
	snprintf(path, sizeof(path), "%s/in_voltage%u_raw", p->iio_dir, (unsigned)ch);
	if (attr_read(p, path, buf, sizeof(buf)) < 0)
		return ESPAT_PERIPH_FAIL;
	errno = 0;
	long raw = strtol(buf, &end, 10);
	if (errno || end == buf || raw < 0)
		return ESPAT_PERIPH_FAIL;
	double scale = 1.0;
	snprintf(path, sizeof(path), "%s/in_voltage_scale", p->iio_dir);
	if (attr_read(p, path, buf, sizeof(buf)) == 0) {
		scale = strtod(buf, &end);
		if (end == buf || scale <= 0)
			return ESPAT_PERIPH_FAIL;
	}
	double v = (double)raw * scale;
	*mv = v > 1e6 ? 1000000u : (uint32_t)(v + 0.5);
	return ESPAT_PERIPH_OK;
}

/* ---- PWM (sysfs) --------------------------------------------------------- */

static int pwm_attr(struct espat_periph_linux *p, uint8_t ch, const char *name, uint64_t v)
{
	char path[ESPAT_PERIPH_PATH_MAX + 40], text[24];
	snprintf(path, sizeof(path), "%s/pwm%u/%s", p->pwm_chip, (unsigned)ch, name);
	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	return attr_write(p, path, text);
}

static int pwm_set(void *user, uint8_t ch, int gpio, uint32_t freq_hz, uint8_t res, uint32_t duty)
{
	struct espat_periph_linux *p = user;
	(void)gpio; /* the chip's channel decides the pin */
	if (ch >= 8 || freq_hz == 0)
		return ESPAT_PERIPH_FAIL;
	if (!(p->pwm_exported & (1u << ch))) {
		char path[ESPAT_PERIPH_PATH_MAX + 16], text[8];
		snprintf(path, sizeof(path), "%s/export", p->pwm_chip);
		snprintf(text, sizeof(text), "%u", (unsigned)ch);
		if (attr_write(p, path, text) < 0 && errno != EBUSY)
			return ESPAT_PERIPH_FAIL;
		p->pwm_exported |= (uint8_t)(1u << ch);
	}
	uint64_t period = 1000000000ull / freq_hz;
	uint64_t high = (period * duty) >> res;
	/* the kernel refuses a duty cycle above the period: lower it first */
	pwm_attr(p, ch, "duty_cycle", 0);
	if (pwm_attr(p, ch, "period", period) < 0 || pwm_attr(p, ch, "duty_cycle", high) < 0 ||
	    pwm_attr(p, ch, "enable", 1) < 0)
		return ESPAT_PERIPH_FAIL;
	return ESPAT_PERIPH_OK;
}

static void pwm_stop(void *user, uint8_t ch)
{
	struct espat_periph_linux *p = user;
	if (ch < 8 && (p->pwm_exported & (1u << ch)))
		pwm_attr(p, ch, "enable", 0);
}

/* ---- the port ------------------------------------------------------------ */

int espat_periph_linux_init(struct espat_periph_linux *p, const struct espat_periph_linux_cfg *cfg,
                            const struct espat_sysio *io)
{
	memset(p, 0, sizeof(*p));
	p->io = io ? *io : espat_sysio_libc();
	p->i2c_fd = p->spi_fd = -1;
	if (copy_path(p->i2c_dev, cfg->i2c_dev) < 0 || copy_path(p->spi_dev, cfg->spi_dev) < 0 ||
	    copy_path(p->iio_dir, cfg->iio_dir) < 0 || copy_path(p->pwm_chip, cfg->pwm_chip) < 0)
		return -1;
	return 0;
}

void espat_periph_linux_free(struct espat_periph_linux *p)
{
	i2c_close(p, 0);
	spi_close(p);
	for (uint8_t ch = 0; ch < 8; ch++)
		pwm_stop(p, ch);
}

struct espat_periph espat_periph_linux_port(struct espat_periph_linux *p)
{
	struct espat_periph port = {.user = p};
	if (p->i2c_dev[0]) {
		port.i2c_open = i2c_open;
		port.i2c_close = i2c_close;
		port.i2c_xfer = i2c_xfer;
	}
	if (p->spi_dev[0]) {
		port.spi_open = spi_open;
		port.spi_close = spi_close;
		port.spi_xfer = spi_xfer;
	}
	if (p->iio_dir[0])
		port.adc_mv = adc_mv;
	if (p->pwm_chip[0]) {
		port.pwm_set = pwm_set;
		port.pwm_stop = pwm_stop;
	}
	return port;
}
