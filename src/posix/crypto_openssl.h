/* port/crypto.h over OpenSSL's libcrypto. */
#ifndef ESPAT_POSIX_CRYPTO_OPENSSL_H
#define ESPAT_POSIX_CRYPTO_OPENSSL_H

#include "port/crypto.h"

/* The port; stateless (user is NULL), so one serves every module. */
struct espat_crypto_port espat_crypto_openssl(void);

#endif
