package io.sluice.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RegionReportTest {
    private static final long INODE = 77;

    private static RegionFd fd(int n, boolean writable) {
        return new RegionFd(n, INODE, "r", 8192, writable, null);
    }

    private static RegionMapping map(String perms) {
        return new RegionMapping(0x1000, 0x2000, perms, 0, INODE, "r");
    }

    private static ProcessHoldings process(long pid, List<RegionFd> fds, List<RegionMapping> maps) {
        return new ProcessHoldings(pid, "java", "", fds, maps);
    }

    private static RegionReport.Region only(ProcessHoldings... processes) {
        RegionReport report = RegionReport.of(new ProcScan(List.of(processes), 0, 0));
        assertEquals(1, report.regions().size());
        return report.regions().get(0);
    }

    @Test
    void oneWriterAndReadersAreNotFlagged() {
        RegionReport.Region r = only(
                process(20, List.of(fd(5, false)), List.of(map("r--s"))),
                process(10, List.of(fd(3, true)), List.of(map("rw-s"))));
        assertEquals(List.of(), r.flags());
        assertEquals(List.of(10L, 20L), r.holders().stream().map(RegionReport.Holder::pid).toList());
        assertEquals(8192, r.size());
    }

    @Test
    void twoWritersAreFlagged() {
        RegionReport.Region r = only(
                process(10, List.of(fd(3, true)), List.of(map("rw-s"))),
                process(20, List.of(fd(4, true)), List.of(map("rw-s"))));
        assertEquals(List.of("mapped writable by 2 processes: 10, 20"), r.flags());
    }

    @Test
    void aWritableMappingBehindOnlyReadOnlyFdsIsFlagged() {
        RegionReport.Region r = only(process(10, List.of(fd(3, false), fd(4, false)), List.of(map("rw-s"))));
        assertEquals(List.of("pid 10 maps it writable but holds it only through read-only fds"), r.flags());
    }

    @Test
    void aPrivateWritableMappingWritesNobodysPages() {
        RegionReport.Region r = only(
                process(10, List.of(fd(3, true)), List.of(map("rw-s"))),
                process(20, List.of(fd(4, false)), List.of(map("rw-p"))));
        assertEquals(List.of(), r.flags());
    }

    @Test
    void withoutAnFdTheSizeIsTheLongestMapping() {
        RegionReport.Region r = only(process(10, List.of(), List.of(map("r--s"), new RegionMapping(0x8000, 0xa000, "r--s", 0, INODE, "r"))));
        assertEquals(0x2000, r.size());
        assertEquals(List.of(), r.flags());
    }
}
