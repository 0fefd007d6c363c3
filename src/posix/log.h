/* Diagnostics of the Linux port: one line per message on stderr, prefixed
 * "espat: <level>: ". The level is part of a struct the app owns and lends
 * to every component, so two instances in one test process can log
 * differently. */
#ifndef ESPAT_POSIX_LOG_H
#define ESPAT_POSIX_LOG_H

#include <stdio.h>

enum espat_log_level {
	ESPAT_LOG_ERROR,
	ESPAT_LOG_WARN,
	ESPAT_LOG_INFO,
	ESPAT_LOG_DEBUG,
};

struct espat_log {
	enum espat_log_level level; /* messages above this level are dropped */
	FILE *out;                  /* stderr in the app; NULL silences */
};

/* Parses "error", "warn", "info" or "debug"; -1 for anything else. */
/* Formats a one-line error for a caller's err buffer; returns -1 so that
 * `return espat_errf(err, errlen, ...)` reports and fails in one step. */
int espat_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int espat_log_level_parse(const char *s, enum espat_log_level *out);

/* lg may be NULL (silent). Never fails, never blocks for long: stderr is
 * unbuffered and the messages are short. */
void espat_log(const struct espat_log *lg, enum espat_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define espat_log_error(lg, ...) espat_log((lg), ESPAT_LOG_ERROR, __VA_ARGS__)
#define espat_log_warn(lg, ...) espat_log((lg), ESPAT_LOG_WARN, __VA_ARGS__)
#define espat_log_info(lg, ...) espat_log((lg), ESPAT_LOG_INFO, __VA_ARGS__)
#define espat_log_debug(lg, ...) espat_log((lg), ESPAT_LOG_DEBUG, __VA_ARGS__)

#endif
