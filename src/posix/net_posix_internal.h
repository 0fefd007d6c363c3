/* Shared between net_posix.c, net_posix_dns.c and net_posix_ping.c; not
 * for other files. */
#ifndef ESPAT_POSIX_NET_POSIX_INTERNAL_H
#define ESPAT_POSIX_NET_POSIX_INTERNAL_H

#include <sys/socket.h>

#include "posix/net_posix.h"

#define ESPAT_NETP_NS_PER_MS 1000000u

/* An errno as an espat_net_err (ECONNRESET and EPIPE are ERESET; anything
 * without a better name is EIO). */
int espat_netp_err(int e);

/* ep as a sockaddr of family (AF_INET or AF_INET6: an IPv4 ep becomes
 * IPv4-mapped). 0, or -1 when ep cannot be expressed in that family. */
int espat_netp_sockaddr(const struct espat_endpoint *ep, int family, struct sockaddr_storage *ss,
                        socklen_t *len);
/* sa as an endpoint; IPv4-mapped IPv6 addresses come back as IPv4. */
void espat_netp_endpoint(const struct sockaddr *sa, struct espat_endpoint *ep);

/* net_posix_dns.c: the resolve/resolve_cancel entries of the port. */
struct espat_dns_req *espat_netp_resolve(void *user, const struct espat_dns_query *q,
                                         espat_dns_fn *done, void *cbuser, int *err);
void espat_netp_resolve_cancel(void *user, struct espat_dns_req *r);
void espat_netp_dns_free_all(struct espat_net_posix *np);

/* net_posix_ping.c: the ping/ping_cancel entries of the port. */
struct espat_ping_req *espat_netp_ping(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
                                       espat_ping_fn *done, void *cbuser, int *err);
void espat_netp_ping_cancel(void *user, struct espat_ping_req *r);
void espat_netp_ping_free_all(struct espat_net_posix *np);

#endif
