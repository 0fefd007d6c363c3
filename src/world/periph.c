/* The simulated pins and buses (world/periph.h). */
#include "world/periph.h"

#include <stdio.h>
#include <string.h>

#include "core/args.h"
#include "world/world.h"

static bool uint_arg(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	return espat_parse_int(v, strlen(v), out) && *out >= lo && *out <= hi;
}

int espat_sim_mem_write(uint8_t *mem, uint32_t size, uint32_t off, const uint8_t *p, size_t n)
{
	if (off > size || n > size - off)
		return -1;
	memcpy(mem + off, p, n);
	return 0;
}

long espat_sim_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t len;
	return espat_hex_decode(s, strlen(s), out, cap, &len) ? (long)len : -1;
}

/* The keys of a memory ("size", then "data": hex bytes from offset 0);
 * 1 when key is another. */
static int mem_key(uint8_t *mem, uint32_t *size, const char *key, const char *value,
                   struct espat_world_err *err)
{
	int64_t v;
	if (strcmp(key, "size") == 0) {
		if (!uint_arg(value, 1, ESPAT_SIM_MEM_MAX, &v))
			return espat_world_errf(err, "size: 1..%d bytes", ESPAT_SIM_MEM_MAX);
		*size = (uint32_t)v;
		return 0;
	}
	if (strcmp(key, "data") != 0)
		return 1;
	if (espat_sim_hex(value, mem, *size) < 0)
		return espat_world_errf(err,
		                        "data: hex bytes (two digits each), at most the size (%u)",
		                        (unsigned)*size);
	return 0;
}

void espat_sim_periph_init(struct espat_sim_periph *s)
{
	memset(s, 0, sizeof(*s));
	memset(s->gpio, -1, sizeof(s->gpio));
}

/* ---- I2C ----------------------------------------------------------------- */

struct espat_sim_i2c *espat_sim_i2c_find(struct espat_sim_periph *s, const char *label)
{
	for (size_t i = 0; i < s->ni2c; i++)
		if (strcmp(s->i2c[i].label, label) == 0)
			return &s->i2c[i];
	return NULL;
}

struct espat_sim_i2c *espat_sim_i2c_add(struct espat_sim_periph *s, const char *label,
                                        struct espat_world_err *err)
{
	if (!espat_world_label_ok(label)) {
		espat_world_errf(err, "bad device label '%.40s': 1..%d of A-Z a-z 0-9 _ . -", label,
		                 ESPAT_SIM_LABEL_MAX);
		return NULL;
	}
	if (espat_sim_i2c_find(s, label)) {
		espat_world_errf(err, "duplicate I2C device '%s'", label);
		return NULL;
	}
	if (s->ni2c >= ESPAT_SIM_I2C_MAX) {
		espat_world_errf(err, "too many I2C devices (at most %d)", ESPAT_SIM_I2C_MAX);
		return NULL;
	}
	struct espat_sim_i2c *d = &s->i2c[s->ni2c++];
	memset(d, 0, sizeof(*d));
	memcpy(d->label, label, strlen(label) + 1);
	d->addr = 0x50;
	d->kind = ESPAT_SIM_EEPROM;
	d->size = 256;
	memset(d->mem, 0xff, sizeof(d->mem));
	return d;
}

bool espat_sim_i2c_remove(struct espat_sim_periph *s, const char *label)
{
	struct espat_sim_i2c *d = espat_sim_i2c_find(s, label);
	if (!d)
		return false;
	size_t i = (size_t)(d - s->i2c);
	memmove(&s->i2c[i], &s->i2c[i + 1], (s->ni2c - i - 1) * sizeof(s->i2c[0]));
	s->ni2c--;
	return true;
}

int espat_sim_i2c_set(struct espat_sim_i2c *d, const char *key, const char *value,
                      struct espat_world_err *err)
{
	int64_t v;
	if (strcmp(key, "addr") == 0) {
		/* 0..0x7f: 7-bit; 0x80..0x3ff: a 10-bit address */
		if (!uint_arg(value, 0, 0x3ff, &v))
			return espat_world_errf(err,
			                        "addr: 0..0x7f (7-bit) or up to 0x3ff (10-bit)");
		d->addr = (uint16_t)v;
		d->ten_bit = v > 0x7f;
		return 0;
	}
	if (strcmp(key, "ten_bit") == 0) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return espat_world_errf(err, "ten_bit: yes or no");
		d->ten_bit = strcmp(value, "yes") == 0 || d->addr > 0x7f;
		return 0;
	}
	if (strcmp(key, "type") == 0) {
		if (strcmp(value, "eeprom") == 0) {
			d->kind = ESPAT_SIM_EEPROM;
		} else if (strcmp(value, "sensor") == 0) {
			d->kind = ESPAT_SIM_SENSOR;
			d->size = 256;
			memset(d->mem, 0, sizeof(d->mem));
		} else {
			return espat_world_errf(err, "type: eeprom or sensor");
		}
		return 0;
	}
	if (strcmp(key, "size") == 0 && d->kind == ESPAT_SIM_SENSOR)
		return espat_world_errf(err, "size: a sensor has 256 registers");
	int rc = mem_key(d->mem, &d->size, key, value, err);
	return rc <= 0 ? rc : espat_world_errf(err, "unknown I2C device key '%.40s'", key);
}

int espat_sim_i2c_check(const struct espat_sim_periph *s, const struct espat_sim_i2c *d,
                        struct espat_world_err *err)
{
	for (size_t i = 0; i < s->ni2c; i++) {
		const struct espat_sim_i2c *o = &s->i2c[i];
		if (o != d && o->addr == d->addr && o->ten_bit == d->ten_bit)
			return espat_world_errf(err, "I2C devices '%s' and '%s' share address 0x%x",
			                        o->label, d->label, (unsigned)d->addr);
	}
	return 0;
}

static struct espat_sim_i2c *i2c_at(struct espat_sim_periph *s, uint16_t addr, bool ten_bit)
{
	for (size_t i = 0; i < s->ni2c; i++)
		if (s->i2c[i].addr == addr && s->i2c[i].ten_bit == ten_bit)
			return &s->i2c[i];
	return NULL;
}

/* Bytes of the pointer a write starts with. */
static size_t ptr_bytes(const struct espat_sim_i2c *d)
{
	return d->kind == ESPAT_SIM_EEPROM && d->size > 256 ? 2 : 1;
}

/* A write: the pointer, then data stored at it, the pointer running on and
 * wrapping at the end of the memory (a 24Cxx rolls over its page; this
 * simple part rolls over the whole array). */
static void i2c_write(struct espat_sim_i2c *d, const uint8_t *w, size_t wn)
{
	size_t pb = ptr_bytes(d), i = 0;
	if (wn >= pb) {
		uint32_t p = 0;
		for (; i < pb; i++)
			p = p << 8 | w[i];
		d->ptr = p % d->size;
	}
	for (; i < wn; i++) {
		d->mem[d->ptr] = w[i];
		d->ptr = (d->ptr + 1) % d->size;
	}
}

static int sim_i2c_open(void *user, uint8_t bus, uint32_t clock_hz)
{
	struct espat_sim_periph *s = user;
	if (bus != 0)
		return ESPAT_PERIPH_FAIL;
	s->i2c_open = true;
	s->i2c_clock_hz = clock_hz;
	return ESPAT_PERIPH_OK;
}

static void sim_i2c_close(void *user, uint8_t bus)
{
	struct espat_sim_periph *s = user;
	if (bus == 0)
		s->i2c_open = false;
}

static int sim_i2c_xfer(void *user, uint8_t bus, uint16_t addr, bool ten_bit, const uint8_t *w,
                        size_t wn, uint8_t *r, size_t rn)
{
	struct espat_sim_periph *s = user;
	if (bus != 0 || !s->i2c_open)
		return ESPAT_PERIPH_FAIL;
	struct espat_sim_i2c *d = i2c_at(s, addr, ten_bit);
	if (!d)
		return ESPAT_PERIPH_NACK;
	if (wn) {
		i2c_write(d, w, wn);
		d->writes++;
	}
	for (size_t i = 0; i < rn; i++) {
		r[i] = d->mem[d->ptr];
		d->ptr = (d->ptr + 1) % d->size;
	}
	if (rn)
		d->reads++;
	return ESPAT_PERIPH_OK;
}

/* ---- SPI ----------------------------------------------------------------- */

int espat_sim_spi_attach(struct espat_sim_periph *s, const char *label, struct espat_world_err *err)
{
	struct espat_sim_spi *d = &s->spi;
	if (d->present)
		return espat_world_errf(err, "the SPI master has one device ('%s')", d->label);
	if (!espat_world_label_ok(label))
		return espat_world_errf(err, "bad SPI device label '%.40s'", label);
	memset(d, 0, sizeof(*d));
	memcpy(d->label, label, strlen(label) + 1);
	d->present = true;
	d->size = 256;
	memset(d->mem, 0xff, sizeof(d->mem));
	return 0;
}

int espat_sim_spi_set(struct espat_sim_spi *d, const char *key, const char *value,
                      struct espat_world_err *err)
{
	int rc = mem_key(d->mem, &d->size, key, value, err);
	return rc <= 0 ? rc : espat_world_errf(err, "unknown SPI device key '%.40s'", key);
}

static int sim_spi_open(void *user, const struct espat_spi_cfg *cfg)
{
	struct espat_sim_periph *s = user;
	s->spi_open = true;
	s->spi_cfg = *cfg;
	return ESPAT_PERIPH_OK;
}

static void sim_spi_close(void *user)
{
	struct espat_sim_periph *s = user;
	s->spi_open = false;
}

/* The memory decodes the command and the address as sent MSB first; data
 * bytes sent LSB first arrive bit-reversed, and so do those read LSB first. */
static int sim_spi_xfer(void *user, const struct espat_spi_xfer *x)
{
	struct espat_sim_periph *s = user;
	if (!s->spi_open)
		return ESPAT_PERIPH_FAIL;
	struct espat_sim_spi *d = &s->spi;
	bool ours = d->present && x->cmd_bits == 8 && x->addr_bits >= 8;
	uint32_t at = (uint32_t)(x->addr % (d->size ? d->size : 1));
	if (d->present)
		d->xfers++;
	for (size_t i = 0; i < x->len; i++) {
		if (x->rx) {
			uint8_t b = 0xff; /* nobody drives MISO */
			if (ours && x->cmd == ESPAT_SIM_SPI_READ)
				b = d->mem[(at + i) % d->size];
			x->rx[i] = s->spi_cfg.rx_lsb_first ? espat_bit_reverse(b) : b;
		}
		if (x->tx && ours && x->cmd == ESPAT_SIM_SPI_WRITE) {
			uint8_t b = x->tx[i];
			d->mem[(at + i) % d->size] =
			    s->spi_cfg.tx_lsb_first ? espat_bit_reverse(b) : b;
		}
	}
	return ESPAT_PERIPH_OK;
}

/* ---- ADC, PWM, GPIO ------------------------------------------------------ */

int espat_sim_adc_set(struct espat_sim_periph *s, uint8_t ch, const char *value,
                      struct espat_world_err *err)
{
	int64_t v;
	if (ch >= ESPAT_ADC_CHANNELS)
		return espat_world_errf(err, "ADC channels are 0..%d", ESPAT_ADC_CHANNELS - 1);
	if (!uint_arg(value, 0, ESPAT_SIM_ADC_MAX_MV, &v))
		return espat_world_errf(err, "adc%u: 0..%d mV", (unsigned)ch, ESPAT_SIM_ADC_MAX_MV);
	s->adc_mv[ch] = (uint32_t)v;
	return 0;
}

static int sim_adc_mv(void *user, uint8_t ch, uint32_t *mv)
{
	struct espat_sim_periph *s = user;
	if (ch >= ESPAT_ADC_CHANNELS)
		return ESPAT_PERIPH_FAIL;
	*mv = s->adc_mv[ch];
	return ESPAT_PERIPH_OK;
}

static int sim_pwm_set(void *user, uint8_t ch, int gpio, uint32_t freq_hz, uint8_t res,
                       uint32_t duty)
{
	struct espat_sim_periph *s = user;
	if (ch >= ESPAT_PWM_CHANNELS)
		return ESPAT_PERIPH_FAIL;
	s->pwm[ch] = (struct espat_sim_pwm){true, gpio, freq_hz, res, duty};
	return ESPAT_PERIPH_OK;
}

static void sim_pwm_stop(void *user, uint8_t ch)
{
	struct espat_sim_periph *s = user;
	if (ch < ESPAT_PWM_CHANNELS)
		s->pwm[ch].on = false;
}

static void sim_gpio_set(void *user, int gpio, int level)
{
	struct espat_sim_periph *s = user;
	if (gpio < 0 || gpio > ESPAT_GPIO_MAX)
		return;
	int8_t l = level ? 1 : 0;
	if (s->gpio[gpio] >= 0 && s->gpio[gpio] != l) /* the first level driven is no edge */
		s->gpio_edges[gpio]++;
	s->gpio[gpio] = l;
}

struct espat_periph espat_sim_periph_port(struct espat_sim_periph *s)
{
	return (struct espat_periph){
	    .user = s,
	    .i2c_open = sim_i2c_open,
	    .i2c_close = sim_i2c_close,
	    .i2c_xfer = sim_i2c_xfer,
	    .spi_open = sim_spi_open,
	    .spi_close = sim_spi_close,
	    .spi_xfer = sim_spi_xfer,
	    .adc_mv = sim_adc_mv,
	    .pwm_set = sim_pwm_set,
	    .pwm_stop = sim_pwm_stop,
	    .gpio_set = sim_gpio_set,
	};
}
