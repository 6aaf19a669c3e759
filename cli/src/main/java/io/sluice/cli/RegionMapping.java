package io.sluice.cli;

/**
 * One line of {@code /proc/PID/maps} that maps a Sluice memfd.
 *
 * @param start  first address
 * @param end    address after the last byte
 * @param perms  the kernel's four letters: {@code r}, {@code w}, {@code x} or {@code -}, then
 *               {@code s} (shared) or {@code p} (private, copy-on-write)
 * @param offset offset in the memfd of the first byte mapped
 * @param inode  the memfd's inode
 * @param name   the region name, without the {@code sluice:} prefix (peer-chosen text)
 */
record RegionMapping(long start, long end, String perms, long offset, long inode, String name) {

    long length() {
        return end - start;
    }

    /**
     * Whether a store through this mapping reaches the region: writable and shared. A private
     * writable mapping writes to its own copy-on-write pages, never to the region.
     */
    boolean writesRegion() {
        return perms.length() == 4 && perms.charAt(1) == 'w' && perms.charAt(3) == 's';
    }
}
