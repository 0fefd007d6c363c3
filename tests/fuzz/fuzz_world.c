/* libFuzzer target: world files (src/world/) from arbitrary bytes. A world
 * that parses is described AP by AP, and the description must parse back
 * to the same APs; a parse error must carry a line inside the text and a
 * message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "world/world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static struct espat_world w, w2;
static char text[ESPAT_WORLD_APS_MAX * ESPAT_WORLD_DESCRIBE_MAX];

static void check_same(const struct espat_world_ap *a, const struct espat_world_ap *b)
{
	CHECK(strcmp(a->label, b->label) == 0);
	CHECK(a->bss.ssid_len == b->bss.ssid_len);
	CHECK(memcmp(a->bss.ssid, b->bss.ssid, sizeof(a->bss.ssid)) == 0);
	CHECK(memcmp(a->bss.bssid, b->bss.bssid, 6) == 0);
	CHECK(a->bss.channel == b->bss.channel && a->bss.rssi == b->bss.rssi);
	CHECK(a->bss.ecn == b->bss.ecn && a->bss.bgn == b->bss.bgn);
	CHECK(a->bss.pairwise_cipher == b->bss.pairwise_cipher);
	CHECK(a->bss.group_cipher == b->bss.group_cipher);
	CHECK(a->bss.wps == b->bss.wps && a->bss.pmf_required == b->bss.pmf_required);
	CHECK(a->up == b->up && a->hidden == b->hidden);
	CHECK(a->pwd_len == b->pwd_len && memcmp(a->pwd, b->pwd, sizeof(a->pwd)) == 0);
	CHECK(a->eap_methods == b->eap_methods);
	CHECK(strcmp(a->eap_identity, b->eap_identity) == 0);
	CHECK(strcmp(a->eap_username, b->eap_username) == 0);
	CHECK(strcmp(a->eap_password, b->eap_password) == 0);
	CHECK(a->net.dhcp == b->net.dhcp && a->net.ip == b->net.ip);
	CHECK(a->net.mask == b->net.mask && a->net.gw == b->net.gw);
	CHECK(a->net.dns[0] == b->net.dns[0] && a->net.dns[1] == b->net.dns[1]);
	CHECK(a->net.lease_s == b->net.lease_s && a->net.assoc_ms == b->net.assoc_ms);
	CHECK(a->net.dhcp_ms == b->net.dhcp_ms && a->net.to_host == b->net.to_host);
	CHECK(a->pool == b->pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a NUL-terminated copy, as a file read into memory would be */
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct espat_world_err err;
	int r = espat_world_parse(&w, buf, size + 1, &err);
	if (r != 0) {
		CHECK(r == -1);
		CHECK(w.nap == 0);
		CHECK(err.msg[0] != '\0' && memchr(err.msg, '\0', sizeof(err.msg)));
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += data[i] == '\n';
		CHECK(err.line >= 1 && (size_t)err.line <= lines);
		free(buf);
		return 0;
	}
	free(buf);
	CHECK(w.nap <= ESPAT_WORLD_APS_MAX);
	size_t n = 0;
	for (size_t i = 0; i < w.nap; i++) {
		size_t k = espat_world_describe(&w.ap[i], text + n, sizeof(text) - n);
		CHECK(k < ESPAT_WORLD_DESCRIBE_MAX && strlen(text + n) == k);
		n += k;
	}
	r = espat_world_parse(&w2, text, n, &err);
	CHECK(r == 0);
	CHECK(w2.nap == w.nap);
	for (size_t i = 0; i < w.nap; i++)
		check_same(&w.ap[i], &w2.ap[i]);

	/* the radio over it answers within its bounds */
	struct espat_radio radio = espat_world_radio(&w);
	struct espat_bss bss[4];
	size_t total = radio.scan(radio.user, bss, 4);
	CHECK(total <= w.nap);
	for (size_t i = 0; i < total && i < 4; i++) {
		CHECK(bss[i].ssid_len <= ESPAT_SSID_MAX);
		CHECK(i == 0 || bss[i - 1].channel <= bss[i].channel);
	}
	return 0;
}
