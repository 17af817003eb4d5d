/*
 * http_hop: see http_hop.h.
 */
#include "http_hop.h"

#include <strings.h>

/* Whether name[0..n) is the lowercase literal lit of length n, in any
 * case: the first byte by hand, as most names that share a length with
 * one of the names below differ there. */
static int name_is(const char *name, const char *lit, size_t n)
{
    return (name[0] | 0x20) == lit[0] && strncasecmp(name + 1, lit + 1, n - 1) == 0;
}

uint8_t http_hop_kind(const char *name, size_t len)
{
    /* By length first: most fields match none of these, and the length
     * alone rules out nearly all of them (a table walk with strncasecmp
     * was 700 instructions a response). */
    switch (len) {
    case 2:
        return name_is(name, "te", 2) ? HF_HOP : HF_OTHER;
    case 7:
        return name_is(name, "trailer", 7) ? HF_HOP : name_is(name, "upgrade", 7) ? HF_UPGRADE : HF_OTHER;
    case 10:
        return name_is(name, "connection", 10) ? HF_CONNECTION : name_is(name, "keep-alive", 10) ? HF_HOP : HF_OTHER;
    case 16:
        return name_is(name, "proxy-connection", 16) ? HF_HOP : HF_OTHER;
    case 17:
        return name_is(name, "transfer-encoding", 17) ? HF_TRANSFER_ENCODING : HF_OTHER;
    default:
        return HF_OTHER;
    }
}
