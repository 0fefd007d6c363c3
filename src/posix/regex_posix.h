/* espat_regex over POSIX regcomp/regexec: basic regular expressions, no
 * sub-match reporting, subjects delimited by length (REG_STARTEND) so they
 * may hold any byte. Stateless: the handles are heap-allocated regex_t. */
#ifndef ESPAT_POSIX_REGEX_POSIX_H
#define ESPAT_POSIX_REGEX_POSIX_H

#include "port/regex.h"

/* The port table; user is unused (NULL). */
struct espat_regex espat_regex_posix_port(void);

#endif
