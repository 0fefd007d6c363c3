/* `espat ctl ble peer add|rm|list`: see ctl_ble.h. */
#include "app/ctl_ble.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

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
	"LABEL | ble peer mtu LABEL N"


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

static json_t *peer_json(const struct espat_ble_peer *p)
{
	json_t *j = adv_json(&p->adv);
	json_object_set_new(j, "label", json_string(p->label));
	json_object_set_new(j, "rssi", json_integer(p->adv.rssi));
	json_object_set_new(j, "connected", json_boolean(p->connected));
	return j;
}

char *espat_ctl_ble_air(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	const struct espat_ble_world *b = &c->world->ble;
	return espat_ctl_reply_ok("advertising", b->own_on ? adv_json(&b->own) : json_null());
}

static char *peer_add(struct espat_ctl *c, size_t argc, const char *const *argv)
{
	char err[160];
	struct espat_ble_world *b = &c->world->ble;
	if (espat_ble_peer_add(b, argv[0], argc - 1, argv + 1, err, sizeof(err)) != 0)
		return espat_ctl_reply_fail(err);
	return espat_ctl_reply_ok("peer", peer_json(&b->peer[b->n - 1]));
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
		json_array_append_new(a, peer_json(&c->world->ble.peer[i]));
	return espat_ctl_reply_ok("peers", a);
}
