package io.sluice.cache.map.jcstress;

import io.sluice.cache.map.SharedMapReader;
import io.sluice.cache.map.SharedMapWriter;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The slot seqlock, copying: as {@link SharedMapReadInPlaceTest}, the reader copying the value
 * into its own buffer ({@link SharedMapReader#get(MemorySegment, MemorySegment)}); the copy it is
 * left with when the call returns must be one whole value.
 */
@JCStressTest
@Description("Shared map slot: a value copied while the writer flips buffers is never a mix of two values.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "copied before the updates")
@Outcome(id = "2, 2", expect = ACCEPTABLE_INTERESTING, desc = "copied between the updates")
@Outcome(id = "3, 3", expect = ACCEPTABLE, desc = "copied after the updates")
@Outcome(expect = FORBIDDEN, desc = "a mix of two values, or nothing")
@State
public class SharedMapCopyTest {
    private final SharedMapWriter writer = SharedMapJcstress.newMap();
    private final SharedMapReader reader = writer.reader();
    private final MemorySegment dst = MemorySegment.ofArray(new long[2]);

    @Actor
    public void writer() {
        SharedMapJcstress.put(writer, 2);
        SharedMapJcstress.put(writer, 3);
    }

    @Actor
    public void reader(JJ_Result r) {
        int length = reader.get(SharedMapJcstress.KEY, dst);
        r.r1 = length == 16 ? dst.get(SharedMapJcstress.LONG, 0) : -1;
        r.r2 = length == 16 ? dst.get(SharedMapJcstress.LONG, 8) : -1;
    }
}
