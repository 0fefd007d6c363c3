/* AT+SYSMSGFILTER and AT+SYSMSGFILTERCFG (guide 3.1.16-3.1.17).
 *
 * A filter is a pair of POSIX basic regular expressions (head, tail),
 * compiled through the regex port. While AT+SYSMSGFILTER=1 the writer's
 * filter hook points here. In a message that matches both expressions of
 * some filter, the text each expression matched is cut and the rest is
 * passed on (guide 4.1.1 strips "+HTTPCGET:<len>," and the trailing CRLF
 * to hand the MCU raw file data); an empty expression matches, cuts
 * nothing.
 *
 * Filters live in RAM only: the guide says nothing about saving them, and
 * the clear-all form talks of freeing heap, not flash. They are gone after
 * a restart, and so is AT+SYSMSGFILTER=1 (its default is 0). */
#include <string.h>

#include "cmd/basic_internal.h"
#include "cmd/family.h"

const struct espat_param espat_msgfiltercfg_params[ESPAT_MSGFILTERCFG_NPARAMS] = {
    {.name = "operator", .type = ESPAT_P_INT, .min = 0, .max = 2},
    {.name = "head-regexp_len", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = 64},
    {.name = "tail-regexp_len", .type = ESPAT_P_INT, .optional = true, .min = 0, .max = 64},
};

/* The writer hook. A message is filtered when it matches both expressions
 * of a filter (the first such filter decides); then the bytes each
 * expression matched are cut and the rest goes to the MCU as it is
 * (guide 3.1.17 notes: "the data matching the regular expression will be
 * filtered out ... the unmatched data will be sent to the MCU as it is").
 * An empty expression matches and cuts nothing. */
static size_t filter_hook(void *user, const uint8_t *p, size_t n, struct espat_span cut[2])
{
	struct espat_module *m = user;
	const struct espat_regex *rx = &m->ports.regex;
	for (size_t i = 0; i < m->basic->nfilters; i++) {
		const struct espat_msgfilter *f = &m->basic->filters[i];
		size_t hs = 0, he = 0, ts = n, te = n;
		if (f->head_re && !rx->match(rx->user, f->head_re, p, n, &hs, &he))
			continue;
		if (f->tail_re && !rx->match(rx->user, f->tail_re, p, n, &ts, &te))
			continue;
		size_t k = 0;
		if (he > hs)
			cut[k++] = (struct espat_span){hs, he};
		if (te > ts) {
			/* a tail match overlapping the head's keeps only its rest */
			size_t from = k && ts < he ? he : ts;
			if (te > from)
				cut[k++] = (struct espat_span){from, te};
		}
		return k; /* 0 when both matched empty text: nothing to cut */
	}
	return 0;
}

/* The hook is installed only while filtering is on, so a module that never
 * enables it pays nothing per message. */
static void apply_hook(struct espat_module *m)
{
	m->wr.filter = m->basic->msgfilter_on ? filter_hook : NULL;
	m->wr.filter_user = m;
}

static void release_filter(struct espat_module *m, struct espat_msgfilter *f)
{
	const struct espat_regex *rx = &m->ports.regex;
	if (f->head_re)
		rx->release(rx->user, f->head_re);
	if (f->tail_re)
		rx->release(rx->user, f->tail_re);
	f->head_re = f->tail_re = NULL;
}

static void clear_filters(struct espat_module *m)
{
	for (size_t i = 0; i < m->basic->nfilters; i++)
		release_filter(m, &m->basic->filters[i]);
	m->basic->nfilters = 0;
}

void espat_msgfilter_init(struct espat_module *m)
{
	m->basic->msgfilter_on = false;
	m->basic->nfilters = 0;
	apply_hook(m);
}

void espat_msgfilter_free(struct espat_module *m)
{
	clear_filters(m);
	m->basic->msgfilter_on = false;
	apply_hook(m);
}

enum espat_rc espat_msgfilter_query(struct espat_module *m, const struct espat_args *a)
{
	espat_wr_linef(&m->wr, "+SYSMSGFILTER:%d", m->basic->msgfilter_on ? 1 : 0);
	return ESPAT_RC_OK;
}

/* The hook changes before the OK goes out, so enabling filters may already
 * filter this OK, and disabling never does (the real module applies the
 * setting inside the handler, before the result code too). */
enum espat_rc espat_msgfilter_set(struct espat_module *m, const struct espat_args *a)
{
	m->basic->msgfilter_on = a->v[0].i == 1;
	apply_hook(m);
	return ESPAT_RC_OK;
}

/* One line per filter; the expressions are printed byte for byte as
 * entered (CR and LF raw), 0-based index. */
enum espat_rc espat_msgfiltercfg_query(struct espat_module *m, const struct espat_args *a)
{
	for (size_t i = 0; i < m->basic->nfilters; i++) {
		const struct espat_msgfilter *f = &m->basic->filters[i];
		espat_wr_linef(&m->wr, "+SYSMSGFILTERCFG:%u,\"%.*s\",\"%.*s\"", (unsigned)i,
		               (int)f->head_len, (const char *)f->head, (int)f->tail_len,
		               (const char *)f->tail);
	}
	return ESPAT_RC_OK;
}

static bool same_filter(const struct espat_msgfilter *f, const uint8_t *head, size_t hl,
                        const uint8_t *tail, size_t tl)
{
	return f->head_len == hl && f->tail_len == tl && memcmp(f->head, head, hl) == 0 &&
	       memcmp(f->tail, tail, tl) == 0;
}

/* Compiles pat[0..len) or leaves *re NULL for an empty expression. False
 * when the pattern is invalid (a NUL byte cannot be a BRE either). */
static bool compile(struct espat_module *m, const uint8_t *pat, size_t len, void **re)
{
	*re = NULL;
	if (len == 0)
		return true;
	if (memchr(pat, 0, len))
		return false;
	*re = m->ports.regex.compile(m->ports.regex.user, pat, len);
	return *re != NULL;
}

static enum espat_rc add_filter(struct espat_module *m, const uint8_t *head, size_t hl,
                                const uint8_t *tail, size_t tl)
{
	struct espat_basic *b = m->basic;
	for (size_t i = 0; i < b->nfilters; i++)
		if (same_filter(&b->filters[i], head, hl, tail, tl))
			return espat_fail(&m->eng, ESPAT_ERR_EXEC);
	if (b->nfilters == ESPAT_FILTERS_MAX)
		return espat_fail(&m->eng, ESPAT_ERR_EXEC);
	struct espat_msgfilter f = {.head_len = (uint8_t)hl, .tail_len = (uint8_t)tl};
	memcpy(f.head, head, hl);
	memcpy(f.tail, tail, tl);
	if (!compile(m, head, hl, &f.head_re) || !compile(m, tail, tl, &f.tail_re)) {
		release_filter(m, &f);
		return espat_fail(&m->eng, ESPAT_ERR_EXEC);
	}
	b->filters[b->nfilters++] = f;
	return ESPAT_RC_OK;
}

static enum espat_rc del_filter(struct espat_module *m, const uint8_t *head, size_t hl,
                                const uint8_t *tail, size_t tl)
{
	struct espat_basic *b = m->basic;
	for (size_t i = 0; i < b->nfilters; i++) {
		if (!same_filter(&b->filters[i], head, hl, tail, tl))
			continue;
		release_filter(m, &b->filters[i]);
		memmove(&b->filters[i], &b->filters[i + 1],
		        (b->nfilters - i - 1) * sizeof(b->filters[0]));
		b->nfilters--;
		return ESPAT_RC_OK;
	}
	return espat_fail(&m->eng, ESPAT_ERR_EXEC);
}

/* Collects head then tail bytes into re_in; acts once all have come. */
static enum espat_rc filter_data(struct espat_module *m, const uint8_t *p, size_t n, bool last)
{
	struct espat_basic *b = m->basic;
	size_t room = sizeof(b->re_in) - b->re_in_len;
	size_t take = n < room ? n : room; /* the engine never sends more than asked */
	memcpy(b->re_in + b->re_in_len, p, take);
	b->re_in_len = (uint8_t)(b->re_in_len + take);
	if (!last)
		return ESPAT_RC_PENDING;
	size_t hl = b->data_a, tl = b->data_b;
	const uint8_t *head = b->re_in, *tail = b->re_in + hl;
	uint8_t op = b->data_op;
	b->data_op = ESPAT_DOP_NONE;
	b->re_in_len = 0;
	if (op == ESPAT_DOP_FILTER_ADD)
		return add_filter(m, head, hl, tail, tl);
	return del_filter(m, head, hl, tail, tl);
}

enum espat_rc espat_msgfiltercfg_set(struct espat_module *m, const struct espat_args *a)
{
	int64_t op = a->v[0].i;
	size_t given = a->n;
	while (given > 1 && a->v[given - 1].kind == ESPAT_ARG_OMITTED)
		given--;
	if (op == 0) {
		if (given != 1)
			return espat_fail(&m->eng, ESPAT_ERR_NUM(1, a->n));
		clear_filters(m);
		return ESPAT_RC_OK;
	}
	if (a->n != 3 || a->v[1].kind != ESPAT_ARG_INT || a->v[2].kind != ESPAT_ARG_INT)
		return espat_fail(&m->eng, ESPAT_ERR_NUM(3, a->n));
	size_t hl = (size_t)a->v[1].i, tl = (size_t)a->v[2].i;
	if (hl + tl == 0)
		return espat_fail(&m->eng, ESPAT_ERR_INVALID(2));
	struct espat_basic *b = m->basic;
	b->data_op = op == 1 ? ESPAT_DOP_FILTER_ADD : ESPAT_DOP_FILTER_DEL;
	b->data_a = (uint32_t)hl;
	b->data_b = (uint32_t)tl;
	b->re_in_len = 0;
	espat_engine_expect_data(&m->eng, hl + tl, filter_data);
	return ESPAT_RC_OK_PROMPT;
}
