/* The one output writer. Every byte toward the host passes here: echo,
 * response lines, final codes, ERR CODE lines, prompts, data and
 * asynchronous reports.
 *
 * Output is made of messages, each written whole. Responses and final codes
 * go out at once; a report (WIFI CONNECTED, +IPD, ...) goes out at once too,
 * unless a streamed message is open (espat_wr_open), in which case it is
 * queued and flushed when the message closes: a report never splits a line
 * or an echo. Messages, but not echo or raw data, pass through the
 * AT+SYSMSGFILTER hook. */
#ifndef ESPAT_CORE_WRITER_H
#define ESPAT_CORE_WRITER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/pipe.h"

/* Reports waiting for an open message to close, at most this many bytes;
 * beyond it the newest report is dropped and counted. */
#define ESPAT_WR_QUEUE_MAX (16 * 1024)

/* A byte range [from, to) of a message. */
struct espat_span {
	size_t from, to;
};

/* AT+SYSMSGFILTER: returns how many ranges of p[0..n) to cut (0 = send the
 * message as it is, at most 2, in order, not overlapping); the rest of the
 * message is sent. */
typedef size_t espat_wr_filter_fn(void *user, const uint8_t *p, size_t n,
				  struct espat_span cut[2]);

/* AT+USERWKMCUCFG: asked before a report goes out while nothing holds
 * reports back; true lets it out now, false holds it (and every report
 * after it) until espat_wr_release(). The gate starts waking the host. */
typedef bool espat_wr_gate_fn(void *user);

struct espat_writer {
	struct espat_pipe pipe;      /* borrowed sink */
	espat_wr_filter_fn *filter;  /* AT+SYSMSGFILTER hook, or NULL */
	void *filter_user;
	bool syslog;                 /* AT+SYSLOG=1: ERR CODE before ERROR/busy */
	bool open;                   /* a streamed message is in progress */
	bool quiet;                  /* passthrough (AT+SYSMSG bit2 clear): reports are dropped */
	bool incomplete;             /* a response line was lost to memory: OK becomes ERROR */
	espat_wr_gate_fn *gate;      /* the host-wake hook, or NULL */
	void *gate_user;
	bool held;                   /* the gate holds reports back */
	bool waved;                  /* released while a message was open: its close sends them */
	size_t qlen;                 /* bytes in queue */
	uint64_t dropped_reports;    /* reports lost to a full queue */
	uint64_t lost_lines;         /* long lines lost to memory (never cut) */
	uint64_t bytes_out;          /* everything written to the pipe */
	/* Queued report bytes: inline, so queueing never allocates. */
	uint8_t queue[ESPAT_WR_QUEUE_MAX];
};

void espat_wr_init(struct espat_writer *w, const struct espat_pipe *pipe);
void espat_wr_free(struct espat_writer *w);

/* Echo of received command bytes: unfiltered, never queued. */
void espat_wr_echo(struct espat_writer *w, const uint8_t *p, size_t n);
/* Raw data toward the host (passthrough, fixed-length data): unfiltered. */
void espat_wr_raw(struct espat_writer *w, const uint8_t *p, size_t n);
/* One message, filtered. */
void espat_wr_msg(struct espat_writer *w, const uint8_t *p, size_t n);
/* One formatted line; "\r\n" is appended. Filtered as one message. */
void espat_wr_linef(struct espat_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void espat_wr_vlinef(struct espat_writer *w, const char *fmt, va_list ap);

/* Final result codes, framed "\r\nOK\r\n" and "\r\nERROR\r\n"; the error
 * form prints "ERR CODE:0x%08x\r\n" first under AT+SYSLOG=1. */
void espat_wr_ok(struct espat_writer *w);
void espat_wr_error(struct espat_writer *w, uint32_t code);
/* A free-standing result such as "SEND OK", framed like OK. */
void espat_wr_result(struct espat_writer *w, const char *text);
/* "busy p...\r\n", after "ERR CODE:0x010b0000\r\n" under AT+SYSLOG=1. */
void espat_wr_busy(struct espat_writer *w);
/* The data prompt ">", no line end. */
void espat_wr_prompt(struct espat_writer *w);

/* An asynchronous report line ("\r\n" appended), filtered; queued while a
 * message is open. */
void espat_wr_reportf(struct espat_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void espat_wr_report(struct espat_writer *w, const uint8_t *p, size_t n);

/* A message streamed in parts (e.g. a header now, its data later): reports
 * wait until espat_wr_close(). Parts are written unfiltered. */
void espat_wr_open(struct espat_writer *w);
void espat_wr_part(struct espat_writer *w, const uint8_t *p, size_t n);
void espat_wr_close(struct espat_writer *w);

/* The gate let the held reports go (the host is awake, or the wait is
 * over): they are written now, unless a message is open. */
void espat_wr_release(struct espat_writer *w);

#endif
