package io.sluice.channel;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A consumer in another JVM sleeps in the kernel on an empty ring and a commit wakes it. */
class BlockingWaitTest {
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    /**
     * "S" if the child's launcher threads (the primordial one and the Java main thread, both
     * named "java" in /proc) are all asleep, else the state of one that is not.
     */
    private static String mainThreadState(long pid) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                if (Files.readString(t.resolve("comm")).trim().equals("java")) {
                    String stat = Files.readString(t.resolve("stat"));
                    String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
                    if (!state.equals("S")) {
                        return state;
                    }
                }
            }
        }
        return "S";
    }

    static void awaitSleeping(ChildJvm child) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        int sleepingSamples = 0;
        while (sleepingSamples < 20) { // asleep in 20 samples in a row: parked, not spinning
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the consumer never stayed asleep; its output:\n" + child.output());
            }
            sleepingSamples = mainThreadState(child.pid()).equals("S") ? sleepingSamples + 1 : 0;
            Thread.sleep(1); // sampling the child's state; the bound is the deadline above
        }
    }

    @Test
    void parkedConsumerSleepsAndEachCommitWakesIt() throws Exception {
        Path socket = dir.resolve("block.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("alerts", SpscOptions.of(4096).wakeParkedConsumers(true));
            // With no consumer parked, commits make no system call: no wake-up.
            for (long s = 0; s < 3; s++) {
                SpscChannelTest.send(ch.producer(), s, null);
            }
            assertEquals(0, ch.wakeups());
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-block", socket.toString(), "alerts",
                    Integer.toString(6 + WakeRounds.SPARE))) {
                for (long i = 0; i < 3; i++) {
                    child.awaitLine("GOT " + i, TIMEOUT_S); // the three sent before it came
                }
                WakeRounds.run(3, 3, s -> ParkedConsumersTest.asleep(child, s), s -> SpscChannelTest.send(ch.producer(), s, child),
                        s -> child.awaitLine("GOT " + s, TIMEOUT_S), ch::wakeups, child::output);
                assertEquals(0, child.waitFor(TIMEOUT_S), child.output());
            }
        }
    }
}
