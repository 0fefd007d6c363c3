/* Basic AT commands (guide section 3.1): the table and the commands that
 * touch only module state. Flash partitions and the manufacturing NVS are in
 * basic_flash.c, message filters in basic_msgfilter.c. */
#include "cmd/basic.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd/basic_internal.h"
#include "cmd/family.h"
#include "cmd/params.h"

/* The firmware this module reports: the real v3.3.0.0 ESP32-C3 build that
 * the guide's examples show (host libraries gate on "- ESP32C3 -" and a
 * version of at least 3.2.0.0). */
static const struct espat_fw espat_factory_fw = {
	.at_version = "3.3.0.0",
	.commit = "3b13d04",
	.build_date = "May  8 2024 08:21:54",
	.sdk_version = "v5.0.6-dirty",
	.compile_hash = "be332568",
	.compile_time = "May  8 2024 08:51:33",
	.bin_version = "v3.3.0.0",
	.module_name = "MINI-1",
};

const struct espat_fw *espat_basic_factory_fw(void)
{
	return &espat_factory_fw;
}

static struct espat_engine *E(struct espat_module *m)
{
	return &m->eng;
}

/* ---- AT, ATE, AT+RST, AT+GMR, AT+CMD, AT+GSLP, AT+RESTORE ---------------- */

enum espat_rc espat_basic_at_exec(struct espat_module *m, const struct espat_args *a)
{
	return ESPAT_RC_OK;
}

enum espat_rc espat_basic_ate_exec(struct espat_module *m, const struct espat_args *a)
{
	if (a->v[0].i != 0 && a->v[0].i != 1)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	m->eng.echo = a->v[0].i == 1;
	return ESPAT_RC_OK;
}

/* Prints OK, then the module goes dark for the restart time. */
static enum espat_rc restart_after_ok(struct espat_module *m)
{
	espat_wr_ok(&m->wr);
	espat_module_restart(m, m->opts.restart_ms);
	return ESPAT_RC_DONE;
}

enum espat_rc espat_basic_rst_exec(struct espat_module *m, const struct espat_args *a)
{
	return restart_after_ok(m);
}

static enum espat_rc rst_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->v[0].i == 1) {
		/* Download mode: the ROM bootloader owns the chip and the AT port
		 * stays silent until the next power cycle. */
		espat_wr_ok(&m->wr);
		espat_engine_halt(&m->eng);
		m->basic->download_mode = true;
		return ESPAT_RC_DONE;
	}
	return restart_after_ok(m);
}

static enum espat_rc gmr_exec(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_fw *fw = m->basic->fw;
	espat_wr_linef(&m->wr, "AT version:%s(%s - ESP32C3 - %s)", fw->at_version, fw->commit,
		       fw->build_date);
	espat_wr_linef(&m->wr, "SDK version:%s", fw->sdk_version);
	espat_wr_linef(&m->wr, "compile time(%s):%s", fw->compile_hash, fw->compile_time);
	espat_wr_linef(&m->wr, "Bin version:%s(%s)", fw->bin_version, fw->module_name);
	return ESPAT_RC_OK;
}

static enum espat_rc cmd_query(struct espat_module *m, const struct espat_args *a)
{
	unsigned idx = 0;
	for (size_t t = 0; t < m->eng.ntables; t++) {
		const struct espat_cmd_table *tab = m->eng.tables[t];
		for (size_t i = 0; i < tab->n; i++) {
			const struct espat_cmd *c = &tab->rows[i];
			espat_wr_linef(&m->wr, "+CMD:%u,\"AT%s\",%d,%d,%d,%d", idx++, c->name,
				       c->test != NULL, c->query != NULL, c->set != NULL,
				       c->exec != NULL);
		}
	}
	return ESPAT_RC_OK;
}

enum espat_rc espat_basic_gslp_set(struct espat_module *m, const struct espat_args *a)
{
	/* Deep sleep: the chip is off (the UART with it) for <time> ms, then
	 * boots as after a reset. 0 restarts at once. */
	uint32_t ms = (uint32_t)a->v[0].i;
	espat_wr_ok(&m->wr);
	espat_module_restart(m, ms > 0 ? ms : m->opts.restart_ms);
	return ESPAT_RC_DONE;
}

enum espat_rc espat_basic_restore_exec(struct espat_module *m, const struct espat_args *a)
{
	/* Every saved parameter returns to its factory value: the settings
	 * NVS is erased (the manufacturing NVS and partitions are not
	 * parameters and stay). The OTA boot slot lives in its own partition
	 * on the chip (otadata), so the firmware an update installed stays. */
	struct espat_ota_state ota;
	espat_ota_load(m, &ota);
	if (m->ports.nvs.erase(m->ports.nvs.user, NULL, NULL) != 0 || espat_ota_save(m, &ota) != 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return restart_after_ok(m);
}

/* ---- AT+SAVETRANSLINK, AT+TRANSINTVL -------------------------------------- */

static bool host_ok(const struct espat_arg *a)
{
	return a->kind == ESPAT_ARG_STR && a->len > 0 && a->len <= 64;
}

enum espat_rc espat_basic_savetranslink_set(struct espat_module *m, const struct espat_args *a)
{
	int64_t mode = a->v[0].i;
	char text[ESPAT_LINE_MAX];
	if (a->v[0].kind != ESPAT_ARG_INT)
		return espat_fail(E(m), ESPAT_ERR_TYPE(0));
	if (mode == 0) {
		if (a->n != 1)
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		espat_settings_save(&m->settings, ESPAT_SAVE_ALWAYS, "translink", "0");
		return ESPAT_RC_OK;
	}
	if (mode == 2) {
		/* BLE: <role>,<tx_srv>,<tx_char>,<rx_srv>,<rx_char>,<peer_addr> */
		if (a->n != 7)
			return espat_fail(E(m), ESPAT_ERR_NUM(7, a->n));
		for (size_t i = 1; i < 6; i++)
			if (a->v[i].kind != ESPAT_ARG_INT || a->v[i].i < 0 || a->v[i].i > 255)
				return espat_fail(E(m), ESPAT_ERR_INVALID(i));
		if (a->v[1].i != 1 && a->v[1].i != 2)
			return espat_fail(E(m), ESPAT_ERR_INVALID(1));
		if (a->v[6].kind != ESPAT_ARG_STR || a->v[6].len != 17)
			return espat_fail(E(m), ESPAT_ERR_INVALID(6));
		char addr[40];
		espat_args_quote(addr, sizeof(addr), a->v[6].s, a->v[6].len);
		snprintf(text, sizeof(text), "2,%d,%d,%d,%d,%d,%s", (int)a->v[1].i, (int)a->v[2].i,
			 (int)a->v[3].i, (int)a->v[4].i, (int)a->v[5].i, addr);
		espat_settings_save(&m->settings, ESPAT_SAVE_ALWAYS, "translink", text);
		return ESPAT_RC_OK;
	}
	if (mode != 1)
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	/* Wi-Fi: <"remote host">,<remote port>[,<"type">,<keep_alive | local port>] */
	if (a->n < 3 || a->n > 5)
		return espat_fail(E(m), ESPAT_ERR_NUM(3, a->n));
	if (!host_ok(&a->v[1]))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (a->v[2].kind != ESPAT_ARG_INT || a->v[2].i < 1 || a->v[2].i > 65535)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	const char *type = "TCP";
	size_t tlen = 3;
	if (a->n > 3 && a->v[3].kind != ESPAT_ARG_OMITTED) {
		if (a->v[3].kind != ESPAT_ARG_STR)
			return espat_fail(E(m), ESPAT_ERR_TYPE(3));
		type = a->v[3].s;
		tlen = a->v[3].len;
	}
	static const char *const types[] = {"TCP", "TCPv6", "SSL", "SSLv6", "UDP", "UDPv6"};
	size_t ti = 0;
	while (ti < 6 && !(strlen(types[ti]) == tlen && memcmp(types[ti], type, tlen) == 0))
		ti++;
	if (ti == 6)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	bool udp = ti >= 4;
	int64_t last = 0;
	if (a->n > 4 && a->v[4].kind != ESPAT_ARG_OMITTED) {
		if (a->v[4].kind != ESPAT_ARG_INT)
			return espat_fail(E(m), ESPAT_ERR_TYPE(4));
		last = a->v[4].i;
		if (udp ? (last < 0 || last > 65535) : (last < 0 || last > 7200))
			return espat_fail(E(m), ESPAT_ERR_INVALID(4));
	}
	char host[140];
	espat_args_quote(host, sizeof(host), a->v[1].s, a->v[1].len);
	snprintf(text, sizeof(text), "1,%s,%d,\"%s\",%d", host, (int)a->v[2].i, types[ti],
		 (int)last);
	espat_settings_save(&m->settings, ESPAT_SAVE_ALWAYS, "translink", text);
	return ESPAT_RC_OK;
}

static enum espat_rc transintvl_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+TRANSINTVL:%u", (unsigned)m->basic->transintvl);
	return ESPAT_RC_OK;
}

static enum espat_rc transintvl_set(struct espat_module *m, const struct espat_args *a)
{
	m->basic->transintvl = (uint16_t)a->v[0].i;
	return ESPAT_RC_OK;
}

/* ---- AT+UART_CUR, AT+UART_DEF -------------------------------------------- */

static void uart_from_args(struct espat_uart_cfg *u, const struct espat_args *a)
{
	u->baud = (uint32_t)a->v[0].i;
	u->databits = (uint8_t)a->v[1].i;
	u->stopbits = (uint8_t)a->v[2].i;
	u->parity = (uint8_t)a->v[3].i;
	u->flow = (uint8_t)a->v[4].i;
}

static void uart_line(struct espat_module *m, const char *name, const struct espat_uart_cfg *u)
{
	espat_wr_linef(&m->wr, "+%s:%u,%u,%u,%u,%u", name, (unsigned)u->baud,
		       (unsigned)u->databits, (unsigned)u->stopbits, (unsigned)u->parity,
		       (unsigned)u->flow);
}

enum espat_rc espat_basic_uart_cur_query(struct espat_module *m, const struct espat_args *a)
{
	uart_line(m, "UART_CUR", &m->uart);
	return ESPAT_RC_OK;
}

static enum espat_rc uart_query(struct espat_module *m, const struct espat_args *a)
{
	uart_line(m, "UART", &m->uart);
	return ESPAT_RC_OK;
}

enum espat_rc espat_basic_uart_def_query(struct espat_module *m, const struct espat_args *a)
{
	uart_line(m, "UART_DEF", &m->basic->uart_def);
	return ESPAT_RC_OK;
}

/* OK goes out at the old rate, then the UART switches (esp-at
 * at_uart_cmd.c: write OK, wait for TX done, reconfigure). */
static enum espat_rc uart_apply(struct espat_module *m, const struct espat_uart_cfg *u)
{
	m->uart = *u;
	espat_wr_ok(&m->wr);
	if (m->ports.pipe.set_uart)
		m->ports.pipe.set_uart(m->ports.pipe.user, u);
	return ESPAT_RC_DONE;
}

enum espat_rc espat_basic_uart_cur_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_uart_cfg u;
	uart_from_args(&u, a);
	return uart_apply(m, &u);
}

enum espat_rc espat_basic_uart_def_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_uart_cfg u;
	uart_from_args(&u, a);
	if (espat_settings_savef(&m->settings, ESPAT_SAVE_ALWAYS, "uart_def", "%u,%u,%u,%u,%u",
				 (unsigned)u.baud, (unsigned)u.databits, (unsigned)u.stopbits,
				 (unsigned)u.parity, (unsigned)u.flow) != 0)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	m->basic->uart_def = u;
	return uart_apply(m, &u);
}

/* ---- AT+SLEEP, AT+SLEEPWKCFG ---------------------------------------------- */

static enum espat_rc sleep_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+SLEEP:%u", (unsigned)m->basic->sleep);
	return ESPAT_RC_OK;
}

static enum espat_rc sleep_set(struct espat_module *m, const struct espat_args *a)
{
	m->basic->sleep = (uint8_t)a->v[0].i;
	m->basic->sleep_sets++;
	return ESPAT_RC_OK;
}

static enum espat_rc sleepwkcfg_set(struct espat_module *m, const struct espat_args *a)
{
	int64_t src = a->v[0].i;
	if (src != 2) /* 0 and 1 are reserved, not supported */
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	/* ESP32-C3 GPIOs 0..21 */
	if (a->v[1].i < 0 || a->v[1].i > 21)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (a->n < 3 || a->v[2].kind == ESPAT_ARG_OMITTED)
		return espat_fail(E(m), ESPAT_ERR_NUM(3, a->n));
	if (a->v[2].i != 0 && a->v[2].i != 1)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	m->basic->wk_source = (uint8_t)src;
	m->basic->wk_gpio = (uint8_t)a->v[1].i;
	m->basic->wk_level = (uint8_t)a->v[2].i;
	return ESPAT_RC_OK;
}

/* ---- AT+SYSRAM, AT+SYSTEMP ------------------------------------------------ */

static enum espat_rc sysram_query(struct espat_module *m, const struct espat_args *a)
{
	uint32_t free_now = espat_heap_free(m);
	espat_wr_linef(&m->wr, "+SYSRAM:%u,%u", (unsigned)free_now,
		       (unsigned)m->basic->heap.min_free);
	return ESPAT_RC_OK;
}

static enum espat_rc systemp_query(struct espat_module *m, const struct espat_args *a)
{
	/* Centi-degrees: the die warms from ~24 C toward ~33 C over the first
	 * minutes of uptime, plus sensor noise of +-0.3 C. */
	uint64_t up_s = (espat_module_now(m) - m->boot_ms) / 1000u;
	uint32_t warm = (uint32_t)(900u * up_s / (up_s + 90u));
	int32_t noise = (int32_t)(m->ports.sys.random(m->ports.sys.user) % 61u) - 30;
	int32_t centi = 2400 + (int32_t)warm + noise + (int32_t)(m->basic->heap.used / 4096u);
	espat_wr_linef(&m->wr, "+SYSTEMP:%d.%02d", (int)(centi / 100), (int)(centi % 100));
	return ESPAT_RC_OK;
}

/* ---- AT+SYSMSG, AT+SYSLOG, AT+SYSSTORE, AT+SYSTIMESTAMP -------------------- */

static enum espat_rc sysmsg_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+SYSMSG:%u", (unsigned)m->basic->sysmsg);
	return ESPAT_RC_OK;
}

static enum espat_rc sysmsg_set(struct espat_module *m, const struct espat_args *a)
{
	m->basic->sysmsg = (uint8_t)a->v[0].i;
	espat_settings_savef(&m->settings, ESPAT_SAVE_SYSSTORE, "sysmsg", "%u",
			     (unsigned)m->basic->sysmsg);
	return ESPAT_RC_OK;
}

static enum espat_rc syslog_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+SYSLOG:%d", m->wr.syslog ? 1 : 0);
	return ESPAT_RC_OK;
}

static enum espat_rc syslog_set(struct espat_module *m, const struct espat_args *a)
{
	m->wr.syslog = a->v[0].i == 1;
	return ESPAT_RC_OK;
}

static enum espat_rc sysstore_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+SYSSTORE:%d", m->settings.sysstore ? 1 : 0);
	return ESPAT_RC_OK;
}

static enum espat_rc sysstore_set(struct espat_module *m, const struct espat_args *a)
{
	m->settings.sysstore = a->v[0].i == 1;
	return ESPAT_RC_OK;
}

static enum espat_rc systimestamp_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+SYSTIMESTAMP:%lld", (long long)espat_rtc_now(m));
	return ESPAT_RC_OK;
}

static enum espat_rc systimestamp_set(struct espat_module *m, const struct espat_args *a)
{
	espat_rtc_set(m, a->v[0].i, espat_module_now(m));
	return ESPAT_RC_OK;
}

/* ---- AT+RFPOWER ------------------------------------------------------------ */

static enum espat_rc rfpower_query(struct espat_module *m, const struct espat_args *a)
{
	const struct espat_basic *b = m->basic;
	unsigned wifi = b->rf_wifi > 80 ? 80u : b->rf_wifi; /* 81..84 read back as 80 */
	espat_wr_linef(&m->wr, "+RFPOWER:%u,%u,%u,%u", wifi, (unsigned)b->rf_ble[0],
		       (unsigned)b->rf_ble[1], (unsigned)b->rf_ble[2]);
	return ESPAT_RC_OK;
}

static enum espat_rc rfpower_set(struct espat_module *m, const struct espat_args *a)
{
	/* The BLE levels come as a group of three or not at all. */
	size_t given = 0;
	for (size_t i = 1; i < a->n; i++)
		given += a->v[i].kind != ESPAT_ARG_OMITTED;
	if (given != 0 && given != 3)
		return espat_fail(E(m), ESPAT_ERR_NUM(4, a->n));
	m->basic->rf_wifi = (uint8_t)a->v[0].i;
	if (given == 3) {
		/* scan and conn power follow the advertising power (guide 3.1.21) */
		uint8_t adv = (uint8_t)a->v[1].i;
		m->basic->rf_ble[0] = adv;
		m->basic->rf_ble[1] = adv;
		m->basic->rf_ble[2] = adv;
	}
	return ESPAT_RC_OK;
}

/* ---- AT+SYSREG ------------------------------------------------------------- */

static enum espat_rc sysreg_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_basic *b = m->basic;
	uint32_t addr = (uint32_t)a->v[1].i;
	if (a->v[0].i == 0) {
		if (a->n > 2 && a->v[2].kind != ESPAT_ARG_OMITTED)
			return espat_fail(E(m), ESPAT_ERR_NUM(2, a->n));
		espat_wr_linef(&m->wr, "+SYSREG:0x%08x", (unsigned)espat_reg_read(b, addr));
		return ESPAT_RC_OK;
	}
	if (a->n < 3 || a->v[2].kind == ESPAT_ARG_OMITTED)
		return espat_fail(E(m), ESPAT_ERR_NUM(3, a->n));
	if (!espat_reg_write(b, addr, (uint32_t)a->v[2].i))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	return ESPAT_RC_OK;
}

/* ---- the table -------------------------------------------------------------- */


static const struct espat_param p_rst[] = {P_INT("mode", 0, 1)};
static const struct espat_param p_gslp[] = {P_INT("time", 0, UINT32_MAX)};
static const struct espat_param p_translink[] = {
	P_INT("mode", 0, 2), P_ANY_OPT("p1"), P_ANY_OPT("p2"), P_ANY_OPT("p3"),
	P_ANY_OPT("p4"),     P_ANY_OPT("p5"), P_ANY_OPT("p6"),
};
static const struct espat_param p_transintvl[] = {P_INT("interval", 0, 1000)};
static const struct espat_param p_uart[] = {
	P_INT("baudrate", 80, 5000000), P_INT("databits", 5, 8), P_INT("stopbits", 1, 3),
	P_INT("parity", 0, 2),          P_INT("flow control", 0, 3),
};
static const struct espat_param p_sleep[] = {P_INT("sleep mode", 0, 3)};
static const struct espat_param p_sysmsg[] = {P_INT("state", 0, 7)};
static const struct espat_param p_bool[] = {P_INT("enable", 0, 1)};
static const struct espat_param p_timestamp[] = {P_INT("Unix_timestamp", 0, INT64_MAX)};
static const struct espat_param p_sleepwk[] = {
	P_INT("wakeup source", 0, 2), P_INT("param1", 0, INT32_MAX), P_INT_OPT("param2", 0, 1)};
static const struct espat_param p_rfpower[] = {
	P_INT("wifi_power", 40, 84), P_INT_OPT("ble_adv_power", 0, 15),
	P_INT_OPT("ble_scan_power", 0, 15), P_INT_OPT("ble_conn_power", 0, 15)};
static const struct espat_param p_sysreg[] = {
	P_INT("direct", 0, 1), P_INT("address", 0, UINT32_MAX), P_INT_OPT("write value", 0, UINT32_MAX)};

static const struct espat_cmd basic_rows[] = {
	{.name = "", .exec = espat_basic_at_exec, .help = "Test AT startup"},
	{.name = "+RST", .exec = espat_basic_rst_exec, .set = rst_set, .params = p_rst, .nparams = N(p_rst),
	 .help = "Restart the module"},
	{.name = "+GMR", .exec = gmr_exec, .help = "Check version information"},
	{.name = "+CMD", .query = cmd_query, .help = "List all AT commands and types supported"},
	{.name = "+GSLP", .set = espat_basic_gslp_set, .params = p_gslp, .nparams = N(p_gslp),
	 .help = "Enter Deep-sleep mode"},
	{.name = "E", .exec = espat_basic_ate_exec, .flags = ESPAT_CMD_DIGIT_SUFFIX,
	 .help = "Configure AT command echoing (ATE0/ATE1)"},
	{.name = "+RESTORE", .exec = espat_basic_restore_exec, .help = "Restore factory default settings"},
	{.name = "+SAVETRANSLINK", .set = espat_basic_savetranslink_set, .params = p_translink,
	 .nparams = N(p_translink), .help = "Set whether to enter passthrough mode on power-up"},
	{.name = "+TRANSINTVL", .query = transintvl_query, .set = transintvl_set,
	 .params = p_transintvl, .nparams = N(p_transintvl),
	 .help = "Set the data transmission interval in passthrough mode"},
	{.name = "+UART_CUR", .query = espat_basic_uart_cur_query, .set = espat_basic_uart_cur_set, .params = p_uart,
	 .nparams = N(p_uart), .help = "Current UART configuration, not saved in flash"},
	/* Deprecated alias of AT+UART_DEF that real firmware still registers
	 * (esp-at at_uart_cmd.c); its query reads the live UART. */
	{.name = "+UART", .query = uart_query, .set = espat_basic_uart_def_set, .params = p_uart,
	 .nparams = N(p_uart), .help = "Deprecated: AT+UART_DEF"},
	{.name = "+UART_DEF", .query = espat_basic_uart_def_query, .set = espat_basic_uart_def_set, .params = p_uart,
	 .nparams = N(p_uart), .help = "Default UART configuration, saved in flash"},
	{.name = "+SLEEP", .query = sleep_query, .set = sleep_set, .params = p_sleep,
	 .nparams = N(p_sleep), .help = "Set the sleep mode"},
	{.name = "+SYSRAM", .query = sysram_query, .help = "Query current remaining heap size and minimum heap size"},
	{.name = "+SYSMSG", .query = sysmsg_query, .set = sysmsg_set, .params = p_sysmsg,
	 .nparams = N(p_sysmsg), .help = "Query/Set the current system message state"},
	{.name = "+SYSMSGFILTER", .query = espat_msgfilter_query, .set = espat_msgfilter_set,
	 .params = p_bool, .nparams = N(p_bool), .help = "Enable or disable the system message filter"},
	{.name = "+SYSMSGFILTERCFG", .query = espat_msgfiltercfg_query,
	 .set = espat_msgfiltercfg_set, .params = espat_msgfiltercfg_params,
	 .nparams = ESPAT_MSGFILTERCFG_NPARAMS, .help = "Query/Set the system message filters"},
	{.name = "+SYSFLASH", .query = espat_sysflash_query, .set = espat_sysflash_set,
	 .params = espat_sysflash_params, .nparams = ESPAT_SYSFLASH_NPARAMS,
	 .help = "Query/Set user partitions in flash"},
	{.name = "+SYSMFG", .query = espat_sysmfg_query, .set = espat_sysmfg_set,
	 .params = espat_sysmfg_params, .nparams = ESPAT_SYSMFG_NPARAMS,
	 .help = "Query/Set manufacturing nvs user partitions"},
	{.name = "+RFPOWER", .query = rfpower_query, .set = rfpower_set, .params = p_rfpower,
	 .nparams = N(p_rfpower), .help = "Query/Set RF TX power"},
	{.name = "+SYSROLLBACK", .exec = espat_sysrollback_exec,
	 .help = "Roll back to the previous firmware"},
	{.name = "+SYSTIMESTAMP", .query = systimestamp_query, .set = systimestamp_set,
	 .params = p_timestamp, .nparams = N(p_timestamp), .help = "Query/Set local time stamp"},
	{.name = "+SYSLOG", .query = syslog_query, .set = syslog_set, .params = p_bool,
	 .nparams = N(p_bool), .help = "Enable or disable the AT error code prompt"},
	{.name = "+SLEEPWKCFG", .set = sleepwkcfg_set, .params = p_sleepwk,
	 .nparams = N(p_sleepwk), .help = "Set the Light-sleep wakeup source and awake GPIO"},
	{.name = "+SYSSTORE", .query = sysstore_query, .set = sysstore_set, .params = p_bool,
	 .nparams = N(p_bool), .help = "Query/Set parameter store mode"},
	{.name = "+SYSREG", .set = sysreg_set, .params = p_sysreg, .nparams = N(p_sysreg),
	 .help = "Read/write the register"},
	{.name = "+SYSTEMP", .query = systemp_query,
	 .help = "Read the internal chip Celsius temperature value"},
};

const struct espat_cmd_table espat_basic_table = {
	.family = "basic",
	.rows = basic_rows,
	.n = sizeof(basic_rows) / sizeof(basic_rows[0]),
};

/* ---- lifecycle --------------------------------------------------------------- */

void espat_basic_init(struct espat_module *m)
{
	struct espat_basic *b = m->basic;
	memset(b, 0, sizeof(*b));
	b->fw = &espat_factory_fw;
	struct espat_uart_cfg u = {.baud = m->opts.factory_baud ? m->opts.factory_baud : 115200,
				   .databits = 8, .stopbits = 1, .parity = 0, .flow = 0};
	b->uart_def = u;
	m->uart = u;
	b->transintvl = 20;
	b->sysmsg = 0;
	b->sleep = 1; /* modem sleep: ESP-IDF's default Wi-Fi power save */
	b->rf_wifi = 78;
	b->rf_ble[0] = b->rf_ble[1] = b->rf_ble[2] = 11; /* +9 dBm, the BLE default */
	b->heap.base_free = 167000;
	b->heap.min_free = b->heap.base_free;
	espat_msgfilter_init(m);
}

void espat_basic_boot(struct espat_module *m)
{
	struct espat_basic *b = m->basic;
	struct espat_args a;
	if (espat_settings_load(&m->settings, "uart_def", &a) && a.n == 5) {
		bool ok = true;
		for (size_t i = 0; i < 5; i++)
			ok = ok && a.v[i].kind == ESPAT_ARG_INT;
		if (ok)
			uart_from_args(&b->uart_def, &a);
	}
	m->uart = b->uart_def;
	if (espat_settings_load(&m->settings, "sysmsg", &a) && a.n == 1 &&
	    a.v[0].kind == ESPAT_ARG_INT && a.v[0].i >= 0 && a.v[0].i <= 7)
		b->sysmsg = (uint8_t)a.v[0].i;
	espat_flash_boot(m);
	/* Boot-time heap: some noise so two boots do not report the same. */
	b->heap.base_free -= m->ports.sys.random(m->ports.sys.user) % 2048u;
	b->heap.min_free = b->heap.base_free - 18000u - m->ports.sys.random(m->ports.sys.user) % 4096u;
}

void espat_basic_free(struct espat_module *m)
{
	espat_timer_cancel(&m->timers, &m->basic->op_timer);
	espat_msgfilter_free(m);
	espat_flash_free(m);
}

const struct espat_family espat_basic_family = {
	.name = "basic",
	.table = &espat_basic_table,
	.state_size = sizeof(struct espat_basic),
	.state_slot = offsetof(struct espat_module, basic),
	.init = espat_basic_init,
	.boot = espat_basic_boot,
	.free = espat_basic_free,
};

/* ---- for other families ------------------------------------------------------ */

uint8_t espat_basic_sysmsg(const struct espat_module *m)
{
	return m->basic->sysmsg;
}

uint8_t espat_basic_sleep_mode(const struct espat_module *m)
{
	return m->basic->sleep;
}

uint32_t espat_basic_sleep_sets(const struct espat_module *m)
{
	return m->basic->sleep_sets;
}

uint16_t espat_basic_transintvl(const struct espat_module *m)
{
	return m->basic->transintvl;
}

void espat_basic_set_fw(struct espat_module *m, const struct espat_fw *fw)
{
	m->basic->fw = fw;
}

/* ---- simulated hardware --------------------------------------------------------- */

uint32_t espat_heap_free(struct espat_module *m)
{
	struct espat_heap *h = &m->basic->heap;
	uint32_t jitter = m->ports.sys.random(m->ports.sys.user) % 512u;
	uint32_t used = h->used + jitter;
	uint32_t now = used < h->base_free ? h->base_free - used : 0;
	if (now < h->min_free)
		h->min_free = now;
	return now;
}

void espat_heap_take(struct espat_module *m, uint32_t bytes)
{
	struct espat_heap *h = &m->basic->heap;
	h->used += bytes;
	uint32_t now = h->used < h->base_free ? h->base_free - h->used : 0;
	if (now < h->min_free)
		h->min_free = now;
}

void espat_heap_give(struct espat_module *m, uint32_t bytes)
{
	struct espat_heap *h = &m->basic->heap;
	h->used = bytes < h->used ? h->used - bytes : 0;
}

uint32_t espat_reg_read(const struct espat_basic *b, uint32_t addr)
{
	for (size_t i = 0; i < b->nregs; i++)
		if (b->regs[i].addr == addr)
			return b->regs[i].value;
	return 0;
}

bool espat_reg_write(struct espat_basic *b, uint32_t addr, uint32_t value)
{
	for (size_t i = 0; i < b->nregs; i++) {
		if (b->regs[i].addr == addr) {
			b->regs[i].value = value;
			return true;
		}
	}
	if (b->nregs == ESPAT_REGS_MAX)
		return false;
	b->regs[b->nregs].addr = addr;
	b->regs[b->nregs].value = value;
	b->nregs++;
	return true;
}
