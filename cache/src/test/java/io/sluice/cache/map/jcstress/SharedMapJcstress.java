package io.sluice.cache.map.jcstress;

import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapWriter;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The map the jcstress tests race on: one key in a heap segment, its value two equal longs. */
final class SharedMapJcstress {
    private SharedMapJcstress() {
    }

    static final SharedMapOptions OPTIONS = SharedMapOptions.of(1, 8, 16);
    static final MemorySegment KEY = MemorySegment.ofArray(new byte[]{'k'});
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    /** A formatted map (long[]-backed: 8-aligned) holding KEY = (1, 1). */
    static SharedMapWriter newMap() {
        SharedMapWriter w = SharedMapWriter.format(MemorySegment.ofArray(new long[(int) (OPTIONS.regionSize() / 8)]), OPTIONS, "jcstress");
        put(w, 1);
        return w;
    }

    /** KEY = (n, n). */
    static void put(SharedMapWriter w, long n) {
        MemorySegment v = MemorySegment.ofArray(new long[]{n, n});
        w.put(KEY, v);
    }
}
