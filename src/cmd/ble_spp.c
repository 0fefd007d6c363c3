/* BLE SPP (guide 3.4.31-3.4.32): AT+BLESPPCFG, AT+BLESPP. */
#include <string.h>

#include "cmd/ble.h"
#include "cmd/params.h"

#define E(m) (&(m)->eng)

void espat_ble_spp_value_in(struct espat_module *m, size_t link, uint8_t srv, uint8_t chr,
                            const uint8_t *v, size_t n)
{
	(void)m, (void)link, (void)srv, (void)chr, (void)v, (void)n;
}

void espat_ble_spp_write_in(struct espat_module *m, size_t link, size_t row, const uint8_t *v,
                            size_t n)
{
	(void)m, (void)link, (void)row, (void)v, (void)n;
}

const struct espat_family espat_ble_spp_family = {
    .name = "ble_spp",
};
