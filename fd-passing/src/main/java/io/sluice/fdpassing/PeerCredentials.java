package io.sluice.fdpassing;

/**
 * Who is at the other end of a Unix socket, as the kernel recorded it at {@code connect(2)}
 * ({@code SO_PEERCRED}): the peer cannot forge these.
 *
 * @param pid the peer's process id at connect time
 * @param uid its effective user id
 * @param gid its effective group id
 */
public record PeerCredentials(int pid, int uid, int gid) {
    @Override
    public String toString() {
        return "pid " + pid + ", uid " + uid + ", gid " + gid;
    }
}
