#include "cmd/registry.h"

#include "cmd/basic.h"
#include "cmd/ota.h"
#include "cmd/ssl.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_svc.h"
#include "cmd/wifi.h"

const struct espat_cmd_table *const espat_registry[] = {
	&espat_basic_table,
	&espat_wifi_table,
	&espat_tcpip_table,
	&espat_ssl_table,
	&espat_svc_table,
	&espat_ota_table,
};

const size_t espat_registry_len = sizeof(espat_registry) / sizeof(espat_registry[0]);
