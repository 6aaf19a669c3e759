package io.sluice.channel;

import io.sluice.fdpassing.PeerCredentials;

import java.util.Set;

/**
 * Who may attach, judged on the kernel's {@code SO_PEERCRED} record of the connecting process
 * (which it cannot forge). A peer is admitted if its uid is listed, or its gid is listed, and —
 * when pids are listed — its pid is one of them.
 *
 * <p>The default, {@link #sameUser()}, admits only processes running as the host's own uid.
 */
public record AccessPolicy(Set<Integer> uids, Set<Integer> gids, Set<Integer> pids) {
    public AccessPolicy {
        uids = Set.copyOf(uids);
        gids = Set.copyOf(gids);
        pids = Set.copyOf(pids);
        if (uids.isEmpty() && gids.isEmpty()) {
            throw new IllegalArgumentException("an access policy must admit at least one uid or gid");
        }
    }

    /** Only processes of the host's own uid (the default). */
    public static AccessPolicy sameUser() {
        return new AccessPolicy(Set.of(currentUid()), Set.of(), Set.of());
    }

    /** Processes of any of these uids. */
    public static AccessPolicy uids(Integer... uids) {
        return new AccessPolicy(Set.of(uids), Set.of(), Set.of());
    }

    /** Adds admitted gids. */
    public AccessPolicy orGids(Integer... more) {
        Set<Integer> g = new java.util.HashSet<>(gids);
        g.addAll(Set.of(more));
        return new AccessPolicy(uids, g, pids);
    }

    /** Additionally restricts to these pids. */
    public AccessPolicy onlyPids(Integer... only) {
        return new AccessPolicy(uids, gids, Set.of(only));
    }

    /** Whether the peer is admitted. */
    public boolean admits(PeerCredentials peer) {
        boolean who = uids.contains(peer.uid()) || gids.contains(peer.gid());
        return who && (pids.isEmpty() || pids.contains(peer.pid()));
    }

    /**
     * Why a peer was not admitted, for the refusal text: in terms of the peer's own credentials
     * only, never the policy's (who else is admitted is not the peer's business).
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
