/* AT+DRVADC, AT+DRVPWM*, AT+DRVI2C*, AT+DRVSPI* (guide 3.11) over the
 * periph port. Reads print their bytes as lowercase hex, two digits a
 * byte (the guide's SPI example, "ffff"). An operation on a bus that is
 * not set up, a NACK or a failing backend answer ERROR with ERR CODE
 * 0x010a0000 (execution failed); values outside the guide's or the chip's
 * ranges 0x0107<index of the parameter>. docs/internals/periph.md. */
#include "cmd/drv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/params.h"

#define E(m) (&(m)->eng)
#define PP(m) (&(m)->ports.periph)

/* ADC1 full scale per <atten>, mV (the guide's ESP32-C3 ranges). */
static const uint32_t adc_full_mv[4] = {750, 1050, 1300, 2500};

static bool gpio_ok(int64_t g)
{
	return g >= 0 && g <= ESPAT_GPIO_MAX;
}

static bool given(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind != ESPAT_ARG_OMITTED;
}

/* Prints "<prefix><hex of p[0..n)>" as one line. */
static enum espat_rc hex_line(struct espat_module *m, const char *prefix, const uint8_t *p,
                              size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = strlen(prefix);
	char *s = malloc(k + 2 * n + 2);
	if (!s)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	memcpy(s, prefix, k);
	for (size_t i = 0; i < n; i++) {
		s[k + 2 * i] = hex[p[i] >> 4];
		s[k + 2 * i + 1] = hex[p[i] & 15];
	}
	memcpy(s + k + 2 * n, "\r\n", 2);
	espat_wr_msg(&m->wr, (const uint8_t *)s, k + 2 * n + 2);
	free(s);
	return ESPAT_RC_OK;
}

/* ---- AT+DRVADC ------------------------------------------------------------ */

static const struct espat_param p_adc[] = {
    P_INT("channel", 0, ESPAT_ADC_CHANNELS - 1),
    P_INT("atten", 0, 3),
};

static enum espat_rc adc_set(struct espat_module *m, const struct espat_args *a)
{
	uint32_t mv = 0;
	if (!PP(m)->adc_mv || PP(m)->adc_mv(PP(m)->user, (uint8_t)a->v[0].i, &mv) != 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint32_t fs = adc_full_mv[a->v[1].i];
	uint64_t raw = ((uint64_t)mv * 4095u + fs / 2) / fs;
	espat_wr_linef(&m->wr, "+DRVADC:%u", (unsigned)(raw > 4095 ? 4095 : raw));
	return ESPAT_RC_OK;
}

/* ---- LEDC ----------------------------------------------------------------- */

static uint32_t duty_at(const struct espat_drv_pwm *c, uint64_t now)
{
	if (!c->fading)
		return c->duty;
	if (now >= c->t1)
		return c->target;
	uint64_t span = c->t1 - c->t0, t = now - c->t0;
	int64_t d = (int64_t)c->target - (int64_t)c->duty;
	return (uint32_t)((int64_t)c->duty + d * (int64_t)t / (int64_t)span);
}

uint32_t espat_drv_pwm_duty(const struct espat_module *m, size_t ch)
{
	const struct espat_drv *d = m->drv;
	return ch < ESPAT_PWM_CHANNELS ? duty_at(&d->ch[ch], espat_module_now(m)) : 0;
}

static int pwm_out(struct espat_module *m, size_t i, uint32_t duty)
{
	struct espat_drv *d = m->drv;
	d->ch[i].out = duty;
	if (!PP(m)->pwm_set)
		return -1;
	return PP(m)->pwm_set(PP(m)->user, (uint8_t)i, d->ch[i].gpio, d->freq, d->res, duty);
}

static void fade_tick(void *user);

/* Moves every fading channel's output to where its fade is now; the fades
 * that reached their end settle. Rearms while one still runs. */
static void fade_step(struct espat_module *m)
{
	struct espat_drv *d = m->drv;
	uint64_t now = espat_module_now(m), next = UINT64_MAX;
	for (size_t i = 0; i < d->nch; i++) {
		struct espat_drv_pwm *c = &d->ch[i];
		if (!c->fading)
			continue;
		uint32_t v = duty_at(c, now);
		if (v != c->out)
			pwm_out(m, i, v);
		if (now >= c->t1) {
			c->duty = c->target;
			c->fading = false;
		} else {
			uint64_t t = now + ESPAT_DRV_FADE_STEP_MS;
			next = t < c->t1 ? (t < next ? t : next) : (c->t1 < next ? c->t1 : next);
		}
	}
	if (next != UINT64_MAX)
		espat_timer_arm(&m->timers, &d->fade_timer, next, fade_tick, m);
}

static void fade_tick(void *user)
{
	fade_step(user);
}

static void pwm_release(struct espat_module *m)
{
	struct espat_drv *d = m->drv;
	espat_timer_cancel(&m->timers, &d->fade_timer);
	for (size_t i = 0; i < d->nch; i++)
		if (PP(m)->pwm_stop)
			PP(m)->pwm_stop(PP(m)->user, (uint8_t)i);
	memset(d->ch, 0, sizeof(d->ch));
	d->nch = 0;
	d->pwm_on = false;
}

static const struct espat_param p_pwminit[] = {
    P_INT("freq", 1, ESPAT_DRV_PWM_FREQ_MAX),
    P_INT("duty_res", 0, 20),
    P_INT("ch0_gpio", 0, 255),
    P_INT_OPT("ch1_gpio", 0, 255),
    P_INT_OPT("ch2_gpio", 0, 255),
    P_INT_OPT("ch3_gpio", 0, 255),
};

static enum espat_rc pwminit_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	uint32_t freq = (uint32_t)a->v[0].i;
	int64_t res = a->v[1].i;
	/* the C3's LEDC timers count 1..14 bits */
	if (res < 1 || res > ESPAT_DRV_LEDC_RES_MAX)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	/* the frequency/resolution trade-off: freq << res must be a division
	 * of one of the LEDC clocks (ESP-IDF's "requested frequency and duty
	 * resolution can not be achieved") */
	uint64_t tick = (uint64_t)freq << res;
	if (tick > ESPAT_DRV_LEDC_CLK_MAX || tick < ESPAT_DRV_LEDC_CLK_MIN)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	int gpio[ESPAT_PWM_CHANNELS];
	size_t n = 0;
	for (size_t i = 2; i < a->n; i++) {
		if (!given(a, i)) {
			if (i + 1 < a->n) /* a hole between channels */
				return espat_fail(E(m), ESPAT_ERR_INVALID(i));
			continue;
		}
		if (!gpio_ok(a->v[i].i))
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		for (size_t j = 0; j < n; j++)
			if (gpio[j] == a->v[i].i)
				return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		gpio[n++] = (int)a->v[i].i;
	}
	pwm_release(m);
	if (!PP(m)->pwm_set)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	d->freq = freq;
	d->res = (uint8_t)res;
	d->nch = (uint8_t)n;
	d->pwm_on = true;
	for (size_t i = 0; i < n; i++) {
		d->ch[i] = (struct espat_drv_pwm){.used = true, .gpio = gpio[i]};
		if (pwm_out(m, i, 0) != 0) {
			pwm_release(m);
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		}
	}
	return ESPAT_RC_OK;
}

static const struct espat_param p_pwmduty[] = {
    P_INT_OPT("ch0_duty", 0, 1 << 20),
    P_INT_OPT("ch1_duty", 0, 1 << 20),
    P_INT_OPT("ch2_duty", 0, 1 << 20),
    P_INT_OPT("ch3_duty", 0, 1 << 20),
};

static enum espat_rc pwmduty_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	if (!d->pwm_on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	for (size_t i = 0; i < a->n; i++) {
		if (!given(a, i))
			continue;
		if (i >= d->nch) /* a channel AT+DRVPWMINIT gave no GPIO */
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		if (a->v[i].i > (int64_t)1 << d->res)
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	}
	for (size_t i = 0; i < a->n; i++) {
		if (!given(a, i))
			continue;
		struct espat_drv_pwm *c = &d->ch[i];
		c->fading = false;
		c->duty = (uint32_t)a->v[i].i;
		if (pwm_out(m, i, c->duty) != 0)
			return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	return ESPAT_RC_OK;
}

static const struct espat_param p_pwmfade[] = {
    P_INT_OPT("ch0_target_duty", 0, 1 << 20), P_INT_OPT("ch0_fade_time", 0, INT32_MAX),
    P_INT_OPT("ch1_target_duty", 0, 1 << 20), P_INT_OPT("ch1_fade_time", 0, INT32_MAX),
    P_INT_OPT("ch2_target_duty", 0, 1 << 20), P_INT_OPT("ch2_fade_time", 0, INT32_MAX),
    P_INT_OPT("ch3_target_duty", 0, 1 << 20), P_INT_OPT("ch3_fade_time", 0, INT32_MAX),
};

/* OK comes at once; the fades run on (esp-at's LEDC_FADE_NO_WAIT). */
static enum espat_rc pwmfade_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	if (!d->pwm_on)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	for (size_t i = 0; i < a->n; i += 2) {
		bool t = given(a, i), f = given(a, i + 1);
		if (!t && !f)
			continue;
		if (t != f)
			return espat_fail(E(m), ESPAT_ERR_INVALID(t ? i + 1 : i));
		if (i / 2 >= d->nch)
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		if (a->v[i].i > ((int64_t)1 << d->res) - 1)
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	}
	uint64_t now = espat_module_now(m);
	for (size_t i = 0; i + 1 < a->n; i += 2) {
		if (!given(a, i))
			continue;
		struct espat_drv_pwm *c = &d->ch[i / 2];
		c->duty = duty_at(c, now); /* a fade under way is taken from where it is */
		c->target = (uint32_t)a->v[i].i;
		c->t0 = now;
		c->t1 = now + (uint64_t)a->v[i + 1].i;
		c->fading = true;
	}
	fade_step(m);
	return ESPAT_RC_OK;
}

/* ---- I2C ------------------------------------------------------------------ */

static const struct espat_param p_i2cinit[] = {
    P_INT("num", 0, 1),
    P_INT_OPT("scl_io", 0, 255),
    P_INT_OPT("sda_io", 0, 255),
    P_INT_OPT("clock", 1, ESPAT_DRV_I2C_CLOCK_MAX),
};

static void i2c_release(struct espat_module *m)
{
	struct espat_drv *d = m->drv;
	if (d->i2c_on && PP(m)->i2c_close)
		PP(m)->i2c_close(PP(m)->user, 0);
	d->i2c_on = false;
}

static enum espat_rc i2cinit_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	/* the ESP32-C3 has one I2C controller: I2C_NUM_0 */
	if (a->v[0].i != 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (a->n == 1) {
		i2c_release(m);
		return ESPAT_RC_OK;
	}
	for (size_t i = 1; i < 4; i++)
		if (!given(a, i))
			return espat_fail(E(m),
			                  a->n < 4 ? ESPAT_ERR_NUM(4, a->n) : ESPAT_ERR_INVALID(i));
	if (!gpio_ok(a->v[1].i))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (!gpio_ok(a->v[2].i) || a->v[2].i == a->v[1].i)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (d->i2c_on) /* i2c_driver_install on an installed port */
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (!PP(m)->i2c_open || PP(m)->i2c_open(PP(m)->user, 0, (uint32_t)a->v[3].i) != 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	d->i2c_on = true;
	d->scl = (int)a->v[1].i;
	d->sda = (int)a->v[2].i;
	d->i2c_clock = (uint32_t)a->v[3].i;
	return ESPAT_RC_OK;
}

/* <address>: 0..0x7f, or a 10-bit address as 0x7800 | addr10. */
static bool i2c_addr(int64_t v, uint16_t *addr, bool *ten)
{
	if (v >= 0 && v <= 0x7f) {
		*addr = (uint16_t)v;
		*ten = false;
		return true;
	}
	if (v >= 0x7800 && v <= 0x7bff) {
		*addr = (uint16_t)(v & 0x3ff);
		*ten = true;
		return true;
	}
	return false;
}

/* The checks every I2C transfer makes: bus 0 set up, a good address. */
static enum espat_rc i2c_check(struct espat_module *m, const struct espat_args *a, uint16_t *addr,
                               bool *ten)
{
	if (a->v[0].i != 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (!i2c_addr(a->v[1].i, addr, ten))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (!m->drv->i2c_on || !PP(m)->i2c_xfer)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return ESPAT_RC_OK;
}

static const struct espat_param p_i2crd[] = {
    P_INT("num", 0, 1),
    P_INT("address", 0, 0xffff),
    P_INT("length", 1, ESPAT_DRV_I2C_LEN_MAX),
};

static enum espat_rc i2crd_set(struct espat_module *m, const struct espat_args *a)
{
	uint16_t addr;
	bool ten;
	if (i2c_check(m, a, &addr, &ten) != ESPAT_RC_OK)
		return ESPAT_RC_ERROR;
	size_t n = (size_t)a->v[2].i;
	uint8_t *buf = malloc(n);
	if (!buf)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	enum espat_rc rc;
	if (PP(m)->i2c_xfer(PP(m)->user, 0, addr, ten, NULL, 0, buf, n) != 0)
		rc = espat_fail(E(m), ESPAT_ERR_EXEC);
	else
		rc = hex_line(m, "+DRVI2CRD:", buf, n);
	free(buf);
	return rc;
}

static const struct espat_param p_i2cwrbytes[] = {
    P_INT("num", 0, 1),
    P_INT("address", 0, 0xffff),
    P_INT("length", 1, 4),
    P_INT("data", 0, 0xffffffffll),
};

/* <data>'s low <length> bytes, most significant first (the guide's
 * register idiom: 2,0x27FF writes 0x27 then 0xFF). */
static enum espat_rc i2cwrbytes_set(struct espat_module *m, const struct espat_args *a)
{
	uint16_t addr;
	bool ten;
	size_t n = (size_t)a->v[2].i;
	uint64_t v = (uint64_t)a->v[3].i;
	if (n < 4 && v >> (8 * n)) /* more bytes than <length> says */
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	if (i2c_check(m, a, &addr, &ten) != ESPAT_RC_OK)
		return ESPAT_RC_ERROR;
	uint8_t b[4];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	if (PP(m)->i2c_xfer(PP(m)->user, 0, addr, ten, b, n, NULL, 0) != 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return ESPAT_RC_OK;
}

static void entry_end(struct espat_drv *d)
{
	free(d->buf);
	d->buf = NULL;
	d->want = d->got = 0;
}

/* Collects the entry's bytes; true on the last. */
static bool entry_take(struct espat_drv *d, const uint8_t *p, size_t n)
{
	size_t k = n < d->want - d->got ? n : d->want - d->got;
	memcpy(d->buf + d->got, p, k);
	d->got += k;
	return d->got == d->want;
}

static enum espat_rc i2cwr_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_drv *d = m->drv;
	if (!entry_take(d, p, n) || !last)
		return ESPAT_RC_PENDING;
	int rc = d->i2c_on && PP(m)->i2c_xfer ? PP(m)->i2c_xfer(PP(m)->user, 0, d->wr_addr,
	                                                        d->wr_ten, d->buf, d->got, NULL, 0)
	                                      : ESPAT_PERIPH_FAIL;
	entry_end(d);
	return rc == 0 ? ESPAT_RC_OK : espat_fail(E(m), ESPAT_ERR_EXEC);
}

static const struct espat_param p_i2cwrdata[] = {
    P_INT("num", 0, 1),
    P_INT("address", 0, 0xffff),
    P_INT("length", 1, ESPAT_DRV_I2C_LEN_MAX),
};

static enum espat_rc i2cwrdata_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	if (i2c_check(m, a, &d->wr_addr, &d->wr_ten) != ESPAT_RC_OK)
		return ESPAT_RC_ERROR;
	entry_end(d);
	d->want = (size_t)a->v[2].i;
	if (!(d->buf = malloc(d->want)))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_engine_expect_data(E(m), d->want, i2cwr_data);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- SPI ------------------------------------------------------------------ */

static const struct espat_param p_spigpio[] = {
    P_INT("mosi", 0, 255),
    P_INT("miso", -1, 255),
    P_INT("sclk", 0, 255),
    P_INT("cs", -1, 255),
};

static enum espat_rc spigpio_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	for (size_t i = 0; i < 4; i++) {
		bool may_skip = i == 1 || i == 3;
		if (!(gpio_ok(a->v[i].i) || (may_skip && a->v[i].i == -1)))
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		for (size_t j = 0; j < i; j++)
			if (a->v[j].i == a->v[i].i && a->v[i].i != -1)
				return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	}
	if (d->spi_on) /* the pins belong to the running driver */
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	d->spi_pins = true;
	d->mosi = (int)a->v[0].i;
	d->miso = (int)a->v[1].i;
	d->sclk = (int)a->v[2].i;
	d->cs = (int)a->v[3].i;
	return ESPAT_RC_OK;
}

static void spi_release(struct espat_module *m)
{
	struct espat_drv *d = m->drv;
	if (d->spi_on && PP(m)->spi_close)
		PP(m)->spi_close(PP(m)->user);
	d->spi_on = false;
}

static const struct espat_param p_spiinit[] = {
    P_INT("clock", 0, ESPAT_DRV_SPI_CLOCK_MAX),
    P_INT_OPT("mode", 0, 3),
    P_INT_OPT("cmd_bit", 0, 16),
    P_INT_OPT("addr_bit", 0, 64),
    P_INT_OPT("dma_chan", 0, 2),
    P_INT_OPT("bits_msb", 0, 3),
};

static enum espat_rc spiinit_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	if (a->n == 1 && a->v[0].i == 0) {
		spi_release(m);
		return ESPAT_RC_OK;
	}
	if (a->n < 5)
		return espat_fail(E(m), ESPAT_ERR_NUM(5, a->n));
	for (size_t i = 0; i < 5; i++)
		if (!given(a, i))
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	if (a->v[0].i == 0)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	/* the pins come first (guide: AT+DRVSPICONFGPIO before this) */
	if (!d->spi_pins || d->spi_on || !PP(m)->spi_open)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	uint8_t msb = given(a, 5) ? (uint8_t)a->v[5].i : 0;
	d->spi = (struct espat_spi_cfg){
	    .clock_hz = (uint32_t)a->v[0].i,
	    .mode = (uint8_t)a->v[1].i,
	    .tx_lsb_first = msb & 1,
	    .rx_lsb_first = (msb & 2) != 0,
	};
	if (PP(m)->spi_open(PP(m)->user, &d->spi) != 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	d->cmd_bits = (uint8_t)a->v[2].i;
	d->addr_bits = (uint8_t)a->v[3].i;
	d->dma = (uint8_t)a->v[4].i;
	d->spi_on = true;
	return ESPAT_RC_OK;
}

static const struct espat_param p_spirw[] = {
    P_INT("data_len", 0, ESPAT_DRV_SPI_LEN_MAX),
    P_INT_OPT("cmd", 0, 0xffff),
    P_INT_OPT("cmd_len", 0, 2),
    P_INT_OPT("addr", 0, 0xffffffffll),
    P_INT_OPT("addr_len", 0, 4),
};

/* The command and address phases of AT+DRVSPIRD/WR: a <cmd> with its
 * <cmd_len> in bytes, an <addr> with its <addr_len>; both of a pair or
 * neither. The data length fits the DMA setting. */
static enum espat_rc spi_phases(struct espat_module *m, const struct espat_args *a,
                                struct espat_spi_xfer *x)
{
	struct espat_drv *d = m->drv;
	memset(x, 0, sizeof(*x));
	x->len = (size_t)a->v[0].i;
	if (x->len > (d->dma ? ESPAT_DRV_SPI_LEN_MAX : ESPAT_DRV_SPI_NODMA_MAX))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	for (size_t i = 1; i < 5; i += 2) {
		if (given(a, i) != given(a, i + 1))
			return espat_fail(E(m), ESPAT_ERR_INVALID(given(a, i) ? i + 1 : i));
		if (!given(a, i))
			continue;
		uint64_t v = (uint64_t)a->v[i].i;
		unsigned bytes = (unsigned)a->v[i + 1].i;
		if (bytes < 8 && v >> (8 * bytes))
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		if (i == 1) {
			x->cmd = (uint16_t)v;
			x->cmd_bits = (uint8_t)(8 * bytes);
		} else {
			x->addr = v;
			x->addr_bits = (uint8_t)(8 * bytes);
		}
	}
	if (!d->spi_on || !PP(m)->spi_xfer)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return ESPAT_RC_OK;
}

static enum espat_rc spird_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_spi_xfer x;
	if (a->v[0].i < 1)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (spi_phases(m, a, &x) != ESPAT_RC_OK)
		return ESPAT_RC_ERROR;
	uint8_t *buf = malloc(x.len);
	if (!buf)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	x.rx = buf;
	enum espat_rc rc = PP(m)->spi_xfer(PP(m)->user, &x) == 0
	                       ? hex_line(m, "+DRVSPIRD:", buf, x.len)
	                       : espat_fail(E(m), ESPAT_ERR_EXEC);
	free(buf);
	return rc;
}

static enum espat_rc spiwr_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_drv *d = m->drv;
	if (!entry_take(d, p, n) || !last)
		return ESPAT_RC_PENDING;
	struct espat_spi_xfer x = d->wr_spi;
	x.tx = d->buf;
	x.len = d->got;
	int rc =
	    d->spi_on && PP(m)->spi_xfer ? PP(m)->spi_xfer(PP(m)->user, &x) : ESPAT_PERIPH_FAIL;
	entry_end(d);
	return rc == 0 ? ESPAT_RC_OK : espat_fail(E(m), ESPAT_ERR_EXEC);
}

static enum espat_rc spiwr_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_drv *d = m->drv;
	struct espat_spi_xfer x;
	if (spi_phases(m, a, &x) != ESPAT_RC_OK)
		return ESPAT_RC_ERROR;
	if (x.len == 0) /* the command and address phases alone */
		return PP(m)->spi_xfer(PP(m)->user, &x) == 0 ? ESPAT_RC_OK
		                                             : espat_fail(E(m), ESPAT_ERR_EXEC);
	entry_end(d);
	d->wr_spi = x;
	d->want = x.len;
	if (!(d->buf = malloc(d->want)))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_engine_expect_data(E(m), d->want, spiwr_data);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- table, lifecycle ------------------------------------------------------ */

static const struct espat_cmd drv_rows[] = {
    {.name = "+DRVADC",
     .set = adc_set,
     .params = p_adc,
     .nparams = N(p_adc),
     .help = "Read ADC channel data"},
    {.name = "+DRVPWMINIT",
     .set = pwminit_set,
     .params = p_pwminit,
     .nparams = N(p_pwminit),
     .help = "Initialize PWM driver"},
    {.name = "+DRVPWMDUTY",
     .set = pwmduty_set,
     .params = p_pwmduty,
     .nparams = N(p_pwmduty),
     .help = "Set PWM duty"},
    {.name = "+DRVPWMFADE",
     .set = pwmfade_set,
     .params = p_pwmfade,
     .nparams = N(p_pwmfade),
     .help = "Set PWM fade"},
    {.name = "+DRVI2CINIT",
     .set = i2cinit_set,
     .params = p_i2cinit,
     .nparams = N(p_i2cinit),
     .help = "Initialize I2C master driver"},
    {.name = "+DRVI2CRD",
     .set = i2crd_set,
     .params = p_i2crd,
     .nparams = N(p_i2crd),
     .help = "Read I2C data"},
    {.name = "+DRVI2CWRDATA",
     .set = i2cwrdata_set,
     .params = p_i2cwrdata,
     .nparams = N(p_i2cwrdata),
     .help = "Write I2C data"},
    {.name = "+DRVI2CWRBYTES",
     .set = i2cwrbytes_set,
     .params = p_i2cwrbytes,
     .nparams = N(p_i2cwrbytes),
     .help = "Write no more than 4 bytes I2C data"},
    {.name = "+DRVSPICONFGPIO",
     .set = spigpio_set,
     .params = p_spigpio,
     .nparams = N(p_spigpio),
     .help = "Configure SPI GPIO"},
    {.name = "+DRVSPIINIT",
     .set = spiinit_set,
     .params = p_spiinit,
     .nparams = N(p_spiinit),
     .help = "Initialize SPI master driver"},
    {.name = "+DRVSPIRD",
     .set = spird_set,
     .params = p_spirw,
     .nparams = N(p_spirw),
     .help = "Read SPI data"},
    {.name = "+DRVSPIWR",
     .set = spiwr_set,
     .params = p_spirw,
     .nparams = N(p_spirw),
     .help = "Write SPI data"},
};

static const struct espat_cmd_table drv_table = {
    .family = "drv",
    .rows = drv_rows,
    .n = sizeof(drv_rows) / sizeof(drv_rows[0]),
};

/* A restart releases every driver, as a reboot of the chip does. */
static void drv_free(struct espat_module *m)
{
	pwm_release(m);
	i2c_release(m);
	spi_release(m);
	entry_end(m->drv);
}

const struct espat_family espat_drv_family = {
    .name = "drv",
    .table = &drv_table,
    .state_size = sizeof(struct espat_drv),
    .state_slot = offsetof(struct espat_module, drv),
    .free = drv_free,
};
