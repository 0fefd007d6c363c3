/* Ping of the Linux net port: one echo request per call, on a socket of
 * its own (so a reply or an error can only be that request's). Which kind
 * of socket, and why, is in net_posix.h. */
#include "posix/net_posix.h"
#include "posix/net_posix_internal.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* <linux/icmp.h>, which clashes with <netinet/ip_icmp.h> */
#endif

#define PING_PAYLOAD 32 /* bytes after the ICMP header, as lwIP's ping sends */
#define PING_RECVS_PER_WAKE 16
#define PING_TCP_PORT 7 /* echo: a refusal proves the host as well as an accept */
#define PING_SEQ 1

enum ping_method {
	PM_DGRAM,
	PM_RAW,
	PM_TCP,
};

/* What a received packet means for the request. */
enum ping_match {
	PM_OTHER,   /* not ours */
	PM_REPLY,   /* our echo reply */
	PM_UNREACH, /* an ICMP error about our request */
};

struct espat_ping_req {
	struct espat_net_posix *np;
	struct espat_ping_req *prev, *next; /* np->pings */
	enum ping_method method;
	int fd;
	bool v6;
	struct espat_loop_watch watch;
	struct espat_loop_timer deadline; /* timeout_ms */
	struct espat_loop_timer fin;      /* zero-delay: a result known at once */
	uint16_t id;                      /* raw sockets; the kernel picks it for dgram */
	uint64_t t0;                      /* when the request left */
	struct sockaddr_storage dst;
	socklen_t dstlen;
	espat_ping_fn *done;
	void *user;
	int err; /* the result once known: 0 and rtt, or an espat_net_err */
	uint32_t rtt;
};

static void ping_free(struct espat_ping_req *r)
{
	struct espat_net_posix *np = r->np;
	espat_loop_del(np->loop, &r->watch);
	espat_loop_timer_cancel(np->loop, &r->deadline);
	espat_loop_timer_cancel(np->loop, &r->fin);
	if (r->fd >= 0)
		close(r->fd);
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		np->pings = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	free(r);
}

/* Rounded up: an answer is never "0 ms". */
static uint32_t rtt_ms(const struct espat_ping_req *r, uint64_t now)
{
	return (uint32_t)((now - r->t0 + ESPAT_NETP_NS_PER_MS - 1) / ESPAT_NETP_NS_PER_MS);
}

/* Frees r and then reports (r is gone when done() runs). */
static void ping_report(struct espat_ping_req *r, int err, uint32_t rtt)
{
	espat_ping_fn *done = r->done;
	void *user = r->user;
	ping_free(r);
	done(user, err, rtt);
}

static void ping_deliver(struct espat_ping_req *r, int err)
{
	ping_report(r, err, err == 0 ? rtt_ms(r, espat_loop_now_ns()) : 0);
}

static void on_fin(void *user)
{
	struct espat_ping_req *r = user;
	ping_report(r, r->err, r->rtt);
}

static void on_deadline(void *user)
{
	ping_deliver(user, ESPAT_NET_ETIMEDOUT);
}

/* A result known during ping(): it waits for the loop. */
static void finish_later(struct espat_ping_req *r, int err)
{
	uint64_t now = espat_loop_now_ns();
	r->err = err;
	r->rtt = err == 0 ? rtt_ms(r, now) : 0;
	espat_loop_del(r->np->loop, &r->watch);
	espat_loop_timer_cancel(r->np->loop, &r->deadline);
	espat_loop_timer_arm(r->np->loop, &r->fin, now, on_fin, r);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t inet_cksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Does the ICMP message at p (an echo request we sent, quoted in an error)
 * carry our identifier and sequence? */
static bool is_our_request(const struct espat_ping_req *r, const uint8_t *p, size_t n)
{
	uint8_t echo = r->v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	return n >= 8 && p[0] == echo && get16(p + 6) == PING_SEQ &&
	       (r->method != PM_RAW || get16(p + 4) == r->id);
}

static bool from_target(const struct espat_ping_req *r, const struct sockaddr *from)
{
	if (r->v6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
		const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&r->dst;
		return memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0;
	}
	const struct sockaddr_in *a = (const struct sockaddr_in *)from;
	const struct sockaddr_in *b = (const struct sockaddr_in *)&r->dst;
	return a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* p[0..n) as received: raw IPv4 sockets see the IP header, the others
 * start at the ICMP header. */
static enum ping_match classify(const struct espat_ping_req *r, const uint8_t *p, size_t n,
                                const struct sockaddr *from)
{
	if (!r->v6 && r->method == PM_RAW) {
		size_t ihl = n > 0 ? (size_t)(p[0] & 0x0f) * 4 : 0;
		if (ihl < 20 || n < ihl)
			return PM_OTHER;
		p += ihl;
		n -= ihl;
	}
	if (n < 8)
		return PM_OTHER;
	uint8_t reply = r->v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY;
	if (p[0] == reply) {
		if (get16(p + 6) != PING_SEQ)
			return PM_OTHER;
		if (r->method == PM_RAW && (get16(p + 4) != r->id || !from_target(r, from)))
			return PM_OTHER;
		return PM_REPLY;
	}
	bool error = r->v6 ? (p[0] == ICMP6_DST_UNREACH || p[0] == ICMP6_TIME_EXCEEDED)
	                   : (p[0] == ICMP_DEST_UNREACH || p[0] == ICMP_TIME_EXCEEDED);
	if (!error)
		return PM_OTHER;
	/* The error quotes the offending packet: its IP header, then at
	 * least the first 8 bytes of our echo request. */
	p += 8;
	n -= 8;
	size_t hl = r->v6 ? 40 : (n > 0 ? (size_t)(p[0] & 0x0f) * 4 : 0);
	if (hl < 20 || n < hl)
		return PM_OTHER;
	return is_our_request(r, p + hl, n - hl) ? PM_UNREACH : PM_OTHER;
}

static void on_icmp(struct espat_ping_req *r)
{
	uint8_t *buf = r->np->rbuf;
	for (int i = 0; i < PING_RECVS_PER_WAKE; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n =
		    recvfrom(r->fd, buf, ESPAT_NET_RECV_BUF, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			/* The datagram socket's IP_RECVERR: an ICMP error
			 * about our (only) request. */
			int e = errno;
			ping_deliver(r, e == ENOMEM || e == ENOBUFS ? ESPAT_NET_ENOMEM
			                                            : ESPAT_NET_EUNREACH);
			return;
		}
		switch (classify(r, buf, (size_t)n, (struct sockaddr *)&ss)) {
		case PM_REPLY:
			ping_deliver(r, 0);
			return;
		case PM_UNREACH:
			ping_deliver(r, ESPAT_NET_EUNREACH);
			return;
		case PM_OTHER:
			break;
		}
	}
}

static int tcp_probe_err(int e)
{
	if (e == 0 || e == ECONNREFUSED)
		return 0; /* the host answered */
	return espat_netp_err(e);
}

static void on_ping_fd(void *user, uint32_t events)
{
	struct espat_ping_req *r = user;
	if (r->method != PM_TCP) {
		on_icmp(r);
		return;
	}
	int e = 0;
	socklen_t len = sizeof(e);
	if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	ping_deliver(r, tcp_probe_err(e));
}

static bool not_allowed(int e)
{
	return e == EACCES || e == EPERM || e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT;
}

/* The first kind of socket the host allows; -1 with errno. */
static int ping_socket(struct espat_ping_req *r, unsigned methods)
{
	int family = r->v6 ? AF_INET6 : AF_INET;
	int proto = r->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	static const struct {
		unsigned bit;
		enum ping_method m;
		int type;
	} kinds[] = {
	    {ESPAT_NET_PING_DGRAM, PM_DGRAM, SOCK_DGRAM},
	    {ESPAT_NET_PING_RAW, PM_RAW, SOCK_RAW},
	    {ESPAT_NET_PING_TCP, PM_TCP, SOCK_STREAM},
	};
	int e = EPERM;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!(methods & kinds[i].bit))
			continue;
		int fd = socket(family, kinds[i].type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                kinds[i].m == PM_TCP ? 0 : proto);
		if (fd >= 0) {
			r->method = kinds[i].m;
			return fd;
		}
		e = errno;
		if (!not_allowed(e))
			break;
	}
	errno = e;
	return -1;
}

/* Keeps the raw socket's queue to replies and errors: every raw ICMP
 * socket gets a copy of every ICMP packet the host receives. */
static void raw_filter(const struct espat_ping_req *r)
{
	if (r->v6) {
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		setsockopt(r->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	} else {
		uint32_t pass =
		    1u << ICMP_ECHOREPLY | 1u << ICMP_DEST_UNREACH | 1u << ICMP_TIME_EXCEEDED;
		uint32_t block = ~pass;
		setsockopt(r->fd, SOL_RAW, ICMP_FILTER, &block, sizeof(block));
	}
}

#define IN_FLIGHT (-1)

/* Sends the request: IN_FLIGHT, or a result known at once (0 or an
 * espat_net_err). */
static int send_echo(struct espat_ping_req *r)
{
	if (r->method == PM_TCP) {
		struct sockaddr_storage ss = r->dst;
		/* sin_port and sin6_port share their place. */
		((struct sockaddr_in *)&ss)->sin_port = htons(PING_TCP_PORT);
		int rc;
		do {
			rc = connect(r->fd, (struct sockaddr *)&ss, r->dstlen);
		} while (rc < 0 && errno == EINTR);
		if (rc < 0 && errno == EINPROGRESS)
			return IN_FLIGHT;
		return tcp_probe_err(rc < 0 ? errno : 0);
	}
	if (r->method == PM_RAW)
		raw_filter(r);
	else if (r->v6)
		setsockopt(r->fd, IPPROTO_IPV6, IPV6_RECVERR, &(int){1}, sizeof(int));
	else
		setsockopt(r->fd, IPPROTO_IP, IP_RECVERR, &(int){1}, sizeof(int));
	uint8_t pkt[8 + PING_PAYLOAD];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = r->v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	pkt[4] = (uint8_t)(r->id >> 8);
	pkt[5] = (uint8_t)r->id;
	pkt[6] = PING_SEQ >> 8;
	pkt[7] = PING_SEQ & 0xff;
	for (size_t i = 8; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	/* The kernel sums ICMPv6 and every datagram-socket echo itself. */
	if (!r->v6 && r->method == PM_RAW) {
		uint16_t c = inet_cksum(pkt, sizeof(pkt));
		pkt[2] = (uint8_t)(c >> 8);
		pkt[3] = (uint8_t)c;
	}
	ssize_t n;
	do {
		n = sendto(r->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&r->dst, r->dstlen);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? espat_netp_err(errno) : IN_FLIGHT;
}

struct espat_ping_req *espat_netp_ping(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
                                       espat_ping_fn *done, void *cbuser, int *err)
{
	struct espat_net_posix *np = user;
	struct espat_ping_req *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	r->np = np;
	r->fd = -1;
	r->v6 = ip->v6;
	r->done = done;
	r->user = cbuser;
	r->id = ++np->ping_id;
	struct espat_endpoint ep = {.ip = *ip};
	espat_netp_sockaddr(&ep, ip->v6 ? AF_INET6 : AF_INET, &r->dst, &r->dstlen);
	r->fd = ping_socket(r, np->ping_methods);
	if (r->fd < 0) {
		*err = not_allowed(errno) ? ESPAT_NET_EIO : espat_netp_err(errno);
		free(r);
		return NULL;
	}
	r->next = np->pings;
	if (np->pings != NULL)
		np->pings->prev = r;
	np->pings = r;
	uint32_t events = r->method == PM_TCP ? EPOLLOUT : EPOLLIN;
	if (espat_loop_add(np->loop, &r->watch, r->fd, events, on_ping_fd, r) < 0) {
		*err = espat_netp_err(errno);
		ping_free(r);
		return NULL;
	}
	uint64_t ms = timeout_ms ? timeout_ms : ESPAT_NET_PING_TIMEOUT_MS;
	r->t0 = espat_loop_now_ns();
	espat_loop_timer_arm(np->loop, &r->deadline, r->t0 + ms * ESPAT_NETP_NS_PER_MS, on_deadline,
	                     r);
	int rc = send_echo(r);
	if (rc != IN_FLIGHT)
		finish_later(r, rc);
	return r;
}

void espat_netp_ping_cancel(void *user, struct espat_ping_req *r)
{
	if (r != NULL)
		ping_free(r);
}

void espat_netp_ping_free_all(struct espat_net_posix *np)
{
	while (np->pings != NULL)
		ping_free(np->pings);
}
