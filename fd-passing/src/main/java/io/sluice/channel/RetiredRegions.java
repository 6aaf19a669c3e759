package io.sluice.channel;

import io.sluice.memfd.MemfdRegion;

import java.util.ArrayList;
import java.util.List;

/**
 * Position regions of departed consumers that a producer may still be reading. A producer
 * switches to a new set of consumer regions lazily (at its next claim or capacity check) and
 * says so by publishing a generation number; a region retired at generation {@code g} is unmapped
 * only once the producer's adopted generation has reached {@code g} — before that, unmapping it
 * would fail the producer's next read of it. Not thread-safe: used under the channel's lock.
 */
final class RetiredRegions {
    private record Retired(MemfdRegion region, long generation) {
    }

    private final List<Retired> regions = new ArrayList<>();

    /** Retires {@code region} (null is ignored), to be closed once {@code generation} is adopted. */
    void retire(MemfdRegion region, long generation) {
        if (region != null) {
            regions.add(new Retired(region, generation));
        }
    }

    /** Closes every region retired at or before the {@code adopted} generation. */
    void closeAdopted(long adopted) {
        regions.removeIf(r -> {
            if (r.generation() <= adopted) {
                r.region().close();
                return true;
            }
            return false;
        });
    }

    /** Closes everything (the producer is gone with its channel). */
    void closeAll() {
        closeAdopted(Long.MAX_VALUE);
    }
}
