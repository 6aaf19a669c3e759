package io.sluice.examples.snapshot;

import io.sluice.cache.snapshot.SnapshotWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The demo's data: instrument symbols and their reference data, a pure function of
 * (snapshot version, instrument index), so that a reader can recompute and check every value
 * it looks up. Version {@code v} lists {@link #instrumentCount(long)} instruments, 250 more
 * than the version before, and moves every reference price.
 *
 * <p>Key: the symbol, 6 ASCII bytes such as {@code QZKA.L} (4 letters, a dot, a venue letter).
 * Value (little-endian, demo-specific; the table itself does not care what a value holds):
 * <pre>
 *   0  u64  snapshot version it was published in
 *   8  u32  instrument id (the index)
 *  12  u32  lot size
 *  16  i64  reference price, in units of 10^-4
 *  24  u32  tick size, in units of 10^-6
 *  28  u32  name length n
 *  32  n    name, ASCII: the symbol, a space, a description
 * </pre>
 */
public final class ReferenceData {
    private ReferenceData() {
    }

    public static final int INITIAL_INSTRUMENTS = 10_000;
    public static final int LISTED_PER_VERSION = 250;
    public static final int SYMBOL_LENGTH = 6;
    /** Every index below this has a distinct symbol. */
    public static final int SYMBOL_SPACE = 26 * 26 * 26 * 26;

    private static final byte[] VENUES = ascii("NLPT");
    private static final int[] LOT_SIZES = {1, 10, 100, 1000, 25};
    private static final int[] TICK_SIZES = {100, 500, 1000, 5000, 10_000, 50};
    private static final byte[][] DESCRIPTIONS = {
            ascii("Ordinary Shares"), ascii("Common Stock"), ascii("ADR"),
            ascii("Exchange Traded Fund"), ascii("Preference Shares"), ascii("Class A Common Stock"), ascii("Unit"),
    };
    private static final int VALUE_FIXED_LENGTH = 32;
    /** Longest value any instrument has. */
    public static final int MAX_VALUE_LENGTH = VALUE_FIXED_LENGTH + SYMBOL_LENGTH + 1 + 20;

    /** How many instruments version {@code version} lists: indexes {@code 0 .. count-1}. */
    public static int instrumentCount(long version) {
        if (version < 1 || version > (SYMBOL_SPACE - INITIAL_INSTRUMENTS) / LISTED_PER_VERSION) {
            throw new IllegalArgumentException("version " + version + " is outside what the demo data covers");
        }
        return INITIAL_INSTRUMENTS + LISTED_PER_VERSION * (int) (version - 1);
    }

    /** The symbol of instrument {@code index}. */
    public static byte[] symbol(int index) {
        byte[] s = new byte[SYMBOL_LENGTH];
        MemorySegment seg = MemorySegment.ofArray(s);
        symbolInto(index, seg, 0);
        return s;
    }

    // A bijection of 0..SYMBOL_SPACE-1 (7919 is prime to 26^4 = 2^4 * 13^4), so symbols look
    // scattered yet never repeat.
    private static void symbolInto(int index, MemorySegment dst, long at) {
        if (index < 0 || index >= SYMBOL_SPACE) {
            throw new IllegalArgumentException("instrument index " + index + " outside 0.." + (SYMBOL_SPACE - 1));
        }
        long p = (index * 7919L + 12_345) % SYMBOL_SPACE;
        for (int i = 3; i >= 0; i--) {
            dst.set(ValueLayout.JAVA_BYTE, at + i, (byte) ('A' + p % 26));
            p /= 26;
        }
        dst.set(ValueLayout.JAVA_BYTE, at + 4, (byte) '.');
        dst.set(ValueLayout.JAVA_BYTE, at + 5, VENUES[index & 3]);
    }

    /**
     * Writes the value of instrument {@code index} in version {@code version} into {@code dst}
     * (at least {@link #MAX_VALUE_LENGTH} bytes); returns its length. Allocates nothing.
     */
    public static int valueInto(long version, int index, MemorySegment dst) {
        byte[] description = DESCRIPTIONS[index % DESCRIPTIONS.length];
        int nameLength = SYMBOL_LENGTH + 1 + description.length;
        dst.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, version);
        dst.set(ValueLayout.JAVA_INT_UNALIGNED, 8, index);
        dst.set(ValueLayout.JAVA_INT_UNALIGNED, 12, LOT_SIZES[(index >>> 2) % LOT_SIZES.length]);
        dst.set(ValueLayout.JAVA_LONG_UNALIGNED, 16, 1_000_000L + index * 7919L % 5_000_000L + 25L * version);
        dst.set(ValueLayout.JAVA_INT_UNALIGNED, 24, TICK_SIZES[index % TICK_SIZES.length]);
        dst.set(ValueLayout.JAVA_INT_UNALIGNED, 28, nameLength);
        symbolInto(index, dst, VALUE_FIXED_LENGTH);
        dst.set(ValueLayout.JAVA_BYTE, VALUE_FIXED_LENGTH + SYMBOL_LENGTH, (byte) ' ');
        MemorySegment.copy(description, 0, dst, ValueLayout.JAVA_BYTE, VALUE_FIXED_LENGTH + SYMBOL_LENGTH + 1, description.length);
        return VALUE_FIXED_LENGTH + nameLength;
    }

    /** The value of instrument {@code index} in version {@code version}, as an array. */
    public static byte[] value(long version, int index) {
        MemorySegment scratch = MemorySegment.ofArray(new byte[MAX_VALUE_LENGTH]);
        int length = valueInto(version, index, scratch);
        return scratch.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /** A writer holding every instrument of version {@code version}. */
    public static SnapshotWriter table(long version) {
        SnapshotWriter w = new SnapshotWriter();
        for (int i = 0, n = instrumentCount(version); i < n; i++) {
            w.put(symbol(i), value(version, i));
        }
        return w;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
