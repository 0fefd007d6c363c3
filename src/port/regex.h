/* POSIX basic regular expressions, for AT+SYSMSGFILTERCFG. The core has no
 * OS headers, so the platform compiles and matches. */
#ifndef ESPAT_PORT_REGEX_H
#define ESPAT_PORT_REGEX_H

#include <stddef.h>
#include <stdint.h>

struct espat_regex {
	/* Compiles a BRE of len bytes (may contain CR/LF, no NUL). Returns an
	 * opaque handle or NULL when the pattern is invalid. */
	void *(*compile)(void *user, const uint8_t *pat, size_t len);
	/* 1 if the BRE matches somewhere in s[0..len), else 0; on a match
	 * s[*so..*eo) is the leftmost-longest match. */
	int (*match)(void *user, void *re, const uint8_t *s, size_t len, size_t *so, size_t *eo);
	void (*release)(void *user, void *re);
	void *user;
};

#endif
