package io.sluice.channel;

import io.sluice.fdpassing.PeerCredentials;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Attach across a container boundary, as processes in two containers of one machine do: the
 * consumer runs in new PID and mount namespaces (and a new user namespace where the kernel allows
 * one), in which the host's socket directory is visible only where it was bind-mounted, the
 * host's own path to it is hidden and {@code /dev/shm} is empty. It attaches through the socket,
 * reads every message in place, and the kernel refuses it a writable mapping of the ring. The
 * host's view of it, through {@code SO_PEERCRED}, is in the host's namespaces: the pid the host
 * sees is not the pid the consumer sees, and the uid is its uid outside the user namespace.
 * Skipped, with the kernel's answer, where namespaces cannot be created.
 */
class NamespaceAttachTest {
    private static final long CAPACITY = 64 * 1024;
    private static final long TIMEOUT_S = 60;
    private static final long COUNT = 100_000;

    /** Runs in the new namespaces, before the JVM: mounts the socket directory at /run/sluice and hides the rest. */
    private static final String SETUP = String.join("; ",
            "set -e",
            "sockets=$1; hidden=$2; shift 2",
            "mount -t tmpfs sluice-run /run",
            "mkdir /run/sluice",
            "mount --bind \"$sockets\" /run/sluice",
            "mount -t tmpfs sluice-hidden \"$hidden\"",
            "mount -t tmpfs sluice-shm /dev/shm",
            "exec \"$@\"");

    @TempDir
    Path dir;

    @Test
    void aConsumerInOtherNamespacesAttachesThroughTheBindMountedSocketAndIsRefusedWrites() throws Exception {
        List<String> unshare = namespacesOrSkip();
        Path sockets = Files.createDirectories(dir.resolve("sockets"));
        Path socket = sockets.resolve("host.sock");
        List<String> prefix = new ArrayList<>(unshare);
        prefix.addAll(List.of("sh", "-c", SETUP, "sluice-ns", sockets.toString(), dir.toString()));
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("quotes", SpscOptions.of(CAPACITY));
            try (ChildJvm child = ChildJvm.launcher(NamespacedConsumer.class).prefix(prefix).withoutStdin()
                    .start("/run/sluice/host.sock", "quotes", Long.toString(COUNT), socket.toString())) {
                String inside = child.awaitLine("INSIDE", TIMEOUT_S);
                child.awaitLine("ATTACHED", TIMEOUT_S);
                PeerCredentials seen = ch.attachments().getFirst().peer();
                // While it waits for messages: who the consumer is, from the host's side.
                long parent = ProcessHandle.of(seen.pid()).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
                String nsPid = nsPid(seen.pid());
                for (long seq = 0; seq < COUNT; seq++) {
                    SpscChannelTest.send(ch.producer(), seq, child);
                }
                String done = child.awaitLine("DONE", TIMEOUT_S);
                String map = child.awaitLine("MAP", TIMEOUT_S);
                String write = child.awaitLine("WRITE", TIMEOUT_S);
                assertEquals(0, child.waitFor(TIMEOUT_S), child.output());
                System.out.printf("namespaces (%s): consumer says \"%s\"; the host saw pid %d (NSpid %s) uid %d; %s; %s; %s%n",
                        String.join(" ", unshare), inside, seen.pid(), nsPid, seen.uid(), done, map, write);

                assertEquals("DONE " + COUNT + " " + SpscChannelTest.expectedSum(0, COUNT), done);
                // Only the bind mount led to the host: its own path and /dev/shm were not there.
                assertEquals("original-visible=false", field(inside, "original-visible"));
                assertEquals("shm-entries=0", field(inside, "shm-entries"));
                // SO_PEERCRED gives the pid in the host's PID namespace: the consumer is pid 1 in its
                // own, and the host sees the process unshare forked.
                assertEquals("pid=1", field(inside, "pid"));
                assertNotEquals(1, seen.pid());
                assertEquals(child.pid(), parent, "the pid the host saw is the process unshare forked");
                assertEquals(seen.pid() + " 1", nsPid, "NSpid of the consumer: host pid, then its own");
                // ... and the uid outside any user namespace: this test's own uid.
                assertEquals(ownUid(), seen.uid());
                if (unshare.contains("--user")) {
                    assertEquals("uid=0", field(inside, "uid"), "root inside its user namespace");
                }
                // Read in place through a read-only shared mapping, and the kernel refuses writes.
                assertEquals("MAP r--s", map);
                assertEquals("WRITE map=EACCES mprotect=EACCES", write); // its fd is O_RDONLY
            }
        }
    }

    private static String field(String line, String key) {
        for (String f : line.split(" ")) {
            if (f.startsWith(key + "=")) {
                return f;
            }
        }
        return "(no " + key + " in \"" + line + "\")";
    }

    private static String nsPid(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("NSpid:")).map(l -> l.substring(6).trim().replaceAll("\\s+", " "))
                .findFirst().orElse("?");
    }

    private static int ownUid() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).map(l -> Integer.parseInt(l.split("\\s+")[1]))
                .findFirst().orElseThrow();
    }

    /**
     * The unshare command that works here: PID, mount and user namespaces; without the user
     * namespace where only that is refused (as root); otherwise the test is skipped with the
     * kernel's answer.
     */
    private static List<String> namespacesOrSkip() throws Exception {
        List<String> withUser = List.of("unshare", "--user", "--map-root-user", "--pid", "--mount", "--fork",
                "--kill-child", "--mount-proc");
        List<String> withoutUser = List.of("unshare", "--pid", "--mount", "--fork", "--kill-child", "--mount-proc");
        String first = probe(withUser);
        if (first == null) {
            return withUser;
        }
        String second = probe(withoutUser);
        if (second == null) {
            return withoutUser;
        }
        assumeTrue(false, "no namespaces here: " + first + "; without a user namespace: " + second);
        return List.of();
    }

    /** Null if the command can run {@code true} in those namespaces; else what went wrong. */
    private static String probe(List<String> unshare) throws Exception {
        List<String> cmd = new ArrayList<>(unshare);
        cmd.addAll(List.of("sh", "-c", "mount -t tmpfs probe /run"));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return "cannot run unshare: " + e.getMessage();
        }
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "unshare did not finish in " + TIMEOUT_S + " s";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.exitValue() == 0 ? null : String.join(" ", unshare) + " exited " + p.exitValue() + ": " + out;
    }
}
