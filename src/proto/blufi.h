/* BluFi (Espressif's Wi-Fi provisioning over BLE, ESP-IDF "BluFi"
 * protocol): the frames a phone and the module exchange through the BluFi
 * GATT service's two characteristics (0xFF01 phone -> module writes,
 * 0xFF02 module -> phone notifications), and the security the phone
 * negotiates (docs/internals/blufi.md).
 *
 * A frame: type (bits 0-1 control 0 / data 1, bits 2-7 the subtype),
 * frame control (ESPAT_BLUFI_FC_*), sequence number, data length, data,
 * and with FC_CHECK a CRC16 (little-endian) over sequence, data length and
 * the clear data. A fragment (FC_FRAG) starts its data with the total
 * content length still to come (2 bytes, little-endian); the last piece of
 * a message is not a fragment. With FC_ENC the data (not the checksum) is
 * AES-128-CFB128 under the negotiated key, IV = 16 bytes of zero but the
 * first, the frame's sequence number.
 *
 * Pure and whole-frame (one ATT write carries one frame): no module, no
 * clock, no allocation of its own; libcrypto does MD5, AES and the modular
 * exponentiation of the DH negotiation, as it does SHA-1 for proto/ws.c.
 * Randomness (the DH private key) comes from the caller. */
#ifndef ESPAT_PROTO_BLUFI_H
#define ESPAT_PROTO_BLUFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest message a phone may send in fragments (reassembled):
 * COMPAT #503. DH parameters of a 2048-bit group take 774 bytes. */
#define ESPAT_BLUFI_MSG_MAX 2048u
#define ESPAT_BLUFI_FRAME_MAX (4u + 255u + 2u) /* header, data, checksum */
#define ESPAT_BLUFI_DH_MAX 256u /* bytes of the largest prime P accepted (2048 bits) */
/* Frame overhead under an ATT_MTU: header 4, total length 2, checksum 2,
 * and the notification's own 3 bytes. */
#define ESPAT_BLUFI_MTU_RESERVED 11u

#define ESPAT_BLUFI_CTRL 0u
#define ESPAT_BLUFI_DATA 1u
#define ESPAT_BLUFI_TYPE(kind, sub) ((uint8_t)(((kind)&3u) | ((unsigned)(sub) << 2)))
#define ESPAT_BLUFI_KIND(type) ((type)&3u)
#define ESPAT_BLUFI_SUB(type) ((uint8_t)((type) >> 2))

/* Control subtypes. */
enum {
	ESPAT_BLUFI_C_ACK = 0x00,
	ESPAT_BLUFI_C_SEC_MODE = 0x01,
	ESPAT_BLUFI_C_OPMODE = 0x02,
	ESPAT_BLUFI_C_CONN_AP = 0x03,
	ESPAT_BLUFI_C_DISCONN_AP = 0x04,
	ESPAT_BLUFI_C_GET_STATUS = 0x05,
	ESPAT_BLUFI_C_DEAUTH_STA = 0x06,
	ESPAT_BLUFI_C_GET_VERSION = 0x07,
	ESPAT_BLUFI_C_DISCONN_BLE = 0x08,
	ESPAT_BLUFI_C_GET_WIFI_LIST = 0x09,
};

/* Data subtypes. */
enum {
	ESPAT_BLUFI_D_NEG = 0x00,
	ESPAT_BLUFI_D_STA_BSSID = 0x01,
	ESPAT_BLUFI_D_STA_SSID = 0x02,
	ESPAT_BLUFI_D_STA_PASSWD = 0x03,
	ESPAT_BLUFI_D_SOFTAP_SSID = 0x04,
	ESPAT_BLUFI_D_SOFTAP_PASSWD = 0x05,
	ESPAT_BLUFI_D_WIFI_REP = 0x0f,
	ESPAT_BLUFI_D_VERSION = 0x10,
	ESPAT_BLUFI_D_WIFI_LIST = 0x11,
	ESPAT_BLUFI_D_ERROR = 0x12,
	ESPAT_BLUFI_D_CUSTOM = 0x13,
	ESPAT_BLUFI_D_MAX_RETRY = 0x14,
	ESPAT_BLUFI_D_END_REASON = 0x15,
	ESPAT_BLUFI_D_END_RSSI = 0x16,
};

/* Frame control bits. */
#define ESPAT_BLUFI_FC_ENC 0x01u
#define ESPAT_BLUFI_FC_CHECK 0x02u
#define ESPAT_BLUFI_FC_E2P 0x04u /* direction: module to phone */
#define ESPAT_BLUFI_FC_ACK 0x08u /* the sender wants an ACK */
#define ESPAT_BLUFI_FC_FRAG 0x10u

/* Security mode (control SEC_MODE's byte): high nibble for control
 * frames, low nibble for data frames; bit 0 checksum, bit 1 encryption. */
#define ESPAT_BLUFI_SEC_DATA_CHECK 0x01u
#define ESPAT_BLUFI_SEC_DATA_ENC 0x02u
#define ESPAT_BLUFI_SEC_CTRL_CHECK 0x10u

/* The error report's codes (data ERROR). */
enum espat_blufi_err {
	ESPAT_BLUFI_E_SEQUENCE = 0x00,
	ESPAT_BLUFI_E_CHECKSUM = 0x01,
	ESPAT_BLUFI_E_DECRYPT = 0x02,
	ESPAT_BLUFI_E_ENCRYPT = 0x03,
	ESPAT_BLUFI_E_INIT_SECURITY = 0x04,
	ESPAT_BLUFI_E_DH_PARAM = 0x06,
	ESPAT_BLUFI_E_READ_PARAM = 0x07,
	ESPAT_BLUFI_E_MAKE_PUBLIC = 0x08,
	ESPAT_BLUFI_E_FORMAT = 0x09,
	ESPAT_BLUFI_E_MD5 = 0x0a,
	ESPAT_BLUFI_E_SCAN = 0x0b,
};

/* One end's state for one BLE link: both sequence counters start at 0
 * with every connection. */
struct espat_blufi_codec {
	uint8_t recv_seq;  /* the sequence number the next frame in must carry */
	uint8_t send_seq;  /* ... the next frame out carries */
	uint8_t sec_mode;  /* the peer's last SEC_MODE (what frames out get) */
	bool keyed;        /* a key was negotiated */
	uint8_t key[16];   /* AES-128: MD5 of the DH shared secret */
	uint16_t frag_max; /* content bytes in one outgoing fragment (ATT_MTU - 11) */
	/* a fragmented message being reassembled: got > 0 while one is */
	uint8_t msg[ESPAT_BLUFI_MSG_MAX];
	size_t total, got;
	/* the DH negotiation: the parameters' length the phone announced */
	size_t neg_len;
};

/* A whole message received: its type and its clear data, a borrowed
 * slice valid until the next call. */
struct espat_blufi_msg {
	uint8_t type;
	const uint8_t *data;
	size_t len;
};

enum espat_blufi_rc {
	ESPAT_BLUFI_MSG = 0,  /* a message is complete: *out */
	ESPAT_BLUFI_PART = 1, /* a fragment was kept; more are to come */
	ESPAT_BLUFI_BAD = -1, /* refused: *err says why (report it to the peer) */
};

/* A fresh codec (a new link): sequence 0, no security, the fragment size of
 * the minimum ATT_MTU. */
void espat_blufi_init(struct espat_blufi_codec *c);
/* The link's ATT_MTU changed: fragments out fit it (at most 253 content
 * bytes, the most a frame's one-byte length allows with the total). */
void espat_blufi_set_mtu(struct espat_blufi_codec *c, uint16_t mtu);

/* CRC16 as BluFi checks frames: CCITT polynomial 0x1021, MSB first,
 * initial value and final XOR 0xFFFF (ESP-IDF's esp_crc16_be(0, ...)). */
uint16_t espat_blufi_crc16(const uint8_t *p, size_t n);

/* One frame from the peer, f[0..n): checked (length, sequence, checksum),
 * decrypted and, for fragments, gathered. ack (may be NULL) is set when
 * the frame asked for an ACK (whatever the outcome but a refusal before the
 * sequence was taken); *ack_seq is the sequence to acknowledge. */
enum espat_blufi_rc espat_blufi_recv(struct espat_blufi_codec *c, const uint8_t *f, size_t n,
                                     struct espat_blufi_msg *out, uint8_t *err, bool *ack,
                                     uint8_t *ack_seq);

/* The next frame of the message type/data[0..len) from *off (0 to start):
 * written into out (at least ESPAT_BLUFI_FRAME_MAX bytes), *off advanced;
 * returns the frame's length, 0 when encryption failed. A message longer
 * than frag_max goes out in fragments; call until *off == len (a message
 * of no data is one frame). Checksum and encryption follow sec_mode, as
 * ESP-IDF's sender does: never for NEG and ERROR data, no encryption of
 * control frames. */
size_t espat_blufi_frame(struct espat_blufi_codec *c, uint8_t type, const uint8_t *data, size_t len,
                         size_t *off, uint8_t *out);

/* The DH negotiation's messages (data NEG) as ESP-IDF's example security
 * reads them: 0x00 + 2 bytes (big-endian) announce the parameters'
 * length; 0x01 + the parameters: P, G and the phone's public key, each a
 * 2-byte big-endian length and the big-endian number. On the second, the
 * module's public key G^priv mod P goes into pub (P's length, big-endian,
 * *pub_len) and the key becomes MD5 of the shared secret (its big-endian
 * bytes, no leading zeros). priv: the caller's random private key bytes.
 * Returns 0 with nothing to answer, 1 with *pub to send back, -1 with *err. */
int espat_blufi_negotiate(struct espat_blufi_codec *c, const uint8_t *data, size_t len,
                          const uint8_t *priv, size_t priv_len, uint8_t *pub, size_t *pub_len,
                          uint8_t *err);

/* AES-128-CFB128 of buf[0..n) in place under key, IV = (seq, 0, ..., 0);
 * encrypt or decrypt as dir says. False when libcrypto fails. */
enum espat_blufi_dir { ESPAT_BLUFI_ENCRYPT, ESPAT_BLUFI_DECRYPT };
bool espat_blufi_cfb(const uint8_t key[16], uint8_t seq, enum espat_blufi_dir dir, uint8_t *buf,
                     size_t n);

#endif
