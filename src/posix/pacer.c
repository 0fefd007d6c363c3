#include "posix/pacer.h"

#include <stdlib.h>
#include <string.h>

static void set_rate(struct espat_pacer *p, const struct espat_uart_cfg *cfg)
{
	espat_uart_line_set(&p->line, cfg);
}

int espat_pacer_init(struct espat_pacer *p, const struct espat_pacer_sink *sink,
                     const struct espat_uart_cfg *cfg, bool pace, const struct espat_log *log)
{
	*p = (struct espat_pacer){.sink = *sink, .log = log, .pace = pace};
	set_rate(p, cfg);
	/* The whole ring now: address space, not memory (pages are touched
	 * only as far as the queue ever reaches, see advance), and no
	 * allocation can fail later in the middle of a message. */
	p->buf = malloc(ESPAT_PACER_CAP);
	if (p->buf == NULL)
		return -1;
	p->cap = ESPAT_PACER_CAP;
	return 0;
}

void espat_pacer_reset(struct espat_pacer *p, const struct espat_uart_cfg *cfg)
{
	uint8_t *buf = p->buf;
	size_t cap = p->cap;
	*p = (struct espat_pacer){.sink = p->sink, .log = p->log, .pace = p->pace};
	p->buf = buf;
	p->cap = cap;
	set_rate(p, cfg);
}

void espat_pacer_free(struct espat_pacer *p)
{
	free(p->buf);
	p->buf = NULL;
	p->cap = p->len = p->head = 0;
}

/* Marks every byte up to and including sent and applies the UART changes
 * that were waiting for them. */
static void advance(struct espat_pacer *p, size_t n)
{
	p->len -= n;
	/* An empty ring starts over at its first byte: a host that keeps up
	 * keeps the queue in the first pages, which stay the only ones used. */
	p->head = p->len && p->cap ? (p->head + n) % p->cap : 0;
	p->sent += n;
	size_t done = 0;
	while (done < p->nmarks && p->marks[done].at <= p->sent) {
		set_rate(p, &p->marks[done].cfg);
		if (p->sink.apply_uart)
			p->sink.apply_uart(p->sink.user, &p->marks[done].cfg);
		done++;
	}
	if (done) {
		p->nmarks -= done;
		memmove(p->marks, p->marks + done, p->nmarks * sizeof(p->marks[0]));
	}
}

void espat_pacer_push(struct espat_pacer *p, const uint8_t *buf, size_t len, uint64_t now_ns)
{
	if (len == 0)
		return;
	if (p->len == 0)
		espat_uart_line_resume(&p->line, now_ns);
	if (p->cap - p->len < len) {
		/* A host that has not read for megabytes (the module stops
		 * reading the host and the sockets long before): the new
		 * message is refused whole, so what is queued stays intact
		 * and no message is cut. */
		if (!p->warned_drop) {
			espat_log_warn(p->log,
			               "the host is not reading the AT port: %u bytes are "
			               "queued; new output is dropped whole until it reads",
			               (unsigned)p->len);
			p->warned_drop = true;
		}
		p->dropped += len;
		return;
	}
	p->warned_drop = false;
	size_t tail = (p->head + p->len) % p->cap;
	size_t first = len < p->cap - tail ? len : p->cap - tail;
	memcpy(p->buf + tail, buf, first);
	memcpy(p->buf, buf + first, len - first);
	p->len += len;
}

void espat_pacer_set_uart(struct espat_pacer *p, const struct espat_uart_cfg *cfg)
{
	uint64_t at = p->sent + p->len;
	if (p->len == 0 && p->nmarks == 0) {
		/* Nothing in flight: apply now. */
		set_rate(p, cfg);
		if (p->sink.apply_uart)
			p->sink.apply_uart(p->sink.user, cfg);
		return;
	}
	if (p->nmarks > 0 && p->marks[p->nmarks - 1].at == at) {
		p->marks[p->nmarks - 1].cfg = *cfg; /* no byte between: last one wins */
		return;
	}
	if (p->nmarks == ESPAT_PACER_MARKS) {
		/* A host that never reads while changing the UART over and
		 * over: apply the oldest change early rather than lose one. */
		espat_log_warn(p->log, "too many pending UART changes; applying one early");
		set_rate(p, &p->marks[0].cfg);
		if (p->sink.apply_uart)
			p->sink.apply_uart(p->sink.user, &p->marks[0].cfg);
		p->nmarks--;
		memmove(p->marks, p->marks + 1, p->nmarks * sizeof(p->marks[0]));
	}
	p->marks[p->nmarks++] = (struct espat_pacer_mark){.at = at, .cfg = *cfg};
}

/* Writes at most max bytes, stopping at the next marker (the rate may
 * change there). Returns bytes written; sets blocked when the sink took
 * fewer than offered. */
static size_t write_some(struct espat_pacer *p, size_t max)
{
	size_t n = p->len < max ? p->len : max;
	if (p->nmarks > 0 && p->marks[0].at - p->sent < n)
		n = (size_t)(p->marks[0].at - p->sent);
	size_t contig = p->cap - p->head;
	if (n > contig)
		n = contig;
	if (n == 0)
		return 0;
	size_t w = p->sink.write(p->sink.user, p->buf + p->head, n);
	if (w > n)
		w = n;
	if (w < n && !p->blocked) {
		p->blocked = true;
		if (!p->watching) {
			p->watching = true;
			p->sink.want_writable(p->sink.user, true);
		}
	}
	return w;
}

void espat_pacer_run(struct espat_pacer *p, uint64_t now_ns)
{
	while (!p->blocked) {
		/* A marker at the current position applies before any byte. */
		if (p->nmarks > 0 && p->marks[0].at <= p->sent) {
			advance(p, 0);
			continue;
		}
		if (p->len == 0)
			return;
		size_t max =
		    p->pace ? espat_uart_line_due(&p->line, now_ns + ESPAT_PACER_AHEAD_NS) : p->len;
		if (max == 0)
			return;
		size_t w = write_some(p, max);
		if (w == 0)
			return;
		if (p->pace)
			espat_uart_line_advance(&p->line, w);
		advance(p, w);
	}
}

void espat_pacer_writable(struct espat_pacer *p, uint64_t now_ns)
{
	if (p->blocked) {
		espat_uart_line_resume(&p->line, now_ns);
		p->blocked = false;
	}
	espat_pacer_run(p, now_ns);
	/* A stream that blocks again keeps its watch: no epoll_ctl per write
	 * while the host reads as fast as we write. */
	if (!p->blocked && p->watching) {
		p->watching = false;
		p->sink.want_writable(p->sink.user, false);
	}
}

uint64_t espat_pacer_next_ns(const struct espat_pacer *p, uint64_t now_ns)
{
	if (p->blocked || (p->len == 0 && (p->nmarks == 0 || p->marks[0].at > p->sent)))
		return ESPAT_PACER_NEVER;
	if (!p->pace || p->len == 0)
		return now_ns;
	uint64_t end = espat_uart_line_next_end(&p->line);
	if (end <= now_ns + ESPAT_PACER_AHEAD_NS)
		return now_ns;
	/* Wake when the next frame ends within the horizon; the loop's 1 ms
	 * granularity makes the chunks. */
	return end - ESPAT_PACER_AHEAD_NS;
}

size_t espat_pacer_pending(const struct espat_pacer *p)
{
	return p->len;
}

void espat_pacer_flush(struct espat_pacer *p)
{
	bool pace = p->pace;
	p->pace = false;
	p->blocked = false;
	p->watching = false;
	espat_pacer_run(p, 0);
	p->pace = pace;
}
