package io.sluice.cli;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sluice ps} against real processes: a child JVM owns a region (read-write mapping, a
 * read-write and a read-only fd), and this JVM maps it too, through its own fds opened from the
 * child's {@code /proc/PID/fd} links with plain NIO.
 */
class PsCommandTest {
    private static final String REGION = "ps.test";
    private static final long SIZE = 64 * 1024;
    /** What the owner sealed (SHRINK|GROW), with EXEC where the kernel seals it at creation (MFD_NOEXEC_SEAL). */
    private static final String SEALS = "SHRINK\\|GROW(\\|EXEC)?";
    private static final long WAIT_SECONDS = 30;

    private static ChildJvm owner;
    private static long ownerPid;
    private static int ownerFd;
    private static int ownerRoFd;
    private static long inode;
    private static final long MY_PID = ProcessHandle.current().pid();

    @BeforeAll
    static void startOwner() throws Exception {
        owner = ChildJvm.launcher(RegionOwner.class).jvmOptions("-XX:TieredStopAtLevel=1").start(REGION, Long.toString(SIZE));
        Matcher m = Pattern.compile("ready pid=(\\d+) fd=(\\d+) rofd=(\\d+)").matcher(owner.awaitLine("ready", WAIT_SECONDS));
        assertTrue(m.matches());
        ownerPid = Long.parseLong(m.group(1));
        ownerFd = Integer.parseInt(m.group(2));
        ownerRoFd = Integer.parseInt(m.group(3));
        assertEquals(owner.pid(), ownerPid);
        inode = ((Number) Files.getAttribute(fdLink(ownerFd), "unix:ino")).longValue();
    }

    @AfterAll
    static void stopOwner() throws Exception {
        if (owner != null) {
            owner.stdin().close();
            assertEquals(0, owner.waitFor(WAIT_SECONDS), owner.output());
            owner.close();
        }
    }

    private static Path fdLink(int fd) {
        return Path.of("/proc", Long.toString(ownerPid), "fd", Integer.toString(fd));
    }

    /** Exit status, stdout and stderr of one in-process run. */
    record Run(int status, String out, String err) {
    }

    private static Run run(CommandLine cmd, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int status = cmd.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    private static Run sluice(String... args) {
        return run(SluiceCommand.commandLine(), args);
    }

    /** The table's lines for the test region: its first row, the other holders' rows and its flags. */
    private static List<String> regionRows(String table) {
        List<String> rows = new ArrayList<>();
        for (String line : table.lines().toList()) {
            if (rows.isEmpty()) {
                if (line.startsWith(REGION + " ") && line.contains(" " + inode + " ")) {
                    rows.add(line);
                }
            } else if (line.startsWith(" ")) {
                rows.add(line);
            } else {
                break;
            }
        }
        assertTrue(!rows.isEmpty(), "no row for region " + REGION + " inode " + inode + " in:\n" + table);
        return rows;
    }

    private static String rowOf(List<String> rows, long pid, String table) {
        return rows.stream().filter(r -> r.matches("^.*\\s" + pid + "\\s.*$")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for pid " + pid + " in:\n" + table));
    }

    @Test
    void tableShowsTheRegionItsWriterAndItsReader() throws Exception {
        try (Arena arena = Arena.ofConfined();
             FileChannel ro = FileChannel.open(fdLink(ownerRoFd), StandardOpenOption.READ)) {
            MemorySegment view = ro.map(FileChannel.MapMode.READ_ONLY, 0, SIZE, arena);
            assertEquals(42, view.get(ValueLayout.JAVA_LONG, 0));
            int myFd = fdNumberOf(inode);

            Run run = sluice("ps");
            assertEquals(0, run.status(), run.err());
            List<String> rows = regionRows(run.out());
            assertTrue(rows.get(0).matches("^ps\\.test\\s+" + inode + "\\s+" + SIZE + "\\s+" + SEALS + "\\s+.*"), rows.get(0));
            String ownerRow = rowOf(rows, ownerPid, run.out());
            assertTrue(ownerRow.matches(".*\\sjava io\\.sluice\\.cli\\.RegionOwner\\s+" + Math.min(ownerFd, ownerRoFd) + ":.*"), ownerRow);
            assertTrue(ownerRow.contains(ownerFd + ":rw") && ownerRow.contains(ownerRoFd + ":ro"), ownerRow);
            assertTrue(ownerRow.matches(".*\\srw\\s+rw-s [0-9a-f]+-[0-9a-f]+$"), ownerRow);
            String myRow = rowOf(rows, MY_PID, run.out());
            assertTrue(myRow.matches(".*\\s" + myFd + ":ro\\s+ro\\s+r--s [0-9a-f]+-[0-9a-f]+$"), myRow);
            assertTrue(rows.stream().noneMatch(r -> r.startsWith("  ! ")), "one writer is not flagged: " + rows);

            Run json = sluice("ps", "--json");
            assertEquals(0, json.status(), json.err());
            String region = "\\{\"name\":\"ps\\.test\",\"inode\":" + inode + ",\"size\":" + SIZE + ",\"seals\":\"" + SEALS + "\",\"holders\":\\[";
            String mapping = "\\{\"start\":\"[0-9a-f]+\",\"end\":\"[0-9a-f]+\",\"perms\":\"%s\",\"offset\":0,\"writable\":%s\\}";
            String ownerHolder = "\\{\"pid\":" + ownerPid + ",\"comm\":\"java\",\"mainClass\":\"io\\.sluice\\.cli\\.RegionOwner\",\"fds\":\\["
                    + fdsJson(ownerFd, ownerRoFd) + "\\],\"mappings\":\\[" + mapping.formatted("rw-s", "true") + "\\]\\}";
            String myHolder = "\\{\"pid\":" + MY_PID + ",\"comm\":\"[^\"]*\",\"mainClass\":(null|\"[^\"]*\"),\"fds\":\\[\\{\"fd\":" + myFd
                    + ",\"writable\":false\\}\\],\"mappings\":\\[" + mapping.formatted("r--s", "false") + "\\]\\}";
            String holders = ownerPid < MY_PID ? ownerHolder + "," + myHolder : myHolder + "," + ownerHolder;
            assertTrue(Pattern.compile(region + holders + "\\],\"flags\":\\[\\]\\}").matcher(json.out()).find(), json.out());
            assertTrue(json.out().matches("(?s)^\\{\"regions\":\\[.*\\],\"unreadable\":\\{\"otherUsers\":\\d+,\"sameUser\":\\d+\\}\\}\n$"), json.out());

            Run onlyOwner = sluice("ps", "--pid", Long.toString(ownerPid));
            assertEquals(0, onlyOwner.status(), onlyOwner.err());
            assertEquals(1, regionRows(onlyOwner.out()).size(), onlyOwner.out());
            assertTrue(!onlyOwner.out().contains(" " + MY_PID + " "), onlyOwner.out());
        }
    }

    private static String fdsJson(int a, int b) {
        String rw = "\\{\"fd\":" + ownerFd + ",\"writable\":true\\}";
        String ro = "\\{\"fd\":" + ownerRoFd + ",\"writable\":false\\}";
        return a < b ? rw + "," + ro : ro + "," + rw;
    }

    /** This process's fd on the region (the one the FileChannel holds). */
    private static int fdNumberOf(long regionInode) throws Exception {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path link : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(link).toString().startsWith("/memfd:sluice:" + REGION)
                            && ((Number) Files.getAttribute(link, "unix:ino")).longValue() == regionInode) {
                        return Integer.parseInt(link.getFileName().toString());
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // the listing's own fd, closed since
                }
            }
        }
        throw new AssertionError("this process holds no fd on inode " + regionInode);
    }

    @Test
    void flagsASecondWriterAndAWritableMappingBehindAReadOnlyFd() throws Exception {
        try (Arena arena = Arena.ofConfined();
             FileChannel ro = FileChannel.open(fdLink(ownerRoFd), StandardOpenOption.READ)) {
            try (FileChannel rw = FileChannel.open(fdLink(ownerFd), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                rw.map(FileChannel.MapMode.READ_WRITE, 0, SIZE, arena).set(ValueLayout.JAVA_LONG, 8, 7);
            } // the writable fd is closed; the writable mapping stays, next to a read-only fd
            assertTrue(ro.isOpen());
            Run run = sluice("ps");
            assertEquals(0, run.status(), run.err());
            List<String> rows = regionRows(run.out());
            long first = Math.min(ownerPid, MY_PID);
            long second = Math.max(ownerPid, MY_PID);
            assertTrue(rows.contains("  ! mapped writable by 2 processes: " + first + ", " + second), String.join("\n", rows));
            assertTrue(rows.contains("  ! pid " + MY_PID + " maps it writable but holds it only through read-only fds"), String.join("\n", rows));

            Run json = sluice("ps", "--json", "--pid", Long.toString(MY_PID));
            assertTrue(json.out().contains("\"flags\":[\"pid " + MY_PID + " maps it writable but holds it only through read-only fds\"]"), json.out());
        }
    }

    @Test
    void helpAndVersionExitZero() {
        Run help = sluice("--help");
        assertEquals(0, help.status());
        assertTrue(help.out().startsWith("Usage: sluice"), help.out());
        assertTrue(help.out().contains("ps"), help.out());
        Run psHelp = sluice("ps", "--help");
        assertEquals(0, psHelp.status());
        assertTrue(psHelp.out().contains("--json") && psHelp.out().contains("--pid"), psHelp.out());
        Run version = sluice("--version");
        assertEquals(0, version.status());
        assertTrue(version.out().matches("sluice \\d+\\.\\d+\\.\\d+.*\n"), version.out());
    }

    @Test
    void usageErrorsExitTwo() {
        Run unknown = sluice("ps", "--bogus");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("Unknown option: '--bogus'"), unknown.err());
        assertEquals("", unknown.out());
        Run notANumber = sluice("ps", "--pid", "abc");
        assertEquals(2, notANumber.status(), notANumber.err());
        Run negative = sluice("ps", "--pid", "-5");
        assertEquals(2, negative.status(), negative.err());
        Run noCommand = sluice();
        assertEquals(2, noCommand.status());
        assertTrue(noCommand.err().contains("Missing a command"), noCommand.err());
        Run unknownCommand = sluice("top");
        assertEquals(2, unknownCommand.status(), unknownCommand.err());
    }

    @Test
    void aPidWithNoProcessFindsNothingAndExitsZero() throws Exception {
        // a child that has exited and been reaped: its pid is free (reuse within the test is
        // as unlikely as the kernel cycling through every pid meanwhile)
        Process gone = new ProcessBuilder("true").start();
        assertTrue(gone.waitFor(WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS));
        long pid = gone.pid();
        Run run = sluice("ps", "--pid", Long.toString(pid));
        assertEquals(0, run.status(), run.err());
        assertEquals("no Sluice regions (no process " + pid + ")\n", run.out());
        Run json = sluice("ps", "--json", "--pid", Long.toString(pid));
        assertEquals(0, json.status(), json.err());
        assertTrue(json.out().startsWith("{\"pid\":" + pid + ",\"processExists\":false,\"regions\":[],"), json.out());
    }

    @Test
    void aFailureExitsOneWithOneLine(@org.junit.jupiter.api.io.TempDir Path dir) {
        Run run = run(SluiceCommand.commandLine(dir.resolve("no-proc-here")), "ps");
        assertEquals(1, run.status());
        assertTrue(run.err().startsWith("sluice ps: java.nio.file.NoSuchFileException: "), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
    }
}
