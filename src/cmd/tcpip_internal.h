/* Shared between the tcpip*.c files only (the TCP/IP and SSL rows). */
#ifndef ESPAT_CMD_TCPIP_INTERNAL_H
#define ESPAT_CMD_TCPIP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/family.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"

#define E(m) (&(m)->eng)
#define T(m) ((m)->tcpip)
#define NET(m) (&(m)->ports.net)

bool espat_link_is_udp(const struct espat_link *l);
bool espat_link_is_ssl(const struct espat_link *l);
bool espat_link_type_parse(const char *s, size_t len, enum espat_link_type *t);

/* Prints "CONNECT" / "<id>,CONNECT" (or +LINK_CONN under AT+SYSMSG bit1). */
void espat_link_say_connect(struct espat_link *l);
/* Closes the socket and frees the link; prints CLOSED when say. */
void espat_link_close(struct espat_link *l, bool say, enum espat_close_how how);
/* Traffic on a server's link: restarts its AT+CIPSTO timer. */
void espat_link_touch(struct espat_link *l);
/* The peer closed or the connection failed (from the socket's callbacks). */
void espat_link_lost(struct espat_link *l, int err);
/* Whether the link is the one of passthrough (mux 0 link, or a server's
 * only link). */
struct espat_link *espat_link_get(struct espat_module *m, int64_t id);

/* tcpip.c: the rows and lifecycle the v1.5 dialect (tcpip_v15.c) shares */
espat_handler_fn espat_tcpip_cipstart_set, espat_tcpip_cipclose_set, espat_tcpip_cipclose_exec;
espat_handler_fn espat_tcpip_cifsr_exec, espat_tcpip_cipmux_set, espat_tcpip_cipmux_query;
espat_handler_fn espat_tcpip_cipmode_set, espat_tcpip_cipmode_query, espat_tcpip_cipserver_set;
espat_handler_fn espat_tcpip_cipsto_query, espat_tcpip_cipsto_set, espat_tcpip_cipdinfo_set;
void espat_tcpip_init(struct espat_module *m);
void espat_tcpip_boot(struct espat_module *m);
void espat_tcpip_free(struct espat_module *m);
void espat_tcpip_event(struct espat_module *m, enum espat_event ev);

/* tcpip_v15.c: AT+CIPSENDBUF's segments follow the link's queue (the
 * net port drained part of it) and die with the link. No-ops for a link
 * that never had one. */
void espat_segs_drained(struct espat_link *l);
void espat_segs_gone(struct espat_link *l);

/* tcpip_recv.c */
extern const struct espat_sock_cbs espat_link_cbs;
void espat_recv_data(struct espat_link *l, const uint8_t *p, size_t n,
		     const struct espat_endpoint *from);
/* The socket's reading policy after anything changed (passive buffer,
 * UART queue). */
void espat_recv_update(struct espat_link *l);
enum espat_rc espat_ciprecvdata_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_ciprecvlen_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_ciprecvtype_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_ciprecvtype_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_ciprecvmode_query(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_ciprecvmode_set(struct espat_module *m, const struct espat_args *a);

/* tcpip_send.c */
enum espat_rc espat_cipsend_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cipsend_exec(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cipsendex_set(struct espat_module *m, const struct espat_args *a);
enum espat_rc espat_cipsendl_set(struct espat_module *m, const struct espat_args *a);
/* The running send's socket drained / died. */
void espat_send_drained(struct espat_link *l);
void espat_send_link_gone(struct espat_link *l);
/* Passthrough: the link connected / was lost. */
void espat_pt_link_up(struct espat_link *l);
void espat_pt_link_lost(struct espat_link *l);
/* A server accepted l: in passthrough it may become the passthrough link. */
void espat_pt_accepted(struct espat_link *l);
/* After host input: in passthrough the writer is quiet unless AT+SYSMSG
 * bit2 says otherwise (the prompt that led there is already out). */
void espat_pt_after_input(struct espat_module *m);
/* Enters passthrough from AT+SAVETRANSLINK at boot. */
void espat_pt_boot(struct espat_module *m);
void espat_pt_free(struct espat_module *m);
/* Opens a link (as AT+CIPSTART does) without a command waiting. */
int espat_link_start(struct espat_module *m, struct espat_link *l, enum espat_link_type type,
		     const char *host, size_t host_len, uint16_t port, uint16_t local_port,
		     uint8_t udp_mode, uint16_t keepalive, uint32_t timeout_ms);

#endif
