/* `espat ctl ble peer add|rm|list`: see ctl_ble.h. */
#include "app/ctl_ble.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app/ble_peer_sec.h"
#include "app/ctl.h"
#include "app/ctl_fault.h"
#include "cmd/addr.h"
#include "cmd/ble.h"
#include "cmd/ble_blufi.h"
#include "core/args.h"
#include "proto/att.h"
#include "world/world.h"

#define USAGE                                                                                      \
	"usage: ble peer add LABEL addr=MAC [KEY=VALUE]... | ble peer rm|connect|disconnect "      \
	"LABEL | ble peer mtu LABEL N | ble peer notify|indicate LABEL HANDLE HEX"

static json_t *hex(const uint8_t *p, size_t n)
{
	/* advertising data, or an ATT value (notifications: up to ATT_MTU - 3) */
	char s[2 * ESPAT_ATT_MTU_MAX + 1];
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	return json_string(s);
}

static json_t *adv_json(const struct espat_ble_adv *a)
{
	char mac[18];
	return json_pack("{s:s,s:i,s:i,s:i,s:o,s:o,s:i,s:i}", "addr", espat_mac_str(a->addr, mac),
	                 "addr_type", a->addr_type, "adv_type", a->adv_type, "channel_map",
	                 a->channel_map, "adv", hex(a->adv, a->adv_len), "rsp",
	                 hex(a->rsp, a->rsp_len), "interval_ms", (int)a->interval_ms, "phase_ms",
	                 (int)a->phase_ms);
}

/* An advertiser with its periodic train: null, or its data and timing. */
static json_t *adv_per_json(const struct espat_ble_adv *a)
{
	json_t *j = adv_json(a);
	json_object_set_new(j, "periodic",
	                    a->per_on ? json_pack("{s:o,s:i,s:i}", "data", hex(a->per, a->per_len),
	                                          "interval_ms", (int)a->per_interval_ms, "phase_ms",
	                                          (int)a->per_phase_ms)
	                              : json_null());
	return j;
}

static json_t *peer_json(struct espat_ctl *c, const struct espat_ble_peer *p)
{
	json_t *j = adv_per_json(&p->adv);
	json_object_set_new(j, "label", json_string(p->label));
	json_object_set_new(j, "rssi", json_integer(p->adv.rssi));
	json_object_set_new(j, "connected", json_boolean(p->connected));
	struct espat_ble_peer_sm *sm = c->ble_sm ? espat_ble_peer_sm(c->ble_sm, p->label) : NULL;
	json_object_set_new(j, "pairing", sm ? espat_ble_peer_sm_json(sm) : json_null());
	char rh[16];
	snprintf(rh, sizeof(rh), "%08x", p->rx_hash);
	json_object_set_new(j, "received_bytes", json_integer((json_int_t)p->rx_bytes));
	json_object_set_new(j, "received_fnv1a", json_string(rh));
	if (p->served) {
		char h[16];
		snprintf(h, sizeof(h), "%08x", p->wr_hash);
		json_object_set_new(j, "gatt",
		                    json_pack("{s:i,s:i,s:I,s:s}", "attributes", (int)p->db.n,
		                              "mtu", p->link_mtu, "written_bytes",
		                              (json_int_t)p->wr_bytes, "written_fnv1a", h));
	}
	return j;
}

/* `ble peer security LABEL [io=N] [auth=N] [keys=N] [accept=0|1]`,
 * `ble peer pair LABEL`, `ble peer passkey LABEL N`, `ble peer confirm
 * LABEL 0|1`: the peer's Security Manager. */
static char *peer_sec(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_ble_peer_sm *p = c->ble_sm ? espat_ble_peer_sm(c->ble_sm, argv[1]) : NULL;
	if (!p)
		return espat_ctl_reply_fail(c->ble_sm ? "no such peer" : "peers cannot pair here");
	const char *err = NULL;
	int64_t v;
	if (strcmp(argv[0], "pair") == 0 && argc == 2) {
		if (!espat_ble_peer_pair(c->ble_sm, p, &err))
			return espat_ctl_reply_fail(err);
		return espat_ctl_reply_ok("pairing", espat_ble_peer_sm_json(p));
	}
	if (strcmp(argv[0], "passkey") == 0 && argc == 3) {
		if (!espat_parse_int(argv[2], strlen(argv[2]), &v) || v < 0 || v > 999999)
			return espat_ctl_reply_fail("passkey: 0..999999");
		if (!espat_ble_peer_passkey(p, (uint32_t)v))
			return espat_ctl_reply_fail("no passkey asked");
		return espat_ctl_reply_ok("pairing", espat_ble_peer_sm_json(p));
	}
	if (strcmp(argv[0], "confirm") == 0 && argc == 3) {
		if (strcmp(argv[2], "0") != 0 && strcmp(argv[2], "1") != 0)
			return espat_ctl_reply_fail("confirm: 0 or 1");
		if (!espat_ble_peer_confirm(p, argv[2][0] == '1'))
			return espat_ctl_reply_fail("no comparison asked");
		return espat_ctl_reply_ok("pairing", espat_ble_peer_sm_json(p));
	}
	if (strcmp(argv[0], "encrypt") == 0 && argc == 2) {
		if (!espat_ble_peer_encrypt(c->ble_sm, p, &err))
			return espat_ctl_reply_fail(err);
		return espat_ctl_reply_ok("pairing", espat_ble_peer_sm_json(p));
	}
	if (strcmp(argv[0], "forget") == 0 && argc == 2) {
		espat_ble_peer_forget(p);
		return espat_ctl_reply_ok("pairing", espat_ble_peer_sm_json(p));
	}
	if (strcmp(argv[0], "security") != 0)
		return espat_ctl_reply_fail(USAGE);
	struct espat_smp_features f = p->feat;
	bool accept = p->accept;
	for (size_t i = 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq || !espat_parse_int(eq + 1, strlen(eq + 1), &v))
			return espat_ctl_reply_fail("expected io=N, auth=N, keys=N or accept=0|1");
		size_t kl = (size_t)(eq - argv[i]);
		if (kl == 2 && memcmp(argv[i], "io", 2) == 0 && v >= 0 && v <= 4)
			f.io = (uint8_t)v;
		else if (kl == 4 && memcmp(argv[i], "auth", 4) == 0 && v >= 0 && v <= 0x3f)
			f.auth = (uint8_t)v;
		else if (kl == 4 && memcmp(argv[i], "keys", 4) == 0 && v >= 0 && v <= 15)
			f.init_keys = f.rsp_keys = (uint8_t)v;
		else if (kl == 6 && memcmp(argv[i], "accept", 6) == 0 && (v == 0 || v == 1))
			accept = v == 1;
		else
			return espat_ctl_reply_fail("expected io=0..4, auth=0..63, keys=0..15 or "
			                            "accept=0|1");
	}
	p->feat = f;
	p->accept = accept;
	return espat_ctl_reply_ok("pairing", espat_ble_peer_sm_json(p));
}

char *espat_ctl_ble_air(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	const struct espat_ble_world *b = &c->world->ble;
	return espat_ctl_reply_ok("advertising", b->own_on ? adv_per_json(&b->own) : json_null());
}

/* gatt=default (the module's own default table, as esp-at ships it) or
 * gatt=ROW;ROW;... (gatts_data.csv rows): the peer becomes a peripheral
 * whose GATT server the module's client can use. */
static bool peer_table(struct espat_ble_peer *p, const char *spec, const char *name)
{
	espat_ble_peer_serve(p, name ? name : "peer");
	if (strcmp(spec, "default") == 0) {
		for (size_t i = 0; i < espat_ble_gatts_default_n; i++)
			if (!espat_ble_gatts_row_add(&p->db, espat_ble_gatts_default[i]))
				return false;
		return true;
	}
	char row[1200]; /* a row: 512 value bytes in hex and the fields */
	const char *r = spec;
	while (*r) {
		const char *e = strchr(r, ';');
		size_t n = e ? (size_t)(e - r) : strlen(r);
		if (n == 0 || n >= sizeof(row))
			return false;
		memcpy(row, r, n);
		row[n] = '\0';
		if (!espat_ble_gatts_row_add(&p->db, row))
			return false;
		r += n + (e ? 1 : 0);
	}
	return p->db.n > 0;
}

static char *peer_add(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	char err[160];
	struct espat_ble_world *b = &c->world->ble;
	const char *rest[32] = {0};
	const char *gatt = NULL, *name = NULL;
	size_t n = 0;
	for (size_t i = 1; i < argc && n < 32; i++) {
		if (strncmp(argv[i], "gatt=", 5) == 0)
			gatt = argv[i] + 5;
		else
			rest[n++] = argv[i];
		if (strncmp(argv[i], "name=", 5) == 0)
			name = argv[i] + 5;
	}
	if (espat_ble_peer_add(b, argv[0], n, rest, err, sizeof(err)) != 0)
		return espat_ctl_reply_fail(err);
	struct espat_ble_peer *p = &b->peer[b->n - 1];
	if (gatt && !peer_table(p, gatt, name)) {
		espat_ble_peer_rm(b, argv[0]);
		return espat_ctl_reply_fail(
		    "gatt: \"default\" or gatts_data.csv rows split by ';'");
	}
	return espat_ctl_reply_ok("peer", peer_json(c, p));
}

/* The served peer notifies or indicates a value to the module. */
static char *peer_notify(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_ble_peer *p = espat_ble_peer_find(&c->world->ble, argv[1]);
	int64_t h;
	uint8_t v[ESPAT_ATT_MTU_MAX];
	size_t n;
	if (!p)
		return espat_ctl_reply_fail("no such peer");
	if (argc != 4 || !espat_parse_int(argv[2], strlen(argv[2]), &h) || h < 1 || h > 0xffff)
		return espat_ctl_reply_fail(USAGE);
	if (!espat_hex_decode(argv[3], strlen(argv[3]), v, sizeof(v), &n))
		return espat_ctl_reply_fail("HEX: an even number of hex digits");
	uint8_t op = strcmp(argv[0], "notify") == 0 ? ESPAT_ATT_NOTIFY : ESPAT_ATT_INDICATE;
	switch (espat_ble_peer_notify(p, op, (uint16_t)h, v, n)) {
	case ESPAT_GATT_NTF_OK:
		return espat_ctl_reply_ok(NULL, NULL);
	case ESPAT_GATT_NTF_NOT_ENABLED:
		return espat_ctl_reply_fail("the module has not enabled it in the CCCD");
	case ESPAT_GATT_NTF_BUSY:
		return espat_ctl_reply_fail("an indication waits for its confirmation");
	case ESPAT_GATT_NTF_TOO_LONG:
		return espat_ctl_reply_fail("longer than ATT_MTU - 3");
	default:
		return espat_ctl_reply_fail(
		    "not connected, not served, or not a characteristic value");
	}
}

/* The peer, as GATT client, exchanges MTUs with the module. */
static char *peer_mtu(struct espat_ctl *c, const char *label, const char *value)
{
	struct espat_ble_peer *p = espat_ble_peer_find(&c->world->ble, label);
	int64_t mtu;
	if (!p)
		return espat_ctl_reply_fail("no such peer");
	if (!espat_parse_int(value, strlen(value), &mtu) || mtu < 23 || mtu > 517)
		return espat_ctl_reply_fail("MTU: 23..517");
	if (!p->connected || !espat_ble_peer_mtu(c->module(c->user), p->adv.addr, (uint16_t)mtu))
		return espat_ctl_reply_fail("not connected, or the MTU was exchanged already");
	return espat_ctl_reply_ok(NULL, NULL);
}

/* One ATT request from the peer to the module's GATT server; *rsp gets the
 * decoded answer. NULL, or the failure reply to send. */
static char *att_round(struct espat_ctl *c, struct espat_ble_peer *p, const struct espat_att_pdu *q,
                       struct espat_att_pdu *rsp, uint8_t *buf, size_t cap)
{
	uint8_t req[ESPAT_ATT_MTU_MAX];
	struct espat_module *m = c->module(c->user);
	int link = p->connected ? espat_ble_link_of(m, p->adv.addr) : -1;
	bool blufi = p->connected && espat_blufi_peer(m, p->adv.addr); /* BluFi's phone */
	if (link < 0 && !blufi)
		return espat_ctl_reply_fail("not connected");
	size_t mtu = blufi ? espat_blufi_mtu(m) : espat_ble_link_mtu(m, (size_t)link);
	size_t n = espat_att_encode(q, mtu, req, sizeof(req));
	if (n == 0)
		return espat_ctl_reply_fail("does not fit the link's MTU");
	size_t r = espat_ble_att_request(m, p->adv.addr, req, n, buf, cap);
	if (r == 0) {
		rsp->op = 0;
		return NULL;
	}
	if (espat_att_decode(buf, r, rsp) != ESPAT_ATT_OK)
		return espat_ctl_reply_fail("malformed answer");
	if (rsp->op == ESPAT_ATT_ERROR_RSP) {
		char e[64];
		snprintf(e, sizeof(e), "ATT error 0x%02x at handle %u", rsp->err, rsp->handle);
		return espat_ctl_reply_fail(e);
	}
	return NULL;
}

static bool handle_arg(const char *s, uint16_t *h)
{
	int64_t v;
	if (!espat_parse_int(s, strlen(s), &v) || v < 1 || v > 0xffff)
		return false;
	*h = (uint16_t)v;
	return true;
}

/* `ble peer read|write|subscribe|received LABEL ...`: the peer as a GATT
 * client of the module, each a real ATT exchange. */
static char *peer_gatt(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_ble_peer *p = espat_ble_peer_find(&c->world->ble, argv[1]);
	if (!p)
		return espat_ctl_reply_fail("no such peer");
	uint8_t buf[ESPAT_ATT_MTU_MAX];
	struct espat_att_pdu r;
	char *fail;
	if (strcmp(argv[0], "received") == 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < p->nlog; i++) {
			struct espat_att_pdu n;
			if (espat_att_decode(p->log[i].pdu, p->log[i].len, &n) != ESPAT_ATT_OK)
				continue;
			json_array_append_new(
			    a, json_pack("{s:s,s:i,s:o}", "op",
			                 n.op == ESPAT_ATT_NOTIFY ? "notify" : "indicate", "handle",
			                 n.handle, "value", hex(n.value, n.value_len)));
		}
		p->nlog = 0;
		return espat_ctl_reply_ok("received", a);
	}
	uint16_t h;
	if (argc < 3 || !handle_arg(argv[2], &h))
		return espat_ctl_reply_fail("HANDLE: 1..65535");
	if (strcmp(argv[0], "read") == 0 && argc == 3) {
		struct espat_att_pdu q = {.op = ESPAT_ATT_READ_REQ, .handle = h};
		if ((fail = att_round(c, p, &q, &r, buf, sizeof(buf))) != NULL)
			return fail;
		return espat_ctl_reply_ok("value", hex(r.value, r.value_len));
	}
	uint8_t v[ESPAT_ATT_MTU_MAX];
	uint8_t vl = 0;
	struct espat_att_pdu q = {.op = ESPAT_ATT_WRITE_REQ, .handle = h};
	if (strcmp(argv[0], "write") == 0 && (argc == 4 || (argc == 5 && !strcmp(argv[4], "nr")))) {
		size_t n;
		if (!espat_hex_decode(argv[3], strlen(argv[3]), v, 255, &n))
			return espat_ctl_reply_fail("HEX: an even number of hex digits");
		vl = (uint8_t)n;
		if (argc == 5)
			q.op = ESPAT_ATT_WRITE_CMD;
	} else if (strcmp(argv[0], "subscribe") == 0 && argc == 4) {
		uint16_t bits = !strcmp(argv[3], "notify")     ? 1
		                : !strcmp(argv[3], "indicate") ? 2
		                : !strcmp(argv[3], "both")     ? 3
		                : !strcmp(argv[3], "off")      ? 0
		                                               : 0xffff;
		if (bits == 0xffff)
			return espat_ctl_reply_fail("notify|indicate|both|off");
		v[vl++] = (uint8_t)bits;
		v[vl++] = 0;
	} else {
		return espat_ctl_reply_fail(USAGE);
	}
	q.value = v;
	q.value_len = vl;
	if ((fail = att_round(c, p, &q, &r, buf, sizeof(buf))) != NULL)
		return fail;
	return espat_ctl_reply_ok(NULL, NULL);
}

char *espat_ctl_ble_peer(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	if (strcmp(argv[0], "add") == 0)
		return peer_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "read") || !strcmp(argv[0], "write") ||
	    !strcmp(argv[0], "subscribe") || !strcmp(argv[0], "received"))
		return peer_gatt(c, argc, argv);
	if (!strcmp(argv[0], "pair") || !strcmp(argv[0], "security") ||
	    !strcmp(argv[0], "passkey") || !strcmp(argv[0], "confirm") ||
	    !strcmp(argv[0], "encrypt") || !strcmp(argv[0], "forget"))
		return peer_sec(c, argc, argv);
	if (!strcmp(argv[0], "notify") || !strcmp(argv[0], "indicate"))
		return peer_notify(c, argc, argv);
	if (strcmp(argv[0], "mtu") == 0 && argc == 3)
		return peer_mtu(c, argv[1], argv[2]);
	if (argc != 2)
		return espat_ctl_reply_fail(USAGE);
	struct espat_ble_peer *p = espat_ble_peer_find(&c->world->ble, argv[1]);
	if (!p)
		return espat_ctl_reply_fail("no such peer");
	struct espat_module *m = c->module(c->user);
	if (strcmp(argv[0], "rm") == 0) {
		/* a connected peer just goes: the module notices at its supervision timeout */
		uint8_t addr[6];
		memcpy(addr, p->adv.addr, 6);
		bool linked = p->connected;
		espat_ble_peer_rm(&c->world->ble, argv[1]);
		if (linked)
			espat_ble_peer_lost(m, addr);
		return espat_ctl_reply_ok(NULL, NULL);
	}
	if (strcmp(argv[0], "connect") == 0) {
		if (p->connected)
			return espat_ctl_reply_fail("already connected");
		int idx = espat_ble_central_connect(m, p->adv.addr, p->adv.addr_type);
		if (idx < 0)
			return espat_ctl_reply_fail(
			    "the module does not advertise connectably, or has no free link");
		return espat_ctl_reply_ok("conn_index", json_integer(idx));
	}
	if (strcmp(argv[0], "disconnect") == 0) {
		if (!p->connected || !espat_ble_remote_disconnect(m, p->adv.addr))
			return espat_ctl_reply_fail("not connected");
		return espat_ctl_reply_ok(NULL, NULL);
	}
	return espat_ctl_reply_fail(USAGE);
}

char *espat_ctl_ble_peer_list(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	json_t *a = json_array();
	for (size_t i = 0; i < c->world->ble.n; i++)
		json_array_append_new(a, peer_json(c, &c->world->ble.peer[i]));
	return espat_ctl_reply_ok("peers", a);
}

char *espat_ctl_ble_att(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	struct espat_module *m = c->module(c->user);
	uint8_t addr[6], pdu[ESPAT_ATT_MTU_MAX];
	size_t n;
	if (!espat_mac_parse(argv[0], strlen(argv[0]), addr))
		return espat_ctl_reply_fail("MAC: xx:xx:xx:xx:xx:xx");
	if (!espat_hex_decode(argv[1], strlen(argv[1]), pdu, sizeof(pdu), &n) || n == 0)
		return espat_ctl_reply_fail("HEX: one ATT PDU, 1..517 bytes");
	int link = espat_ble_link_of(m, addr);
	if (link < 0)
		return espat_ctl_reply_fail("no link with that device");
	if (n > espat_ble_link_mtu(m, (size_t)link))
		return espat_ctl_reply_fail("longer than the link's ATT_MTU");
	if (m->ports.ble.att)
		m->ports.ble.att(m->ports.ble.user, addr, pdu, n);
	return espat_ctl_reply_ok("conn_index", json_integer(link));
}
