/* libFuzzer target: the HID report descriptor walker (src/proto/hid.c).
 * The input is a report map. The walker must never read past it, and a
 * map it accepts declares at most ESPAT_HID_REPORTS_MAX reports, each no
 * longer than an ATT value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/hid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	uint8_t *map = malloc(size ? size : 1); /* exactly size bytes for ASan */
	if (!map)
		return 0;
	memcpy(map, data, size);
	struct espat_hid_map_info info;
	if (espat_hid_map_parse(map, size, &info) == ESPAT_HID_OK) {
		if (info.n > ESPAT_HID_REPORTS_MAX)
			abort();
		for (size_t i = 0; i < info.n; i++)
			if (info.report[i].len > 512 || info.report[i].kind > 2)
				abort();
	}
	free(map);
	return 0;
}
