/**
 * Unix-domain {@code SOCK_SEQPACKET} sockets that carry file descriptors ({@code SCM_RIGHTS}),
 * peer credentials ({@code SO_PEERCRED}), and the verified hand-over of memfd regions.
 */
package io.sluice.fdpassing;
