/* World files: INI text read by Debian's libinih (format in
 * docs/internals/world.md). inih splits lines into sections and
 * "key = value" pairs; this file feeds it the text line by line through
 * its own reader, which is where lines are counted (inih's handler is not
 * told the line), section headers are taken (so an empty section still
 * counts, and a repeated one is caught) and the lines inih would
 * misread are refused: longer than its buffer (it would split them
 * silently) and indented (it would join them to the previous value). */
#include "world/world.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORLD_FILE_MAX (1u << 20) /* espat_world_load() reads at most this */
#define BLE_KEYS_MAX 16u          /* keys of one [ble X] section */
#define BLE_KV_MAX 200u           /* "key=value" of one line (inih's line is shorter) */

struct parse {
	struct espat_world *w;
	struct espat_world_err *err;
	const char *p, *end;       /* the text not yet handed to inih */
	int line;                  /* lines handed to inih so far: the one it is reading */
	bool failed;               /* err holds the first error found here */
	bool in_section;           /* a [world] or [ap X] header has been read */
	struct espat_world_ap *ap; /* the [ap X] being read; NULL in [world] */
	struct espat_sim_i2c *i2c; /* the [i2c X] being read */
	bool spi;                  /* in the [spi X] section */
	/* the [ble X] being read: its keys as `espat ctl ble peer add` takes
	 * them, handed over whole when the section ends (ble_end) */
	bool ble;
	char ble_label[ESPAT_BLE_LABEL_MAX + 2];
	int ble_line; /* its header's */
	char ble_kv[BLE_KEYS_MAX][BLE_KV_MAX];
	int ble_kv_line[BLE_KEYS_MAX];
	size_t ble_n;
	int i2c_line[ESPAT_SIM_I2C_MAX];
	bool world_seen;
	int ap_line[ESPAT_WORLD_APS_MAX]; /* header line of each AP, by index */
	bool has_ssid[ESPAT_WORLD_APS_MAX];
};

static int fail_at(struct parse *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail_at(struct parse *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	st->err->line = st->line;
	vsnprintf(st->err->msg, sizeof(st->err->msg), fmt, ap);
	va_end(ap);
	st->failed = true;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The [ble X] section read so far becomes a scripted peer. An error is
 * reported at the line of the key it names, else at the header. */
static int ble_end(struct parse *st)
{
	if (!st->ble)
		return 0;
	st->ble = false;
	const char *argv[BLE_KEYS_MAX];
	for (size_t i = 0; i < st->ble_n; i++)
		argv[i] = st->ble_kv[i];
	char err[160];
	if (espat_ble_peer_add(&st->w->ble, st->ble_label, st->ble_n, argv, err, sizeof(err)) == 0)
		return 0;
	int line = st->line;
	st->line = st->ble_line;
	for (size_t i = 0; i < st->ble_n; i++) {
		size_t kl = (size_t)(strchr(st->ble_kv[i], '=') - st->ble_kv[i]);
		if (strncmp(err, st->ble_kv[i], kl) == 0 && err[kl] == ':')
			st->line = st->ble_kv_line[i];
	}
	fail_at(st, "BLE peer '%s': %s", st->ble_label, err);
	st->line = line;
	return -1;
}

/* A key of a [ble X] section, kept for ble_end. */
static int ble_key(struct parse *st, const char *name, const char *value)
{
	if (st->ble_n == BLE_KEYS_MAX)
		return fail_at(st, "more than %u keys in a [ble ...] section", BLE_KEYS_MAX);
	for (size_t i = 0; i < st->ble_n; i++) {
		size_t kl = (size_t)(strchr(st->ble_kv[i], '=') - st->ble_kv[i]);
		if (strlen(name) == kl && strncmp(st->ble_kv[i], name, kl) == 0)
			return fail_at(st, "duplicate key '%s'", name);
	}
	int n = snprintf(st->ble_kv[st->ble_n], BLE_KV_MAX, "%s=%s", name, value);
	if (n < 0 || (size_t)n >= BLE_KV_MAX)
		return fail_at(st, "key '%.40s': value too long", name);
	st->ble_kv_line[st->ble_n++] = st->line;
	return 0;
}

/* A "[name]" line (s at the '[', n bytes up to the line end). */
static int section(struct parse *st, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	if (!close)
		return fail_at(st, "section header without ']'");
	for (const char *t = close + 1; t < s + n && *t != ';' && *t != '#'; t++)
		if (!is_space(*t))
			return fail_at(st, "text after the section header's ']'");
	char name[64];
	size_t len = (size_t)(close - s - 1);
	if (len >= sizeof(name))
		return fail_at(st, "unknown section [%.40s...]", s + 1);
	memcpy(name, s + 1, len);
	name[len] = '\0';
	if (ble_end(st) < 0)
		return -1;
	st->in_section = true;
	st->i2c = NULL;
	st->spi = false;
	if (strncmp(name, "i2c ", 4) == 0) {
		struct espat_world_err e;
		st->ap = NULL;
		st->i2c = espat_sim_i2c_add(&st->w->periph, name + 4, &e);
		if (!st->i2c)
			return fail_at(st, "%s", e.msg);
		st->i2c_line[st->i2c - st->w->periph.i2c] = st->line;
		return 0;
	}
	if (strncmp(name, "spi ", 4) == 0) {
		struct espat_world_err e;
		if (espat_sim_spi_attach(&st->w->periph, name + 4, &e) < 0)
			return fail_at(st, "%s", e.msg);
		st->ap = NULL;
		st->spi = true;
		return 0;
	}
	if (strncmp(name, "ble ", 4) == 0) {
		const char *label = name + 4;
		if (strlen(label) > ESPAT_BLE_LABEL_MAX)
			return fail_at(st, "BLE peer label longer than %u", ESPAT_BLE_LABEL_MAX);
		if (espat_ble_peer_find(&st->w->ble, label))
			return fail_at(st, "duplicate BLE peer '%s'", label);
		st->ap = NULL;
		st->ble = true;
		memcpy(st->ble_label, label, strlen(label) + 1);
		st->ble_line = st->line;
		st->ble_n = 0;
		return 0;
	}
	if (strcmp(name, "world") == 0) {
		if (st->world_seen)
			return fail_at(st, "duplicate section [world]");
		st->world_seen = true;
		st->ap = NULL;
		return 0;
	}
	if (strncmp(name, "ap ", 3) != 0)
		return fail_at(st,
		               "unknown section [%s] (expected [world], [ap LABEL], [ble LABEL], "
		               "[i2c LABEL] or [spi LABEL])",
		               name);
	struct espat_world_err e;
	struct espat_world_ap *ap = espat_world_add(st->w, name + 3, &e);
	if (!ap)
		return fail_at(st, "%s", e.msg);
	size_t i = (size_t)(ap - st->w->ap);
	st->ap_line[i] = st->line;
	st->has_ssid[i] = false;
	st->ap = ap;
	return 0;
}

/* inih's fgets: hands over the next line, or NULL at the end or after an
 * error (which stops inih). */
static char *reader(char *str, int num, void *stream)
{
	struct parse *st = stream;
	if (st->failed || st->p >= st->end || num < 4)
		return NULL;
	const char *nl = memchr(st->p, '\n', (size_t)(st->end - st->p));
	size_t len = nl ? (size_t)(nl - st->p) + 1 : (size_t)(st->end - st->p);
	const char *s = st->p;
	st->p += len;
	st->line++;
	size_t content = len - (nl ? 1 : 0);
	if (content && s[content - 1] == '\r')
		content--;
	if (memchr(s, '\0', len)) {
		fail_at(st, "NUL byte in the text");
		return NULL;
	}
	if (content > (size_t)num - 3) {
		fail_at(st, "line longer than %d bytes", num - 3);
		return NULL;
	}
	memcpy(str, s, len);
	str[len] = '\0';

	const char *t = s, *e = s + content;
	if (st->line == 1 && content >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
		t += 3; /* a UTF-8 BOM, which inih skips too */
	const char *first = t;
	while (t < e && is_space(*t))
		t++;
	if (t == e || *t == ';' || *t == '#')
		return str;
	if (t > first) {
		fail_at(st, "indented line (inih would join it to the previous value)");
		return NULL;
	}
	if (*t == '[' && section(st, t, (size_t)(e - t)) < 0)
		return NULL;
	return str;
}

static int handler(void *user, const char *sect, const char *name, const char *value)
{
	struct parse *st = user;
	(void)sect; /* the reader knows the section, and saw an empty one too */
	if (st->failed)
		return 0;
	if (!st->in_section) {
		fail_at(st, "key '%.40s' outside a section", name);
		return 0;
	}
	if (st->ble)
		return ble_key(st, name, value) == 0;
	struct espat_world_err e;
	int rc = st->i2c   ? espat_sim_i2c_set(st->i2c, name, value, &e)
	         : st->spi ? espat_sim_spi_set(&st->w->periph.spi, name, value, &e)
	                   : espat_world_set(st->w, st->ap, name, value, &e);
	if (rc < 0) {
		fail_at(st, "%s", e.msg);
		return 0;
	}
	if (st->ap && strcmp(name, "ssid") == 0)
		st->has_ssid[st->ap - st->w->ap] = true;
	return 1;
}

/* What the whole world must satisfy once every key is read. */
static int validate(struct parse *st)
{
	const struct espat_sim_periph *pe = &st->w->periph;
	for (size_t i = 0; i < pe->ni2c; i++) {
		struct espat_world_err e;
		st->line = st->i2c_line[i];
		if (espat_sim_i2c_check(pe, &pe->i2c[i], &e) < 0)
			return fail_at(st, "%s", e.msg);
	}
	for (size_t i = 0; i < st->w->nap; i++) {
		const struct espat_world_ap *ap = &st->w->ap[i];
		st->line = st->ap_line[i];
		if (!st->has_ssid[i])
			return fail_at(st, "AP '%s' has no ssid", ap->label);
		struct espat_world_err e;
		if (espat_world_check(ap, &e) < 0)
			return fail_at(st, "AP '%s': %s", ap->label, e.msg);
	}
	return 0;
}

int espat_world_parse(struct espat_world *w, const char *text, size_t len,
                      struct espat_world_err *err)
{
	struct parse st;
	memset(&st, 0, sizeof(st));
	espat_world_init(w);
	err->line = 0;
	err->msg[0] = '\0';
	while (len && text[len - 1] == '\0')
		len--;
	st.w = w;
	st.err = err;
	st.p = text;
	st.end = text + len;
	int r = ini_parse_stream(reader, &st, handler, &st);
	if (r > 0 && (!st.failed || r < err->line)) {
		/* A line inih itself refused: no '=' (or ':') in it. */
		err->line = r;
		snprintf(err->msg, sizeof(err->msg),
		         "expected 'key = value', '[section]' or a comment");
		st.failed = true;
	} else if (r < 0 && !st.failed) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		st.failed = true;
	}
	if (!st.failed)
		ble_end(&st); /* the file's last section */
	if (!st.failed)
		validate(&st);
	if (st.failed) {
		espat_world_init(w);
		return -1;
	}
	return 0;
}

int espat_world_load(struct espat_world *w, const char *path, struct espat_world_err *err)
{
	err->line = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err->msg, sizeof(err->msg), "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(WORLD_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(err->msg, sizeof(err->msg), "cannot read %s: out of memory", path);
		return -1;
	}
	size_t n = fread(buf, 1, WORLD_FILE_MAX + 1, f);
	int rd_err = ferror(f) ? errno : 0;
	fclose(f);
	int rc = -1;
	if (rd_err)
		snprintf(err->msg, sizeof(err->msg), "cannot read %s: %s", path, strerror(rd_err));
	else if (n > WORLD_FILE_MAX)
		snprintf(err->msg, sizeof(err->msg), "cannot read %s: larger than 1 MiB", path);
	else
		rc = espat_world_parse(w, buf, n, err);
	free(buf);
	return rc;
}
