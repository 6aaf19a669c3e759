package io.sluice.cli;

import io.sluice.memfd.Seal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link ProcScan} turned around: per region (memfd inode), who holds it and how, and what
 * looks wrong.
 *
 * <p>Two things are flagged: a region whose pages more than one process can write (expected for
 * an MPMC ring, a leak or a stray writer otherwise), and a process that maps a region writable
 * while it holds it only through read-only fds (it kept a writable mapping after giving up its
 * writable fd, or got the mapping some other way).
 */
record RegionReport(List<Region> regions, int otherUsers, int otherUnreadable) {

    /**
     * One region.
     *
     * @param inode   its memfd inode
     * @param name    its name (peer-chosen text)
     * @param size    its size: the size of the memfd behind any fd, else the longest mapping
     * @param seals   its seals as read through any fd, or {@code null} if none could be read
     * @param holders who holds it, by pid
     * @param flags   what looks wrong, one sentence each
     */
    record Region(long inode, String name, long size, Set<Seal> seals, List<Holder> holders, List<String> flags) {
    }

    /** One process's fds on and mappings of one region. */
    record Holder(long pid, String comm, String mainClass, List<RegionFd> fds, List<RegionMapping> mappings) {

        boolean mapsWritable() {
            return mappings.stream().anyMatch(RegionMapping::writesRegion);
        }

        boolean onlyReadOnlyFds() {
            return !fds.isEmpty() && fds.stream().noneMatch(RegionFd::writable);
        }
    }

    static RegionReport of(ProcScan scan) {
        Map<Long, Map<Long, Holder>> byInode = new TreeMap<>();
        Map<Long, String> names = new LinkedHashMap<>();
        Map<Long, Long> sizes = new LinkedHashMap<>();
        Map<Long, Set<Seal>> seals = new LinkedHashMap<>();
        for (ProcessHoldings p : scan.processes()) {
            for (RegionFd fd : p.fds()) {
                holder(byInode, p, fd.inode()).fds().add(fd);
                names.putIfAbsent(fd.inode(), fd.name());
                sizes.put(fd.inode(), fd.size()); // the fd's size wins over a mapping's length
                if (fd.seals() != null) {
                    seals.putIfAbsent(fd.inode(), fd.seals());
                }
            }
            for (RegionMapping m : p.mappings()) {
                holder(byInode, p, m.inode()).mappings().add(m);
                names.putIfAbsent(m.inode(), m.name());
            }
        }
        List<Region> regions = new ArrayList<>();
        byInode.forEach((inode, holders) -> {
            List<Holder> list = List.copyOf(holders.values());
            long size = sizes.containsKey(inode) ? sizes.get(inode)
                    : list.stream().flatMap(h -> h.mappings().stream()).mapToLong(RegionMapping::length).max().orElse(0);
            regions.add(new Region(inode, names.get(inode), size, seals.get(inode), list, flags(list)));
        });
        regions.sort(Comparator.comparing(Region::name).thenComparingLong(Region::inode));
        return new RegionReport(List.copyOf(regions), scan.otherUsers(), scan.otherUnreadable());
    }

    private static Holder holder(Map<Long, Map<Long, Holder>> byInode, ProcessHoldings p, long inode) {
        return byInode.computeIfAbsent(inode, k -> new TreeMap<>())
                .computeIfAbsent(p.pid(), k -> new Holder(p.pid(), p.comm(), p.mainClass(), new ArrayList<>(), new ArrayList<>()));
    }

    private static List<String> flags(List<Holder> holders) {
        List<String> flags = new ArrayList<>();
        List<Long> writers = holders.stream().filter(Holder::mapsWritable).map(Holder::pid).toList();
        if (writers.size() > 1) {
            flags.add("mapped writable by " + writers.size() + " processes: " + join(writers));
        }
        for (Holder h : holders) {
            if (h.mapsWritable() && h.onlyReadOnlyFds()) {
                flags.add("pid " + h.pid() + " maps it writable but holds it only through read-only fds");
            }
        }
        return List.copyOf(flags);
    }

    private static String join(List<Long> pids) {
        StringBuilder sb = new StringBuilder();
        for (long pid : pids) {
            sb.append(sb.isEmpty() ? "" : ", ").append(pid);
        }
        return sb.toString();
    }
}
