/* The argument tokenizer (src/core/args.c): integers, quoted strings with
 * escapes, omitted parameters and limits (guide 3.13 and 6.18). */
#include "support.h"

#include <inttypes.h>

#include "core/args.h"

static enum espat_tok_status parse(struct espat_args *a, const char *s, size_t *bad)
{
	*bad = 999;
	return espat_args_parse(a, s, strlen(s), bad);
}

static bool int_ok(const char *s, int64_t *v)
{
	return espat_parse_int(s, strlen(s), v);
}

static void ints_decimal_and_hex(void **state)
{
	static const struct {
		const char *s;
		int64_t v;
	} good[] = {
	    {"0", 0},
	    {"7", 7},
	    {"115200", 115200},
	    {"-5", -5},
	    {"+7", 7},
	    {"00012", 12},
	    {"0x1F", 31},
	    {"0X1f", 31},
	    {"0x0", 0},
	    {"-0x10", -16},
	    {"+0xff", 255},
	    {"0x1C000", 0x1C000},
	    {"9223372036854775807", INT64_MAX},
	    {"-9223372036854775808", INT64_MIN},
	    {"0x7fffffffffffffff", INT64_MAX},
	    {"-0x8000000000000000", INT64_MIN},
	    {"4294967295", 4294967295LL},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int64_t v = 42;
		if (!int_ok(good[i].s, &v))
			fail_msg("\"%s\" should parse", good[i].s);
		if (v != good[i].v)
			fail_msg("\"%s\" gave %" PRId64, good[i].s, v);
	}
}

static void ints_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "-",
	    "+",
	    "0x",
	    "-0x",
	    "0xg",
	    "0x1g",
	    "12a",
	    "a12",
	    " 1",
	    "1 ",
	    "1.5",
	    "--1",
	    "+-1",
	    "0x-1",
	    "1e3",
	    "9223372036854775808",  /* INT64_MAX + 1 */
	    "-9223372036854775809", /* INT64_MIN - 1 */
	    "0x8000000000000000",
	    "-0x8000000000000001",
	    "99999999999999999999999",
	    "0x10000000000000000",
	    "\"1\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = 0;
		if (int_ok(bad[i], &v))
			fail_msg("\"%s\" should not parse (got %" PRId64 ")", bad[i], v);
	}
}

static void int_args(void **state)
{
	struct espat_args a;
	size_t bad;
	assert_int_equal(parse(&a, "115200,8,1,0,3", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 5);
	assert_int_equal(a.v[0].kind, ESPAT_ARG_INT);
	assert_int_equal(a.v[0].i, 115200);
	assert_int_equal(a.v[4].i, 3);
	assert_int_equal(parse(&a, "0,0x1C000,-1", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.v[1].i, 0x1C000);
	assert_int_equal(a.v[2].i, -1);

	assert_int_equal(parse(&a, "1,99999999999999999999", &bad), ESPAT_TOK_BAD_NUMBER);
	assert_int_equal(bad, 1);
	assert_int_equal(parse(&a, "abc", &bad), ESPAT_TOK_BAD_NUMBER);
	assert_int_equal(bad, 0);
	assert_int_equal(parse(&a, "1, 2", &bad), ESPAT_TOK_BAD_NUMBER);
	assert_int_equal(bad, 1);
	assert_int_equal(parse(&a, "1,2,ab\"c\"", &bad), ESPAT_TOK_BAD_NUMBER);
	assert_int_equal(bad, 2);
}

static void expect_str(const struct espat_arg *v, const char *want, size_t wlen)
{
	assert_int_equal(v->kind, ESPAT_ARG_STR);
	assert_int_equal(v->len, wlen);
	assert_memory_equal(v->s, want, wlen);
	assert_int_equal(v->s[wlen], '\0');
}

static void strings_and_escapes(void **state)
{
	struct espat_args a;
	size_t bad;
	assert_int_equal(parse(&a, "\"abc\"", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 1);
	expect_str(&a.v[0], "abc", 3);
	/* "" is an empty string, not an omitted parameter (guide 6.18) */
	assert_int_equal(parse(&a, "\"\"", &bad), ESPAT_TOK_OK);
	expect_str(&a.v[0], "", 0);
	/* \\ \, \" and \<any> */
	assert_int_equal(parse(&a, "\"a\\\\b\",\"a\\,b\",\"a\\\"b\",\"\\q\\9\"", &bad),
	                 ESPAT_TOK_OK);
	assert_int_equal(a.n, 4);
	expect_str(&a.v[0], "a\\b", 3);
	expect_str(&a.v[1], "a,b", 3);
	expect_str(&a.v[2], "a\"b", 3);
	expect_str(&a.v[3], "q9", 2);
	/* the guide's examples (3.13 and AT+CWJAP) */
	assert_int_equal(parse(&a, "\"comma\\,backslash\\\\ssid\",\"1234567890\"", &bad),
	                 ESPAT_TOK_OK);
	expect_str(&a.v[0], "comma,backslash\\ssid", 20);
	/* SSID ab\,c, password 0123456789"\ (guide 3.2.3) */
	assert_int_equal(parse(&a, "\"ab\\\\,c\",\"0123456789\\\"\\\\\"", &bad), ESPAT_TOK_OK);
	expect_str(&a.v[0], "ab\\,c", 5);
	expect_str(&a.v[1], "0123456789\"\\", 12);
	/* an unescaped comma inside quotes is part of the string */
	assert_int_equal(parse(&a, "\"a,b\",1", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 2);
	expect_str(&a.v[0], "a,b", 3);
	/* a quoted number is a string */
	assert_int_equal(parse(&a, "\"1\"", &bad), ESPAT_TOK_OK);
	expect_str(&a.v[0], "1", 1);
	/* NUL bytes survive; len is authoritative */
	assert_int_equal(espat_args_parse(&a, "\"a\0b\"", 5, &bad), ESPAT_TOK_OK);
	expect_str(&a.v[0], "a\0b", 3);
	/* strings are separate slices of the store */
	assert_int_equal(parse(&a, "\"one\",\"two\",3,\"three\"", &bad), ESPAT_TOK_OK);
	expect_str(&a.v[0], "one", 3);
	expect_str(&a.v[1], "two", 3);
	assert_int_equal(a.v[2].i, 3);
	expect_str(&a.v[3], "three", 5);
}

static void strings_bad(void **state)
{
	struct espat_args a;
	size_t bad;
	assert_int_equal(parse(&a, "\"abc", &bad), ESPAT_TOK_BAD_STRING);
	assert_int_equal(bad, 0);
	assert_int_equal(parse(&a, "1,\"abc", &bad), ESPAT_TOK_BAD_STRING);
	assert_int_equal(bad, 1);
	/* the closing quote escaped: unterminated */
	assert_int_equal(parse(&a, "\"abc\\\"", &bad), ESPAT_TOK_BAD_STRING);
	/* a lone backslash before the end */
	assert_int_equal(parse(&a, "\"abc\\", &bad), ESPAT_TOK_BAD_STRING);
	/* junk after the closing quote */
	assert_int_equal(parse(&a, "\"abc\"x", &bad), ESPAT_TOK_BAD_STRING);
	assert_int_equal(bad, 0);
	assert_int_equal(parse(&a, "1,\"abc\" ,2", &bad), ESPAT_TOK_BAD_STRING);
	assert_int_equal(bad, 1);
	assert_int_equal(parse(&a, "\"a\"\"b\"", &bad), ESPAT_TOK_BAD_STRING);
	assert_int_equal(parse(&a, "\"", &bad), ESPAT_TOK_BAD_STRING);
}

static void omitted(void **state)
{
	struct espat_args a;
	size_t bad;
	/* AT+X= : one omitted argument */
	assert_int_equal(parse(&a, "", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.v[0].kind, ESPAT_ARG_OMITTED);
	/* middle */
	assert_int_equal(parse(&a, "1,,3", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.v[0].kind, ESPAT_ARG_INT);
	assert_int_equal(a.v[1].kind, ESPAT_ARG_OMITTED);
	assert_int_equal(a.v[2].i, 3);
	/* the guide's AT+CWJAP="ssid","password",,1 */
	assert_int_equal(parse(&a, "\"ssid\",\"password\",,1", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 4);
	assert_int_equal(a.v[2].kind, ESPAT_ARG_OMITTED);
	/* several in a row, and first */
	assert_int_equal(parse(&a, ",,,\"x\"", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 4);
	assert_int_equal(a.v[0].kind, ESPAT_ARG_OMITTED);
	assert_int_equal(a.v[2].kind, ESPAT_ARG_OMITTED);
	assert_int_equal(a.v[3].kind, ESPAT_ARG_STR);
}

static void trailing_comma(void **state)
{
	struct espat_args a;
	size_t bad;
	/* AT+TEST=<p1>,<p2>, equals AT+TEST=<p1>,<p2> (guide 6.18) */
	assert_int_equal(parse(&a, "1,2,", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(parse(&a, "1,\"s\",", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 2);
	/* only the one left by the trailing comma goes */
	assert_int_equal(parse(&a, "1,,", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.v[1].kind, ESPAT_ARG_OMITTED);
	assert_int_equal(parse(&a, ",", &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.v[0].kind, ESPAT_ARG_OMITTED);
}

static void too_many(void **state)
{
	struct espat_args a;
	size_t bad;
	char s[ESPAT_LINE_MAX];
	size_t n = 0;
	for (int i = 0; i < ESPAT_ARGS_MAX; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%d", i ? "," : "", i);
	assert_int_equal(espat_args_parse(&a, s, n, &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, ESPAT_ARGS_MAX);
	assert_int_equal(a.v[ESPAT_ARGS_MAX - 1].i, ESPAT_ARGS_MAX - 1);
	n += (size_t)snprintf(s + n, sizeof(s) - n, ",1");
	assert_int_equal(espat_args_parse(&a, s, n, &bad), ESPAT_TOK_TOO_MANY);
	assert_int_equal(bad, ESPAT_ARGS_MAX);
	/* omitted ones count too */
	memset(s, ',', ESPAT_ARGS_MAX + 1);
	assert_int_equal(espat_args_parse(&a, s, ESPAT_ARGS_MAX + 1, &bad), ESPAT_TOK_TOO_MANY);
	/* more than a line: refused without reading */
	assert_int_equal(espat_args_parse(&a, "1", ESPAT_LINE_MAX + 1, &bad), ESPAT_TOK_TOO_MANY);
}

/* The trailing comma the guide allows after the last parameter (6.18
 * "AT+TEST=<p1>,<p2>,") also after ESPAT_ARGS_MAX parameters (was a bug:
 * the limit was checked before the trailing comma was recognised). */
static void trailing_comma_at_args_max(void **state)
{
	struct espat_args a;
	size_t bad;
	char s[ESPAT_LINE_MAX];
	size_t n = 0;
	for (int i = 0; i < ESPAT_ARGS_MAX; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%d,", i);
	assert_int_equal(espat_args_parse(&a, s, n, &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, ESPAT_ARGS_MAX);
}

static void longest_line_fits_store(void **state)
{
	/* A whole line of string content: the store must hold it. */
	char s[ESPAT_LINE_MAX];
	struct espat_args a;
	size_t bad;
	s[0] = '"';
	memset(s + 1, 'x', sizeof(s) - 2);
	s[sizeof(s) - 1] = '"';
	assert_int_equal(espat_args_parse(&a, s, sizeof(s), &bad), ESPAT_TOK_OK);
	assert_int_equal(a.v[0].len, sizeof(s) - 2);
	/* the most strings a line can hold: "","",... */
	size_t n = 0;
	for (int i = 0; i < ESPAT_ARGS_MAX; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s\"\"", i ? "," : "");
	assert_int_equal(espat_args_parse(&a, s, n, &bad), ESPAT_TOK_OK);
	assert_int_equal(a.n, ESPAT_ARGS_MAX);
	for (int i = 0; i < ESPAT_ARGS_MAX; i++)
		expect_str(&a.v[i], "", 0);
}

static void quote_roundtrip(void **state)
{
	static const char *const src[] = {
	    "", "plain", "a,b", "a\"b", "a\\b", "\\", "\"", ",", "\\,\"\\\"", "ends with \\",
	};
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		char q[128];
		size_t qn = espat_args_quote(q, sizeof(q), src[i], strlen(src[i]));
		assert_true(qn >= 2);
		assert_int_equal(q[qn], '\0');
		struct espat_args a;
		size_t bad;
		assert_int_equal(espat_args_parse(&a, q, qn, &bad), ESPAT_TOK_OK);
		assert_int_equal(a.n, 1);
		expect_str(&a.v[0], src[i], strlen(src[i]));
	}
	char q[16];
	assert_int_equal(espat_args_quote(q, sizeof(q), "a,b", 3), 6);
	assert_string_equal(q, "\"a\\,b\"");
	/* exact fit: quotes, text and the NUL */
	assert_int_equal(espat_args_quote(q, 6, "abc", 3), 5);
	assert_int_equal(espat_args_quote(q, 5, "abc", 3), 0);
	assert_int_equal(espat_args_quote(q, 2, "", 0), 0);
	assert_int_equal(espat_args_quote(q, 3, "", 0), 2);
}

/* Random strings: quote then parse gives the bytes back. */
static void quote_roundtrip_random(void **state)
{
	uint32_t seed = 12345;
	for (int round = 0; round < 2000; round++) {
		char src[80], q[200];
		size_t n = t_rand(&seed) % sizeof(src);
		for (size_t i = 0; i < n; i++) {
			static const char pool[] = "ab,\\\"\r\n\x01 9";
			src[i] = pool[t_rand(&seed) % (sizeof(pool) - 1)];
		}
		size_t qn = espat_args_quote(q, sizeof(q), src, n);
		assert_true(qn > 0);
		struct espat_args a;
		size_t bad;
		assert_int_equal(espat_args_parse(&a, q, qn, &bad), ESPAT_TOK_OK);
		expect_str(&a.v[0], src, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ints_decimal_and_hex),
	    cmocka_unit_test(ints_bad),
	    cmocka_unit_test(int_args),
	    cmocka_unit_test(strings_and_escapes),
	    cmocka_unit_test(strings_bad),
	    cmocka_unit_test(omitted),
	    cmocka_unit_test(trailing_comma),
	    cmocka_unit_test(too_many),
	    cmocka_unit_test(trailing_comma_at_args_max),
	    cmocka_unit_test(longest_line_fits_store),
	    cmocka_unit_test(quote_roundtrip),
	    cmocka_unit_test(quote_roundtrip_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
