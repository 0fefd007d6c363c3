/* The transcript (--trace FILE): every byte both ways, in the style of the
 * guide's logs. One trace line per line of data:
 *
 *   [12:00:01:234] >> AT+GMR\r\n          host -> module
 *   [12:00:01:240] << OK\r\n              module -> host
 *
 * The timestamp is local wall time of the line's first byte. Printable
 * ASCII is written as is, except backslash (\\); CR and LF as \r and \n,
 * every other byte as \xNN. The file line ends after each LF of the data,
 * and when the direction changes; a line without LF that is continued by
 * the same direction goes on in the same trace line. The file is opened
 * for appending and flushed after every write. */
#ifndef ESPAT_POSIX_TRACE_H
#define ESPAT_POSIX_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum espat_trace_dir {
	ESPAT_TRACE_NONE,
	ESPAT_TRACE_IN,  /* host -> module, ">>" */
	ESPAT_TRACE_OUT, /* module -> host, "<<" */
};

struct espat_trace {
	FILE *f;                   /* NULL: tracing off */
	enum espat_trace_dir open; /* direction of an unterminated trace line */
};

/* Opens path for appending. 0, or -1 with errno set. */
int espat_trace_open(struct espat_trace *t, const char *path);
/* Records bytes in one direction; a no-op when tracing is off. Errors are
 * ignored: the transcript never stops the module. */
void espat_trace_bytes(struct espat_trace *t, enum espat_trace_dir dir, const uint8_t *p, size_t n);
void espat_trace_close(struct espat_trace *t);

#endif
