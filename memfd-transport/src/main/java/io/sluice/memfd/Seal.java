package io.sluice.memfd;

import java.util.EnumSet;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The memfd file seals ({@code fcntl(F_ADD_SEALS)}), with their kernel bit values. Once added, a
 * seal can never be removed, by anyone: that is what lets a receiver trust them.
 */
public enum Seal {
    /** No further seals may be added. */
    SEAL(0x0001),
    /** The file may not shrink: no peer can SIGBUS another by truncating. */
    SHRINK(0x0002),
    /** The file may not grow. */
    GROW(0x0004),
    /** No writes at all, through any mapping or {@code write(2)}; fails with EBUSY while a writable shared mapping exists. */
    WRITE(0x0008),
    /** No new writable mappings or {@code write(2)}; existing writable mappings keep working (Linux 5.1). */
    FUTURE_WRITE(0x0010),
    /** The exec permission bits may not change (Linux 6.3; implied by {@code MFD_NOEXEC_SEAL}). */
    EXEC(0x0020);

    private final int bit;

    Seal(int bit) {
        this.bit = bit;
    }

    /**
     * The {@code F_SEAL_*} bit.
     *
     * @return the bit, as {@code fcntl(F_GET_SEALS)} reports it
     */
    public int bit() {
        return bit;
    }

    /**
     * The kernel bit mask of a set of seals.
     *
     * @param seals any set, may be empty
     * @return the bits or-ed together
     */
    public static int mask(Set<Seal> seals) {
        int m = 0;
        for (Seal s : seals) {
            m |= s.bit;
        }
        return m;
    }

    /**
     * The seals set in a kernel bit mask (unknown bits are ignored).
     *
     * @param mask bits as {@code fcntl(F_GET_SEALS)} returns them
     * @return the seals, a new set
     */
    public static EnumSet<Seal> fromMask(int mask) {
        EnumSet<Seal> set = EnumSet.noneOf(Seal.class);
        for (Seal s : values()) {
            if ((mask & s.bit) != 0) {
                set.add(s);
            }
        }
        return set;
    }

    /**
     * {@code SHRINK|GROW|FUTURE_WRITE} style text, for messages.
     *
     * @param seals any set
     * @return the names joined by {@code |}, or {@code none} for the empty set
     */
    public static String describe(Set<Seal> seals) {
        if (seals.isEmpty()) {
            return "none";
        }
        StringJoiner j = new StringJoiner("|");
        for (Seal s : seals) {
            j.add(s.name());
        }
        return j.toString();
    }
}
