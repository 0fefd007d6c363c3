#include "cmd/registry.h"

#include "cmd/basic.h"
#include "cmd/conn.h"
#include "cmd/drv.h"
#include "cmd/fs.h"
#include "cmd/http.h"
#include "cmd/mqtt.h"
#include "cmd/ota.h"
#include "cmd/sig.h"
#include "cmd/svc.h"
#include "cmd/tcpip.h"
#include "cmd/tcpip_ssl.h"
#include "cmd/user.h"
#include "cmd/web.h"
#include "cmd/wifi.h"
#include "cmd/ws.h"

/* clang-format off */
static const struct espat_family *const rows[] = {
	&espat_basic_family,
	&espat_wifi_family,
	&espat_conn_family, /* no commands: the service every family dials through */
	&espat_tcpip_family,
	&espat_ssl_family,
	&espat_svc_family,
	&espat_ota_family,
	/* the services, in the guide's section order (3.5-3.12) */
	&espat_mqtt_family,
	&espat_http_family,
	&espat_fs_family,
	&espat_ws_family,
	&espat_sig_family,
	&espat_web_family,
	&espat_drv_family,
	&espat_user_family,
};
/* clang-format on */

const struct espat_registry espat_registry = {rows, sizeof(rows) / sizeof(rows[0])};
