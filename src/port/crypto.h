/* The crypto a platform provides to the protocols that need more than a
 * hash: Bluetooth LE pairing (proto/smp_pair.h) for now. Values are most
 * significant octet first. */
#ifndef ESPAT_PORT_CRYPTO_H
#define ESPAT_PORT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct espat_crypto_port {
	/* AES-128 of one block; in and out may be the same block */
	void (*aes128)(void *user, const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);
	/* n bytes from a cryptographically strong source */
	void (*random)(void *user, uint8_t *out, size_t n);
	/* A fresh P-256 key pair: pub is x then y; false on failure */
	bool (*p256_keypair)(void *user, uint8_t priv[32], uint8_t pub[64]);
	/* The x coordinate of priv * peer_pub; false when peer_pub is not on
	 * the curve */
	bool (*p256_dh)(void *user, const uint8_t priv[32], const uint8_t peer_pub[64],
	                uint8_t dhkey[32]);
	void *user;
};

#endif
