/* Bluetooth LE across the shared air: see ble_air.h. */
#include "app/ble_air.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "app/air.h"
#include "cmd/addr.h"
#include "cmd/ble.h"
#include "cmd/module.h"

#define LINK_INTERVAL 24u /* a new link's interval (cmd/ble.c's link_up, COMPAT #408) */

/* An ATT PDU waiting for the connection event that hands it over. */
struct espat_ble_air_pdu {
	struct espat_ble_air_pdu *next;
	uint64_t due_ns;
	uint16_t len;
	uint8_t p[];
};

static struct espat_module *mod(const struct espat_ble_air *b)
{
	return b->air->m;
}

static bool send_msg(struct espat_ble_air *b, const struct espat_air_msg *m)
{
	return b->air->connected && espat_air_conn_send(&b->air->conn, m);
}

static uint64_t event_ns(uint16_t interval)
{
	return (uint64_t)interval * 1250000u;
}

/* ---- links ---------------------------------------------------------------- */

static struct espat_ble_air_link *link_by_addr(struct espat_ble_air *b, const uint8_t addr[6])
{
	for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++)
		if (b->link[i].used && memcmp(b->link[i].addr, addr, 6) == 0)
			return &b->link[i];
	return NULL;
}

static struct espat_ble_air_link *link_by_name(struct espat_ble_air *b, uint32_t origin,
                                               uint32_t cid)
{
	for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++)
		if (b->link[i].used && b->link[i].origin == origin && b->link[i].cid == cid)
			return &b->link[i];
	return NULL;
}

static struct espat_ble_air_link *link_new(struct espat_ble_air *b, uint32_t origin, uint32_t cid,
                                           const uint8_t addr[6])
{
	for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++) {
		struct espat_ble_air_link *l = &b->link[i];
		if (l->used)
			continue;
		memset(l, 0, sizeof(*l));
		l->used = true;
		l->origin = origin;
		l->cid = cid;
		memcpy(l->addr, addr, 6);
		l->interval = LINK_INTERVAL;
		l->q_tail = &l->q;
		return l;
	}
	return NULL;
}

static void link_free(struct espat_ble_air_link *l)
{
	while (l->q) {
		struct espat_ble_air_pdu *p = l->q;
		l->q = p->next;
		free(p);
	}
	l->used = false;
}

/* Tells the other end the link ended (this side's doing) and forgets it. */
static void link_end(struct espat_ble_air *b, struct espat_ble_air_link *l, uint8_t reason)
{
	struct espat_air_msg m = {
	    .type = ESPAT_AIR_BLE_DISCONN, .peer = l->origin, .cid = l->cid, .code = reason};
	send_msg(b, &m);
	link_free(l);
}

static void frame(struct espat_ble_air *b, const struct espat_ble_air_link *l, uint8_t type,
                  uint8_t code, const uint8_t *p, size_t n)
{
	struct espat_air_msg m = {
	    .type = type, .code = code, .peer = l->origin, .cid = l->cid, .payload = p, .len = n};
	send_msg(b, &m);
}

/* ---- ATT delivery, one PDU per connection event ---------------------------- */

static void on_timer(void *user);

static void arm(struct espat_ble_air *b)
{
	uint64_t due = ESPAT_LOOP_NEVER;
	for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++)
		if (b->link[i].used && b->link[i].q && b->link[i].q->due_ns < due)
			due = b->link[i].q->due_ns;
	if (due == ESPAT_LOOP_NEVER)
		espat_loop_timer_cancel(b->air->loop, &b->timer);
	else
		espat_loop_timer_arm(b->air->loop, &b->timer, due, on_timer, b);
}

/* Hands over the PDUs whose event has come. The module may answer inside
 * espat_ble_att_in (the server's response leaves through att()), so each
 * PDU leaves its queue before it is delivered. */
static void on_timer(void *user)
{
	struct espat_ble_air *b = user;
	uint64_t now = espat_loop_now_ns();
	for (bool more = true; more;) {
		more = false;
		for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++) {
			struct espat_ble_air_link *l = &b->link[i];
			if (!l->used || !l->q || l->q->due_ns > now)
				continue;
			struct espat_ble_air_pdu *p = l->q;
			l->q = p->next;
			if (!l->q)
				l->q_tail = &l->q;
			l->qn--;
			if (l->nlog == ESPAT_BLE_AIR_LOG) {
				memmove(&l->log[0], &l->log[1],
				        sizeof(l->log[0]) * (ESPAT_BLE_AIR_LOG - 1));
				l->nlog--;
			}
			l->log[l->nlog].len = p->len;
			memcpy(l->log[l->nlog].pdu, p->p, p->len);
			l->nlog++;
			uint8_t addr[6];
			memcpy(addr, l->addr, 6);
			espat_ble_att_in(mod(b), addr, p->p, p->len);
			free(p);
			more = true;
		}
	}
	arm(b);
}

static void att_arrived(struct espat_ble_air *b, struct espat_ble_air_link *l, const uint8_t *p,
                        size_t n)
{
	l->rx++;
	if (n == 0 || n > ESPAT_AIR_BLE_ATT_MAX || l->qn >= ESPAT_BLE_AIR_QUEUE) {
		l->dropped++;
		return;
	}
	struct espat_ble_air_pdu *q = malloc(sizeof(*q) + n);
	if (!q) {
		l->dropped++;
		return;
	}
	/* the next connection event after now, and after the last PDU's */
	uint64_t now = espat_loop_now_ns();
	uint64_t at = (l->next_ns > now ? l->next_ns : now) + event_ns(l->interval);
	l->next_ns = at;
	q->next = NULL;
	q->due_ns = at;
	q->len = (uint16_t)n;
	memcpy(q->p, p, n);
	*l->q_tail = q;
	l->q_tail = &q->next;
	l->qn++;
	arm(b);
}

/* ---- the port --------------------------------------------------------------- */

static size_t world_count(const struct espat_ble_air *b)
{
	struct espat_ble_adv tmp;
	size_t n = 0;
	while (b->world.advertiser && b->world.advertiser(b->world.user, n, &tmp))
		n++;
	return n;
}

/* The world's advertisers first, then the other modules'. */
static bool port_advertiser(void *user, size_t i, struct espat_ble_adv *out)
{
	struct espat_ble_air *b = user;
	if (b->world.advertiser && b->world.advertiser(b->world.user, i, out))
		return true;
	size_t k = i - world_count(b);
	if (k >= b->nadvs)
		return false;
	const struct espat_air_ble_adv *a = &b->advs[k].adv;
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, b->advs[k].addr, 6);
	out->addr_type = a->addr_type;
	out->adv_len = a->adv_len <= ESPAT_BLE_ADV_DATA_MAX ? a->adv_len : ESPAT_BLE_ADV_DATA_MAX;
	memcpy(out->adv, a->adv, out->adv_len);
	out->rsp_len = a->rsp_len <= ESPAT_BLE_ADV_DATA_MAX ? a->rsp_len : ESPAT_BLE_ADV_DATA_MAX;
	memcpy(out->rsp, a->rsp, out->rsp_len);
	out->adv_type = a->adv_type;
	out->channel_map = a->channel_map;
	out->interval_ms = a->interval_ms;
	out->phase_ms = b->advs[k].phase_ms;
	out->rssi = ESPAT_BLE_AIR_RSSI;
	if (a->per_len) { /* its periodic train, timed on this module's clock too */
		out->per_on = true;
		out->per_len = a->per_len <= ESPAT_BLE_PERIODIC_MAX ? a->per_len : ESPAT_BLE_PERIODIC_MAX;
		memcpy(out->per, a->per, out->per_len);
		out->per_interval_ms = a->per_interval_ms;
		out->per_phase_ms = b->advs[k].phase_ms % a->per_interval_ms;
	}
	return true;
}

static void port_advertise(void *user, const struct espat_ble_adv *adv)
{
	struct espat_ble_air *b = user;
	if (b->world.advertise)
		b->world.advertise(b->world.user, adv);
	b->own_on = adv != NULL;
	if (adv)
		b->own = *adv;
	b->own_dirty = true;
}

static int adv_by_addr(const struct espat_ble_air *b, const uint8_t addr[6])
{
	for (size_t i = 0; i < b->nadvs; i++)
		if (memcmp(b->advs[i].addr, addr, 6) == 0)
			return (int)i;
	return -1;
}

/* A link came up or ended on this side. Up: to an air advertiser, it is
 * this module's CONNECT_IND (BLE_CONN); a link the other module made is
 * known already. Down: the other end hears at once (a terminate). */
static void port_link(void *user, const uint8_t addr[6], bool up)
{
	struct espat_ble_air *b = user;
	if (b->world.link)
		b->world.link(b->world.user, addr, up);
	struct espat_ble_air_link *l = link_by_addr(b, addr);
	if (!up) {
		if (l)
			link_end(b, l, ESPAT_AIR_BLE_REMOTE_TERM);
		return;
	}
	int a = adv_by_addr(b, addr);
	if (l || a < 0 || !b->air->connected)
		return;
	l = link_new(b, b->air->id, ++b->next_cid, addr);
	if (!l)
		return;
	l->initiator = true;
	l->peer_mod = b->advs[a].mod;
	struct espat_air_ble_init init;
	espat_ble_own_addr(mod(b), init.addr, &init.addr_type);
	uint8_t rec[8];
	struct espat_air_msg m = {.type = ESPAT_AIR_BLE_CONN,
	                          .peer = l->origin,
	                          .cid = l->cid,
	                          .payload = rec,
	                          .len = espat_air_ble_init_encode(&init, rec)};
	memcpy(m.mac, addr, 6);
	send_msg(b, &m);
}

static uint16_t port_peer_mtu(void *user, const uint8_t addr[6])
{
	struct espat_ble_air *b = user;
	if (link_by_addr(b, addr))
		return ESPAT_BLE_AIR_MTU;
	return b->world.peer_mtu ? b->world.peer_mtu(b->world.user, addr) : 0;
}

static void port_att(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	struct espat_ble_air *b = user;
	struct espat_ble_air_link *l = link_by_addr(b, addr);
	if (!l) {
		if (b->world.att)
			b->world.att(b->world.user, addr, pdu, len);
		return;
	}
	if (len == 0 || len > ESPAT_AIR_BLE_ATT_MAX)
		return;
	l->tx++;
	frame(b, l, ESPAT_AIR_BLE_ATT, 0, pdu, len);
}

/* SMP and LL control PDUs go as they come: the module already holds its
 * own for the link's next connection event (cmd/ble_sec.c). */
static void security_pdu(struct espat_ble_air *b, uint8_t type, const uint8_t addr[6],
                         const uint8_t *pdu, size_t len)
{
	struct espat_ble_air_link *l = link_by_addr(b, addr);
	if (!l) {
		void (*to)(void *, const uint8_t *, const uint8_t *, size_t) =
		    type == ESPAT_AIR_BLE_SMP ? b->world.smp : b->world.ll;
		if (to)
			to(b->world.user, addr, pdu, len);
		return;
	}
	if (len == 0 || len > ESPAT_AIR_BLE_ATT_MAX)
		return;
	frame(b, l, type, 0, pdu, len);
}

static void port_smp(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	security_pdu(user, ESPAT_AIR_BLE_SMP, addr, pdu, len);
}

static void port_ll(void *user, const uint8_t addr[6], const uint8_t *pdu, size_t len)
{
	security_pdu(user, ESPAT_AIR_BLE_LL, addr, pdu, len);
}

static void port_conn_param(void *user, const uint8_t addr[6], uint16_t interval, uint16_t latency,
                            uint16_t timeout)
{
	struct espat_ble_air *b = user;
	struct espat_ble_air_link *l = link_by_addr(b, addr);
	if (!l) {
		if (b->world.conn_param)
			b->world.conn_param(b->world.user, addr, interval, latency, timeout);
		return;
	}
	l->interval = interval;
	struct espat_air_ble_conn c = {
	    .interval = interval, .latency = latency, .timeout = timeout};
	uint8_t rec[6];
	frame(b, l, ESPAT_AIR_BLE_PARAM, ESPAT_AIR_BLE_CONN_PARAM, rec,
	      espat_air_ble_conn_encode(&c, rec));
}

static void port_mtu(void *user, const uint8_t addr[6], uint16_t mtu)
{
	struct espat_ble_air *b = user;
	struct espat_ble_air_link *l = link_by_addr(b, addr);
	if (!l) {
		if (b->world.mtu)
			b->world.mtu(b->world.user, addr, mtu);
		return;
	}
	uint8_t rec[2];
	frame(b, l, ESPAT_AIR_BLE_PARAM, ESPAT_AIR_BLE_MTU, rec,
	      espat_air_ble_mtu_encode(mtu, rec));
}

static void port_phy(void *user, const uint8_t addr[6], uint8_t phy)
{
	struct espat_ble_air *b = user;
	struct espat_ble_air_link *l = link_by_addr(b, addr);
	if (!l) {
		if (b->world.phy)
			b->world.phy(b->world.user, addr, phy);
		return;
	}
	frame(b, l, ESPAT_AIR_BLE_PARAM, ESPAT_AIR_BLE_PHY, &phy, 1);
}

struct espat_ble_port espat_ble_air_port(struct espat_ble_air *b,
                                         const struct espat_ble_port *world)
{
	b->world = *world;
	return (struct espat_ble_port){.advertiser = port_advertiser,
	                               .advertise = port_advertise,
	                               .link = port_link,
	                               .peer_mtu = port_peer_mtu,
	                               .att = port_att,
	                               .smp = port_smp,
	                               .ll = port_ll,
	                               .conn_param = port_conn_param,
	                               .mtu = port_mtu,
	                               .phy = port_phy,
	                               .user = b};
}

/* ---- the hub's messages ------------------------------------------------------- */

static void on_adv(struct espat_ble_air *b, const struct espat_air_msg *in)
{
	int i = -1;
	for (size_t k = 0; k < b->nadvs && i < 0; k++)
		if (b->advs[k].mod == in->peer)
			i = (int)k;
	struct espat_air_ble_adv adv;
	if (in->len == 0 || !espat_air_ble_adv_decode(in->payload, in->len, &adv)) {
		if (i >= 0) { /* stopped (or unreadable: heard no more) */
			memmove(&b->advs[i], &b->advs[i + 1],
			        (b->nadvs - (size_t)i - 1) * sizeof(b->advs[0]));
			b->nadvs--;
		}
		return;
	}
	if (i < 0) {
		if (b->nadvs >= ESPAT_BLE_AIR_ADVS_MAX)
			return; /* more advertisers than this module keeps */
		i = (int)b->nadvs++;
	}
	b->advs[i].mod = in->peer;
	memcpy(b->advs[i].addr, in->mac, 6);
	b->advs[i].adv = adv;
	/* its events are placed on this module's clock from when it was heard */
	b->advs[i].phase_ms = (uint32_t)(espat_module_now(mod(b)) % adv.interval_ms);
}

/* Another module connects to our advertising set. */
static void on_conn(struct espat_ble_air *b, const struct espat_air_msg *in)
{
	struct espat_air_ble_init init;
	struct espat_air_msg r = {.type = ESPAT_AIR_BLE_CONN_ANS,
	                          .peer = in->peer,
	                          .cid = in->cid,
	                          .code = ESPAT_AIR_BLE_REFUSED};
	struct espat_ble_air_link *l = NULL;
	if (espat_air_ble_init_decode(in->payload, in->len, &init) && !link_by_addr(b, init.addr) &&
	    !link_by_name(b, in->peer, in->cid))
		l = link_new(b, in->peer, in->cid, init.addr);
	if (l) {
		l->accepted = true;
		l->peer_mod = in->peer;
		/* the family's link_up calls link(addr, up): it finds l */
		if (espat_ble_central_connect(mod(b), init.addr, init.addr_type) >= 0)
			r.code = ESPAT_AIR_BLE_ACCEPTED;
		else
			link_free(l);
	}
	send_msg(b, &r);
}

void espat_ble_air_msg(struct espat_ble_air *b, const struct espat_air_msg *in)
{
	if (in->type == ESPAT_AIR_BLE_ADV) {
		on_adv(b, in);
		return;
	}
	if (in->type == ESPAT_AIR_BLE_CONN) {
		on_conn(b, in);
		return;
	}
	struct espat_ble_air_link *l = link_by_name(b, in->peer, in->cid);
	if (!l)
		return; /* a link already ended here: its late frames go nowhere */
	uint8_t addr[6];
	memcpy(addr, l->addr, 6);
	switch (in->type) {
	case ESPAT_AIR_BLE_CONN_ANS:
		if (in->code == ESPAT_AIR_BLE_ACCEPTED) {
			l->accepted = true;
		} else {
			/* gone between our scan and our CONNECT_IND (COMPAT #422) */
			link_free(l);
			espat_ble_remote_disconnect(mod(b), addr);
		}
		break;
	case ESPAT_AIR_BLE_ATT:
		att_arrived(b, l, in->payload, in->len);
		break;
	case ESPAT_AIR_BLE_SMP:
		espat_ble_smp_in(mod(b), addr, in->payload, in->len);
		break;
	case ESPAT_AIR_BLE_LL:
		espat_ble_ll_in(mod(b), addr, in->payload, in->len);
		break;
	case ESPAT_AIR_BLE_PARAM: {
		struct espat_air_ble_conn c;
		uint16_t mtu;
		if (in->code == ESPAT_AIR_BLE_CONN_PARAM &&
		    espat_air_ble_conn_decode(in->payload, in->len, &c)) {
			l->interval = c.interval;
			espat_ble_peer_conn_param(mod(b), addr, c.interval, c.latency, c.timeout);
		} else if (in->code == ESPAT_AIR_BLE_MTU &&
		           espat_air_ble_mtu_decode(in->payload, in->len, &mtu)) {
			espat_ble_peer_mtu(mod(b), addr, mtu);
		} else if (in->code == ESPAT_AIR_BLE_PHY && in->len == 1) {
			espat_ble_peer_phy(mod(b), addr, in->payload[0]);
		}
		break;
	}
	case ESPAT_AIR_BLE_DISCONN:
		link_free(l);
		if (in->code == ESPAT_AIR_BLE_TIMEOUT)
			espat_ble_peer_lost(mod(b), addr);
		else
			espat_ble_remote_disconnect(mod(b), addr);
		break;
	default:
		break;
	}
	arm(b);
}

void espat_ble_air_sync(struct espat_ble_air *b)
{
	if (!b->own_dirty || !b->air->connected)
		return;
	b->own_dirty = false;
	if (!b->own_on && !b->pub_on)
		return;
	uint8_t rec[ESPAT_AIR_BLE_ADV_LEN_MAX];
	struct espat_air_msg m = {.type = ESPAT_AIR_BLE_ADV};
	if (b->own_on) {
		struct espat_air_ble_adv a = {.addr_type = b->own.addr_type,
		                              .adv_type = b->own.adv_type,
		                              .channel_map = b->own.channel_map,
		                              .interval_ms = b->own.interval_ms,
		                              .adv_len = b->own.adv_len,
		                              .rsp_len = b->own.rsp_len};
		memcpy(a.adv, b->own.adv, b->own.adv_len);
		memcpy(a.rsp, b->own.rsp, b->own.rsp_len);
		if (b->own.per_on) {
			a.per_len = b->own.per_len;
			memcpy(a.per, b->own.per, b->own.per_len);
			a.per_interval_ms = b->own.per_interval_ms;
		}
		memcpy(m.mac, b->own.addr, 6);
		m.payload = rec;
		m.len = espat_air_ble_adv_encode(&a, rec);
	}
	send_msg(b, &m);
	b->pub_on = b->own_on;
}

void espat_ble_air_gone(struct espat_ble_air *b)
{
	b->nadvs = 0;
	b->pub_on = false;
	for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++) {
		struct espat_ble_air_link *l = &b->link[i];
		if (!l->used)
			continue;
		uint8_t addr[6];
		memcpy(addr, l->addr, 6);
		link_free(l);
		espat_ble_peer_lost(mod(b), addr);
	}
	arm(b);
}

void espat_ble_air_power_cut(struct espat_ble_air *b)
{
	for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++)
		if (b->link[i].used)
			link_end(b, &b->link[i], ESPAT_AIR_BLE_TIMEOUT);
	arm(b);
}

static json_t *hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char s[2 * ESPAT_AIR_BLE_ATT_MAX + 1];
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return json_string(s);
}

json_t *espat_ble_air_state(struct espat_ble_air *b)
{
	char mac[18];
	json_t *advs = json_array();
	for (size_t i = 0; advs && i < b->nadvs; i++) {
		const struct espat_air_ble_adv *a = &b->advs[i].adv;
		json_array_append_new(
		    advs, json_pack("{s:i,s:s,s:i,s:i,s:i,s:o,s:o}", "module", (int)b->advs[i].mod,
		                    "addr", espat_mac_str(b->advs[i].addr, mac), "addr_type",
		                    a->addr_type, "adv_type", a->adv_type, "interval_ms",
		                    (int)a->interval_ms, "adv", hex(a->adv, a->adv_len), "rsp",
		                    hex(a->rsp, a->rsp_len)));
	}
	json_t *links = json_array();
	for (size_t i = 0; links && i < ESPAT_BLE_AIR_LINKS; i++) {
		const struct espat_ble_air_link *l = &b->link[i];
		if (!l->used)
			continue;
		json_t *log = json_array();
		for (size_t k = 0; log && k < l->nlog; k++)
			json_array_append_new(log, hex(l->log[k].pdu, l->log[k].len));
		json_array_append_new(
		    links,
		    json_pack("{s:s,s:i,s:i,s:i,s:b,s:b,s:i,s:i,s:i,s:i,s:i,s:o}", "addr",
		              espat_mac_str(l->addr, mac), "module", (int)l->peer_mod, "origin",
		              (int)l->origin, "cid", (int)l->cid, "initiator", l->initiator,
		              "accepted", l->accepted, "interval", l->interval, "queued",
		              (int)l->qn, "rx", (int)l->rx, "tx", (int)l->tx, "dropped",
		              (int)l->dropped, "received", log ? log : json_null()));
	}
	return json_pack("{s:b,s:o,s:o}", "advertising", b->pub_on, "advertisers",
	                 advs ? advs : json_null(), "links", links ? links : json_null());
}

void espat_ble_air_close(struct espat_ble_air *b)
{
	if (b->air && b->air->loop)
		espat_loop_timer_cancel(b->air->loop, &b->timer);
	for (size_t i = 0; i < ESPAT_BLE_AIR_LINKS; i++)
		if (b->link[i].used)
			link_free(&b->link[i]);
}
