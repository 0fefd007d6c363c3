/* libFuzzer target: the SNTP codec and the clock arithmetic beside it
 * (proto/sntp.c). The input's first 8 bytes are the transmit timestamp we
 * "sent", the rest a datagram; the same bytes also feed the timestamp
 * conversions, the time-zone parser and asctime. Checks: a reply is taken
 * only when it is a mode-4 answer echoing our timestamp; NTP <-> Unix
 * conversion is stable; time zones stay in the guide's range; asctime
 * matches the C library's wherever the C library can say. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/sntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void check_reply(const uint8_t *p, size_t n, uint64_t sent)
{
	int64_t s = 0;
	uint32_t ms = 0;
	enum espat_sntp_verdict v = espat_sntp_parse(p, n, sent, &s, &ms);
	bool ours =
	    n >= ESPAT_SNTP_PKT && (p[0] & 7) == 4 && (p[0] >> 3 & 7) != 0 && be64(p + 24) == sent;
	if (!ours) {
		CHECK(v == ESPAT_SNTP_IGNORE);
		return;
	}
	CHECK(v != ESPAT_SNTP_IGNORE);
	if (v == ESPAT_SNTP_REFUSE)
		return;
	CHECK(ms < 1000);
	int64_t s2;
	uint32_t ms2;
	espat_ntp_to_unix(be64(p + 40), &s2, &ms2);
	CHECK(s == s2 && ms == ms2);
}

static void check_time(uint64_t ts)
{
	int64_t s;
	uint32_t ms;
	espat_ntp_to_unix(ts, &s, &ms);
	CHECK(ms < 1000);
	/* era 0's second half and era 1's first half: 1968-01-20 to 2104-02-26 */
	CHECK(s >= (int64_t)0x80000000 - (int64_t)ESPAT_NTP_UNIX_OFFSET);
	CHECK(s < (int64_t)0x180000000 - (int64_t)ESPAT_NTP_UNIX_OFFSET);
	uint64_t back = espat_ntp_from_unix(s, ms);
	CHECK(back >> 32 == ts >> 32);
	int64_t s2;
	uint32_t ms2;
	espat_ntp_to_unix(back, &s2, &ms2);
	CHECK(s2 == s && ms2 == ms);
}

static void check_tz(int64_t v)
{
	int32_t off = 0, shown = 0;
	if (!espat_sntp_tz_parse(v, &off, &shown)) {
		CHECK(v < -12 || v > 14);
		return;
	}
	CHECK(off >= -12 * 60 - 59 && off <= 14 * 60 + 59);
	CHECK(shown >= -12 && shown <= 14);
	CHECK(shown == off / 60);
}

static void check_asctime(int64_t t)
{
	char buf[ESPAT_ASCTIME_MAX];
	size_t n = espat_asctime(buf, t);
	CHECK(n > 0 && n < ESPAT_ASCTIME_MAX && strlen(buf) == n);
	/* the C library as the reference, where its struct tm holds the year */
	time_t tt = (time_t)t;
	struct tm tm;
	if ((int64_t)tt != t || !gmtime_r(&tt, &tm))
		return;
	static const char wday[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	char ref[ESPAT_ASCTIME_MAX];
	int r = snprintf(ref, sizeof(ref), "%s %s%3d %02d:%02d:%02d %lld", wday[tm.tm_wday],
	                 mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                 (long long)tm.tm_year + 1900);
	CHECK(r > 0 && (size_t)r == n && memcmp(ref, buf, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint64_t sent = be64(data);
	check_reply(data + 8, size - 8, sent);
	/* our own request is never a reply to itself (mode 3) */
	uint8_t req[ESPAT_SNTP_PKT];
	espat_sntp_request(req, sent);
	CHECK(espat_sntp_parse(req, sizeof(req), sent, &(int64_t){0}, &(uint32_t){0}) ==
	      ESPAT_SNTP_IGNORE);
	for (size_t pos = 0; pos + 8 <= size; pos += 8) {
		uint64_t v = be64(data + pos);
		check_time(v);
		check_tz((int64_t)v);
		check_tz((int8_t)v * 100 + (int8_t)(v >> 8)); /* near the hhmm forms */
		check_asctime((int64_t)v);
		check_asctime((int64_t)v >> 24); /* the years people live in */
	}
	return 0;
}
