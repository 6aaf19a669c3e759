package io.sluice.channel;

import io.sluice.fdpassing.PeerCredentials;

import java.util.Set;

/**
 * Who may attach, judged on the kernel's {@code SO_PEERCRED} record of the connecting process
 * (which it cannot forge). A peer is admitted if its uid is listed, or its gid is listed, and —
 * when pids are listed — its pid is one of them.
 *
 * <p>The default, {@link #sameUser()}, admits only processes running as the host's own uid.
 * Immutable, so safe to share between hosts and threads.
 *
 * @param uids admitted user ids (copied)
 * @param gids admitted group ids (copied); uids and gids must not both be empty
 * @param pids if not empty, the only process ids admitted (copied)
 */
public record AccessPolicy(Set<Integer> uids, Set<Integer> gids, Set<Integer> pids) {
    /**
     * Copies the sets.
     *
     * @throws IllegalArgumentException if no uid and no gid is admitted
     * @throws NullPointerException     if a set or an element is null
     */
    public AccessPolicy {
        uids = Set.copyOf(uids);
        gids = Set.copyOf(gids);
        pids = Set.copyOf(pids);
        if (uids.isEmpty() && gids.isEmpty()) {
            throw new IllegalArgumentException("an access policy must admit at least one uid or gid");
        }
    }

    /**
     * Only processes of the host's own uid (the default).
     *
     * @return a policy admitting the uid this JVM runs as
     */
    public static AccessPolicy sameUser() {
        return new AccessPolicy(Set.of(currentUid()), Set.of(), Set.of());
    }

    /**
     * Processes of any of these uids.
     *
     * @param uids the user ids, at least one
     * @return the policy
     */
    public static AccessPolicy uids(Integer... uids) {
        return new AccessPolicy(Set.of(uids), Set.of(), Set.of());
    }

    /**
     * Adds admitted gids.
     *
     * @param more group ids to admit as well
     * @return a new policy; this one is unchanged
     */
    public AccessPolicy orGids(Integer... more) {
        Set<Integer> g = new java.util.HashSet<>(gids);
        g.addAll(Set.of(more));
        return new AccessPolicy(uids, g, pids);
    }

    /**
     * Additionally restricts to these pids.
     *
     * @param only the process ids, replacing any listed before
     * @return a new policy; this one is unchanged
     */
    public AccessPolicy onlyPids(Integer... only) {
        return new AccessPolicy(uids, gids, Set.of(only));
    }

    /**
     * Whether the peer is admitted.
     *
     * @param peer the connecting process's credentials
     * @return true if it may attach
     */
    public boolean admits(PeerCredentials peer) {
        boolean who = uids.contains(peer.uid()) || gids.contains(peer.gid());
        return who && (pids.isEmpty() || pids.contains(peer.pid()));
    }

    /**
     * Why a peer was not admitted, for the refusal text: in terms of the peer's own credentials
     * only, never the policy's (who else is admitted is not the peer's business).
     *
     * @param peer a peer this policy does not admit
     * @return the reason, naming only the peer's uid, gid or pid
     */
    public String explain(PeerCredentials peer) {
        if (!uids.contains(peer.uid()) && !gids.contains(peer.gid())) {
            return "uid " + peer.uid() + " gid " + peer.gid() + " is not admitted";
        }
        return "pid " + peer.pid() + " is not admitted";
    }

    static int currentUid() {
        try {
            return (Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("reading this process's uid from /proc/self", e);
        }
    }
}
