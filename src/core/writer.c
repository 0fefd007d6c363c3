#include "core/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errcode.h"

void espat_wr_init(struct espat_writer *w, const struct espat_pipe *pipe)
{
	memset(w, 0, sizeof(*w));
	w->pipe = *pipe;
}

void espat_wr_free(struct espat_writer *w)
{
	w->qlen = 0;
}

static void emit(struct espat_writer *w, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	w->bytes_out += n;
	w->pipe.write(w->pipe.user, p, n);
}

/* Sends p[0..n) less the ranges the filter cuts, through sink. */
static void filtered(struct espat_writer *w, const uint8_t *p, size_t n,
		     void (*sink)(struct espat_writer *, const uint8_t *, size_t))
{
	struct espat_span cut[2];
	size_t k = w->filter ? w->filter(w->filter_user, p, n, cut) : 0;
	size_t at = 0;
	for (size_t i = 0; i < k && i < 2; i++) {
		if (cut[i].from > at)
			sink(w, p + at, cut[i].from - at);
		if (cut[i].to > at)
			at = cut[i].to;
	}
	if (at < n)
		sink(w, p + at, n - at);
}

static void emit_filtered(struct espat_writer *w, const uint8_t *p, size_t n)
{
	filtered(w, p, n, emit);
}

void espat_wr_echo(struct espat_writer *w, const uint8_t *p, size_t n)
{
	emit(w, p, n);
}

void espat_wr_raw(struct espat_writer *w, const uint8_t *p, size_t n)
{
	emit(w, p, n);
}

void espat_wr_msg(struct espat_writer *w, const uint8_t *p, size_t n)
{
	emit_filtered(w, p, n);
}

/* Formats fmt + "\r\n" and hands the whole line to sink. Short lines use the
 * stack; long ones (a +SYSMFG value, say) a heap buffer. Out of memory, the
 * line is not sent at all (never cut) and counted; a response line missing
 * turns the command's OK into ERROR (see espat_wr_ok). */
static void vformat_line(struct espat_writer *w, const char *fmt, va_list ap,
			 void (*sink)(struct espat_writer *, const uint8_t *, size_t))
{
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small) - 2, fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n < sizeof(small) - 2) {
		memcpy(small + n, "\r\n", 2);
		sink(w, (const uint8_t *)small, (size_t)n + 2);
	} else {
		char *big = malloc((size_t)n + 3);
		if (big) {
			vsnprintf(big, (size_t)n + 1, fmt, ap2);
			memcpy(big + n, "\r\n", 2);
			sink(w, (const uint8_t *)big, (size_t)n + 2);
			free(big);
		} else {
			w->lost_lines++;
			if (sink == emit_filtered)
				w->incomplete = true;
		}
	}
	va_end(ap2);
}

void espat_wr_vlinef(struct espat_writer *w, const char *fmt, va_list ap)
{
	vformat_line(w, fmt, ap, emit_filtered);
}

void espat_wr_linef(struct espat_writer *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	espat_wr_vlinef(w, fmt, ap);
	va_end(ap);
}

static void errcode_line(struct espat_writer *w, uint32_t code)
{
	if (w->syslog)
		espat_wr_linef(w, "ERR CODE:0x%08x", (unsigned)code);
}

void espat_wr_result(struct espat_writer *w, const char *text)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "\r\n%s\r\n", text);
	if (n > 0 && (size_t)n < sizeof(buf))
		emit_filtered(w, (const uint8_t *)buf, (size_t)n);
}

void espat_wr_ok(struct espat_writer *w)
{
	if (w->incomplete) {
		espat_wr_error(w, ESPAT_ERR_EXEC);
		return;
	}
	espat_wr_result(w, "OK");
}

void espat_wr_error(struct espat_writer *w, uint32_t code)
{
	w->incomplete = false;
	errcode_line(w, code);
	espat_wr_result(w, "ERROR");
}

void espat_wr_busy(struct espat_writer *w)
{
	errcode_line(w, ESPAT_ERR_BUSY);
	espat_wr_linef(w, "busy p...");
}

void espat_wr_prompt(struct espat_writer *w)
{
	emit(w, (const uint8_t *)">", 1);
}

static void enqueue(struct espat_writer *w, const uint8_t *p, size_t n)
{
	if (w->qlen + n > ESPAT_WR_QUEUE_MAX) {
		w->dropped_reports++;
		return;
	}
	memcpy(w->queue + w->qlen, p, n);
	w->qlen += n;
}

/* The gate is asked only where a report could go out now: never inside
 * an open message (a UART wake byte must not split it). */
static void report_out(struct espat_writer *w, const uint8_t *p, size_t n)
{
	if (!w->open && !w->held && w->gate && !w->gate(w->gate_user))
		w->held = true;
	if (w->open || w->held)
		enqueue(w, p, n);
	else
		emit(w, p, n);
}

/* Reports are filtered when they are produced, so the queue holds exactly
 * the bytes to send. */
static void report_sink(struct espat_writer *w, const uint8_t *p, size_t n)
{
	if (w->quiet)
		return;
	filtered(w, p, n, report_out);
}

void espat_wr_report(struct espat_writer *w, const uint8_t *p, size_t n)
{
	report_sink(w, p, n);
}

void espat_wr_reportf(struct espat_writer *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vformat_line(w, fmt, ap, report_sink);
	va_end(ap);
}

void espat_wr_open(struct espat_writer *w)
{
	w->open = true;
}

void espat_wr_part(struct espat_writer *w, const uint8_t *p, size_t n)
{
	emit(w, p, n);
}

void espat_wr_release(struct espat_writer *w)
{
	w->held = false;
	w->waved = w->open;
	if (!w->open && w->qlen) {
		emit(w, w->queue, w->qlen);
		w->qlen = 0;
	}
}

void espat_wr_close(struct espat_writer *w)
{
	w->open = false;
	/* reports queued inside the message: the gate decides now, unless it
	 * already let them through (released while the message was open) */
	if (w->qlen && !w->held && !w->waved && w->gate && !w->gate(w->gate_user))
		w->held = true;
	w->waved = false;
	if (!w->held && w->qlen) {
		emit(w, w->queue, w->qlen);
		w->qlen = 0;
	}
}
