#include "core/args.h"

#include <string.h>

int espat_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t espat_hex_encode(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return 2 * n;
}

bool espat_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	if (n % 2 != 0 || n / 2 > cap)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		int hi = espat_hexval((unsigned char)s[i]),
		    lo = espat_hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

bool espat_mac_parse(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return false;
	for (size_t i = 0; i < 6; i++) {
		int hi = espat_hexval(s[i * 3]), lo = espat_hexval(s[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool espat_parse_int(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < len && (s[i] == '-' || s[i] == '+')) {
		neg = s[i] == '-';
		i++;
	}
	unsigned base = 10;
	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	if (i >= len)
		return false;
	/* Accumulate the magnitude as unsigned; the limit allows INT64_MIN. */
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
	uint64_t v = 0;
	for (; i < len; i++) {
		int d = base == 16 ? espat_hexval(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
		if (d < 0)
			return false;
		if (v > (limit - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

/* Reads one quoted string starting at s[*pos] == '"', unescaping into dst.
 * Leaves *pos after the closing quote. Returns false when unterminated. */
static bool take_string(const char *s, size_t len, size_t *pos, char *dst, size_t *dlen)
{
	size_t i = *pos + 1, o = 0;
	while (i < len) {
		char c = s[i];
		if (c == '"') {
			*pos = i + 1;
			*dlen = o;
			return true;
		}
		if (c == '\\' && i + 1 < len) {
			/* \\ \, \" and \<any> all yield the next byte */
			c = s[i + 1];
			i++;
		}
		dst[o++] = c;
		i++;
	}
	return false;
}

enum espat_tok_status espat_args_parse(struct espat_args *a, const char *s, size_t len,
				       size_t *bad)
{
	size_t pos = 0, store = 0;
	a->n = 0;
	if (len > ESPAT_LINE_MAX) { /* the store holds at most one line */
		*bad = 0;
		return ESPAT_TOK_TOO_MANY;
	}
	for (;;) {
		/* "AT+X=1,2,": a trailing comma ends the list (guide 6.4: an
		 * optional last parameter may be left off with or without it) */
		if (a->n > 0 && pos == len && s[len - 1] == ',')
			break;
		if (a->n == ESPAT_ARGS_MAX) {
			*bad = a->n;
			return ESPAT_TOK_TOO_MANY;
		}
		struct espat_arg *arg = &a->v[a->n];
		memset(arg, 0, sizeof(*arg));
		if (pos < len && s[pos] == '"') {
			size_t dlen = 0;
			char *dst = a->store + store;
			if (!take_string(s, len, &pos, dst, &dlen) || (pos < len && s[pos] != ',')) {
				*bad = a->n;
				return ESPAT_TOK_BAD_STRING;
			}
			dst[dlen] = '\0';
			store += dlen + 1;
			arg->kind = ESPAT_ARG_STR;
			arg->s = dst;
			arg->len = dlen;
		} else {
			const char *comma = memchr(s + pos, ',', len - pos);
			size_t end = comma ? (size_t)(comma - s) : len;
			if (end == pos) {
				arg->kind = ESPAT_ARG_OMITTED;
			} else if (espat_parse_int(s + pos, end - pos, &arg->i)) {
				arg->kind = ESPAT_ARG_INT;
			} else {
				*bad = a->n;
				return ESPAT_TOK_BAD_NUMBER;
			}
			pos = end;
		}
		a->n++;
		if (pos >= len)
			break;
		pos++; /* the comma */
	}
	return ESPAT_TOK_OK;
}

size_t espat_args_quote(char *dst, size_t cap, const char *s, size_t len)
{
	size_t o = 0;
	if (cap < 3)
		return 0;
	dst[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		bool esc = s[i] == '"' || s[i] == '\\' || s[i] == ',';
		if (o + (esc ? 2u : 1u) + 2 > cap)
			return 0;
		if (esc)
			dst[o++] = '\\';
		dst[o++] = s[i];
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return o;
}
