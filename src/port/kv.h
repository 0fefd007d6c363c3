/* A key-value store with namespaces, the NVS of the module. Two instances
 * exist: the settings NVS ("nvs") and the manufacturing NVS ("mfg_nvs").
 *
 * Contract for every implementation:
 *  - set() of a value equal to the stored one writes nothing;
 *  - a completed set()/erase() survives a crash; an interrupted one leaves
 *    the old value (old or new, never a mix, never a corrupt store);
 *  - names are NUL-terminated, at most ESPAT_KV_NAME_MAX bytes (NVS: 15). */
#ifndef ESPAT_PORT_KV_H
#define ESPAT_PORT_KV_H

#include <stddef.h>
#include <stdint.h>

#define ESPAT_KV_NAME_MAX 15
#define ESPAT_KV_VALUE_MAX (64 * 1024)

/* Called once per entry by list(); val is valid only during the call. */
typedef void espat_kv_each_fn(void *cbuser, const char *ns, const char *key,
			      const uint8_t *val, size_t len);

/* The manufacturing NVS holds typed values, as AT+SYSMFG reads and writes
 * them: one type byte (its <type>), then the value: integers little-endian
 * in their width, strings and binaries as raw bytes. */
enum espat_mfg_type {
	ESPAT_MFG_U8 = 1,
	ESPAT_MFG_I8,
	ESPAT_MFG_U16,
	ESPAT_MFG_I16,
	ESPAT_MFG_U32,
	ESPAT_MFG_I32,
	ESPAT_MFG_STR,
	ESPAT_MFG_BLOB,
};

struct espat_kv {
	/* Returns the value's full length and copies at most cap bytes into
	 * buf (which may be NULL when cap is 0: a length probe); -1 when
	 * absent. */
	long (*get)(void *user, const char *ns, const char *key, uint8_t *buf, size_t cap);
	/* 0 on success, -1 on failure (the old value stays). */
	int (*set)(void *user, const char *ns, const char *key, const uint8_t *val, size_t len);
	/* Erases one key, or every key of ns when key is NULL, or everything
	 * when ns is NULL too. 0 on success (absent counts as success). */
	int (*erase)(void *user, const char *ns, const char *key);
	/* Calls fn for each entry, in namespace then key order; ns NULL = all. */
	void (*list)(void *user, const char *ns, espat_kv_each_fn *fn, void *cbuser);
	void *user;
};

#endif
