/* The Security Manager Protocol (Bluetooth Core 5.x, Vol 3 Part H): the
 * pairing PDUs as bytes, the choice of the pairing method from the two
 * sides' features (the IO-capability matrix, 2.3.5.1), and the
 * cryptographic toolbox of 2.2 (legacy c1/s1, LE Secure Connections
 * f4/f5/f6/g2 over AES-CMAC) that makes a wrong passkey fail by a confirm
 * value that does not check, as on a real link.
 *
 * Pure: no module, no clock, no allocation. The one block cipher, AES-128,
 * comes from the caller (espat_smp_aes128_fn), so this file stays free of
 * crypto libraries; the LE Secure Connections key pair and its
 * Diffie-Hellman key (P-256) are the caller's too.
 *
 * Byte order. PDUs are little-endian on the wire, like all of Bluetooth.
 * The toolbox functions take and give their values most significant octet
 * first, as Vol 3 Part H 2.2 writes them and its Appendix D samples print
 * them; espat_smp_swap() turns one into the other. */
#ifndef ESPAT_PROTO_SMP_H
#define ESPAT_PROTO_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESPAT_SMP_MTU 65u /* the largest PDU: Pairing Public Key, 1 + 64 */

enum espat_smp_code {
	ESPAT_SMP_PAIRING_REQ = 0x01,
	ESPAT_SMP_PAIRING_RSP = 0x02,
	ESPAT_SMP_CONFIRM = 0x03,
	ESPAT_SMP_RANDOM = 0x04,
	ESPAT_SMP_FAILED = 0x05,
	ESPAT_SMP_ENC_INFO = 0x06,     /* LTK */
	ESPAT_SMP_CENTRAL_ID = 0x07,   /* EDIV, Rand */
	ESPAT_SMP_ID_INFO = 0x08,      /* IRK */
	ESPAT_SMP_ID_ADDR_INFO = 0x09, /* identity address */
	ESPAT_SMP_SIGN_INFO = 0x0a,    /* CSRK */
	ESPAT_SMP_SECURITY_REQ = 0x0b,
	ESPAT_SMP_PUBLIC_KEY = 0x0c,
	ESPAT_SMP_DHKEY_CHECK = 0x0d,
	ESPAT_SMP_KEYPRESS = 0x0e,
};

/* Pairing Failed's reason (3.5.5). */
enum espat_smp_reason {
	ESPAT_SMP_E_PASSKEY = 0x01,       /* Passkey Entry Failed (the user refused) */
	ESPAT_SMP_E_OOB = 0x02,           /* OOB Not Available */
	ESPAT_SMP_E_AUTH_REQ = 0x03,      /* Authentication Requirements */
	ESPAT_SMP_E_CONFIRM = 0x04,       /* Confirm Value Failed */
	ESPAT_SMP_E_NOT_SUPPORTED = 0x05, /* Pairing Not Supported */
	ESPAT_SMP_E_KEY_SIZE = 0x06,      /* Encryption Key Size */
	ESPAT_SMP_E_CMD = 0x07,           /* Command Not Supported */
	ESPAT_SMP_E_UNSPECIFIED = 0x08,
	ESPAT_SMP_E_REPEATED = 0x09, /* Repeated Attempts */
	ESPAT_SMP_E_PARAMS = 0x0a,   /* Invalid Parameters */
	ESPAT_SMP_E_DHKEY = 0x0b,    /* DHKey Check Failed */
	ESPAT_SMP_E_NUMERIC = 0x0c,  /* Numeric Comparison Failed */
};

/* IO capabilities (3.5.1), the numbering AT+BLESECPARAM's <iocap> uses. */
enum espat_smp_io {
	ESPAT_SMP_IO_DISPLAY_ONLY = 0,
	ESPAT_SMP_IO_DISPLAY_YESNO = 1,
	ESPAT_SMP_IO_KEYBOARD_ONLY = 2,
	ESPAT_SMP_IO_NONE = 3, /* NoInputNoOutput */
	ESPAT_SMP_IO_KEYBOARD_DISPLAY = 4,
};

/* AuthReq bits (3.5.1); AT+BLESECPARAM's <auth_req> is this byte. */
#define ESPAT_SMP_AUTH_BOND 0x01u
#define ESPAT_SMP_AUTH_MITM 0x04u
#define ESPAT_SMP_AUTH_SC 0x08u
#define ESPAT_SMP_AUTH_KEYPRESS 0x10u

/* Key distribution bits (3.6.1); AT+BLESECPARAM's <init_key>/<rsp_key>. */
#define ESPAT_SMP_KEY_ENC 0x01u  /* LTK, EDIV, Rand */
#define ESPAT_SMP_KEY_ID 0x02u   /* IRK, identity address */
#define ESPAT_SMP_KEY_SIGN 0x04u /* CSRK */
#define ESPAT_SMP_KEY_LINK 0x08u

/* Pairing Request / Response's features. */
struct espat_smp_features {
	uint8_t io;                  /* enum espat_smp_io */
	uint8_t oob;                 /* 0 none, 1 present */
	uint8_t auth;                /* ESPAT_SMP_AUTH_* */
	uint8_t key_size;            /* maximum encryption key size, 7..16 */
	uint8_t init_keys, rsp_keys; /* ESPAT_SMP_KEY_* */
};

/* One decoded PDU; which field a code uses:
 *   PAIRING_REQ / RSP        feat
 *   CONFIRM, RANDOM, ENC_INFO, ID_INFO, SIGN_INFO, DHKEY_CHECK
 *                            v (16 bytes, as on the wire)
 *   FAILED                   reason
 *   CENTRAL_ID               ediv, rand (8 bytes)
 *   ID_ADDR_INFO             addr_type, addr (6 bytes, as on the wire)
 *   SECURITY_REQ             auth
 *   PUBLIC_KEY               x, y (32 bytes each, as on the wire)
 *   KEYPRESS                 keypress */
struct espat_smp_pdu {
	uint8_t code;
	struct espat_smp_features feat;
	uint8_t v[16];
	uint8_t reason;
	uint16_t ediv;
	uint8_t rand[8];
	uint8_t addr_type;
	uint8_t addr[6];
	uint8_t auth;
	uint8_t x[32], y[32];
	uint8_t keypress;
};

enum espat_smp_rc {
	ESPAT_SMP_OK = 0,
	ESPAT_SMP_MALFORMED = -1, /* a known code with the wrong length or a bad field */
	ESPAT_SMP_UNKNOWN = -2,   /* a code this version does not know: Command Not Supported */
};

/* Decodes one whole PDU (L2CAP's SMP channel delivers whole ones). */
enum espat_smp_rc espat_smp_decode(const uint8_t *in, size_t len, struct espat_smp_pdu *out);
/* Encodes p into out (cap bytes); returns its length, 0 when cap is too
 * small or p->code is not one of enum espat_smp_code. */
size_t espat_smp_encode(const struct espat_smp_pdu *p, uint8_t *out, size_t cap);

/* ---- the pairing method (2.3.5.1) ---------------------------------------- */

enum espat_smp_method {
	ESPAT_SMP_JUST_WORKS = 0,
	ESPAT_SMP_PASSKEY_INIT_INPUTS = 1, /* the responder displays, the initiator types */
	ESPAT_SMP_PASSKEY_RSP_INPUTS = 2,  /* the initiator displays, the responder types */
	ESPAT_SMP_PASSKEY_BOTH_INPUT = 3,  /* both type the same key */
	ESPAT_SMP_NUMERIC = 4,             /* numeric comparison (Secure Connections only) */
	ESPAT_SMP_OOB = 5,
};

/* Whether the pairing is LE Secure Connections: both set the SC bit. */
bool espat_smp_secure(const struct espat_smp_features *init, const struct espat_smp_features *rsp);
/* The method the initiator's and the responder's features select: OOB data
 * (both for legacy, either for SC), then Just Works when neither asks for
 * MITM, then Table 2.8 by the two IO capabilities. */
enum espat_smp_method espat_smp_method(const struct espat_smp_features *init,
                                       const struct espat_smp_features *rsp);
/* Whether the method authenticates (protects against a man in the middle). */
bool espat_smp_authenticated(enum espat_smp_method m);

/* ---- the toolbox (2.2), values most significant octet first ---------------- */

/* AES-128 of one block: out = e(key, in); in and out may be the same
 * block. */
typedef void (*espat_smp_aes128_fn)(void *user, const uint8_t key[16], const uint8_t in[16],
                                    uint8_t out[16]);

/* What the protocol needs from a crypto library, all values most
 * significant octet first. random and the P-256 pair are only needed by
 * a pairing session (smp_pair.h), not by the toolbox functions. */
struct espat_smp_crypto {
	espat_smp_aes128_fn aes;
	/* n random bytes */
	void (*random)(void *user, uint8_t *out, size_t n);
	/* A fresh P-256 key pair: pub is x then y (32 bytes each); priv is
	 * the caller's secret scalar. False on failure. */
	bool (*p256_keypair)(void *user, uint8_t priv[32], uint8_t pub[64]);
	/* The Diffie-Hellman key: the x coordinate of priv * peer_pub. False
	 * when peer_pub is not a point of the curve (an invalid public key,
	 * a known attack on pairing). */
	bool (*p256_dh)(void *user, const uint8_t priv[32], const uint8_t peer_pub[64],
	                uint8_t dhkey[32]);
	void *user;
};

/* Reverses n bytes from in into out (wire order <-> toolbox order). */
void espat_smp_swap(uint8_t *out, const uint8_t *in, size_t n);

/* AES-CMAC (RFC 4493) of msg under key. */
void espat_smp_cmac(const struct espat_smp_crypto *c, const uint8_t key[16], const uint8_t *msg,
                    size_t len, uint8_t mac[16]);

/* Legacy pairing's confirm value c1 (2.2.3): preq and pres are the Pairing
 * Request and Response PDUs as sent (7 bytes, wire order); iat/rat the
 * initiator's and responder's address types, ia/ra their addresses (6
 * bytes, most significant first, as printed). */
void espat_smp_c1(const struct espat_smp_crypto *c, const uint8_t k[16], const uint8_t r[16],
                  const uint8_t preq[7], const uint8_t pres[7], uint8_t iat, const uint8_t ia[6],
                  uint8_t rat, const uint8_t ra[6], uint8_t out[16]);
/* Legacy pairing's key generation s1 (2.2.4): STK = s1(TK, Srand, Mrand). */
void espat_smp_s1(const struct espat_smp_crypto *c, const uint8_t k[16], const uint8_t r1[16],
                  const uint8_t r2[16], uint8_t out[16]);
/* Secure Connections' confirm value f4(U, V, X, Z) (2.2.6). */
void espat_smp_f4(const struct espat_smp_crypto *c, const uint8_t u[32], const uint8_t v[32],
                  const uint8_t x[16], uint8_t z, uint8_t out[16]);
/* Secure Connections' key generation f5(W, N1, N2, A1, A2) (2.2.7): the
 * MacKey and the LTK. A1/A2 are 7 bytes: address type, then the address. */
void espat_smp_f5(const struct espat_smp_crypto *c, const uint8_t w[32], const uint8_t n1[16],
                  const uint8_t n2[16], const uint8_t a1[7], const uint8_t a2[7],
                  uint8_t mackey[16], uint8_t ltk[16]);
/* Secure Connections' check value f6(W, N1, N2, R, IOcap, A1, A2) (2.2.8);
 * iocap is AuthReq, OOB flag, IO capability. */
void espat_smp_f6(const struct espat_smp_crypto *c, const uint8_t w[16], const uint8_t n1[16],
                  const uint8_t n2[16], const uint8_t r[16], const uint8_t iocap[3],
                  const uint8_t a1[7], const uint8_t a2[7], uint8_t out[16]);
/* Secure Connections' numeric comparison value g2(U, V, X, Y) (2.2.9):
 * the six digits both sides show are its value mod 1,000,000. */
uint32_t espat_smp_g2(const struct espat_smp_crypto *c, const uint8_t u[32], const uint8_t v[32],
                      const uint8_t x[16], const uint8_t y[16]);

#endif
