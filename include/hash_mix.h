/*
 * hash_mix: MurmurHash3's 64-bit finalizer - every input bit reaches every
 * output bit - for the hash tables and sketches that pick buckets, shards
 * or registers from a key's top and low bits.
 */
#ifndef PROXY_HASH_MIX_H
#define PROXY_HASH_MIX_H

#include <stdint.h>

static inline uint64_t hash_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

#endif
