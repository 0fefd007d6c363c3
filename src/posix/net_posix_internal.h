/* Shared between the files of the Linux net port (net_posix*.c); not for
 * other files. */
#ifndef ESPAT_POSIX_NET_POSIX_INTERNAL_H
#define ESPAT_POSIX_NET_POSIX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "posix/net_posix.h"

#define ESPAT_NETP_NS_PER_MS 1000000u

/* ---- net_posix_fd.c: host sockets ---- */

/* An errno as an espat_net_err (ECONNRESET and EPIPE are ERESET; anything
 * without a better name is EIO). */
int espat_netp_err(int e);
/* ep as a sockaddr of family (AF_INET or AF_INET6: an IPv4 ep becomes
 * IPv4-mapped). 0, or -1 when ep cannot be expressed in that family. */
int espat_netp_sockaddr(const struct espat_endpoint *ep, int family, struct sockaddr_storage *ss,
                        socklen_t *len);
/* sa as an endpoint; IPv4-mapped IPv6 addresses come back as IPv4. */
void espat_netp_endpoint(const struct sockaddr *sa, struct espat_endpoint *ep);
/* ip as text ("127.0.0.1", "::1"), ep as "127.0.0.1:80" or "[::1]:80",
 * for log lines; cut to len. */
void espat_netp_ip_str(const struct espat_ip *ip, char *out, size_t len);
void espat_netp_ep_str(const struct espat_endpoint *ep, char *out, size_t len);

/* New sockets, non-blocking and close-on-exec; -1 with errno.
 * A UDP socket (IPv6: dual-stack), bound to the wildcard address at
 * o->local_port, joined to o->group when o->mcast (EINVAL when the group
 * is not multicast). */
int espat_netp_udp_fd(const struct espat_log *log, const struct espat_sock_opts *o, int family);
/* A TCP socket for connect(), bound only when o->local_port is set. */
int espat_netp_tcp_fd(const struct espat_sock_opts *o, int family);
/* A TCP socket listening on 127.0.0.1 (or ::1) at port. */
int espat_netp_listen_fd(uint16_t port, bool v6);
/* Applies o to a TCP socket; 0 or -1 with errno. */
int espat_netp_tcpopt(int fd, const struct espat_tcpopt *o);

/* ---- net_posix_dns.c: the resolve/resolve_cancel entries of the port ---- */
struct espat_dns_req *espat_netp_resolve(void *user, const struct espat_dns_query *q,
                                         espat_dns_fn *done, void *cbuser, int *err);
void espat_netp_resolve_cancel(void *user, struct espat_dns_req *r);
void espat_netp_dns_free_all(struct espat_net_posix *np);

/* ---- net_posix_ping.c: the ping/ping_cancel entries of the port ---- */
struct espat_ping_req *espat_netp_ping(void *user, const struct espat_ip *ip, uint32_t timeout_ms,
                                       espat_ping_fn *done, void *cbuser, int *err);
void espat_netp_ping_cancel(void *user, struct espat_ping_req *r);
void espat_netp_ping_free_all(struct espat_net_posix *np);

#endif
