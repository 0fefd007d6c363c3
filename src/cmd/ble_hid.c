/* Bluetooth LE HID (guide 3.4.41-3.4.44): AT+BLEHIDINIT, AT+BLEHIDKB,
 * AT+BLEHIDMUS, AT+BLEHIDCONSUMER. AT+BLEHIDINIT=1 makes the module a HID
 * over GATT device (HOGP): the HID service with one report map for a
 * keyboard, a mouse and consumer control (proto/hid.h), the Battery and
 * Device Information services, all in the GATT server's table
 * (ble_gatts.c) after the GATT and GAP services; it advertises as a
 * keyboard until a host connects, and again when the host leaves. The
 * reports need an encrypted link, as HOGP asks: a host that has not
 * paired gets Insufficient Authentication and pairs (ble_sec.c). The three
 * send commands notify one input report to the connected host
 * (docs/internals/ble.md "HID"). */
#include <stdio.h>
#include <string.h>

#include "cmd/ble.h"
#include "cmd/ble_blufi.h"
#include "cmd/params.h"
#include "proto/hid.h"

#define E(m) (&(m)->eng)

/* Table rows of the input reports' values (the server numbers them from 0;
 * their handles are 10 + row, after the GATT and GAP services). */
enum {
	ROW_REPORT_MAP = 6,
	ROW_KEYBOARD = 10,
	ROW_MOUSE = 17,
	ROW_CONSUMER = 21,
	ROWS = 33,
};

/* The rows in gatts_data.csv form (index, uuid_len, uuid, perm, val_max_len,
 * val_cur_len, value). Permissions are ESP-IDF's: 0x02 read encrypted,
 * 0x20 write encrypted, 0x01 / 0x10 plain: the reports, their CCCDs, the
 * protocol mode and control point need an encrypted link; the HID
 * information and the report map a host may read before it pairs
 * (COMPAT #481). Row 6's value (the report map) is filled in at init. */
static const char *const hid_rows[ROWS] = {
    /* the HID service; HID Information (1.11, normally connectable) */
    "0,16,0x2800,0x01,2,2,1812",
    "1,16,0x2803,0x01,1,1,02",
    "2,16,0x2A4A,0x01,4,4,11010002",
    /* HID Control Point */
    "3,16,0x2803,0x01,1,1,04",
    "4,16,0x2A4C,0x20,1,1,00",
    /* Report Map (its value is made at init) */
    "5,16,0x2803,0x01,1,1,02",
    NULL,
    /* Protocol Mode: report protocol */
    "7,16,0x2803,0x01,1,1,06",
    "8,16,0x2A4E,0x22,1,1,01",
    /* keyboard input report, its CCCD and Report Reference (ID 1, input) */
    "9,16,0x2803,0x01,1,1,12",
    "10,16,0x2A4D,0x02,8,8,",
    "11,16,0x2902,0x22,2,2,0000",
    "12,16,0x2908,0x02,2,2,0101",
    /* keyboard LED output report (ID 1, output) */
    "13,16,0x2803,0x01,1,1,0E",
    "14,16,0x2A4D,0x22,1,1,00",
    "15,16,0x2908,0x02,2,2,0102",
    /* mouse input report (ID 2) */
    "16,16,0x2803,0x01,1,1,12",
    "17,16,0x2A4D,0x02,4,4,",
    "18,16,0x2902,0x22,2,2,0000",
    "19,16,0x2908,0x02,2,2,0201",
    /* consumer control input report (ID 3) */
    "20,16,0x2803,0x01,1,1,12",
    "21,16,0x2A4D,0x02,2,2,",
    "22,16,0x2902,0x22,2,2,0000",
    "23,16,0x2908,0x02,2,2,0301",
    /* the Battery service: Battery Level 100 % */
    "24,16,0x2800,0x01,2,2,180F",
    "25,16,0x2803,0x01,1,1,12",
    "26,16,0x2A19,0x01,1,1,64",
    "27,16,0x2902,0x11,2,2,0000",
    /* Device Information: PnP ID (USB, Espressif's vendor ID 0x303A), the maker */
    "28,16,0x2800,0x01,2,2,180A",
    "29,16,0x2803,0x01,1,1,02",
    "30,16,0x2A50,0x01,7,7,023A3001000001",
    "31,16,0x2803,0x01,1,1,02",
    "32,16,0x2A29,0x01,9,9,457370726573736966",
};

bool espat_ble_hid_on(const struct espat_module *m)
{
	return m->ble && m->ble->role == ESPAT_BLE_HID;
}

/* Flags, Appearance (keyboard, 0x03C1), the HID service's UUID, and as
 * much of the device name as fits 31 bytes. */
static void advertise(struct espat_module *m)
{
	uint8_t adv[ESPAT_BLE_ADV_LEGACY_MAX];
	static const uint8_t head[] = {0x02, 0x01, 0x06, 0x03, 0x19, 0xc1,
	                               0x03, 0x03, 0x03, 0x12, 0x18};
	size_t n = sizeof(head);
	memcpy(adv, head, n);
	size_t name = strlen(m->ble->name);
	size_t room = sizeof(adv) - n - 2;
	adv[n] = (uint8_t)((name <= room ? name : room) + 1);
	adv[n + 1] = name <= room ? 0x09 : 0x08; /* Complete / Shortened Local Name */
	memcpy(adv + n + 2, m->ble->name, name <= room ? name : room);
	n += 2 + (name <= room ? name : room);
	espat_ble_adv_raw(m, adv, n);
}

void espat_ble_hid_link_down(struct espat_module *m)
{
	if (espat_ble_hid_on(m) && !espat_ble_linked(m))
		advertise(m);
}

static enum espat_rc hidinit_query(struct espat_module *m, const struct espat_args *a)
{
	(void)a;
	espat_wr_linef(&m->wr, "+BLEHIDINIT:%d", espat_ble_hid_on(m) ? 1 : 0);
	return ESPAT_RC_OK;
}

static const struct espat_param p_hidinit[] = {
    P_INT("init", 0, 1),
};

/* =1 while AT+BLEINIT or BluFi holds the stack is ERROR, as is AT+BLEINIT
 * while HID does (COMPAT #480). */
static enum espat_rc hidinit_set(struct espat_module *m, const struct espat_args *a)
{
	if (a->v[0].i == 0) {
		if (espat_ble_hid_on(m))
			espat_ble_stack_down(m);
		return ESPAT_RC_OK;
	}
	if (espat_ble_hid_on(m))
		return ESPAT_RC_OK;
	if (espat_ble_on(m) || espat_blufi_on(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	/* the report map's row: its bytes in hex */
	char map_row[2 * 512 + 40];
	int k = snprintf(map_row, sizeof(map_row), "6,16,0x2A4B,0x01,%zu,%zu,",
	                 espat_hid_report_map_len, espat_hid_report_map_len);
	for (size_t i = 0; i < espat_hid_report_map_len && k > 0; i++)
		k += snprintf(map_row + k, sizeof(map_row) - (size_t)k, "%02X",
		              espat_hid_report_map[i]);
	const char *rows[ROWS];
	memcpy(rows, hid_rows, sizeof(rows));
	rows[ROW_REPORT_MAP] = map_row;
	m->ble->role = ESPAT_BLE_HID;
	if (!espat_ble_gatts_load(m, rows, ROWS)) {
		espat_ble_stack_down(m);
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	}
	advertise(m);
	return ESPAT_RC_OK;
}

/* One input report to the connected host: ERROR without HID, without a
 * host, or while the host has not enabled that report's notifications
 * (COMPAT #481). */
static enum espat_rc send_report(struct espat_module *m, size_t row, const uint8_t *v, size_t n)
{
	if (!espat_ble_hid_on(m))
		return espat_fail(E(m), ESPAT_ERR_EXEC);
	for (size_t li = 0; li < ESPAT_BLE_LINKS; li++) {
		if (!m->ble->link[li].up)
			continue;
		if (espat_ble_gatts_send(m, li, ESPAT_ATT_NOTIFY, row, v, n) == ESPAT_GATT_NTF_OK)
			return ESPAT_RC_OK;
		break; /* one host */
	}
	return espat_fail(E(m), ESPAT_ERR_EXEC);
}

static const struct espat_param p_hidkb[] = {
    P_INT("Modifier_keys", 0, 255), P_INT("key_1", 0, 255), P_INT("key_2", 0, 255),
    P_INT("key_3", 0, 255),         P_INT("key_4", 0, 255), P_INT("key_5", 0, 255),
    P_INT("key_6", 0, 255),
};

static enum espat_rc hidkb_set(struct espat_module *m, const struct espat_args *a)
{
	uint8_t keys[6], r[ESPAT_HID_KB_LEN];
	for (size_t i = 0; i < 6; i++)
		keys[i] = (uint8_t)a->v[i + 1].i;
	espat_hid_keyboard((uint8_t)a->v[0].i, keys, r);
	return send_report(m, ROW_KEYBOARD, r, sizeof(r));
}

static const struct espat_param p_hidmus[] = {
    P_INT("buttons", 0, 7),
    P_INT("X_displacement", -127, 127),
    P_INT("Y_displacement", -127, 127),
    P_INT("wheel", -127, 127),
};

static enum espat_rc hidmus_set(struct espat_module *m, const struct espat_args *a)
{
	uint8_t r[ESPAT_HID_MOUSE_LEN];
	espat_hid_mouse((uint8_t)a->v[0].i, (int8_t)a->v[1].i, (int8_t)a->v[2].i, (int8_t)a->v[3].i,
	                r);
	return send_report(m, ROW_MOUSE, r, sizeof(r));
}

static const struct espat_param p_hidconsumer[] = {
    P_INT("consumer_usage_id", 0, 1023),
};

static enum espat_rc hidconsumer_set(struct espat_module *m, const struct espat_args *a)
{
	uint8_t r[ESPAT_HID_CONSUMER_LEN];
	espat_hid_consumer((uint16_t)a->v[0].i, r);
	return send_report(m, ROW_CONSUMER, r, sizeof(r));
}

static const struct espat_cmd hid_rows_cmds[] = {
    {.name = "+BLEHIDINIT",
     .query = hidinit_query,
     .set = hidinit_set,
     .params = p_hidinit,
     .nparams = N(p_hidinit),
     .help = "Bluetooth LE HID profile initialization"},
    {.name = "+BLEHIDKB",
     .set = hidkb_set,
     .params = p_hidkb,
     .nparams = N(p_hidkb),
     .help = "Send Bluetooth LE HID keyboard information"},
    {.name = "+BLEHIDMUS",
     .set = hidmus_set,
     .params = p_hidmus,
     .nparams = N(p_hidmus),
     .help = "Send Bluetooth LE HID mouse information"},
    {.name = "+BLEHIDCONSUMER",
     .set = hidconsumer_set,
     .params = p_hidconsumer,
     .nparams = N(p_hidconsumer),
     .help = "Send Bluetooth LE HID consumer information"},
};

static const struct espat_cmd_table hid_table = {
    .family = "ble_hid",
    .rows = hid_rows_cmds,
    .n = sizeof(hid_rows_cmds) / sizeof(hid_rows_cmds[0]),
};

const struct espat_family espat_ble_hid_family = {
    .name = "ble_hid",
    .table = &hid_table,
};
