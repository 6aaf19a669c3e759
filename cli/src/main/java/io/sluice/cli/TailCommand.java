package io.sluice.cli;

import io.sluice.api.ConnectionClosedException;
import io.sluice.channel.ChannelTap;
import io.sluice.channel.Channels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code sluice tail SOCKET CHANNEL}: prints the records of an SPSC or broadcast channel as they
 * pass, read through a tap (no consumer's place taken, no producer held back).
 */
@Command(name = "tail", mixinStandardHelpOptions = true, versionProvider = SluiceCommand.Version.class,
        description = {
            "Prints the messages of an SPSC or broadcast channel as they pass: one",
            "line each, with its type, length and payload in hex (up to --bytes).",
            "Reads through a tap: the channel's consumers keep their places and its",
            "producer never waits for the tap; a tap that falls behind skips ahead",
            "and says how often. A message overwritten while it was read is not",
            "printed. Stops after --count messages, when the host goes, or at Ctrl-C.",
            "Exit status: 0, 1 if the host cannot be reached, refuses, or the channel",
            "is MPMC (messages there are taken, not passed by), 2 on a usage error."})
final class TailCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SOCKET", description = "The host's socket file.")
    private Path socket;

    @Parameters(index = "1", paramLabel = "CHANNEL", description = "The channel's name.")
    private String channel;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0",
            description = "Stop after N messages (0: never).")
    private long count;

    @Option(names = "--bytes", paramLabel = "N", defaultValue = "32",
            description = "Payload bytes to print in hex (default ${DEFAULT-VALUE}, at most 4096).")
    private int bytes;

    @Override
    public Integer call() throws Exception {
        if (count < 0 || bytes < 0 || bytes > 4096) {
            throw new ParameterException(spec.commandLine(), "--count must be 0 or more and --bytes 0..4096");
        }
        PrintWriter out = spec.commandLine().getOut();
        HexFormat hex = HexFormat.of();
        byte[] head = new byte[bytes];
        long[] printed = {0};
        try (ChannelTap tap = Channels.tap(socket, channel)) {
            out.println("tail " + channel + " (" + tap.info().kind() + ", capacity " + tap.info().capacity() + ")");
            out.flush();
            long skipsShown = 0;
            while (count == 0 || printed[0] < count) {
                int n = tap.poll((type, payload) -> {
                    int shown = (int) Math.min(bytes, payload.byteSize());
                    MemorySegment.copy(payload, ValueLayout.JAVA_BYTE, 0, head, 0, shown);
                    if (!tap.isStillValid()) {
                        return; // overwritten while we copied it: not printed
                    }
                    if (count == 0 || printed[0] < count) {
                        out.println("type " + type + " length " + payload.byteSize() + " " + hex.formatHex(head, 0, shown)
                                + (shown < payload.byteSize() ? "..." : ""));
                        printed[0]++;
                    }
                }, 256);
                if (tap.skips() != skipsShown) {
                    out.println("(skipped ahead: " + (tap.skips() - skipsShown) + " time(s); the tap fell behind)");
                    skipsShown = tap.skips();
                }
                if (n == 0) {
                    out.flush();
                    if (!tap.isHostAlive()) {
                        out.println("host gone");
                        break;
                    }
                    LockSupport.parkNanos(1_000_000); // a watcher, not a consumer: 1 ms between empty polls
                }
            }
            out.flush();
            return 0;
        } catch (ConnectionClosedException e) {
            out.println("host gone");
            out.flush();
            return 0;
        }
    }
}
