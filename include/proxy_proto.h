/*
 * proxy_proto: the PROXY protocol header (haproxy.org's proxy-protocol.txt),
 * version 1 (a text line) and version 2 (binary), both ways: an
 * incremental parser for what an L4 balancer sends before a client's bytes
 * (`listen ADDR proxy-protocol`), and an encoder for what the proxy sends
 * to servers (`send-proxy v1|v2`).  Pure functions on buffers: no sockets,
 * no allocation, so the unit tests and the fuzz harness drive them alone.
 *
 * Addresses are held in a struct sockaddr_in6, as struct conn.peer is: an
 * IPv4 address is a struct sockaddr_in in it (sin_family AF_INET).
 */
#ifndef PROXY_PROXY_PROTO_H
#define PROXY_PROXY_PROTO_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* v1: the whole line, "PROXY ... \r\n", is at most 107 bytes (the spec's
 * worst case, TCP6 with the longest addresses and ports). */
#define PP_V1_MAX 107
/* v2: the fixed part (signature, version/command, family, length). */
#define PP_V2_FIXED 16
/* v2: the most the length field may announce (addresses and TLVs).  The
 * spec says a header fits in 536 bytes, the smallest TCP MSS every host
 * must take; a longer one is refused as soon as its length is read, so a
 * header claiming 65535 bytes costs nothing to reject. */
#define PP_V2_LEN_MAX 536
/* The most a reader ever needs to look at: any header it accepts fits. */
#define PP_HEADER_MAX (PP_V2_FIXED + PP_V2_LEN_MAX)
/* The longest header pp_encode writes (v1 TCP6 with the longest fields). */
#define PP_ENCODE_MAX PP_V1_MAX

enum pp_status {
    PP_INVALID = -1,  /* not a valid header: close the connection */
    PP_NEED_MORE = 0, /* a valid start; more bytes must arrive */
    PP_DONE = 1,      /* a whole header: pp_header says what it held */
};

struct pp_header {
    uint8_t version;           /* 1 or 2 */
    /* The connection's own endpoints stand (no addresses to take): v1
     * UNKNOWN, v2 LOCAL (a health check of the balancer), v2 UNSPEC and
     * the families this proxy does not take (AF_UNIX, DGRAM), which the
     * spec says a receiver treats as UNSPEC. */
    uint8_t local;
    size_t len;                /* bytes of the stream the header takes */
    struct sockaddr_in6 src;   /* the client (when !local) */
    struct sockaddr_in6 dst;   /* the address it connected to (when !local) */
    const char *error;         /* PP_INVALID: why, for the log (static text) */
};

/* Looks at the first `len` bytes a connection sent.  PP_DONE fills *h
 * (h->len bytes are the header; what follows belongs to the next layer);
 * PP_NEED_MORE says the bytes so far are a valid beginning and a header
 * can still fit (at most PP_HEADER_MAX bytes in all); PP_INVALID sets
 * h->error.  Stateless: call it again on the whole of what arrived. */
enum pp_status pp_parse(const unsigned char *buf, size_t len, struct pp_header *h);

/* Writes a header of `version` (1 or 2) into out (cap bytes, at least
 * PP_ENCODE_MAX) for a connection from src to dst.  With src or dst NULL,
 * or not both IPv4 or both IPv6, it says there is no client to tell of:
 * v1 "PROXY UNKNOWN", v2 LOCAL (what HAProxy sends for its health checks
 * and for addresses it cannot express).  Returns the length, 0 if cap is
 * too small or the version unknown. */
size_t pp_encode(int version, unsigned char *out, size_t cap, const struct sockaddr *src,
                 const struct sockaddr *dst);

#endif
