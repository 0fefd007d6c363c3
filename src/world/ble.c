/* The world's scripted BLE peers: see ble.h. */
#include "world/ble.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/args.h"

static int fail(char *err, size_t cap, const char *what, const char *value)
{
	snprintf(err, cap, "%s: bad value \"%s\"", what, value);
	return -1;
}

/* Even-length hex, at most ESPAT_BLE_ADV_LEGACY_MAX bytes. */
static bool hex_bytes(const char *s, uint8_t *out, uint8_t *len)
{
	size_t n;
	if (!espat_hex_decode(s, strlen(s), out, ESPAT_BLE_ADV_LEGACY_MAX, &n))
		return false;
	*len = (uint8_t)n;
	return true;
}

static bool num(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
	return espat_parse_int(s, strlen(s), v) && *v >= lo && *v <= hi;
}

/* A distance in metres: digits, optionally a point and up to 3 more;
 * 0 < d <= 10000. In millimetres. */
static bool dist_mm(const char *s, int64_t *mm)
{
	int64_t v = 0, scale = 1000;
	bool point = false, digit = false;
	for (const char *c = s; *c; c++) {
		if (*c == '.' && !point) {
			point = true;
			continue;
		}
		if (*c < '0' || *c > '9' || (point && scale == 1) || v > 10000000)
			return false;
		digit = true;
		if (point) {
			scale /= 10;
			v += (*c - '0') * scale;
		} else {
			v = v * 10 + (*c - '0') * 1000;
		}
	}
	*mm = v;
	return digit && v > 0 && v <= 10000000;
}

int8_t espat_ble_rssi_at(double metres)
{
	/* free space from -40 dBm at 1 m, as the Wi-Fi world's APs (docs/internals/ble.md) */
	double r = -40.0 - 20.0 * log10(metres);
	if (r > -30.0)
		r = -30.0;
	if (r < -100.0)
		r = -100.0;
	return (int8_t)lround(r);
}

static bool label_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ESPAT_BLE_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static uint32_t fnv1a(uint32_t h, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ v[i]) * 16777619u;
	return h;
}

/* What the module wrote to a served peer: counted and hashed (FNV-1a),
 * so a test can check a long SPP stream without the peer keeping it. */
static void peer_written(void *user, size_t client, uint16_t h, const uint8_t *v, size_t n)
{
	struct espat_ble_peer *p = user;
	(void)client;
	const struct espat_gatt_attr *a = espat_gatt_db_attr(&p->db, h);
	if (a && espat_gatt_db_is(a, ESPAT_GATT_CCCD))
		return; /* a subscription, not data */
	p->wr_hash = fnv1a(p->wr_hash, v, n);
	p->wr_bytes += n;
}

/* Copies peer src into slot dst, pointing its database at dst's storage
 * (the peers live in one array and move when one is removed). */
static void peer_move(struct espat_ble_peer *dst, const struct espat_ble_peer *src)
{
	if (dst == src)
		return;
	memcpy(dst, src, sizeof(*dst));
	dst->db.attr = dst->db_attr;
	dst->db.mem = dst->db_mem;
	dst->db.ops.user = dst;
	for (size_t i = 0; i < dst->db.n; i++)
		dst->db_attr[i].val = dst->db_mem + (src->db_attr[i].val - src->db_mem);
}

void espat_ble_peer_serve(struct espat_ble_peer *p, const char *name)
{
	espat_gatt_db_init(&p->db, p->db_attr, ESPAT_BLE_PEER_ATTRS, p->db_mem, ESPAT_BLE_PEER_MEM);
	p->db.ops = (struct espat_gatt_db_ops){.on_write = peer_written, .user = p};
	espat_gatt_db_add_core(&p->db, name);
	p->served = true;
	p->wr_hash = 2166136261u;
}

enum espat_gatt_ntf_err espat_ble_peer_notify(struct espat_ble_peer *p, uint8_t op, uint16_t h,
                                              const uint8_t *v, size_t n)
{
	uint8_t out[ESPAT_ATT_MTU_MAX];
	size_t len = 0;
	if (!p->served || !p->connected)
		return ESPAT_GATT_NTF_BAD_HANDLE;
	enum espat_gatt_ntf_err e =
	    espat_gatt_db_notify(&p->db, 0, op, h, v, n, p->link_mtu, out, sizeof(out), &len);
	if (e == ESPAT_GATT_NTF_OK && p->world->to_module)
		p->world->to_module(p->world->to_module_user, p->adv.addr, out, len);
	return e;
}

int espat_ble_peer_add(struct espat_ble_world *b, const char *label, size_t argc,
                       const char *const *argv, char *err, size_t cap)
{
	if (!label_ok(label))
		return fail(err, cap, "label", label);
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->peer[i].label, label) == 0) {
			snprintf(err, cap, "peer %s exists", label);
			return -1;
		}
	if (b->n == ESPAT_BLE_PEERS_MAX) {
		snprintf(err, cap, "at most %u peers", ESPAT_BLE_PEERS_MAX);
		return -1;
	}
	struct espat_ble_peer p = {.adv = {.interval_ms = 100, .rssi = -50, .channel_map = 7},
	                           .mtu = 517};
	memcpy(p.label, label, strlen(label) + 1);
	bool have_addr = false, have_adv = false, have_rssi = false;
	const char *name = NULL;
	int64_t phase = 0;
	for (size_t i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq) {
			snprintf(err, cap, "expected KEY=VALUE: \"%s\"", argv[i]);
			return -1;
		}
		size_t kl = (size_t)(eq - argv[i]);
		const char *v = eq + 1;
		int64_t n;
#define KEY(k) (kl == sizeof(k) - 1 && memcmp(argv[i], k, kl) == 0)
		if (KEY("addr")) {
			if (!espat_mac_parse(v, strlen(v), p.adv.addr))
				return fail(err, cap, "addr", v);
			have_addr = true;
		} else if (KEY("addr_type")) {
			if (!num(v, 0, 1, &n))
				return fail(err, cap, "addr_type", v);
			p.adv.addr_type = (uint8_t)n;
		} else if (KEY("name")) {
			if (strlen(v) == 0 || strlen(v) > ESPAT_BLE_ADV_LEGACY_MAX - 5)
				return fail(err, cap, "name", v);
			name = v;
		} else if (KEY("adv")) {
			if (!hex_bytes(v, p.adv.adv, &p.adv.adv_len))
				return fail(err, cap, "adv", v);
			have_adv = true;
		} else if (KEY("rsp")) {
			if (!hex_bytes(v, p.adv.rsp, &p.adv.rsp_len))
				return fail(err, cap, "rsp", v);
		} else if (KEY("interval")) {
			if (!num(v, 20, 10240, &n))
				return fail(err, cap, "interval", v);
			p.adv.interval_ms = (uint32_t)n;
		} else if (KEY("phase")) {
			if (!num(v, 0, 10239, &phase))
				return fail(err, cap, "phase", v);
		} else if (KEY("per")) {
			size_t pl;
			if (!espat_hex_decode(v, strlen(v), p.adv.per, sizeof(p.adv.per), &pl))
				return fail(err, cap, "per", v);
			p.adv.per_len = (uint8_t)pl;
			p.adv.per_on = true;
		} else if (KEY("per_interval")) {
			if (!num(v, 8, 81918, &n))
				return fail(err, cap, "per_interval", v);
			p.adv.per_interval_ms = (uint32_t)n;
		} else if (KEY("mtu")) {
			if (!num(v, 23, 517, &n))
				return fail(err, cap, "mtu", v);
			p.mtu = (uint16_t)n;
		} else if (KEY("confirm")) {
			if (!num(v, 0, 1, &n))
				return fail(err, cap, "confirm", v);
			p.no_confirm = n == 0;
		} else if (KEY("rssi")) {
			if (!num(v, -100, 0, &n) || have_rssi)
				return fail(err, cap, "rssi", v);
			p.adv.rssi = (int8_t)n;
			have_rssi = true;
		} else if (KEY("dist")) {
			if (!dist_mm(v, &n) || have_rssi)
				return fail(err, cap, "dist", v);
			p.adv.rssi = espat_ble_rssi_at((double)n / 1000.0);
			have_rssi = true;
		} else {
			snprintf(err, cap, "unknown key \"%.*s\"", (int)kl, argv[i]);
			return -1;
		}
#undef KEY
	}
	if (!have_addr) {
		snprintf(err, cap, "addr= is required");
		return -1;
	}
	if (phase >= p.adv.interval_ms)
		return fail(err, cap, "phase", "not below interval");
	p.adv.phase_ms = (uint32_t)phase;
	if (p.adv.per_interval_ms && !p.adv.per_on)
		return fail(err, cap, "per_interval", "without per=");
	if (p.adv.per_on) {
		/* a periodic train hangs from extended, non-connectable,
		 * non-scannable advertising (ADV_TYPE_EXT_NOSCANNABLE_IND) */
		p.adv.adv_type = 5;
		if (!p.adv.per_interval_ms)
			p.adv.per_interval_ms = 100;
		p.adv.per_phase_ms = p.adv.phase_ms % p.adv.per_interval_ms;
	}
	if (!have_adv && name) {
		/* Flags (LE General Discoverable, BR/EDR not supported) and
		 * the Complete Local Name (AD type 0x09). */
		size_t nl = strlen(name);
		const uint8_t flags[3] = {0x02, 0x01, 0x06};
		memcpy(p.adv.adv, flags, 3);
		p.adv.adv[3] = (uint8_t)(nl + 1);
		p.adv.adv[4] = 0x09;
		memcpy(p.adv.adv + 5, name, nl);
		p.adv.adv_len = (uint8_t)(nl + 5);
	}
	p.world = b;
	p.link_mtu = ESPAT_ATT_MTU_MIN;
	p.rx_hash = 2166136261u;
	peer_move(&b->peer[b->n++], &p);
	return 0;
}

bool espat_ble_peer_rm(struct espat_ble_world *b, const char *label)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->peer[i].label, label) == 0) {
			for (size_t k = i; k + 1 < b->n; k++)
				peer_move(&b->peer[k], &b->peer[k + 1]);
			b->n--;
			return true;
		}
	return false;
}

struct espat_ble_peer *espat_ble_peer_find(struct espat_ble_world *b, const char *label)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->peer[i].label, label) == 0)
			return &b->peer[i];
	return NULL;
}

/* The i-th peer that advertises now (a connected one does not). */
static bool port_advertiser(void *user, size_t i, struct espat_ble_adv *out)
{
	struct espat_ble_world *b = user;
	for (size_t k = 0; k < b->n; k++) {
		if (b->peer[k].connected)
			continue;
		if (i-- == 0) {
			*out = b->peer[k].adv;
			return true;
		}
	}
	return false;
}

static void port_link(void *user, const uint8_t addr[6], bool up)
{
	struct espat_ble_world *b = user;
	for (size_t k = 0; k < b->n; k++) {
		struct espat_ble_peer *p = &b->peer[k];
		if (memcmp(p->adv.addr, addr, 6) != 0)
			continue;
		p->connected = up;
		/* a new link: ATT_MTU 23, the module a new client of its server */
		p->link_mtu = ESPAT_ATT_MTU_MIN;
		if (p->served)
			espat_gatt_db_client_reset(&p->db, 0);
	}
}

static void port_mtu(void *user, const uint8_t addr[6], uint16_t mtu)
{
	struct espat_ble_world *b = user;
	for (size_t k = 0; k < b->n; k++)
		if (memcmp(b->peer[k].adv.addr, addr, 6) == 0)
			b->peer[k].link_mtu = mtu;
}

static void port_advertise(void *user, const struct espat_ble_adv *adv)
{
	struct espat_ble_world *b = user;
	b->own_on = adv != NULL;
	if (adv)
		b->own = *adv;
}

static uint16_t port_peer_mtu(void *user, const uint8_t addr[6])
{
	struct espat_ble_world *b = user;
	for (size_t k = 0; k < b->n; k++)
		if (memcmp(b->peer[k].adv.addr, addr, 6) == 0)
			return b->peer[k].mtu;
	return 0;
}

/* A PDU from the module: a served peer's GATT server answers a request,
 * a command or a confirmation (the answer goes straight back to the
 * module, as the next connection event would carry it); a notification
 * or indication is kept (the oldest goes when the log is full) and an
 * indication confirmed unless the peer was told not to (confirm=0). */
static void port_att(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	struct espat_ble_world *b = user;
	for (size_t k = 0; k < b->n; k++) {
		struct espat_ble_peer *p = &b->peer[k];
		if (memcmp(p->adv.addr, addr, 6) != 0 || len == 0 || len > sizeof(p->log[0].pdu))
			continue;
		if (!(pdu[0] & 1u)) {
			uint8_t rsp[ESPAT_ATT_MTU_MAX];
			size_t n = p->served ? espat_gatt_db_answer(&p->db, 0, p->link_mtu, pdu,
			                                            len, rsp, sizeof(rsp))
			                     : 0;
			if (n > 0 && b->to_module)
				b->to_module(b->to_module_user, addr, rsp, n);
			return;
		}
		if (p->nlog == ESPAT_BLE_PEER_LOG) {
			memmove(&p->log[0], &p->log[1],
			        (ESPAT_BLE_PEER_LOG - 1) * sizeof(p->log[0]));
			p->nlog--;
		}
		p->log[p->nlog].len = (uint16_t)len;
		memcpy(p->log[p->nlog].pdu, pdu, len);
		p->nlog++;
		if ((pdu[0] == ESPAT_ATT_NOTIFY || pdu[0] == ESPAT_ATT_INDICATE) && len >= 3) {
			p->rx_hash = fnv1a(p->rx_hash, pdu + 3, len - 3);
			p->rx_bytes += len - 3;
		}
		if (pdu[0] == ESPAT_ATT_INDICATE && !p->no_confirm && b->to_module) {
			const uint8_t confirm = ESPAT_ATT_CONFIRM;
			b->to_module(b->to_module_user, addr, &confirm, 1);
		}
		return;
	}
}

static void port_smp(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	struct espat_ble_world *b = user;
	for (size_t k = 0; k < b->n; k++)
		if (memcmp(b->peer[k].adv.addr, addr, 6) == 0 && b->peer[k].connected && b->smp_rx)
			b->smp_rx(b->smp_user, &b->peer[k], pdu, len);
}

static void port_ll(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	struct espat_ble_world *b = user;
	for (size_t k = 0; k < b->n; k++)
		if (memcmp(b->peer[k].adv.addr, addr, 6) == 0 && b->peer[k].connected && b->ll_rx)
			b->ll_rx(b->smp_user, &b->peer[k], pdu, len);
}

struct espat_ble_port espat_ble_world_port(struct espat_ble_world *b)
{
	return (struct espat_ble_port){.advertiser = port_advertiser,
	                               .smp = port_smp,
	                               .ll = port_ll,
	                               .advertise = port_advertise,
	                               .link = port_link,
	                               .peer_mtu = port_peer_mtu,
	                               .att = port_att,
	                               .mtu = port_mtu,
	                               .user = b};
}
