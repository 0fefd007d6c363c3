/* Addresses as AT commands print and parse them: IPv4 as host-order
 * integers (Wi-Fi's view), struct espat_ip (the net port's), MACs. Pure
 * helpers, shared by every family. */
#ifndef ESPAT_CMD_ADDR_H
#define ESPAT_CMD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/args.h"
#include "port/net.h"

/* "192.168.3.112" into buf (at least 16 bytes). */
const char *espat_ip4_str(uint32_t ip, char *buf);
/* "1a:fe:35:98:d3:7b" into buf (at least 18 bytes). */
const char *espat_mac_str(const uint8_t mac[6], char *buf);
/* A dotted quad from a string argument, each part 0..255. */
bool espat_ip4_parse(const struct espat_arg *a, uint32_t *ip);
/* "192.168.3.1" or "::1" (RFC 5952) into buf (at least 46 bytes). */
const char *espat_ip_str(const struct espat_ip *ip, char *buf);
/* A dotted quad or an IPv6 address, exactly s[0..len). */
bool espat_ip_parse(const char *s, size_t len, struct espat_ip *out);

#endif
