package io.sluice.bridge;

import io.sluice.api.BackOffIdleStrategy;
import io.sluice.api.BroadcastPolicy;
import io.sluice.channel.BroadcastOptions;
import io.sluice.ringbuffer.BroadcastStart;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code bridge out} and {@code bridge in}: a Sluice channel carried between machines over Aeron.
 * Each runs until SIGTERM or SIGINT (or, for {@code out}, until its local host is gone), then
 * prints one summary line and exits.
 *
 * <p>Exit status: 0 when {@code out} stops because its local host is gone, and for help and
 * version; 143 or 130 when stopped by SIGTERM or SIGINT (after the summary, as any JVM); 1 when
 * the bridge fails (one line on stderr: {@code bridge out: what went wrong}); 2 on a usage error.
 */
@Command(name = "bridge", mixinStandardHelpOptions = true, version = "bridge (Sluice)",
        subcommands = {BridgeCommand.Out.class, BridgeCommand.In.class},
        description = "Carries a Sluice channel between machines over Aeron.")
public final class BridgeCommand implements Runnable {
    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its subcommands and error handling; tests run it in-process. */
    static CommandLine commandLine() {
        return new CommandLine(new BridgeCommand())
                .registerConverter(Duration.class, BridgeCommand::duration)
                .setExecutionExceptionHandler((e, cmd, parseResult) -> {
                    cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage());
                    cmd.getErr().flush();
                    return cmd.getCommandSpec().exitCodeOnExecutionException();
                });
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command (try: bridge out --help, bridge in --help)");
    }

    /** Where Aeron runs: embedded by default, or an external driver's directory. */
    static final class Media {
        @Option(names = "--aeron-dir", paramLabel = "DIR",
                description = "Use the media driver already running with this directory, instead of one embedded in this process.")
        String external;

        @Option(names = "--embedded-dir", paramLabel = "DIR",
                description = "The embedded driver's directory (default: a fresh one under /dev/shm, removed on exit).")
        String embedded;

        AeronMedia open() {
            if (external != null && embedded != null) {
                throw new IllegalArgumentException("--aeron-dir and --embedded-dir exclude each other");
            }
            return external != null ? AeronMedia.external(external) : AeronMedia.embedded(embedded);
        }
    }

    /** The Aeron stream both sides name: channel URI and stream id. */
    static final class Stream {
        @Option(names = "--aeron-channel", required = true, paramLabel = "URI",
                description = "The Aeron channel, e.g. aeron:udp?endpoint=host2:40123 or aeron:udp?endpoint=239.1.1.1:40123|interface=10.0.0.1.")
        String channel;
        @Option(names = "--stream", defaultValue = "1001", paramLabel = "ID", description = "The Aeron stream id. Default: ${DEFAULT-VALUE}.")
        int id;

        @Override
        public String toString() {
            return channel + " stream " + id;
        }
    }

    /** Runs {@code body} until SIGTERM/SIGINT sets the flag it checks; the hook waits for its summary. */
    static void untilSignalled(java.util.function.Consumer<AtomicBoolean> body) {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.set(true);
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bridge-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            body.accept(stop);
        } finally {
            done.countDown();
        }
    }

    @Command(name = "out", mixinStandardHelpOptions = true,
            description = "Reads a local channel and offers every message to an Aeron publication.")
    static final class Out implements Runnable {
        @Spec
        CommandSpec spec;
        @Option(names = "--socket", required = true, paramLabel = "SOCKET", description = "The local host's socket.")
        Path socket;
        @Option(names = "--channel", required = true, paramLabel = "NAME", description = "The local channel.")
        String channel;
        @Option(names = "--source", defaultValue = "BROADCAST", paramLabel = "KIND",
                description = "How to attach: BROADCAST (one more consumer) or SPSC (the consumer). Default: ${DEFAULT-VALUE}.")
        SourceKind source;
        @Option(names = "--start", defaultValue = "OLDEST", paramLabel = "WHERE",
                description = "Where a broadcast consumer starts: OLDEST or NEWEST. Default: ${DEFAULT-VALUE}.")
        BroadcastStart start;
        @CommandLine.Mixin
        Stream stream;
        @Option(names = "--policy", defaultValue = "HOLD", paramLabel = "POLICY",
                description = "When Aeron does not take a message: HOLD (wait, holding a back-pressure channel) or DROP. Default: ${DEFAULT-VALUE}.")
        OutPolicy policy;
        @Option(names = "--drop-after", defaultValue = "100ms", paramLabel = "TIME",
                description = "With DROP: how long to keep offering a message (e.g. 0, 500us, 100ms, 2s). Default: ${DEFAULT-VALUE}.")
        Duration dropAfter;
        @CommandLine.ArgGroup(exclusive = false)
        Media media = new Media();

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            untilSignalled(stop -> {
                try (AeronMedia m = media.open();
                     BridgeOut bridge = BridgeOut.open(socket, channel, source, start, m, stream.channel, stream.id, policy, dropAfter)) {
                    out.println("bridge out: READY channel '" + channel + "' -> " + stream + " (" + m + ")");
                    out.flush();
                    String why = bridge.run(stop::get, new BackOffIdleStrategy());
                    out.println("bridge out: STOPPED (" + why + ") forwarded=" + bridge.forwarded() + " dropped=" + bridge.dropped()
                            + " torn=" + bridge.torn() + " lapped=" + bridge.lapped());
                    out.flush();
                }
            });
        }
    }

    @Command(name = "in", mixinStandardHelpOptions = true,
            description = "Hosts a local broadcast channel and publishes into it what an Aeron subscription receives.")
    static final class In implements Runnable {
        @Spec
        CommandSpec spec;
        @Option(names = "--socket", required = true, paramLabel = "SOCKET", description = "Where the local host binds.")
        Path socket;
        @Option(names = "--channel", required = true, paramLabel = "NAME", description = "The local broadcast channel to create.")
        String channel;
        @CommandLine.Mixin
        Stream stream;
        @Option(names = "--policy", defaultValue = "BACK_PRESSURE", paramLabel = "POLICY",
                description = "The local channel's policy: BACK_PRESSURE (slow subscribers hold the stream) or OVERWRITE. Default: ${DEFAULT-VALUE}.")
        BroadcastPolicy policy;
        @Option(names = "--capacity", defaultValue = "1048576", paramLabel = "BYTES",
                description = "The local ring's capacity, a power of two. Default: ${DEFAULT-VALUE}.")
        long capacity;
        @Option(names = "--max-message", defaultValue = "4096", paramLabel = "BYTES",
                description = "The local channel's largest message; at least the source channel's. Default: ${DEFAULT-VALUE}.")
        int maxMessage;
        @Option(names = "--max-consumers", defaultValue = "16", paramLabel = "N",
                description = "How many local subscribers may attach. Default: ${DEFAULT-VALUE}.")
        int maxConsumers;
        @CommandLine.ArgGroup(exclusive = false)
        Media media = new Media();

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            BroadcastOptions options = BroadcastOptions.of(policy, capacity).maxMessageLength(maxMessage).maxConsumers(maxConsumers);
            untilSignalled(stop -> {
                try (AeronMedia m = media.open();
                     BridgeIn bridge = BridgeIn.open(socket, channel, options, m, stream.channel, stream.id)) {
                    out.println("bridge in: READY " + stream + " -> channel '" + channel + "' at " + socket + " (" + m + ")");
                    out.flush();
                    bridge.run(stop::get, new BackOffIdleStrategy());
                    out.println("bridge in: STOPPED published=" + bridge.published() + " missed=" + bridge.missed()
                            + " malformed=" + bridge.malformed() + " sessions=" + bridge.sessions());
                    out.flush();
                }
            });
        }
    }

    /** 0, 500us, 100ms, 2s, 1m: a number and a unit (ns, us, ms, s, m). */
    static Duration duration(String text) {
        var m = java.util.regex.Pattern.compile("(\\d{1,12})(ns|us|ms|s|m)?").matcher(text.trim());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a duration (a number and ns, us, ms, s or m)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? (n == 0 ? "s" : "") : m.group(2);
        return switch (unit) {
            case "ns" -> Duration.ofNanos(n);
            case "us" -> Duration.ofNanos(n * 1_000);
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> throw new CommandLine.TypeConversionException("'" + text + "' has no unit (ns, us, ms, s or m)");
        };
    }
}
