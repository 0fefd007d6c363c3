#include "core/settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int espat_settings_save(const struct espat_settings *s, enum espat_save cls, const char *key,
			const char *text)
{
	if (cls == ESPAT_SAVE_NEVER || (cls == ESPAT_SAVE_SYSSTORE && !s->sysstore))
		return 0;
	return s->kv->set(s->kv->user, ESPAT_SETTINGS_NS, key, (const uint8_t *)text, strlen(text));
}

int espat_settings_savef(const struct espat_settings *s, enum espat_save cls, const char *key,
			 const char *fmt, ...)
{
	char text[ESPAT_LINE_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	return espat_settings_save(s, cls, key, text);
}

bool espat_settings_load(const struct espat_settings *s, const char *key, struct espat_args *a)
{
	char text[ESPAT_LINE_MAX];
	long n = s->kv->get(s->kv->user, ESPAT_SETTINGS_NS, key, (uint8_t *)text, sizeof(text));
	if (n < 0 || (size_t)n > sizeof(text))
		return false;
	size_t bad = 0;
	return espat_args_parse(a, text, (size_t)n, &bad) == ESPAT_TOK_OK;
}

void espat_settings_erase(const struct espat_settings *s, const char *key)
{
	s->kv->erase(s->kv->user, ESPAT_SETTINGS_NS, key);
}
