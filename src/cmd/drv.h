/* Driver commands (guide 3.11): the ADC, LEDC PWM with fades, the I2C
 * master and the SPI master, over the periph port (port/periph.h). The
 * ESP32-C3's limits are checked here: one I2C controller, GPIO0..21, the
 * LEDC clock trade-off (freq << res within what its clock can divide).
 * Nothing persists; everything is released at a restart. The model and
 * its decisions: docs/internals/periph.md. */
#ifndef ESPAT_CMD_DRV_H
#define ESPAT_CMD_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "core/timers.h"
#include "port/periph.h"

#define ESPAT_DRV_I2C_LEN_MAX 2048 /* AT+DRVI2CRD / WRDATA <length> */
#define ESPAT_DRV_SPI_LEN_MAX 4092 /* AT+DRVSPIRD / WR <data_len> with DMA */
#define ESPAT_DRV_SPI_NODMA_MAX 64 /* ... without DMA */
#define ESPAT_DRV_I2C_CLOCK_MAX 1000000u
#define ESPAT_DRV_SPI_CLOCK_MAX 40000000u
#define ESPAT_DRV_PWM_FREQ_MAX 8000000u
/* LEDC on the ESP32-C3: APB's 80 MHz divided by at least 1, and its
 * slowest source (RC_FAST, 17.5 MHz) by at most 1024 (a 10.8 divider). */
#define ESPAT_DRV_LEDC_CLK_MAX 80000000u
#define ESPAT_DRV_LEDC_CLK_MIN (17500000u / 1024u + 1u)
#define ESPAT_DRV_LEDC_RES_MAX 14
#define ESPAT_DRV_FADE_STEP_MS 20u /* a fade moves the output this often */

/* One LEDC channel as its state shows it. */
struct espat_drv_pwm {
	bool used; /* AT+DRVPWMINIT gave it a GPIO */
	int gpio;
	uint32_t duty; /* the duty before a fade (or the set duty) */
	bool fading;
	uint32_t target; /* a fade's end duty */
	uint64_t t0, t1; /* a fade's start and end, module clock ms */
	uint32_t out;    /* the duty last given to the port */
};

struct espat_drv {
	/* I2C (AT+DRVI2CINIT) */
	bool i2c_on;
	int scl, sda;
	uint32_t i2c_clock;
	/* SPI (AT+DRVSPICONFGPIO, AT+DRVSPIINIT) */
	bool spi_pins;
	int mosi, miso, sclk, cs;
	bool spi_on;
	struct espat_spi_cfg spi;
	uint8_t cmd_bits, addr_bits, dma;
	/* LEDC (AT+DRVPWMINIT) */
	bool pwm_on;
	uint32_t freq;
	uint8_t res;
	uint8_t nch;
	struct espat_drv_pwm ch[ESPAT_PWM_CHANNELS];
	struct espat_timer fade_timer;
	/* the data entry of AT+DRVI2CWRDATA / AT+DRVSPIWR */
	uint8_t *buf; /* owned, while an entry runs */
	size_t want, got;
	uint16_t wr_addr;
	bool wr_ten;
	struct espat_spi_xfer wr_spi;
};

/* The duty channel ch shows at now (a fade moves it linearly). */
uint32_t espat_drv_pwm_duty(const struct espat_module *m, size_t ch);

extern const struct espat_family espat_drv_family;

#endif
