/* The module: walks the registry's families through power-on, restart and
 * power-off, routes host input to the engine and delivers module events.
 * It names no family. The functions family.h declares live here too. */
#include "cmd/module.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/registry.h"

uint64_t espat_module_now(const struct espat_module *m)
{
	return m->ports.sys.now_ms(m->ports.sys.user);
}

size_t espat_module_tx_queued(const struct espat_module *m)
{
	const struct espat_pipe *p = &m->ports.pipe;
	return p->pending ? p->pending(p->user) : 0;
}

void espat_module_emit(struct espat_module *m, enum espat_event ev)
{
	for (size_t i = 0; i < m->reg.n; i++) {
		const struct espat_family *f = m->reg.rows[i];
		if ((f->events & ESPAT_EV(ev)) && f->on_event)
			f->on_event(m, ev);
	}
}

int64_t espat_rtc_now(const struct espat_module *m)
{
	return m->rtc.base + (int64_t)((espat_module_now(m) - m->rtc.set_ms) / 1000u);
}

void espat_rtc_set(struct espat_module *m, int64_t unix_s, uint64_t at_ms)
{
	m->rtc.base = unix_s;
	m->rtc.set_ms = at_ms;
	espat_module_emit(m, ESPAT_EV_RTC_SET);
}

static void **state_slot(struct espat_module *m, const struct espat_family *f)
{
	return (void **)((char *)m + f->state_slot);
}

/* Every family's state in factory condition, in registry order. */
static void families_init(struct espat_module *m)
{
	for (size_t i = 0; i < m->reg.n; i++) {
		const struct espat_family *f = m->reg.rows[i];
		if (f->state_size) {
			void *st = calloc(1, f->state_size);
			if (!st)
				abort(); /* a module without its state cannot answer at all */
			*state_slot(m, f) = st;
		}
		if (f->init)
			f->init(m);
	}
}

/* In reverse: a family may still use what an earlier one holds. */
static void families_free(struct espat_module *m)
{
	for (size_t i = m->reg.n; i-- > 0;) {
		const struct espat_family *f = m->reg.rows[i];
		if (f->free)
			f->free(m);
		if (f->state_size) {
			free(*state_slot(m, f));
			*state_slot(m, f) = NULL;
		}
	}
}

void espat_module_init(struct espat_module *m, const struct espat_ports *ports,
                       const struct espat_module_opts *opts)
{
	memset(m, 0, sizeof(*m));
	m->ports = *ports;
	if (opts)
		m->opts = *opts;
	if (m->opts.restart_ms == 0)
		m->opts.restart_ms = ESPAT_RESTART_MS;
	if (m->opts.factory_baud == 0)
		m->opts.factory_baud = 115200;
	m->reg = *espat_registry_of(m->opts.chip);
	m->dialect = m->reg.dialect;
	size_t nt = 0;
	for (size_t i = 0; i < m->reg.n && nt < ESPAT_FAMILIES_MAX; i++)
		if (m->reg.rows[i]->table)
			m->tables[nt++] = m->reg.rows[i]->table;
	espat_wr_init(&m->wr, &m->ports.pipe);
	espat_engine_init(&m->eng, m, &m->wr, m->tables, nt);
	m->eng.timers = &m->timers;
	m->settings.kv = &m->ports.nvs;
	m->settings.sysstore = true;
	families_init(m);
}

/* Everything a boot does: RAM state from factory defaults, then flash. */
static void boot(struct espat_module *m)
{
	m->eng.echo = true;
	m->wr.syslog = false;
	m->settings.sysstore = true;
	for (size_t i = 0; i < m->reg.n; i++)
		if (m->reg.rows[i]->boot)
			m->reg.rows[i]->boot(m);
	if (m->ports.pipe.set_uart)
		m->ports.pipe.set_uart(m->ports.pipe.user, &m->uart);
	m->boot_ms = espat_module_now(m);
	espat_engine_resume(&m->eng);
	const char *text = m->dialect->boot_text;
	espat_wr_msg(&m->wr, (const uint8_t *)text, strlen(text));
}

void espat_module_power_on(struct espat_module *m)
{
	/* The RTC starts at the epoch (1970) until SNTP or AT+SYSTIMESTAMP
	 * sets it. */
	m->rtc.base = 0;
	m->rtc.set_ms = espat_module_now(m);
	boot(m);
}

static void restart_due(void *user)
{
	struct espat_module *m = user;
	/* The RTC runs on through a soft restart (it is the module's, not a
	 * family's); all family state is lost. */
	espat_module_emit(m, ESPAT_EV_RESTART);
	families_free(m);
	families_init(m);
	m->boots++;
	if (m->ports.on_restart)
		m->ports.on_restart(m->ports.restart_user);
	boot(m);
}

void espat_module_restart(struct espat_module *m, uint32_t delay_ms)
{
	espat_engine_halt(&m->eng);
	espat_wr_close(&m->wr);
	espat_timer_arm(&m->timers, &m->restart_timer, espat_module_now(m) + delay_ms, restart_due,
	                m);
}

/* When a chunk's bytes arrived. Paced, a chunk takes its transmission time
 * on the line and queues behind the previous one (the host's UART sends
 * them back to back); unpaced, it all arrives now. */
static struct espat_arrival arrival(struct espat_module *m, size_t n)
{
	uint64_t now_us = espat_module_now(m) * 1000u;
	if (!m->opts.paced)
		return (struct espat_arrival){now_us, now_us};
	const struct espat_uart_cfg *u = &m->uart;
	uint32_t bits2 =
	    2u * (1u + u->databits + (u->parity ? 1u : 0u)) + (u->stopbits == 1   ? 2u
	                                                       : u->stopbits == 2 ? 3u
	                                                                          : 4u);
	uint64_t start = m->rx_line_us > now_us ? m->rx_line_us : now_us;
	uint64_t dur = (uint64_t)n * bits2 * 500000u / (u->baud ? u->baud : 115200u);
	m->rx_line_us = start + dur;
	return (struct espat_arrival){start, start + dur};
}

void espat_module_input(struct espat_module *m, const uint8_t *p, size_t n)
{
	struct espat_arrival at = arrival(m, n);
	espat_engine_input(&m->eng, p, n, &at);
	espat_module_emit(m, ESPAT_EV_INPUT_DONE);
}

void espat_module_tx_room(struct espat_module *m)
{
	espat_module_emit(m, ESPAT_EV_TX_ROOM);
}

void espat_module_poll(struct espat_module *m)
{
	espat_timers_run(&m->timers, espat_module_now(m));
}

uint64_t espat_module_next_deadline(const struct espat_module *m)
{
	return espat_timers_next(&m->timers);
}

const struct espat_uart_cfg *espat_module_uart(const struct espat_module *m)
{
	return &m->uart;
}

void espat_module_free(struct espat_module *m)
{
	espat_module_emit(m, ESPAT_EV_POWER_OFF);
	families_free(m);
	espat_wr_free(&m->wr);
}
