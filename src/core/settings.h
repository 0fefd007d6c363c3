/* The settings model: when a command's configuration reaches flash.
 * Values are stored as the AT argument text that would set them
 * ("115200,8,1,0,3"), so they read back through the same tokenizer and stay
 * readable across versions. Queries always read RAM; only set commands
 * call espat_settings_save(). */
#ifndef ESPAT_CORE_SETTINGS_H
#define ESPAT_CORE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/args.h"
#include "port/kv.h"

#define ESPAT_SETTINGS_NS "at" /* NVS namespace of the AT settings */

enum espat_save {
	ESPAT_SAVE_NEVER,    /* RAM only (AT+UART_CUR, AT+CWINIT, ...) */
	ESPAT_SAVE_ALWAYS,   /* always written (AT+UART_DEF, AT+SAVETRANSLINK, AT+CWAUTOCONN) */
	ESPAT_SAVE_SYSSTORE, /* written only while AT+SYSSTORE=1 */
};

struct espat_settings {
	const struct espat_kv *kv; /* borrowed NVS */
	bool sysstore;             /* AT+SYSSTORE (factory default 1) */
};

/* Stores text under key if cls says so. Writing an unchanged value writes
 * nothing (the kv contract). Returns 0, or -1 when the store failed. */
int espat_settings_save(const struct espat_settings *s, enum espat_save cls, const char *key,
			const char *text);
int espat_settings_savef(const struct espat_settings *s, enum espat_save cls, const char *key,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reads key and tokenizes it into a. False when absent or unparsable. */
bool espat_settings_load(const struct espat_settings *s, const char *key, struct espat_args *a);
/* Removes one key (e.g. when a setting returns to its default). */
void espat_settings_erase(const struct espat_settings *s, const char *key);

#endif
