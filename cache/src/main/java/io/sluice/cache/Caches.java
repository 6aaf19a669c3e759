package io.sluice.cache;

import io.sluice.api.ChannelNames;
import io.sluice.fdpassing.SeqPacketSocket;

import java.nio.file.Path;
import java.time.Duration;

/** Subscribing to caches a {@link CacheHost} serves, by socket path and name. */
public final class Caches {
    /** How long {@link #snapshot(Path, String)} waits for the first version, and {@link #map(Path, String)} for the map. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private Caches() {
    }

    /**
     * Subscribes to the sealed snapshot {@code name}, waiting up to {@link #DEFAULT_TIMEOUT} for
     * its first version.
     *
     * @see #snapshot(Path, String, Duration)
     */
    public static SnapshotSubscription snapshot(Path socket, String name) {
        return snapshot(socket, name, DEFAULT_TIMEOUT);
    }

    /**
     * Subscribes to the sealed snapshot {@code name}: connects, says HELLO, and returns once the
     * first version is received, checked and mapped read-only.
     *
     * @param timeout how long to wait for the first version (the host sends it at once if it has one)
     * @return the subscription, holding the current version; close it
     * @throws io.sluice.api.AttachRefusedException if the host refused (unknown name, access policy, limits)
     * @throws io.sluice.api.ProtocolException      if the host broke the protocol
     * @throws io.sluice.api.RegionRefusedException if its fd is no memfd sealed {@code SHRINK|GROW|WRITE} of the announced size
     * @throws io.sluice.cache.snapshot.CorruptSnapshotException if the table in it is not a valid table of the announced version
     * @throws io.sluice.fdpassing.ReceiveTimeoutException if no version came within {@code timeout}
     */
    public static SnapshotSubscription snapshot(Path socket, String name, Duration timeout) {
        ChannelNames.validate(name);
        return SnapshotSubscription.open(SeqPacketSocket.connect(socket), name, timeout);
    }

    /**
     * Subscribes to the shared map {@code name}, waiting up to {@link #DEFAULT_TIMEOUT} for it.
     *
     * @see #map(Path, String, Duration)
     */
    public static MapSubscription map(Path socket, String name) {
        return map(socket, name, DEFAULT_TIMEOUT);
    }

    /**
     * Subscribes to the shared map {@code name}: connects, says HELLO, and returns once the map's
     * fd is received and checked (a memfd sealed {@code SHRINK|GROW|FUTURE_WRITE}, then its size,
     * then, mapped read-only, its header). From then on every lookup sees the owner's changes
     * as it makes them.
     *
     * @param timeout how long to wait for the map (the host sends it at once)
     * @return the subscription, holding the map's fd and read-only mapping; close it
     * @throws io.sluice.api.AttachRefusedException if the host refused (unknown name, a name of another kind, access policy, limits)
     * @throws io.sluice.api.ProtocolException      if the host broke the protocol
     * @throws io.sluice.api.RegionRefusedException if its fd is no memfd sealed {@code SHRINK|GROW|FUTURE_WRITE} of the announced size
     * @throws io.sluice.cache.map.CorruptMapException if the map's header breaks a rule
     * @throws io.sluice.fdpassing.ReceiveTimeoutException if the map did not come within {@code timeout}
     */
    public static MapSubscription map(Path socket, String name, Duration timeout) {
        ChannelNames.validate(name);
        return MapSubscription.open(SeqPacketSocket.connect(socket), name, timeout);
    }
}
