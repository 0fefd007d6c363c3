#include "posix/regex_posix.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

static void *rx_compile(void *user, const uint8_t *pat, size_t len)
{
	(void)user;
	/* regcomp wants a C string: a pattern with a NUL inside is invalid
	 * per the port contract, so refuse rather than truncate. */
	if (memchr(pat, '\0', len) != NULL)
		return NULL;
	char *s = malloc(len + 1);
	regex_t *re = malloc(sizeof(*re));
	if (s == NULL || re == NULL) {
		free(s);
		free(re);
		return NULL;
	}
	memcpy(s, pat, len);
	s[len] = '\0';
	int rc = regcomp(re, s, 0); /* no REG_NOSUB: the filter needs offsets */
	free(s);
	if (rc != 0) {
		free(re);
		return NULL;
	}
	return re;
}

static int rx_match(void *user, void *handle, const uint8_t *s, size_t len, size_t *so, size_t *eo)
{
	(void)user;
	/* REG_STARTEND bounds the match to s[0..len), but the subject is still
	 * a char * that sanitizers (and other libcs) scan to a NUL: match on a
	 * NUL-terminated copy. */
	char small[512];
	char *subject = len < sizeof(small) ? small : malloc(len + 1);
	if (subject == NULL)
		return 0;
	memcpy(subject, s, len);
	subject[len] = '\0';
	regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)len};
	int hit = regexec(handle, subject, 1, &m, REG_STARTEND) == 0;
	if (subject != small)
		free(subject);
	if (!hit)
		return 0;
	*so = (size_t)m.rm_so;
	*eo = (size_t)m.rm_eo;
	return 1;
}

static void rx_release(void *user, void *handle)
{
	(void)user;
	if (handle == NULL)
		return;
	regfree(handle);
	free(handle);
}

struct espat_regex espat_regex_posix_port(void)
{
	return (struct espat_regex){
	    .compile = rx_compile,
	    .match = rx_match,
	    .release = rx_release,
	    .user = NULL,
	};
}
