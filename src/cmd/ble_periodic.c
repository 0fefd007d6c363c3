/* Periodic advertising (guide 3.4.48-3.4.52): the module's own train
 * (AT+BLEPERIODICDATA, AT+BLEPERIODICSTART, AT+BLEPERIODICSTOP) and a
 * scanner's sync to another device's (AT+BLESYNCSTART, AT+BLESYNCSTOP).
 * State in the ble family's slot (struct espat_ble_periodic).
 *
 * The train hangs from the extended advertising set: it goes on the air in
 * the set the BLE port carries (struct espat_ble_adv's per_* fields) while
 * the set advertises with <adv_type> 5, every ESPAT_BLE_PERIODIC_MS. A
 * synced scanner reports each event of the target's train as +BLESYNC,
 * whatever its scan windows (the sync has its own schedule, Core Vol 6
 * Part B 4.4.2.5). COMPAT #455-#457. */
#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/ble.h"
#include "cmd/params.h"
#include "core/args.h"

#define E(m) (&(m)->eng)
#define P(m) (&(m)->ble->periodic)
#define SYNC_LOOK_MS 100u /* how often a sync looks for a target not on the air */
#define SYNC_BURST 64u    /* events one look reports at most (a clock that jumped) */

/* ---- the module's own train ------------------------------------------------- */

static const struct espat_param p_data[] = {
    P_STR("periodic_data", 2 * ESPAT_BLE_PERIODIC_MAX),
};

/* A HEX string, 1 to ESPAT_BLE_PERIODIC_MAX bytes; on the air at once if
 * the train runs. RAM only (COMPAT #451). */
static enum espat_rc data_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	uint8_t d[ESPAT_BLE_PERIODIC_MAX];
	size_t n;
	const struct espat_arg *s = &a->v[0];
	if (s->len == 0 || !espat_hex_decode(s->s, s->len, d, sizeof(d), &n))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	memcpy(P(m)->data, d, n);
	P(m)->len = n;
	espat_ble_adv_publish(m);
	return ESPAT_RC_OK;
}

/* The extended advertising must run, non-connectable and non-scannable
 * (<adv_type> 5), first [000:8984]; ERROR otherwise, and when the train
 * runs already. */
static enum espat_rc start_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	if (P(m)->on || !espat_ble_advertising(m) || espat_ble_adv_type(m) != 5)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	P(m)->on = true;
	espat_ble_adv_publish(m);
	return ESPAT_RC_OK;
}

static enum espat_rc stop_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	if (P(m)->on) {
		P(m)->on = false;
		espat_ble_adv_publish(m);
	}
	return ESPAT_RC_OK;
}

/* ---- the scanner's sync ------------------------------------------------------ */

static void sync_tick(void *user);

/* Reports the target's train events in [sync_from_us, now] and arms the
 * timer for its next one (or the next look, while it is not on the air). */
static void sync_run(struct espat_module *m)
{
	struct espat_ble_periodic *p = P(m);
	const struct espat_ble_port *port = &m->ports.ble;
	uint64_t now_us = espat_module_now(m) * 1000;
	struct espat_ble_adv adv;
	bool found = false;
	for (size_t i = 0; !found && port->advertiser && port->advertiser(port->user, i, &adv); i++)
		found = adv.per_on && adv.per_interval_ms && memcmp(adv.addr, p->sync_addr, 6) == 0;
	if (!found) {
		p->sync_from_us = now_us; /* a train that comes back starts anew */
		espat_timer_arm(&m->timers, &p->sync_timer, espat_module_now(m) + SYNC_LOOK_MS,
		                sync_tick, m);
		return;
	}
	uint64_t iv = (uint64_t)adv.per_interval_ms * 1000, ph = (uint64_t)adv.per_phase_ms * 1000;
	uint64_t from = p->sync_from_us;
	uint64_t k = from > ph ? (from - ph + iv - 1) / iv : 0;
	char a[18], hex[2 * ESPAT_BLE_PERIODIC_MAX + 1];
	espat_mac_str(adv.addr, a);
	for (size_t i = 0; i < adv.per_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", adv.per[i]);
	hex[2 * adv.per_len] = '\0';
	unsigned burst = 0;
	for (uint64_t t = ph + k * iv; t <= now_us && burst < SYNC_BURST; t += iv, burst++)
		espat_wr_reportf(&m->wr, "+BLESYNC:\"%s\",%d,%s", a, adv.rssi, hex);
	p->sync_from_us = now_us + 1;
	uint64_t next = ph + ((now_us + 1 > ph ? (now_us + 1 - ph + iv - 1) / iv : 0) * iv);
	espat_timer_arm(&m->timers, &p->sync_timer, (next + 999) / 1000, sync_tick, m);
}

static void sync_tick(void *user)
{
	sync_run(user);
}

void espat_ble_sync_stop(struct espat_module *m)
{
	if (!m->ble)
		return;
	P(m)->sync = false;
	espat_timer_cancel(&m->timers, &P(m)->sync_timer);
}

void espat_ble_periodic_end(struct espat_module *m)
{
	espat_ble_sync_stop(m);
	P(m)->on = false;
}

static const struct espat_param p_sync[] = {
    P_STR("target_address", 17),
};

/* A scan must run [000:9051]; OK first, then one +BLESYNC per event of
 * the target's train (COMPAT #457). ERROR while a sync runs. */
static enum espat_rc sync_set(struct espat_module *m, const struct espat_args *a)
{
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	uint8_t addr[6];
	if (!espat_mac_parse(a->v[0].s, a->v[0].len, addr))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	if (!espat_ble_scanning(m) || P(m)->sync)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	struct espat_ble_periodic *p = P(m);
	p->sync = true;
	memcpy(p->sync_addr, addr, 6);
	p->sync_from_us = espat_module_now(m) * 1000 + 1; /* events after this command */
	espat_timer_arm(&m->timers, &p->sync_timer, espat_module_now(m), sync_tick, m);
	return ESPAT_RC_OK;
}

static enum espat_rc sync_stop_exec(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = espat_ble_need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	espat_ble_sync_stop(m);
	return ESPAT_RC_OK;
}

static const struct espat_cmd periodic_rows[] = {
    {.name = "+BLEPERIODICDATA",
     .set = data_set,
     .params = p_data,
     .nparams = N(p_data),
     .help = "Set Bluetooth LE periodic advertising data"},
    {.name = "+BLEPERIODICSTART",
     .exec = start_exec,
     .help = "Start Bluetooth LE periodic advertising"},
    {.name = "+BLEPERIODICSTOP",
     .exec = stop_exec,
     .help = "Stop Bluetooth LE periodic advertising"},
    {.name = "+BLESYNCSTART",
     .set = sync_set,
     .params = p_sync,
     .nparams = N(p_sync),
     .help = "Start to synchronize with periodic advertising"},
    {.name = "+BLESYNCSTOP",
     .exec = sync_stop_exec,
     .help = "Stop synchronizing with periodic advertising"},
};

static const struct espat_cmd_table periodic_table = {
    .family = "ble_periodic",
    .rows = periodic_rows,
    .n = sizeof(periodic_rows) / sizeof(periodic_rows[0]),
};

/* No state of its own: it lives in the ble family's slot, whose free ends
 * the sync (espat_ble_periodic_end). */
const struct espat_family espat_ble_periodic_family = {
    .name = "ble_periodic",
    .table = &periodic_table,
};
