package io.sluice.examples.readme;

import io.sluice.api.RingKind;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.channel.HostedChannel;
import io.sluice.channel.MpmcAttachment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's "Using Sluice in your application" is code that compiles and works: every
 * {@code java} block of the section is in {@link ReadmeSnippets} word for word, and the snippets
 * run — a quote the host publishes reaches the attached consumer.
 */
class ReadmeSnippetsTest {
    private static final long WAIT_S = 20;
    private static final Path README = Path.of("..", "README.md");
    private static final Path SNIPPETS = Path.of("src", "main", "java", "io", "sluice", "examples", "readme",
            "ReadmeSnippets.java");

    @TempDir
    Path dir;

    @Test
    void everyJavaBlockOfTheUsingSluiceSectionIsInReadmeSnippetsWordForWord() throws IOException {
        assertEveryJavaBlockIsInReadmeSnippets("## Using Sluice", 4);
    }

    @Test
    void everyJavaBlockOfTheCacheSectionIsInReadmeSnippetsWordForWord() throws IOException {
        assertEveryJavaBlockIsInReadmeSnippets("## A cache in a dozen lines", 2);
    }

    private static void assertEveryJavaBlockIsInReadmeSnippets(String heading, int atLeast) throws IOException {
        List<List<String>> blocks = javaBlocks(section(Files.readAllLines(README), heading));
        assertTrue(blocks.size() >= atLeast, "the section's java blocks: " + blocks.size());
        List<String> code = stripped(Files.readAllLines(SNIPPETS));
        for (List<String> block : blocks) {
            List<String> lines = stripped(block);
            if (indexOf(code, lines) < 0) {
                fail("this README block is not in " + SNIPPETS + " (modulo indentation):\n" + String.join("\n", block));
            }
        }
    }

    @Test
    void aQuoteTheHostPublishesReachesTheAttachedConsumer() throws Exception {
        Path socket = dir.resolve("md.sock");
        CompletableFuture<Long> received = new CompletableFuture<>();
        CountDownLatch hosting = new CountDownLatch(1);
        AtomicLong price = new AtomicLong(1_000);
        ReadmeSnippets hostSide = new ReadmeSnippets(socket, () -> !received.isDone(), () -> {
            hosting.countDown(); // the channel exists: the first price is asked for inside its try block
            LockSupport.parkNanos(100_000); // a quote every 0.1 ms or so: the producer need not spin
            return price.incrementAndGet();
        }, quote -> fail("the host takes no quotes"));
        ReadmeSnippets consumerSide = new ReadmeSnippets(socket, () -> !received.isDone(), () -> 0,
                quote -> received.complete(quote.get(JAVA_LONG_UNALIGNED, 0)));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> host = pool.submit(hostSide::host);
            assertTrue(hosting.await(WAIT_S, TimeUnit.SECONDS), "the host publishes within " + WAIT_S + " s");
            Future<?> consumer = pool.submit(consumerSide::attach);
            long quote = received.get(WAIT_S, TimeUnit.SECONDS);
            assertTrue(quote > 1_000 && quote <= price.get(), "a price the host published: " + quote);
            consumer.get(WAIT_S, TimeUnit.SECONDS); // both loops end once a quote arrived, and close cleanly
            host.get(WAIT_S, TimeUnit.SECONDS);
        } finally {
            received.complete(-1L);
            pool.shutdownNow();
        }
        assertFalse(Files.exists(socket), "the host removed its socket when it closed");
    }

    @Test
    void theCacheReaderFindsWhatTheOwnerPublished() throws Exception {
        Path socket = dir.resolve("cache.sock");
        CountDownLatch written = new CountDownLatch(2); // the second price is asked for once the first is in the map
        AtomicLong price = new AtomicLong(1_000);
        CompletableFuture<Void> read = new CompletableFuture<>();
        ReadmeSnippets owner = new ReadmeSnippets(socket, () -> !read.isDone(), () -> {
            written.countDown();
            LockSupport.parkNanos(100_000); // a price every 0.1 ms or so: the owner need not spin
            return price.incrementAndGet();
        }, quote -> fail("no quotes here"));
        ReadmeSnippets reader = new ReadmeSnippets(socket, () -> false, () -> 0, quote -> fail("no quotes here"));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> hosting = pool.submit(owner::cacheOwner);
            assertTrue(written.await(WAIT_S, TimeUnit.SECONDS), "the owner publishes within " + WAIT_S + " s");
            reader.cacheReader(); // subscribes to both, looks up once, closes both
            read.complete(null);
            long seen = reader.lastPriceRead();
            assertTrue(seen > 1_000 && seen <= price.get(), "a price the owner wrote: " + seen);
            hosting.get(WAIT_S, TimeUnit.SECONDS); // the owner's loop ends and it closes cleanly
        } finally {
            read.complete(null);
            pool.shutdownNow();
        }
        assertFalse(Files.exists(socket), "the host removed its socket when it closed");
    }

    @Test
    void theOtherKindsAndTheHostsLimitsWorkAsTheReadmeSays() throws Exception {
        Path socket = dir.resolve("kinds.sock");
        ReadmeSnippets snippets = new ReadmeSnippets(socket, () -> false, () -> 0, quote -> { });
        try (ChannelHost host = ChannelHost.bind(socket)) {
            List<AutoCloseable> opened = snippets.otherKinds(host);
            try {
                for (AutoCloseable c : opened) {
                    switch (c) {
                        case ConsumerAttachment<?> in -> assertEquals(host.channel("orders").info(), in.info());
                        case MpmcAttachment m -> assertEquals(host.channel("work").info(), m.info());
                        case HostedChannel ch -> assertTrue(ch.kind() == RingKind.SPSC || ch.kind() == RingKind.MPMC);
                        default -> fail("unexpected " + c);
                    }
                }
                assertTrue(host.channel("orders").info().wakesParkedConsumers());
            } finally {
                for (AutoCloseable c : new ArrayList<>(opened)) {
                    c.close();
                }
            }
        }
        try (ChannelHost limited = new ReadmeSnippets(dir.resolve("limits.sock"), () -> false, () -> 0, q -> { })
                .hostWithLimits()) {
            assertEquals(4L << 30, limited.options().memoryBudget());
            assertEquals(64, limited.options().maxConnectionsPerUid());
        }
    }

    /** The lines of the section that starts with {@code heading}, up to the next heading of its level. */
    private static List<String> section(List<String> readme, String heading) {
        int start = -1;
        for (int i = 0; i < readme.size(); i++) {
            if (readme.get(i).startsWith(heading)) {
                start = i + 1;
            } else if (start >= 0 && readme.get(i).startsWith("## ")) {
                return readme.subList(start, i);
            }
        }
        assertTrue(start >= 0, "README has a section '" + heading + "'");
        return readme.subList(start, readme.size());
    }

    private static List<List<String>> javaBlocks(List<String> lines) {
        List<List<String>> blocks = new ArrayList<>();
        List<String> current = null;
        for (String line : lines) {
            if (current == null && line.trim().equals("```java")) {
                current = new ArrayList<>();
            } else if (current != null && line.trim().equals("```")) {
                blocks.add(current);
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        return blocks;
    }

    private static List<String> stripped(List<String> lines) {
        return lines.stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    private static int indexOf(List<String> code, List<String> block) {
        for (int i = 0; i + block.size() <= code.size(); i++) {
            if (code.subList(i, i + block.size()).equals(block)) {
                return i;
            }
        }
        return -1;
    }
}
