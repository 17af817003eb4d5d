/*
 * test_tls_tickets: the shared session ticket keys (CONTRACT 7: rotated
 * every 12 h, the previous key still accepted).  Real handshakes between
 * a client and a server SSL through a memory BIO pair: a ticket resumes
 * after one rotation (and is renewed under the new key), and no longer
 * after two.  TLS 1.2 and 1.3 both, since 1.3 sends its tickets after
 * the handshake.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <openssl/ssl.h>
#include <time.h>

#include "fixtures.h"
#include "tls_fixtures.h"
#include "tls_tickets.h"

/* A handshake offering `offer`; returns whether it resumed, and hands the
 * client's new session to *next (freed by the caller). */
static int resumes(SSL_CTX *ctx, int version, SSL_SESSION *offer, SSL_SESSION **next)
{
    struct tlsfx_client opts = { .max_version = version };
    int reused = -1;
    SSL_SESSION *got = tlsfx_resume(ctx, &opts, offer, &reused);
    cr_assert(got, "the handshake failed");
    cr_assert_neq(reused, -1);
    if (next)
        *next = got;
    else
        SSL_SESSION_free(got);
    return reused;
}

ParameterizedTestParameters(tls_tickets, previous_key_accepted)
{
    static int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
    return cr_make_param_array(int, versions, sizeof versions / sizeof versions[0]);
}

ParameterizedTest(int *version, tls_tickets, previous_key_accepted)
{
    SSL_CTX *ctx = fixture_tls_server_with_tickets();
    SSL_SESSION *first = NULL, *renewed = NULL;

    cr_assert_eq(resumes(ctx, *version, NULL, &first), 0, "a first handshake cannot resume");
    cr_assert(SSL_SESSION_has_ticket(first), "the server sent no ticket");
    cr_assert_eq(resumes(ctx, *version, first, NULL), 1, "the ticket does not resume under its own key");

    /* One rotation: the key that issued `first` is the previous one,
     * still accepted; the ticket is renewed under the new current key. */
    cr_assert_eq(tls_tickets_rotate(), 0);
    cr_assert_eq(resumes(ctx, *version, first, &renewed), 1, "the previous key is not accepted after a rotation");
    cr_assert(SSL_SESSION_has_ticket(renewed));

    /* A second rotation drops first's key; the renewed ticket's key is
     * now the previous one. */
    cr_assert_eq(tls_tickets_rotate(), 0);
    cr_assert_eq(resumes(ctx, *version, first, NULL), 0, "a ticket two rotations old still resumed");
    cr_assert_eq(resumes(ctx, *version, renewed, NULL), 1, "the renewed ticket does not resume");

    SSL_SESSION_free(first);
    SSL_SESSION_free(renewed);
    SSL_CTX_free(ctx);
}

/* Two contexts (two listeners, or the old and the new generation across a
 * reload) share the keys: a ticket from one resumes on the other. */
Test(tls_tickets, shared_by_contexts)
{
    SSL_CTX *a = fixture_tls_server_with_tickets(), *b = fixture_tls_server_with_tickets();
    SSL_SESSION *s = NULL;
    cr_assert_eq(resumes(a, TLS1_3_VERSION, NULL, &s), 0);
    cr_assert_eq(resumes(b, TLS1_3_VERSION, s, NULL), 1, "a ticket from one context does not resume on another");
    SSL_SESSION_free(s);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
}
