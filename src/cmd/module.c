#include "cmd/module.h"

#include <string.h>

#include "cmd/registry.h"

uint64_t espat_module_now(const struct espat_module *m)
{
	return m->ports.sys.now_ms(m->ports.sys.user);
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
	espat_wr_init(&m->wr, &m->ports.pipe);
	espat_engine_init(&m->eng, m, &m->wr, espat_registry, espat_registry_len);
	m->eng.timers = &m->timers;
	m->settings.kv = &m->ports.nvs;
	m->settings.sysstore = true;
	espat_basic_init(m);
	espat_wifi_init(m);
	espat_tcpip_init(m);
	espat_ssl_init(m);
	espat_svc_init(m);
	espat_ota_init(m);
}

/* Everything a boot does: RAM state from factory defaults, then flash. */
static void boot(struct espat_module *m)
{
	m->eng.echo = true;
	m->wr.syslog = false;
	m->settings.sysstore = true;
	espat_basic_boot(m);
	espat_wifi_boot(m);
	espat_ssl_boot(m); /* before tcpip: an SSL passthrough link may open at boot */
	espat_tcpip_boot(m);
	espat_svc_boot(m);
	espat_ota_boot(m); /* after basic: it may replace the firmware identity */
	if (m->ports.pipe.set_uart)
		m->ports.pipe.set_uart(m->ports.pipe.user, &m->basic.uart_cur);
	m->boot_ms = espat_module_now(m);
	espat_engine_resume(&m->eng);
	/* esp-at at_init.c writes "\r\nready\r\n" once the port is up */
	static const char ready[] = "\r\nready\r\n";
	espat_wr_msg(&m->wr, (const uint8_t *)ready, sizeof(ready) - 1);
}

void espat_module_power_on(struct espat_module *m)
{
	/* The RTC starts at the epoch (1970) and counts on through soft
	 * restarts until SNTP or AT+SYSTIMESTAMP sets it, as the chip's does. */
	m->basic.rtc_base = 0;
	m->basic.rtc_set_ms = espat_module_now(m);
	boot(m);
}

static void restart_due(void *user)
{
	struct espat_module *m = user;
	/* The RTC runs on through a soft restart; all other RAM state is lost. */
	int64_t rtc_base = m->basic.rtc_base;
	uint64_t rtc_set_ms = m->basic.rtc_set_ms;
	espat_ota_free(m);
	espat_svc_free(m);
	espat_tcpip_free(m);
	espat_wifi_free(m);
	espat_basic_free(m);
	espat_basic_init(m);
	espat_wifi_init(m);
	espat_tcpip_init(m);
	espat_ssl_init(m);
	espat_svc_init(m);
	espat_ota_init(m);
	m->basic.rtc_base = rtc_base;
	m->basic.rtc_set_ms = rtc_set_ms;
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
	const struct espat_uart_cfg *u = &m->basic.uart_cur;
	uint32_t bits2 = 2u * (1u + u->databits + (u->parity ? 1u : 0u)) +
			 (u->stopbits == 1 ? 2u : u->stopbits == 2 ? 3u : 4u);
	uint64_t start = m->rx_line_us > now_us ? m->rx_line_us : now_us;
	uint64_t dur = (uint64_t)n * bits2 * 500000u / (u->baud ? u->baud : 115200u);
	m->rx_line_us = start + dur;
	return (struct espat_arrival){start, start + dur};
}

void espat_module_input(struct espat_module *m, const uint8_t *p, size_t n)
{
	struct espat_arrival at = arrival(m, n);
	espat_engine_input(&m->eng, p, n, &at);
	espat_tcpip_after_input(m);
}

void espat_module_tx_room(struct espat_module *m)
{
	espat_tcpip_tx_room(m);
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
	return &m->basic.uart_cur;
}

void espat_module_free(struct espat_module *m)
{
	espat_ota_free(m);
	espat_svc_free(m);
	espat_tcpip_free(m);
	espat_wifi_free(m);
	espat_basic_free(m);
	espat_wr_free(&m->wr);
}
