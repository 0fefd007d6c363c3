/* libFuzzer target: line assembly and the argument tokenizer on arbitrary
 * bytes. The first byte picks the chunk size (so splits vary); every line
 * the assembler returns is tokenized. Checks the contracts: consumption,
 * bounds, that a line ends where it says, and that quoting round-trips;
 * the integer and MAC parsers on the raw bytes too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/args.h"
#include "core/line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_args(const uint8_t *p, size_t n)
{
	struct espat_args a;
	size_t bad = 0;
	enum espat_tok_status st = espat_args_parse(&a, (const char *)p, n, &bad);
	if (st != ESPAT_TOK_OK) {
		CHECK(bad <= ESPAT_ARGS_MAX);
		return;
	}
	CHECK(a.n >= 1 && a.n <= ESPAT_ARGS_MAX);
	for (size_t i = 0; i < a.n; i++) {
		const struct espat_arg *v = &a.v[i];
		if (v->kind != ESPAT_ARG_STR)
			continue;
		/* a slice of the store, NUL-ended, never longer than the text */
		CHECK(v->s >= a.store && v->s + v->len < a.store + sizeof(a.store));
		CHECK(v->s[v->len] == '\0');
		CHECK(v->len <= n);
		/* quoting the value and parsing it again gives the same bytes */
		char q[2 * ESPAT_LINE_MAX + 3];
		size_t qn = espat_args_quote(q, sizeof(q), v->s, v->len);
		CHECK(qn >= 2);
		struct espat_args b;
		CHECK(espat_args_parse(&b, q, qn, &bad) == ESPAT_TOK_OK || qn > ESPAT_LINE_MAX);
		if (qn <= ESPAT_LINE_MAX) {
			CHECK(b.n == 1 && b.v[0].kind == ESPAT_ARG_STR && b.v[0].len == v->len);
			CHECK(memcmp(b.v[0].s, v->s, v->len) == 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = 1 + data[0] % 64;
	data++;
	size--;

	/* the tokenizer and the integer parser on the raw input too */
	if (size <= ESPAT_LINE_MAX)
		check_args(data, size);
	int64_t v;
	(void)espat_parse_int((const char *)data, size < 40 ? size : 40, &v);
	/* a MAC that parses prints back to the same address */
	uint8_t mac[6], mac2[6];
	if (espat_mac_parse((const char *)data, size < 17 ? size : 17, mac)) {
		char text[18];
		static const char hex[] = "0123456789abcdef";
		for (size_t i = 0; i < 6; i++) {
			text[i * 3] = hex[mac[i] >> 4];
			text[i * 3 + 1] = hex[mac[i] & 15];
			text[i * 3 + 2] = ':';
		}
		CHECK(espat_mac_parse(text, 17, mac2) && memcmp(mac, mac2, 6) == 0);
	}

	struct espat_line l;
	espat_line_reset(&l);
	size_t pos = 0;
	while (pos < size) {
		size_t k = size - pos < chunk ? size - pos : chunk;
		const uint8_t *p = data + pos;
		while (k > 0) {
			size_t used = 0;
			enum espat_line_status st = espat_line_feed(&l, p, k, &used);
			CHECK(used >= 1 && used <= k);
			CHECK(l.len <= ESPAT_LINE_MAX);
			switch (st) {
			case ESPAT_LINE_NEED_MORE:
				CHECK(used == k && memchr(p, '\n', k) == NULL);
				break;
			case ESPAT_LINE_DONE:
				CHECK(l.len >= 2 && l.buf[l.len - 1] == '\n' &&
				      l.buf[l.len - 2] == '\r');
				CHECK(memchr(l.buf, '\n', l.len - 1) == NULL);
				check_args(l.buf, l.len - 2);
				break;
			case ESPAT_LINE_NO_TERM:
				CHECK(l.len >= 1 && l.buf[l.len - 1] == '\n');
				CHECK(l.len == 1 || l.buf[l.len - 2] != '\r');
				break;
			case ESPAT_LINE_OVERFLOW:
				CHECK(p[used - 1] == '\n');
				break;
			}
			p += used;
			k -= used;
			pos += used;
		}
	}
	return 0;
}
