/* The HTTP client commands (guide 3.6): AT+HTTPCLIENT, AT+HTTPGETSIZE,
 * AT+HTTPCGET, AT+HTTPCPOST, AT+HTTPCPUT, AT+HTTPURLCFG, AT+HTTPCHEAD.
 * Each request is one exchange of the module's HTTP client (cmd/httpc.h)
 * over the client-connection service, so Wi-Fi state, DNS, the world's
 * faults and TLS apply. Responses stream out as `+<CMD>:<len>,<data>` CR LF
 * records, never buffered whole. The preset URL and the global headers are
 * RAM only. The choices where the guide is silent are docs/COMPAT.md's
 * "HTTP client" rows (120-139). */
#ifndef ESPAT_CMD_HTTP_H
#define ESPAT_CMD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "cmd/httpc.h"

#define ESPAT_HTTPCMD_URL_MIN 8 /* AT+HTTPURLCFG <url_length> */
#define ESPAT_HTTPCMD_URL_MAX 8192
#define ESPAT_HTTPCMD_HEAD_MAX 2048         /* one AT+HTTPCHEAD header, bytes */
#define ESPAT_HTTPCMD_HEADS_MAX 16          /* AT+HTTPCHEAD headers kept */
#define ESPAT_HTTPCMD_BODY_MAX (160 * 1024) /* AT+HTTPCPOST/CPUT <length>: a C3's free heap */
#define ESPAT_HTTPCMD_BUF_DEFAULT 2048      /* <tx size>, <rx size> */
#define ESPAT_HTTPCMD_BUF_MAX 10240
#define ESPAT_HTTPCMD_CLIENT_REC 512 /* esp_http_client's buffer: AT+HTTPCLIENT, CPOST, CPUT */
#define ESPAT_HTTPCMD_TIMEOUT_DEFAULT 5000 /* <timeout>, ms of silence */
#define ESPAT_HTTPCMD_TIMEOUT_MAX 180000
#define ESPAT_HTTPCMD_ARGS_HEADERS 29 /* header arguments AT+HTTPCPOST takes */

/* The command a request answers. */
enum espat_httpcmd_op {
	ESPAT_HTTPCMD_NONE,
	ESPAT_HTTPCMD_CLIENT,  /* AT+HTTPCLIENT */
	ESPAT_HTTPCMD_GETSIZE, /* AT+HTTPGETSIZE */
	ESPAT_HTTPCMD_CGET,    /* AT+HTTPCGET */
	ESPAT_HTTPCMD_CPOST,   /* AT+HTTPCPOST */
	ESPAT_HTTPCMD_CPUT,    /* AT+HTTPCPUT */
};

/* What fixed-length data entry after ">" fills. */
enum espat_httpcmd_entry {
	ESPAT_HTTPCMD_ENTRY_NONE,
	ESPAT_HTTPCMD_ENTRY_URL,  /* AT+HTTPURLCFG */
	ESPAT_HTTPCMD_ENTRY_HEAD, /* AT+HTTPCHEAD */
	ESPAT_HTTPCMD_ENTRY_BODY, /* AT+HTTPCPOST / AT+HTTPCPUT */
};

struct espat_http {
	char *url; /* AT+HTTPURLCFG, owned, NUL-ended; NULL: none */
	size_t url_len;
	char *heads[ESPAT_HTTPCMD_HEADS_MAX]; /* AT+HTTPCHEAD, owned, NUL-ended */
	size_t nheads;
	/* data entry */
	enum espat_httpcmd_entry entry;
	uint8_t *ebuf;     /* the bytes so far, owned */
	size_t elen, egot; /* expected, received */
	/* AT+HTTPCPOST / AT+HTTPCPUT between the command and its body */
	enum espat_httpcmd_op pop;              /* which of the two */
	char *purl;                             /* the URL, owned */
	char *phdr[ESPAT_HTTPCMD_ARGS_HEADERS]; /* the command's headers, owned */
	size_t nphdr;
	/* the request under way */
	enum espat_httpcmd_op op;
	struct espat_httpc hc;
	uint8_t *rec;   /* one output record, owned */
	size_t rec_max; /* data bytes per record */
	size_t rec_cap;
	bool head;      /* the method is HEAD */
	int status;     /* the final response's */
	int64_t length; /* its Content-Length, -1: none */
	bool held;      /* the response is held back for the UART */
};

extern const struct espat_family espat_http_family;

#endif
