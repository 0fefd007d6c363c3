#include "core/engine.h"

#include <string.h>

void espat_engine_init(struct espat_engine *e, struct espat_module *mod, struct espat_writer *wr,
		       const struct espat_cmd_table *const *tables, size_t ntables)
{
	memset(e, 0, sizeof(*e));
	e->mod = mod;
	e->wr = wr;
	e->tables = tables;
	e->ntables = ntables;
	e->echo = true;
	e->state = ESPAT_ST_IDLE;
}

enum espat_rc espat_fail(struct espat_engine *e, uint32_t code)
{
	e->err = code;
	return ESPAT_RC_ERROR;
}

void espat_engine_expect_data(struct espat_engine *e, size_t n, espat_data_fn *fn)
{
	e->data_fn = fn;
	e->data_left = n;
}

void espat_engine_data_escape(struct espat_engine *e, espat_escape_fn *fn)
{
	e->esc_fn = fn;
}

void espat_engine_data_end(struct espat_engine *e, size_t used)
{
	e->data_ended = true;
	e->data_used = used;
}

void espat_engine_expect_passthrough(struct espat_engine *e, espat_pt_fn *pt,
				     espat_escape_fn *esc)
{
	e->pt_fn = pt;
	e->esc_fn = esc;
}

void espat_engine_enter_passthrough(struct espat_engine *e, espat_pt_fn *pt,
				    espat_escape_fn *esc)
{
	e->cur = NULL;
	e->pt_fn = pt;
	e->esc_fn = esc;
	e->state = ESPAT_ST_PASSTHROUGH;
	espat_line_reset(&e->line);
}

static void drop_held(struct espat_engine *e)
{
	e->esc_held = 0;
	if (e->timers)
		espat_timer_cancel(e->timers, &e->esc_timer);
}

void espat_engine_leave_passthrough(struct espat_engine *e)
{
	if (e->state != ESPAT_ST_PASSTHROUGH)
		return;
	drop_held(e);
	e->pt_fn = NULL;
	e->esc_fn = NULL;
	e->state = ESPAT_ST_IDLE;
	e->busy_said = false;
	espat_line_reset(&e->line);
}

bool espat_engine_in_passthrough(const struct espat_engine *e)
{
	return e->state == ESPAT_ST_PASSTHROUGH;
}

void espat_engine_halt(struct espat_engine *e)
{
	e->state = ESPAT_ST_HALTED;
	e->cur = NULL;
	e->data_fn = NULL;
	e->data_left = 0;
	e->pt_fn = NULL;
	e->esc_fn = NULL;
	drop_held(e);
	espat_line_reset(&e->line);
}

void espat_engine_resume(struct espat_engine *e)
{
	/* a boot that entered passthrough (AT+SAVETRANSLINK) stays there */
	if (e->state != ESPAT_ST_PASSTHROUGH)
		e->state = ESPAT_ST_IDLE;
	e->busy_said = false;
	espat_line_reset(&e->line);
}

const struct espat_cmd *espat_engine_find(const struct espat_engine *e, const char *name,
					  size_t len)
{
	for (size_t t = 0; t < e->ntables; t++) {
		const struct espat_cmd_table *tab = e->tables[t];
		for (size_t i = 0; i < tab->n; i++) {
			const char *rn = tab->rows[i].name;
			if (strlen(rn) == len && memcmp(rn, name, len) == 0)
				return &tab->rows[i];
		}
	}
	return NULL;
}

/* Ends the running command with rc. A handler that halted the engine
 * (restart) keeps it halted. */
static void finish(struct espat_engine *e, enum espat_rc rc)
{
	if (e->state == ESPAT_ST_HALTED)
		return;
	switch (rc) {
	case ESPAT_RC_OK:
		espat_wr_ok(e->wr);
		break;
	case ESPAT_RC_ERROR:
		espat_wr_error(e->wr, e->err ? e->err : ESPAT_ERR_EXEC);
		break;
	case ESPAT_RC_PENDING:
		e->state = ESPAT_ST_EXEC;
		return;
	case ESPAT_RC_DONE:
		break;
	case ESPAT_RC_OK_PROMPT:
	case ESPAT_RC_PROMPT:
		if (rc == ESPAT_RC_OK_PROMPT)
			espat_wr_ok(e->wr);
		espat_wr_prompt(e->wr);
		if (e->pt_fn) {
			e->cur = NULL;
			e->state = ESPAT_ST_PASSTHROUGH;
			return;
		}
		if (e->data_fn && e->data_left > 0) {
			e->state = ESPAT_ST_DATA;
			return;
		}
		break;
	}
	e->state = ESPAT_ST_IDLE;
	e->cur = NULL;
	e->data_fn = NULL;
	e->data_left = 0;
	e->esc_fn = NULL;
	e->err = 0;
	e->busy_said = false;
}

void espat_engine_complete(struct espat_engine *e, enum espat_rc rc)
{
	if (e->state != ESPAT_ST_EXEC && e->state != ESPAT_ST_DATA)
		return;
	e->state = ESPAT_ST_EXEC;
	finish(e, rc);
}

static bool name_char(char c)
{
	/* lower case is no command's, but it belongs to the name: AT+GMRx is
	 * an unknown command, not a malformed AT+GMR */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '!' || c == '%' ||
	       c == '-' || c == '.' || c == '/' || c == ':' || c == '_';
}

/* Checks parsed arguments against the schema of the set form. */
static bool check_args(struct espat_engine *e, const struct espat_cmd *c,
		       const struct espat_args *a)
{
	size_t required = 0;
	for (size_t i = 0; i < c->nparams; i++)
		if (!c->params[i].optional)
			required = i + 1;
	if (a->n > c->nparams || a->n < required) {
		e->err = ESPAT_ERR_NUM(a->n > c->nparams ? c->nparams : required, a->n);
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct espat_param *p = &c->params[i];
		const struct espat_arg *v = &a->v[i];
		if (v->kind == ESPAT_ARG_OMITTED) {
			if (!p->optional) {
				e->err = ESPAT_ERR_INVALID(i);
				return false;
			}
			continue;
		}
		if (p->type == ESPAT_P_INT) {
			if (v->kind != ESPAT_ARG_INT) {
				e->err = ESPAT_ERR_TYPE(i);
				return false;
			}
			if (v->i < p->min || v->i > p->max) {
				e->err = ESPAT_ERR_INVALID(i);
				return false;
			}
		} else if (p->type == ESPAT_P_STR) {
			if (v->kind != ESPAT_ARG_STR) {
				e->err = ESPAT_ERR_TYPE(i);
				return false;
			}
			if (v->len > p->maxlen) {
				e->err = ESPAT_ERR_LENGTH(i);
				return false;
			}
		}
	}
	return true;
}

/* Parses and runs one command line (terminator removed). */
static void dispatch(struct espat_engine *e, const char *s, size_t n)
{
	e->err = 0;
	e->lines++;
	if (n < 2 || s[0] != 'A' || s[1] != 'T') {
		espat_wr_error(e->wr, ESPAT_ERR_NO_AT);
		return;
	}
	s += 2;
	n -= 2;

	size_t nl = 0;
	const struct espat_cmd *c = NULL;
	struct espat_args *a = &e->args;
	a->n = 0;
	if (n > 0 && s[0] == '+') {
		nl = 1;
		while (nl < n && name_char(s[nl]))
			nl++;
		c = espat_engine_find(e, s, nl);
	} else {
		/* Basic-style names: "" (AT) or a letter with digits (ATE0). */
		while (nl < n && s[nl] >= 'A' && s[nl] <= 'Z')
			nl++;
		c = espat_engine_find(e, s, nl);
		if (c && (c->flags & ESPAT_CMD_DIGIT_SUFFIX)) {
			/* decimal digits only: ATE1, not ATE0x1 */
			size_t d = nl;
			while (d < n && s[d] >= '0' && s[d] <= '9')
				d++;
			if (nl == n || d != n || n - nl > 9 ||
			    !espat_parse_int(s + nl, n - nl, &a->v[0].i)) {
				espat_wr_error(e->wr, ESPAT_ERR_PARSE(0));
				return;
			}
			a->v[0].kind = ESPAT_ARG_INT;
			a->n = 1;
			nl = n;
		}
	}
	if (!c) {
		espat_wr_error(e->wr, ESPAT_ERR_UNSUPPORTED);
		return;
	}

	const char *rest = s + nl;
	size_t rn = n - nl;
	espat_handler_fn *fn = NULL;
	if (rn == 0) {
		fn = c->exec;
	} else if (rn == 1 && rest[0] == '?') {
		fn = c->query;
	} else if (rn == 2 && rest[0] == '=' && rest[1] == '?') {
		fn = c->test;
	} else if (rest[0] == '=') {
		fn = c->set;
		if (fn) {
			size_t bad = 0;
			enum espat_tok_status st = espat_args_parse(a, rest + 1, rn - 1, &bad);
			if (st != ESPAT_TOK_OK) {
				uint32_t code = st == ESPAT_TOK_BAD_NUMBER   ? ESPAT_ERR_TYPE(bad)
						: st == ESPAT_TOK_BAD_STRING ? ESPAT_ERR_PARSE(bad)
									     : ESPAT_ERR_NUM(c->nparams, bad);
				espat_wr_error(e->wr, code);
				return;
			}
			if (!check_args(e, c, a)) {
				espat_wr_error(e->wr, e->err);
				return;
			}
		}
	} else {
		espat_wr_error(e->wr, ESPAT_ERR_PARSE(0));
		return;
	}
	if (!fn) {
		espat_wr_error(e->wr, ESPAT_ERR_OP);
		return;
	}
	e->cur = c;
	e->state = ESPAT_ST_EXEC;
	finish(e, fn(e->mod, a));
}

/* Input while a command runs: dropped, with one busy p... per line begun. */
static void busy_input(struct espat_engine *e, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (!e->busy_said) {
			espat_wr_busy(e->wr);
			e->busy_said = true;
		}
		const uint8_t *lf = memchr(p, '\n', n);
		if (!lf)
			return;
		e->busy_said = false;
		n -= (size_t)(lf - p) + 1;
		p = lf + 1;
	}
}

static size_t data_input(struct espat_engine *e, const uint8_t *p, size_t n)
{
	size_t take = n < e->data_left ? n : e->data_left;
	e->data_left -= take;
	bool last = e->data_left == 0;
	espat_data_fn *fn = e->data_fn;
	e->data_ended = false;
	enum espat_rc rc = fn(e->mod, p, take, last);
	if (e->data_ended && e->state == ESPAT_ST_DATA) {
		if (e->data_used < take)
			take = e->data_used;
		e->data_left = 0;
		last = true;
	}
	if (last && e->state == ESPAT_ST_DATA) {
		e->data_fn = NULL;
		e->state = ESPAT_ST_EXEC;
		finish(e, rc);
	}
	return take;
}

static void route(struct espat_engine *e, const uint8_t *p, size_t n)
{
	/* Within one chunk of input only the first command line runs: the rest
	 * arrived while it was executing and is answered busy p... (guide FAQ
	 * 8.2.1/8.2.2: trailing bytes, or commands sent back to back). */
	bool ran = false;
	while (n > 0) {
		switch (e->state) {
		case ESPAT_ST_HALTED:
			return;
		case ESPAT_ST_EXEC:
			busy_input(e, p, n);
			return;
		case ESPAT_ST_PASSTHROUGH:
			e->pt_fn(e->mod, p, n);
			return;
		case ESPAT_ST_DATA: {
			size_t used = data_input(e, p, n);
			p += used;
			n -= used;
			ran = true;
			continue;
		}
		case ESPAT_ST_IDLE:
			break;
		}
		if (ran) {
			busy_input(e, p, n);
			return;
		}
		size_t used = 0;
		enum espat_line_status st = espat_line_feed(&e->line, p, n, &used);
		p += used;
		n -= used;
		struct espat_line *l = &e->line;
		switch (st) {
		case ESPAT_LINE_NEED_MORE:
			break;
		case ESPAT_LINE_OVERFLOW:
			espat_wr_error(e->wr, ESPAT_ERR_LENGTH(0));
			ran = true;
			break;
		case ESPAT_LINE_NO_TERM:
			if (e->echo)
				espat_wr_echo(e->wr, l->buf, l->len);
			espat_wr_error(e->wr, ESPAT_ERR_NO_TERM);
			ran = true;
			break;
		case ESPAT_LINE_DONE:
			if (e->echo)
				espat_wr_echo(e->wr, l->buf, l->len);
			if (l->len == 2)
				break; /* an empty line is ignored */
			dispatch(e, (const char *)l->buf, l->len - 2);
			ran = true;
			break;
		}
	}
	if (e->state == ESPAT_ST_IDLE)
		e->busy_said = false;
}

/* ---- the +++ escape -------------------------------------------------------
 * The real module detects +++ in its UART hardware by timing: more than
 * 20 ms of silence before the first +, less between them, more after the
 * third. Here the arrival times of each chunk of input stand in for the
 * line: up to three leading '+' that follow a guard's silence are held back;
 * if silence follows for a guard, they are the escape, otherwise they were
 * data and go on before whatever came next. */

static const uint8_t pluses[3] = {'+', '+', '+'};

static bool escapable(const struct espat_engine *e)
{
	return e->timers && e->esc_fn &&
	       (e->state == ESPAT_ST_DATA || e->state == ESPAT_ST_PASSTHROUGH);
}

static bool all_plus(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '+')
			return false;
	return true;
}

static void release_held(struct espat_engine *e)
{
	size_t n = e->esc_held;
	drop_held(e);
	if (n > 0)
		route(e, pluses, n);
}

static void escape(struct espat_engine *e)
{
	espat_escape_fn *fn = e->esc_fn;
	e->esc_fn = NULL;
	if (e->state == ESPAT_ST_PASSTHROUGH) {
		e->pt_fn = NULL;
		e->state = ESPAT_ST_IDLE;
		e->busy_said = false;
		espat_line_reset(&e->line);
		fn(e->mod);
		return;
	}
	e->data_fn = NULL;
	e->data_left = 0;
	e->state = ESPAT_ST_EXEC;
	finish(e, fn(e->mod));
}

static void guard_over(void *user)
{
	struct espat_engine *e = user;
	if (e->esc_held == 3 && escapable(e)) {
		e->esc_held = 0;
		escape(e);
		return;
	}
	release_held(e);
}

static void hold(struct espat_engine *e, size_t n, const struct espat_arrival *at)
{
	e->esc_held = (uint8_t)(e->esc_held + n);
	e->rx_end_us = at->end_us;
	uint64_t due = (at->end_us + 999u) / 1000u + ESPAT_ESCAPE_GUARD_MS;
	espat_timer_arm(e->timers, &e->esc_timer, due, guard_over, e);
}

void espat_engine_input(struct espat_engine *e, const uint8_t *p, size_t n,
			const struct espat_arrival *at)
{
	if (n == 0)
		return;
	const uint64_t guard_us = ESPAT_ESCAPE_GUARD_MS * 1000u;
	if (at == NULL || !escapable(e)) {
		release_held(e);
		route(e, p, n);
		if (at)
			e->rx_end_us = at->end_us;
		return;
	}
	if (e->esc_held > 0) {
		if (all_plus(p, n) && e->esc_held + n <= 3 && at->start_us < e->rx_end_us + guard_us) {
			hold(e, n, at);
			return;
		}
		if (e->esc_held == 3 && at->start_us >= e->rx_end_us + guard_us) {
			/* These bytes came after the guard that followed the +++: the
			 * escape is due, its timer just has not run (a loop that was
			 * late reads input before it runs timers). Escape first, as
			 * on time, then take the bytes in the mode that follows. */
			espat_timer_cancel(e->timers, &e->esc_timer);
			guard_over(e);
		} else {
			release_held(e);
		}
	}
	if (escapable(e) && n <= 3 && all_plus(p, n) && at->start_us >= e->rx_end_us + guard_us) {
		hold(e, n, at);
		return;
	}
	route(e, p, n);
	e->rx_end_us = at->end_us;
}
