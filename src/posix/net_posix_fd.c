/* Host sockets as the net port makes them: errno and address
 * conversions, binding, multicast membership, TCP options. Nothing here
 * knows the port's socket struct or the loop. */
#include "posix/net_posix.h"
#include "posix/net_posix_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_KEEPIDLE_MAX 32767 /* the kernel's limit (MAX_TCP_KEEPIDLE) */

int espat_netp_err(int e)
{
	switch (e) {
	case 0:
		return ESPAT_NET_OK;
	case ECONNREFUSED:
		return ESPAT_NET_EREFUSED;
	case ETIMEDOUT:
		return ESPAT_NET_ETIMEDOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return ESPAT_NET_EUNREACH;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return ESPAT_NET_ERESET;
	case EADDRINUSE:
	case EADDRNOTAVAIL:
		return ESPAT_NET_EADDRINUSE;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case ENOBUFS:
		return ESPAT_NET_ENOMEM;
	case EINVAL:
	case EAFNOSUPPORT:
	case EMSGSIZE:
		return ESPAT_NET_EINVAL;
	default:
		return ESPAT_NET_EIO;
	}
}

int espat_netp_sockaddr(const struct espat_endpoint *ep, int family, struct sockaddr_storage *ss,
                        socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		const uint8_t *a = ep->ip.a;
		if (ep->ip.v6) {
			if (memcmp(ep->ip.a, mapped, sizeof(mapped)) != 0)
				return -1;
			a += 12;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep->port);
		memcpy(&sin->sin_addr, a, 4);
		*len = sizeof(*sin);
		return 0;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(ep->port);
	if (ep->ip.v6) {
		memcpy(&sin6->sin6_addr, ep->ip.a, 16);
	} else {
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6->sin6_addr.s6_addr[12], ep->ip.a, 4);
	}
	*len = sizeof(*sin6);
	return 0;
}

void espat_netp_endpoint(const struct sockaddr *sa, struct espat_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		memcpy(ep->ip.a, &sin->sin_addr, 4);
		ep->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		ep->port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(ep->ip.a, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			ep->ip.v6 = true;
			memcpy(ep->ip.a, &sin6->sin6_addr, 16);
		}
	}
}

void espat_netp_ip_str(const struct espat_ip *ip, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->a, a, sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(out, len, "%s", a);
}

void espat_netp_ep_str(const struct espat_endpoint *ep, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	espat_netp_ip_str(&ep->ip, a, sizeof(a));
	snprintf(out, len, ep->ip.v6 ? "[%s]:%u" : "%s:%u", a, ep->port);
}

static int setopt_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

/* Binds the wildcard address of fd's family at port. 0 or -1 (errno). */
static int bind_any(int fd, int family, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t sl;
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		sl = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(port);
		sl = sizeof(*sin);
	}
	return bind(fd, (struct sockaddr *)&ss, sl);
}

static int set_reuse(int fd)
{
	if (setopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		return -1;
	return setopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
}

static bool is_multicast(const struct espat_ip *ip)
{
	return ip->v6 ? ip->a[0] == 0xff : (ip->a[0] & 0xf0) == 0xe0;
}

/* Joins the group on every interface that is up and multicast-capable,
 * lets sent multicast loop back, and sends through lo when lo can carry
 * multicast (so peers on this host see it). 0 or -1 (errno): -1 only
 * when no interface could join. */
static int join_group(const struct espat_log *log, int fd, const struct espat_ip *group)
{
	struct ifaddrs *ifa0;
	if (getifaddrs(&ifa0) < 0)
		return -1;
	int joined = 0, lo_index = 0, last_err = ENODEV;
	unsigned done6[64];
	size_t ndone6 = 0;
	for (struct ifaddrs *ifa = ifa0; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP) ||
		    !(ifa->ifa_flags & IFF_MULTICAST))
			continue;
		unsigned idx = if_nametoindex(ifa->ifa_name);
		if (ifa->ifa_flags & IFF_LOOPBACK)
			lo_index = (int)idx;
		int rc;
		if (!group->v6 && ifa->ifa_addr->sa_family == AF_INET) {
			struct ip_mreqn mr = {.imr_ifindex = (int)idx};
			memcpy(&mr.imr_multiaddr, group->a, 4);
			mr.imr_address = ((struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
			rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
		} else if (group->v6 && ifa->ifa_addr->sa_family == AF_INET6) {
			/* One join per interface, though it has many addresses. */
			bool seen = false;
			for (size_t i = 0; i < ndone6; i++)
				seen = seen || done6[i] == idx;
			if (seen || ndone6 == sizeof(done6) / sizeof(done6[0]))
				continue;
			done6[ndone6++] = idx;
			struct ipv6_mreq mr = {.ipv6mr_interface = idx};
			memcpy(&mr.ipv6mr_multiaddr, group->a, 16);
			rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr));
		} else {
			continue;
		}
		if (rc == 0 || errno == EADDRINUSE) {
			joined++;
		} else {
			last_err = errno;
			espat_log_debug(log, "net: multicast join on %s: %s", ifa->ifa_name,
			                strerror(errno));
		}
	}
	freeifaddrs(ifa0);
	if (joined == 0) {
		errno = last_err;
		return -1;
	}
	/* Only our groups: by default a wildcard-bound socket also gets
	 * every group any other socket of the host joined on this port. */
	if (group->v6) {
		setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
		setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1);
		setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
		if (lo_index > 0)
			setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, lo_index);
	} else {
		setopt_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
		setopt_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1);
		setopt_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255);
		if (lo_index > 0) {
			struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
			setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo));
		}
	}
	return 0;
}

int espat_netp_udp_fd(const struct espat_log *log, const struct espat_sock_opts *o, int family)
{
	if (o->mcast && !is_multicast(&o->group)) {
		errno = EINVAL;
		return -1;
	}
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Dual-stack, whatever the host's default; broadcast allowed as
	 * lwIP allows it. */
	if ((family == AF_INET6 && setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) < 0) ||
	    setopt_int(fd, SOL_SOCKET, SO_BROADCAST, 1) < 0 ||
	    ((o->reuse || o->mcast) && set_reuse(fd) < 0) ||
	    bind_any(fd, family, o->local_port) < 0 ||
	    (o->mcast && join_group(log, fd, &o->group) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int espat_netp_tcp_fd(const struct espat_sock_opts *o, int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if ((o->reuse && set_reuse(fd) < 0) ||
	    (o->local_port != 0 && bind_any(fd, family, o->local_port) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int espat_netp_listen_fd(uint16_t port, bool v6)
{
	struct espat_endpoint ep = {.ip.v6 = v6, .port = port};
	if (v6)
		ep.ip.a[15] = 1;
	else
		memcpy(ep.ip.a, (const uint8_t[]){127, 0, 0, 1}, 4);
	int family = v6 ? AF_INET6 : AF_INET;
	struct sockaddr_storage ss;
	socklen_t sl;
	espat_netp_sockaddr(&ep, family, &ss, &sl);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, ESPAT_NET_LISTEN_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int espat_netp_tcpopt(int fd, const struct espat_tcpopt *o)
{
	struct linger lg = {.l_onoff = o->linger_s >= 0,
	                    .l_linger = o->linger_s >= 0 ? o->linger_s : 0};
	/* Inert on a non-blocking socket; set so the socket reads back what
	 * the module was told. */
	struct timeval tv = {.tv_sec = o->sndtimeo_ms / 1000u,
	                     .tv_usec = (suseconds_t)(o->sndtimeo_ms % 1000u) * 1000};
	int ka = o->keepalive_s > 0;
	int idle = o->keepalive_s <= TCP_KEEPIDLE_MAX ? (int)o->keepalive_s : TCP_KEEPIDLE_MAX;
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    setopt_int(fd, IPPROTO_TCP, TCP_NODELAY, o->nodelay) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, ka) < 0)
		return -1;
	if (!ka)
		return 0;
	if (setopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle) < 0 ||
	    setopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1) < 0 ||
	    setopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3) < 0)
		return -1;
	return 0;
}
