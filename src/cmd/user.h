/* User commands (guide 3.12): AT+USERRAM (a scratch buffer out of the
 * module's free heap), AT+USEROTA (an app image from a URL, through the
 * OTA family's espat_ota_fetch_url), AT+USERWKMCUCFG and AT+USERMCUSLEEP
 * (waking the host before a report: a GPIO level or a UART byte) and
 * AT+USERDOCS. docs/internals/periph.md has the wake model. */
#ifndef ESPAT_CMD_USER_H
#define ESPAT_CMD_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/family.h"
#include "core/timers.h"

/* What esp_get_free_heap_size() says on an idle ESP32-C3 running the AT
 * firmware (espat's figure): AT+USERRAM? and the most AT+USERRAM=1 takes. */
#define ESPAT_USER_HEAP_FREE 163840u
#define ESPAT_USERRAM_CHUNK 1024u /* bytes per +USERRAM read record */
#define ESPAT_USEROTA_URL_MAX 8192u
#define ESPAT_WAKE_DELAY_MAX 60000u

enum espat_wake_mode {
	ESPAT_WAKE_GPIO = 1,
	ESPAT_WAKE_UART = 2,
};

/* <check mcu awake method> bits */
#define ESPAT_WAKE_CHECK_USERMCUSLEEP 1u
#define ESPAT_WAKE_CHECK_SLEEP 2u
#define ESPAT_WAKE_CHECK_AWAKE_AFTER 4u

struct espat_user {
	/* AT+USERRAM */
	uint8_t *ram; /* owned; NULL: not allocated */
	size_t ram_size;
	size_t wr_off, wr_len, wr_got; /* a write's entry */
	/* AT+USEROTA */
	uint8_t *url; /* the URL being entered, owned */
	size_t url_len, url_got;
	/* AT+USERWKMCUCFG / AT+USERMCUSLEEP */
	bool wk_on;
	uint8_t wk_mode;     /* enum espat_wake_mode */
	uint8_t wk_num;      /* GPIO number or UART number */
	uint8_t wk_signal;   /* level, or the wake byte */
	uint32_t wk_delay;   /* ms */
	uint8_t wk_check;    /* ESPAT_WAKE_CHECK_* */
	bool mcu_asleep;     /* what AT believes of the host */
	uint32_t sleep_seen; /* espat_basic_sleep_sets() last taken into account */
	bool waking;         /* a wake signal is out; reports wait */
	uint32_t wakes;      /* wake signals sent since boot */
	struct espat_timer wk_timer;
};

/* The wake configuration as `espat ctl state` shows it. */
const struct espat_user *espat_user_state(const struct espat_module *m);

extern const struct espat_family espat_user_family;

#endif
