/* Why a client's handshake failed, in one line for whoever typed the
 * AT+CIPSTART: the AT port says only ERROR, as the module does, so this is
 * where a user learns that the module's clock was never set, that the
 * server's certificate names another host, or that its CA is not the
 * module's (COMPAT #94). OpenSSL's own reasons stay at info level
 * (espat_tlsf_log_errors). */
#include "posix/tls_openssl_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define CLOCK_UNSET_BEFORE 946684800 /* 2000-01-01: a module clock before it was never set */

/* t as "2024-11-21 00:00:00 UTC". */
static void fmt_time(const struct tm *tm, char *out, size_t len)
{
	if (strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", tm) == 0)
		snprintf(out, len, "?");
}

static void fmt_secs(int64_t secs, char *out, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "?");
		return;
	}
	fmt_time(&tm, out, len);
}

static void fmt_asn1(const ASN1_TIME *a, char *out, size_t len)
{
	struct tm tm;
	if (a == NULL || !ASN1_TIME_to_tm(a, &tm)) {
		snprintf(out, len, "?");
		return;
	}
	fmt_time(&tm, out, len);
}

/* The certificates the server sent, leaf first; NULL when it sent none. */
static X509 *peer_cert(SSL *ssl, int i)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	return chain != NULL && i < sk_X509_num(chain) ? sk_X509_value(chain, i) : NULL;
}

/* The first certificate of the chain that is not valid at now: not yet
 * (early) or no longer; the leaf when none is found. */
static X509 *out_of_time(SSL *ssl, int64_t now, bool early)
{
	time_t t = (time_t)now;
	for (int i = 0; peer_cert(ssl, i) != NULL; i++) {
		X509 *x = peer_cert(ssl, i);
		if (early ? X509_cmp_time(X509_get0_notBefore(x), &t) > 0
		          : X509_cmp_time(X509_get0_notAfter(x), &t) < 0)
			return x;
	}
	return peer_cert(ssl, 0);
}

/* The names the leaf is for: its DNS and IP subjectAltNames, else its CN. */
static void cert_names(X509 *x, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	GENERAL_NAMES *gens = x ? X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL) : NULL;
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char name[INET6_ADDRSTRLEN > 256 ? INET6_ADDRSTRLEN : 256];
		if (g->type == GEN_DNS) {
			snprintf(name, sizeof(name), "%.*s", ASN1_STRING_length(g->d.dNSName),
			         (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			int n = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
			if ((n != 4 && n != 16) ||
			    inet_ntop(n == 4 ? AF_INET : AF_INET6, a, name, sizeof(name)) == NULL)
				continue;
		} else {
			continue;
		}
		int w = snprintf(out + o, len - o, "%s%s", o ? ", " : "", name);
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
	GENERAL_NAMES_free(gens);
	if (o == 0 && x != NULL &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)len) < 0)
		out[0] = '\0';
}

static void issuer_cn(X509 *x, char *out, size_t len)
{
	if (x == NULL ||
	    X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_commonName, out, (int)len) < 0)
		snprintf(out, len, "?");
}

static bool unknown_ca(long vr)
{
	return vr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       vr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	       vr == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
	       vr == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	       vr == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
}

static void not_yet_valid(SSL *ssl, int64_t now, char *out, size_t len)
{
	char clock[40], from[40];
	fmt_secs(now, clock, sizeof(clock));
	fmt_asn1(X509_get0_notBefore(out_of_time(ssl, now, true)), from, sizeof(from));
	if (now < CLOCK_UNSET_BEFORE)
		snprintf(out, len,
		         "the module's clock is not set (it reads %s) and the server's certificate "
		         "is valid only from %s; set it with AT+SYSTIMESTAMP or SNTP "
		         "(AT+CIPSNTPCFG)",
		         clock, from);
	else
		snprintf(out, len,
		         "the server's certificate is valid only from %s and the module's clock "
		         "reads %s",
		         from, clock);
}

static void expired(SSL *ssl, int64_t now, char *out, size_t len)
{
	char clock[40], until[40];
	fmt_secs(now, clock, sizeof(clock));
	fmt_asn1(X509_get0_notAfter(out_of_time(ssl, now, false)), until, sizeof(until));
	snprintf(out, len, "the server's certificate expired %s (the module's clock reads %s)",
	         until, clock);
}

static void wrong_name(SSL *ssl, const char *check_name, char *out, size_t len)
{
	char names[192];
	cert_names(peer_cert(ssl, 0), names, sizeof(names));
	snprintf(out, len,
	         "the server's certificate is not for '%s' (it is for %s); set AT+CIPSSLCCN to a "
	         "name it holds, or connect by one",
	         check_name ? check_name : "?", names[0] ? names : "no name");
}

static void other_ca(SSL *ssl, char *out, size_t len)
{
	char issuer[128];
	issuer_cn(peer_cert(ssl, 0), issuer, sizeof(issuer));
	snprintf(out, len,
	         "the server's certificate (issued by '%s') does not chain to the module's CA "
	         "(client_ca: AT+SYSMFG or --mfg-raw replaces it)",
	         issuer);
}

void espat_tlsf_why(SSL *ssl, bool verify, const char *check_name, int64_t now, const char *hint,
                    char *out, size_t len)
{
	long vr = ssl != NULL && verify ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (vr == X509_V_ERR_CERT_NOT_YET_VALID) {
		not_yet_valid(ssl, now, out, len);
	} else if (vr == X509_V_ERR_CERT_HAS_EXPIRED) {
		expired(ssl, now, out, len);
	} else if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		wrong_name(ssl, check_name, out, len);
	} else if (unknown_ca(vr)) {
		other_ca(ssl, out, len);
	} else if (vr != X509_V_OK) {
		snprintf(out, len, "the server's certificate did not verify: %s",
		         X509_verify_cert_error_string(vr));
	} else {
		/* not the certificate: the caller's hint (the peer closed, a
		 * timeout), else OpenSSL's newest reason, the one that ended it
		 * (an alert from the server, a record that is not TLS, ...) */
		const char *r = hint ? hint : ERR_reason_error_string(ERR_peek_last_error());
		snprintf(out, len, "the handshake failed: %s", r ? r : "no reason given");
	}
}
