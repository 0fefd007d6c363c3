#include "posix/log.h"

#include <stdarg.h>
#include <string.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int espat_log_level_parse(const char *s, enum espat_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum espat_log_level)i;
			return 0;
		}
	}
	return -1;
}

void espat_log(const struct espat_log *lg, enum espat_log_level lvl, const char *fmt, ...)
{
	if (lg == NULL || lg->out == NULL || lvl > lg->level)
		return;
	/* Format into one buffer so the line reaches stderr in one write and
	 * does not interleave with another process sharing the terminal. */
	char line[1024];
	int n = snprintf(line, sizeof(line), "espat: %s: ", level_names[lvl]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	fwrite(line, 1, len, lg->out);
	fflush(lg->out);
}

int espat_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
