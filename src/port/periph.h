/* The module's own pins and buses, as the driver commands (guide 3.11,
 * cmd/drv.c) and the host-wake signal (AT+USERWKMCUCFG, cmd/user.c) use
 * them: I2C master transfers that a device ACKs or NACKs, SPI master
 * transfers, ADC voltages, LEDC PWM outputs and plain GPIO levels.
 *
 * Two implementations: the simulated devices of the world (world/periph.h,
 * the default and what the tests use) and the host's own buses on a Linux
 * board (posix/periph_linux.h: i2c-dev, spidev, iio, sysfs pwm). What the
 * ESP32-C3 allows (pin numbers, clock and resolution limits, lengths) is
 * the cmd layer's to check; a backend only moves bytes and levels.
 *
 * Every call is synchronous and short (a real transfer of at most a few
 * KiB); NULL ops: the backend lacks that bus (the command fails). */
#ifndef ESPAT_PORT_PERIPH_H
#define ESPAT_PORT_PERIPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_ADC_CHANNELS 5 /* ADC1 channels 0..4 = GPIO0..GPIO4 */
#define ESPAT_PWM_CHANNELS 4 /* AT+DRVPWMINIT takes up to four GPIOs */
#define ESPAT_GPIO_MAX 21    /* the ESP32-C3 has GPIO0..GPIO21 */

/* A byte with its bit order turned around: what an LSB-first byte is to a
 * device that reads MSB first (SPI's <bits_msb>). */
static inline uint8_t espat_bit_reverse(uint8_t b)
{
	b = (uint8_t)((b & 0xF0) >> 4 | (b & 0x0F) << 4);
	b = (uint8_t)((b & 0xCC) >> 2 | (b & 0x33) << 2);
	return (uint8_t)((b & 0xAA) >> 1 | (b & 0x55) << 1);
}

/* What a transfer came to. */
enum espat_periph_rc {
	ESPAT_PERIPH_OK = 0,
	ESPAT_PERIPH_NACK = -1, /* I2C: no device answered the address (or a data byte) */
	ESPAT_PERIPH_FAIL = -2, /* the bus or backend failed (not open, I/O error) */
};

/* An SPI master as AT+DRVSPIINIT sets it up. */
struct espat_spi_cfg {
	uint32_t clock_hz;
	uint8_t mode;      /* CPOL << 1 | CPHA */
	bool tx_lsb_first; /* <bits_msb> bit0 */
	bool rx_lsb_first; /* <bits_msb> bit1 */
};

/* One half-duplex SPI transaction (esp-at's spi_transaction_t): a command
 * phase, an address phase, then len data bytes out (tx) or in (rx). */
struct espat_spi_xfer {
	uint16_t cmd;
	uint8_t cmd_bits; /* 0: no command phase */
	uint64_t addr;
	uint8_t addr_bits; /* 0: no address phase */
	const uint8_t *tx; /* len bytes to send, or NULL */
	uint8_t *rx;       /* len bytes to receive, or NULL */
	size_t len;
};

struct espat_periph {
	void *user;
	/* I2C: bus 0 is the ESP32-C3's only controller. A transfer writes wn
	 * bytes then, after a repeated start, reads rn bytes (either may be 0).
	 * addr is 7-bit, or 10-bit when ten_bit. */
	int (*i2c_open)(void *user, uint8_t bus, uint32_t clock_hz);
	void (*i2c_close)(void *user, uint8_t bus);
	int (*i2c_xfer)(void *user, uint8_t bus, uint16_t addr, bool ten_bit, const uint8_t *w,
	                size_t wn, uint8_t *r, size_t rn);
	/* SPI: one master with one device (its chip select). */
	int (*spi_open)(void *user, const struct espat_spi_cfg *cfg);
	void (*spi_close)(void *user);
	int (*spi_xfer)(void *user, const struct espat_spi_xfer *x);
	/* ADC1: the voltage on channel ch now, in millivolts. */
	int (*adc_mv)(void *user, uint8_t ch, uint32_t *mv);
	/* LEDC: channel ch drives gpio at freq_hz with duty out of 2^res
	 * (duty == 2^res: always high); stop: the channel is released. */
	int (*pwm_set)(void *user, uint8_t ch, int gpio, uint32_t freq_hz, uint8_t res,
	               uint32_t duty);
	void (*pwm_stop)(void *user, uint8_t ch);
	/* A plain output level (the host-wake pin). */
	void (*gpio_set)(void *user, int gpio, int level);
};

#endif
