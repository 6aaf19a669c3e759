package io.sluice.cli;

import io.sluice.api.UntrustedText;
import io.sluice.memfd.Seal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code sluice ps}: which processes hold Sluice regions, as a table or as JSON.
 *
 * <p>Seals are read through one holder's fd ({@code /proc/PID/fd/N} opened read-only); where no
 * holder's fd may be opened they show as {@code ?} ({@code null} in JSON).
 */
@Command(name = "ps", mixinStandardHelpOptions = true, versionProvider = SluiceCommand.Version.class,
        description = {
            "Lists the processes on this machine that hold Sluice regions (memfds",
            "named sluice:NAME). Per region: its size and seals; per process: its fds",
            "on it (rw or ro) and its mappings (perms, addresses). Flags a region",
            "mapped writable by more than one process, and a writable mapping in a",
            "process that holds the region only through read-only fds. Processes",
            "that cannot be read (other users) are counted; seals that cannot be read show as ?.",
            "Exit status: 0 (also when nothing is found), 1 on an error, 2 on a",
            "usage error."})
final class PsCommand implements Callable<Integer> {
    /** Printed when the scan finds nothing, in the table form. */
    static final String NOTHING_FOUND = "no Sluice regions";

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    private boolean json;

    @Option(names = "--pid", paramLabel = "PID",
            description = "Only this process. A pid with no process prints \"" + NOTHING_FOUND + " (no process PID)\" and exits 0.")
    private long pid = -1;

    private final Path proc;

    PsCommand(Path proc) {
        this.proc = proc;
    }

    @Override
    public Integer call() throws Exception {
        if (spec.commandLine().getParseResult().hasMatchedOption("--pid") && pid < 0) {
            throw new ParameterException(spec.commandLine(), "--pid must not be negative: " + pid);
        }
        ProcScanner scanner = new ProcScanner(proc);
        RegionReport report = RegionReport.of(scanner.scan(pid));
        boolean noSuchProcess = pid >= 0 && !scanner.exists(pid);
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? json(report, noSuchProcess) : table(report, noSuchProcess));
        out.flush();
        return 0;
    }

    private String table(RegionReport report, boolean noSuchProcess) {
        StringBuilder sb = new StringBuilder();
        if (report.regions().isEmpty()) {
            sb.append(NOTHING_FOUND).append(noSuchProcess ? " (no process " + pid + ")" : "").append('\n');
        } else {
            TextTable table = new TextTable("REGION", "INODE", "SIZE", "SEALS", "PID", "PROCESS", "FDS", "MAP", "MAPPINGS");
            for (RegionReport.Region r : report.regions()) {
                boolean first = true;
                for (RegionReport.Holder h : r.holders()) {
                    table.add(
                        first ? UntrustedText.escape(r.name()) : "",
                        first ? Long.toString(r.inode()) : "",
                        first ? Long.toString(r.size()) : "",
                        first ? (r.seals() == null ? "?" : Seal.describe(r.seals())) : "",
                        Long.toString(h.pid()),
                        process(h),
                        fds(h),
                        h.mappings().isEmpty() ? "-" : h.mapsWritable() ? "rw" : "ro",
                        mappings(h));
                    first = false;
                }
                for (String flag : r.flags()) {
                    table.note(flag);
                }
            }
            sb.append(table.render());
        }
        if (report.otherUsers() > 0) {
            sb.append(plural(report.otherUsers(), "process", "processes")).append(" not readable (other users)\n");
        }
        if (report.otherUnreadable() > 0) {
            sb.append(plural(report.otherUnreadable(), "process", "processes")).append(" of this user not readable (not dumpable)\n");
        }
        return sb.toString();
    }

    private static String process(RegionReport.Holder h) {
        String comm = UntrustedText.escape(h.comm());
        return h.mainClass().isEmpty() ? comm : comm + " " + UntrustedText.escape(h.mainClass());
    }

    private static String fds(RegionReport.Holder h) {
        if (h.fds().isEmpty()) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        for (RegionFd fd : h.fds()) {
            sb.append(sb.isEmpty() ? "" : ",").append(fd.fd()).append(fd.writable() ? ":rw" : ":ro");
        }
        return sb.toString();
    }

    private static String mappings(RegionReport.Holder h) {
        StringBuilder sb = new StringBuilder();
        for (RegionMapping m : h.mappings()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(m.perms()).append(' ')
                    .append(Long.toHexString(m.start())).append('-').append(Long.toHexString(m.end()));
            if (m.offset() != 0) {
                sb.append(" @").append(m.offset());
            }
        }
        return sb.isEmpty() ? "-" : sb.toString();
    }

    private static String plural(int n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }

    private String json(RegionReport report, boolean noSuchProcess) {
        JsonWriter w = new JsonWriter().beginObject();
        if (pid >= 0) {
            w.name("pid").value(pid).name("processExists").value(!noSuchProcess);
        }
        w.name("regions").beginArray();
        for (RegionReport.Region r : report.regions()) {
            w.beginObject()
                    .name("name").value(r.name())
                    .name("inode").value(r.inode())
                    .name("size").value(r.size())
                    .name("seals").value(r.seals() == null ? null : Seal.describe(r.seals()))
                    .name("holders").beginArray();
            for (RegionReport.Holder h : r.holders()) {
                w.beginObject()
                        .name("pid").value(h.pid())
                        .name("comm").value(h.comm())
                        .name("mainClass").value(h.mainClass().isEmpty() ? null : h.mainClass())
                        .name("fds").beginArray();
                for (RegionFd fd : h.fds()) {
                    w.beginObject().name("fd").value(fd.fd()).name("writable").value(fd.writable()).endObject();
                }
                w.endArray().name("mappings").beginArray();
                for (RegionMapping m : h.mappings()) {
                    w.beginObject()
                            .name("start").value(Long.toHexString(m.start()))
                            .name("end").value(Long.toHexString(m.end()))
                            .name("perms").value(m.perms())
                            .name("offset").value(m.offset())
                            .name("writable").value(m.writesRegion())
                            .endObject();
                }
                w.endArray().endObject();
            }
            w.endArray().name("flags").beginArray();
            for (String flag : r.flags()) {
                w.value(flag);
            }
            w.endArray().endObject();
        }
        w.endArray()
                .name("unreadable").beginObject()
                .name("otherUsers").value(report.otherUsers())
                .name("sameUser").value(report.otherUnreadable())
                .endObject()
                .endObject();
        return w + "\n";
    }
}
