/* --mfg-raw DIR: flashes PKI files laid out as esp-at's
 * customized_partitions/raw_data (guide 6.8) into the manufacturing NVS,
 * the way esp-at's build turns them into mfg_nvs.bin (mfg_nvs.py):
 *  - each subdirectory of DIR is a namespace (its name, 1-15 bytes);
 *  - its files ending in .crt, .key or .pem, sorted by name, are its keys:
 *    the namespace's own name when the directory holds one file, else
 *    "<namespace>.<index>" from 0;
 *  - each value is the file's bytes as an AT+SYSMFG binary (type 8).
 * A namespace found in DIR replaces the one in the store (its old keys
 * go); namespaces DIR does not hold are left alone. */
#ifndef ESPAT_POSIX_MFG_RAW_H
#define ESPAT_POSIX_MFG_RAW_H

#include <stddef.h>

#include "port/kv.h"

/* The number of keys written, or -1 with a one-line reason in err (nothing
 * is written when DIR cannot be read whole). */
int espat_mfg_raw_load(const struct espat_kv *kv, const char *dir, char *err, size_t errlen);

#endif
