/* Name resolution of the Linux net port: c-ares driven by the event loop.
 *
 * One channel per request: the channel carries the request's servers, and
 * a timeout or a cancel ends exactly that request by destroying its
 * channel (c-ares then calls back with ARES_EDESTRUCTION, which is
 * swallowed). c-ares tells which sockets to watch through its socket-state
 * callback; the loop feeds their events to ares_process_fd() and a loop
 * timer follows ares_timeout(). Results never reach the owner from inside
 * c-ares: the c-ares callback (which may even run inside
 * ares_getaddrinfo()) only records the answer and arms a zero-delay timer,
 * which destroys the channel and then calls done(). */
#include "posix/net_posix.h"
#include "posix/net_posix_internal.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_TRIES 2        /* per server */
#define DNS_TRY_MIN_MS 50u /* shortest first-try timeout given to c-ares */
#define SERVERS_TEXT_MAX (ESPAT_DNS_SERVERS_MAX * (INET6_ADDRSTRLEN + 2))

/* One socket c-ares asked us to watch. */
struct dns_watch {
	struct espat_loop_watch w;
	struct espat_dns_req *r;
	int fd;
	struct dns_watch *next;
};

struct espat_dns_req {
	struct espat_net_posix *np;
	struct espat_dns_req *prev, *next; /* np->dns */
	ares_channel ch;                   /* NULL: a numeric name, no c-ares */
	struct dns_watch *watches;
	struct espat_loop_timer ares_timer; /* ares_timeout() */
	struct espat_loop_timer deadline;   /* the query's timeout_ms */
	struct espat_loop_timer fin;        /* zero-delay: the answer is in */
	enum espat_dns_family family;
	espat_dns_fn *done;
	void *user;
	int err; /* the answer: 0 and ip, or an espat_net_err */
	struct espat_ip ip;
	/* For the log line of a failure: */
	const char *why;                   /* err's reason: c-ares' words, a timeout, ... */
	char name[ESPAT_DNS_NAME_MAX + 1]; /* the name asked for */
	char servers[SERVERS_TEXT_MAX];    /* the servers asked, "1.2.3.4, ..."; "": the host's */
	uint32_t timeout_ms;               /* the query's bound */
};

static void dns_free(struct espat_dns_req *r)
{
	struct espat_net_posix *np = r->np;
	espat_loop_timer_cancel(np->loop, &r->ares_timer);
	espat_loop_timer_cancel(np->loop, &r->deadline);
	espat_loop_timer_cancel(np->loop, &r->fin);
	/* Closes c-ares' sockets, which removes their watches through the
	 * socket-state callback; the loop below only catches leftovers. */
	if (r->ch != NULL)
		ares_destroy(r->ch);
	while (r->watches != NULL) {
		struct dns_watch *w = r->watches;
		r->watches = w->next;
		espat_loop_del(np->loop, &w->w);
		free(w);
	}
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		np->dns = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	free(r);
}

/* A failed lookup says why on stderr at the default level: the AT port
 * only says ERROR (COMPAT #94). */
static void log_failure(const struct espat_dns_req *r)
{
	const char *fam = r->family == ESPAT_DNS_V4_ONLY   ? "IPv4 "
	                  : r->family == ESPAT_DNS_V6_ONLY ? "IPv6 "
	                                                   : "";
	const char *via = r->servers[0] ? r->servers : "the host's resolver";
	if (r->err == ESPAT_NET_ENOTFOUND)
		espat_log_norepeat(r->np->log, &r->np->dns_rep, ESPAT_LOG_WARN,
		                   "net: DNS: no %saddress for '%s' (asked %s: %s)", fam, r->name,
		                   via, r->why ? r->why : "no such name");
	else
		espat_log_norepeat(r->np->log, &r->np->dns_rep, ESPAT_LOG_WARN,
		                   "net: DNS: cannot resolve '%s' (asked %s: %s)", r->name, via,
		                   r->why ? r->why : "it failed");
}

/* Frees r and then reports its answer (r is gone when done() runs). */
static void dns_deliver(struct espat_dns_req *r)
{
	if (r->err != 0)
		log_failure(r);
	espat_dns_fn *done = r->done;
	void *user = r->user;
	int err = r->err;
	struct espat_ip ip = r->ip;
	dns_free(r);
	done(user, err, err == 0 ? &ip : NULL);
}

static void on_fin(void *user)
{
	dns_deliver(user);
}

static void on_deadline(void *user)
{
	struct espat_dns_req *r = user;
	r->err = ESPAT_NET_EDNS;
	char why[48];
	snprintf(why, sizeof(why), "no answer within %u ms", r->timeout_ms);
	r->why = why;
	dns_deliver(r);
}

static void on_ares_timer(void *user);

static void arm_ares_timer(struct espat_dns_req *r)
{
	struct espat_loop *l = r->np->loop;
	struct timeval tv;
	if (r->fin.armed || ares_timeout(r->ch, NULL, &tv) == NULL) {
		espat_loop_timer_cancel(l, &r->ares_timer);
		return;
	}
	uint64_t ns = (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
	espat_loop_timer_arm(l, &r->ares_timer, espat_loop_now_ns() + ns, on_ares_timer, r);
}

static void on_ares_timer(void *user)
{
	struct espat_dns_req *r = user;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_ares_timer(r);
}

static void on_dns_fd(void *user, uint32_t events)
{
	struct dns_watch *w = user;
	struct espat_dns_req *r = w->r;
	int fd = w->fd;
	/* w may be freed inside (c-ares closing the socket): not used after. */
	ares_process_fd(r->ch, (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
	                (events & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
	arm_ares_timer(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct espat_dns_req *r = data;
	struct espat_loop *l = r->np->loop;
	struct dns_watch **pp = &r->watches;
	while (*pp != NULL && (*pp)->fd != fd)
		pp = &(*pp)->next;
	struct dns_watch *w = *pp;
	if (!readable && !writable) {
		if (w != NULL) {
			espat_loop_del(l, &w->w);
			*pp = w->next;
			free(w);
		}
		return;
	}
	uint32_t ev = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
	if (w != NULL) {
		espat_loop_mod(l, &w->w, ev);
		return;
	}
	/* Without a watch c-ares still ends the query by its timeout. */
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return;
	w->r = r;
	w->fd = fd;
	if (espat_loop_add(l, &w->w, fd, ev, on_dns_fd, w) < 0) {
		espat_log_warn(r->np->log, "net: DNS: epoll: %s", strerror(errno));
		free(w);
		return;
	}
	w->next = r->watches;
	r->watches = w;
}

static int map_status(int st)
{
	switch (st) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
	case ARES_EBADNAME:
		return ESPAT_NET_ENOTFOUND;
	case ARES_ENOMEM:
		return ESPAT_NET_ENOMEM;
	default: /* timeouts, refusals, server failures, bad answers */
		return ESPAT_NET_EDNS;
	}
}

/* The address the family asks for: PREFER_V4 takes the first IPv4 answer,
 * else the first IPv6 one. */
static int pick(const struct ares_addrinfo *res, enum espat_dns_family family, struct espat_ip *ip)
{
	const struct ares_addrinfo_node *v4 = NULL, *v6 = NULL;
	for (const struct ares_addrinfo_node *n = res ? res->nodes : NULL; n; n = n->ai_next) {
		if (n->ai_addr == NULL)
			continue;
		if (n->ai_family == AF_INET && v4 == NULL)
			v4 = n;
		if (n->ai_family == AF_INET6 && v6 == NULL)
			v6 = n;
	}
	const struct ares_addrinfo_node *n = family == ESPAT_DNS_V6_ONLY ? v6 : v4;
	if (n == NULL && family == ESPAT_DNS_PREFER_V4)
		n = v6;
	if (n == NULL)
		return ESPAT_NET_ENOTFOUND;
	struct espat_endpoint ep;
	espat_netp_endpoint(n->ai_addr, &ep);
	*ip = ep.ip;
	return 0;
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct espat_dns_req *r = arg;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		/* Our own dns_free(): the owner has its answer or cancelled. */
		if (res != NULL)
			ares_freeaddrinfo(res);
		return;
	}
	r->err = status == ARES_SUCCESS ? pick(res, r->family, &r->ip) : map_status(status);
	r->why = status == ARES_SUCCESS ? "no address of that family" : ares_strerror(status);
	if (res != NULL)
		ares_freeaddrinfo(res);
	espat_loop_timer_arm(r->np->loop, &r->fin, espat_loop_now_ns(), on_fin, r);
}

/* A numeric name answers itself. True when name is an address literal. */
static bool numeric(struct espat_dns_req *r, const char *name)
{
	uint8_t a[16];
	if (inet_pton(AF_INET, name, a) == 1) {
		r->ip.v6 = false;
		memcpy(r->ip.a, a, 4);
	} else if (inet_pton(AF_INET6, name, a) == 1) {
		r->ip.v6 = true;
		memcpy(r->ip.a, a, 16);
	} else {
		return false;
	}
	if ((r->family == ESPAT_DNS_V4_ONLY && r->ip.v6) ||
	    (r->family == ESPAT_DNS_V6_ONLY && !r->ip.v6)) {
		r->err = ESPAT_NET_ENOTFOUND;
		r->why = "an address of the other family";
	}
	return true;
}

/* r's channel: the host's configuration, or exactly q's servers. */
static int channel_init(struct espat_dns_req *r, const struct espat_dns_query *q, uint32_t total_ms)
{
	char lookups[3];
	memcpy(lookups, q->nservers > 0 ? "b" : "fb", q->nservers > 0 ? 2 : 3);
	struct ares_options opts = {
	    .sock_state_cb = on_sock_state,
	    .sock_state_cb_data = r,
	    .lookups = lookups,
	    .timeout = (int)(total_ms / 3 > DNS_TRY_MIN_MS ? total_ms / 3 : DNS_TRY_MIN_MS),
	    .tries = DNS_TRIES,
	};
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	/* Servers of our own: no search domains of the host either. */
	if (q->nservers > 0)
		mask |= ARES_OPT_DOMAINS;
	int st = ares_init_options(&r->ch, &opts, mask);
	if (st != ARES_SUCCESS) {
		r->ch = NULL;
		return st == ARES_ENOMEM ? ESPAT_NET_ENOMEM : ESPAT_NET_EDNS;
	}
	if (q->nservers == 0)
		return 0;
	struct ares_addr_port_node nodes[ESPAT_DNS_SERVERS_MAX];
	memset(nodes, 0, sizeof(nodes));
	for (size_t i = 0; i < q->nservers; i++) {
		struct ares_addr_port_node *n = &nodes[i];
		n->next = i + 1 < q->nservers ? &nodes[i + 1] : NULL;
		n->family = q->servers[i].v6 ? AF_INET6 : AF_INET;
		memcpy(q->servers[i].v6 ? (void *)&n->addr.addr6 : (void *)&n->addr.addr4,
		       q->servers[i].a, q->servers[i].v6 ? 16 : 4);
		n->udp_port = 53;
		n->tcp_port = 53;
	}
	st = ares_set_servers_ports(r->ch, nodes);
	if (st != ARES_SUCCESS)
		return st == ARES_ENOMEM ? ESPAT_NET_ENOMEM : ESPAT_NET_EINVAL;
	return 0;
}

struct espat_dns_req *espat_netp_resolve(void *user, const struct espat_dns_query *q,
                                         espat_dns_fn *done, void *cbuser, int *err)
{
	struct espat_net_posix *np = user;
	if (q->name == NULL || q->name[0] == '\0' || strlen(q->name) > ESPAT_DNS_NAME_MAX ||
	    q->nservers > ESPAT_DNS_SERVERS_MAX) {
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	struct espat_dns_req *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	r->np = np;
	r->family = q->family;
	r->done = done;
	r->user = cbuser;
	r->next = np->dns;
	if (np->dns != NULL)
		np->dns->prev = r;
	np->dns = r;
	memcpy(r->name, q->name, strlen(q->name) + 1);
	uint64_t now = espat_loop_now_ns();
	if (numeric(r, q->name)) {
		espat_loop_timer_arm(np->loop, &r->fin, now, on_fin, r);
		return r;
	}
	size_t o = 0;
	for (size_t i = 0; i < q->nservers; i++) {
		char ip[INET6_ADDRSTRLEN];
		espat_netp_ip_str(&q->servers[i], ip, sizeof(ip));
		int n = snprintf(r->servers + o, sizeof(r->servers) - o, "%s%s", i ? ", " : "", ip);
		if (n > 0 && (size_t)n < sizeof(r->servers) - o)
			o += (size_t)n;
	}
	uint32_t total = q->timeout_ms ? q->timeout_ms : ESPAT_NET_DNS_TIMEOUT_MS;
	r->timeout_ms = total;
	int e = channel_init(r, q, total);
	if (e != 0) {
		dns_free(r);
		*err = e;
		return NULL;
	}
	espat_loop_timer_arm(np->loop, &r->deadline, now + (uint64_t)total * ESPAT_NETP_NS_PER_MS,
	                     on_deadline, r);
	struct ares_addrinfo_hints hints = {
	    .ai_flags = ARES_AI_NOSORT,
	    .ai_family = q->family == ESPAT_DNS_V4_ONLY   ? AF_INET
	                 : q->family == ESPAT_DNS_V6_ONLY ? AF_INET6
	                                                  : AF_UNSPEC,
	};
	ares_getaddrinfo(r->ch, q->name, NULL, &hints, on_addrinfo, r);
	arm_ares_timer(r);
	return r;
}

void espat_netp_resolve_cancel(void *user, struct espat_dns_req *r)
{
	if (r != NULL)
		dns_free(r);
}

void espat_netp_dns_free_all(struct espat_net_posix *np)
{
	while (np->dns != NULL)
		dns_free(np->dns);
}
