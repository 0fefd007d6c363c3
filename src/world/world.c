/* The world's access points: adding, finding, removing, the key = value
 * setter shared by world files and the control interface, the consistency
 * check, the describer, and the radio port over the world. */
#include "world/world.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/args.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* ---- small helpers ----------------------------------------------------- */

int espat_world_errf(struct espat_world_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err->line = 0;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (espat_hexval(p[i]) < 0)
			return false;
	return true;
}

static bool is_printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

/* FNV-1a: the BSSID from a label, a lease from a MAC. */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

bool espat_world_label_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ESPAT_WORLD_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* ---- security ---------------------------------------------------------- */

static const struct {
	const char *name;
	uint8_t pairwise, group; /* the ciphers an AP of this kind announces */
} security[] = {
    [ESPAT_ECN_OPEN] = {"open", ESPAT_CIPHER_NONE, ESPAT_CIPHER_NONE},
    [ESPAT_ECN_WEP] = {"wep", ESPAT_CIPHER_WEP40, ESPAT_CIPHER_WEP40},
    [ESPAT_ECN_WPA_PSK] = {"wpa", ESPAT_CIPHER_TKIP, ESPAT_CIPHER_TKIP},
    [ESPAT_ECN_WPA2_PSK] = {"wpa2", ESPAT_CIPHER_CCMP, ESPAT_CIPHER_CCMP},
    [ESPAT_ECN_WPA_WPA2_PSK] = {"wpa-wpa2", ESPAT_CIPHER_TKIP_CCMP, ESPAT_CIPHER_TKIP},
    [ESPAT_ECN_WPA2_ENTERPRISE] = {"wpa2-enterprise", ESPAT_CIPHER_CCMP, ESPAT_CIPHER_CCMP},
    [ESPAT_ECN_WPA3_PSK] = {"wpa3", ESPAT_CIPHER_CCMP, ESPAT_CIPHER_CCMP},
    [ESPAT_ECN_WPA2_WPA3_PSK] = {"wpa2-wpa3", ESPAT_CIPHER_CCMP, ESPAT_CIPHER_CCMP},
    [ESPAT_ECN_WAPI_PSK] = {"wapi", ESPAT_CIPHER_UNKNOWN, ESPAT_CIPHER_UNKNOWN},
    [ESPAT_ECN_OWE] = {"owe", ESPAT_CIPHER_CCMP, ESPAT_CIPHER_CCMP},
};
#define NSECURITY (sizeof(security) / sizeof(security[0]))

static const char *const eap_method_names[] = {"tls", "peap", "ttls"}; /* bit n = method n */
#define NEAP (sizeof(eap_method_names) / sizeof(eap_method_names[0]))

static void set_security(struct espat_world_ap *ap, uint8_t ecn)
{
	ap->bss.ecn = ecn;
	ap->bss.pairwise_cipher = security[ecn].pairwise;
	ap->bss.group_cipher = security[ecn].group;
	ap->bss.pmf_required = ecn == ESPAT_ECN_WPA3_PSK;
}

/* ---- the world --------------------------------------------------------- */

void espat_world_init(struct espat_world *w)
{
	memset(w, 0, sizeof(*w));
	w->next_id = 1;
	w->scan_channel_ms = ESPAT_WORLD_SCAN_MS;
	memcpy(w->ota_server[0], ESPAT_OTA_SERVER, sizeof(ESPAT_OTA_SERVER));
	memcpy(w->ota_server[1], ESPAT_OTA_SSL_SERVER, sizeof(ESPAT_OTA_SSL_SERVER));
	espat_sim_periph_init(&w->periph);
}

struct espat_world_ap *espat_world_find(struct espat_world *w, const char *label)
{
	for (size_t i = 0; i < w->nap; i++)
		if (strcmp(w->ap[i].label, label) == 0)
			return &w->ap[i];
	return NULL;
}

struct espat_world_ap *espat_world_add(struct espat_world *w, const char *label,
                                       struct espat_world_err *err)
{
	if (!espat_world_label_ok(label)) {
		espat_world_errf(err, "bad AP label '%.40s': 1..%d of A-Z a-z 0-9 _ . -", label,
		                 ESPAT_WORLD_LABEL_MAX);
		return NULL;
	}
	if (espat_world_find(w, label)) {
		espat_world_errf(err, "duplicate AP '%s'", label);
		return NULL;
	}
	if (w->nap >= ESPAT_WORLD_APS_MAX) {
		espat_world_errf(err, "too many APs (at most %d)", ESPAT_WORLD_APS_MAX);
		return NULL;
	}
	struct espat_world_ap *ap = &w->ap[w->nap++];
	memset(ap, 0, sizeof(*ap));
	memcpy(ap->label, label, strlen(label) + 1);
	ap->bss.id = w->next_id++;
	/* A locally administered unicast address that only the label decides. */
	uint32_t h = fnv1a((const uint8_t *)label, strlen(label));
	uint32_t h2 = fnv1a((const uint8_t *)&h, sizeof(h));
	ap->bss.bssid[0] = (uint8_t)(((h >> 24) & 0xfc) | 0x02);
	ap->bss.bssid[1] = (uint8_t)(h >> 16);
	ap->bss.bssid[2] = (uint8_t)(h >> 8);
	ap->bss.bssid[3] = (uint8_t)h;
	ap->bss.bssid[4] = (uint8_t)(h2 >> 8);
	ap->bss.bssid[5] = (uint8_t)h2;
	ap->bss.channel = 1;
	ap->bss.rssi = -50;
	ap->bss.bgn = 0x7;
	set_security(ap, ESPAT_ECN_OPEN);
	ap->up = true;
	ap->net.dhcp = true;
	ap->net.ip = IP4(192, 168, 3, 100);
	ap->net.mask = IP4(255, 255, 255, 0);
	ap->net.gw = IP4(192, 168, 3, 1);
	ap->net.dns[0] = IP4(192, 168, 3, 1);
	ap->net.lease_s = 7200;
	ap->net.assoc_ms = 500;
	ap->net.dhcp_ms = 300;
	ap->pool = 100;
	return ap;
}

bool espat_world_remove(struct espat_world *w, const char *label)
{
	struct espat_world_ap *ap = espat_world_find(w, label);
	if (!ap)
		return false;
	size_t i = (size_t)(ap - w->ap);
	memmove(&w->ap[i], &w->ap[i + 1], (w->nap - i - 1) * sizeof(w->ap[0]));
	w->nap--;
	return true;
}

/* ---- strings ----------------------------------------------------------- */

enum unesc {
	UNESC_OK,
	UNESC_BAD_ESCAPE,
	UNESC_UNTERMINATED,
	UNESC_AFTER_QUOTE,
	UNESC_TOO_LONG,
};

static enum unesc unescape(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = 0;
	if (s[0] != '"') {
		size_t len = strlen(s);
		if (len > cap)
			return UNESC_TOO_LONG;
		memcpy(out, s, len);
		*outlen = len;
		return UNESC_OK;
	}
	const char *p = s + 1;
	for (;;) {
		unsigned char c = (unsigned char)*p++;
		if (c == '\0')
			return UNESC_UNTERMINATED;
		if (c == '"')
			break;
		if (c == '\\') {
			unsigned char e = (unsigned char)*p++;
			switch (e) {
			case '\\':
			case '"':
				c = e;
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'x': {
				int hi = espat_hexval((unsigned char)p[0]);
				int lo = hi < 0 ? -1 : espat_hexval((unsigned char)p[1]);
				if (lo < 0)
					return UNESC_BAD_ESCAPE;
				c = (unsigned char)(hi << 4 | lo);
				p += 2;
				break;
			}
			case '\0':
				return UNESC_UNTERMINATED;
			default:
				return UNESC_BAD_ESCAPE;
			}
		}
		if (n >= cap)
			return UNESC_TOO_LONG;
		out[n++] = c;
	}
	if (*p != '\0')
		return UNESC_AFTER_QUOTE;
	*outlen = n;
	return UNESC_OK;
}

long espat_world_unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t n;
	return unescape(s, out, cap, &n) == UNESC_OK ? (long)n : -1;
}

/* A string value of at most max bytes into out. */
static int get_string(const char *key, const char *v, uint8_t *out, size_t max, size_t *len,
                      struct espat_world_err *err)
{
	switch (unescape(v, out, max, len)) {
	case UNESC_OK:
		return 0;
	case UNESC_BAD_ESCAPE:
		return espat_world_errf(err, "%s: bad escape (use \\\\ \\\" \\n \\r \\t \\xHH)",
		                        key);
	case UNESC_UNTERMINATED:
		return espat_world_errf(err, "%s: unterminated quote", key);
	case UNESC_AFTER_QUOTE:
		return espat_world_errf(err, "%s: text after the closing quote", key);
	case UNESC_TOO_LONG:
		break;
	}
	return espat_world_errf(err, "%s: at most %zu bytes", key, max);
}

/* A NUL-free string of at most ESPAT_EAP_STR_MAX bytes, NUL-terminated. */
static int get_cstring(const char *key, const char *v, char *out, struct espat_world_err *err)
{
	uint8_t tmp[ESPAT_EAP_STR_MAX];
	size_t n;
	if (get_string(key, v, tmp, sizeof(tmp), &n, err) < 0)
		return -1;
	if (memchr(tmp, '\0', n))
		return espat_world_errf(err, "%s: must not contain NUL", key);
	memcpy(out, tmp, n);
	out[n] = '\0';
	return 0;
}

/* ---- numbers, addresses ------------------------------------------------ */

static int get_int(const char *key, const char *v, int64_t min, int64_t max, int64_t *out,
                   struct espat_world_err *err)
{
	int64_t x;
	if (!espat_parse_int(v, strlen(v), &x) || x < min || x > max)
		return espat_world_errf(err, "%s must be an integer %lld..%lld (got '%.40s')", key,
		                        (long long)min, (long long)max, v);
	*out = x;
	return 0;
}

static int get_bool(const char *key, const char *v, bool *out, struct espat_world_err *err)
{
	static const char *const yes[] = {"yes", "true", "1"};
	static const char *const no[] = {"no", "false", "0"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return espat_world_errf(err, "%s must be yes/no/true/false/1/0 (got '%.40s')", key, v);
}

/* Dotted quad at s[0..len): four decimal parts 0..255. */
static bool parse_ip4(const char *s, size_t len, uint32_t *out)
{
	uint32_t ip = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		unsigned v = 0, digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || v > 255)
			return false;
		ip = ip << 8 | v;
	}
	if (i != len)
		return false;
	*out = ip;
	return true;
}

static int get_ip4(const char *key, const char *v, uint32_t *out, struct espat_world_err *err)
{
	if (!parse_ip4(v, strlen(v), out))
		return espat_world_errf(err, "%s must be an IPv4 address a.b.c.d (got '%.40s')",
		                        key, v);
	return 0;
}

static uint32_t prefix_mask(unsigned len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static unsigned mask_prefix(uint32_t mask)
{
	unsigned n = 0;
	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	return n;
}

/* ---- the keys ---------------------------------------------------------- */

typedef int set_fn(struct espat_world_ap *ap, const char *key, const char *v,
                   struct espat_world_err *err);

static int set_ssid(struct espat_world_ap *ap, const char *key, const char *v,
                    struct espat_world_err *err)
{
	uint8_t tmp[ESPAT_SSID_MAX];
	size_t n;
	if (get_string(key, v, tmp, sizeof(tmp), &n, err) < 0)
		return -1;
	memcpy(ap->bss.ssid, tmp, n);
	memset(ap->bss.ssid + n, 0, sizeof(ap->bss.ssid) - n);
	ap->bss.ssid_len = n;
	return 0;
}

static int set_bssid(struct espat_world_ap *ap, const char *key, const char *v,
                     struct espat_world_err *err)
{
	uint8_t b[6] = {0};
	static const uint8_t zero[6];
	if (!espat_mac_parse(v, strlen(v), b) || (b[0] & 1) || memcmp(b, zero, 6) == 0)
		return espat_world_errf(
		    err, "%s must be a unicast MAC aa:bb:cc:dd:ee:ff (got '%.40s')", key, v);
	memcpy(ap->bss.bssid, b, 6);
	return 0;
}

static int set_security_key(struct espat_world_ap *ap, const char *key, const char *v,
                            struct espat_world_err *err)
{
	for (size_t i = 0; i < NSECURITY; i++) {
		if (strcmp(v, security[i].name) == 0) {
			set_security(ap, (uint8_t)i);
			return 0;
		}
	}
	int64_t x;
	if (espat_parse_int(v, strlen(v), &x) && x >= 0 && x < (int64_t)NSECURITY) {
		set_security(ap, (uint8_t)x);
		return 0;
	}
	return espat_world_errf(err,
	                        "%s must be open, wep, wpa, wpa2, wpa-wpa2, wpa2-enterprise, wpa3, "
	                        "wpa2-wpa3, wapi, owe or 0..9 (got '%.40s')",
	                        key, v);
}

static int set_password(struct espat_world_ap *ap, const char *key, const char *v,
                        struct espat_world_err *err)
{
	uint8_t tmp[ESPAT_PWD_MAX];
	size_t n;
	if (get_string(key, v, tmp, sizeof(tmp), &n, err) < 0)
		return -1;
	memcpy(ap->pwd, tmp, n);
	memset(ap->pwd + n, 0, sizeof(ap->pwd) - n);
	ap->pwd_len = n;
	return 0;
}

static int set_eap_methods(struct espat_world_ap *ap, const char *key, const char *v,
                           struct espat_world_err *err)
{
	uint8_t bits = 0;
	const char *p = v;
	if (strcmp(v, "none") != 0 && *v != '\0') {
		for (;;) {
			while (*p == ' ')
				p++;
			size_t n = strcspn(p, ", ");
			size_t i = 0;
			while (i < NEAP && !(strlen(eap_method_names[i]) == n &&
			                     memcmp(p, eap_method_names[i], n) == 0))
				i++;
			if (i == NEAP)
				return espat_world_errf(
				    err,
				    "%s must be a comma list of tls, peap, ttls, or none "
				    "(got '%.40s')",
				    key, v);
			bits |= (uint8_t)(1u << i);
			p += n;
			while (*p == ' ')
				p++;
			if (*p == '\0')
				break;
			p++; /* the comma */
		}
	}
	ap->eap_methods = bits;
	return 0;
}

/* "bgn", "bg", "n", "bgnlr", ... or 0..15 (bit0 b, bit1 g, bit2 n, bit3 LR). */
static int set_bgn(struct espat_world_ap *ap, const char *key, const char *v,
                   struct espat_world_err *err)
{
	int64_t x;
	if (espat_parse_int(v, strlen(v), &x)) {
		if (x < 0 || x > 15)
			return espat_world_errf(
			    err, "%s must be 0..15 or letters of b, g, n, lr (got '%.40s')", key,
			    v);
		ap->bss.bgn = (uint8_t)x;
		return 0;
	}
	unsigned bits = 0;
	const char *p = v;
	while (*p) {
		unsigned bit;
		if (*p == 'b')
			bit = 1;
		else if (*p == 'g')
			bit = 2;
		else if (*p == 'n')
			bit = 4;
		else if (p[0] == 'l' && p[1] == 'r')
			bit = 8;
		else
			bit = 0;
		if (bit == 0 || (bits & bit))
			return espat_world_errf(
			    err, "%s must be 0..15 or letters of b, g, n, lr (got '%.40s')", key,
			    v);
		bits |= bit;
		p += bit == 8 ? 2 : 1;
	}
	if (bits == 0)
		return espat_world_errf(err, "%s must be 0..15 or letters of b, g, n, lr (got '')",
		                        key);
	ap->bss.bgn = (uint8_t)bits;
	return 0;
}

static int set_network(struct espat_world_ap *ap, const char *key, const char *v,
                       struct espat_world_err *err)
{
	if (strcmp(v, "host") == 0)
		ap->net.to_host = true;
	else if (strcmp(v, "none") == 0)
		ap->net.to_host = false;
	else
		return espat_world_errf(err, "%s must be host or none (got '%.40s')", key, v);
	return 0;
}

/* a.b.c.d/len, len 8..30: the pool starts at .100 when the subnet holds
 * it (else at .2) and shrinks to fit; gateway and DNS become .1. */
static int set_subnet(struct espat_world_ap *ap, const char *key, const char *v,
                      struct espat_world_err *err)
{
	const char *slash = strchr(v, '/');
	uint32_t addr;
	int64_t len;
	if (!slash || !parse_ip4(v, (size_t)(slash - v), &addr) ||
	    !espat_parse_int(slash + 1, strlen(slash + 1), &len) || len < 8 || len > 30)
		return espat_world_errf(err, "%s must be a.b.c.d/len with len 8..30 (got '%.40s')",
		                        key, v);
	uint32_t mask = prefix_mask((unsigned)len);
	uint32_t base = addr & mask, bcast = base | ~mask;
	uint32_t start = base + 100 < bcast ? base + 100 : base + 2;
	ap->net.mask = mask;
	ap->net.ip = start;
	ap->net.gw = base + 1;
	ap->net.dns[0] = base + 1;
	ap->net.dns[1] = 0;
	if (ap->pool > bcast - start)
		ap->pool = bcast - start;
	return 0;
}

static int set_dns(struct espat_world_ap *ap, const char *key, const char *v,
                   struct espat_world_err *err)
{
	uint32_t d[2] = {0, 0};
	const char *comma = strchr(v, ',');
	size_t n1 = comma ? (size_t)(comma - v) : strlen(v);
	if (!parse_ip4(v, n1, &d[0]) || (comma && !parse_ip4(comma + 1, strlen(comma + 1), &d[1])))
		return espat_world_errf(
		    err, "%s must be one or two IPv4 addresses a.b.c.d[,a.b.c.d] (got '%.40s')",
		    key, v);
	ap->net.dns[0] = d[0];
	ap->net.dns[1] = d[1];
	return 0;
}

/* How a key's value is read: by its own function, or as one of the common
 * kinds straight into the field at off. */
enum kind {
	K_FN,   /* set() */
	K_U8,   /* integer min..max into a uint8_t */
	K_INT,  /* integer min..max into an int */
	K_U32,  /* integer min..max into a uint32_t */
	K_BOOL, /* yes/no/true/false/1/0 into a bool */
	K_IP4,  /* a.b.c.d into a uint32_t */
	K_EAP,  /* a string of at most ESPAT_EAP_STR_MAX bytes, no NUL, into a char[] */
};

#define FIELD(f) offsetof(struct espat_world_ap, f)

/* Every AP key, in the order espat_world_describe() writes them
 * (security before the ciphers it resets, subnet before what it sets). */
static const struct key {
	const char *key;
	enum kind kind;
	set_fn *set; /* K_FN */
	size_t off;  /* the other kinds: the field */
	int64_t min, max;
} ap_keys[] = {
    {"ssid", K_FN, set_ssid, 0, 0, 0},
    {"bssid", K_FN, set_bssid, 0, 0, 0},
    {"channel", K_U8, NULL, FIELD(bss.channel), 1, 14},
    {"rssi", K_INT, NULL, FIELD(bss.rssi), -100, 0},
    {"security", K_FN, set_security_key, 0, 0, 0},
    {"password", K_FN, set_password, 0, 0, 0},
    {"eap_methods", K_FN, set_eap_methods, 0, 0, 0},
    {"eap_identity", K_EAP, NULL, FIELD(eap_identity), 0, 0},
    {"eap_username", K_EAP, NULL, FIELD(eap_username), 0, 0},
    {"eap_password", K_EAP, NULL, FIELD(eap_password), 0, 0},
    {"bgn", K_FN, set_bgn, 0, 0, 0},
    {"wps", K_BOOL, NULL, FIELD(bss.wps), 0, 0},
    {"hidden", K_BOOL, NULL, FIELD(hidden), 0, 0},
    {"up", K_BOOL, NULL, FIELD(up), 0, 0},
    {"pairwise_cipher", K_U8, NULL, FIELD(bss.pairwise_cipher), 0, 7},
    {"group_cipher", K_U8, NULL, FIELD(bss.group_cipher), 0, 7},
    {"network", K_FN, set_network, 0, 0, 0},
    {"subnet", K_FN, set_subnet, 0, 0, 0},
    {"gateway", K_IP4, NULL, FIELD(net.gw), 0, 0},
    {"dns", K_FN, set_dns, 0, 0, 0},
    {"dhcp", K_BOOL, NULL, FIELD(net.dhcp), 0, 0},
    {"lease", K_U32, NULL, FIELD(net.lease_s), 1, 2592000},
    {"pool_start", K_IP4, NULL, FIELD(net.ip), 0, 0},
    {"pool_size", K_U32, NULL, FIELD(pool), 1, 65534},
    {"assoc_ms", K_U32, NULL, FIELD(net.assoc_ms), 0, 600000},
    {"dhcp_ms", K_U32, NULL, FIELD(net.dhcp_ms), 0, 600000},
};

static int set_key(const struct key *k, struct espat_world_ap *ap, const char *v,
                   struct espat_world_err *err)
{
	char *field = (char *)ap + k->off;
	int64_t x;
	switch (k->kind) {
	case K_FN:
		return k->set(ap, k->key, v, err);
	case K_BOOL:
		return get_bool(k->key, v, (bool *)field, err);
	case K_IP4:
		return get_ip4(k->key, v, (uint32_t *)field, err);
	case K_EAP:
		return get_cstring(k->key, v, field, err);
	case K_U8:
	case K_INT:
	case K_U32:
		break;
	}
	if (get_int(k->key, v, k->min, k->max, &x, err) < 0)
		return -1;
	if (k->kind == K_U8)
		*(uint8_t *)field = (uint8_t)x;
	else if (k->kind == K_INT)
		*(int *)field = (int)x;
	else
		*(uint32_t *)field = (uint32_t)x;
	return 0;
}

static bool same_credentials(const struct espat_world_ap *a, const struct espat_world_ap *b)
{
	return a->bss.ecn == b->bss.ecn && a->pwd_len == b->pwd_len &&
	       memcmp(a->pwd, b->pwd, a->pwd_len) == 0 && a->eap_methods == b->eap_methods &&
	       strcmp(a->eap_identity, b->eap_identity) == 0 &&
	       strcmp(a->eap_username, b->eap_username) == 0 &&
	       strcmp(a->eap_password, b->eap_password) == 0;
}

/* An OTA server's base URL: http:// or https://, a host, an optional
 * :port, nothing after (the commands add the paths); one trailing '/' is
 * dropped. */
static int set_ota_url(const char *key, const char *v, char *out, struct espat_world_err *err)
{
	uint8_t tmp[ESPAT_WORLD_URL_MAX];
	size_t n;
	if (get_string(key, v, tmp, sizeof(tmp), &n, err) < 0)
		return -1;
	if (n > 0 && tmp[n - 1] == '/')
		n--;
	size_t scheme = n >= 7 && memcmp(tmp, "http://", 7) == 0    ? 7
	                : n >= 8 && memcmp(tmp, "https://", 8) == 0 ? 8
	                                                            : 0;
	bool ok = scheme > 0 && n > scheme;
	for (size_t i = scheme; i < n && ok; i++) {
		uint8_t c = tmp[i];
		ok = c > 0x20 && c < 0x7f && c != '/' && c != '?' && c != '#' && c != '"' &&
		     c != '\\';
	}
	if (!ok)
		return espat_world_errf(
		    err, "%s must be http://HOST[:PORT] or https://HOST[:PORT] (got '%.60s')", key,
		    v);
	memcpy(out, tmp, n);
	out[n] = '\0';
	return 0;
}

/* The [world] keys. */
static int set_world_key(struct espat_world *w, const char *key, const char *value,
                         struct espat_world_err *err)
{
	if (strcmp(key, "scan_channel_ms") == 0) {
		int64_t x;
		if (get_int(key, value, 1, 1500, &x, err) < 0)
			return -1;
		w->scan_channel_ms = (uint32_t)x;
		return 0;
	}
	if (strcmp(key, "ota_server") == 0)
		return set_ota_url(key, value, w->ota_server[0], err);
	if (strcmp(key, "ota_ssl_server") == 0)
		return set_ota_url(key, value, w->ota_server[1], err);
	if (strncmp(key, "adc", 3) == 0 && key[3] >= '0' && key[3] <= '9' && key[4] == '\0')
		return espat_sim_adc_set(&w->periph, (uint8_t)(key[3] - '0'), value, err);
	return espat_world_errf(err, "unknown key '%.40s'", key);
}

int espat_world_set(struct espat_world *w, struct espat_world_ap *ap, const char *key,
                    const char *value, struct espat_world_err *err)
{
	if (!ap)
		return set_world_key(w, key, value, err);
	for (size_t i = 0; i < sizeof(ap_keys) / sizeof(ap_keys[0]); i++) {
		if (strcmp(key, ap_keys[i].key) != 0)
			continue;
		struct espat_world_ap before = *ap;
		if (set_key(&ap_keys[i], ap, value, err) < 0)
			return -1;
		if (!same_credentials(&before, ap))
			ap->key_epoch++;
		return 0;
	}
	return espat_world_errf(err, "unknown key '%.40s'", key);
}

/* ---- the consistency check --------------------------------------------- */

static bool psk_ok(const uint8_t *p, size_t n)
{
	return (n >= 8 && n <= 63 && is_printable(p, n)) || (n == 64 && is_hex(p, n));
}

static bool wep_ok(const uint8_t *p, size_t n)
{
	return ((n == 5 || n == 13) && is_printable(p, n)) ||
	       ((n == 10 || n == 26) && is_hex(p, n));
}

int espat_world_check(const struct espat_world_ap *ap, struct espat_world_err *err)
{
	uint8_t ecn = ap->bss.ecn;
	if (ecn >= NSECURITY)
		return espat_world_errf(err, "security must be 0..%zu", NSECURITY - 1);
	const char *sec = security[ecn].name;
	switch (ecn) {
	case ESPAT_ECN_OPEN:
	case ESPAT_ECN_OWE:
		if (ap->pwd_len)
			return espat_world_errf(err, "security %s takes no password", sec);
		break;
	case ESPAT_ECN_WEP:
		if (!wep_ok(ap->pwd, ap->pwd_len))
			return espat_world_errf(
			    err, "security wep needs a password of 5 or 13 printable ASCII "
			         "characters or 10 or 26 hex digits");
		break;
	case ESPAT_ECN_WPA2_ENTERPRISE:
		if (ap->pwd_len)
			return espat_world_errf(
			    err, "security wpa2-enterprise takes eap_password, not password");
		if (!ap->eap_methods)
			return espat_world_errf(err, "security wpa2-enterprise needs eap_methods");
		break;
	default:
		if (!psk_ok(ap->pwd, ap->pwd_len))
			return espat_world_errf(
			    err,
			    "security %s needs a password of 8..63 printable ASCII "
			    "characters or 64 hex digits",
			    sec);
		break;
	}
	const struct espat_ipnet *n = &ap->net;
	uint32_t base = n->ip & n->mask, bcast = base | ~n->mask;
	if (n->ip == base || n->ip >= bcast || ap->pool > bcast - n->ip)
		return espat_world_errf(
		    err, "the DHCP pool (pool_start, pool_size) must lie inside the subnet");
	if ((n->gw & n->mask) != base || n->gw == base || n->gw == bcast)
		return espat_world_errf(err, "the gateway must lie inside the subnet");
	if (n->gw >= n->ip && n->gw - n->ip < ap->pool)
		return espat_world_errf(err, "the gateway must not lie inside the DHCP pool");
	return 0;
}

/* ---- describe ---------------------------------------------------------- */

struct out {
	char *buf;
	size_t cap;
	size_t n; /* what the whole text needs */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->n < o->cap ? o->cap - o->n : 0;
	int k = vsnprintf(room ? o->buf + o->n : NULL, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k;
}

/* key = "value", escaping what a world file cannot hold as is (';' too:
 * inih takes " ;" for the start of a comment). */
static void put_string(struct out *o, const char *key, const uint8_t *p, size_t len)
{
	put(o, "%s = \"", key);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c == '\n')
			put(o, "\\n");
		else if (c == '\r')
			put(o, "\\r");
		else if (c == '\t')
			put(o, "\\t");
		else if (c < 0x20 || c > 0x7e || c == ';')
			put(o, "\\x%02x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"\n");
}

static void put_ip(struct out *o, uint32_t ip)
{
	put(o, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 0xff),
	    (unsigned)(ip >> 8 & 0xff), (unsigned)(ip & 0xff));
}

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

size_t espat_world_describe(const struct espat_world_ap *ap, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0};
	if (cap)
		buf[0] = '\0';
	const struct espat_bss *b = &ap->bss;
	const struct espat_ipnet *n = &ap->net;
	put(&o, "[ap %s]\n", ap->label);
	put_string(&o, "ssid", b->ssid, b->ssid_len);
	put(&o, "bssid = %02x:%02x:%02x:%02x:%02x:%02x\n", b->bssid[0], b->bssid[1], b->bssid[2],
	    b->bssid[3], b->bssid[4], b->bssid[5]);
	put(&o, "channel = %u\nrssi = %d\n", b->channel, b->rssi);
	if (b->ecn < NSECURITY)
		put(&o, "security = %s\n", security[b->ecn].name);
	if (ap->pwd_len)
		put_string(&o, "password", ap->pwd, ap->pwd_len);
	if (ap->eap_methods) {
		put(&o, "eap_methods = ");
		const char *sep = "";
		for (size_t i = 0; i < NEAP; i++) {
			if (ap->eap_methods & (1u << i)) {
				put(&o, "%s%s", sep, eap_method_names[i]);
				sep = ",";
			}
		}
		put(&o, "\n");
	}
	if (ap->eap_identity[0])
		put_string(&o, "eap_identity", (const uint8_t *)ap->eap_identity,
		           strlen(ap->eap_identity));
	if (ap->eap_username[0])
		put_string(&o, "eap_username", (const uint8_t *)ap->eap_username,
		           strlen(ap->eap_username));
	if (ap->eap_password[0])
		put_string(&o, "eap_password", (const uint8_t *)ap->eap_password,
		           strlen(ap->eap_password));
	if (b->bgn & 0xf)
		put(&o, "bgn = %s%s%s%s\n", b->bgn & 1 ? "b" : "", b->bgn & 2 ? "g" : "",
		    b->bgn & 4 ? "n" : "", b->bgn & 8 ? "lr" : "");
	else
		put(&o, "bgn = 0\n");
	put(&o, "wps = %s\nhidden = %s\nup = %s\n", yesno(b->wps), yesno(ap->hidden),
	    yesno(ap->up));
	put(&o, "pairwise_cipher = %u\ngroup_cipher = %u\n", b->pairwise_cipher, b->group_cipher);
	put(&o, "network = %s\nsubnet = ", n->to_host ? "host" : "none");
	put_ip(&o, n->ip & n->mask);
	put(&o, "/%u\ngateway = ", mask_prefix(n->mask));
	put_ip(&o, n->gw);
	put(&o, "\ndns = ");
	put_ip(&o, n->dns[0]);
	if (n->dns[1]) {
		put(&o, ",");
		put_ip(&o, n->dns[1]);
	}
	put(&o, "\ndhcp = %s\nlease = %u\npool_start = ", yesno(n->dhcp), (unsigned)n->lease_s);
	put_ip(&o, n->ip);
	put(&o, "\npool_size = %u\nassoc_ms = %u\ndhcp_ms = %u\n", (unsigned)ap->pool,
	    (unsigned)n->assoc_ms, (unsigned)n->dhcp_ms);
	return o.n;
}

/* ---- the radio port ---------------------------------------------------- */

static const struct espat_world_ap *up_ap(const struct espat_world *w, uint32_t id)
{
	for (size_t i = 0; i < w->nap; i++)
		if (w->ap[i].bss.id == id && w->ap[i].up)
			return &w->ap[i];
	return NULL;
}

static size_t radio_scan(void *user, struct espat_bss *out, size_t max)
{
	const struct espat_world *w = user;
	size_t total = 0;
	for (unsigned ch = 0; ch <= 255; ch++) {
		for (size_t i = 0; i < w->nap; i++) {
			const struct espat_world_ap *ap = &w->ap[i];
			if (!ap->up || ap->bss.channel != ch)
				continue;
			if (total < max) {
				out[total] = ap->bss;
				if (ap->hidden) {
					memset(out[total].ssid, 0, sizeof(out[total].ssid));
					out[total].ssid_len = 0;
				}
			}
			total++;
		}
	}
	return total;
}

static bool radio_find(void *user, uint32_t id, struct espat_bss *out)
{
	const struct espat_world_ap *ap = up_ap(user, id);
	if (!ap)
		return false;
	*out = ap->bss;
	return true;
}

static enum espat_auth radio_auth(void *user, uint32_t id, const uint8_t mac[6], const uint8_t *pwd,
                                  size_t pwd_len, const struct espat_eap_cred *eap,
                                  struct espat_ipnet *net)
{
	const struct espat_world_ap *ap = up_ap(user, id);
	if (!ap)
		return ESPAT_AUTH_GONE;
	/* the network (and how long the handshake takes) whatever the outcome */
	*net = ap->net;
	switch (ap->bss.ecn) {
	case ESPAT_ECN_WPA2_ENTERPRISE:
		if (!eap)
			return ESPAT_AUTH_WRONG_KEY;
		if (eap->method >= NEAP || !(ap->eap_methods & (1u << eap->method)))
			return ESPAT_AUTH_REJECTED;
		if (ap->eap_identity[0] && strcmp(ap->eap_identity, eap->identity) != 0)
			return ESPAT_AUTH_REJECTED;
		if (eap->method != 0 && (strcmp(ap->eap_username, eap->username) != 0 ||
		                         strcmp(ap->eap_password, eap->password) != 0))
			return ESPAT_AUTH_REJECTED;
		break;
	case ESPAT_ECN_OPEN:
	case ESPAT_ECN_OWE:
		if (eap)
			return ESPAT_AUTH_REJECTED;
		break;
	default:
		if (eap)
			return ESPAT_AUTH_REJECTED;
		if (pwd_len != ap->pwd_len || (pwd_len && memcmp(pwd, ap->pwd, pwd_len) != 0))
			return ESPAT_AUTH_WRONG_KEY;
		break;
	}
	if (ap->pool > 1)
		net->ip += fnv1a(mac, 6) % ap->pool;
	return ESPAT_AUTH_OK;
}

static uint32_t radio_scan_channel_ms(void *user)
{
	const struct espat_world *w = user;
	return w->scan_channel_ms;
}

static const char *radio_ota_server(void *user, bool tls)
{
	const struct espat_world *w = user;
	return w->ota_server[tls ? 1 : 0];
}

static bool radio_smartconfig(void *user, unsigned type_mask, struct espat_prov *out)
{
	const struct espat_world *w = user;
	unsigned t = w->sc.prov.type;
	if (!w->sc.active || t >= 32 || !(type_mask & (1u << t)))
		return false;
	*out = w->sc.prov;
	return true;
}

static size_t radio_wps(void *user, uint64_t now_ms, struct espat_prov *out)
{
	const struct espat_world *w = user;
	size_t count = 0;
	for (size_t i = 0; i < w->nap; i++) {
		const struct espat_world_ap *ap = &w->ap[i];
		if (!ap->up || ap->wps_pressed_ms == 0 || now_ms < ap->wps_pressed_ms ||
		    now_ms - ap->wps_pressed_ms >= ESPAT_WPS_WINDOW_MS)
			continue;
		if (count++ == 0) {
			memset(out, 0, sizeof(*out));
			out->ap_id = ap->bss.id;
			memcpy(out->ssid, ap->bss.ssid, ap->bss.ssid_len);
			out->ssid_len = ap->bss.ssid_len;
			memcpy(out->pwd, ap->pwd, ap->pwd_len);
			out->pwd_len = ap->pwd_len;
			memcpy(out->bssid, ap->bss.bssid, 6);
			out->has_bssid = true;
		}
	}
	return count;
}

struct espat_radio espat_world_radio(struct espat_world *w)
{
	return (struct espat_radio){
	    .user = w,
	    .scan = radio_scan,
	    .find = radio_find,
	    .auth = radio_auth,
	    .scan_channel_ms = radio_scan_channel_ms,
	    .smartconfig = radio_smartconfig,
	    .wps = radio_wps,
	    .ota_server = radio_ota_server,
	};
}
