/*
 * Test messages shared by the C test peer and the Java tests (io.sluice.channel.NativeTestMessages,
 * which must compute exactly the same): every message is a pure function of (seed, tag, seq), so
 * either side can generate, verify and checksum it without the other.
 *
 *   mix     = splitmix64(seed + tag * 0xD1B54A32D192ED03 + seq * 0x9E3779B97F4A7C15)
 *   type    = 1 + (mix >> 61)                       (1..8)
 *   length  = 16 + mix % (max_length - 16 + 1)      (16..max_length)
 *   payload = seq (u64 LE) | tag (u64 LE) | words w_j = mix ^ (j * 0x2545F4914F6CDD1D), LE, cut at length
 *   digest  = step(step(step(BASIS, type), length), each 8-byte chunk zero-padded, LE)
 *   step(h, w) = rotl64((h ^ w) * 0x9E3779B97F4A7C15, 31)
 *   checksum of a stream = step over the digests, in delivery order, from BASIS
 */
#ifndef SLUICE_TESTMSG_H
#define SLUICE_TESTMSG_H

#include <stdint.h>
#include <string.h>

#define TM_BASIS 0xCBF29CE484222325ull
#define TM_MIN_LENGTH 16u

static inline uint64_t tm_splitmix64(uint64_t x) {
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t tm_mix(uint64_t seed, uint64_t tag, uint64_t seq) {
    return tm_splitmix64(seed + tag * 0xD1B54A32D192ED03ull + seq * 0x9E3779B97F4A7C15ull);
}

static inline int32_t tm_type(uint64_t mix) {
    return (int32_t) (1 + (mix >> 61));
}

static inline uint32_t tm_length(uint64_t mix, uint32_t max_length) {
    return TM_MIN_LENGTH + (uint32_t) (mix % (uint64_t) (max_length - TM_MIN_LENGTH + 1));
}

static inline void tm_fill(uint8_t *p, uint64_t mix, uint64_t tag, uint64_t seq, uint32_t length) {
    memcpy(p, &seq, 8);
    memcpy(p + 8, &tag, 8);
    for (uint32_t off = 16, j = 0; off < length; off += 8, j++) {
        uint64_t w = mix ^ (j * 0x2545F4914F6CDD1Dull);
        uint32_t n = length - off < 8 ? length - off : 8;
        memcpy(p + off, &w, n);
    }
}

/* Whether p holds exactly what tm_fill writes. */
static inline int tm_check(const uint8_t *p, uint64_t mix, uint64_t tag, uint64_t seq, uint32_t length) {
    if (memcmp(p, &seq, 8) != 0 || memcmp(p + 8, &tag, 8) != 0) {
        return 0;
    }
    for (uint32_t off = 16, j = 0; off < length; off += 8, j++) {
        uint64_t w = mix ^ (j * 0x2545F4914F6CDD1Dull);
        uint32_t n = length - off < 8 ? length - off : 8;
        if (memcmp(p + off, &w, n) != 0) {
            return 0;
        }
    }
    return 1;
}

/* The sequence number a test message's payload starts with. */
static inline uint64_t tm_seq(const void *payload) {
    uint64_t seq;
    memcpy(&seq, payload, 8);
    return seq;
}

/* The tag that follows it. */
static inline uint64_t tm_tag(const void *payload) {
    uint64_t tag;
    memcpy(&tag, (const uint8_t *) payload + 8, 8);
    return tag;
}

static inline uint64_t tm_step(uint64_t h, uint64_t w) {
    uint64_t x = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return (x << 31) | (x >> 33);
}

static inline uint64_t tm_digest(int32_t type, const uint8_t *p, uint32_t length) {
    uint64_t h = tm_step(TM_BASIS, (uint64_t) (uint32_t) type);
    h = tm_step(h, length);
    for (uint32_t off = 0; off < length; off += 8) {
        uint64_t w = 0;
        memcpy(&w, p + off, length - off < 8 ? length - off : 8);
        h = tm_step(h, w);
    }
    return h;
}

#endif
