#include "posix/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

int espat_trace_open(struct espat_trace *t, const char *path)
{
	*t = (struct espat_trace){.f = NULL, .open = ESPAT_TRACE_NONE};
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	t->f = fdopen(fd, "a");
	if (t->f == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return 0;
}

static void stamp(FILE *f, enum espat_trace_dir dir)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(f, "[%02d:%02d:%02d:%03ld] %s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
	        ts.tv_nsec / 1000000L, dir == ESPAT_TRACE_IN ? ">>" : "<<");
}

void espat_trace_bytes(struct espat_trace *t, enum espat_trace_dir dir, const uint8_t *p, size_t n)
{
	if (t->f == NULL || n == 0)
		return;
	if (t->open != ESPAT_TRACE_NONE && t->open != dir)
		fputc('\n', t->f);
	if (t->open != dir)
		stamp(t->f, dir);
	t->open = dir;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\n') {
			fputs("\\n\n", t->f);
			if (i + 1 < n)
				stamp(t->f, dir);
			else
				t->open = ESPAT_TRACE_NONE;
		} else if (c == '\r') {
			fputs("\\r", t->f);
		} else if (c == '\\') {
			fputs("\\\\", t->f);
		} else if (c >= 0x20 && c < 0x7f) {
			fputc(c, t->f);
		} else {
			fprintf(t->f, "\\x%02X", c);
		}
	}
	fflush(t->f);
}

void espat_trace_close(struct espat_trace *t)
{
	if (t->f == NULL)
		return;
	if (t->open != ESPAT_TRACE_NONE)
		fputc('\n', t->f);
	fclose(t->f);
	t->f = NULL;
	t->open = ESPAT_TRACE_NONE;
}
