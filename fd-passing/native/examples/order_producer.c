/*
 * order_producer — an order-entry producer in C: attaches to an MPMC channel hosted by a JVM as a
 * producer and writes orders straight into the shared slots (claim, fill in place, commit): zero
 * copies. If this process dies mid-claim, the host recovers its slot and the ring flows on.
 *
 *   order_producer SOCKET CHANNEL COUNT [ORDERS_PER_SECOND]
 *
 * An order is type 1 (ORDER), 32 bytes, little-endian:
 *   0 u64 order id (0, 1, 2, ...)   8 u64 client (this pid)   16 i64 price in ticks
 *  24 i32 quantity                  28 i32 side (1 buy, 2 sell)
 */
#define _GNU_SOURCE
#include "../sluice.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ORDER_TYPE 1
#define ORDER_LENGTH 32

typedef struct {
    uint64_t id;
    uint64_t client;
    int64_t price_ticks;
    int32_t quantity;
    int32_t side;
} order;

_Static_assert(sizeof(order) == ORDER_LENGTH, "an order is 32 bytes");

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s SOCKET CHANNEL COUNT [ORDERS_PER_SECOND]\n", argv[0]);
        return 2;
    }
    uint64_t count = strtoull(argv[3], NULL, 10);
    double rate = argc > 4 ? atof(argv[4]) : 0;
    sluice_attach_options o = {.socket_path = argv[1], .channel = argv[2], .role = SLUICE_ROLE_PRODUCER};
    sluice_error err;
    sluice_channel *ch;
    if (sluice_attach(&o, &ch, &err) != SLUICE_OK) {
        fprintf(stderr, "order_producer: %s\n", err.message);
        return 1;
    }
    if (sluice_max_message_length(ch) < ORDER_LENGTH) {
        fprintf(stderr, "order_producer: slots of '%s' hold %u bytes, an order needs %d\n", argv[2],
                sluice_max_message_length(ch), ORDER_LENGTH);
        sluice_detach(ch);
        return 1;
    }
    printf("order_producer: attached to '%s' as participant %u\n", argv[2], sluice_participant_id(ch));
    fflush(stdout);

    double start = now_s();
    uint64_t full = 0, produced = 0;
    int rc = 0;
    for (uint64_t id = 0; id < count; id++, produced++) {
        if (rate > 0) {
            while (now_s() - start < (double) id / rate) {
                /* paced: spin until this order is due */
            }
        }
        void *slot;
        int r;
        while ((r = sluice_mpmc_try_claim(ch, ORDER_TYPE, ORDER_LENGTH, &slot)) == SLUICE_FULL) {
            if ((++full & 0xFFFF) == 0 && !sluice_host_alive(ch)) {
                fprintf(stderr, "order_producer: the host is gone after %" PRIu64 " orders (%s)\n", id,
                        sluice_last_error(ch)->message);
                sluice_detach(ch);
                return 1;
            }
        }
        if (r != SLUICE_OK) {
            fprintf(stderr, "order_producer: %s\n", sluice_last_error(ch)->message);
            rc = 1;
            break;
        }
        order *o_ = slot; /* slot payloads are 16 bytes into a power-of-two slot: 8-byte aligned */
        o_->id = id;
        o_->client = (uint64_t) getpid();
        o_->price_ticks = 100000 + (int64_t) (id % 100);
        o_->quantity = (int32_t) (1 + id % 10);
        o_->side = (int32_t) (1 + id % 2);
        if (sluice_mpmc_commit(ch) != SLUICE_OK) {
            fprintf(stderr, "order_producer: %s\n", sluice_last_error(ch)->message);
            rc = 1;
            break;
        }
    }
    double t = now_s() - start;
    printf("order_producer: produced %" PRIu64 " orders in %.3f s (%.0f/s); %" PRIu64 " claims found the ring full\n", produced, t,
           t > 0 ? (double) produced / t : 0.0, full);
    sluice_detach(ch);
    return rc;
}
