package io.sluice.channel;

import io.sluice.memfd.MemfdRegion;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * Position regions of departed consumers that a producer may still be reading. A producer
 * switches to a new set of consumer regions lazily (at its next claim or capacity check); a region
 * retired at hand-over generation {@code g} is unmapped only once the producer says it is done
 * with everything before {@code g} — before that, unmapping it would fail the producer's next
 * read of it. Producers answer that without running ({@code isDoneWith}), so an idle producer does
 * not make regions pile up. Not thread-safe: used under the channel's lock.
 */
final class RetiredRegions {
    private record Retired(MemfdRegion region, long generation) {
    }

    private final List<Retired> regions = new ArrayList<>();
    private final LongPredicate doneWith;

    /** @param doneWith the producer's answer: is it done with every consumer set before this generation? */
    RetiredRegions(LongPredicate doneWith) {
        this.doneWith = doneWith;
    }

    /** Retires {@code region} (null is ignored), to be closed once {@code generation} is adopted. */
    void retire(MemfdRegion region, long generation) {
        if (region != null) {
            regions.add(new Retired(region, generation));
        }
    }

    /** Closes every region whose generation the producer is done with. */
    void closeDone() {
        closeIf(doneWith);
    }

    private void closeIf(LongPredicate done) {
        regions.removeIf(r -> {
            if (done.test(r.generation())) {
                r.region().close();
                return true;
            }
            return false;
        });
    }

    /** How many regions wait. */
    int size() {
        return regions.size();
    }

    /** Closes everything (the producer is gone with its channel). */
    void closeAll() {
        closeIf(g -> true);
    }
}
