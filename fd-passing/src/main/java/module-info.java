/**
 * Unix-domain SOCK_SEQPACKET sockets with SCM_RIGHTS fd passing and SO_PEERCRED, and the
 * verified hand-over of memfd regions between processes.
 */
module io.sluice.fdpassing {
    requires transitive io.sluice.api;
    requires transitive io.sluice.memfd;
    requires transitive io.sluice.ringbuffer;
    requires jdk.jfr;
    exports io.sluice.fdpassing;
    exports io.sluice.channel;
}
