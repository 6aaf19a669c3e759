package io.sluice.cache;

import io.sluice.channel.AccessPolicy;
import io.sluice.fdpassing.SeqPacketServer;

import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * How a {@link CacheHost} is set up, and the limits that keep one misbehaving reader from
 * starving the others. Immutable; start from {@link #defaults()} and change what you need.
 *
 * @param accessPolicy         who may read (judged on {@code SO_PEERCRED} when its HELLO arrives)
 * @param helloTimeout         how long a connecting reader has to send its HELLO
 * @param socketPermissions    mode of the socket file
 * @param maxConnections       connections the host keeps at once; beyond it a connection is
 *                             refused with {@code CONNECTION_LIMIT} as soon as it is accepted
 * @param maxConnectionsPerUid the same, per peer uid
 */
public record CacheHostOptions(AccessPolicy accessPolicy, Duration helloTimeout, Set<PosixFilePermission> socketPermissions,
                               int maxConnections, int maxConnectionsPerUid) {
    /** Default HELLO timeout: 5 s. */
    public static final Duration DEFAULT_HELLO_TIMEOUT = Duration.ofSeconds(5);
    /** Longest HELLO timeout accepted: 10 minutes. */
    public static final Duration MAX_HELLO_TIMEOUT = Duration.ofMinutes(10);
    /** Default cap on connections: 1024. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    /** Default cap on connections from one uid: 256. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_UID = 256;
    /** Largest connection cap accepted: 65536. */
    public static final int MAX_CONNECTIONS = 1 << 16;

    /**
     * Checks every value against its bound, and copies the permission set.
     *
     * @throws IllegalArgumentException naming the field and its bounds if a value is outside them
     */
    public CacheHostOptions {
        Objects.requireNonNull(accessPolicy, "accessPolicy");
        Objects.requireNonNull(helloTimeout, "helloTimeout");
        socketPermissions = Set.copyOf(socketPermissions);
        if (helloTimeout.isNegative() || helloTimeout.isZero() || helloTimeout.compareTo(MAX_HELLO_TIMEOUT) > 0) {
            throw new IllegalArgumentException("HELLO timeout " + helloTimeout + " is outside (0, " + MAX_HELLO_TIMEOUT + "]");
        }
        if (maxConnections < 1 || maxConnections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("max connections " + maxConnections + " is outside 1.." + MAX_CONNECTIONS);
        }
        if (maxConnectionsPerUid < 1 || maxConnectionsPerUid > maxConnections) {
            throw new IllegalArgumentException("max connections per uid " + maxConnectionsPerUid + " is outside 1.."
                    + maxConnections + " (max connections)");
        }
    }

    /**
     * Same uid only, 5 s for the HELLO, socket mode 0600, 1024 connections, 256 per uid.
     *
     * @return the defaults
     */
    public static CacheHostOptions defaults() {
        return new CacheHostOptions(AccessPolicy.sameUser(), DEFAULT_HELLO_TIMEOUT, SeqPacketServer.OWNER_ONLY,
                DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_UID);
    }

    /** @return the same options, admitting the readers {@code policy} admits */
    public CacheHostOptions accessPolicy(AccessPolicy policy) {
        return new CacheHostOptions(policy, helloTimeout, socketPermissions, maxConnections, maxConnectionsPerUid);
    }

    /** @return the same options with another HELLO timeout, positive, at most {@link #MAX_HELLO_TIMEOUT} */
    public CacheHostOptions helloTimeout(Duration timeout) {
        return new CacheHostOptions(accessPolicy, timeout, socketPermissions, maxConnections, maxConnectionsPerUid);
    }

    /** @return the same options with another socket file mode */
    public CacheHostOptions socketPermissions(Set<PosixFilePermission> permissions) {
        return new CacheHostOptions(accessPolicy, helloTimeout, permissions, maxConnections, maxConnectionsPerUid);
    }

    /** @return the same options with other connection caps, in all (1..65536) and per uid (1..max) */
    public CacheHostOptions maxConnections(int inAll, int perUid) {
        return new CacheHostOptions(accessPolicy, helloTimeout, socketPermissions, inAll, perUid);
    }
}
