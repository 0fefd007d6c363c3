/* The HID device of AT+BLEHIDINIT (src/proto/hid.c): its report map
 * declares exactly the reports the encoders make (keyboard input 8 bytes
 * and LED output 1 byte as report 1, mouse 4 bytes as report 2, consumer
 * control 2 bytes as report 3); the encoders' bytes; the descriptor
 * walker on a boot keyboard's map, long items and malformed maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/hid.h"

static const struct espat_hid_report *find(const struct espat_hid_map_info *m, uint8_t id,
                                           uint8_t kind)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->report[i].id == id && m->report[i].kind == kind)
			return &m->report[i];
	return NULL;
}

static void test_map_declares_the_reports(void **state)
{
	(void)state;
	struct espat_hid_map_info m;
	assert_int_equal(espat_hid_map_parse(espat_hid_report_map, espat_hid_report_map_len, &m),
	                 ESPAT_HID_OK);
	assert_int_equal(m.n, 4);
	assert_int_equal(find(&m, ESPAT_HID_ID_KEYBOARD, 0)->len, ESPAT_HID_KB_LEN);
	assert_int_equal(find(&m, ESPAT_HID_ID_KEYBOARD, 1)->len, 1);
	assert_int_equal(find(&m, ESPAT_HID_ID_MOUSE, 0)->len, ESPAT_HID_MOUSE_LEN);
	assert_int_equal(find(&m, ESPAT_HID_ID_CONSUMER, 0)->len, ESPAT_HID_CONSUMER_LEN);
}

static void test_reports(void **state)
{
	(void)state;
	uint8_t kb[ESPAT_HID_KB_LEN], mouse[ESPAT_HID_MOUSE_LEN], cc[ESPAT_HID_CONSUMER_LEN];
	const uint8_t keys[6] = {4, 0, 0, 0, 0, 0}; /* the guide's "a" */
	espat_hid_keyboard(0x02, keys, kb);         /* left shift */
	const uint8_t want_kb[] = {0x02, 0, 4, 0, 0, 0, 0, 0};
	assert_memory_equal(kb, want_kb, sizeof(want_kb));
	espat_hid_mouse(1, 10, -10, -1, mouse);
	const uint8_t want_mouse[] = {0x01, 0x0a, 0xf6, 0xff};
	assert_memory_equal(mouse, want_mouse, sizeof(want_mouse));
	espat_hid_consumer(233, cc); /* volume up */
	const uint8_t want_cc[] = {0xe9, 0x00};
	assert_memory_equal(cc, want_cc, sizeof(want_cc));
}

static void test_walker(void **state)
{
	(void)state;
	struct espat_hid_map_info m;
	/* a boot keyboard's map without report IDs, with a long item inside */
	const uint8_t boot[] = {0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x75, 0x01,
	                        0x95, 0x08, 0x81, 0x02, 0xfe, 0x02, 0x10, 0xaa,
	                        0xbb, 0x75, 0x08, 0x95, 0x07, 0x81, 0x00, 0xc0};
	assert_int_equal(espat_hid_map_parse(boot, sizeof(boot), &m), ESPAT_HID_OK);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.report[0].id, 0);
	assert_int_equal(m.report[0].len, 8);
	/* a short item cut off, a collection never closed, one closed twice */
	const uint8_t cut[] = {0x05, 0x01, 0x26, 0xff};
	assert_int_equal(espat_hid_map_parse(cut, sizeof(cut), &m), ESPAT_HID_MALFORMED);
	const uint8_t open_col[] = {0xa1, 0x01};
	assert_int_equal(espat_hid_map_parse(open_col, sizeof(open_col), &m), ESPAT_HID_MALFORMED);
	const uint8_t closed[] = {0xc0};
	assert_int_equal(espat_hid_map_parse(closed, sizeof(closed), &m), ESPAT_HID_MALFORMED);
	const uint8_t id0[] = {0x85, 0x00};
	assert_int_equal(espat_hid_map_parse(id0, sizeof(id0), &m), ESPAT_HID_MALFORMED);
	const uint8_t long_cut[] = {0xfe, 0x05, 0x10, 0x01};
	assert_int_equal(espat_hid_map_parse(long_cut, sizeof(long_cut), &m), ESPAT_HID_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_declares_the_reports),
	    cmocka_unit_test(test_reports),
	    cmocka_unit_test(test_walker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
