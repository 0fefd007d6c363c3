/* The HID device of AT+BLEHIDINIT: see hid.h. */
#include "proto/hid.h"

#include <string.h>

/* Items are written as the HID 1.11 spec names them: a prefix byte (tag,
 * type, size), then its data. Keyboard (report 1), mouse (report 2) and
 * consumer control (report 3) in one map, as one composite device. */
/* clang-format off: one item per line */
const uint8_t espat_hid_report_map[] = {
    /* keyboard */
    0x05, 0x01,       /* Usage Page (Generic Desktop) */
    0x09, 0x06,       /* Usage (Keyboard) */
    0xa1, 0x01,       /* Collection (Application) */
    0x85, 0x01,       /*   Report ID (1) */
    0x05, 0x07,       /*   Usage Page (Keyboard/Keypad) */
    0x19, 0xe0,       /*   Usage Minimum (Left Control) */
    0x29, 0xe7,       /*   Usage Maximum (Right GUI) */
    0x15, 0x00,       /*   Logical Minimum (0) */
    0x25, 0x01,       /*   Logical Maximum (1) */
    0x75, 0x01,       /*   Report Size (1) */
    0x95, 0x08,       /*   Report Count (8) */
    0x81, 0x02,       /*   Input (Data, Variable, Absolute): the modifiers */
    0x95, 0x01,       /*   Report Count (1) */
    0x75, 0x08,       /*   Report Size (8) */
    0x81, 0x01,       /*   Input (Constant): reserved */
    0x95, 0x05,       /*   Report Count (5) */
    0x75, 0x01,       /*   Report Size (1) */
    0x05, 0x08,       /*   Usage Page (LEDs) */
    0x19, 0x01,       /*   Usage Minimum (Num Lock) */
    0x29, 0x05,       /*   Usage Maximum (Kana) */
    0x91, 0x02,       /*   Output (Data, Variable, Absolute): the LEDs */
    0x95, 0x01,       /*   Report Count (1) */
    0x75, 0x03,       /*   Report Size (3) */
    0x91, 0x01,       /*   Output (Constant): padding */
    0x95, 0x06,       /*   Report Count (6) */
    0x75, 0x08,       /*   Report Size (8) */
    0x15, 0x00,       /*   Logical Minimum (0) */
    0x26, 0xff, 0x00, /*   Logical Maximum (255) */
    0x05, 0x07,       /*   Usage Page (Keyboard/Keypad) */
    0x19, 0x00,       /*   Usage Minimum (0) */
    0x29, 0xff,       /*   Usage Maximum (255) */
    0x81, 0x00,       /*   Input (Data, Array): the key codes */
    0xc0,             /* End Collection */
    /* mouse */
    0x05, 0x01, /* Usage Page (Generic Desktop) */
    0x09, 0x02, /* Usage (Mouse) */
    0xa1, 0x01, /* Collection (Application) */
    0x85, 0x02, /*   Report ID (2) */
    0x09, 0x01, /*   Usage (Pointer) */
    0xa1, 0x00, /*   Collection (Physical) */
    0x05, 0x09, /*     Usage Page (Button) */
    0x19, 0x01, /*     Usage Minimum (1) */
    0x29, 0x03, /*     Usage Maximum (3) */
    0x15, 0x00, /*     Logical Minimum (0) */
    0x25, 0x01, /*     Logical Maximum (1) */
    0x95, 0x03, /*     Report Count (3) */
    0x75, 0x01, /*     Report Size (1) */
    0x81, 0x02, /*     Input (Data, Variable, Absolute): the buttons */
    0x95, 0x01, /*     Report Count (1) */
    0x75, 0x05, /*     Report Size (5) */
    0x81, 0x01, /*     Input (Constant): padding */
    0x05, 0x01, /*     Usage Page (Generic Desktop) */
    0x09, 0x30, /*     Usage (X) */
    0x09, 0x31, /*     Usage (Y) */
    0x09, 0x38, /*     Usage (Wheel) */
    0x15, 0x81, /*     Logical Minimum (-127) */
    0x25, 0x7f, /*     Logical Maximum (127) */
    0x75, 0x08, /*     Report Size (8) */
    0x95, 0x03, /*     Report Count (3) */
    0x81, 0x06, /*     Input (Data, Variable, Relative) */
    0xc0,       /*   End Collection */
    0xc0,       /* End Collection */
    /* consumer control */
    0x05, 0x0c,       /* Usage Page (Consumer) */
    0x09, 0x01,       /* Usage (Consumer Control) */
    0xa1, 0x01,       /* Collection (Application) */
    0x85, 0x03,       /*   Report ID (3) */
    0x15, 0x00,       /*   Logical Minimum (0) */
    0x26, 0xff, 0x03, /*   Logical Maximum (1023) */
    0x19, 0x00,       /*   Usage Minimum (0) */
    0x2a, 0xff, 0x03, /*   Usage Maximum (1023) */
    0x75, 0x10,       /*   Report Size (16) */
    0x95, 0x01,       /*   Report Count (1) */
    0x81, 0x00,       /*   Input (Data, Array) */
    0xc0,             /* End Collection */
};
/* clang-format on */
const size_t espat_hid_report_map_len = sizeof(espat_hid_report_map);

void espat_hid_keyboard(uint8_t modifiers, const uint8_t keys[6], uint8_t out[ESPAT_HID_KB_LEN])
{
	out[0] = modifiers;
	out[1] = 0;
	memcpy(out + 2, keys, 6);
}

void espat_hid_mouse(uint8_t buttons, int8_t x, int8_t y, int8_t wheel,
                     uint8_t out[ESPAT_HID_MOUSE_LEN])
{
	out[0] = buttons & 0x07u;
	out[1] = (uint8_t)x;
	out[2] = (uint8_t)y;
	out[3] = (uint8_t)wheel;
}

void espat_hid_consumer(uint16_t usage, uint8_t out[ESPAT_HID_CONSUMER_LEN])
{
	out[0] = (uint8_t)(usage & 0xff);
	out[1] = (uint8_t)(usage >> 8);
}

/* The report of (id, kind) in out, added when new; NULL when full. */
static struct espat_hid_report *report_of(struct espat_hid_map_info *out, uint8_t id, uint8_t kind)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->report[i].id == id && out->report[i].kind == kind)
			return &out->report[i];
	if (out->n == ESPAT_HID_REPORTS_MAX)
		return NULL;
	out->report[out->n] = (struct espat_hid_report){.id = id, .kind = kind};
	return &out->report[out->n++];
}

enum espat_hid_rc espat_hid_map_parse(const uint8_t *map, size_t len,
                                      struct espat_hid_map_info *out)
{
	memset(out, 0, sizeof(*out));
	/* bits per (id, kind), summed while walking; bytes at the end */
	uint32_t bits[ESPAT_HID_REPORTS_MAX] = {0};
	uint32_t size = 0, count = 0;
	uint8_t id = 0;
	int depth = 0;
	for (size_t i = 0; i < len;) {
		uint8_t prefix = map[i++];
		if (prefix == 0xfe) { /* a long item: its size, its tag, its data */
			if (len - i < 2 || (size_t)map[i] > len - i - 2)
				return ESPAT_HID_MALFORMED;
			i += 2u + map[i];
			continue;
		}
		size_t n = (prefix & 3u) == 3u ? 4u : (prefix & 3u);
		if (n > len - i)
			return ESPAT_HID_MALFORMED;
		uint32_t v = 0;
		for (size_t k = 0; k < n; k++)
			v |= (uint32_t)map[i + k] << (8 * k);
		i += n;
		switch (prefix & 0xfcu) {
		case 0x74: /* Report Size */
			size = v;
			break;
		case 0x94: /* Report Count */
			count = v;
			break;
		case 0x84: /* Report ID */
			if (v == 0 || v > 255)
				return ESPAT_HID_MALFORMED;
			id = (uint8_t)v;
			break;
		case 0xa0: /* Collection */
			depth++;
			break;
		case 0xc0: /* End Collection */
			if (--depth < 0)
				return ESPAT_HID_MALFORMED;
			break;
		case 0x80:   /* Input */
		case 0x90:   /* Output */
		case 0xb0: { /* Feature */
			uint8_t kind = (prefix & 0xfcu) == 0x80   ? 0
			               : (prefix & 0xfcu) == 0x90 ? 1
			                                          : 2;
			struct espat_hid_report *r = report_of(out, id, kind);
			if (!r || size > 32 || count > 255)
				return ESPAT_HID_MALFORMED;
			uint32_t *b = &bits[r - out->report];
			*b += size * count;
			if (*b > 8u * 512u) /* past what one ATT value carries */
				return ESPAT_HID_MALFORMED;
			break;
		}
		default: /* usages, pages, logical and physical ranges, units */
			break;
		}
	}
	if (depth != 0)
		return ESPAT_HID_MALFORMED;
	for (size_t k = 0; k < out->n; k++)
		out->report[k].len = (uint16_t)((bits[k] + 7) / 8);
	return ESPAT_HID_OK;
}
