/*
 * server_addr: a sequence lock over a server's connect address (see
 * server_addr.h).  The words are atomics read and written relaxed, so a
 * reader racing the writer reads a torn copy but never a data race; the
 * sequence count around them says whether to read again.
 */
#include "server_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>

unsigned server_addr_load(const struct server_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    uint64_t words[SERVER_ADDR_WORDS];
    unsigned seq, again, n;

    for (;;) {
        seq = atomic_load_explicit(&a->seq, memory_order_acquire);
        if (seq & 1) {
            /* The writer is between its stores: a few instructions, unless
             * it was preempted there; then let it run. */
            sched_yield();
            continue;
        }
        n = atomic_load_explicit(&a->len, memory_order_relaxed);
        for (int i = 0; i < SERVER_ADDR_WORDS; i++)
            words[i] = atomic_load_explicit(&a->word[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        again = atomic_load_explicit(&a->seq, memory_order_relaxed);
        if (again == seq)
            break;
    }
    memset(ss, 0, sizeof *ss);
    if (n > sizeof words)
        n = 0;
    memcpy(ss, words, n);
    *len = (socklen_t)n;
    return seq;
}

unsigned server_addr_version(const struct server_addr *a)
{
    return atomic_load_explicit(&a->seq, memory_order_relaxed);
}

int server_addr_store(struct server_addr *a, const struct sockaddr *sa, socklen_t len)
{
    uint64_t words[SERVER_ADDR_WORDS] = { 0 };
    unsigned seq = atomic_load_explicit(&a->seq, memory_order_relaxed);

    if (!sa)
        len = 0;
    if (len > sizeof words)
        return -1;
    memcpy(words, sa ? (const void *)sa : (const void *)words, len);
    atomic_store_explicit(&a->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&a->len, (unsigned)len, memory_order_relaxed);
    for (int i = 0; i < SERVER_ADDR_WORDS; i++)
        atomic_store_explicit(&a->word[i], words[i], memory_order_relaxed);
    atomic_store_explicit(&a->seq, seq + 2, memory_order_release);
    return 0;
}

int server_addr_ip(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    const void *ip;

    if (ss->ss_family == AF_INET)
        ip = &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
    else if (ss->ss_family == AF_INET6)
        ip = &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
    else
        return -1;
    return inet_ntop(ss->ss_family, ip, out, (socklen_t)cap) ? 0 : -1;
}
