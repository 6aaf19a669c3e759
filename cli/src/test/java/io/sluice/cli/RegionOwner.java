package io.sluice.cli;

import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A child JVM that creates a Sluice region, maps it read-write, seals its size and opens a
 * read-only fd of it, prints {@code ready pid=P fd=F rofd=R}, and holds all that until its
 * stdin ends.
 */
public final class RegionOwner {
    public static void main(String[] args) throws Exception {
        String name = args[0];
        long size = Long.parseLong(args[1]);
        try (MemfdRegion region = MemfdRegion.create(name, size)) {
            MemorySegment rw = region.mapReadWrite();
            rw.set(ValueLayout.JAVA_LONG, 0, 42);
            region.addSeals(Seal.SHRINK, Seal.GROW);
            int rofd = region.readOnlyFd().numberForDiagnostics();
            System.out.println("ready pid=" + ProcessHandle.current().pid() + " fd=" + region.fd().numberForDiagnostics()
                    + " rofd=" + rofd);
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (in.readLine() != null) {
                // hold the region until the test closes our stdin
            }
        }
    }
}
