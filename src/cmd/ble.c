/* AT+BLEINIT, AT+BLEADDR, AT+BLENAME (guide 3.4.2-3.4.4). */
#include "cmd/ble.h"

#include <stdio.h>
#include <string.h>

#include "cmd/addr.h"
#include "cmd/params.h"

#define E(m) (&(m)->eng)

bool espat_ble_on(const struct espat_module *m)
{
	return m->ble->role != ESPAT_BLE_OFF;
}

/* Every BLE command but AT+BLEINIT needs BLE initialized first (guide
 * [000:6641]); before that it is ERROR, as esp-at's checks answer. */
static enum espat_rc need_init(struct espat_module *m)
{
	return espat_ble_on(m) ? ESPAT_RC_OK : espat_fail(E(m), ESPAT_ERR_EXEC);
}

/* The chip's public address: the base MAC + 2 (ESP-IDF's
 * ESP_MAC_BT; the station has + 0, the softAP + 1). */
static void public_addr(struct espat_module *m, uint8_t mac[6])
{
	static const uint8_t fallback[6] = {0x34, 0x85, 0x18, 0x00, 0x00, 0x02};
	if (m->ports.sys.base_mac)
		m->ports.sys.base_mac(m->ports.sys.user, mac);
	else
		memcpy(mac, fallback, 6);
	mac[5] = (uint8_t)(mac[5] + 2);
}

/* A non-resolvable private address (Core Vol 6 Part B 1.3.2.2): the two
 * top bits 0, the rest random, neither all 0 nor all 1. The address byte
 * printed first is the most significant. */
static void private_addr(struct espat_module *m, uint8_t a[6])
{
	for (;;) {
		for (size_t i = 0; i < 6; i++)
			a[i] = m->ports.sys.random ? (uint8_t)m->ports.sys.random(m->ports.sys.user)
			                           : (uint8_t)(0x11 * (i + 1));
		a[0] &= 0x3f;
		bool zero = true, ones = true;
		for (size_t i = 0; i < 6; i++) {
			zero = zero && a[i] == 0x00;
			ones = ones && a[i] == (i ? 0xff : 0x3f);
		}
		if (!zero && !ones)
			return;
	}
}

/* A static random address (Core Vol 6 Part B 1.3.2.1, guide [000:6697-6700]):
 * the two top bits 1, the random part neither all 0 nor all 1. */
static bool static_ok(const uint8_t a[6])
{
	if ((a[0] & 0xc0) != 0xc0)
		return false;
	bool zero = (a[0] & 0x3f) == 0, ones = (a[0] & 0x3f) == 0x3f;
	for (size_t i = 1; i < 6; i++) {
		zero = zero && a[i] == 0x00;
		ones = ones && a[i] == 0xff;
	}
	return !zero && !ones;
}

/* ---- lifecycle --------------------------------------------------------------- */

static void ble_init(struct espat_module *m)
{
	struct espat_ble *b = m->ble;
	public_addr(m, b->public_addr);
	memcpy(b->name, "ESP-AT", sizeof("ESP-AT"));
}

/* Flash: the name under AT+SYSSTORE, the address always (guide [000:6701],
 * [000:6752]). */
static void ble_boot(struct espat_module *m)
{
	struct espat_ble *b = m->ble;
	struct espat_args a;
	if (espat_settings_load(&m->settings, "blename", &a) && a.n == 1 &&
	    a.v[0].kind == ESPAT_ARG_STR && a.v[0].len >= 1 && a.v[0].len <= ESPAT_BLE_NAME_MAX) {
		memcpy(b->name, a.v[0].s, a.v[0].len);
		b->name[a.v[0].len] = '\0';
	}
	if (espat_settings_load(&m->settings, "bleaddr", &a) && a.n >= 1 &&
	    a.v[0].kind == ESPAT_ARG_INT && a.v[0].i == 1) {
		if (a.n == 2 && a.v[1].kind == ESPAT_ARG_STR &&
		    espat_mac_parse(a.v[1].s, a.v[1].len, b->random_addr) &&
		    static_ok(b->random_addr))
			b->random = true;
		else if (a.n == 1) {
			/* a private address is made anew at every boot */
			private_addr(m, b->random_addr);
			b->random = true;
		}
	}
}

/* ---- AT+BLEINIT -------------------------------------------------------------- */

static enum espat_rc bleinit_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	espat_wr_linef(&m->wr, "+BLEINIT:%d", (int)m->ble->role);
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleinit[] = {
    P_INT("init", 0, 2),
};

/* The role of the first initialization stays until a restart (guide
 * [000:6642]); initializing again in the same role is OK, as is
 * deinitializing twice (COMPAT #400). */
static enum espat_rc bleinit_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	enum espat_ble_role r = (enum espat_ble_role)a->v[0].i;
	if (r == ESPAT_BLE_OFF) {
		b->role = ESPAT_BLE_OFF;
		return ESPAT_RC_OK;
	}
	if (b->boot_role != ESPAT_BLE_OFF && b->boot_role != r)
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	b->boot_role = r;
	b->role = r;
	return ESPAT_RC_OK;
}

/* ---- AT+BLEADDR -------------------------------------------------------------- */

/* The query shows the public address whatever AT+BLEADDR set (guide
 * [000:6663-6670]; COMPAT #401). */
static enum espat_rc bleaddr_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	char s[18];
	espat_wr_linef(&m->wr, "+BLEADDR:\"%s\"", espat_mac_str(m->ble->public_addr, s));
	return ESPAT_RC_OK;
}

static const struct espat_param p_bleaddr[] = {
    P_INT("addr_type", 0, 1),
    P_STR_OPT("random_addr", 17),
};

static enum espat_rc bleaddr_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	bool given = a->n >= 2 && a->v[1].kind != ESPAT_ARG_OMITTED;
	if (a->v[0].i == 0) {
		if (given) /* a public address is the chip's: nothing to give */
			return espat_fail(E(m), ESPAT_ERR_NUM(1, a->n));
		b->random = false;
		espat_settings_save(&m->settings, ESPAT_SAVE_ALWAYS, "bleaddr", "0");
		return ESPAT_RC_OK;
	}
	if (!given) {
		private_addr(m, b->random_addr);
		b->random = true;
		espat_settings_save(&m->settings, ESPAT_SAVE_ALWAYS, "bleaddr", "1");
		return ESPAT_RC_OK;
	}
	uint8_t addr[6];
	if (!espat_mac_parse(a->v[1].s, a->v[1].len, addr) || !static_ok(addr))
		return espat_fail(E(m), ESPAT_ERR_INVALID(1));
	memcpy(b->random_addr, addr, 6);
	b->random = true;
	char s[18];
	espat_settings_savef(&m->settings, ESPAT_SAVE_ALWAYS, "bleaddr", "1,\"%s\"",
	                     espat_mac_str(addr, s));
	return ESPAT_RC_OK;
}

/* ---- AT+BLENAME -------------------------------------------------------------- */

/* Printed as it is, without quotes, as esp-at's query prints it. */
static enum espat_rc blename_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	espat_wr_linef(&m->wr, "+BLENAME:%s", m->ble->name);
	return ESPAT_RC_OK;
}

static const struct espat_param p_blename[] = {
    P_STR("device_name", ESPAT_BLE_NAME_MAX),
};

static enum espat_rc blename_set(struct espat_module *m, const struct espat_args *a)
{
	struct espat_ble *b = m->ble;
	enum espat_rc rc = need_init(m);
	if (rc != ESPAT_RC_OK)
		return rc;
	const struct espat_arg *n = &a->v[0];
	/* an empty name, or one with a NUL inside, is no name */
	if (n->len == 0 || memchr(n->s, '\0', n->len))
		return espat_fail(E(m), ESPAT_ERR_INVALID(0));
	memcpy(b->name, n->s, n->len);
	b->name[n->len] = '\0';
	char text[ESPAT_BLE_NAME_MAX * 2 + 3];
	espat_args_quote(text, sizeof(text), n->s, n->len);
	espat_settings_save(&m->settings, ESPAT_SAVE_SYSSTORE, "blename", text);
	return ESPAT_RC_OK;
}

static const struct espat_cmd ble_rows[] = {
    {.name = "+BLEINIT",
     .query = bleinit_query,
     .set = bleinit_set,
     .params = p_bleinit,
     .nparams = N(p_bleinit),
     .help = "Bluetooth LE initialization"},
    {.name = "+BLEADDR",
     .query = bleaddr_query,
     .set = bleaddr_set,
     .params = p_bleaddr,
     .nparams = N(p_bleaddr),
     .help = "Query/Set Bluetooth LE device address"},
    {.name = "+BLENAME",
     .query = blename_query,
     .set = blename_set,
     .params = p_blename,
     .nparams = N(p_blename),
     .help = "Query/Set Bluetooth LE device name"},
};

static const struct espat_cmd_table ble_table = {
    .family = "ble",
    .rows = ble_rows,
    .n = sizeof(ble_rows) / sizeof(ble_rows[0]),
};

const struct espat_family espat_ble_family = {
    .name = "ble",
    .table = &ble_table,
    .state_size = sizeof(struct espat_ble),
    .state_slot = offsetof(struct espat_module, ble),
    .init = ble_init,
    .boot = ble_boot,
};
