#include "posix/pacer.h"

#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ull

uint32_t espat_uart_frame_bits2(const struct espat_uart_cfg *cfg)
{
	uint32_t data = cfg->databits >= 5 && cfg->databits <= 8 ? cfg->databits : 8;
	uint32_t stop2 = cfg->stopbits == 2 ? 3 : cfg->stopbits == 3 ? 4 : 2;
	return 2 * (1 + data + (cfg->parity ? 1 : 0)) + stop2;
}

static void set_rate(struct espat_pacer *p, const struct espat_uart_cfg *cfg)
{
	p->baud = cfg->baud ? cfg->baud : 115200;
	p->frame_bits2 = espat_uart_frame_bits2(cfg);
	p->line_frac = 0;
}

void espat_pacer_init(struct espat_pacer *p, const struct espat_pacer_sink *sink,
                      const struct espat_uart_cfg *cfg, bool pace, const struct espat_log *log)
{
	*p = (struct espat_pacer){.sink = *sink, .log = log, .pace = pace};
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
	p->head = p->cap ? (p->head + n) % p->cap : 0;
	p->len -= n;
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

/* Makes room for need more bytes: grows the ring up to the cap, then
 * drops the oldest bytes. */
static void reserve(struct espat_pacer *p, size_t need)
{
	if (p->len + need <= p->cap)
		return;
	if (p->cap < ESPAT_PACER_CAP) {
		size_t cap = p->cap ? p->cap : 4096;
		while (cap < p->len + need && cap < ESPAT_PACER_CAP)
			cap *= 2;
		if (cap > ESPAT_PACER_CAP)
			cap = ESPAT_PACER_CAP;
		uint8_t *nb = malloc(cap);
		if (nb != NULL) {
			/* Unwrap into the new buffer. */
			size_t first = p->len < p->cap - p->head ? p->len : p->cap - p->head;
			if (first)
				memcpy(nb, p->buf + p->head, first);
			if (p->len > first)
				memcpy(nb + first, p->buf, p->len - first);
			free(p->buf);
			p->buf = nb;
			p->cap = cap;
			p->head = 0;
		}
	}
	if (p->len + need <= p->cap)
		return;
	size_t drop = p->len + need - p->cap;
	if (drop > p->len)
		drop = p->len;
	if (!p->warned_drop) {
		espat_log_warn(p->log,
		               "the host is not reading the AT port: output beyond %u "
		               "bytes is dropped, oldest first",
		               (unsigned)ESPAT_PACER_CAP);
		p->warned_drop = true;
	}
	p->dropped += drop;
	advance(p, drop);
}

/* Bytes become available at now: an idle line (or one the host stalled)
 * starts the next frame now, not in the past, so no burst makes up for
 * lost time. */
static void line_resume(struct espat_pacer *p, uint64_t now)
{
	if (p->line_ns < now) {
		p->line_ns = now;
		p->line_frac = 0;
	}
}

void espat_pacer_push(struct espat_pacer *p, const uint8_t *buf, size_t len, uint64_t now_ns)
{
	if (p->len == 0)
		line_resume(p, now_ns);
	/* More than the whole cap in one call: only its tail can survive. */
	if (len > ESPAT_PACER_CAP) {
		p->dropped += len - ESPAT_PACER_CAP;
		buf += len - ESPAT_PACER_CAP;
		len = ESPAT_PACER_CAP;
	}
	reserve(p, len);
	if (p->cap == 0)
		return; /* out of memory: nothing can be queued */
	len = len <= p->cap - p->len ? len : p->cap - p->len;
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

/* Bytes whose frames end by now + ahead: a byte reaches the host when
 * its last stop bit does. */
static size_t due_bytes(struct espat_pacer *p, uint64_t now)
{
	uint64_t horizon = now + ESPAT_PACER_AHEAD_NS;
	if (p->line_ns >= horizon)
		return 0;
	/* Whole frames that fit in (horizon - line clock). The line clock is
	 * at most a few ms behind now (see line_resume), so the products stay
	 * far below 2^64. */
	uint64_t unit = 2ull * p->baud; /* fractions per ns */
	uint64_t ahead = (horizon - p->line_ns) * unit;
	if (ahead < p->line_frac)
		return 0;
	return (size_t)((ahead - p->line_frac) / ((uint64_t)p->frame_bits2 * NS_PER_S));
}

/* When the frame of the next byte would end, if it started at the line
 * clock. */
static uint64_t next_end_ns(const struct espat_pacer *p)
{
	uint64_t unit = 2ull * p->baud;
	uint64_t total = p->line_frac + (uint64_t)p->frame_bits2 * NS_PER_S;
	return p->line_ns + (total + unit - 1) / unit;
}

static void line_advance(struct espat_pacer *p, size_t n)
{
	uint64_t unit = 2ull * p->baud;
	/* n * bits2 * 1e9 overflows only past ~10^8 bytes in one write. */
	uint64_t total = p->line_frac + (uint64_t)n * p->frame_bits2 * NS_PER_S;
	p->line_ns += total / unit;
	p->line_frac = total % unit;
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
		size_t max = p->pace ? due_bytes(p, now_ns) : p->len;
		if (max == 0)
			return;
		size_t w = write_some(p, max);
		if (w == 0)
			return;
		if (p->pace)
			line_advance(p, w);
		advance(p, w);
	}
}

void espat_pacer_writable(struct espat_pacer *p, uint64_t now_ns)
{
	if (p->blocked) {
		line_resume(p, now_ns);
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
	uint64_t end = next_end_ns(p);
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
