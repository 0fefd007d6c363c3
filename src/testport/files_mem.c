#include "testport/files_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct espat_file_w {
	char name[ESPAT_FILES_NAME_MAX + 1];
	uint8_t *data;
	size_t len, cap;
};

static struct espat_file_w *m_create(void *user, const char *name)
{
	struct espat_files_mem *fm = user;
	if (!espat_files_name_ok(name))
		return NULL;
	struct espat_file_w *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	snprintf(w->name, sizeof(w->name), "%s", name);
	fm->open++;
	return w;
}

static int m_write(void *user, struct espat_file_w *w, const uint8_t *p, size_t n)
{
	struct espat_files_mem *fm = user;
	if (fm->fail)
		return -1;
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap - w->len < n)
			cap *= 2;
		uint8_t *d = realloc(w->data, cap);
		if (!d)
			return -1;
		w->data = d;
		w->cap = cap;
	}
	memcpy(w->data + w->len, p, n);
	w->len += n;
	return 0;
}

static void m_abort(void *user, struct espat_file_w *w)
{
	struct espat_files_mem *fm = user;
	fm->open--;
	free(w->data);
	free(w);
}

static int m_commit(void *user, struct espat_file_w *w)
{
	struct espat_files_mem *fm = user;
	struct espat_files_mem_file *f = (struct espat_files_mem_file *)espat_files_mem_get(fm, w->name);
	if (fm->fail || (!f && fm->n == ESPAT_FILES_MEM_MAX)) {
		m_abort(user, w);
		return -1;
	}
	if (!f) {
		f = &fm->files[fm->n++];
		snprintf(f->name, sizeof(f->name), "%s", w->name);
	}
	free(f->data);
	f->data = w->data; /* the writer's buffer becomes the file */
	f->len = w->len;
	fm->open--;
	free(w);
	return 0;
}

void espat_files_mem_free(struct espat_files_mem *fm)
{
	for (size_t i = 0; i < fm->n; i++)
		free(fm->files[i].data);
	memset(fm, 0, sizeof(*fm));
}

struct espat_files espat_files_mem_port(struct espat_files_mem *fm)
{
	return (struct espat_files){m_create, m_write, m_commit, m_abort, fm};
}

const struct espat_files_mem_file *espat_files_mem_get(const struct espat_files_mem *fm,
                                                       const char *name)
{
	for (size_t i = 0; i < fm->n; i++)
		if (strcmp(fm->files[i].name, name) == 0)
			return &fm->files[i];
	return NULL;
}
