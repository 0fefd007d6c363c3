/* The built-in world (used without --world): the same APs and devices as
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

/* The devices on the pins (world/periph.h): "i2c" rows, then the SPI
 * memory's and the ADC's. */
static const struct {
	const char *label, *key, *value;
} i2c_rows[] = {
    {"eeprom", "addr", "0x50"},   {"eeprom", "type", "eeprom"},
    {"eeprom", "size", "256"},    {"sensor", "addr", "0x34"},
    {"sensor", "type", "sensor"}, {"sensor", "data", "0000000000000000000000000000001a"},
};

static void default_periph(struct espat_world *w)
{
	struct espat_world_err err;
	struct espat_sim_i2c *d = NULL;
	for (size_t i = 0; i < sizeof(i2c_rows) / sizeof(i2c_rows[0]); i++) {
		if (!d || espat_sim_i2c_find(&w->periph, i2c_rows[i].label) != d)
			d = espat_sim_i2c_add(&w->periph, i2c_rows[i].label, &err);
		/* constant rows, checked by test_world */
		if (d)
			espat_sim_i2c_set(d, i2c_rows[i].key, i2c_rows[i].value, &err);
	}
	if (espat_sim_spi_attach(&w->periph, "flash", &err) == 0)
		espat_sim_spi_set(&w->periph.spi, "size", "4096", &err);
	espat_sim_adc_set(&w->periph, 0, "1200", &err);
}

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
	default_periph(w);
}
