/* In-process transcript runner: plays tests/transcripts/NAME.t files (format
 * in tests/transcripts/README.md) against a module on the test port, with
 * input whole, in 1-byte pieces and in seeded random pieces.
 *
 *   transcript_run [--seed N] [--split whole|bytes|random] [-v] FILE...
 *
 * "@ ctl-args" lines run the control interpreter (app/ctl.h) against the
 * module and the test port's world, as `espat ctl` does over the socket.
 *
 * Prints one line per file and split mode, a summary, and exits non-zero
 * when any run fails. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ctl.h"
#include "cmd/addr.h"
#include "cmd/basic.h"
#include "cmd/module.h"
#include "cmd/ota.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/wifi.h"
#include "core/args.h"
#include "testport/testport.h"
#include "world/world.h"

#define MAX_BYTES (64 * 1024) /* one payload or expectation after unescaping */
#define CTL_ARGS_MAX 64       /* tokens of one @ line */

enum split { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };
static const char *const split_names[] = {"whole", "bytes", "random"};

/* One piece of an expectation: a literal byte or a placeholder class. */
enum tok_kind { T_LIT, T_INT, T_HEX, T_FLOAT, T_STR, T_LINES };

struct tok {
	enum tok_kind kind;
	uint8_t c; /* T_LIT */
};

struct expect {
	struct tok *v;
	size_t n, cap;
	int first_line; /* file line of its first < line, for messages */
};

struct run {
	const char *file;
	enum split split;
	uint32_t rng;
	bool verbose;
	struct espat_testport tp;
	struct espat_module m;
	struct espat_module_opts opts; /* "! chip esp8266" sets opts.chip */
	struct espat_ctl ctl;
	struct expect ex;
	char err[9000]; /* first failure */
};

/* ---- small helpers ------------------------------------------------------ */

static uint32_t next_rand(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9E3779B9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* C-escapes p[0..n) into dst (for messages); long text is cut. */
static const char *esc(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		uint8_t c = p[i];
		if (c == '\r')
			o += (size_t)snprintf(dst + o, cap - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(dst + o, cap - o, "\\n");
		else if (c == '\\')
			o += (size_t)snprintf(dst + o, cap - o, "\\\\");
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = 0;
	return dst;
}

/* Decodes one escape at s[*i] == '\\'; returns the byte or -1. */
static int unescape_one(const char *s, size_t *i)
{
	char c = s[*i + 1];
	*i += 2;
	switch (c) {
	case 'r':
		return '\r';
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case '0':
		return 0;
	case '\\':
		return '\\';
	case '"':
		return '"';
	case 'x': {
		int h = espat_hexval((unsigned char)s[*i]),
		    l = h < 0 ? -1 : espat_hexval((unsigned char)s[*i + 1]);
		if (h < 0 || l < 0)
			return -1;
		*i += 2;
		return h * 16 + l;
	}
	default:
		return -1;
	}
}

/* Unescapes a payload into out; returns its length or -1. */
static long unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; s[i];) {
		int c;
		if (s[i] == '\\') {
			c = unescape_one(s, &i);
			if (c < 0)
				return -1;
		} else {
			c = (unsigned char)s[i++];
		}
		if (o == cap)
			return -1;
		out[o++] = (uint8_t)c;
	}
	return (long)o;
}

static void ex_push(struct expect *e, enum tok_kind k, uint8_t c)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 256;
		e->v = realloc(e->v, e->cap * sizeof(e->v[0]));
		if (!e->v)
			abort();
	}
	e->v[e->n].kind = k;
	e->v[e->n].c = c;
	e->n++;
}

/* Appends a < (pattern == false) or <~ payload to the expectation. */
static bool ex_add(struct expect *e, const char *s, bool pattern)
{
	static const struct {
		const char *name;
		enum tok_kind kind;
	} names[] = {{"{INT}", T_INT},
	             {"{HEX}", T_HEX},
	             {"{FLOAT}", T_FLOAT},
	             {"{STR}", T_STR},
	             {"{LINES}", T_LINES}};
	for (size_t i = 0; s[i];) {
		if (s[i] == '\\') {
			int c = unescape_one(s, &i);
			if (c < 0)
				return false;
			ex_push(e, T_LIT, (uint8_t)c);
			continue;
		}
		if (pattern && s[i] == '{') {
			if (s[i + 1] == '{') {
				ex_push(e, T_LIT, '{');
				i += 2;
				continue;
			}
			size_t k = 0;
			while (k < sizeof(names) / sizeof(names[0]) &&
			       strncmp(s + i, names[k].name, strlen(names[k].name)) != 0)
				k++;
			if (k == sizeof(names) / sizeof(names[0]))
				return false;
			ex_push(e, names[k].kind, 0);
			i += strlen(names[k].name);
			continue;
		}
		ex_push(e, T_LIT, (uint8_t)s[i++]);
	}
	return true;
}

/* ---- matching ------------------------------------------------------------- */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Does out[pos..) match tokens v[i..) entirely? Backtracking: classes try
 * their longest match first, {LINES} its shortest. */
static bool match(const struct tok *v, size_t n, size_t i, const uint8_t *out, size_t len,
                  size_t pos)
{
	while (i < n && v[i].kind == T_LIT) {
		if (pos >= len || out[pos] != v[i].c)
			return false;
		pos++;
		i++;
	}
	if (i == n)
		return pos == len;
	size_t p = pos;
	switch (v[i].kind) {
	case T_INT:
	case T_FLOAT:
		if (p < len && out[p] == '-')
			p++;
		{
			size_t d0 = p;
			while (p < len && is_digit(out[p]))
				p++;
			if (p == d0)
				return false;
			if (v[i].kind == T_FLOAT) {
				if (p >= len || out[p] != '.')
					return false;
				size_t f0 = ++p;
				while (p < len && is_digit(out[p]))
					p++;
				if (p == f0)
					return false;
				return match(v, n, i + 1, out, len, p);
			}
			for (size_t e = p; e > d0; e--)
				if (match(v, n, i + 1, out, len, e))
					return true;
			return false;
		}
	case T_HEX:
		while (p < len && espat_hexval(out[p]) >= 0)
			p++;
		for (size_t e = p; e > pos; e--)
			if (match(v, n, i + 1, out, len, e))
				return true;
		return false;
	case T_STR:
		while (p < len && out[p] != '\r' && out[p] != '\n')
			p++;
		for (size_t e = p + 1; e-- > pos;)
			if (match(v, n, i + 1, out, len, e))
				return true;
		return false;
	case T_LINES:
		for (;;) {
			if (match(v, n, i + 1, out, len, p))
				return true;
			while (p < len && out[p] != '\r' && out[p] != '\n')
				p++;
			if (p + 1 < len && out[p] == '\r' && out[p + 1] == '\n')
				p += 2;
			else
				return false;
		}
	case T_LIT:
		break;
	}
	return false;
}

static void pattern_text(const struct expect *e, char *dst, size_t cap)
{
	static const char *const cls[] = {"", "{INT}", "{HEX}", "{FLOAT}", "{STR}", "{LINES}"};
	size_t o = 0;
	for (size_t i = 0; i < e->n && o + 10 < cap; i++) {
		if (e->v[i].kind != T_LIT) {
			o += (size_t)snprintf(dst + o, cap - o, "%s", cls[e->v[i].kind]);
		} else {
			char b[16];
			esc(b, sizeof(b), &e->v[i].c, 1);
			o += (size_t)snprintf(dst + o, cap - o, "%s", b);
		}
	}
	dst[o] = 0;
}

/* Checks the output since the last checkpoint against the expectation and
 * resets both. */
static bool checkpoint(struct run *r, int line)
{
	bool ok = match(r->ex.v, r->ex.n, 0, r->tp.out ? r->tp.out : (const uint8_t *)"",
	                r->tp.out_len, 0);
	if (!ok) {
		char want[4000], got[4000];
		pattern_text(&r->ex, want, sizeof(want));
		esc(got, sizeof(got), r->tp.out, r->tp.out_len);
		snprintf(r->err, sizeof(r->err),
		         "%s:%d: output mismatch (expectation from line %d)\n    want: \"%s\"\n    "
		         "got:  \"%s\"",
		         r->file, line, r->ex.first_line, want, got);
	}
	espat_tp_clear(&r->tp);
	r->ex.n = 0;
	r->ex.first_line = 0;
	return ok;
}

/* ---- actions ---------------------------------------------------------------- */

static void power_on(struct run *r)
{
	espat_module_init(&r->m, &r->tp.ports, &r->opts);
	espat_module_power_on(&r->m);
}

static struct espat_module *ctl_module(void *user)
{
	struct run *r = user;
	return &r->m;
}

/* "@ power-cut": the same power cycle as "= power-cycle", except that the
 * new ready is output for the transcript to expect, as over the pty. */
static void ctl_power_cut(void *user)
{
	struct run *r = user;
	espat_module_free(&r->m);
	power_on(r);
}

/* The chip's boot text ("\r\nready\r\n" on the ESP32-C3). */
static bool consume_ready(struct run *r, int line)
{
	const char *ready = r->m.dialect->boot_text;
	size_t n = strlen(ready);
	if (r->tp.out_len != n || memcmp(r->tp.out, ready, n)) {
		char got[512];
		snprintf(r->err, sizeof(r->err), "%s:%d: no ready at power-on: \"%s\"", r->file,
		         line, esc(got, sizeof(got), r->tp.out, r->tp.out_len));
		return false;
	}
	espat_tp_clear(&r->tp);
	return true;
}

static void feed_line(struct run *r, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k = n;
		if (r->split == SPLIT_BYTES)
			k = 1;
		else if (r->split == SPLIT_RANDOM)
			k = 1 + next_rand(&r->rng) % 17u;
		if (k > n)
			k = n;
		espat_module_input(&r->m, p, k);
		p += k;
		n -= k;
	}
}

static void send_lines(struct run *r, const uint8_t *p, size_t n)
{
	while (n > 0) {
		const uint8_t *lf = memchr(p, '\n', n);
		size_t k = lf ? (size_t)(lf - p) + 1 : n;
		feed_line(r, p, k);
		p += k;
		n -= k;
	}
}

static void advance(struct run *r, uint64_t ms)
{
	espat_tp_advance(&r->tp, &r->m, ms);
}

/* Splits an @ line into argv: tokens separated by blanks; a token in
 * double quotes may hold blanks and the payload escapes (no \0). ASCII
 * only, as the pty runner sends the tokens as JSON text: other bytes are
 * written with ctl's own escapes inside a value. The tokens are written
 * into s itself. Returns the count, or -1. */
static int ctl_split(char *s, char **argv, int max)
{
	int n = 0;
	char *o = s;
	for (size_t i = 0; s[i]; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return -1;
	}
	for (size_t i = 0;;) {
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		if (s[i] == 0)
			return n;
		if (n == max)
			return -1;
		argv[n++] = o;
		if (s[i] == '"') {
			i++;
			for (;;) {
				if (s[i] == 0)
					return -1;
				if (s[i] == '"') {
					i++;
					break;
				}
				int c = (unsigned char)s[i];
				if (c == '\\') {
					c = unescape_one(s, &i);
					if (c <= 0 || c >= 0x80)
						return -1;
				} else {
					i++;
				}
				*o++ = (char)c;
			}
			if (s[i] != 0 && s[i] != ' ' && s[i] != '\t')
				return -1;
		} else {
			while (s[i] != 0 && s[i] != ' ' && s[i] != '\t')
				*o++ = s[i++];
		}
		/* o never passes i: a token shrinks or stays */
		bool end = s[i] == 0;
		*o++ = 0;
		if (end)
			return n;
		i++;
	}
}

/* Runs an @ (want_ok) or @! line; false with r->err when the reply's "ok"
 * is not what the line expects. */
static bool ctl_line(struct run *r, int ln, char *args, bool want_ok)
{
	char *argv[CTL_ARGS_MAX];
	int argc = ctl_split(args, argv, CTL_ARGS_MAX);
	if (argc <= 0) {
		snprintf(r->err, sizeof(r->err),
		         "%s:%d: bad @ line (quotes, escapes or too many "
		         "arguments)",
		         r->file, ln);
		return false;
	}
	char *reply = espat_ctl_run(&r->ctl, (size_t)argc, (const char *const *)argv);
	json_t *o = reply ? json_loads(reply, 0, NULL) : NULL;
	json_t *okv = o ? json_object_get(o, "ok") : NULL;
	bool ok = json_is_boolean(okv) && json_is_true(okv) == want_ok;
	if (!ok)
		snprintf(r->err, sizeof(r->err), "%s:%d: ctl %s: %s", r->file, ln,
		         want_ok ? "failed" : "succeeded, expected a failure",
		         reply ? reply : "(out of memory)");
	json_decref(o);
	free(reply);
	return ok;
}

/* ---- one file, one split mode ------------------------------------------------ */

enum result { R_PASS, R_FAIL, R_SKIP };

static char *rstrip(char *s)
{
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

/* The payload after a marker of mlen bytes: one space, or nothing. */
static const char *payload(const char *line, size_t mlen)
{
	if (line[mlen] == ' ')
		return line + mlen + 1;
	return line + mlen;
}

/* "! chip esp8266" (or esp32c3, the default): the module's chip, as the
 * pty runner's --chip. */
static bool load_chip(struct run *r, FILE *f)
{
	char line[8192];
	int ln = 0;
	bool ok = true;
	memset(&r->opts, 0, sizeof(r->opts));
	rewind(f);
	while (ok && fgets(line, sizeof(line), f)) {
		ln++;
		rstrip(line);
		if (strncmp(line, "! chip ", 7) != 0)
			continue;
		if (strcmp(line + 7, "esp8266") == 0)
			r->opts.chip = ESPAT_CHIP_ESP8266;
		else if (strcmp(line + 7, "esp32c3") == 0)
			r->opts.chip = ESPAT_CHIP_ESP32C3;
		else {
			snprintf(r->err, sizeof(r->err), "%s:%d: unknown chip", r->file, ln);
			ok = false;
		}
	}
	rewind(f);
	return ok;
}

/* "! world PATH" (absolute, or relative to the repo root, which is two
 * levels above the transcript's folder): loads the world before the module powers on, as
 * the pty runner's --world does. */
static bool load_world(struct run *r, FILE *f)
{
	char line[8192];
	bool ok = true;
	for (int ln = 1; ok && fgets(line, sizeof(line), f); ln++) {
		rstrip(line);
		if (strncmp(line, "! world ", 8) != 0)
			continue;
		const char *slash = strrchr(r->file, '/');
		char path[4096];
		const char *name = line + 8;
		int n = name[0] == '/' ? snprintf(path, sizeof(path), "%s", name)
		                       : snprintf(path, sizeof(path), "%.*s%s../../%s",
		                                  slash ? (int)(slash - r->file) : 0, r->file,
		                                  slash ? "/" : "", name);
		struct espat_world_err err = {0};
		if (n < 0 || (size_t)n >= sizeof(path)) {
			snprintf(r->err, sizeof(r->err), "%s:%d: world path too long", r->file, ln);
			ok = false;
		} else if (espat_world_load(&r->tp.world, path, &err) < 0) {
			snprintf(r->err, sizeof(r->err), "%s:%d: world %s:%d: %s", r->file, ln,
			         path, err.line, err.msg);
			ok = false;
		}
	}
	rewind(f);
	return ok;
}

static enum result run_file(struct run *r, char *reason, size_t rcap)
{
	FILE *f = fopen(r->file, "r");
	if (!f) {
		snprintf(r->err, sizeof(r->err), "%s: cannot open", r->file);
		return R_FAIL;
	}
	static uint8_t buf[MAX_BYTES];
	char line[8192];
	int ln = 0;
	bool ok = true;
	espat_tp_init(&r->tp);
	r->ctl = (struct espat_ctl){
	    .module = ctl_module,
	    .world = &r->tp.world,
	    .power_cut = ctl_power_cut,
	    .fault = &r->tp.fault,
	    .user = r,
	};
	ok = load_world(r, f) && load_chip(r, f);
	if (!ok) {
		fclose(f);
		espat_tp_free(&r->tp);
		return R_FAIL;
	}
	power_on(r);
	ok = consume_ready(r, 0);
	memset(&r->ex, 0, sizeof(r->ex));
	enum result res = R_PASS;
	while (ok && fgets(line, sizeof(line), f)) {
		ln++;
		rstrip(line);
		if (line[0] == 0 || line[0] == '#')
			continue;
		if (line[0] == '!') {
			const char *opt = payload(line, 1);
			if (strncmp(opt, "pty-only", 8) == 0) {
				snprintf(reason, rcap, "%s", payload(opt, 8));
				res = R_SKIP;
				break;
			}
			if (strncmp(opt, "inproc-only", 11) == 0 || strncmp(opt, "world ", 6) == 0 ||
			    strncmp(opt, "chip ", 5) == 0)
				continue;
			snprintf(r->err, sizeof(r->err), "%s:%d: unknown option", r->file, ln);
			ok = false;
			break;
		}
		if (line[0] == '<') {
			bool pat = line[1] == '~';
			if (!r->ex.first_line)
				r->ex.first_line = ln;
			if (!ex_add(&r->ex, payload(line, pat ? 2 : 1), pat)) {
				snprintf(r->err, sizeof(r->err), "%s:%d: bad escape or placeholder",
				         r->file, ln);
				ok = false;
			}
			continue;
		}
		/* every other line is a checkpoint first */
		if (!checkpoint(r, ln)) {
			ok = false;
			break;
		}
		if (line[0] == '>') {
			bool chunk = line[1] == '>';
			long n = unescape(payload(line, chunk ? 2 : 1), buf, sizeof(buf));
			if (n < 0) {
				snprintf(r->err, sizeof(r->err), "%s:%d: bad escape", r->file, ln);
				ok = false;
			} else if (chunk) {
				espat_module_input(&r->m, buf, (size_t)n);
			} else {
				send_lines(r, buf, (size_t)n);
			}
		} else if (line[0] == '@') {
			bool want_ok = line[1] != '!';
			char *args = line + (payload(line, want_ok ? 1 : 2) - line);
			ok = ctl_line(r, ln, args, want_ok);
		} else if (line[0] == '~') {
			char *end = NULL;
			unsigned long long ms = strtoull(payload(line, 1), &end, 10);
			if (!end || *end) {
				snprintf(r->err, sizeof(r->err), "%s:%d: bad time", r->file, ln);
				ok = false;
			} else {
				advance(r, ms);
			}
		} else if (line[0] == '=') {
			if (strcmp(payload(line, 1), "power-cycle") != 0) {
				snprintf(r->err, sizeof(r->err), "%s:%d: unknown action", r->file,
				         ln);
				ok = false;
			} else {
				espat_module_free(&r->m);
				power_on(r);
				ok = consume_ready(r, ln);
			}
		} else {
			snprintf(r->err, sizeof(r->err), "%s:%d: unknown line", r->file, ln);
			ok = false;
		}
	}
	if (ok && res == R_PASS)
		ok = checkpoint(r, ln + 1);
	fclose(f);
	espat_module_free(&r->m);
	espat_tp_free(&r->tp);
	free(r->ex.v);
	r->ex.v = NULL;
	if (res == R_SKIP)
		return R_SKIP;
	return ok ? R_PASS : R_FAIL;
}

int main(int argc, char **argv)
{
	uint32_t seed = 20240508;
	int only = -1;
	bool verbose = false;
	int nfiles = 0, passed = 0, failed = 0, skipped = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--split") == 0 && i + 1 < argc) {
			const char *s = argv[++i];
			only = !strcmp(s, "whole")    ? SPLIT_WHOLE
			       : !strcmp(s, "bytes")  ? SPLIT_BYTES
			       : !strcmp(s, "random") ? SPLIT_RANDOM
			                              : -2;
			if (only == -2) {
				fprintf(stderr, "transcript_run: bad --split %s\n", s);
				return 2;
			}
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: transcript_run [--seed N] [--split "
			                "whole|bytes|random] [-v] FILE...\n");
			return 2;
		} else {
			nfiles++;
			for (int s = 0; s < 3; s++) {
				if (only >= 0 && s != only)
					continue;
				static struct run r;
				memset(&r, 0, sizeof(r));
				r.file = argv[i];
				r.split = (enum split)s;
				r.rng = seed;
				r.verbose = verbose;
				char reason[256] = "";
				enum result res = run_file(&r, reason, sizeof(reason));
				if (res == R_SKIP) {
					if (verbose || s == 0)
						printf("SKIP %s (%s)\n", argv[i], reason);
					skipped++;
					break;
				}
				if (res == R_PASS) {
					passed++;
					if (verbose)
						printf("PASS %s [%s]\n", argv[i], split_names[s]);
				} else {
					failed++;
					printf("FAIL %s [%s seed=%u]\n  %s\n", argv[i],
					       split_names[s], (unsigned)seed, r.err);
				}
			}
		}
	}
	if (nfiles == 0) {
		fprintf(stderr, "transcript_run: no files\n");
		return 2;
	}
	printf("transcripts (in-process): %d files, %d runs passed, %d failed, %d skipped\n",
	       nfiles, passed, failed, skipped);
	return failed ? 1 : 0;
}
