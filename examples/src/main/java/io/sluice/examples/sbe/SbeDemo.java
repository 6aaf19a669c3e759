package io.sluice.examples.sbe;

import io.sluice.api.MessageProducer;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.SpscOptions;
import io.sluice.examples.DemoJvm;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.views.agrona.MutableSegmentBuffer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * SBE-style codecs over Sluice, with no copy: this JVM hosts an SPSC channel and encodes each
 * quote with an SBE-style encoder straight into the claimed slot, through a
 * {@link MutableSegmentBuffer}; a second JVM attaches and decodes each one in place with the
 * matching decoder through a read-only view of its PROT_READ mapping ({@link QuoteDecoderProcess}).
 * The summary says whether every quote arrived intact and in order, and how many bytes each side
 * allocated per quote while encoding or decoding. Exits with status 1 if not OK.
 *
 * <p>Run: {@code ./mvnw -q compile exec:exec -Ddemo=sbe}. Argument (optional): how many quotes
 * (default {@value #DEFAULT_QUOTES}).
 */
public final class SbeDemo {
    static final String CHANNEL = "md.sbe";
    static final long DEFAULT_QUOTES = 2_000_000;
    private static final long CAPACITY = 256 * 1024;

    private SbeDemo() {
    }

    public static void main(String[] args) throws Exception {
        long quotes = DemoJvm.firstArgument(args, DEFAULT_QUOTES, 1, 1_000_000_000, "quotes");
        Path dir = Files.createTempDirectory("sluice-sbe-");
        Path socket = dir.resolve("sbe.sock");
        Map<String, String> report = new LinkedHashMap<>();
        long allocated;
        Process decoder;
        Thread pump;
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel channel = host.spsc(CHANNEL, SpscOptions.of(CAPACITY));
            say("hosting '" + CHANNEL + "' (SPSC, " + CAPACITY / 1024 + " KiB); encoding " + quotes
                    + " SBE-style quotes in place into claimed slots through a MutableSegmentBuffer");
            decoder = DemoJvm.startSmall(QuoteDecoderProcess.class, socket.toString(), Long.toString(quotes));
            pump = DemoJvm.pump(decoder, "[sbe]", line -> take(line, report));
            awaitConsumer(channel, decoder);
            allocated = publish(channel.producer(), quotes, decoder);
            say("encoded and committed " + quotes + " quotes; closing the channel");
        }
        DemoJvm.awaitAll(List.of(decoder), 60, List.of(pump));
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
        summary(quotes, allocated, report, decoder.exitValue());
    }

    private static void awaitConsumer(HostedSpscChannel channel, Process decoder) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (channel.consumer() == null) {
            if (System.nanoTime() > deadline || !decoder.isAlive()) {
                throw new IllegalStateException("the decoder JVM did not attach within 60 s");
            }
            Thread.sleep(10); // demo pacing: wait for a JVM to start
        }
    }

    /** Encodes quotes into claims; returns the bytes this thread allocated while doing so. */
    private static long publish(SpscProducer producer, long quotes, Process decoder) {
        MutableSegmentBuffer claim = new MutableSegmentBuffer();
        QuoteCodec.Encoder encoder = new QuoteCodec.Encoder();
        long before = AllocatedBytes.ofThisThread();
        for (long seq = 0; seq < quotes; ) {
            long at = producer.tryClaim(QuoteCodec.MESSAGE_TYPE, QuoteCodec.ENCODED_LENGTH);
            if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                if ((seq & 0xFFF) == 0 && !decoder.isAlive()) {
                    throw new IllegalStateException("the decoder JVM exited after " + seq + " quotes");
                }
                Thread.onSpinWait(); // the ring is full: the decoder is behind
                continue;
            }
            claim.wrapClaim(producer, at, QuoteCodec.ENCODED_LENGTH);
            encoder.wrapAndApplyHeader(claim, 0)
                    .instrumentId(QuoteDecoderProcess.instrument(seq))
                    .bid(QuoteDecoderProcess.bid(seq))
                    .ask(QuoteDecoderProcess.bid(seq) + 4)
                    .bidSize(1_000_000)
                    .askSize(2_000_000)
                    .sendTime(System.nanoTime())
                    .sequence(seq);
            producer.commit(at);
            seq++;
        }
        return AllocatedBytes.ofThisThread() - before;
    }

    private static boolean take(String line, Map<String, String> report) {
        int at = line.indexOf("REPORT ");
        if (at < 0) {
            return false;
        }
        synchronized (report) {
            for (String kv : line.substring(at + "REPORT ".length()).split(" ")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    report.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        }
        return true;
    }

    private static void summary(long quotes, long encodeAllocated, Map<String, String> r, int decoderExit) {
        System.out.println();
        System.out.println("summary: SBE-style codecs over one SPSC ring, two JVMs, zero copies");
        boolean ok;
        synchronized (r) {
            long decoded = Long.parseLong(r.getOrDefault("decoded", "0"));
            long intact = Long.parseLong(r.getOrDefault("intact", "0"));
            long decodeAllocated = Long.parseLong(r.getOrDefault("allocated", "-1"));
            long measured = Long.parseLong(r.getOrDefault("measured", "0"));
            System.out.printf("  publisher: encoded %,d quotes in place through a MutableSegmentBuffer; %,d bytes allocated"
                    + " (%.4f per quote)%n", quotes, encodeAllocated, (double) encodeAllocated / quotes);
            System.out.printf("  decoder pid %s: decoded %,d in place through a ReadOnlySegmentBuffer over its read-only"
                    + " mapping, %,d intact and in order; %,d bytes allocated over the last %,d (%.4f per quote)%n",
                    r.getOrDefault("pid", "?"), decoded, intact, decodeAllocated, measured, (double) decodeAllocated / Math.max(1, measured));
            System.out.println("  (the views keep no slice: what the decoder allocates is the ring's payload slice, 40 bytes,"
                    + " in the runs where the JIT does not inline the handler into the ring's poll; the views' own figure,"
                    + " 0 bytes a message, is ViewAllocationTest's)");
            // Zero per quote on the encoding side: a few KiB in all is the allocation counter's and the JIT's own noise.
            ok = decoderExit == 0 && decoded == quotes && intact == quotes && encodeAllocated < 256 * 1024;
        }
        System.out.println("  " + (ok ? "OK" : "FAILED"));
        if (!ok) {
            System.exit(1);
        }
    }

    private static void say(String what) {
        System.out.println("[publisher pid " + ProcessHandle.current().pid() + "] " + what);
        System.out.flush();
    }
}
