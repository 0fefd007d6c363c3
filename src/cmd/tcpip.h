/* TCP/IP AT commands (guide section 3.3): links over real sockets (the net
 * port), sending in every mode, +IPD and passive receive, the server,
 * passthrough, DNS.
 *
 * Files: tcpip.c (the table, links, AT+CIPSTART/CLOSE/STATE/STATUS/MUX,
 * addresses, DNS), tcpip_recv.c (+IPD, passive receive), tcpip_send.c
 * (AT+CIPSEND/SENDEX/SENDL and passthrough), tcpip_server.c (AT+CIPSERVER
 * and its limits). The network services have their own files and state:
 * tcpip_svc.c (SNTP, mDNS, ping) and ota.c (AT+CIUPDATE). */
#ifndef ESPAT_CMD_TCPIP_H
#define ESPAT_CMD_TCPIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/timers.h"
#include "port/net.h"

struct espat_module;

/* Whether sockets can reach anything: the station has an address on a
 * network that leads to the host, or the softAP is up (its stations are
 * played by peers on the host). */
bool espat_tcpip_online(const struct espat_module *m);

/* Fills q->servers / q->nservers with the DNS servers in effect (AT+CIPDNS,
 * or the network's). A server that is the simulated network's own (the
 * DHCP-given one, or any address inside the station's subnet) is the
 * router, which resolves through the host: it maps to nservers == 0. */
void espat_tcpip_dns_servers(const struct espat_module *m, struct espat_dns_query *q);

#endif
