package io.sluice.examples.readme;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.Role;
import io.sluice.cache.CacheHost;
import io.sluice.cache.Caches;
import io.sluice.cache.MapSubscription;
import io.sluice.cache.PublishedMap;
import io.sluice.cache.PublishedSnapshot;
import io.sluice.cache.SnapshotLease;
import io.sluice.cache.SnapshotSubscription;
import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.channel.AccessPolicy;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.channel.HostOptions;
import io.sluice.channel.HostedMpmcChannel;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.MpmcAttachment;
import io.sluice.channel.MpmcOptions;
import io.sluice.channel.SpscOptions;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Protection;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.SpscConsumer;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The code of the README's "Using Sluice in your application" and "A cache in a dozen lines",
 * compiled: each method holds one of their {@code java} blocks word for word (ReadmeSnippetsTest
 * checks that, and runs them), so the README cannot drift from the API. What the snippets leave
 * to the reader ({@code running()}, {@code nextPrice()}, {@code onQuote(...)}, {@code instrument()},
 * {@code price()}) is given by the caller.
 */
public final class ReadmeSnippets {
    /** The message type of a quote. */
    static final int QUOTE = 1;

    private final Path socket;
    private final BooleanSupplier running;
    private final LongSupplier prices;
    private final Consumer<MemorySegment> handler;
    /** Where the cache reader copies a price: 8 bytes, little-endian, of one {@code nextPrice()}. */
    private final MemorySegment price = MemorySegment.ofArray(new byte[64]);

    /**
     * @param socket  the host's socket
     * @param running whether the loops go on
     * @param prices  the prices the host publishes
     * @param handler what the consumer does with each quote
     */
    public ReadmeSnippets(Path socket, BooleanSupplier running, LongSupplier prices, Consumer<MemorySegment> handler) {
        this.socket = socket;
        this.running = running;
        this.prices = prices;
        this.handler = handler;
    }

    private boolean running() {
        return running.getAsBoolean();
    }

    private long nextPrice() {
        return prices.getAsLong();
    }

    private void onQuote(MemorySegment quote) {
        handler.accept(quote);
    }

    /** The reference data of an instrument, for the cache snippet. */
    static byte[] instrument() {
        return "EUR/USD spot, 5 decimals".getBytes(UTF_8);
    }

    private byte[] price() {
        byte[] p = new byte[8];
        MemorySegment.ofArray(p).set(JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, nextPrice());
        return p;
    }

    /** The price the cache reader copied last (its first 8 bytes). */
    public long lastPriceRead() {
        return price.get(JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
    }

    /** The hosting process: publishes quotes while {@code running()}. */
    public void host() {
        // the hosting process: the producer side
        try (ChannelHost host = ChannelHost.bind(socket)) {                    // mode 0600: this uid only
            BroadcastProducer quotes = host.broadcast("md.quotes",
                    BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 1 << 20).maxMessageLength(64).maxConsumers(16)).producer();
            while (running()) {
                long at = quotes.tryClaim(QUOTE, 48);          // claim, write in place, commit
                quotes.buffer().set(JAVA_LONG_UNALIGNED, at, nextPrice());
                quotes.commit(at);
            }
        }
    }

    /** Another process: takes quotes while {@code running()}. */
    public void attach() {
        // any other process of the same user: a read-only, kernel-sealed view of the same ring
        try (var md = Channels.broadcast(socket, "md.quotes", BroadcastStart.NEWEST)) {
            while (running()) {
                md.poll((type, quote) -> onQuote(quote), 64);  // quote: a read-only slice, no copy
            }
        }
    }

    /** The other kinds, both sides; returns what it opened, for the caller to close. */
    public List<AutoCloseable> otherKinds(ChannelHost host) {
        HostedSpscChannel orders = host.spsc("orders", SpscOptions.of(64 * 1024).wakeParkedConsumers(true));
        HostedMpmcChannel work = host.mpmc("work", MpmcOptions.of(1024, 64).maxParticipants(8));
        MpmcAttachment taker = work.attachLocal(Role.CONSUMER);            // the host's own participant
        // in other processes
        ConsumerAttachment<SpscConsumer> in = Channels.spsc(socket, "orders");
        MpmcAttachment worker = Channels.mpmc(socket, "work", Role.PRODUCER);
        return List.of(worker, in, taker, work, orders);
    }

    /** A host with its limits set. */
    public ChannelHost hostWithLimits() {
        ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults()
                .accessPolicy(AccessPolicy.uids(1001))        // consumers under their own uid (see security.md)
                .socketPermissions(PosixFilePermissions.fromString("rw-rw-rw-"))
                .memoryBudget(4L << 30)                        // 1 GiB by default
                .maxConnectionsPerUid(64));                    // 256 by default, 1024 in all
        return host;
    }

    /** The cache's owner: a snapshot of reference data and a map of prices it writes while {@code running()}. */
    public void cacheOwner() {
        // the owner
        try (CacheHost cache = CacheHost.bind(socket);                          // mode 0600: this uid only
             PublishedSnapshot refdata = cache.snapshot("refdata");
             PublishedMap prices = cache.map("prices", SharedMapOptions.of(10_000, 16, 64))) {
            refdata.publish(new SnapshotWriter().put("EURUSD", instrument()));    // version 1, to every reader
            while (running()) {
                prices.writer().put("EURUSD", price());                          // in place: no message, no copy
            }
        }
    }

    /** A reader of the cache: looks the instrument and its price up once ({@link #lastPriceRead()}). */
    public void cacheReader() {
        // any other process of the same user: read-only mappings, checked before they are read
        try (SnapshotSubscription refdata = Caches.snapshot(socket, "refdata");
             MapSubscription prices = Caches.map(socket, "prices");
             SnapshotLease table = refdata.acquire()) {                          // holds one version
            MemorySegment instrument = table.get("EURUSD");                      // a read-only slice, no copy
            int length = prices.reader().get("EURUSD", price);                   // the value now, copied whole
        }
    }

    /** The layer below (compiled, not run: it binds a fixed path and waits for a peer). */
    static void regionLayer(SeqPacketSocket socket) {
        try (MemfdRegion region = MemfdRegion.create("md.eurusd", 1 << 20)) {   // memfd:sluice:md.eurusd
            MemorySegment rw = region.mapReadWrite();
            region.addSeals(Seal.SHRINK, Seal.GROW);
            region.restrictFutureAccess(Protection.READ_ONLY);   // F_SEAL_FUTURE_WRITE: rw keeps working
            try (SeqPacketServer server = SeqPacketServer.bind(Path.of("/run/app/md.sock"));  // mode 0600
                 SeqPacketSocket peer = server.accept()) {
                System.out.println("attached: " + peer.peerCredentials());              // SO_PEERCRED
                peer.send("md.eurusd".getBytes(UTF_8), region.fd());                       // SCM_RIGHTS
            }
        }
        // in the other process: verify seals and size before mapping, then map read-only
        try (ReceivedMessage m = socket.receive(256, 1, Duration.ofSeconds(5));
             MemfdRegion region = MemfdRegion.adopt(m.takeFd(0), 1 << 20,
                     EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE))) {
            MemorySegment ro = region.mapReadOnly();
        }
    }
}
