/* The SNTP codec and the clock arithmetic of AT+CIPSNTPCFG / AT+CIPSNTPTIME:
 * RFC 4330 client packets, NTP timestamps, the guide's two time-zone
 * formats and asctime(3)-style formatting. Pure functions: no module, no
 * clock, no allocation. The protocol machine that uses them is in
 * cmd/svc.c. */
#ifndef ESPAT_PROTO_SNTP_H
#define ESPAT_PROTO_SNTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_SNTP_PKT 48     /* bytes of an SNTP message without extensions */
#define ESPAT_SNTP_PORT 123
#define ESPAT_ASCTIME_MAX 48  /* "Tue Oct 19 17:47:56 2021", room for any int64 year */

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
#define ESPAT_NTP_UNIX_OFFSET 2208988800u

/* Builds a client request (LI 0, version 4, mode 3) whose transmit
 * timestamp is xmit; a reply is ours only if it echoes xmit as its
 * originate timestamp, so xmit should be unpredictable (a nonce). */
void espat_sntp_request(uint8_t pkt[ESPAT_SNTP_PKT], uint64_t xmit);

enum espat_sntp_verdict {
	ESPAT_SNTP_TIME,   /* a good reply: *unix_s / *ms hold the server's transmit time */
	ESPAT_SNTP_IGNORE, /* not a reply to our request (short, wrong mode, wrong originate) */
	ESPAT_SNTP_REFUSE, /* our server answered but gives no time (kiss-o'-death, stratum 0,
			    * unsynchronised, zero transmit time): ask another server */
};

/* Checks a datagram against the request that carried sent_xmit. */
enum espat_sntp_verdict espat_sntp_parse(const uint8_t *p, size_t n, uint64_t sent_xmit,
					 int64_t *unix_s, uint32_t *ms);

/* NTP 64-bit timestamps (32.32 fixed point from 1900, RFC 4330 section 3:
 * a value with the top bit clear is in era 1, from 2036-02-07). */
uint64_t espat_ntp_from_unix(int64_t unix_s, uint32_t ms);
void espat_ntp_to_unix(uint64_t ts, int64_t *unix_s, uint32_t *ms);

/* The <timezone> of AT+CIPSNTPCFG: whole hours in [-12,14], or otherwise
 * [+|-][hh]mm with hh in [0,12] west / [0,14] east and mm in [0,59]
 * (guide 3.3.20). On success *offset_min is the UTC offset in minutes and
 * *shown what the query prints: the offset's whole hours, truncated toward
 * zero (015 -> UTC+00:15 -> 0, 1245 -> 12). False when v fits neither. */
bool espat_sntp_tz_parse(int64_t v, int32_t *offset_min, int32_t *shown);

/* Formats t (seconds from 1970, proleptic Gregorian, any sign) the way
 * newlib's asctime() does, without its newline: "Thu Jan  1 00:02:08 1970"
 * (day of month padded with a space). Returns the length; buf holds at
 * least ESPAT_ASCTIME_MAX bytes. */
size_t espat_asctime(char buf[ESPAT_ASCTIME_MAX], int64_t t);

#endif
