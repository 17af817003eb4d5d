/*
 * client_addr: who a client is, for admission (CONTRACT section 9) - an
 * address normalised to IPv6 (an IPv4 one as ::ffff:a.b.c.d), the 64-bit
 * key a client is counted under (an IPv4 address, or an IPv6 /64: one
 * subscriber's network, which hands its hosts any address in it), and
 * CIDR ranges (`trust`, `client-ip ... from`).  Pure functions: no sockets.
 */
#ifndef PROXY_CLIENT_ADDR_H
#define PROXY_CLIENT_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* A range of addresses: IPv4 ranges are kept as IPv4-mapped IPv6 ones
 * (bits + 96), so one comparison serves both families. */
struct cidr {
    struct in6_addr net;   /* the bits beyond `bits` are zero */
    uint8_t bits;          /* 0..128 */
};

/* No client: a key no TCP source can have (255.255.255.255, broadcast). */
#define CLIENT_KEY_NONE UINT64_MAX
/* Text of an address as the stats show it ("2001:db8:1:2::/64" for an
 * IPv6 client key). */
#define CLIENT_TEXT_MAX 48

/* "10.0.0.0/8", "2001:db8::/32", or an address alone (a /32 or /128).
 * Returns 0, or -1 for anything else (bits set beyond the prefix too: a
 * typo such as 10.0.0.1/8 is refused rather than guessed). */
int cidr_parse(const char *text, struct cidr *out);
int cidr_contains(const struct cidr *c, const struct in6_addr *a);
/* True when one of list[0..n) holds a. */
int cidr_list_contains(const struct cidr *list, size_t n, const struct in6_addr *a);

/* The client address of a socket address (AF_INET or AF_INET6). */
void client_addr_from_sockaddr(const void *sa, struct in6_addr *out);
/* One address as written in a header element: blanks around it, IPv6 in
 * brackets or not, and an IPv4 or bracketed IPv6 address with a port
 * (some balancers add one).  Returns 0, or -1 when it is not an address
 * ("unknown", an obfuscated identifier, garbage). */
int client_addr_parse(const char *s, size_t len, struct in6_addr *out);
/* The last address of a list header's value ("a, b, c" gives c: the one
 * the nearest proxy added).  Returns 0, or -1 when that element is not an
 * address. */
int client_addr_last_of_list(const char *value, size_t len, struct in6_addr *out);
/* The address as text (IPv4 dotted, IPv6 compressed) into out[cap]. */
void client_addr_format(const struct in6_addr *a, char *out, size_t cap);

/* The key a client is counted under: an IPv4 address, or an IPv6 /64. */
uint64_t client_key(const struct in6_addr *a);
/* The key as text: "192.0.2.7" or "2001:db8:1:2::/64". */
void client_key_format(uint64_t key, char *out, size_t cap);

#endif
