/* AT+USERRAM, AT+USEROTA, AT+USERWKMCUCFG, AT+USERMCUSLEEP, AT+USERDOCS
 * (guide 3.12; esp-at's at_user_cmd.c). */
#include "cmd/user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/basic.h"
#include "cmd/ota.h"
#include "cmd/params.h"

#define E(m) (&(m)->eng)
#define PP(m) (&(m)->ports.periph)

static bool given(const struct espat_args *a, size_t i)
{
	return i < a->n && a->v[i].kind != ESPAT_ARG_OMITTED;
}

const struct espat_user *espat_user_state(const struct espat_module *m)
{
	return m->user;
}

/* ---- AT+USERRAM ----------------------------------------------------------- */

enum { RAM_FREE, RAM_MALLOC, RAM_WRITE, RAM_READ, RAM_CLEAR };

static void ram_release(struct espat_user *u)
{
	free(u->ram);
	u->ram = NULL;
	u->ram_size = 0;
}

static enum espat_rc userram_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	espat_wr_linef(&m->wr, "+USERRAM:%zu", (size_t)ESPAT_USER_HEAP_FREE - m->user->ram_size);
	return ESPAT_RC_OK;
}

static enum espat_rc userram_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_user *u = m->user;
	size_t k = n < u->wr_len - u->wr_got ? n : u->wr_len - u->wr_got;
	if (u->ram) /* released meanwhile only by a restart, which ends the entry */
		memcpy(u->ram + u->wr_off + u->wr_got, p, k);
	u->wr_got += k;
	return last ? ESPAT_RC_OK : ESPAT_RC_PENDING;
}

/* Reads go out in records of at most 1 KiB: +USERRAM:<length>,<bytes>. */
static void ram_read(struct espat_module *m, size_t off, size_t n)
{
	struct espat_user *u = m->user;
	char head[32];
	uint8_t *rec = malloc(sizeof(head) + ESPAT_USERRAM_CHUNK + 2);
	if (!rec)
		return;
	for (size_t at = 0; at < n; at += ESPAT_USERRAM_CHUNK) {
		size_t k = n - at < ESPAT_USERRAM_CHUNK ? n - at : ESPAT_USERRAM_CHUNK;
		int h = snprintf(head, sizeof(head), "+USERRAM:%zu,", k);
		memcpy(rec, head, (size_t)h);
		memcpy(rec + h, u->ram + off + at, k);
		memcpy(rec + h + k, "\r\n", 2);
		espat_wr_msg(&m->wr, rec, (size_t)h + k + 2);
	}
	free(rec);
}

static const struct espat_param p_userram[] = {
    P_INT("operation", 0, 4),
    P_INT_OPT("size", 1, ESPAT_USER_HEAP_FREE),
    P_INT_OPT("offset", 0, ESPAT_USER_HEAP_FREE),
};

static enum espat_rc userram_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_user *u = m->user;
	int64_t op = a->v[0].i;
	size_t size = given(a, 1) ? (size_t)a->v[1].i : 0;
	size_t off = given(a, 2) ? (size_t)a->v[2].i : 0;
	switch (op) {
	case RAM_FREE:
		ram_release(u);
		return ESPAT_RC_OK;
	case RAM_MALLOC:
		if (!size)
			return espat_fail(E(m), ESPAT_ERR_NUM(2, a->n));
		if (u->ram) /* malloc twice: release first */
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		if (!(u->ram = calloc(1, size)))
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		u->ram_size = size;
		return ESPAT_RC_OK;
	case RAM_CLEAR:
		if (!u->ram)
			return espat_fail(E(m), ESPAT_ERR_EXEC);
		memset(u->ram, 0, u->ram_size);
		return ESPAT_RC_OK;
	default:
		break;
	}
	/* write and read: malloc first, and stay inside */
	if (!size)
		return espat_fail(E(m), ESPAT_ERR_NUM(2, a->n));
	if (!u->ram)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	if (size > u->ram_size)
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	if (off > u->ram_size - size)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (op == RAM_READ) {
		ram_read(m, off, size);
		return ESPAT_RC_OK;
	}
	u->wr_off = off;
	u->wr_len = size;
	u->wr_got = 0;
	espat_engine_expect_data(E(m), size, userram_data);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- AT+USEROTA ----------------------------------------------------------- */

static void url_release(struct espat_user *u)
{
	free(u->url);
	u->url = NULL;
	u->url_len = u->url_got = 0;
}

/* The download ended: OK and a restart into the new image, or ERROR. */
static void userota_done(struct espat_module *m, bool ok)
{
	if (!ok) {
		espat_engine_complete(E(m), espat_fail(E(m), ESPAT_ERR_EXEC));
		return;
	}
	espat_wr_ok(&m->wr);
	espat_engine_complete(E(m), ESPAT_RC_DONE);
	espat_module_restart(m, m->opts.restart_ms);
}

static enum espat_rc userota_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_user *u = m->user;
	size_t k = n < u->url_len - u->url_got ? n : u->url_len - u->url_got;
	memcpy(u->url + u->url_got, p, k);
	u->url_got += k;
	if (!last)
		return ESPAT_RC_PENDING;
	char line[48];
	int h = snprintf(line, sizeof(line), "\r\nRecv %zu bytes\r\n", u->url_got);
	espat_wr_msg(&m->wr, (const uint8_t *)line, (size_t)h);
	int rc = espat_ota_fetch_url(m, (const char *)u->url, u->url_got, userota_done);
	url_release(u);
	return rc == 0 ? ESPAT_RC_PENDING : espat_fail(E(m), ESPAT_ERR_EXEC);
}

static const struct espat_param p_userota[] = {
    P_INT("url len", 1, ESPAT_USEROTA_URL_MAX),
};

static enum espat_rc userota_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_user *u = m->user;
	url_release(u);
	u->url_len = (size_t)a->v[0].i;
	if (!(u->url = malloc(u->url_len)))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	espat_engine_expect_data(E(m), u->url_len, userota_data);
	return ESPAT_RC_OK_PROMPT;
}

/* ---- waking the host ------------------------------------------------------ */

/* With the AT+SLEEP linkage, an AT+SLEEP set command since the last look
 * is the host's word: 0 awake, 1..3 asleep. */
static void take_sleep_cmd(struct espat_module *m)
{
	struct espat_user *u = m->user;
	uint32_t n = espat_basic_sleep_sets(m);
	if (n == u->sleep_seen)
		return;
	u->sleep_seen = n;
	if (u->wk_check & ESPAT_WAKE_CHECK_SLEEP)
		u->mcu_asleep = espat_basic_sleep_mode(m) != 0;
}

/* Whether AT takes the host to be asleep now. With neither linkage on it
 * cannot know, so every report wakes it (the guide's note: a wake signal
 * before each active message). */
static bool host_asleep(struct espat_module *m)
{
	struct espat_user *u = m->user;
	if (!(u->wk_check & (ESPAT_WAKE_CHECK_USERMCUSLEEP | ESPAT_WAKE_CHECK_SLEEP)))
		return true;
	take_sleep_cmd(m);
	return u->mcu_asleep;
}

static void gpio_level(struct espat_module *m, int level)
{
	if (PP(m)->gpio_set)
		PP(m)->gpio_set(PP(m)->user, m->user->wk_num, level);
}

/* The wake is over (the wait ran out, or the host said it is awake): the
 * GPIO goes back, the held reports go out. */
static void wake_end(struct espat_module *m, bool by_timeout)
{
	struct espat_user *u = m->user;
	if (!u->waking)
		return;
	u->waking = false;
	espat_timer_cancel(&m->timers, &u->wk_timer);
	if (u->wk_mode == ESPAT_WAKE_GPIO)
		gpio_level(m, !u->wk_signal);
	if (by_timeout && (u->wk_check & ESPAT_WAKE_CHECK_AWAKE_AFTER))
		u->mcu_asleep = false;
	espat_wr_release(&m->wr);
}

static void wake_timeout(void *user)
{
	wake_end(user, true);
}

/* The writer's gate: a report for a sleeping host waits for a wake. */
static bool wake_gate(void *user)
{
	struct espat_module *m = user;
	struct espat_user *u = m->user;
	if (!u->wk_on || !host_asleep(m))
		return true;
	u->waking = true;
	u->wakes++;
	if (u->wk_mode == ESPAT_WAKE_GPIO)
		gpio_level(m, u->wk_signal);
	else /* the wake byte on the AT port (UART1), ahead of the report */
		espat_wr_raw(&m->wr, &u->wk_signal, 1);
	espat_timer_arm(&m->timers, &u->wk_timer, espat_module_now(m) + u->wk_delay, wake_timeout,
	                m);
	return false;
}

static const struct espat_param p_wkcfg[] = {
    P_INT("enable", 0, 1),
    P_INT_OPT("wake mode", 1, 2),
    P_INT_OPT("wake number", 0, 255),
    P_INT_OPT("wake signal", 0, 255),
    P_INT_OPT("delay time", 0, ESPAT_WAKE_DELAY_MAX),
    P_INT_OPT("check mcu awake method", 0, 7), /* bit3 is not implemented */
};

static void wake_disable(struct espat_module *m)
{
	struct espat_user *u = m->user;
	wake_end(m, false);
	u->wk_on = false;
}

static enum espat_rc wkcfg_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_user *u = m->user;
	if (a->v[0].i == 0) {
		wake_disable(m);
		return ESPAT_RC_OK;
	}
	if (a->n < 5)
		return espat_fail(E(m), ESPAT_ERR_NUM(5, a->n));
	for (size_t i = 1; i < 5; i++)
		if (!given(a, i))
			return espat_fail(E(m), ESPAT_ERR_INVALID(i));
	uint8_t mode = (uint8_t)a->v[1].i;
	int64_t num = a->v[2].i, sig = a->v[3].i;
	if (mode == ESPAT_WAKE_GPIO && num > ESPAT_GPIO_MAX)
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (mode == ESPAT_WAKE_UART && num != 1) /* only UART1 */
		return espat_fail(E(m), ESPAT_ERR_INVALID(2));
	if (mode == ESPAT_WAKE_GPIO && sig > 1)
		return espat_fail(E(m), ESPAT_ERR_INVALID(3));
	wake_disable(m);
	u->wk_on = true;
	u->wk_mode = mode;
	u->wk_num = (uint8_t)num;
	u->wk_signal = (uint8_t)sig;
	u->wk_delay = (uint32_t)a->v[4].i;
	u->wk_check = given(a, 5) ? (uint8_t)a->v[5].i : ESPAT_WAKE_CHECK_USERMCUSLEEP;
	u->mcu_asleep = false; /* it just sent this command */
	u->sleep_seen = espat_basic_sleep_sets(m);
	if (mode == ESPAT_WAKE_GPIO)
		gpio_level(m, !u->wk_signal); /* idle: the other level */
	return ESPAT_RC_OK;
}

static const struct espat_param p_mcusleep[] = {
    P_INT("state", 0, 1),
};

static enum espat_rc mcusleep_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_user *u = m->user;
	if (!(u->wk_check & ESPAT_WAKE_CHECK_USERMCUSLEEP))
		return ESPAT_RC_OK; /* the linkage is off: AT does not listen */
	take_sleep_cmd(m);          /* an earlier AT+SLEEP is older news */
	u->mcu_asleep = a->v[0].i == 1;
	/* a wake event of the linkage ends the wait at once */
	if (!u->mcu_asleep)
		wake_end(m, false);
	return ESPAT_RC_OK;
}

/* ---- AT+USERDOCS ---------------------------------------------------------- */

static enum espat_rc userdocs_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	espat_wr_linef(&m->wr, "+USERDOCS:\"%s\"",
	               "https://docs.espressif.com/projects/esp-at/en/latest/esp32c3/index.html");
	espat_wr_linef(
	    &m->wr, "+USERDOCS:\"%s\"",
	    "https://docs.espressif.com/projects/esp-at/zh_CN/latest/esp32c3/index.html");
	return ESPAT_RC_OK;
}

/* ---- table, lifecycle ------------------------------------------------------ */

static const struct espat_cmd user_rows[] = {
    {.name = "+USERRAM",
     .query = userram_query,
     .set = userram_set,
     .params = p_userram,
     .nparams = N(p_userram),
     .help = "Operate user's free RAM"},
    {.name = "+USEROTA",
     .set = userota_set,
     .params = p_userota,
     .nparams = N(p_userota),
     .help = "Upgrade the firmware according to the specified URL"},
    {.name = "+USERWKMCUCFG",
     .set = wkcfg_set,
     .params = p_wkcfg,
     .nparams = N(p_wkcfg),
     .help = "Configure how AT wakes up MCU"},
    {.name = "+USERMCUSLEEP",
     .set = mcusleep_set,
     .params = p_mcusleep,
     .nparams = N(p_mcusleep),
     .help = "MCU indicates its sleep state"},
    {.name = "+USERDOCS",
     .query = userdocs_query,
     .help = "Query the ESP-AT user guide for current firmware"},
};

static const struct espat_cmd_table user_table = {
    .family = "user",
    .rows = user_rows,
    .n = sizeof(user_rows) / sizeof(user_rows[0]),
};

static void user_init(struct espat_module *m)
{
	m->wr.gate = wake_gate;
	m->wr.gate_user = m;
}

/* The AT+SLEEP linkage's wake event: an AT+SLEEP=0 during a wake ends it
 * at once, as AT+USERMCUSLEEP=0 does (its OK first: the command ran). */
static void user_event(struct espat_module *m, enum espat_event ev)
{
	struct espat_user *u = m->user;
	if (ev != ESPAT_EV_INPUT_DONE || !u->waking || !(u->wk_check & ESPAT_WAKE_CHECK_SLEEP))
		return;
	take_sleep_cmd(m);
	if (!u->mcu_asleep)
		wake_end(m, false);
}

/* A restart loses the RAM and the wake configuration (nothing persists). */
static void user_free(struct espat_module *m)
{
	struct espat_user *u = m->user;
	wake_disable(m);
	m->wr.gate = NULL;
	m->wr.gate_user = NULL;
	ram_release(u);
	url_release(u);
}

const struct espat_family espat_user_family = {
    .name = "user",
    .table = &user_table,
    .state_size = sizeof(struct espat_user),
    .state_slot = offsetof(struct espat_module, user),
    .init = user_init,
    .free = user_free,
    .events = ESPAT_EV(ESPAT_EV_INPUT_DONE),
    .on_event = user_event,
};
