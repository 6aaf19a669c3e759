package io.sluice.adversarial;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A child process that floods a host with silent connections: opened, never written to. Started
 * by {@link HostExhaustionTest} (as another uid, through {@code setpriv}).
 *
 * <pre>
 *   ConnectionFlood &lt;socket&gt; &lt;count&gt;
 *   prints STARTED, waits for "go" on stdin, connects count times (blocking), prints HELD count,
 *   waits for "release" (or the end of stdin), closes every connection, prints RELEASED, exits 0
 * </pre>
 */
public final class ConnectionFlood {
    private ConnectionFlood() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("STARTED uid " + Adversarial.uid());
        String line = in.readLine();
        if (!"go".equals(line)) {
            System.out.println("NOT STARTED: " + line);
            return;
        }
        List<RawClient> held = new ArrayList<>(count);
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            held.add(RawClient.connect(socket));
        }
        System.out.printf("HELD %d in %.0f ms%n", held.size(), (System.nanoTime() - t0) / 1e6);
        in.readLine(); // "release", or the end of stdin
        held.forEach(RawClient::close);
        System.out.println("RELEASED");
    }
}
