/*
 * tls_tickets: the shared, rotating session ticket keys (see tls_tickets.h).
 *
 * Without our own callback every SSL_CTX would make its own keys: a reload
 * (a new context) would then forget every ticket, so would a second
 * listener.  The ring is read on every resumption by any worker and written
 * once in 12 hours, hence a reader-writer lock.
 */
#include "tls_tickets.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <string.h>

#define TICKET_KEYS 2 /* the current one and the previous one */

struct ticket_key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    int set;
};

static struct ticket_key ring[TICKET_KEYS]; /* ring[current] issues */
static unsigned current;
static pthread_rwlock_t ring_lock = PTHREAD_RWLOCK_INITIALIZER;

static int make_key(struct ticket_key *k)
{
    if (RAND_bytes(k->name, sizeof k->name) != 1 || RAND_bytes(k->aes, sizeof k->aes) != 1 ||
        RAND_bytes(k->hmac, sizeof k->hmac) != 1)
        return -1;
    k->set = 1;
    return 0;
}

int tls_tickets_init(void)
{
    int rc = 0;
    pthread_rwlock_wrlock(&ring_lock);
    if (!ring[current].set)
        rc = make_key(&ring[current]);
    pthread_rwlock_unlock(&ring_lock);
    return rc;
}

int tls_tickets_rotate(void)
{
    struct ticket_key next;
    if (make_key(&next) < 0)
        return -1;
    pthread_rwlock_wrlock(&ring_lock);
    current = (current + 1) % TICKET_KEYS;
    ring[current] = next;
    pthread_rwlock_unlock(&ring_lock);
    OPENSSL_cleanse(&next, sizeof next);
    return 0;
}

static int set_keys(const struct ticket_key *k, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, const unsigned char *iv,
                    int enc)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof k->hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"sha256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_CTX_set_params(hctx, params))
        return -1;
    if (!EVP_CipherInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv, enc))
        return -1;
    return 0;
}

/* OpenSSL's ticket callback: enc=1 issue with the current key; enc=0 find
 * the key by name (1: good, 2: good but renew with the current one, 0: not
 * ours - a full handshake).
 *
 * TLS 1.3 always renews: a TLS 1.3 client uses a ticket once (RFC 8446
 * C.4; OpenSSL's client drops it after resuming with it), and OpenSSL's
 * server sends a ticket after a resumption only when told to renew, so
 * without a new one the client's next connection is a full handshake -
 * every other connection of a returning client (issue 20: wrk resumed
 * 50% of its connections here, 99% with nginx and HAProxy, which renew).
 * TLS 1.2 clients reuse a ticket as long as it is good. */
static int ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx,
                     int enc)
{
    int rc = 0;
    pthread_rwlock_rdlock(&ring_lock);
    if (enc) {
        const struct ticket_key *k = &ring[current];
        if (k->set && RAND_bytes(iv, EVP_MAX_IV_LENGTH) == 1 && set_keys(k, cctx, hctx, iv, 1) == 0) {
            memcpy(name, k->name, 16);
            rc = 1;
        } else {
            rc = -1;
        }
    } else {
        for (unsigned i = 0; i < TICKET_KEYS; i++) {
            const struct ticket_key *k = &ring[i];
            if (k->set && memcmp(name, k->name, 16) == 0) {
                rc = set_keys(k, cctx, hctx, iv, 0) < 0 ? -1 : i == current && SSL_version(s) < TLS1_3_VERSION ? 1 : 2;
                break;
            }
        }
    }
    pthread_rwlock_unlock(&ring_lock);
    return rc;
}

void tls_tickets_attach(SSL_CTX *ctx)
{
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
}
