/* Addresses as AT commands print and parse them. */
#include "cmd/addr.h"

#include <stdio.h>
#include <string.h>

const char *espat_ip4_str(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16) & 0xFFu,
	         (unsigned)(ip >> 8) & 0xFFu, (unsigned)ip & 0xFFu);
	return buf;
}

const char *espat_mac_str(const uint8_t mac[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
	         mac[5]);
	return buf;
}

/* A dotted quad, each part 0..255 without leading junk. */
bool espat_ip4_parse(const struct espat_arg *a, uint32_t *ip)
{
	if (a->kind != ESPAT_ARG_STR)
		return false;
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		unsigned n = 0, digits = 0;
		while (i < a->len && a->s[i] >= '0' && a->s[i] <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(a->s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || n > 255)
			return false;
		v = v << 8 | n;
		if (part < 3) {
			if (i >= a->len || a->s[i] != '.')
				return false;
			i++;
		}
	}
	if (i != a->len)
		return false;
	*ip = v;
	return true;
}

const char *espat_ip_str(const struct espat_ip *ip, char *buf)
{
	if (!ip->v6) {
		snprintf(buf, 16, "%u.%u.%u.%u", ip->a[0], ip->a[1], ip->a[2], ip->a[3]);
		return buf;
	}
	/* RFC 5952: the longest run (>= 2) of zero groups becomes "::" */
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(ip->a[2 * i] << 8 | ip->a[2 * i + 1]);
	int best = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t o = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o += (size_t)snprintf(buf + o, 46 - o, "::");
			i += best_len - 1;
			continue;
		}
		o += (size_t)snprintf(buf + o, 46 - o, "%s%x", o && buf[o - 1] != ':' ? ":" : "",
		                      g[i]);
	}
	return buf;
}

static bool parse_ip6(const char *s, size_t len, uint8_t out[16])
{
	uint16_t head[8], tail[8];
	size_t nh = 0, nt = 0, i = 0;
	bool gap = false;
	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = true;
		i = 2;
	} else if (len > 0 && s[0] == ':') {
		return false;
	}
	while (i < len) {
		unsigned v = 0, digits = 0;
		while (i < len && espat_hexval((unsigned char)s[i]) >= 0 && digits < 5) {
			v = v << 4 | (unsigned)espat_hexval((unsigned char)s[i]);
			i++;
			digits++;
		}
		if (digits == 0 || digits > 4)
			return false;
		if (gap)
			tail[nt++] = (uint16_t)v;
		else
			head[nh++] = (uint16_t)v;
		if (nh + nt > 8)
			return false;
		if (i == len)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < len && s[i] == ':') {
			if (gap)
				return false;
			gap = true;
			i++;
			if (i == len)
				break;
		} else if (i == len) {
			return false;
		}
	}
	if ((!gap && nh != 8) || (gap && nh + nt > 7))
		return false;
	memset(out, 0, 16);
	for (size_t k = 0; k < nh; k++) {
		out[2 * k] = (uint8_t)(head[k] >> 8);
		out[2 * k + 1] = (uint8_t)head[k];
	}
	for (size_t k = 0; k < nt; k++) {
		size_t at = 8 - nt + k;
		out[2 * at] = (uint8_t)(tail[k] >> 8);
		out[2 * at + 1] = (uint8_t)tail[k];
	}
	return true;
}

bool espat_ip_parse(const char *s, size_t len, struct espat_ip *out)
{
	struct espat_arg a = {.kind = ESPAT_ARG_STR, .s = s, .len = len};
	uint32_t v4;
	memset(out, 0, sizeof(*out));
	if (espat_ip4_parse(&a, &v4)) {
		out->a[0] = (uint8_t)(v4 >> 24);
		out->a[1] = (uint8_t)(v4 >> 16);
		out->a[2] = (uint8_t)(v4 >> 8);
		out->a[3] = (uint8_t)v4;
		return true;
	}
	if (memchr(s, ':', len) && parse_ip6(s, len, out->a)) {
		out->v6 = true;
		return true;
	}
	return false;
}
