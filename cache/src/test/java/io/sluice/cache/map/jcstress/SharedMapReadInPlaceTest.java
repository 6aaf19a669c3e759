package io.sluice.cache.map.jcstress;

import io.sluice.cache.map.SharedMapReader;
import io.sluice.cache.map.SharedMapWriter;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The slot seqlock, read in place: the writer updates the key twice, (1,1) -> (2,2) -> (3,3), so
 * the first update fills the inactive buffer and flips, and the second writes the buffer a reader
 * of the first value may still be reading. The reader reads both longs of the value in place
 * ({@link SharedMapReader#read}); only a validated result is returned, so it must never mix two
 * values.
 */
@JCStressTest
@Description("Shared map slot: a value read in place while the writer flips buffers is never a mix of two values.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "read before the updates")
@Outcome(id = "2, 2", expect = ACCEPTABLE_INTERESTING, desc = "read between the updates")
@Outcome(id = "3, 3", expect = ACCEPTABLE, desc = "read after the updates")
@Outcome(expect = FORBIDDEN, desc = "a mix of two values, or nothing")
@State
public class SharedMapReadInPlaceTest {
    private final SharedMapWriter writer = SharedMapJcstress.newMap();
    private final SharedMapReader reader = writer.reader();

    @Actor
    public void writer() {
        SharedMapJcstress.put(writer, 2);
        SharedMapJcstress.put(writer, 3);
    }

    @Actor
    public void reader(JJ_Result r) {
        long[] v = reader.read(SharedMapJcstress.KEY, (map, at, length) ->
                new long[]{map.get(SharedMapJcstress.LONG, at), map.get(SharedMapJcstress.LONG, at + 8)});
        r.r1 = v == null ? -1 : v[0];
        r.r2 = v == null ? -1 : v[1];
    }
}
