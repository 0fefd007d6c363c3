/* The air hub (app/air_hub.h): one event loop, a listening Unix socket,
 * one framed connection per module. All routing state is here; modules
 * know only their own side. */
#include "app/air_hub.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/air_conn.h"
#include "posix/loop.h"

#define HUB_NAME_MAX 127

struct hub;

/* One module in the air. */
struct hub_mod {
	struct hub *hub;
	struct espat_air_conn conn;
	uint32_t id; /* never reused in the hub's life; also its softAP's network id */
	char name[HUB_NAME_MAX + 1];
	bool ap_up; /* its softAP, as last published */
	uint8_t bssid[6];
	uint8_t ap_rec[ESPAT_AIR_AP_LEN];
	struct espat_air_ap ap;
	uint32_t sta_net; /* the softAP its station is on (or joining), 0 none */
	uint8_t sta_mac[6];
	uint32_t sta_ip; /* leased by sta_net's DHCP server, 0 none yet */
	/* its BLE advertising set, as last published (BLE_ADV) */
	bool adv_on;
	uint8_t adv_addr[6];
	uint8_t adv_type;
	uint8_t adv_rec[ESPAT_AIR_BLE_ADV_LEN_MAX];
	size_t adv_len;
	struct hub_mod *next;
};

/* One TCP stream across the air, named by its opener's (id, cid); a BLE
 * link likewise, by its initiator's. */
struct hub_stream {
	uint32_t origin, cid;
	uint32_t target;
	struct hub_stream *next;
};

struct hub {
	struct espat_loop loop;
	int lfd, sfd;
	struct espat_loop_watch lwatch, swatch;
	struct hub_mod *mods;
	struct hub_stream *streams;
	struct hub_stream *ble_links;
	uint32_t next_id;
};

static struct hub_mod *mod_by_id(struct hub *h, uint32_t id)
{
	for (struct hub_mod *m = h->mods; m; m = m->next)
		if (m->id == id)
			return m;
	return NULL;
}

static void send_to(struct hub_mod *m, const struct espat_air_msg *msg)
{
	if (m)
		espat_air_conn_send(&m->conn, msg);
}

/* The module that has ip in network net: the softAP itself, or a station
 * holding that lease. */
static struct hub_mod *route(struct hub *h, uint32_t net, uint32_t ip)
{
	struct hub_mod *ap = mod_by_id(h, net);
	if (!ap || !ap->ap_up || ip == 0)
		return NULL;
	if (ap->ap.ip == ip)
		return ap;
	for (struct hub_mod *m = h->mods; m; m = m->next)
		if (m->sta_net == net && m->sta_ip == ip)
			return m;
	return NULL;
}

static struct hub_stream **link_find(struct hub_stream **head, uint32_t origin, uint32_t cid)
{
	for (struct hub_stream **pp = head; *pp; pp = &(*pp)->next)
		if ((*pp)->origin == origin && (*pp)->cid == cid)
			return pp;
	return NULL;
}

static struct hub_stream **stream_find(struct hub *h, uint32_t origin, uint32_t cid)
{
	return link_find(&h->streams, origin, cid);
}

static void stream_drop(struct hub_stream **pp)
{
	struct hub_stream *s = *pp;
	*pp = s->next;
	free(s);
}

/* Every stream (or BLE link) of list head that module `from` was in ends:
 * the other end hears a frame of type with code, in the stream's name. */
static void ends_vanish(struct hub *h, struct hub_stream **head, const struct hub_mod *from,
                        uint8_t type, uint8_t code)
{
	for (struct hub_stream **pp = head; *pp;) {
		struct hub_stream *s = *pp;
		if (s->origin != from->id && s->target != from->id) {
			pp = &s->next;
			continue;
		}
		struct espat_air_msg m = {
		    .type = type, .peer = s->origin, .cid = s->cid, .code = code};
		send_to(mod_by_id(h, s->origin == from->id ? s->target : s->origin), &m);
		stream_drop(pp);
	}
}

static void ap_announce(struct hub *h, struct hub_mod *from, struct hub_mod *to)
{
	struct espat_air_msg m = {.type = ESPAT_AIR_AP_UP,
	                          .net = from->id,
	                          .payload = from->ap_rec,
	                          .len = ESPAT_AIR_AP_LEN};
	memcpy(m.mac, from->bssid, 6);
	send_to(to, &m);
}

/* The softAP of m is gone: everyone hears, its stations are off it. */
static void ap_gone(struct hub *h, struct hub_mod *m)
{
	if (!m->ap_up)
		return;
	m->ap_up = false;
	struct espat_air_msg d = {.type = ESPAT_AIR_AP_DOWN, .net = m->id};
	for (struct hub_mod *o = h->mods; o; o = o->next) {
		if (o == m)
			continue;
		if (o->sta_net == m->id) {
			o->sta_net = 0;
			o->sta_ip = 0;
		}
		send_to(o, &d);
	}
}

/* The station of m leaves its softAP (if any); the AP hears it. */
static void sta_leave(struct hub *h, struct hub_mod *m)
{
	if (m->sta_net == 0)
		return;
	struct espat_air_msg l = {.type = ESPAT_AIR_LEAVE, .peer = m->id, .net = m->sta_net};
	memcpy(l.mac, m->sta_mac, 6);
	send_to(mod_by_id(h, m->sta_net), &l);
	m->sta_net = 0;
	m->sta_ip = 0;
}

static void on_tcp(struct hub *h, struct hub_mod *from, const struct espat_air_msg *in)
{
	struct espat_air_msg m = *in;
	if (in->type == ESPAT_AIR_TCP_OPEN) {
		struct hub_mod *t = route(h, in->net, in->dst_ip);
		if (!t || t == from || stream_find(h, from->id, in->cid)) {
			struct espat_air_msg r = {.type = ESPAT_AIR_TCP_ACCEPT,
			                          .peer = from->id,
			                          .cid = in->cid,
			                          .code = ESPAT_AIR_UNREACH};
			send_to(from, &r);
			return;
		}
		struct hub_stream *s = calloc(1, sizeof(*s));
		if (!s)
			return;
		s->origin = from->id;
		s->cid = in->cid;
		s->target = t->id;
		s->next = h->streams;
		h->streams = s;
		m.peer = from->id;
		send_to(t, &m);
		return;
	}
	struct hub_stream **pp = stream_find(h, in->peer, in->cid);
	if (!pp)
		return; /* a stream already ended: its late frames go nowhere */
	struct hub_stream *s = *pp;
	uint32_t other = from->id == s->origin ? s->target : s->origin;
	if (from->id != s->origin && from->id != s->target)
		return;
	send_to(mod_by_id(h, other), &m);
	if (in->type == ESPAT_AIR_TCP_CLOSE || (in->type == ESPAT_AIR_TCP_ACCEPT && in->code != 0))
		stream_drop(pp);
}

/* ---- Bluetooth LE --------------------------------------------------------- */

static void adv_announce(struct hub_mod *from, struct hub_mod *to)
{
	struct espat_air_msg m = {.type = ESPAT_AIR_BLE_ADV, .peer = from->id};
	if (from->adv_on) {
		memcpy(m.mac, from->adv_addr, 6);
		m.payload = from->adv_rec;
		m.len = from->adv_len;
	}
	send_to(to, &m);
}

/* A module's advertising set changed (on, new data, off): everyone hears. */
static void on_ble_adv(struct hub *h, struct hub_mod *from, const struct espat_air_msg *in)
{
	struct espat_air_ble_adv adv;
	if (in->len > 0 && !espat_air_ble_adv_decode(in->payload, in->len, &adv))
		return;
	from->adv_on = in->len > 0;
	if (from->adv_on) {
		memcpy(from->adv_addr, in->mac, 6);
		from->adv_type = adv.adv_type;
		memcpy(from->adv_rec, in->payload, in->len);
		from->adv_len = in->len;
	}
	for (struct hub_mod *o = h->mods; o; o = o->next)
		if (o != from)
			adv_announce(from, o);
}

static bool connectable(uint8_t adv_type)
{
	return adv_type == 0 || adv_type == 1 || adv_type == 4 || adv_type == 6;
}

/* BLE_CONN goes to the module advertising connectably at that address;
 * the rest of a link's frames go to its other end, by (initiator, cid). */
static void on_ble_link(struct hub *h, struct hub_mod *from, const struct espat_air_msg *in)
{
	struct espat_air_msg m = *in;
	if (in->type == ESPAT_AIR_BLE_CONN) {
		struct hub_mod *t = NULL;
		for (struct hub_mod *o = h->mods; o && !t; o = o->next)
			if (o != from && o->adv_on && connectable(o->adv_type) &&
			    memcmp(o->adv_addr, in->mac, 6) == 0)
				t = o;
		struct hub_stream *l = NULL;
		if (t && !link_find(&h->ble_links, from->id, in->cid))
			l = calloc(1, sizeof(*l));
		if (!l) {
			struct espat_air_msg r = {.type = ESPAT_AIR_BLE_CONN_ANS,
			                          .peer = from->id,
			                          .cid = in->cid,
			                          .code = ESPAT_AIR_BLE_REFUSED};
			send_to(from, &r);
			return;
		}
		l->origin = from->id;
		l->cid = in->cid;
		l->target = t->id;
		l->next = h->ble_links;
		h->ble_links = l;
		m.peer = from->id;
		send_to(t, &m);
		return;
	}
	struct hub_stream **pp = link_find(&h->ble_links, in->peer, in->cid);
	if (!pp || (from->id != (*pp)->origin && from->id != (*pp)->target))
		return; /* a link already ended: its late frames go nowhere */
	uint32_t other = from->id == (*pp)->origin ? (*pp)->target : (*pp)->origin;
	send_to(mod_by_id(h, other), &m);
	if (in->type == ESPAT_AIR_BLE_DISCONN ||
	    (in->type == ESPAT_AIR_BLE_CONN_ANS && in->code != ESPAT_AIR_BLE_ACCEPTED))
		stream_drop(pp);
}

/* A module left: its links end at the other ends by supervision timeout,
 * its advertising is heard no more. */
static void ble_gone(struct hub *h, struct hub_mod *from)
{
	ends_vanish(h, &h->ble_links, from, ESPAT_AIR_BLE_DISCONN, ESPAT_AIR_BLE_TIMEOUT);
	if (from->adv_on) {
		from->adv_on = false;
		for (struct hub_mod *o = h->mods; o; o = o->next)
			if (o != from)
				adv_announce(from, o);
	}
}

static void on_msg(void *user, const struct espat_air_msg *in)
{
	struct hub_mod *from = user;
	struct hub *h = from->hub;
	struct espat_air_msg m = *in;
	switch (in->type) {
	case ESPAT_AIR_HELLO: {
		size_t n = in->len < HUB_NAME_MAX ? in->len : HUB_NAME_MAX;
		memcpy(from->name, in->payload ? (const char *)in->payload : "", n);
		from->name[n] = '\0';
		struct espat_air_msg w = {
		    .type = ESPAT_AIR_WELCOME, .peer = from->id, .code = ESPAT_AIR_VERSION};
		send_to(from, &w);
		for (struct hub_mod *o = h->mods; o; o = o->next) {
			if (o != from && o->ap_up)
				ap_announce(h, o, from);
			if (o != from && o->adv_on)
				adv_announce(o, from);
		}
		break;
	}
	case ESPAT_AIR_AP_UP:
		if (!espat_air_ap_decode(in->payload, in->len, &from->ap))
			break;
		memcpy(from->ap_rec, in->payload, ESPAT_AIR_AP_LEN);
		memcpy(from->bssid, in->mac, 6);
		from->ap_up = true;
		for (struct hub_mod *o = h->mods; o; o = o->next)
			if (o != from)
				ap_announce(h, from, o);
		break;
	case ESPAT_AIR_AP_DOWN:
		ap_gone(h, from);
		break;
	case ESPAT_AIR_JOIN: {
		sta_leave(h, from);
		struct hub_mod *ap = mod_by_id(h, in->net);
		if (!ap || !ap->ap_up || ap == from) {
			struct espat_air_msg r = {.type = ESPAT_AIR_JOIN_ANS,
			                          .net = in->net,
			                          .code = ESPAT_AIR_JOIN_GONE};
			send_to(from, &r);
			break;
		}
		from->sta_net = in->net;
		from->sta_ip = 0;
		memcpy(from->sta_mac, in->mac, 6);
		m.peer = from->id;
		send_to(ap, &m);
		break;
	}
	case ESPAT_AIR_JOIN_ANS:
	case ESPAT_AIR_LEASE:
	case ESPAT_AIR_KICK: {
		struct hub_mod *sta = mod_by_id(h, in->peer);
		if (!sta || sta->sta_net != from->id)
			break;
		if (in->type == ESPAT_AIR_LEASE)
			sta->sta_ip = in->src_ip;
		else if (in->type == ESPAT_AIR_KICK || in->code != ESPAT_AIR_JOIN_OK)
			sta->sta_net = sta->sta_ip = 0;
		m.net = from->id;
		m.peer = 0;
		send_to(sta, &m);
		break;
	}
	case ESPAT_AIR_LEAVE:
		if (from->sta_net == in->net)
			sta_leave(h, from);
		break;
	case ESPAT_AIR_TCP_OPEN:
	case ESPAT_AIR_TCP_ACCEPT:
	case ESPAT_AIR_TCP_DATA:
	case ESPAT_AIR_TCP_CLOSE:
	case ESPAT_AIR_TCP_WINDOW: /* relayed: the window is the two modules' affair */
		on_tcp(h, from, in);
		break;
	case ESPAT_AIR_UDP: {
		struct hub_mod *t = route(h, in->net, in->dst_ip);
		if (t && t != from) {
			m.peer = from->id;
			send_to(t, &m);
		}
		break;
	}
	case ESPAT_AIR_BLE_ADV:
		on_ble_adv(h, from, in);
		break;
	case ESPAT_AIR_BLE_CONN:
	case ESPAT_AIR_BLE_CONN_ANS:
	case ESPAT_AIR_BLE_ATT:
	case ESPAT_AIR_BLE_SMP:
	case ESPAT_AIR_BLE_LL:
	case ESPAT_AIR_BLE_PARAM:
	case ESPAT_AIR_BLE_DISCONN:
		on_ble_link(h, from, in);
		break;
	default:
		break; /* a type this hub does not carry (yet) */
	}
}

/* A module left the air (exit, kill -9, power cut of the process): its
 * softAP vanishes, its station leaves, its streams end. */
static void on_gone(void *user)
{
	struct hub_mod *from = user;
	struct hub *h = from->hub;
	for (struct hub_mod **pp = &h->mods; *pp; pp = &(*pp)->next) {
		if (*pp == from) {
			*pp = from->next;
			break;
		}
	}
	ends_vanish(h, &h->streams, from, ESPAT_AIR_TCP_CLOSE, ESPAT_AIR_VANISHED);
	ap_gone(h, from);
	sta_leave(h, from);
	ble_gone(h, from);
	fprintf(stderr, "espat air: module %u (%s) left\n", (unsigned)from->id, from->name);
	free(from);
}

static void on_accept(void *user, uint32_t events)
{
	struct hub *h = user;
	for (;;) {
		int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct hub_mod *m = calloc(1, sizeof(*m));
		if (!m || espat_air_conn_open(&m->conn, &h->loop, fd, on_msg, on_gone, m) < 0) {
			free(m);
			close(fd);
			continue;
		}
		m->hub = h;
		m->id = h->next_id++;
		m->next = h->mods;
		h->mods = m;
	}
}

static void on_signal(void *user, uint32_t events)
{
	struct hub *h = user;
	struct signalfd_siginfo si;
	while (read(h->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		h->loop.stop = true;
}

static int usage(const char *msg)
{
	fprintf(stderr, "espat air: %s\nusage: espat air --socket PATH\n", msg);
	return 2;
}

/* Binds path; a stale socket file (nobody answers on it) is replaced. */
static int bind_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return usage("the socket path is too long for a Unix socket");
	memcpy(a.sun_path, path, strlen(path) + 1);
	/* non-blocking: accept() runs until EAGAIN */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EADDRINUSE) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			close(fd);
			fprintf(stderr, "espat air: %s: another hub is running there\n", path);
			return -2;
		}
		unlink(path);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			close(fd);
			return -1;
		}
	}
	if (listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int espat_air_hub_main(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			printf(
			    "usage: espat air --socket PATH\n"
			    "Runs the shared air's hub in the foreground until SIGTERM or SIGINT.\n"
			    "Modules started with --air PATH see each other's softAPs and talk\n"
			    "TCP/UDP across them, and hear and connect to each other's BLE\n"
			    "advertising (docs/internals/air.md).\n");
			return 0;
		} else
			return usage("expected --socket PATH");
	}
	if (!path)
		return usage("expected --socket PATH");
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, NULL);
	struct hub *h = calloc(1, sizeof(*h));
	if (!h)
		return 1;
	h->next_id = 1;
	h->sfd = -1;
	int rc = 1;
	h->lfd = bind_socket(path);
	if (h->lfd == -2) {
		free(h);
		return 1;
	}
	if (h->lfd < 0) {
		fprintf(stderr, "espat air: %s: %s\n", path, strerror(errno));
		free(h);
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (espat_loop_init(&h->loop) < 0 || sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (h->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    espat_loop_add(&h->loop, &h->swatch, h->sfd, EPOLLIN, on_signal, h) < 0 ||
	    espat_loop_add(&h->loop, &h->lwatch, h->lfd, EPOLLIN, on_accept, h) < 0) {
		fprintf(stderr, "espat air: cannot set up the event loop: %s\n", strerror(errno));
		goto out;
	}
	fprintf(stderr, "espat air: listening on %s\n", path);
	rc = espat_loop_run(&h->loop) < 0 ? 1 : 0;
out:
	while (h->mods) {
		struct hub_mod *m = h->mods;
		h->mods = m->next;
		espat_air_conn_close(&m->conn);
		free(m);
	}
	while (h->streams)
		stream_drop(&h->streams);
	while (h->ble_links)
		stream_drop(&h->ble_links);
	espat_loop_del(&h->loop, &h->lwatch);
	espat_loop_del(&h->loop, &h->swatch);
	close(h->lfd);
	unlink(path);
	if (h->sfd >= 0)
		close(h->sfd);
	espat_loop_free(&h->loop);
	free(h);
	return rc;
}
