package io.sluice.cache.map;

import java.lang.foreign.MemorySegment;

/**
 * Reads a value in place, in the map's read-only mapping, without a copy: the zero-copy lookup of
 * {@link SharedMapReader#read}. The owner may be writing the same bytes at the same moment, so
 * the code must expect anything in {@code [offset, offset + length)} and must not act on what it
 * reads (no side effects that cannot be undone): the map checks afterwards that the value was
 * stable while it ran, and if not, runs it again on the new value. Only a result computed from a
 * whole value is returned. If it throws while the value was changing, the throw is discarded and
 * it runs again; if it throws on a stable value, the exception propagates.
 *
 * <p>It must return (no loop that depends on the bytes read) and read only inside the range; the
 * segment is read-only, so a write throws.
 *
 * @param <T> what it makes of the value
 */
@FunctionalInterface
public interface ValueReader<T> {
    /**
     * @param map    the whole map region, read-only
     * @param offset where the value starts (a multiple of 8)
     * @param length the value's length in bytes, 0 to the map's max value length
     * @return what the caller of {@link SharedMapReader#read} receives, if the value was stable
     */
    T read(MemorySegment map, long offset, int length);
}
