/* The argument tokenizer: the text after '=' of a set command, split into
 * integers, quoted strings and omitted parameters. Pure; no allocation. */
#ifndef ESPAT_CORE_ARGS_H
#define ESPAT_CORE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/line.h"

#define ESPAT_ARGS_MAX 32 /* AT+MDNS with ten TXT pairs takes 27 */

enum espat_arg_kind {
	ESPAT_ARG_OMITTED, /* nothing between the commas: AT+X=1,,3 */
	ESPAT_ARG_INT,     /* decimal or 0x-hex, optional sign */
	ESPAT_ARG_STR,     /* "quoted", unescaped */
};

/* One argument. A string's bytes are a non-owning slice into the owning
 * espat_args' store, valid while that struct lives and is not reparsed.
 * Strings are NUL-terminated in the store for convenience (but may hold
 * NUL bytes only if the line did; len is authoritative). */
struct espat_arg {
	enum espat_arg_kind kind;
	int64_t i;        /* ESPAT_ARG_INT */
	const char *s;    /* ESPAT_ARG_STR */
	size_t len;       /* ESPAT_ARG_STR: bytes after unescaping */
};

struct espat_args {
	size_t n;                            /* arguments given */
	struct espat_arg v[ESPAT_ARGS_MAX];
	char store[ESPAT_LINE_MAX + ESPAT_ARGS_MAX]; /* unescaped strings, each NUL-ended */
};

enum espat_tok_status {
	ESPAT_TOK_OK,
	ESPAT_TOK_BAD_NUMBER, /* unquoted token that is no number, or overflows int64 */
	ESPAT_TOK_BAD_STRING, /* unterminated quote, or junk after a closing quote */
	ESPAT_TOK_TOO_MANY,   /* more than ESPAT_ARGS_MAX arguments */
};

/* Splits s[0..len) (terminator already removed). On failure *bad is the
 * 0-based index of the offending argument. An empty text is one omitted
 * argument (AT+X= ). Escapes inside quotes: \\ \, \" and \<any> -> <any>. */
enum espat_tok_status espat_args_parse(struct espat_args *a, const char *s, size_t len,
				       size_t *bad);

/* The value of one hex digit (either case), or -1. */
int espat_hexval(int c);
/* Hex text s[0..n) (pairs of digits, either case) into out[0..cap):
 * true with *len bytes; false (out partly written) for an odd n, a
 * non-digit or more than cap bytes. */
bool espat_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len);
/* p[0..n) as lower-case hex into out (2n + 1 bytes, NUL ended); returns 2n. */
size_t espat_hex_encode(char *out, const uint8_t *p, size_t n);
/* Parses exactly "1a:fe:35:98:d3:7b" (hex digits of either case). */
bool espat_mac_parse(const char *s, size_t len, uint8_t mac[6]);

/* Parses a whole token as an integer: [+-]digits or [+-]0x hex digits.
 * Returns false on junk or overflow of int64. */
bool espat_parse_int(const char *s, size_t len, int64_t *out);

/* Writes s[0..len) as a quoted AT string ("a\,b") into dst, escaping
 * '"', '\\' and ','. Returns the length written (NUL-terminated), or 0
 * when cap is too small. */
size_t espat_args_quote(char *dst, size_t cap, const char *s, size_t len);

#endif
