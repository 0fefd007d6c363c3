#include "proto/sntp.h"

#include <stdio.h>
#include <string.h>

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void espat_sntp_request(uint8_t pkt[ESPAT_SNTP_PKT], uint64_t xmit)
{
	memset(pkt, 0, ESPAT_SNTP_PKT);
	pkt[0] = 0 << 6 | 4 << 3 | 3; /* LI 0, VN 4, mode 3 (client) */
	put_be64(pkt + 40, xmit);
}

enum espat_sntp_verdict espat_sntp_parse(const uint8_t *p, size_t n, uint64_t sent_xmit,
					 int64_t *unix_s, uint32_t *ms)
{
	if (n < ESPAT_SNTP_PKT)
		return ESPAT_SNTP_IGNORE;
	unsigned li = p[0] >> 6, vn = p[0] >> 3 & 7, mode = p[0] & 7;
	/* RFC 4330 5: a unicast reply is mode 4 and echoes our transmit time
	 * in its originate field; anything else is not an answer to us. */
	if (mode != 4 || vn == 0 || get_be64(p + 24) != sent_xmit)
		return ESPAT_SNTP_IGNORE;
	uint8_t stratum = p[1];
	uint64_t xmit = get_be64(p + 40);
	if (li == 3 || stratum == 0 || stratum > 15 || xmit == 0)
		return ESPAT_SNTP_REFUSE;
	espat_ntp_to_unix(xmit, unix_s, ms);
	return ESPAT_SNTP_TIME;
}

uint64_t espat_ntp_from_unix(int64_t unix_s, uint32_t ms)
{
	/* Wraps modulo 2^32 seconds: the era is implied (RFC 4330 3). */
	uint32_t secs = (uint32_t)((uint64_t)unix_s + ESPAT_NTP_UNIX_OFFSET);
	/* rounded up, so espat_ntp_to_unix() gives the same ms back */
	uint32_t frac = (uint32_t)((((uint64_t)(ms % 1000u) << 32) + 999u) / 1000u);
	return (uint64_t)secs << 32 | frac;
}

void espat_ntp_to_unix(uint64_t ts, int64_t *unix_s, uint32_t *ms)
{
	uint32_t secs = (uint32_t)(ts >> 32);
	int64_t s = (int64_t)secs - (int64_t)ESPAT_NTP_UNIX_OFFSET;
	if (!(secs & 0x80000000u))
		s += (int64_t)1 << 32; /* era 1: from 2036-02-07 06:28:16 UTC */
	*unix_s = s;
	*ms = (uint32_t)(((ts & 0xFFFFFFFFu) * 1000u) >> 32);
}

bool espat_sntp_tz_parse(int64_t v, int32_t *offset_min, int32_t *shown)
{
	if (v >= -12 && v <= 14) {
		*offset_min = (int32_t)v * 60;
		*shown = (int32_t)v;
		return true;
	}
	if (v < -1259 || v > 1459)
		return false;
	int64_t a = v < 0 ? -v : v;
	int64_t hh = a / 100, mm = a % 100;
	if (mm > 59 || hh > (v < 0 ? 12 : 14))
		return false;
	int32_t sign = v < 0 ? -1 : 1;
	*offset_min = sign * (int32_t)(hh * 60 + mm);
	*shown = sign * (int32_t)hh;
	return true;
}

size_t espat_asctime(char buf[ESPAT_ASCTIME_MAX], int64_t t)
{
	static const char wday[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t wd = (days + 4) % 7; /* 1970-01-01 was a Thursday */
	if (wd < 0)
		wd += 7;
	/* Days to civil date, after H. Hinnant's civil_from_days: eras of
	 * 400 years starting on March 1st, so leap days come last. */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	int n = snprintf(buf, ESPAT_ASCTIME_MAX, "%s %s%3d %02d:%02d:%02d %lld", wday[wd],
			 mon[m - 1], (int)d, (int)(secs / 3600), (int)(secs / 60 % 60),
			 (int)(secs % 60), (long long)y);
	return n < 0 ? 0 : (size_t)n;
}
