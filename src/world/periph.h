/* The simulated devices on the module's pins (docs/internals/periph.md):
 * I2C devices on bus 0 (an EEPROM-like memory with an address pointer, and
 * a sensor's register map), one SPI memory behind the SPI master's chip
 * select, the voltages on the ADC1 channels, and what the pins show: the
 * PWM outputs and the GPIO levels (the host-wake pin). It implements the
 * periph port (port/periph.h); the world file ([i2c LABEL], [spi LABEL],
 * adcN keys) and the control interface fill it.
 *
 * A transfer to an address no device has is NACKed, as on a real bus with
 * its pull-ups; reads from the SPI bus with nothing driving MISO give 0xff.
 * Portable C, no allocation: the memories are fixed arrays. */
#ifndef ESPAT_WORLD_PERIPH_H
#define ESPAT_WORLD_PERIPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/periph.h"

#define ESPAT_SIM_I2C_MAX 8       /* devices on the bus */
#define ESPAT_SIM_MEM_MAX 4096    /* bytes of a device's memory (a 24C32) */
#define ESPAT_SIM_LABEL_MAX 31    /* = ESPAT_WORLD_LABEL_MAX */
#define ESPAT_SIM_ADC_MAX_MV 3300 /* the supply: no pin sees more */

enum espat_sim_kind {
	ESPAT_SIM_EEPROM, /* address pointer (1 byte up to 256 B, else 2, MSB first), then data */
	ESPAT_SIM_SENSOR, /* 256 registers: a register pointer, then data */
};

struct espat_sim_i2c {
	char label[ESPAT_SIM_LABEL_MAX + 1];
	uint16_t addr; /* 7-bit, or 10-bit when ten_bit */
	bool ten_bit;
	enum espat_sim_kind kind;
	uint32_t size; /* bytes of mem in use (a sensor: 256) */
	uint32_t ptr;  /* the address/register pointer */
	uint8_t mem[ESPAT_SIM_MEM_MAX];
	uint64_t writes, reads; /* transfers that reached it */
};

/* The SPI memory (a 25xx-style serial EEPROM): command 0x03 + address
 * reads, 0x02 + address writes; anything else leaves MISO high. */
#define ESPAT_SIM_SPI_READ 0x03
#define ESPAT_SIM_SPI_WRITE 0x02
struct espat_sim_spi {
	bool present;
	char label[ESPAT_SIM_LABEL_MAX + 1];
	uint32_t size;
	uint8_t mem[ESPAT_SIM_MEM_MAX];
	uint64_t xfers;
};

struct espat_sim_pwm {
	bool on;
	int gpio;
	uint32_t freq_hz;
	uint8_t res;
	uint32_t duty;
};

struct espat_sim_periph {
	struct espat_sim_i2c i2c[ESPAT_SIM_I2C_MAX];
	size_t ni2c;
	bool i2c_open; /* bus 0 set up (AT+DRVI2CINIT) */
	uint32_t i2c_clock_hz;
	struct espat_sim_spi spi;
	bool spi_open;
	struct espat_spi_cfg spi_cfg;
	uint32_t adc_mv[ESPAT_ADC_CHANNELS];
	struct espat_sim_pwm pwm[ESPAT_PWM_CHANNELS];
	int8_t gpio[ESPAT_GPIO_MAX + 1];         /* last level driven: -1 never, 0, 1 */
	uint32_t gpio_edges[ESPAT_GPIO_MAX + 1]; /* level changes driven, per pin */
};

struct espat_world_err;

void espat_sim_periph_init(struct espat_sim_periph *s);
struct espat_periph espat_sim_periph_port(struct espat_sim_periph *s);

struct espat_sim_i2c *espat_sim_i2c_find(struct espat_sim_periph *s, const char *label);
/* A device with defaults (an EEPROM of 256 bytes, erased to 0xff, at
 * 0x50); NULL when the label exists or the bus is full. */
struct espat_sim_i2c *espat_sim_i2c_add(struct espat_sim_periph *s, const char *label,
                                        struct espat_world_err *err);
bool espat_sim_i2c_remove(struct espat_sim_periph *s, const char *label);
/* One key of [i2c LABEL] ("addr", "type", "size", "data"): 0, or -1 with
 * err->msg. */
int espat_sim_i2c_set(struct espat_sim_i2c *d, const char *key, const char *value,
                      struct espat_world_err *err);
/* The device fits the bus: no other device at its address. */
int espat_sim_i2c_check(const struct espat_sim_periph *s, const struct espat_sim_i2c *d,
                        struct espat_world_err *err);

/* Attaches the SPI memory (256 bytes, erased, by default); -1 when there is
 * one already or the label is bad. Then its keys "size", "data". */
int espat_sim_spi_attach(struct espat_sim_periph *s, const char *label,
                         struct espat_world_err *err);
int espat_sim_spi_set(struct espat_sim_spi *d, const char *key, const char *value,
                      struct espat_world_err *err);
/* adcN = millivolts. */
int espat_sim_adc_set(struct espat_sim_periph *s, uint8_t ch, const char *value,
                      struct espat_world_err *err);

/* Hex text ("0a1b") into out: the byte count, or -1 (odd length, not hex,
 * more than cap bytes). */
long espat_sim_hex(const char *s, uint8_t *out, size_t cap);
/* Writes bytes into a memory at off (ctl, world file "data"); -1 when they
 * do not fit. */
int espat_sim_mem_write(uint8_t *mem, uint32_t size, uint32_t off, const uint8_t *p, size_t n);

#endif
