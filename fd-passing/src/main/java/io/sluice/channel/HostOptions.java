package io.sluice.channel;

import io.sluice.fdpassing.SeqPacketServer;

import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * How a {@link ChannelHost} is set up, and the limits that keep one misbehaving or hostile peer
 * from starving the others. Immutable; start from {@link #defaults()} and change what you need:
 *
 * <pre>{@code
 * ChannelHost.bind(socket, HostOptions.defaults()
 *         .accessPolicy(AccessPolicy.uids(1001, 1002))
 *         .memoryBudget(4L << 30)
 *         .maxConnectionsPerUid(512));
 * }</pre>
 *
 * @param accessPolicy         who may attach (per channel, {@link HostedChannel#accessPolicy} overrides it)
 * @param handshakeTimeout     how long a connecting peer has for each step of the handshake
 * @param socketPermissions    mode of the socket file
 * @param memoryBudget         bytes of shared memory the host's channels may take in all (data
 *                             regions); a channel beyond it is refused when it is made
 * @param maxConnections       connections the host keeps at once, handshakes and attachments
 *                             together; beyond it a connection is refused with
 *                             {@code CONNECTION_LIMIT} as soon as it is accepted
 * @param maxConnectionsPerUid the same, per peer uid ({@code SO_PEERCRED})
 * @param listChannelsInRefusals whether an {@code UNKNOWN_CHANNEL} refusal lists the hosted
 *                             channel names (only to peers the host's access policy admits);
 *                             off by default, since names can say more than their owner wants
 * @param stallLogThreshold    how long a producer of an SPSC or broadcast channel must have been
 *                             held back (back-pressure) before the host logs the stall, once, with
 *                             the consumer that holds it, and records it as a JFR event when it ends
 * @param stuckConsumerTimeout {@link Duration#ZERO} (the default): off. Otherwise, on an SPSC or
 *                             back-pressure broadcast channel, a consumer that has not moved its
 *                             position for this long while the producer has waited for room at least
 *                             as long is detached with {@code DETACH(STUCK)} (see
 *                             {@code docs/guarantees.md})
 */
public record HostOptions(AccessPolicy accessPolicy, Duration handshakeTimeout, Set<PosixFilePermission> socketPermissions,
                          long memoryBudget, int maxConnections, int maxConnectionsPerUid, boolean listChannelsInRefusals,
                          Duration stallLogThreshold, Duration stuckConsumerTimeout) {
    /** Default handshake step timeout: 5 s. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    /** Default memory budget: 1 GiB of data regions. */
    public static final long DEFAULT_MEMORY_BUDGET = 1L << 30;
    /** Default cap on connections: 1024. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    /** Default cap on connections from one uid: 256. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_UID = 256;
    /** Longest handshake step timeout accepted: 10 minutes. */
    public static final Duration MAX_HANDSHAKE_TIMEOUT = Duration.ofMinutes(10);
    /** Largest memory budget accepted: 1 TiB (a guard against typos; the machine decides what really fits). */
    public static final long MAX_MEMORY_BUDGET = 1L << 40;
    /** Largest connection cap accepted: 65536. */
    public static final int MAX_CONNECTIONS = 1 << 16;
    /** Default stall log threshold: 1 s. */
    public static final Duration DEFAULT_STALL_LOG_THRESHOLD = Duration.ofSeconds(1);
    /**
     * Shortest stall log threshold and stuck-consumer timeout accepted: 10 ms. The host looks at
     * its channels a few times per threshold, on its one thread; shorter would make it a poller.
     */
    public static final Duration MIN_WATCH_THRESHOLD = Duration.ofMillis(10);
    /** Longest stall log threshold and stuck-consumer timeout accepted: 1 hour. */
    public static final Duration MAX_WATCH_THRESHOLD = Duration.ofHours(1);

    /**
     * Checks every value against its bound, and copies the permission set.
     *
     * @throws NullPointerException     if a reference is null
     * @throws IllegalArgumentException naming the field and its bounds if a value is outside them
     */
    public HostOptions {
        Objects.requireNonNull(accessPolicy, "accessPolicy");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        socketPermissions = Set.copyOf(socketPermissions);
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero() || handshakeTimeout.compareTo(MAX_HANDSHAKE_TIMEOUT) > 0) {
            throw new IllegalArgumentException("handshake timeout " + handshakeTimeout + " is outside (0, " + MAX_HANDSHAKE_TIMEOUT + "]");
        }
        if (memoryBudget <= 0 || memoryBudget > MAX_MEMORY_BUDGET) {
            throw new IllegalArgumentException("memory budget " + memoryBudget + " is outside 1.." + MAX_MEMORY_BUDGET);
        }
        if (maxConnections < 1 || maxConnections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("max connections " + maxConnections + " is outside 1.." + MAX_CONNECTIONS);
        }
        if (maxConnectionsPerUid < 1 || maxConnectionsPerUid > maxConnections) {
            throw new IllegalArgumentException("max connections per uid " + maxConnectionsPerUid + " is outside 1.."
                    + maxConnections + " (max connections)");
        }
        Objects.requireNonNull(stallLogThreshold, "stallLogThreshold");
        Objects.requireNonNull(stuckConsumerTimeout, "stuckConsumerTimeout");
        if (!withinWatchBounds(stallLogThreshold)) {
            throw new IllegalArgumentException("stall log threshold " + stallLogThreshold + " is outside ["
                    + MIN_WATCH_THRESHOLD + ", " + MAX_WATCH_THRESHOLD + "]");
        }
        if (!stuckConsumerTimeout.isZero() && !withinWatchBounds(stuckConsumerTimeout)) {
            throw new IllegalArgumentException("stuck consumer timeout " + stuckConsumerTimeout + " is neither zero (off) nor in ["
                    + MIN_WATCH_THRESHOLD + ", " + MAX_WATCH_THRESHOLD + "]");
        }
    }

    private static boolean withinWatchBounds(Duration d) {
        return d.compareTo(MIN_WATCH_THRESHOLD) >= 0 && d.compareTo(MAX_WATCH_THRESHOLD) <= 0;
    }

    /**
     * Same uid only, 5 s handshake steps, socket mode 0600, 1 GiB budget, 1024 connections, 256 per
     * uid, stalls logged after 1 s, stuck consumers not detached.
     *
     * @return the defaults
     */
    public static HostOptions defaults() {
        return new HostOptions(AccessPolicy.sameUser(), DEFAULT_HANDSHAKE_TIMEOUT, SeqPacketServer.OWNER_ONLY,
                DEFAULT_MEMORY_BUDGET, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_UID, false,
                DEFAULT_STALL_LOG_THRESHOLD, Duration.ZERO);
    }

    /**
     * The same options, admitting the peers {@code policy} admits.
     *
     * @param policy who may attach
     * @return new options; these are unchanged
     */
    public HostOptions accessPolicy(AccessPolicy policy) {
        return new HostOptions(policy, handshakeTimeout, socketPermissions, memoryBudget, maxConnections,
                maxConnectionsPerUid, listChannelsInRefusals, stallLogThreshold, stuckConsumerTimeout);
    }

    /**
     * The same options with another handshake step timeout: a peer that takes longer for a step
     * is refused ({@code TIMEOUT}) and disconnected.
     *
     * @param timeout positive, at most {@link #MAX_HANDSHAKE_TIMEOUT}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException naming the field and its bounds if the value is outside them
     */
    public HostOptions handshakeTimeout(Duration timeout) {
        return new HostOptions(accessPolicy, timeout, socketPermissions, memoryBudget, maxConnections,
                maxConnectionsPerUid, listChannelsInRefusals, stallLogThreshold, stuckConsumerTimeout);
    }

    /**
     * The same options with another socket file mode: who may connect at all, before the
     * access policy is asked.
     *
     * @param permissions the mode bits of the socket file (only read and write matter for a socket)
     * @return new options; these are unchanged
     */
    public HostOptions socketPermissions(Set<PosixFilePermission> permissions) {
        return new HostOptions(accessPolicy, handshakeTimeout, permissions, memoryBudget, maxConnections,
                maxConnectionsPerUid, listChannelsInRefusals, stallLogThreshold, stuckConsumerTimeout);
    }

    /**
     * The same options with another memory budget: the data regions of all hosted channels
     * together may take at most {@code bytes}; a channel that does not fit is refused at creation.
     *
     * @param bytes positive, at most {@link #MAX_MEMORY_BUDGET}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException naming the field and its bounds if the value is outside them
     */
    public HostOptions memoryBudget(long bytes) {
        return new HostOptions(accessPolicy, handshakeTimeout, socketPermissions, bytes, maxConnections,
                maxConnectionsPerUid, listChannelsInRefusals, stallLogThreshold, stuckConsumerTimeout);
    }

    /**
     * Sets the cap on connections; the per-uid cap is lowered to it if it was higher.
     *
     * @param connections 1 to {@link #MAX_CONNECTIONS}, counting handshakes in progress
     * @return new options; these are unchanged
     * @throws IllegalArgumentException naming the field and its bounds if the value is outside them
     */
    public HostOptions maxConnections(int connections) {
        return new HostOptions(accessPolicy, handshakeTimeout, socketPermissions, memoryBudget, connections,
                Math.min(maxConnectionsPerUid, Math.max(1, connections)), listChannelsInRefusals, stallLogThreshold,
                stuckConsumerTimeout);
    }

    /**
     * The same options with another cap on the connections of one uid, so one user cannot take
     * every connection.
     *
     * @param connections 1 to {@link #maxConnections()}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException naming the field and its bounds if the value is outside them
     */
    public HostOptions maxConnectionsPerUid(int connections) {
        return new HostOptions(accessPolicy, handshakeTimeout, socketPermissions, memoryBudget, maxConnections,
                connections, listChannelsInRefusals, stallLogThreshold, stuckConsumerTimeout);
    }

    /**
     * The same options, listing the hosted channel names in {@code UNKNOWN_CHANNEL} refusals or not.
     *
     * @param list true to list them (to admitted peers only)
     * @return new options; these are unchanged
     */
    public HostOptions listChannelsInRefusals(boolean list) {
        return new HostOptions(accessPolicy, handshakeTimeout, socketPermissions, memoryBudget, maxConnections,
                maxConnectionsPerUid, list, stallLogThreshold, stuckConsumerTimeout);
    }

    /**
     * The same options with another stall log threshold: a producer held back by its consumers
     * (back-pressure) for longer is logged once, naming the consumer that holds it, and again
     * when the stall ends (see {@code docs/observability.md}).
     *
     * @param threshold {@link #MIN_WATCH_THRESHOLD} to {@link #MAX_WATCH_THRESHOLD}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException naming the field and its bounds if the value is outside them
     */
    public HostOptions stallLogThreshold(Duration threshold) {
        return new HostOptions(accessPolicy, handshakeTimeout, socketPermissions, memoryBudget, maxConnections,
                maxConnectionsPerUid, listChannelsInRefusals, threshold, stuckConsumerTimeout);
    }

    /**
     * The same options with the stuck-consumer policy on ({@code timeout} positive) or off
     * ({@link Duration#ZERO}): on an SPSC or back-pressure broadcast channel, a consumer that has
     * not moved its position for {@code timeout} while the producer has waited for room at least
     * as long is detached with {@code DETACH(STUCK)}, so that the producer is not held forever
     * by a consumer that is alive but no longer reads (see {@code docs/guarantees.md}).
     *
     * @param timeout zero (off), or {@link #MIN_WATCH_THRESHOLD} to {@link #MAX_WATCH_THRESHOLD}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException naming the field and its bounds if the value is outside them
     */
    public HostOptions stuckConsumerTimeout(Duration timeout) {
        return new HostOptions(accessPolicy, handshakeTimeout, socketPermissions, memoryBudget, maxConnections,
                maxConnectionsPerUid, listChannelsInRefusals, stallLogThreshold, timeout);
    }
}
