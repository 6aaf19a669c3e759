package io.sluice.adversarial;

import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostOptions;
import io.sluice.channel.SpscOptions;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A child process that hosts one SPSC channel ("orders") on a socket and nothing else: for
 * {@link HostExhaustionTest}, which starts it under a low fd limit ({@code ulimit -n}) and floods
 * it. Its log (the JDK's default: WARNING and above on stderr) is what the test counts.
 *
 * <pre>
 *   LowFdHost &lt;socket&gt; &lt;handshake timeout ms&gt;
 *   prints READY &lt;pid&gt;, hosts until its stdin ends, then closes the host and prints CLOSED
 * </pre>
 */
public final class LowFdHost {
    private LowFdHost() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        Duration timeout = Duration.ofMillis(Long.parseLong(args[1]));
        try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().handshakeTimeout(timeout))) {
            host.spsc("orders", SpscOptions.of(4096));
            System.out.println("READY " + ProcessHandle.current().pid());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (in.readLine() != null) {
                // hosts until the parent closes our stdin (or kills us)
            }
        }
        System.out.println("CLOSED");
    }
}
