/* The shared air's frame codec (proto/air.h). */
#include "proto/air.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Header layout after the length: type 1, code 1, net 4, peer 4, cid 4,
 * src_ip 4, sport 2, dst_ip 4, dport 2, mac 6 = 32. */
size_t espat_air_encode(const struct espat_air_msg *m, uint8_t *out, size_t cap)
{
	if (m->len > ESPAT_AIR_PAYLOAD_MAX)
		return 0;
	size_t total = ESPAT_AIR_FRAME_HDR + m->len;
	if (total > cap)
		return total;
	put32(out, (uint32_t)(ESPAT_AIR_HDR_LEN + m->len));
	uint8_t *h = out + 4;
	h[0] = m->type;
	h[1] = m->code;
	put32(h + 2, m->net);
	put32(h + 6, m->peer);
	put32(h + 10, m->cid);
	put32(h + 14, m->src_ip);
	put16(h + 18, m->sport);
	put32(h + 20, m->dst_ip);
	put16(h + 24, m->dport);
	memcpy(h + 26, m->mac, 6);
	if (m->len > 0)
		memcpy(out + ESPAT_AIR_FRAME_HDR, m->payload, m->len);
	return total;
}

enum espat_air_rc espat_air_decode(const uint8_t *p, size_t n, struct espat_air_msg *m,
                                   size_t *used)
{
	if (n < 4)
		return ESPAT_AIR_NEED;
	uint32_t len = get32(p);
	/* checked before waiting for the body: a bad length never makes the
	 * reader buffer more than one frame's worth */
	if (len < ESPAT_AIR_HDR_LEN || len > ESPAT_AIR_HDR_LEN + ESPAT_AIR_PAYLOAD_MAX)
		return ESPAT_AIR_BAD;
	if (n - 4 < len)
		return ESPAT_AIR_NEED;
	const uint8_t *h = p + 4;
	memset(m, 0, sizeof(*m));
	m->type = h[0];
	m->code = h[1];
	m->net = get32(h + 2);
	m->peer = get32(h + 6);
	m->cid = get32(h + 10);
	m->src_ip = get32(h + 14);
	m->sport = get16(h + 18);
	m->dst_ip = get32(h + 20);
	m->dport = get16(h + 24);
	memcpy(m->mac, h + 26, 6);
	m->len = len - ESPAT_AIR_HDR_LEN;
	m->payload = m->len ? p + ESPAT_AIR_FRAME_HDR : NULL;
	*used = 4u + len;
	return ESPAT_AIR_MSG;
}

/* Record layout: ssid_len 1, ssid 32, channel, ecn, pairwise, group, bgn,
 * hidden, max_conn (1 each), ip 4, mask 4, rssi 1 = 49. */
void espat_air_ap_encode(const struct espat_air_ap *ap, uint8_t out[ESPAT_AIR_AP_LEN])
{
	memset(out, 0, ESPAT_AIR_AP_LEN);
	size_t sl = ap->ssid_len <= ESPAT_AIR_SSID_MAX ? ap->ssid_len : ESPAT_AIR_SSID_MAX;
	out[0] = (uint8_t)sl;
	memcpy(out + 1, ap->ssid, sl);
	uint8_t *q = out + 1 + ESPAT_AIR_SSID_MAX;
	q[0] = ap->channel;
	q[1] = ap->ecn;
	q[2] = ap->pairwise;
	q[3] = ap->group;
	q[4] = ap->bgn;
	q[5] = ap->hidden;
	q[6] = ap->max_conn;
	put32(q + 7, ap->ip);
	put32(q + 11, ap->mask);
	out[ESPAT_AIR_AP_LEN - 1] = (uint8_t)ap->rssi;
}

bool espat_air_ap_decode(const uint8_t *p, size_t n, struct espat_air_ap *ap)
{
	if (n != ESPAT_AIR_AP_LEN || p[0] > ESPAT_AIR_SSID_MAX)
		return false;
	memset(ap, 0, sizeof(*ap));
	ap->ssid_len = p[0];
	memcpy(ap->ssid, p + 1, ap->ssid_len);
	const uint8_t *q = p + 1 + ESPAT_AIR_SSID_MAX;
	ap->channel = q[0];
	ap->ecn = q[1];
	ap->pairwise = q[2];
	ap->group = q[3];
	ap->bgn = q[4];
	ap->hidden = q[5];
	ap->max_conn = q[6];
	ap->ip = get32(q + 7);
	ap->mask = get32(q + 11);
	uint8_t r = p[ESPAT_AIR_AP_LEN - 1];
	ap->rssi = (int8_t)(r > 127 ? (int)r - 256 : (int)r);
	return true;
}

void espat_air_window_encode(uint32_t grant, uint8_t out[ESPAT_AIR_WINDOW_LEN])
{
	put32(out, grant);
}

bool espat_air_window_decode(const uint8_t *p, size_t n, uint32_t *grant)
{
	if (n != ESPAT_AIR_WINDOW_LEN)
		return false;
	*grant = get32(p);
	return *grant != 0;
}

/* Advertising record: addr_type, adv_type, channel_map (1 each), interval
 * 4, adv_len 1 + adv, rsp_len 1 + rsp. */
size_t espat_air_ble_adv_encode(const struct espat_air_ble_adv *a, uint8_t *out)
{
	size_t al = a->adv_len <= ESPAT_AIR_BLE_DATA_MAX ? a->adv_len : ESPAT_AIR_BLE_DATA_MAX;
	size_t rl = a->rsp_len <= ESPAT_AIR_BLE_DATA_MAX ? a->rsp_len : ESPAT_AIR_BLE_DATA_MAX;
	out[0] = a->addr_type;
	out[1] = a->adv_type;
	out[2] = a->channel_map;
	put32(out + 3, a->interval_ms);
	out[7] = (uint8_t)al;
	memcpy(out + 8, a->adv, al);
	out[8 + al] = (uint8_t)rl;
	memcpy(out + 9 + al, a->rsp, rl);
	size_t n = 9 + al + rl;
	if (a->per_len == 0 || a->per_interval_ms == 0)
		return n; /* no train: the record ends here */
	size_t pl = a->per_len <= ESPAT_AIR_BLE_DATA_MAX ? a->per_len : ESPAT_AIR_BLE_DATA_MAX;
	out[n] = (uint8_t)pl;
	memcpy(out + n + 1, a->per, pl);
	put32(out + n + 1 + pl, a->per_interval_ms);
	return n + 5 + pl;
}

bool espat_air_ble_adv_decode(const uint8_t *p, size_t n, struct espat_air_ble_adv *a)
{
	if (n < 9 || p[7] > ESPAT_AIR_BLE_DATA_MAX || n < 9u + p[7])
		return false;
	size_t al = p[7], rl = p[8 + al];
	if (rl > ESPAT_AIR_BLE_DATA_MAX || n < 9 + al + rl)
		return false;
	size_t end = 9 + al + rl, pl = 0;
	if (n != end) { /* a periodic train: its length, data, interval */
		pl = p[end];
		if (pl == 0 || pl > ESPAT_AIR_BLE_DATA_MAX || n != end + 5 + pl ||
		    get32(p + end + 1 + pl) == 0)
			return false;
	}
	memset(a, 0, sizeof(*a));
	a->addr_type = p[0];
	a->adv_type = p[1];
	a->channel_map = p[2];
	a->interval_ms = get32(p + 3);
	a->adv_len = (uint8_t)al;
	memcpy(a->adv, p + 8, al);
	a->rsp_len = (uint8_t)rl;
	memcpy(a->rsp, p + 9 + al, rl);
	if (pl) {
		a->per_len = (uint8_t)pl;
		memcpy(a->per, p + end + 1, pl);
		a->per_interval_ms = get32(p + end + 1 + pl);
	}
	return a->interval_ms != 0;
}

size_t espat_air_ble_init_encode(const struct espat_air_ble_init *i, uint8_t *out)
{
	memcpy(out, i->addr, 6);
	out[6] = i->addr_type;
	return 7;
}

bool espat_air_ble_init_decode(const uint8_t *p, size_t n, struct espat_air_ble_init *i)
{
	if (n != 7)
		return false;
	memcpy(i->addr, p, 6);
	i->addr_type = p[6];
	return true;
}

size_t espat_air_ble_conn_encode(const struct espat_air_ble_conn *c, uint8_t *out)
{
	put16(out, c->interval);
	put16(out + 2, c->latency);
	put16(out + 4, c->timeout);
	return 6;
}

bool espat_air_ble_conn_decode(const uint8_t *p, size_t n, struct espat_air_ble_conn *c)
{
	if (n != 6)
		return false;
	c->interval = get16(p);
	c->latency = get16(p + 2);
	c->timeout = get16(p + 4);
	return c->interval != 0 && c->timeout != 0;
}

size_t espat_air_ble_mtu_encode(uint16_t mtu, uint8_t *out)
{
	put16(out, mtu);
	return 2;
}

bool espat_air_ble_mtu_decode(const uint8_t *p, size_t n, uint16_t *mtu)
{
	if (n != 2)
		return false;
	*mtu = get16(p);
	return *mtu >= 23 && *mtu <= ESPAT_AIR_BLE_ATT_MAX;
}

void espat_air_flow_init(struct espat_air_flow *f)
{
	f->credit = ESPAT_AIR_WINDOW;
	f->room = ESPAT_AIR_WINDOW;
}

size_t espat_air_flow_sendable(const struct espat_air_flow *f, size_t queued)
{
	return queued < f->credit ? queued : f->credit;
}

void espat_air_flow_sent(struct espat_air_flow *f, size_t n)
{
	f->credit -= n <= f->credit ? (uint32_t)n : f->credit;
}

bool espat_air_flow_granted(struct espat_air_flow *f, uint32_t grant)
{
	if (grant > ESPAT_AIR_WINDOW - f->credit)
		return false;
	f->credit += grant;
	return true;
}

bool espat_air_flow_received(struct espat_air_flow *f, size_t n)
{
	if (n > f->room)
		return false;
	f->room -= (uint32_t)n;
	return true;
}

uint32_t espat_air_flow_consumed(struct espat_air_flow *f, size_t n)
{
	/* only what was received can be consumed: the grant never lets the
	 * peer past the window */
	uint32_t g = n <= ESPAT_AIR_WINDOW - f->room ? (uint32_t)n : ESPAT_AIR_WINDOW - f->room;
	f->room += g;
	return g;
}
