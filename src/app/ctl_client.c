/* espat ctl [--ctl PATH | --data-dir DIR] COMMAND ARGS... [--ctl PATH | --data-dir DIR]
 *
 * Sends argv as one JSON array of strings ended by "\n", reads the one
 * reply line, prints it. Blocking I/O is fine here: this is a short-lived
 * client, and a receive timeout keeps it from hanging on a stuck server. */
#include "app/ctl_client.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/ctl.h"
#include "app/options.h"

#define EXIT_FAILED 1 /* the command answered "ok":false */
#define EXIT_USAGE 2  /* bad usage, or no server to talk to */
#define REPLY_MAX (16u * 1024u * 1024u)
#define TIMEOUT_S 30

void espat_ctl_client_usage(FILE *f)
{
	fputs("Usage: espat ctl [--ctl PATH | --data-dir DIR] COMMAND [ARG]...\n"
	      "Inspects a running espat and changes its simulated world, through its control\n"
	      "socket. Prints the reply, one line of JSON: {\"ok\":true,...} or\n"
	      "{\"ok\":false,\"error\":\"...\"}.\n"
	      "\n"
	      "  --ctl PATH       the control socket (as given to espat --ctl)\n"
	      "  --data-dir DIR   the socket of the espat running on DIR: DIR/" ESPAT_CTL_SOCK_NAME
	      "\n"
	      "                   (default " ESPAT_DEFAULT_DATA_DIR "/" ESPAT_CTL_SOCK_NAME ")\n"
	      "  --help           print this help and exit\n"
	      "\n"
	      "Options may also follow the command (espat ctl state --data-dir DIR). After the\n"
	      "command only words that begin with -- are options; after a lone -- none are.\n"
	      "\n"
	      "Commands:\n",
	      f);
	espat_ctl_help(f);
	fputs("\n"
	      "SSIDs, passwords and other byte strings are shown, and may be given, with\n"
	      "escapes: \\\\ for a backslash, \\\" for a quote, \\xHH for any byte.\n"
	      "\n"
	      "Exit status: 0 ok, 1 the command failed (the error is also printed on stderr\n"
	      "as 'espat ctl: ...'), 2 usage error or no espat listening on the socket.\n"
	      "The protocol and every reply: docs/internals/ctl.md.\n",
	      f);
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("espat ctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_USAGE;
}

/* The request line, malloc'd; NULL with a message printed. */
static char *encode(size_t argc, const char *const *argv)
{
	json_t *a = json_array();
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < argc; i++) {
		json_t *s = json_string(argv[i]);
		if (s == NULL) {
			json_decref(a);
			usage("argument '%s' is not valid UTF-8 (write other bytes as \\xHH)",
			      argv[i]);
			return NULL;
		}
		json_array_append_new(a, s);
	}
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (text == NULL)
		usage("out of memory");
	return text;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads up to the first "\n" (or the end); the line without it, malloc'd.
 * NULL with errno set (0: the server closed without a reply). */
static char *recv_line(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= REPLY_MAX) {
				free(buf);
				errno = EMSGSIZE;
				return NULL;
			}
			char *p = realloc(buf, cap * 2);
			if (p == NULL) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			errno = e == EAGAIN || e == EWOULDBLOCK ? ETIMEDOUT : e;
			return NULL;
		}
		char *lf = n > 0 ? memchr(buf + len, '\n', (size_t)n) : NULL;
		len += (size_t)n;
		if (lf != NULL || n == 0) {
			if (lf != NULL)
				len = (size_t)(lf - buf);
			if (len == 0) {
				free(buf);
				errno = 0;
				return NULL;
			}
			buf[len] = '\0';
			return buf;
		}
	}
}

/* Sends words to the socket (path, or dir's, or the default) and prints
 * the reply; the exit status. */
static int client(const char *path, const char *dir, const char *const *words, size_t n)
{
	if (path != NULL && dir != NULL)
		return usage("give --ctl or --data-dir, not both");
	if (n == 0)
		return usage("no command (see espat ctl --help)");
	char err[512];
	if (espat_ctl_check(n, words, err, sizeof(err)) < 0)
		return usage("%s", err);

	char defpath[4096];
	if (path == NULL) {
		int w = snprintf(defpath, sizeof(defpath), "%s/%s",
		                 dir ? dir : ESPAT_DEFAULT_DATA_DIR, ESPAT_CTL_SOCK_NAME);
		if (w < 0 || (size_t)w >= sizeof(defpath))
			return usage("--data-dir %s: path too long", dir);
		path = defpath;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return usage("%s: path too long for a Unix socket (max %zu bytes)", path,
		             sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	char *req = encode(n, words);
	if (req == NULL)
		return EXIT_USAGE;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(req);
		return usage("socket: %s", strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		free(req);
		close(fd);
		if (dir == NULL && path == defpath)
			return usage("cannot connect to %s: %s (is espat running on the data dir "
			             "%s? name the module's with --data-dir DIR)",
			             path, strerror(e), ESPAT_DEFAULT_DATA_DIR);
		return usage("cannot connect to %s: %s (is espat running with this %s?)", path,
		             strerror(e), dir ? "--data-dir" : "--ctl");
	}
	struct timeval tv = {.tv_sec = TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int rc = send_all(fd, req, strlen(req)) < 0 || send_all(fd, "\n", 1) < 0 ? -1 : 0;
	int e = errno;
	free(req);
	char *reply = NULL;
	if (rc == 0) {
		reply = recv_line(fd);
		e = errno;
	}
	close(fd);
	if (reply == NULL)
		return usage("%s: %s", path,
		             e == 0 ? "the server closed the connection without a reply"
		                    : strerror(e));

	json_error_t jerr;
	json_t *o = json_loads(reply, 0, &jerr);
	json_t *ok = o ? json_object_get(o, "ok") : NULL;
	if (!json_is_boolean(ok)) {
		json_decref(o);
		usage("%s: not a reply: %s", path, reply);
		free(reply);
		return EXIT_USAGE;
	}
	puts(reply);
	fflush(stdout);
	rc = 0;
	if (!json_is_true(ok)) {
		const char *msg = json_string_value(json_object_get(o, "error"));
		fprintf(stderr, "espat ctl: %s\n", msg ? msg : "failed");
		rc = EXIT_FAILED;
	}
	json_decref(o);
	free(reply);
	return rc;
}

/* The options and the command's words of argv (argv[0] is "ctl"). Before
 * the command every word that begins with - is an option; after it only
 * those that begin with -- (a command's arguments may be negative numbers),
 * and after a lone -- none. words (argc entries) gets the command's words,
 * *nwords their count. -1: usage printed (return 2); 1: --help printed
 * (return 0); 0: go on. */
static int parse(int argc, char **argv, const char **path, const char **dir, const char **words,
                 size_t *nwords)
{
	bool options = true;
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool option = options && (n == 0 ? a[0] == '-' : strncmp(a, "--", 2) == 0);
		if (!option) {
			words[n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options = false;
			continue;
		}
		if (strcmp(a, "--help") == 0 || (n == 0 && strcmp(a, "-h") == 0)) {
			espat_ctl_client_usage(stdout);
			return 1;
		}
		const char **dst = strcmp(a, "--ctl") == 0        ? path
		                   : strcmp(a, "--data-dir") == 0 ? dir
		                                                  : NULL;
		if (dst == NULL) {
			usage(n == 0 ? "unknown option %s (see espat ctl --help)"
			             : "unknown option %s (see espat ctl --help; put -- before an "
			               "argument that begins with --)",
			      a);
			return -1;
		}
		if (i + 1 >= argc || argv[i + 1][0] == '\0') {
			usage("%s needs a value", a);
			return -1;
		}
		if (*dst != NULL) {
			usage("%s given twice", a);
			return -1;
		}
		*dst = argv[++i];
	}
	*nwords = n;
	return 0;
}

int espat_ctl_client_main(int argc, char **argv)
{
	const char *path = NULL, *dir = NULL;
	const char **words = calloc((size_t)argc, sizeof(*words));
	if (words == NULL)
		return usage("out of memory");
	size_t n = 0;
	int rc = parse(argc, argv, &path, &dir, words, &n);
	if (rc == 0)
		rc = client(path, dir, words, n);
	else
		rc = rc > 0 ? 0 : EXIT_USAGE;
	free(words);
	return rc;
}
