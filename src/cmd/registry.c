#include "cmd/registry.h"

#include "cmd/basic.h"
#include "cmd/ble.h"
#include "cmd/ble_blufi.h"
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

/* What ESP-AT v3.3 prints (guide 3.1-3.3). */
static const struct espat_dialect esp32c3_dialect = {
    .chip = "esp32c3",
    /* esp-at at_init.c writes "\r\nready\r\n" once the port is up */
    .boot_text = "\r\nready\r\n",
    .wifi_connected = "WIFI CONNECTED",
    .wifi_got_ip = "WIFI GOT IP",
    .wifi_disconnect = "WIFI DISCONNECT",
    .smart_got_info = "Smart get wifi info",
    .smart_connected = "smartconfig connected wifi",
    .jap_fail_final = NULL, /* the engine's ERROR, with its ERR CODE */
    .already_connected = "ALREADY CONNECTED",
    .link_builded = NULL,
    .ping_prefix = "+PING:",
    .ping_timeout = "+PING:TIMEOUT",
    .ota_progress = "+CIPUPDATE:",
    .sap_pwd_max = 63,
    .send_max = 8192,
};

/* What the ESP8266 AT v1.5 firmware prints (the second seed; the boot
 * text is COMPAT #300). */
static const struct espat_dialect esp8266_dialect = {
    .chip = "esp8266",
    .boot_text = "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nready\r\n",
    .wifi_connected = "WiFi CONNECTED",
    .wifi_got_ip = "WiFi GOT IP",
    .wifi_disconnect = "WiFi DISCONNECT",
    .smart_got_info = "Smart get WiFi info",
    .smart_connected = NULL, /* v1.5 says only WiFi CONNECTED, WiFi GOT IP */
    .jap_fail_final = "FAIL",
    .already_connected = "ALREADY CONNECT",
    .link_builded = "Link is builded",
    .ping_prefix = "+",
    .ping_timeout = NULL, /* "ERROR // means ping fail" */
    .ota_progress = "+CIUPDATE:",
    .sap_pwd_max = 64,
    .send_max = 2048,
};

/* clang-format off */
static const struct espat_family *const esp32c3_rows[] = {
	&espat_basic_family,
	&espat_wifi_family,
	&espat_conn_family, /* no commands: the service every family dials through */
	&espat_tcpip_family,
	&espat_ssl_family,
	&espat_svc_family,
	&espat_ota_family,
	&espat_ble_family, /* Bluetooth LE (3.4), after TCP/IP (3.3) */
	&espat_ble_gatts_family, /* its GATT server commands (3.4.18-3.4.25) */
	&espat_ble_periodic_family, /* periodic advertising and sync (3.4.48-3.4.52) */
	&espat_ble_sec_family,   /* its security commands (3.4.33-3.4.40) */
	&espat_ble_hid_family,   /* HID over GATT (3.4.41-3.4.44) */
	&espat_ble_gattc_family, /* its GATT client commands (3.4.26-3.4.30) */
	&espat_ble_spp_family,   /* BLE SPP (3.4.31-3.4.32) */
	&espat_blufi_family, /* BluFi (3.4.45-3.4.47) */
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

/* The v1.5 set: basic (its section 3), Wi-Fi (4), TCP/IP (5); the
 * client-connection service under the links. Nothing else: the services
 * v1.5 lacks (MQTT, HTTP, FS, ...) are not rows, so they answer ERROR. */
static const struct espat_family *const esp8266_rows[] = {
	&espat_basic_v15_family,
	&espat_wifi_v15_family,
	&espat_conn_family,
	&espat_tcpip_v15_family,
	&espat_ssl_v15_family,
	&espat_svc_v15_family, /* AT+PING, AT+MDNS */
	&espat_ota_v15_family, /* AT+CIUPDATE */
};
/* clang-format on */

/* module.c gives the engine at most ESPAT_FAMILIES_MAX tables: a registry
 * that outgrows it must fail to build, not lose commands */
_Static_assert(sizeof(esp32c3_rows) / sizeof(esp32c3_rows[0]) <= ESPAT_FAMILIES_MAX,
               "raise ESPAT_FAMILIES_MAX");
_Static_assert(sizeof(esp8266_rows) / sizeof(esp8266_rows[0]) <= ESPAT_FAMILIES_MAX,
               "raise ESPAT_FAMILIES_MAX");

const struct espat_registry espat_registry_esp32c3 = {
    esp32c3_rows, sizeof(esp32c3_rows) / sizeof(esp32c3_rows[0]), &esp32c3_dialect};
const struct espat_registry espat_registry_esp8266 = {
    esp8266_rows, sizeof(esp8266_rows) / sizeof(esp8266_rows[0]), &esp8266_dialect};

const struct espat_registry *espat_registry_of(enum espat_chip chip)
{
	return chip == ESPAT_CHIP_ESP8266 ? &espat_registry_esp8266 : &espat_registry_esp32c3;
}
