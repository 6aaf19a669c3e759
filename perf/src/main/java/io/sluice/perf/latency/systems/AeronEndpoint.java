package io.sluice.perf.latency.systems;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

/**
 * Aeron IPC ({@code aeron:ipc}): an exclusive publication ({@code tryClaim}, written in place) and
 * a subscription per direction, over a media driver embedded in process A, to which process B
 * connects as a client.
 *
 * <p>Threading, by default {@link ThreadingMode#INVOKER}: the driver has no thread of its own; A's
 * measured thread runs the driver's duty cycle every 256 empty polls, whenever it is
 * back-pressured, and while a fixed-rate sender waits for its next send time (a helper thread runs it only until both paths are connected, then stops). Why:
 * this machine has two CPUs and both measured threads busy-spin, so any driver thread shares a
 * CPU with a measured thread. With {@code SHARED} and a busy-spin idle strategy (Aeron's usual
 * low-latency setting, the set-up of the reference figures we first measured it with) the scheduler splits
 * CPU 0 between the driver and A in millisecond slices: p99.9 went to milliseconds and
 * throughput was capped by how often the driver got to raise the publication limit (a 64 KiB
 * term's window per slice). INVOKER is Aeron's own answer for a driver without threads and
 * gives Aeron its best showing here. The other set-ups stay one property away:
 * {@code -Dsluice.perf.aeron.driver=shared-busy} or {@code shared-backoff}.
 *
 * <p>Term length = the ring capacity (64 KiB, Aeron's minimum); the MTU is raised only where a
 * message would not fit one frame, so every message is one fragment, up to Aeron's largest MTU
 * (65,504 bytes). A larger message (64 KiB) is sent with {@code offer}, which fragments it, and
 * put together again by a {@link FragmentAssembler}: Aeron's own way for messages above its MTU.
 * The client pre-touches the log buffers it maps, the driver allocates them non-sparse.
 */
public final class AeronEndpoint implements Endpoint, FragmentHandler {
    private static final int STREAM_AB = 1001;
    private static final int STREAM_BA = 1002;
    /** Aeron's largest MTU: a UDP payload's limit, rounded down to its 32-byte frame alignment. */
    private static final int MAX_MTU = 65_504;

    private final MediaDriver driver;
    private final SetupInvoker setup;
    /**
     * UDP (the aeron-udp row): the driver must run after each send to put it on the wire and
     * before each poll to take it off; over IPC it is needed only for flow control and setup.
     */
    private final boolean networked;
    /** INVOKER mode, side A: the driver's duty cycle, run by the measured thread while it waits. */
    private final AgentInvoker invoker;
    private int emptyPolls;
    private final Aeron aeron;
    private final ExclusivePublication publication;
    private final Subscription subscription;
    private final BufferClaim claim = new BufferClaim();
    private final UnsafeBuffer payload;
    private final int size;
    private long received;
    /** Null while a message fits one frame; else what puts a message's fragments together. */
    private FragmentAssembler assembler;
    private UnsafeBuffer whole; // the message offered whole when it is fragmented: value, then payload
    private int fragmentsPerMessage = 1;

    public static AeronEndpoint open(Role role, RunSpec spec) {
        String dir = spec.workDir().resolve("aeron").toString();
        String mode = AeronDriverMode.current();
        MediaDriver driver = null;
        SetupInvoker setup = null;
        if (role == Role.INITIATOR) {
            MediaDriver.Context context = new MediaDriver.Context()
                    .aeronDirectoryName(dir)
                    .termBufferSparseFile(false)
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true);
            switch (mode) {
                case "shared-busy" -> context.threadingMode(ThreadingMode.SHARED).sharedIdleStrategy(new BusySpinIdleStrategy());
                case "shared-backoff" -> context.threadingMode(ThreadingMode.SHARED).sharedIdleStrategy(new BackoffIdleStrategy());
                case "invoker" -> context.threadingMode(ThreadingMode.INVOKER);
                default -> throw new IllegalArgumentException("sluice.perf.aeron.driver: shared-busy, shared-backoff or invoker, not " + mode);
            }
            driver = MediaDriver.launch(context);
            if (mode.equals("invoker")) {
                setup = new SetupInvoker(driver.sharedAgentInvoker());
                setup.start();
            }
        }
        Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir).preTouchMappedMemory(true));
        int termLength = Math.max(64 * 1024, Integer.highestOneBit(spec.ringCapacity()));
        int mtu = Math.min(MAX_MTU, Math.max(1408, (spec.messageSize() + 32 + 31) & ~31));
        String channel = "aeron:ipc?term-length=" + termLength + "|mtu=" + mtu;
        boolean a = role == Role.INITIATOR;
        ExclusivePublication publication = aeron.addExclusivePublication(channel, a ? STREAM_AB : STREAM_BA);
        Subscription subscription = aeron.addSubscription("aeron:ipc", a ? STREAM_BA : STREAM_AB);
        return new AeronEndpoint(driver, setup, aeron, publication, subscription, spec.messageSize(), false);
    }

    AeronEndpoint(MediaDriver driver, SetupInvoker setup, Aeron aeron, ExclusivePublication publication,
                  Subscription subscription, int size, boolean networked) {
        this.driver = driver;
        this.setup = setup;
        this.networked = networked;
        this.invoker = setup == null ? null : setup.invoker;
        this.aeron = aeron;
        this.publication = publication;
        this.subscription = subscription;
        this.payload = new UnsafeBuffer(Payload.of(size));
        this.size = size;
    }

    @Override
    public void awaitReady() throws InterruptedException {
        while (!publication.isConnected() || !subscription.isConnected()) {
            Thread.sleep(1);
        }
        if (setup != null) {
            setup.stopAndJoin(); // from here on the measured thread invokes the driver
        }
        if (size > publication.maxPayloadLength()) {
            if (size > publication.maxMessageLength()) {
                throw new IllegalStateException("a " + size + "-byte message is above Aeron's largest ("
                        + publication.maxMessageLength() + ") for this term length");
            }
            assembler = new FragmentAssembler(this);
            whole = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
            whole.putBytes(8, payload, 0, size - 8);
            fragmentsPerMessage = (size + publication.maxPayloadLength() - 1) / publication.maxPayloadLength();
        }
    }

    @Override
    public void send(long value) {
        if (assembler != null) {
            sendFragmented(value);
            return;
        }
        long result;
        while ((result = publication.tryClaim(size, claim)) < 0) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("publication: " + Publication.errorString(result));
            }
            if (invoker != null) {
                invoker.invoke(); // back-pressured: only the driver can raise the publication limit
            }
        }
        MutableDirectBuffer buffer = claim.buffer();
        int at = claim.offset();
        buffer.putLong(at, value);
        buffer.putBytes(at + 8, payload, 0, size - 8);
        claim.commit();
        if (networked) {
            invoker.invoke(); // the sender puts it on the wire now
        }
    }

    /** A message above one frame: offer copies it into the term, fragment by fragment. */
    private void sendFragmented(long value) {
        whole.putLong(0, value);
        long result;
        while ((result = publication.offer(whole, 0, size)) < 0) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("publication: " + Publication.errorString(result));
            }
            if (invoker != null) {
                invoker.invoke();
            }
        }
        if (networked) {
            invoker.invoke();
        }
    }

    @Override
    public void idle() {
        if (invoker != null) {
            invoker.invoke();
        }
    }

    @Override
    public long poll() {
        received = EMPTY;
        if (networked) {
            invoker.invoke(); // the receiver takes what the socket holds
        }
        int polled = assembler == null ? subscription.poll(this, 1) : subscription.poll(assembler, fragmentsPerMessage);
        if (polled == 0 && invoker != null && (++emptyPolls & 255) == 0) {
            invoker.invoke();
        }
        return received;
    }

    @Override
    public void onFragment(DirectBuffer buffer, int offset, int length, Header header) {
        received = buffer.getLong(offset);
    }

    @Override
    public void close() {
        aeron.close();
        if (driver != null) {
            driver.close();
        }
    }

    /** INVOKER mode: runs the driver's duty cycle on a helper thread until the paths are connected. */
    static final class SetupInvoker extends Thread {
        final AgentInvoker invoker;
        private volatile boolean stop;

        SetupInvoker(AgentInvoker invoker) {
            super("aeron-driver-setup");
            this.invoker = invoker;
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!stop) {
                if (invoker.invoke() == 0) {
                    LockSupport.parkNanos(100_000);
                }
            }
        }

        void stopAndJoin() throws InterruptedException {
            stop = true;
            join();
        }
    }
}
