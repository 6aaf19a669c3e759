/*
 * md_subscriber — a market-data subscriber in C: attaches to a broadcast channel hosted by a JVM
 * (either overflow policy) and reads every quote in place, with zero copies, from the producer's
 * own pages. Once a second it prints the rate and whether it was lapped.
 *
 *   md_subscriber SOCKET CHANNEL [SECONDS] [newest|oldest]
 *
 * SECONDS: stop after that long (default: run until the host goes away). On an overwrite channel
 * a slow subscriber is lapped: it says how many times and how many messages it lost (exact counts,
 * from the record sequences), and it discards a quote that was overwritten while it read it.
 */
#define _GNU_SOURCE
#include "../sluice.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    sluice_channel *ch;
    uint64_t messages;
    uint64_t bytes;
    uint64_t torn;
    uint64_t checksum;
} subscriber;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_quote(void *ctx, int32_t type, const void *payload, uint32_t length) {
    subscriber *s = ctx;
    /* Read what we need out of the ring first (here: the first 8 bytes, e.g. an instrument id
       or a sequence), then check it was not overwritten under us before acting on it. */
    uint64_t head = 0;
    memcpy(&head, payload, length < 8 ? length : 8);
    if (!sluice_bcast_still_valid(s->ch)) {
        s->torn++;
        return;
    }
    s->messages++;
    s->bytes += length;
    s->checksum += head ^ (uint64_t) type;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET CHANNEL [SECONDS] [newest|oldest]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 0;
    sluice_attach_options o = {
        .socket_path = argv[1],
        .channel = argv[2],
        .role = SLUICE_ROLE_CONSUMER,
        .kinds = SLUICE_KIND_MASK(SLUICE_KIND_BROADCAST_BACKPRESSURE) | SLUICE_KIND_MASK(SLUICE_KIND_BROADCAST_OVERWRITE),
        .start = argc > 4 && strcmp(argv[4], "oldest") == 0 ? SLUICE_START_OLDEST : SLUICE_START_NEWEST,
    };
    sluice_error err;
    subscriber s = {0};
    if (sluice_attach(&o, &s.ch, &err) != SLUICE_OK) {
        fprintf(stderr, "md_subscriber: %s\n", err.message);
        return 1;
    }
    printf("md_subscriber: attached to '%s' (%s, max message %u bytes)\n", argv[2],
           sluice_channel_kind(s.ch) == SLUICE_KIND_BROADCAST_OVERWRITE ? "overwrite" : "back-pressure",
           sluice_max_message_length(s.ch));
    fflush(stdout);

    double start = now_s(), last = start;
    uint64_t last_messages = 0, last_bytes = 0, idle = 0;
    int rc = 0;
    for (;;) {
        int n = sluice_poll(s.ch, on_quote, &s, 256);
        if (n < 0) {
            fprintf(stderr, "md_subscriber: %s\n", sluice_last_error(s.ch)->message);
            rc = 1;
            break;
        }
        if (n == 0 && (++idle & 0xFFF) == 0 && !sluice_host_alive(s.ch)
            && sluice_poll(s.ch, on_quote, &s, 256) == 0) {
            printf("md_subscriber: the host is gone; everything it published was read (%s)\n",
                   sluice_last_error(s.ch)->message); /* why it went: a DETACH's reason and text, if it sent one */
            break;
        }
        if (n > 0 || (idle & 0xFFF) == 0) {
            double t = now_s();
            if (t - last >= 1.0) {
                sluice_bcast_stats st;
                sluice_bcast_stats_get(s.ch, &st);
                printf("md_subscriber: %.0f msg/s, %.1f MB/s, laps %" PRIu64 " (lost %" PRIu64 " messages), torn %" PRIu64
                       ", total %" PRIu64 "\n", (double) (s.messages - last_messages) / (t - last),
                       (double) (s.bytes - last_bytes) / (t - last) / 1e6, st.laps, st.lost_messages, s.torn, s.messages);
                fflush(stdout);
                last = t;
                last_messages = s.messages;
                last_bytes = s.bytes;
            }
            if (seconds > 0 && t - start >= seconds) {
                break;
            }
        }
    }
    sluice_bcast_stats st;
    sluice_bcast_stats_get(s.ch, &st);
    printf("md_subscriber: %" PRIu64 " messages, %" PRIu64 " bytes, laps %" PRIu64 ", lost %" PRIu64 ", torn %" PRIu64
           " in %.1f s\n", s.messages, s.bytes, st.laps, st.lost_messages, s.torn, now_s() - start);
    sluice_detach(s.ch);
    return rc;
}
