#include "posix/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

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

static bool enabled(const struct espat_log *lg, enum espat_log_level lvl)
{
	return lg != NULL && lg->out != NULL && lvl <= lg->level;
}

/* Writes "espat: <level>: msg\n" in one write, so the line does not
 * interleave with another process sharing the terminal. */
static void emit(const struct espat_log *lg, enum espat_log_level lvl, const char *msg)
{
	char line[ESPAT_LOG_LINE_MAX];
	int n = snprintf(line, sizeof(line) - 1, "espat: %s: %s", level_names[lvl], msg);
	size_t len = n < 0 ? 0 : (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	fwrite(line, 1, len, lg->out);
	fflush(lg->out);
}

void espat_log(const struct espat_log *lg, enum espat_log_level lvl, const char *fmt, ...)
{
	if (!enabled(lg, lvl))
		return;
	char msg[ESPAT_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(lg, lvl, msg);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void espat_log_norepeat(const struct espat_log *lg, struct espat_log_repeat *rep,
                        enum espat_log_level lvl, const char *fmt, ...)
{
	if (!enabled(lg, lvl))
		return;
	char msg[ESPAT_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uint64_t now = mono_ns();
	bool same = strcmp(msg, rep->last) == 0;
	if (same && now - rep->at_ns < (uint64_t)ESPAT_LOG_REPEAT_S * 1000000000u) {
		rep->dropped++;
		return;
	}
	if (same && rep->dropped > 0) {
		char more[ESPAT_LOG_LINE_MAX + 64]; /* emit() cuts it to a line */
		snprintf(more, sizeof(more), "%s (%u more times since it was last said)", msg,
		         rep->dropped);
		emit(lg, lvl, more);
	} else {
		emit(lg, lvl, msg);
	}
	memcpy(rep->last, msg, sizeof(msg));
	rep->at_ns = now;
	rep->dropped = 0;
}

int espat_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
