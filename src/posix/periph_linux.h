/* The periph port (port/periph.h) on a Linux board's own buses, for a board
 * that stands in as the co-processor (docs/internals/periph.md): I2C
 * through i2c-dev (I2C_RDWR; a NACK is ENXIO/EREMOTEIO), SPI through
 * spidev (SPI_IOC_MESSAGE), the ADC through an IIO device's
 * in_voltageN_raw and in_voltage_scale, PWM through a sysfs pwmchip. Each
 * is used only when the user maps it (--i2c, --spi, --adc-iio, --pwm-chip);
 * an unmapped one leaves its ops NULL, and the command fails.
 *
 * Every system call goes through struct espat_sysio, so a test can put a
 * fake device behind it (tests/unit/test_periph_linux.c). The calls
 * block: a real transfer of a few KiB at the bus clock is short. */
#ifndef ESPAT_POSIX_PERIPH_LINUX_H
#define ESPAT_POSIX_PERIPH_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "port/periph.h"

/* The system calls the backend makes (libc's by default). */
struct espat_sysio {
	void *user;
	int (*open)(void *user, const char *path, int flags);
	int (*close)(void *user, int fd);
	int (*ioctl)(void *user, int fd, unsigned long req, void *arg);
	ssize_t (*read)(void *user, int fd, void *buf, size_t n);
	ssize_t (*write)(void *user, int fd, const void *buf, size_t n);
};

/* libc's open/close/ioctl/read/write. */
struct espat_sysio espat_sysio_libc(void);

#define ESPAT_PERIPH_PATH_MAX 200

/* What the user mapped; NULL: not mapped. */
struct espat_periph_linux_cfg {
	const char *i2c_dev;  /* /dev/i2c-N: the module's I2C bus 0 */
	const char *spi_dev;  /* /dev/spidevB.C */
	const char *iio_dir;  /* /sys/bus/iio/devices/iio:deviceN */
	const char *pwm_chip; /* /sys/class/pwm/pwmchipN: LEDC channel n = pwmn */
};

struct espat_periph_linux {
	struct espat_sysio io;
	char i2c_dev[ESPAT_PERIPH_PATH_MAX];
	char spi_dev[ESPAT_PERIPH_PATH_MAX];
	char iio_dir[ESPAT_PERIPH_PATH_MAX];
	char pwm_chip[ESPAT_PERIPH_PATH_MAX];
	int i2c_fd, spi_fd;   /* -1: closed */
	uint8_t spi_lsb;      /* bit0 tx, bit1 rx LSB first (spidev sets one for both) */
	uint8_t pwm_exported; /* bit n: pwmn exported */
};

/* 0, or -1 when a path is too long. */
int espat_periph_linux_init(struct espat_periph_linux *p, const struct espat_periph_linux_cfg *cfg,
                            const struct espat_sysio *io);
/* Closes what is open. */
void espat_periph_linux_free(struct espat_periph_linux *p);
/* The port: ops only for the mapped buses. */
struct espat_periph espat_periph_linux_port(struct espat_periph_linux *p);

#endif
