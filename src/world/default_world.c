/* The built-in world (used without --world): the same APs as
 * docs/world.example.ini, which a unit test parses and compares with this. */
#include "world/world.h"

#include <stddef.h>

/* One row per setting; a new label starts an AP. */
static const struct {
	const char *label, *key, *value;
} rows[] = {
    /* The module's way out: sockets on this network use the host's stack. */
    {"espat", "ssid", "espat"},
    {"espat", "security", "wpa2"},
    {"espat", "password", "espatpass"},
    {"espat", "channel", "6"},
    {"espat", "rssi", "-42"},
    {"espat", "wps", "yes"},
    {"espat", "network", "host"},
    {"espat", "subnet", "192.168.3.0/24"},
    {"espat", "gateway", "192.168.3.1"},
    {"espat", "dns", "192.168.3.1"},
    {"home", "ssid", "HomeNet-2G"},
    {"home", "security", "wpa-wpa2"},
    {"home", "password", "homepass123"},
    {"home", "channel", "1"},
    {"home", "rssi", "-67"},
    {"home", "network", "none"},
    {"cafe", "ssid", "Cafe Free WiFi"},
    {"cafe", "security", "open"},
    {"cafe", "channel", "11"},
    {"cafe", "rssi", "-80"},
    {"cafe", "network", "none"},
    {"office", "ssid", "Office-Corp"},
    {"office", "security", "wpa2-enterprise"},
    {"office", "eap_methods", "peap,ttls"},
    {"office", "eap_identity", "\"\""},
    {"office", "eap_username", "alice"},
    {"office", "eap_password", "corp-secret"},
    {"office", "channel", "11"},
    {"office", "rssi", "-71"},
    {"wpa3", "ssid", "Modern-WPA3"},
    {"wpa3", "security", "wpa3"},
    {"wpa3", "password", "sae-secret-1"},
    {"wpa3", "channel", "13"},
    {"wpa3", "rssi", "-75"},
};

void espat_world_default(struct espat_world *w)
{
	struct espat_world_err err;
	struct espat_world_ap *ap = NULL;
	espat_world_init(w);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!ap || espat_world_find(w, rows[i].label) != ap)
			ap = espat_world_add(w, rows[i].label, &err);
		/* The rows are constant and checked by test_world. */
		if (ap)
			espat_world_set(w, ap, rows[i].key, rows[i].value, &err);
	}
}
