/* Basic AT commands of the ESP8266 v1.5 instruction set (its section 3):
 * the same family as basic.c (state, lifecycle, AT, ATE, AT+RST,
 * AT+RESTORE, the UART) with v1.5's own rows where syntax or answers
 * differ: AT+GMR's three lines, AT+GSLP echoing the time, AT+SLEEP's
 * numbering, AT+RFPOWER's range and AT+RFVDD. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd/basic.h"
#include "cmd/basic_internal.h"
#include "cmd/family.h"
#include "cmd/params.h"

/* The firmware a v1.5 module reports: AT 1.1.0.0 on NONOS SDK 1.5.4, the
 * build the v1.5 instruction set documents (COMPAT #301). */
#define V15_AT_VERSION "AT version:1.1.0.0(May 11 2016 18:09:56)"
#define V15_SDK_VERSION "SDK version:1.5.4(baaeaebb)"
#define V15_COMPILE_TIME "compile time:May 20 2016 15:06:44"

/* VDD33 the module measures, in 1/1024 V (what AT+RFVDD uses without a
 * value, and reports until one is set). */
#define V15_VDD33_MEASURED 3300u

static enum espat_rc gmr_exec(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "%s", V15_AT_VERSION);
	espat_wr_linef(&m->wr, "%s", V15_SDK_VERSION);
	espat_wr_linef(&m->wr, "%s", V15_COMPILE_TIME);
	return ESPAT_RC_OK;
}

/* v1.5: "AT+GSLP=<time>" answers "<time>" then OK, then the chip sleeps. */
static enum espat_rc gslp_set(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "%lld", (long long)a->v[0].i);
	return espat_basic_gslp_set(m, a);
}

/* v1.5 numbers sleep modes 0 disable, 1 light, 2 modem (the ESP32-C3 set
 * swaps 1 and 2); the value is kept as v1.5 numbers it. */
static enum espat_rc sleep_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+SLEEP:%u", (unsigned)m->basic->sleep);
	return ESPAT_RC_OK;
}

static enum espat_rc sleep_set(struct espat_module *m, const struct espat_args *a)
{
	m->basic->sleep = (uint8_t)a->v[0].i;
	return ESPAT_RC_OK;
}

static enum espat_rc rfpower_set(struct espat_module *m, const struct espat_args *a)
{
	m->basic->rf_wifi = (uint8_t)a->v[0].i;
	return ESPAT_RC_OK;
}

static enum espat_rc rfvdd_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+RFVDD:%u", (unsigned)m->basic->rf_vdd);
	return ESPAT_RC_OK;
}

static enum espat_rc rfvdd_set(struct espat_module *m, const struct espat_args *a)
{
	m->basic->rf_vdd = (uint16_t)a->v[0].i;
	return ESPAT_RC_OK;
}

/* Without a value the TX power follows the VDD33 the ADC measures. */
static enum espat_rc rfvdd_exec(struct espat_module *m, const struct espat_args *a)
{
	m->basic->rf_vdd = V15_VDD33_MEASURED;
	return ESPAT_RC_OK;
}

/* AT+SAVETRANSLINK=<mode>,<remote IP>,<remote port>[,<type>][,<TCP keep
 * alive>][,<UDP local port>] [004:1314-1322]: TCP or UDP only; the keep
 * alive counts 500 ms units (the ESP32-C3's, seconds: rounded up); a UDP
 * local port may follow an empty keep-alive slot. Mode 0 ignores the rest. */
static enum espat_rc savetranslink_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_args b = {.n = 1};
	b.v[0] = a->v[0];
	if (a->v[0].i == 0)
		return espat_basic_savetranslink_set(m, &b);
	if (a->n < 3)
		return espat_fail(&m->eng, ESPAT_ERR_NUM(3, a->n));
	bool udp = false;
	if (a->n > 3 && a->v[3].kind != ESPAT_ARG_OMITTED) {
		bool tcp = a->v[3].kind == ESPAT_ARG_STR && a->v[3].len == 3 &&
		           memcmp(a->v[3].s, "TCP", 3) == 0;
		udp = a->v[3].kind == ESPAT_ARG_STR && a->v[3].len == 3 &&
		      memcmp(a->v[3].s, "UDP", 3) == 0;
		if (!tcp && !udp)
			return espat_fail(&m->eng, ESPAT_ERR_INVALID(3));
	}
	b = *a;
	b.n = a->n > 5 ? 5 : a->n;
	if (udp && a->n > 5) {
		/* "UDP",<empty keep alive>,<local port> */
		if (a->v[4].kind != ESPAT_ARG_OMITTED &&
		    !(a->v[4].kind == ESPAT_ARG_INT && a->v[4].i == 0))
			return espat_fail(&m->eng, ESPAT_ERR_INVALID(4));
		b.v[4] = a->v[5];
	} else if (!udp && a->n > 4 && a->v[4].kind == ESPAT_ARG_INT) {
		if (a->v[4].i < 0 || a->v[4].i > 7200)
			return espat_fail(&m->eng, ESPAT_ERR_INVALID(4));
		b.v[4].i = (a->v[4].i + 1) / 2;
	}
	if (!udp && a->n > 5)
		return espat_fail(&m->eng, ESPAT_ERR_NUM(5, a->n));
	return espat_basic_savetranslink_set(m, &b);
}

static const struct espat_param p_gslp[] = {P_INT("time", 0, UINT32_MAX)};
static const struct espat_param p_uart[] = {
    P_INT("baudrate", 110, 4608000), P_INT("databits", 5, 8),     P_INT("stopbits", 1, 3),
    P_INT("parity", 0, 2),           P_INT("flow control", 0, 3),
};
static const struct espat_param p_sleep[] = {P_INT("sleep mode", 0, 2)};
static const struct espat_param p_rfpower[] = {P_INT("TX power", 0, 82)};
static const struct espat_param p_rfvdd[] = {P_INT("VDD33", 1900, 3300)};
static const struct espat_param p_translink[] = {
    P_INT("mode", 0, 1),  P_STR_OPT("remote IP", 64),  P_INT_OPT("remote port", 1, 65535),
    P_STR_OPT("type", 3), P_ANY_OPT("TCP keep alive"), P_ANY_OPT("UDP local port"),
};

static const struct espat_cmd rows[] = {
    {.name = "", .exec = espat_basic_at_exec, .help = "Test AT startup"},
    {.name = "+RST", .exec = espat_basic_rst_exec, .help = "Restart the module"},
    {.name = "+GMR", .exec = gmr_exec, .help = "View version info"},
    {.name = "+GSLP",
     .set = gslp_set,
     .params = p_gslp,
     .nparams = N(p_gslp),
     .help = "Enter deep-sleep mode"},
    {.name = "E",
     .exec = espat_basic_ate_exec,
     .flags = ESPAT_CMD_DIGIT_SUFFIX,
     .help = "AT commands echo or not (ATE0/ATE1)"},
    {.name = "+RESTORE", .exec = espat_basic_restore_exec, .help = "Factory reset"},
    {.name = "+UART",
     .set = espat_basic_uart_def_set,
     .params = p_uart,
     .nparams = N(p_uart),
     .help = "UART configuration, saved in flash (deprecated)"},
    /* The query forms are the ESP32-C3's: 1.5-era firmware answers them
     * although the instruction set documents only the set forms (COMPAT #302). */
    {.name = "+UART_CUR",
     .query = espat_basic_uart_cur_query,
     .set = espat_basic_uart_cur_set,
     .params = p_uart,
     .nparams = N(p_uart),
     .help = "UART current configuration"},
    {.name = "+UART_DEF",
     .query = espat_basic_uart_def_query,
     .set = espat_basic_uart_def_set,
     .params = p_uart,
     .nparams = N(p_uart),
     .help = "UART default configuration, saved in flash"},
    {.name = "+SLEEP",
     .query = sleep_query,
     .set = sleep_set,
     .params = p_sleep,
     .nparams = N(p_sleep),
     .help = "Sleep mode"},
    {.name = "+RFPOWER",
     .set = rfpower_set,
     .params = p_rfpower,
     .nparams = N(p_rfpower),
     .help = "Set maximum value of RF TX power"},
    {.name = "+SAVETRANSLINK",
     .set = savetranslink_set,
     .params = p_translink,
     .nparams = N(p_translink),
     .help = "Save transparent transmission link to Flash"},
    {.name = "+RFVDD",
     .query = rfvdd_query,
     .set = rfvdd_set,
     .exec = rfvdd_exec,
     .params = p_rfvdd,
     .nparams = N(p_rfvdd),
     .help = "Set RF TX power according to VDD33"},
};

static const struct espat_cmd_table table = {
    .family = "basic",
    .rows = rows,
    .n = sizeof(rows) / sizeof(rows[0]),
};

static void v15_init(struct espat_module *m)
{
	espat_basic_init(m);
	m->basic->sleep = 2;    /* modem-sleep: v1.5's default */
	m->basic->rf_wifi = 82; /* the maximum, 20.5 dBm */
	m->basic->rf_vdd = V15_VDD33_MEASURED;
}

const struct espat_family espat_basic_v15_family = {
    .name = "basic",
    .table = &table,
    .state_size = sizeof(struct espat_basic),
    .state_slot = offsetof(struct espat_module, basic),
    .init = v15_init,
    .boot = espat_basic_boot,
    .free = espat_basic_free,
};
