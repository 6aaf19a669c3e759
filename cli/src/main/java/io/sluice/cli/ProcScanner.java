package io.sluice.cli;

import io.sluice.api.SluiceException;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import io.sluice.memfd.MemfdRegion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads {@code /proc} into {@link ProcScan}: for each process, the fds whose target is a Sluice
 * memfd and the mappings of such memfds.
 *
 * <p>Everything read here was written by the process looked at (its name, its command line, the
 * region names it chose): it is kept as text and escaped only when printed. A process that exits
 * during the scan is skipped: {@code /proc} is a moving picture, and a vanished process holds
 * nothing. A process that cannot be read is counted, never silently left out.
 */
final class ProcScanner {
    /** The target of an fd on a Sluice memfd starts with this; the maps line's path too. */
    static final String MEMFD_PREFIX = "/memfd:" + MemfdRegion.NAME_PREFIX;
    private static final String DELETED_SUFFIX = " (deleted)";
    private static final int O_ACCMODE = 03;

    /**
     * JVM options whose value is the next argument ({@code --module-path DIR}), so that the value
     * is not taken for the main class. The {@code --opt=value} forms need no entry.
     */
    private static final Set<String> JAVA_OPTIONS_WITH_VALUE = Set.of(
            "-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path",
            "--add-modules", "--limit-modules", "--add-reads", "--add-exports", "--add-opens",
            "--patch-module", "--enable-native-access", "--source", "--illegal-native-access");

    private final Path proc;

    ProcScanner(Path proc) {
        this.proc = proc;
    }

    /** Whether a process with this pid exists now. */
    boolean exists(long pid) {
        return Files.isDirectory(proc.resolve(Long.toString(pid)));
    }

    /** Scans every process, or only {@code onlyPid} when it is not negative. */
    ProcScan scan(long onlyPid) throws IOException {
        List<ProcessHoldings> found = new ArrayList<>();
        int otherUsers = 0;
        int otherUnreadable = 0;
        Object myUid = uid(proc.resolve("self"));
        for (long pid : pids(onlyPid)) {
            Path dir = proc.resolve(Long.toString(pid));
            try {
                ProcessHoldings p = read(pid, dir);
                if (!p.fds().isEmpty() || !p.mappings().isEmpty()) {
                    found.add(p);
                }
            } catch (AccessDeniedException e) {
                Object uid = uid(dir);
                if (uid == null || isExiting(dir)) {
                    continue; // gone meanwhile, or a zombie: its fds are closed already
                }
                if (uid.equals(myUid)) {
                    otherUnreadable++;
                } else {
                    otherUsers++;
                }
            } catch (NoSuchFileException e) {
                // the process exited during the scan: it holds nothing any more
            }
        }
        return new ProcScan(found, otherUsers, otherUnreadable);
    }

    private List<Long> pids(long onlyPid) throws IOException {
        if (onlyPid >= 0) {
            return exists(onlyPid) ? List.of(onlyPid) : List.of();
        }
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!name.isEmpty() && name.chars().allMatch(c -> c >= '0' && c <= '9') && name.length() < 19) {
                    pids.add(Long.parseLong(name));
                }
            }
        }
        pids.sort(null);
        return pids;
    }

    /** Whether the process is a zombie or dead ({@code Z} or {@code X} in {@code /proc/PID/stat}). */
    private static boolean isExiting(Path dir) {
        try {
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.ISO_8859_1);
            int afterComm = stat.lastIndexOf(')'); // comm may hold spaces and parentheses
            char state = afterComm >= 0 && afterComm + 2 < stat.length() ? stat.charAt(afterComm + 2) : '?';
            return state == 'Z' || state == 'X';
        } catch (IOException e) {
            return true; // stat is world-readable: failing to read it means the process is gone
        }
    }

    private static Object uid(Path dir) {
        try {
            return Files.getAttribute(dir, "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private ProcessHoldings read(long pid, Path dir) throws IOException {
        List<RegionFd> fds = fds(dir);
        List<RegionMapping> mappings = mappings(dir);
        if (fds.isEmpty() && mappings.isEmpty()) {
            return new ProcessHoldings(pid, "", "", fds, mappings);
        }
        return new ProcessHoldings(pid, comm(dir), mainClass(dir), fds, mappings);
    }

    private static List<RegionFd> fds(Path dir) throws IOException {
        List<RegionFd> fds = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir.resolve("fd"))) {
            for (Path link : entries) {
                try {
                    String target = Files.readSymbolicLink(link).toString();
                    if (!target.startsWith(MEMFD_PREFIX)) {
                        continue;
                    }
                    int fd = Integer.parseInt(link.getFileName().toString());
                    FdInfo info = FdInfo.read(dir.resolve("fdinfo").resolve(Integer.toString(fd)));
                    long inode = info.inode >= 0 ? info.inode : ((Number) Files.getAttribute(link, "unix:ino")).longValue();
                    fds.add(new RegionFd(fd, inode, regionName(target), Files.size(link), (info.flags & O_ACCMODE) != 0,
                            seals(link)));
                } catch (NoSuchFileException e) {
                    // closed between the listing and the look: not held any more
                }
            }
        }
        fds.sort((a, b) -> Integer.compare(a.fd(), b.fd()));
        return fds;
    }

    /**
     * The seals of the memfd behind {@code link}, or {@code null} if they cannot be read (the
     * process went away, or the fd may not be opened by this user): seals are shown, not relied on.
     */
    private static Set<Seal> seals(Path link) {
        try {
            return MemfdRegion.sealsOf(link);
        } catch (SluiceException e) {
            return null;
        }
    }

    /** The fields of {@code /proc/PID/fdinfo/N} used here; {@code inode} is -1 on kernels that do not print it. */
    private record FdInfo(long flags, long inode) {
        static FdInfo read(Path path) throws IOException {
            long flags = 0;
            long inode = -1;
            for (String line : Files.readAllLines(path, StandardCharsets.ISO_8859_1)) {
                if (line.startsWith("flags:")) {
                    flags = Long.parseLong(line.substring("flags:".length()).trim(), 8);
                } else if (line.startsWith("ino:")) {
                    inode = Long.parseLong(line.substring("ino:".length()).trim());
                }
            }
            return new FdInfo(flags, inode);
        }
    }

    private static List<RegionMapping> mappings(Path dir) throws IOException {
        List<RegionMapping> mappings = new ArrayList<>();
        // ISO-8859-1: any byte is a character, so a name that is not UTF-8 cannot fail the read.
        for (String line : Files.readAllLines(dir.resolve("maps"), StandardCharsets.ISO_8859_1)) {
            RegionMapping m = parseMapsLine(line);
            if (m != null) {
                mappings.add(m);
            }
        }
        return mappings;
    }

    /**
     * One {@code /proc/PID/maps} line ({@code start-end perms offset dev inode path}), or null if
     * it does not map a Sluice memfd or is not in the kernel's format.
     */
    static RegionMapping parseMapsLine(String line) {
        String[] f = line.trim().split("\\s+", 6);
        if (f.length < 6 || !f[5].startsWith(MEMFD_PREFIX)) {
            return null;
        }
        int dash = f[0].indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
            long end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
            long offset = Long.parseUnsignedLong(f[2], 16);
            long inode = Long.parseLong(f[4]);
            String name = new String(f[5].getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            return new RegionMapping(start, end, f[1], offset, inode, regionName(name));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code /memfd:sluice:NAME (deleted)} to {@code NAME}. */
    static String regionName(String target) {
        String name = target.substring(MEMFD_PREFIX.length());
        return name.endsWith(DELETED_SUFFIX) ? name.substring(0, name.length() - DELETED_SUFFIX.length()) : name;
    }

    private static String comm(Path dir) {
        try {
            String comm = Files.readString(dir.resolve("comm"), StandardCharsets.ISO_8859_1);
            return comm.endsWith("\n") ? comm.substring(0, comm.length() - 1) : comm;
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    private static String mainClass(Path dir) {
        try {
            byte[] raw = Files.readAllBytes(dir.resolve("cmdline"));
            return javaMain(new String(raw, StandardCharsets.UTF_8).split("\0"));
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The main class of a {@code java} command line: the first argument after the options, the
     * module/class after {@code -m}/{@code --module}, or the jar after {@code -jar}. Empty if
     * {@code argv[0]} is not {@code java} or there is none.
     */
    static String javaMain(String[] argv) {
        if (argv.length == 0 || !(argv[0].equals("java") || argv[0].endsWith("/java"))) {
            return "";
        }
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("-jar")) {
                return i + 1 < argv.length ? argv[i + 1].substring(argv[i + 1].lastIndexOf('/') + 1) : ""; // the jar's file name
            }
            if (a.equals("-m") || a.equals("--module")) {
                return i + 1 < argv.length ? argv[i + 1] : "";
            }
            if (a.startsWith("--module=")) {
                return a.substring("--module=".length());
            }
            if (JAVA_OPTIONS_WITH_VALUE.contains(a)) {
                i++;
            } else if (!a.startsWith("-") && !a.startsWith("@")) {
                return a;
            }
        }
        return "";
    }
}
