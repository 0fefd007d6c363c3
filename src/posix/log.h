/* Diagnostics of the Linux port: one line per message on stderr, prefixed
 * "espat: <level>: ". The level is part of a struct the app owns and lends
 * to every component, so two instances in one test process can log
 * differently. */
#ifndef ESPAT_POSIX_LOG_H
#define ESPAT_POSIX_LOG_H

#include <stdint.h>
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

/* Formats a one-line error for a caller's err buffer; returns -1 so that
 * `return espat_errf(err, errlen, ...)` reports and fails in one step. */
int espat_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses "error", "warn", "info" or "debug"; -1 for anything else. */
int espat_log_level_parse(const char *s, enum espat_log_level *out);

/* lg may be NULL (silent). Never fails, never blocks for long: stderr is
 * unbuffered and the messages are short. */
void espat_log(const struct espat_log *lg, enum espat_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ESPAT_LOG_LINE_MAX 1024 /* one line, prefix included; longer is cut */
#define ESPAT_LOG_REPEAT_S 60   /* espat_log_norepeat(): how long an equal line stays quiet */

/* What espat_log_norepeat() remembers for one source of messages that can
 * fail the same way many times a second (a link reconnecting every 100 ms,
 * SNTP trying its servers). Zeroed: nothing remembered. Owned by the
 * component whose messages it quiets. */
struct espat_log_repeat {
	char last[ESPAT_LOG_LINE_MAX]; /* the last message that went out, without the prefix */
	uint64_t at_ns;                /* when (CLOCK_MONOTONIC) */
	unsigned dropped;              /* equal messages dropped since */
};

/* As espat_log(), but a message equal to the last one that went out
 * through rep less than ESPAT_LOG_REPEAT_S seconds ago is dropped; when it
 * goes out again after that, it says how many were dropped. */
void espat_log_norepeat(const struct espat_log *lg, struct espat_log_repeat *rep,
                        enum espat_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define espat_log_error(lg, ...) espat_log((lg), ESPAT_LOG_ERROR, __VA_ARGS__)
#define espat_log_warn(lg, ...) espat_log((lg), ESPAT_LOG_WARN, __VA_ARGS__)
#define espat_log_info(lg, ...) espat_log((lg), ESPAT_LOG_INFO, __VA_ARGS__)
#define espat_log_debug(lg, ...) espat_log((lg), ESPAT_LOG_DEBUG, __VA_ARGS__)

#endif
