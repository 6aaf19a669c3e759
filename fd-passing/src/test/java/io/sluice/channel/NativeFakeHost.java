package io.sluice.channel;

import io.sluice.api.RingKind;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.ringbuffer.SpscRing;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A host made by hand for the C client's tests: it binds a {@link SeqPacketServer} itself and
 * speaks the attach protocol message by message, so that a test can send what
 * {@link ChannelHost} never would (or does not yet: DETACH, O_RDONLY fds, F_SEAL_SEAL) and act
 * between the messages.
 */
final class NativeFakeHost implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(60);
    /** DETACH (docs/protocol.md): after READY, host to attached process, the body of a REFUSE. */
    static final int DETACH = 6;

    private final SeqPacketServer server;
    private final Path socket;

    private NativeFakeHost(SeqPacketServer server, Path socket) {
        this.server = server;
        this.socket = socket;
    }

    static NativeFakeHost bind(Path socket) {
        return new NativeFakeHost(SeqPacketServer.bind(socket), socket);
    }

    Path socket() {
        return socket;
    }

    /** Accepts the next connection (bounded wait) and reads its HELLO. */
    SeqPacketSocket acceptHello() {
        SeqPacketSocket conn = server.accept(STEP);
        if (conn == null) {
            throw new AssertionError("no C client connected to " + socket + " within " + STEP);
        }
        try (ReceivedMessage hello = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, STEP)) {
            assertEquals(HandshakeDescriptor.HELLO, Handshake.type(hello.data()));
        } catch (RuntimeException e) {
            conn.close();
            throw e;
        }
        return conn;
    }

    /** An SPSC ring region and the writable mapping its maker (the producer) keeps. */
    record SpscRegion(MemfdRegion region, MemorySegment writable) implements AutoCloseable {
        OwnedFd fd() {
            return region.fd();
        }

        @Override
        public void close() {
            region.close();
        }
    }

    /** An SPSC ring region of {@code capacity}, formatted and mapped read-write, then sealed with {@code seals} (none: unsealed). */
    static SpscRegion spscRegion(String name, long capacity, Seal... seals) {
        MemfdRegion r = MemfdRegion.create(name, SpscRing.regionSize(capacity));
        MemorySegment rw = r.mapReadWrite();
        SpscRing.format(rw, capacity);
        if (seals.length > 0) {
            r.addSeals(EnumSet.of(seals[0], seals));
        }
        return new SpscRegion(r, rw);
    }

    /** A second fd of the same memfd, opened anew through /proc/self/fd with {@code flags} (O_RDONLY: what the hardened host hands consumers). */
    static OwnedFd reopen(OwnedFd fd, int flags) {
        return OwnedFd.adopt(fd.apply(n -> FdCalls.open("/proc/self/fd/" + n, flags | FdCalls.O_CLOEXEC, 0)), "reopened " + fd.what());
    }

    /** A pipe, both ends owned. */
    static OwnedFd[] pipe() {
        int[] p = FdCalls.pipe();
        return new OwnedFd[] {OwnedFd.adopt(p[0], "pipe (read end)"), OwnedFd.adopt(p[1], "pipe (write end)")};
    }

    /** WELCOME for an SPSC consumer of a ring of {@code capacity}. */
    static byte[] welcomeSpsc(long capacity, int flags) {
        return Handshake.welcome(new Handshake.Welcome(RingKind.SPSC, 0, SpscRing.regionSize(capacity),
                SpscRing.consumerPositionRegionSize(), SpscRing.maxMessageLength(capacity), flags, 0));
    }

    /** A REFUSE (3) or DETACH (6) with any reason and any text bytes (no UTF-8 check: a hostile host). */
    static byte[] reasonMessage(int type, int reason, byte[] text) {
        ByteBuffer b = ByteBuffer.allocate(HandshakeDescriptor.REFUSE_TEXT_OFFSET + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(HandshakeDescriptor.MAGIC_OFFSET, HandshakeDescriptor.MAGIC);
        b.putShort(HandshakeDescriptor.VERSION_OFFSET, (short) HandshakeDescriptor.PROTOCOL_VERSION);
        b.putShort(HandshakeDescriptor.TYPE_OFFSET, (short) type);
        b.putShort(HandshakeDescriptor.REFUSE_REASON_OFFSET, (short) reason);
        b.putShort(HandshakeDescriptor.REFUSE_TEXT_LENGTH_OFFSET, (short) text.length);
        b.put(HandshakeDescriptor.REFUSE_TEXT_OFFSET, text);
        return b.array();
    }

    /** Receives the consumer's POSITION; the caller owns the message and its fd. */
    static ReceivedMessage receivePosition(SeqPacketSocket conn) {
        ReceivedMessage m = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 1, STEP);
        assertEquals(HandshakeDescriptor.POSITION, Handshake.type(m.data()), "the consumer's answer to WELCOME");
        assertEquals(1, m.fdCount(), "POSITION carries the position region");
        return m;
    }

    /** Serves one SPSC consumer up to READY with {@code dataFd} as its data region; returns its position region (read-only). */
    static MemfdRegion serveSpscConsumer(SeqPacketSocket conn, long capacity, int flags, OwnedFd dataFd) {
        conn.send(welcomeSpsc(capacity, flags), dataFd);
        MemfdRegion position;
        try (ReceivedMessage m = receivePosition(conn)) {
            position = MemfdRegion.adopt(m.takeFd(0), SpscRing.consumerPositionRegionSize(),
                    EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE));
        }
        conn.send(Handshake.ready(0));
        return position;
    }

    @Override
    public void close() {
        server.close();
    }
}
