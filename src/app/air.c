/* A module's side of the shared air (app/air.h): hub messages, the radio
 * over the world plus the air's softAPs, and the net decorator that
 * carries sockets inside air networks through the hub. */
#include "app/air.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd/addr.h"
#include "cmd/module.h"
#include "posix/bytebuf.h"

#define EPHEMERAL_FIRST 49152u /* lwIP's dynamic port range */

enum sock_kind {
	AS_TCP,
	AS_UDP,
	AS_LISTEN,
};

struct dgram {
	struct dgram *next;
	struct espat_endpoint from;
	size_t len;
	uint8_t p[];
};

/* A socket inside an air network (or a listener, host and air). The
 * struct espat_sock pointers handed out for these are this struct's; the
 * decorator tells them from the host's by looking in a->socks. */
struct espat_air_sock {
	struct espat_air_sock *next;
	struct espat_air *air;
	enum sock_kind kind;
	struct espat_sock_cbs cb;
	void *cbuser;
	uint32_t net;         /* the air network it lives in */
	uint32_t origin, cid; /* TCP: the stream's name in the air */
	uint32_t lip, rip;    /* host byte order */
	uint16_t lport, rport;
	struct espat_sock *inner; /* listener: the host's loopback listener, or NULL */
	bool connecting;          /* TCP_OPEN sent, no answer yet */
	bool established;
	bool peer_closed; /* TCP_CLOSE / refusal came, or the air went away */
	bool paused;
	/* deferred callbacks (run from the kick timer, never inside a call) */
	bool ev_connected, ev_drained, ev_closed;
	int ev_err;
	/* TCP flow control (proto/air.h): rx never holds more than the
	 * window, tx holds what the peer's window does not take yet */
	struct espat_air_flow flow;
	uint8_t *rx; /* TCP bytes held while paused (or not yet handed on) */
	size_t rx_len, rx_cap;
	struct espat_bytebuf tx; /* TCP bytes past the peer's window: queued() */
	bool want_drained;       /* a send() since the queue last emptied */
	/* closed gracefully by its owner with tx not empty: no owner, no
	 * callbacks; sends the rest, then FIN, or RST when linger runs out */
	bool orphan;
	struct espat_loop_timer linger;
	struct dgram *dq, **dq_tail; /* UDP datagrams held while paused */
	size_t dq_n;
};

/* ---- small helpers ------------------------------------------------------ */

static uint32_t bss_id(uint32_t net)
{
	return ESPAT_AIR_BSS_BASE | net;
}

static bool is_air_id(uint32_t id)
{
	return (id & ESPAT_AIR_BSS_BASE) != 0;
}

static uint32_t ip4_of(const struct espat_ip *ip)
{
	return ((uint32_t)ip->a[0] << 24) | ((uint32_t)ip->a[1] << 16) | ((uint32_t)ip->a[2] << 8) |
	       ip->a[3];
}

static struct espat_endpoint endpoint(uint32_t ip, uint16_t port)
{
	struct espat_endpoint e;
	memset(&e, 0, sizeof(e));
	e.ip.a[0] = (uint8_t)(ip >> 24);
	e.ip.a[1] = (uint8_t)(ip >> 16);
	e.ip.a[2] = (uint8_t)(ip >> 8);
	e.ip.a[3] = (uint8_t)ip;
	e.port = port;
	return e;
}

static bool send_msg(struct espat_air *a, const struct espat_air_msg *m)
{
	return a->connected && espat_air_conn_send(&a->conn, m);
}

static int ap_index(const struct espat_air *a, uint32_t net)
{
	for (size_t i = 0; i < a->naps; i++)
		if (a->aps[i].net == net)
			return (int)i;
	return -1;
}

static void world_changed(struct espat_air *a)
{
	espat_wifi_world_changed(a->m);
}

static struct espat_air_sock *air_sock(struct espat_air *a, struct espat_sock *s)
{
	for (struct espat_air_sock *x = a->socks; x; x = x->next)
		if ((struct espat_sock *)x == s)
			return x;
	return NULL;
}

static struct espat_air_sock *stream(struct espat_air *a, uint32_t origin, uint32_t cid)
{
	for (struct espat_air_sock *x = a->socks; x; x = x->next)
		if (x->kind == AS_TCP && x->origin == origin && x->cid == cid)
			return x;
	return NULL;
}

static void kick_soon(struct espat_air *a);

/* ---- the radio ---------------------------------------------------------- */

/* The ciphers a softAP of this security announces (ESP-IDF's defaults). */
static void ciphers(uint8_t ecn, uint8_t *pairwise, uint8_t *group)
{
	switch (ecn) {
	case ESPAT_ECN_OPEN:
		*pairwise = *group = ESPAT_CIPHER_NONE;
		break;
	case ESPAT_ECN_WPA_PSK:
		*pairwise = *group = ESPAT_CIPHER_TKIP;
		break;
	case ESPAT_ECN_WPA_WPA2_PSK:
		*pairwise = ESPAT_CIPHER_TKIP_CCMP;
		*group = ESPAT_CIPHER_TKIP;
		break;
	default:
		*pairwise = *group = ESPAT_CIPHER_CCMP;
		break;
	}
}

static void bss_of(const struct espat_air *a, size_t i, bool reveal, struct espat_bss *b)
{
	const struct espat_air_ap *ap = &a->aps[i].ap;
	memset(b, 0, sizeof(*b));
	b->id = bss_id(a->aps[i].net);
	if (reveal || !ap->hidden) {
		memcpy(b->ssid, ap->ssid, ap->ssid_len);
		b->ssid_len = ap->ssid_len;
	}
	memcpy(b->bssid, a->aps[i].bssid, 6);
	b->channel = ap->channel;
	b->rssi = ap->rssi;
	b->ecn = ap->ecn;
	b->pairwise_cipher = ap->pairwise;
	b->group_cipher = ap->group;
	b->bgn = ap->bgn;
	b->pmf_required = ap->ecn == ESPAT_ECN_WPA3_PSK;
}

static size_t radio_scan(void *user, struct espat_bss *out, size_t max)
{
	struct espat_air *a = user;
	enum { WMAX = 64 };
	struct espat_bss all[WMAX + ESPAT_AIR_APS_MAX];
	size_t n = a->world.scan ? a->world.scan(a->world.user, all, WMAX) : 0;
	if (n > WMAX)
		n = WMAX;
	for (size_t i = 0; i < a->naps; i++)
		bss_of(a, i, false, &all[n++]);
	/* a sweep meets them channel by channel; stable, so the world's order
	 * holds within a channel and the air's APs come after */
	for (size_t i = 1; i < n; i++) {
		struct espat_bss t = all[i];
		size_t j = i;
		for (; j > 0 && all[j - 1].channel > t.channel; j--)
			all[j] = all[j - 1];
		all[j] = t;
	}
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = all[i];
	return n;
}

static bool radio_find(void *user, uint32_t id, struct espat_bss *out)
{
	struct espat_air *a = user;
	if (!is_air_id(id))
		return a->world.find && a->world.find(a->world.user, id, out);
	int i = ap_index(a, id & ~ESPAT_AIR_BSS_BASE);
	if (i < 0)
		return false;
	bss_of(a, (size_t)i, true, out);
	return true;
}

static enum espat_auth radio_auth(void *user, uint32_t id, const uint8_t mac[6], const uint8_t *pwd,
                                  size_t pwd_len, const struct espat_eap_cred *eap,
                                  struct espat_ipnet *net)
{
	struct espat_air *a = user;
	if (!is_air_id(id))
		return a->world.auth(a->world.user, id, mac, pwd, pwd_len, eap, net);
	uint32_t nid = id & ~ESPAT_AIR_BSS_BASE;
	int i = ap_index(a, nid);
	if (i < 0 || !a->connected)
		return ESPAT_AUTH_GONE;
	const struct espat_air_ap *ap = &a->aps[i].ap;
	bool joined = a->sta == ESPAT_AIR_STA_JOINED && a->sta_net == nid;
	memset(net, 0, sizeof(*net));
	net->dhcp = true;
	net->ip = joined ? a->sta_ip : 0;
	net->mask = ap->mask;
	net->gw = ap->ip;
	net->dns[0] = ap->ip; /* ESP-IDF's DHCP server offers itself as DNS */
	net->lease_s = 7200;
	net->assoc_ms = ESPAT_AIR_ASSOC_MS;
	net->dhcp_ms = ESPAT_AIR_DHCP_MS;
	net->air = true;
	if (eap)
		return ESPAT_AUTH_REJECTED; /* a softAP is never Enterprise */
	if (joined)
		return ESPAT_AUTH_OK; /* asked again while on it: still in */
	struct espat_air_msg m = {
	    .type = ESPAT_AIR_JOIN, .net = nid, .payload = pwd, .len = pwd_len};
	memcpy(m.mac, mac, 6);
	if (!send_msg(a, &m))
		return ESPAT_AUTH_GONE;
	a->sta = ESPAT_AIR_STA_ASKED;
	a->sta_net = nid;
	a->sta_ip = 0;
	a->sta_mask = ap->mask;
	return ESPAT_AUTH_PENDING;
}

static void radio_leave(void *user, uint32_t id)
{
	struct espat_air *a = user;
	if (!is_air_id(id) || a->sta == ESPAT_AIR_STA_NONE ||
	    a->sta_net != (id & ~ESPAT_AIR_BSS_BASE))
		return;
	struct espat_air_msg m = {.type = ESPAT_AIR_LEAVE, .net = a->sta_net};
	send_msg(a, &m);
	a->sta = ESPAT_AIR_STA_NONE;
	a->sta_net = a->sta_ip = 0;
}

static int rsta_by_mac(const struct espat_air *a, const uint8_t mac[6])
{
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++)
		if (a->rsta[i].used && memcmp(a->rsta[i].mac, mac, 6) == 0)
			return (int)i;
	return -1;
}

static int rsta_by_peer(const struct espat_air *a, uint32_t peer)
{
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++)
		if (a->rsta[i].used && a->rsta[i].peer == peer)
			return (int)i;
	return -1;
}

static void radio_softap_station(void *user, const uint8_t mac[6], uint32_t ip)
{
	struct espat_air *a = user;
	int i = rsta_by_mac(a, mac);
	if (i < 0)
		return; /* a ctl phone, or a station that already left the air */
	struct espat_air_msg m = {.peer = a->rsta[i].peer};
	if (ip != 0) {
		a->rsta[i].ip = ip;
		m.type = ESPAT_AIR_LEASE;
		m.src_ip = ip;
	} else {
		m.type = ESPAT_AIR_KICK;
		memset(&a->rsta[i], 0, sizeof(a->rsta[i]));
	}
	send_msg(a, &m);
}

static uint32_t radio_scan_channel_ms(void *user)
{
	struct espat_air *a = user;
	return a->world.scan_channel_ms ? a->world.scan_channel_ms(a->world.user) : 120u;
}

static bool radio_smartconfig(void *user, unsigned type_mask, struct espat_prov *out)
{
	struct espat_air *a = user;
	return a->world.smartconfig && a->world.smartconfig(a->world.user, type_mask, out);
}

static size_t radio_wps(void *user, uint64_t now_ms, struct espat_prov *out)
{
	struct espat_air *a = user;
	return a->world.wps ? a->world.wps(a->world.user, now_ms, out) : 0;
}

static const char *radio_ota_server(void *user, bool tls)
{
	struct espat_air *a = user;
	return a->world.ota_server ? a->world.ota_server(a->world.user, tls) : NULL;
}

struct espat_radio espat_air_radio(struct espat_air *a, const struct espat_radio *world)
{
	a->world = *world;
	return (struct espat_radio){
	    .user = a,
	    .scan = radio_scan,
	    .find = radio_find,
	    .auth = radio_auth,
	    .scan_channel_ms = radio_scan_channel_ms,
	    .smartconfig = radio_smartconfig,
	    .wps = radio_wps,
	    .ota_server = radio_ota_server,
	    .leave = radio_leave,
	    .softap_station = radio_softap_station,
	};
}

/* ---- the module's softAP ------------------------------------------------ */

static void publish(struct espat_air *a, bool up, const struct espat_wifi_softap *cur)
{
	if (up) {
		struct espat_air_ap ap;
		memset(&ap, 0, sizeof(ap));
		size_t sl =
		    cur->ssid_len <= ESPAT_AIR_SSID_MAX ? cur->ssid_len : ESPAT_AIR_SSID_MAX;
		memcpy(ap.ssid, cur->ssid, sl);
		ap.ssid_len = (uint8_t)sl;
		ap.channel = cur->channel;
		ap.ecn = cur->ecn;
		ciphers(cur->ecn, &ap.pairwise, &ap.group);
		ap.bgn = cur->proto;
		ap.hidden = cur->hidden;
		ap.max_conn = cur->max_conn;
		ap.rssi = ESPAT_AIR_RSSI;
		ap.ip = cur->ip;
		ap.mask = cur->mask;
		uint8_t rec[ESPAT_AIR_AP_LEN];
		espat_air_ap_encode(&ap, rec);
		struct espat_air_msg m = {
		    .type = ESPAT_AIR_AP_UP, .payload = rec, .len = sizeof(rec)};
		memcpy(m.mac, cur->bssid, 6);
		send_msg(a, &m);
		a->pub = *cur;
	} else {
		struct espat_air_msg m = {.type = ESPAT_AIR_AP_DOWN};
		send_msg(a, &m);
		/* its stations were dropped with it (the module said so) */
		memset(a->rsta, 0, sizeof(a->rsta));
	}
	a->ap_pub = up;
}

void espat_air_sync(struct espat_air *a)
{
	if (!a->connected)
		return;
	struct espat_wifi_softap cur;
	memset(&cur, 0, sizeof(cur));
	bool up = espat_wifi_softap(a->m, &cur);
	if (up != a->ap_pub || (up && memcmp(&cur, &a->pub, sizeof(cur)) != 0))
		publish(a, up, &cur);
	espat_ble_air_sync(&a->ble);
}

struct espat_ble_port espat_air_ble(struct espat_air *a, const struct espat_ble_port *world)
{
	return espat_ble_air_port(&a->ble, world);
}

/* ---- sockets in the air ------------------------------------------------- */

static void sock_free(struct espat_air *a, struct espat_air_sock *s)
{
	for (struct espat_air_sock **pp = &a->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->orphan)
		espat_loop_timer_cancel(a->loop, &s->linger);
	free(s->rx);
	espat_bytebuf_free(&s->tx);
	while (s->dq) {
		struct dgram *d = s->dq;
		s->dq = d->next;
		free(d);
	}
	free(s);
}

static struct espat_air_sock *sock_new(struct espat_air *a, enum sock_kind kind)
{
	struct espat_air_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->air = a;
	s->kind = kind;
	s->dq_tail = &s->dq;
	espat_air_flow_init(&s->flow);
	s->next = a->socks;
	a->socks = s;
	return s;
}

static uint16_t ephemeral(struct espat_air *a)
{
	if (a->next_port < EPHEMERAL_FIRST)
		a->next_port = EPHEMERAL_FIRST;
	return a->next_port++;
}

/* Which air network (and our address in it) reaches ip, if any. */
static bool air_route(const struct espat_air *a, uint32_t ip, uint32_t *net, uint32_t *lip)
{
	if (!a->connected || ip == 0)
		return false;
	if (a->sta == ESPAT_AIR_STA_JOINED && a->sta_ip && ((ip ^ a->sta_ip) & a->sta_mask) == 0) {
		*net = a->sta_net;
		*lip = a->sta_ip;
		return true;
	}
	if (a->ap_pub && ip != a->pub.ip && ((ip ^ a->pub.ip) & a->pub.mask) == 0) {
		*net = a->id;
		*lip = a->pub.ip;
		return true;
	}
	return false;
}

static bool rx_append(struct espat_air_sock *s, const uint8_t *p, size_t n)
{
	if (s->rx_len + n > s->rx_cap) {
		size_t cap = s->rx_cap ? s->rx_cap : 4096;
		while (cap < s->rx_len + n)
			cap *= 2;
		uint8_t *q = realloc(s->rx, cap);
		if (!q)
			return false;
		s->rx = q;
		s->rx_cap = cap;
	}
	memcpy(s->rx + s->rx_len, p, n);
	s->rx_len += n;
	return true;
}

/* Tells the peer that n more bytes fit (they went to the owner). */
static void grant(struct espat_air_sock *s, size_t n)
{
	uint32_t g = espat_air_flow_consumed(&s->flow, n);
	if (g == 0 || s->peer_closed)
		return;
	uint8_t w[ESPAT_AIR_WINDOW_LEN];
	espat_air_window_encode(g, w);
	struct espat_air_msg m = {.type = ESPAT_AIR_TCP_WINDOW,
	                          .peer = s->origin,
	                          .cid = s->cid,
	                          .payload = w,
	                          .len = sizeof(w)};
	send_msg(s->air, &m);
}

/* Sends as much of tx as the peer's window takes; drained() once it is
 * empty after a send(). false when the hub connection failed (its end
 * reaches every stream through on_gone). */
static bool pump(struct espat_air_sock *s)
{
	size_t k;
	while ((k = espat_air_flow_sendable(&s->flow, espat_bytebuf_size(&s->tx))) > 0) {
		if (k > ESPAT_AIR_PAYLOAD_MAX)
			k = ESPAT_AIR_PAYLOAD_MAX;
		struct espat_air_msg m = {.type = ESPAT_AIR_TCP_DATA,
		                          .peer = s->origin,
		                          .cid = s->cid,
		                          .payload = s->tx.p + s->tx.off,
		                          .len = k};
		if (!send_msg(s->air, &m))
			return false;
		espat_air_flow_sent(&s->flow, k);
		espat_bytebuf_take(&s->tx, k);
	}
	if (espat_bytebuf_size(&s->tx) == 0 && s->want_drained) {
		s->want_drained = false;
		s->ev_drained = true;
		kick_soon(s->air);
	}
	return true;
}

/* One deferred callback, if any is due; false when none was. The owner
 * may close any socket inside it, so the caller starts over each time. */
static bool run_one(struct espat_air *a)
{
	for (struct espat_air_sock *s = a->socks; s; s = s->next) {
		if (s->ev_connected) {
			s->ev_connected = false;
			if (s->cb.connected)
				s->cb.connected(s->cbuser, s->ev_err);
			return true;
		}
		if (!s->paused && s->rx_len > 0 && s->cb.data) {
			uint8_t *p = s->rx;
			size_t n = s->rx_len;
			s->rx = NULL;
			s->rx_len = s->rx_cap = 0;
			/* granted as they are handed over: the owner may close
			 * the socket inside data() */
			grant(s, n);
			s->cb.data(s->cbuser, p, n, NULL);
			free(p);
			return true;
		}
		if (!s->paused && s->dq && s->cb.data) {
			struct dgram *d = s->dq;
			s->dq = d->next;
			if (!s->dq)
				s->dq_tail = &s->dq;
			s->dq_n--;
			s->cb.data(s->cbuser, d->p, d->len, &d->from);
			free(d);
			return true;
		}
		if (s->ev_closed && s->rx_len == 0) {
			s->ev_closed = false;
			if (s->cb.closed)
				s->cb.closed(s->cbuser, s->ev_err);
			return true;
		}
		if (s->ev_drained) {
			s->ev_drained = false;
			if (s->cb.drained)
				s->cb.drained(s->cbuser);
			return true;
		}
	}
	return false;
}

static void on_kick(void *user)
{
	struct espat_air *a = user;
	while (run_one(a)) {
	}
}

static void kick_soon(struct espat_air *a)
{
	espat_loop_timer_arm(a->loop, &a->kick, espat_loop_now_ns(), on_kick, a);
}

/* The stream ends from the other side (or the air): closed() after the
 * bytes already here. */
static void peer_gone(struct espat_air_sock *s, int err)
{
	if (s->orphan) {
		sock_free(s->air, s); /* nobody to tell; what it held is lost */
		return;
	}
	if (s->peer_closed)
		return;
	s->peer_closed = true;
	/* nothing more can go: what waited for the window is lost, as a
	 * reset connection's send queue */
	espat_bytebuf_free(&s->tx);
	s->want_drained = false;
	if (s->connecting) {
		s->connecting = false;
		s->ev_connected = true;
		s->ev_err = err ? err : ESPAT_NET_EREFUSED;
	} else {
		s->ev_closed = true;
		s->ev_err = err;
	}
	kick_soon(s->air);
}

/* The peer broke the window: the stream is reset both ways. */
static void reset_stream(struct espat_air_sock *s)
{
	struct espat_air_msg m = {
	    .type = ESPAT_AIR_TCP_CLOSE, .peer = s->origin, .cid = s->cid, .code = ESPAT_AIR_RST};
	send_msg(s->air, &m);
	peer_gone(s, ESPAT_NET_ERESET);
}

static int close_err(uint8_t code)
{
	switch (code) {
	case ESPAT_AIR_FIN:
		return 0;
	case ESPAT_AIR_REFUSED:
		return ESPAT_NET_EREFUSED;
	case ESPAT_AIR_UNREACH:
		return ESPAT_NET_EUNREACH;
	default:
		return ESPAT_NET_ERESET;
	}
}

static void on_tcp_open(struct espat_air *a, const struct espat_air_msg *in)
{
	struct espat_air_sock *l = NULL;
	for (struct espat_air_sock *x = a->socks; x && !l; x = x->next)
		if (x->kind == AS_LISTEN && x->lport == in->dport)
			l = x;
	struct espat_air_msg r = {.type = ESPAT_AIR_TCP_ACCEPT, .peer = in->peer, .cid = in->cid};
	struct espat_air_sock *s = l && l->cb.accepted ? sock_new(a, AS_TCP) : NULL;
	if (!s) {
		r.code = ESPAT_AIR_REFUSED;
		send_msg(a, &r);
		return;
	}
	s->net = in->net;
	s->origin = in->peer;
	s->cid = in->cid;
	s->lip = in->dst_ip;
	s->lport = in->dport;
	s->rip = in->src_ip;
	s->rport = in->sport;
	s->established = true;
	s->paused = true; /* as the port hands accepted sockets over */
	send_msg(a, &r);
	l->cb.accepted(l->cbuser, (struct espat_sock *)s);
}

static void on_tcp(struct espat_air *a, const struct espat_air_msg *in)
{
	struct espat_air_sock *s = stream(a, in->peer, in->cid);
	if (!s || s->peer_closed)
		return;
	switch (in->type) {
	case ESPAT_AIR_TCP_ACCEPT:
		if (!s->connecting)
			return;
		if (in->code != 0) {
			peer_gone(s, close_err(in->code));
			return;
		}
		s->connecting = false;
		s->established = true;
		s->ev_connected = true;
		s->ev_err = 0;
		kick_soon(a);
		break;
	case ESPAT_AIR_TCP_DATA:
		if (!s->established || in->len == 0)
			return;
		if (!espat_air_flow_received(&s->flow, in->len)) {
			reset_stream(s);
			return;
		}
		if (s->orphan) {
			grant(s, in->len); /* its owner is gone: the bytes go nowhere */
			return;
		}
		if (!rx_append(s, in->payload, in->len)) {
			reset_stream(s);
			return;
		}
		kick_soon(a);
		break;
	case ESPAT_AIR_TCP_WINDOW: {
		uint32_t g;
		if (!s->established || !espat_air_window_decode(in->payload, in->len, &g))
			return;
		if (!espat_air_flow_granted(&s->flow, g)) {
			reset_stream(s);
			return;
		}
		if (!pump(s) || !s->orphan || espat_bytebuf_size(&s->tx) > 0)
			return;
		/* an orphan's last byte left: now its FIN */
		struct espat_air_msg m = {.type = ESPAT_AIR_TCP_CLOSE,
		                          .peer = s->origin,
		                          .cid = s->cid,
		                          .code = ESPAT_AIR_FIN};
		send_msg(a, &m);
		sock_free(a, s);
		break;
	}
	case ESPAT_AIR_TCP_CLOSE:
		peer_gone(s, close_err(in->code));
		break;
	default:
		break;
	}
}

static void on_udp(struct espat_air *a, const struct espat_air_msg *in)
{
	struct espat_air_sock *s = NULL;
	for (struct espat_air_sock *x = a->socks; x && !s; x = x->next)
		if (x->kind == AS_UDP && x->net == in->net && x->lport == in->dport)
			s = x;
	if (!s || s->dq_n >= ESPAT_AIR_UDP_QUEUE)
		return; /* no one listens there, or its buffer is full: lost, as UDP is */
	struct dgram *d = malloc(sizeof(*d) + in->len);
	if (!d)
		return;
	d->next = NULL;
	d->from = endpoint(in->src_ip, in->sport);
	d->len = in->len;
	if (in->len)
		memcpy(d->p, in->payload, in->len);
	*s->dq_tail = d;
	s->dq_tail = &d->next;
	s->dq_n++;
	kick_soon(a);
}

/* ---- the net decorator -------------------------------------------------- */

static struct espat_sock *net_open(void *user, const struct espat_sock_opts *o,
                                   const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_air *a = user;
	uint32_t net, lip, rip = o->remote.ip.v6 ? 0 : ip4_of(&o->remote.ip);
	if (o->remote.ip.v6 || o->mcast || !air_route(a, rip, &net, &lip))
		return a->lower.open(a->lower.user, o, cb, cbuser, err);
	struct espat_air_sock *s = sock_new(a, o->kind == ESPAT_SOCK_TCP ? AS_TCP : AS_UDP);
	if (!s) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	s->cb = *cb;
	s->cbuser = cbuser;
	s->net = net;
	s->lip = lip;
	s->lport = o->local_port ? o->local_port : ephemeral(a);
	s->rip = rip;
	s->rport = o->remote.port;
	if (s->kind == AS_TCP) {
		s->origin = a->id;
		s->cid = ++a->next_cid;
		s->connecting = true;
		struct espat_air_msg m = {.type = ESPAT_AIR_TCP_OPEN,
		                          .net = net,
		                          .peer = a->id,
		                          .cid = s->cid,
		                          .src_ip = lip,
		                          .sport = s->lport,
		                          .dst_ip = rip,
		                          .dport = s->rport};
		if (!send_msg(a, &m)) {
			sock_free(a, s);
			*err = ESPAT_NET_EUNREACH;
			return NULL;
		}
	}
	return (struct espat_sock *)s;
}

static struct espat_sock *net_listen(void *user, uint16_t port, bool v6,
                                     const struct espat_tls_opts *tls,
                                     const struct espat_sock_cbs *cb, void *cbuser, int *err)
{
	struct espat_air *a = user;
	struct espat_sock *inner = a->lower.listen(a->lower.user, port, v6, tls, cb, cbuser, err);
	/* in the air the port is the module's own: another module (or anything
	 * else) holding it on the host only costs the host side */
	if (v6 || tls || (!inner && *err != ESPAT_NET_EADDRINUSE))
		return inner;
	struct espat_air_sock *s = sock_new(a, AS_LISTEN);
	if (!s) {
		if (inner)
			a->lower.close(a->lower.user, inner, ESPAT_CLOSE_ABORT);
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	s->inner = inner;
	s->lport = port;
	s->cb = *cb;
	s->cbuser = cbuser;
	return (struct espat_sock *)s;
}

static void net_attach(void *user, struct espat_sock *sock, const struct espat_sock_cbs *cb,
                       void *cbuser)
{
	struct espat_air *a = user;
	struct espat_air_sock *s = air_sock(a, sock);
	if (!s) {
		a->lower.attach(a->lower.user, sock, cb, cbuser);
		return;
	}
	s->cb = *cb;
	s->cbuser = cbuser;
}

static int net_send(void *user, struct espat_sock *sock, const uint8_t *p, size_t n,
                    const struct espat_endpoint *to)
{
	struct espat_air *a = user;
	struct espat_air_sock *s = air_sock(a, sock);
	if (!s)
		return a->lower.send(a->lower.user, sock, p, n, to);
	if (s->kind == AS_LISTEN)
		return ESPAT_NET_EINVAL;
	if (s->kind == AS_UDP) {
		uint32_t dip = to ? ip4_of(&to->ip) : s->rip;
		uint16_t dport = to ? to->port : s->rport;
		if ((to && to->ip.v6) || dport == 0 || n > ESPAT_AIR_PAYLOAD_MAX)
			return ESPAT_NET_EINVAL;
		struct espat_air_msg m = {.type = ESPAT_AIR_UDP,
		                          .net = s->net,
		                          .peer = a->id,
		                          .src_ip = s->lip,
		                          .sport = s->lport,
		                          .dst_ip = dip,
		                          .dport = dport,
		                          .payload = p,
		                          .len = n};
		if (!send_msg(a, &m))
			return ESPAT_NET_EUNREACH;
		s->ev_drained = true;
		kick_soon(a);
		return 0;
	}
	if (!s->established || s->peer_closed)
		return ESPAT_NET_ERESET;
	/* all or nothing: a refused send leaves the stream as it was */
	if (n > ESPAT_AIR_SNDQ_MAX - espat_bytebuf_size(&s->tx) ||
	    !espat_bytebuf_append(&s->tx, p, n))
		return ESPAT_NET_ENOMEM;
	s->want_drained = true;
	return pump(s) ? 0 : ESPAT_NET_ERESET;
}

static size_t net_queued(void *user, struct espat_sock *sock)
{
	struct espat_air *a = user;
	struct espat_air_sock *s = air_sock(a, sock);
	/* what the peer's window does not take yet; sent frames are the hub
	 * connection's to deliver, and at most a window of them is in flight */
	return s ? espat_bytebuf_size(&s->tx) : a->lower.queued(a->lower.user, sock);
}

static void net_pause(void *user, struct espat_sock *sock, bool paused)
{
	struct espat_air *a = user;
	struct espat_air_sock *s = air_sock(a, sock);
	if (!s) {
		a->lower.pause(a->lower.user, sock, paused);
		return;
	}
	if (s->kind == AS_LISTEN && s->inner)
		a->lower.pause(a->lower.user, s->inner, paused);
	s->paused = paused;
	if (!paused)
		kick_soon(a);
}

static int net_set_tcpopt(void *user, struct espat_sock *sock, const struct espat_tcpopt *o)
{
	struct espat_air *a = user;
	struct espat_air_sock *s = air_sock(a, sock);
	if (!s)
		return a->lower.set_tcpopt(a->lower.user, sock, o);
	return 0; /* no kernel beneath: linger, Nagle and keep-alive change nothing here */
}

static void net_endpoints(void *user, struct espat_sock *sock, struct espat_endpoint *local,
                          struct espat_endpoint *remote)
{
	struct espat_air *a = user;
	struct espat_air_sock *s = air_sock(a, sock);
	if (!s) {
		a->lower.endpoints(a->lower.user, sock, local, remote);
		return;
	}
	if (local)
		*local = endpoint(s->lip, s->lport);
	if (remote)
		*remote = endpoint(s->rip, s->rport);
}

/* An orphan's peer did not take the rest in time: reset. */
static void on_linger(void *user)
{
	struct espat_air_sock *s = user;
	reset_stream(s); /* frees it */
}

static void net_close(void *user, struct espat_sock *sock, enum espat_close_how how)
{
	struct espat_air *a = user;
	struct espat_air_sock *s = air_sock(a, sock);
	if (!s) {
		a->lower.close(a->lower.user, sock, how);
		return;
	}
	if (s->kind == AS_LISTEN && s->inner)
		a->lower.close(a->lower.user, s->inner, how);
	if (s->kind == AS_TCP && how == ESPAT_CLOSE_GRACEFUL && s->established && !s->peer_closed &&
	    a->connected && espat_bytebuf_size(&s->tx) > 0) {
		/* the rest still goes as the window opens, then FIN; as a host
		 * socket's graceful close does in the background */
		s->orphan = true;
		memset(&s->cb, 0, sizeof(s->cb));
		s->cbuser = NULL;
		s->ev_connected = s->ev_drained = s->ev_closed = false;
		s->want_drained = false;
		free(s->rx);
		s->rx = NULL;
		s->rx_len = s->rx_cap = 0;
		espat_loop_timer_arm(a->loop, &s->linger,
		                     espat_loop_now_ns() + (uint64_t)ESPAT_AIR_LINGER_MS * 1000000u,
		                     on_linger, s);
		return;
	}
	if (s->kind == AS_TCP && !s->peer_closed && (s->established || s->connecting)) {
		struct espat_air_msg m = {.type = ESPAT_AIR_TCP_CLOSE,
		                          .peer = s->origin,
		                          .cid = s->cid,
		                          .code = how == ESPAT_CLOSE_ABORT ? ESPAT_AIR_RST
		                                                           : ESPAT_AIR_FIN};
		send_msg(a, &m);
	}
	sock_free(a, s);
}

static struct espat_dns_req *net_resolve(void *user, const struct espat_dns_query *q,
                                         espat_dns_fn *done, void *cbuser, int *err)
{
	struct espat_air *a = user;
	return a->lower.resolve(a->lower.user, q, done, cbuser, err);
}

static void net_resolve_cancel(void *user, struct espat_dns_req *r)
{
	struct espat_air *a = user;
	a->lower.resolve_cancel(a->lower.user, r);
}

static struct espat_ping_req *net_ping(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
                                       espat_ping_fn *done, void *cbuser, int *err)
{
	struct espat_air *a = user;
	return a->lower.ping(a->lower.user, ip, timeout_ms, done, cbuser, err);
}

static void net_ping_cancel(void *user, struct espat_ping_req *r)
{
	struct espat_air *a = user;
	a->lower.ping_cancel(a->lower.user, r);
}

struct espat_net espat_air_net(struct espat_air *a, const struct espat_net *lower)
{
	a->lower = *lower;
	return (struct espat_net){
	    .open = net_open,
	    .listen = net_listen,
	    .attach = net_attach,
	    .send = net_send,
	    .queued = net_queued,
	    .pause = net_pause,
	    .set_tcpopt = net_set_tcpopt,
	    .endpoints = net_endpoints,
	    .close = net_close,
	    .resolve = lower->resolve ? net_resolve : NULL,
	    .resolve_cancel = lower->resolve_cancel ? net_resolve_cancel : NULL,
	    .ping = lower->ping ? net_ping : NULL,
	    .ping_cancel = lower->ping_cancel ? net_ping_cancel : NULL,
	    .user = a,
	};
}

/* ---- messages from the hub ---------------------------------------------- */

static enum espat_auth auth_of(uint8_t code)
{
	switch (code) {
	case ESPAT_AIR_JOIN_OK:
		return ESPAT_AUTH_OK;
	case ESPAT_AIR_JOIN_WRONG_KEY:
		return ESPAT_AUTH_WRONG_KEY;
	case ESPAT_AIR_JOIN_REFUSED:
		return ESPAT_AUTH_REJECTED;
	default:
		return ESPAT_AUTH_GONE;
	}
}

static void on_ap_up(struct espat_air *a, const struct espat_air_msg *in)
{
	struct espat_air_ap ap;
	if (in->net == a->id || !espat_air_ap_decode(in->payload, in->len, &ap))
		return;
	int i = ap_index(a, in->net);
	if (i < 0) {
		if (a->naps >= ESPAT_AIR_APS_MAX)
			return; /* out of range: more softAPs than a scan list holds */
		i = (int)a->naps++;
	}
	a->aps[i].net = in->net;
	memcpy(a->aps[i].bssid, in->mac, 6);
	a->aps[i].ap = ap;
	world_changed(a);
}

static void on_ap_down(struct espat_air *a, uint32_t net)
{
	int i = ap_index(a, net);
	if (i < 0)
		return;
	memmove(&a->aps[i], &a->aps[i + 1], (a->naps - (size_t)i - 1) * sizeof(a->aps[0]));
	a->naps--;
	if (a->sta != ESPAT_AIR_STA_NONE && a->sta_net == net) {
		bool asked = a->sta == ESPAT_AIR_STA_ASKED;
		a->sta = ESPAT_AIR_STA_NONE;
		a->sta_net = a->sta_ip = 0;
		if (asked)
			espat_wifi_air_answer(a->m, bss_id(net), ESPAT_AUTH_GONE);
	}
	world_changed(a);
}

/* Another module's station asks to join our softAP. */
static void on_join(struct espat_air *a, const struct espat_air_msg *in)
{
	struct espat_air_msg r = {.type = ESPAT_AIR_JOIN_ANS, .peer = in->peer};
	const char *why = "";
	int old = rsta_by_peer(a, in->peer);
	if (old >= 0) {
		/* it comes again without having said goodbye: the old one is gone */
		uint8_t mac[6];
		memcpy(mac, a->rsta[old].mac, 6);
		memset(&a->rsta[old], 0, sizeof(a->rsta[old]));
		espat_wifi_ap_leave(a->m, mac, &why);
	}
	int slot = -1;
	for (size_t i = 0; i < ESPAT_AP_STA_MAX && slot < 0; i++)
		if (!a->rsta[i].used)
			slot = (int)i;
	int rc = slot < 0 ? -1
	                  : espat_wifi_ap_join(a->m, in->mac,
	                                       in->payload ? in->payload : (const uint8_t *)"",
	                                       in->len, &why);
	if (rc == 0) {
		a->rsta[slot].used = true;
		a->rsta[slot].peer = in->peer;
		memcpy(a->rsta[slot].mac, in->mac, 6);
		a->rsta[slot].ip = 0;
		r.code = ESPAT_AIR_JOIN_OK;
	} else {
		r.code = rc == -2 ? ESPAT_AIR_JOIN_WRONG_KEY : ESPAT_AIR_JOIN_REFUSED;
	}
	send_msg(a, &r);
}

static void on_msg(void *user, const struct espat_air_msg *in)
{
	struct espat_air *a = user;
	switch (in->type) {
	case ESPAT_AIR_WELCOME:
		a->id = in->peer;
		a->connected = true;
		break;
	case ESPAT_AIR_AP_UP:
		on_ap_up(a, in);
		break;
	case ESPAT_AIR_AP_DOWN:
		on_ap_down(a, in->net);
		break;
	case ESPAT_AIR_JOIN:
		on_join(a, in);
		break;
	case ESPAT_AIR_JOIN_ANS:
		if (a->sta != ESPAT_AIR_STA_ASKED || a->sta_net != in->net)
			break;
		if (in->code == ESPAT_AIR_JOIN_OK) {
			a->sta = ESPAT_AIR_STA_JOINED;
		} else {
			a->sta = ESPAT_AIR_STA_NONE;
			a->sta_net = 0;
		}
		espat_wifi_air_answer(a->m, bss_id(in->net), auth_of(in->code));
		break;
	case ESPAT_AIR_LEASE:
		if (a->sta != ESPAT_AIR_STA_JOINED || a->sta_net != in->net)
			break;
		a->sta_ip = in->src_ip;
		espat_wifi_air_lease(a->m, bss_id(in->net), in->src_ip);
		break;
	case ESPAT_AIR_LEAVE: {
		int i = rsta_by_peer(a, in->peer);
		if (i < 0)
			break;
		uint8_t mac[6];
		const char *why;
		memcpy(mac, a->rsta[i].mac, 6);
		memset(&a->rsta[i], 0, sizeof(a->rsta[i]));
		espat_wifi_ap_leave(a->m, mac, &why);
		break;
	}
	case ESPAT_AIR_KICK:
		if (a->sta == ESPAT_AIR_STA_NONE || a->sta_net != in->net)
			break;
		a->sta = ESPAT_AIR_STA_NONE;
		a->sta_net = a->sta_ip = 0;
		espat_wifi_deauth(a->m);
		break;
	case ESPAT_AIR_TCP_OPEN:
		on_tcp_open(a, in);
		break;
	case ESPAT_AIR_TCP_ACCEPT:
	case ESPAT_AIR_TCP_DATA:
	case ESPAT_AIR_TCP_CLOSE:
	case ESPAT_AIR_TCP_WINDOW:
		on_tcp(a, in);
		break;
	case ESPAT_AIR_UDP:
		on_udp(a, in);
		break;
	default:
		if (in->type >= ESPAT_AIR_BLE_ADV && in->type <= 0xbf)
			espat_ble_air_msg(&a->ble, in);
		break;
	}
}

/* Everything the air carried is gone at once. */
static void forget_air(struct espat_air *a)
{
	a->naps = 0;
	if (a->sta == ESPAT_AIR_STA_ASKED)
		espat_wifi_air_answer(a->m, bss_id(a->sta_net), ESPAT_AUTH_GONE);
	a->sta = ESPAT_AIR_STA_NONE;
	a->sta_net = a->sta_ip = 0;
	for (size_t i = 0; i < ESPAT_AP_STA_MAX; i++) {
		if (!a->rsta[i].used)
			continue;
		uint8_t mac[6];
		const char *why;
		memcpy(mac, a->rsta[i].mac, 6);
		memset(&a->rsta[i], 0, sizeof(a->rsta[i]));
		espat_wifi_ap_leave(a->m, mac, &why);
	}
	for (struct espat_air_sock *s = a->socks, *next; s; s = next) {
		next = s->next; /* an orphan is freed */
		if (s->kind == AS_TCP)
			peer_gone(s, ESPAT_NET_ERESET);
	}
	world_changed(a);
}

static void on_gone(void *user)
{
	struct espat_air *a = user;
	espat_log_error(a->log, "the air at %s went away; the module goes on alone", a->path);
	a->connected = false;
	a->ap_pub = false;
	forget_air(a);
	espat_ble_air_gone(&a->ble);
}

/* ---- life --------------------------------------------------------------- */

int espat_air_open(struct espat_air *a, const char *path, struct espat_loop *l,
                   const struct espat_log *log, const char *name, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->conn.fd = -1;
	a->ble.air = a;
	a->path = path;
	a->loop = l;
	a->log = log;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--air %s: too long for a Unix socket path", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* a local connect: it completes or fails at once */
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen,
		         "--air %s: no air hub there (%s); start one with `espat air "
		         "--socket %s`",
		         path, strerror(errno), path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (espat_air_conn_open(&a->conn, l, fd, on_msg, on_gone, a) < 0) {
		snprintf(err, errlen, "--air %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	struct espat_air_msg hello = {.type = ESPAT_AIR_HELLO,
	                              .code = ESPAT_AIR_VERSION,
	                              .payload = (const uint8_t *)name,
	                              .len = strlen(name)};
	if (hello.len > 255)
		hello.len = 255;
	espat_air_conn_send(&a->conn, &hello);
	return 0;
}

void espat_air_power_cut(struct espat_air *a)
{
	if (a->sta != ESPAT_AIR_STA_NONE) {
		struct espat_air_msg m = {.type = ESPAT_AIR_LEAVE, .net = a->sta_net};
		send_msg(a, &m);
	}
	a->sta = ESPAT_AIR_STA_NONE;
	a->sta_net = a->sta_ip = 0;
	if (a->ap_pub)
		publish(a, false, NULL);
	memset(a->rsta, 0, sizeof(a->rsta));
	espat_ble_air_power_cut(&a->ble);
	/* the power is gone: streams closing in the background end now */
	for (struct espat_air_sock *s = a->socks, *next; s; s = next) {
		next = s->next;
		if (s->orphan)
			reset_stream(s);
	}
}

void espat_air_close(struct espat_air *a)
{
	espat_loop_timer_cancel(a->loop, &a->kick);
	espat_ble_air_close(&a->ble);
	while (a->socks) {
		struct espat_air_sock *s = a->socks;
		if (s->kind == AS_LISTEN && s->inner)
			a->lower.close(a->lower.user, s->inner, ESPAT_CLOSE_ABORT);
		sock_free(a, s);
	}
	espat_air_conn_close(&a->conn);
	a->connected = false;
}

json_t *espat_air_state(struct espat_air *a)
{
	char buf[18];
	json_t *aps = json_array();
	for (size_t i = 0; aps && i < a->naps; i++) {
		const struct espat_air_ap *ap = &a->aps[i].ap;
		json_array_append_new(
		    aps, json_pack("{s:i,s:s%,s:s,s:i,s:i,s:b,s:s}", "net", (int)a->aps[i].net,
		                   "ssid", (const char *)ap->ssid, (size_t)ap->ssid_len, "bssid",
		                   espat_mac_str(a->aps[i].bssid, buf), "channel", (int)ap->channel,
		                   "ecn", (int)ap->ecn, "hidden", ap->hidden != 0, "ip",
		                   espat_ip4_str(ap->ip, buf)));
	}
	json_t *st = json_array();
	for (size_t i = 0; st && i < ESPAT_AP_STA_MAX; i++) {
		if (!a->rsta[i].used)
			continue;
		json_array_append_new(
		    st, json_pack("{s:i,s:s,s:o}", "module", (int)a->rsta[i].peer, "mac",
		                  espat_mac_str(a->rsta[i].mac, buf), "ip",
		                  a->rsta[i].ip ? json_string(espat_ip4_str(a->rsta[i].ip, buf))
		                                : json_null()));
	}
	static const char *const sta_names[] = {"none", "joining", "joined"};
	size_t nsock = 0;
	json_t *streams = json_array();
	for (struct espat_air_sock *s = a->socks; s; s = s->next) {
		nsock += s->kind != AS_LISTEN && !s->orphan;
		if (s->kind != AS_TCP || !streams)
			continue;
		json_array_append_new(
		    streams,
		    json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:b,s:b}", "origin", (int)s->origin, "cid",
		              (int)s->cid, "queued", (int)espat_bytebuf_size(&s->tx), "credit",
		              (int)s->flow.credit, "held", (int)s->rx_len, "room",
		              (int)s->flow.room, "paused", s->paused, "closing", s->orphan));
	}
	return json_pack(
	    "{s:s,s:b,s:i,s:o,s:{s:s,s:i,s:o},s:{s:b,s:o},s:i,s:o,s:o}", "socket", a->path,
	    "connected", a->connected, "id", (int)a->id, "aps", aps ? aps : json_null(), "station",
	    "state", sta_names[a->sta], "net", (int)a->sta_net, "ip",
	    a->sta_ip ? json_string(espat_ip4_str(a->sta_ip, buf)) : json_null(), "softap",
	    "published", a->ap_pub, "stations", st ? st : json_null(), "sockets", (int)nsock,
	    "streams", streams ? streams : json_null(), "ble", espat_ble_air_state(&a->ble));
}
