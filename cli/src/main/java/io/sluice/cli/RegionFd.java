package io.sluice.cli;

import io.sluice.memfd.Seal;

import java.util.Set;

/**
 * One open fd of a process whose target is a Sluice memfd ({@code /proc/PID/fd/N ->
 * /memfd:sluice:NAME (deleted)}).
 *
 * @param fd       the fd number in that process
 * @param inode    the memfd's inode: the key that tells regions apart (names need not be unique)
 * @param name     the region name, without the {@code sluice:} prefix, as the kernel reports it
 *                 (peer-chosen text: escape before printing)
 * @param size     the memfd's size in bytes now
 * @param writable whether the fd was opened for writing ({@code O_WRONLY} or {@code O_RDWR} in
 *                 {@code /proc/PID/fdinfo/N}); a read-only fd cannot be mapped writable
 * @param seals    the memfd's seals, or {@code null} if they could not be read through this fd
 */
record RegionFd(int fd, long inode, String name, long size, boolean writable, Set<Seal> seals) {
}
