#include "testport/http_mem.h"

#include <stdlib.h>
#include <string.h>

/* A request under way: a snapshot of its route (so a test may re-route
 * while it runs) and where it is. */
enum step {
	STEP_RESOLVE,
	STEP_CONNECT,
	STEP_STATUS,
	STEP_BODY,
};

struct espat_http_req {
	struct espat_http_req *next;
	struct espat_http_cbs cb;
	void *cbuser;
	enum espat_http_mem_fail fail;
	int status;
	bool no_length;
	uint8_t *body; /* owned copy */
	size_t len, off;
	char save_as[ESPAT_HTTP_SAVE_NAME_MAX + 1]; /* "" = none */
	enum step step;
	uint64_t due; /* UINT64_MAX: never (a silent server) */
	bool dead;    /* cancelled from inside its own callback */
};

void espat_http_mem_init(struct espat_http_mem *h, const uint64_t *now)
{
	memset(h, 0, sizeof(*h));
	h->now = now;
	h->step_ms = ESPAT_HTTP_MEM_STEP_MS;
	h->chunk = ESPAT_HTTP_MEM_CHUNK;
}

static void req_free(struct espat_http_req *r)
{
	free(r->body);
	free(r);
}

static void unlink_req(struct espat_http_mem *h, struct espat_http_req *r)
{
	for (struct espat_http_req **pp = &h->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	}
}

void espat_http_mem_free(struct espat_http_mem *h)
{
	while (h->reqs) {
		struct espat_http_req *r = h->reqs;
		h->reqs = r->next;
		req_free(r);
	}
	for (size_t i = 0; i < h->nroutes; i++)
		free(h->routes[i].body);
	for (size_t i = 0; i < h->nfiles; i++)
		free(h->files[i].data);
	memset(h, 0, sizeof(*h));
}

/* Copies n bytes into a fresh buffer (a 1-byte one for n == 0, so a NULL
 * always means out of memory). */
static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* *dst (owned, *dlen bytes) becomes a copy of p[0..n); false (and *dst
 * unchanged) when out of memory. */
static bool replace_bytes(uint8_t **dst, size_t *dlen, const void *p, size_t n)
{
	uint8_t *d = dup_bytes(p, n);
	if (!d)
		return false;
	free(*dst);
	*dst = d;
	*dlen = n;
	return true;
}

struct espat_http_mem_route *espat_http_mem_route(struct espat_http_mem *h, const char *url,
                                                  int status, const void *body, size_t len)
{
	if (strlen(url) > ESPAT_HTTP_URL_MAX)
		return NULL;
	struct espat_http_mem_route *r = NULL;
	for (size_t i = 0; i < h->nroutes && !r; i++)
		if (strcmp(h->routes[i].url, url) == 0)
			r = &h->routes[i];
	if (!r) {
		if (h->nroutes == ESPAT_HTTP_MEM_ROUTES)
			return NULL;
		r = &h->routes[h->nroutes++];
		memset(r, 0, sizeof(*r));
		memcpy(r->url, url, strlen(url) + 1);
	}
	if (!replace_bytes(&r->body, &r->len, body, len))
		return NULL;
	r->status = status;
	r->fail = ESPAT_HTTP_MEM_ANSWER;
	r->no_length = false;
	return r;
}

/* Length of "scheme://host[:port]" at the start of url (the whole URL when
 * it has no path). */
static size_t origin_len(const char *url)
{
	const char *s = strstr(url, "://");
	if (!s)
		return 0;
	const char *slash = strchr(s + 3, '/');
	return slash ? (size_t)(slash - url) : strlen(url);
}

/* The route for url, or a 404 / unknown-server stand-in in *tmp. */
static const struct espat_http_mem_route *lookup(const struct espat_http_mem *h, const char *url,
                                                 struct espat_http_mem_route *tmp)
{
	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].url, url) == 0)
			return &h->routes[i];
	memset(tmp, 0, sizeof(*tmp));
	tmp->fail = ESPAT_HTTP_MEM_NO_NAME;
	size_t o = origin_len(url);
	for (size_t i = 0; i < h->nroutes && o > 0; i++) {
		if (origin_len(h->routes[i].url) == o && memcmp(h->routes[i].url, url, o) == 0) {
			tmp->fail = ESPAT_HTTP_MEM_ANSWER;
			tmp->status = 404;
			break;
		}
	}
	return tmp;
}

static void remember(struct espat_http_mem *h, const struct espat_http_get *g)
{
	if (h->nseen == ESPAT_HTTP_MEM_LOG) /* keep the newest: shift the oldest out */
		memmove(&h->seen[0], &h->seen[1], sizeof(h->seen[0]) * (ESPAT_HTTP_MEM_LOG - 1));
	size_t i = h->nseen < ESPAT_HTTP_MEM_LOG ? h->nseen : ESPAT_HTTP_MEM_LOG - 1;
	struct espat_http_mem_seen *s = &h->seen[i];
	memset(s, 0, sizeof(*s));
	memcpy(s->url, g->url, strlen(g->url) + 1);
	size_t used = 0;
	for (size_t k = 0; k < ESPAT_HTTP_HEADERS_MAX && g->headers[k]; k++) {
		size_t n = strlen(g->headers[k]);
		if (used + n + 1 >= sizeof(s->headers))
			break;
		memcpy(s->headers + used, g->headers[k], n);
		used += n;
		s->headers[used++] = '\n';
	}
	if (h->nseen < ESPAT_HTTP_MEM_LOG)
		h->nseen++;
	h->ngets++;
}

static struct espat_http_req *mem_get(void *user, const struct espat_http_get *g,
                                      const struct espat_http_cbs *cb, void *cbuser, int *err)
{
	struct espat_http_mem *h = user;
	if (!g->url || strlen(g->url) > ESPAT_HTTP_URL_MAX || origin_len(g->url) == 0 ||
	    (g->save_as && !espat_http_save_name_ok(g->save_as))) {
		*err = ESPAT_NET_EINVAL;
		return NULL;
	}
	struct espat_http_mem_route tmp;
	const struct espat_http_mem_route *rt = lookup(h, g->url, &tmp);
	struct espat_http_req *r = calloc(1, sizeof(*r));
	if (r)
		r->body = dup_bytes(rt->body, rt->len);
	if (!r || !r->body) {
		free(r);
		*err = ESPAT_NET_ENOMEM;
		return NULL;
	}
	remember(h, g);
	r->cb = *cb;
	r->cbuser = cbuser;
	r->fail = rt->fail;
	r->status = rt->status;
	r->no_length = rt->no_length;
	r->len = rt->len;
	if (g->save_as)
		memcpy(r->save_as, g->save_as, strlen(g->save_as) + 1);
	r->step = STEP_RESOLVE;
	r->due = *h->now + h->step_ms;
	r->next = h->reqs;
	h->reqs = r;
	return r;
}

static void mem_cancel(void *user, struct espat_http_req *r)
{
	struct espat_http_mem *h = user;
	if (r == h->delivering) {
		r->dead = true; /* freed once its callback returns */
		return;
	}
	unlink_req(h, r);
	req_free(r);
}

struct espat_http espat_http_mem_port(struct espat_http_mem *h)
{
	return (struct espat_http){.get = mem_get, .cancel = mem_cancel, .user = h};
}

/* Stores a saved body under its name; false when the table is full. */
static bool save_file(struct espat_http_mem *h, const char *name, const uint8_t *p, size_t n)
{
	struct espat_http_mem_file *f = NULL;
	for (size_t i = 0; i < h->nfiles && !f; i++)
		if (strcmp(h->files[i].name, name) == 0)
			f = &h->files[i];
	if (!f) {
		if (h->nfiles == ESPAT_HTTP_MEM_FILES)
			return false;
		f = &h->files[h->nfiles++];
		memset(f, 0, sizeof(*f));
		memcpy(f->name, name, strlen(name) + 1);
	}
	return replace_bytes(&f->data, &f->len, p, n);
}

/* Ends r: it leaves the list before done() runs (the contract: after
 * done() the request is gone). */
static void finish(struct espat_http_mem *h, struct espat_http_req *r, int err)
{
	if (err == 0 && r->save_as[0] && !save_file(h, r->save_as, r->body, r->len))
		err = ESPAT_NET_EIO;
	struct espat_http_cbs cb = r->cb;
	void *cbuser = r->cbuser;
	unlink_req(h, r);
	req_free(r);
	if (cb.done)
		cb.done(cbuser, err);
}

/* Runs r's next step (r->due has come). */
static void step(struct espat_http_mem *h, struct espat_http_req *r)
{
	uint64_t next = *h->now + h->step_ms;
	h->delivering = r;
	switch (r->step) {
	case STEP_RESOLVE:
		if (r->fail == ESPAT_HTTP_MEM_NO_NAME) {
			h->delivering = NULL;
			finish(h, r, ESPAT_NET_ENOTFOUND);
			return;
		}
		r->step = STEP_CONNECT;
		r->due = next;
		if (r->cb.phase)
			r->cb.phase(r->cbuser, ESPAT_HTTP_RESOLVED);
		break;
	case STEP_CONNECT:
		if (r->fail == ESPAT_HTTP_MEM_REFUSED) {
			h->delivering = NULL;
			finish(h, r, ESPAT_NET_EREFUSED);
			return;
		}
		r->step = STEP_STATUS;
		r->due = r->fail == ESPAT_HTTP_MEM_SILENT ? UINT64_MAX : next;
		if (r->cb.phase)
			r->cb.phase(r->cbuser, ESPAT_HTTP_CONNECTED);
		break;
	case STEP_STATUS:
		r->step = STEP_BODY;
		r->due = next;
		if (r->cb.status)
			r->cb.status(r->cbuser, r->status, r->no_length ? -1 : (int64_t)r->len);
		break;
	case STEP_BODY: {
		size_t end = r->fail == ESPAT_HTTP_MEM_CUT ? r->len / 2 : r->len;
		if (r->off >= end) {
			h->delivering = NULL;
			finish(h, r, r->fail == ESPAT_HTTP_MEM_CUT ? ESPAT_NET_ERESET : 0);
			return;
		}
		size_t n = end - r->off < h->chunk ? end - r->off : h->chunk;
		const uint8_t *p = r->body + r->off;
		r->off += n;
		r->due = next;
		if (r->cb.body)
			r->cb.body(r->cbuser, p, n);
		break;
	}
	}
	h->delivering = NULL;
	if (r->dead) {
		unlink_req(h, r);
		req_free(r);
	}
}

uint64_t espat_http_mem_next(const struct espat_http_mem *h)
{
	uint64_t next = UINT64_MAX;
	for (const struct espat_http_req *r = h->reqs; r; r = r->next)
		if (r->due < next)
			next = r->due;
	return next;
}

void espat_http_mem_poll(struct espat_http_mem *h)
{
	/* one step at a time, earliest first: a callback may start or cancel
	 * requests, so the list is searched again after each */
	for (;;) {
		struct espat_http_req *due = NULL;
		for (struct espat_http_req *r = h->reqs; r; r = r->next)
			if (r->due <= *h->now && (!due || r->due < due->due))
				due = r;
		if (!due)
			return;
		step(h, due);
	}
}

size_t espat_http_mem_live(const struct espat_http_mem *h)
{
	size_t n = 0;
	for (const struct espat_http_req *r = h->reqs; r; r = r->next)
		n++;
	return n;
}

const struct espat_http_mem_seen *espat_http_mem_last(const struct espat_http_mem *h)
{
	return h->nseen ? &h->seen[h->nseen - 1] : NULL;
}

const struct espat_http_mem_file *espat_http_mem_file(const struct espat_http_mem *h,
                                                      const char *name)
{
	for (size_t i = 0; i < h->nfiles; i++)
		if (strcmp(h->files[i].name, name) == 0)
			return &h->files[i];
	return NULL;
}
