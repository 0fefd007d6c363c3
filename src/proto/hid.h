/* HID over GATT (the Bluetooth HID Service 1.0 and HOGP, with the USB HID
 * 1.11 report descriptor format): the one HID device ESP-AT's AT+BLEHIDINIT
 * makes, a keyboard, a mouse and consumer control in one report map, and
 * the input reports AT+BLEHIDKB, AT+BLEHIDMUS and AT+BLEHIDCONSUMER send.
 * Also a small walker of report descriptors that says which reports a map
 * declares and how long each is, so tests (and a central) can check a
 * report against the map that announced it.
 *
 * Pure: no module, no allocation. */
#ifndef ESPAT_PROTO_HID_H
#define ESPAT_PROTO_HID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Report IDs of the map (each an input report unless said). */
enum espat_hid_report_id {
	ESPAT_HID_ID_KEYBOARD = 1, /* input: modifiers, reserved, 6 key codes; output: 5 LEDs */
	ESPAT_HID_ID_MOUSE = 2,    /* input: 3 buttons, X, Y, wheel */
	ESPAT_HID_ID_CONSUMER = 3, /* input: one 16-bit Consumer page usage */
};

#define ESPAT_HID_KB_LEN 8u       /* a keyboard input report, without its ID */
#define ESPAT_HID_MOUSE_LEN 4u    /* a mouse input report */
#define ESPAT_HID_CONSUMER_LEN 2u /* a consumer control input report */

/* The report map (the Report Map characteristic's value). */
extern const uint8_t espat_hid_report_map[];
extern const size_t espat_hid_report_map_len;

/* The three input reports, as the Report characteristic carries them
 * (little-endian, no report ID: the Report Reference descriptor names it). */
void espat_hid_keyboard(uint8_t modifiers, const uint8_t keys[6], uint8_t out[ESPAT_HID_KB_LEN]);
void espat_hid_mouse(uint8_t buttons, int8_t x, int8_t y, int8_t wheel,
                     uint8_t out[ESPAT_HID_MOUSE_LEN]);
void espat_hid_consumer(uint16_t usage, uint8_t out[ESPAT_HID_CONSUMER_LEN]);

/* ---- report descriptors ----------------------------------------------------- */

#define ESPAT_HID_REPORTS_MAX 16u

/* One report a map declares: its ID (0 when the map uses none), kind
 * (0 input, 1 output, 2 feature) and length in bytes (ID not counted). */
struct espat_hid_report {
	uint8_t id;
	uint8_t kind;
	uint16_t len;
};

struct espat_hid_map_info {
	struct espat_hid_report report[ESPAT_HID_REPORTS_MAX];
	size_t n;
};

enum espat_hid_rc {
	ESPAT_HID_OK = 0,
	ESPAT_HID_MALFORMED = -1, /* a short item, unbalanced collections, a report past limits */
};

/* Walks a report descriptor (short items only; long items are skipped):
 * the reports it declares, each one's bits summed over its Input, Output
 * or Feature items (Report Size x Report Count), rounded up to bytes. */
enum espat_hid_rc espat_hid_map_parse(const uint8_t *map, size_t len,
                                      struct espat_hid_map_info *out);

#endif
