/*
 * packet.c: one handshake message is one SOCK_SEQPACKET packet, with its fds as SCM_RIGHTS
 * (docs/protocol.md, Transport). Receiving takes fds close-on-exec, reserves room for the
 * kernel's maximum, refuses a truncated packet (closing whatever fds came with it), and owns
 * every fd it hands over until the caller takes it.
 */
#include "sluice_internal.h"

/* Closes fd if it is one, and forgets its number: no fd is ever closed twice or used after its close. */
void sli_close_fd(int *fd) {
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Closes every fd the packet brought (each exactly once). */
void sli_close_fds(sli_packet *p) {
    for (int i = 0; i < p->nfds; i++) {
        sli_close_fd(&p->fds[i]);
    }
    p->nfds = 0;
}

/*
 * Receives one packet within timeout_ms: fds taken with MSG_CMSG_CLOEXEC, control space for the
 * kernel's maximum of 253; a packet with MSG_TRUNC or MSG_CTRUNC is refused (its fds closed).
 */
int sli_recv_packet(int sock, sli_packet *p, int timeout_ms, const char *waiting_for, sluice_error *e) {
    p->len = 0;
    p->nfds = 0;
    int64_t deadline = sli_monotonic_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - sli_monotonic_ms();
        if (left < 0) {
            left = 0;
        }
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        int r = poll(&pfd, 1, (int) left);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sli_fail_sys(e, errno, "poll on the host connection");
        }
        if (r == 0) {
            return sli_fail(e, SLUICE_ETIMEOUT, "no %s from the host within %d ms", waiting_for, timeout_ms);
        }
        break;
    }
    union {
        char buf[CMSG_SPACE(SLI_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = p->buf, .iov_len = sizeof p->buf};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    ssize_t n;
    do {
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == ECONNRESET) {
            return sli_fail(e, SLUICE_EHOSTGONE, "the host reset the connection while we waited for %s", waiting_for);
        }
        return sli_fail_sys(e, errno, "recvmsg (waiting for %s)", waiting_for);
    }
    if (m.msg_controllen > 0) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) {
                continue;
            }
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            const unsigned char *d = CMSG_DATA(c);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, d + i * sizeof(int), sizeof fd);
                if (p->nfds < SLI_MAX_FDS) {
                    p->fds[p->nfds++] = fd;
                } else {
                    close(fd);
                }
            }
        }
    }
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        int fds = p->nfds;
        sli_close_fds(p);
        const char *flags = (m.msg_flags & MSG_TRUNC) && (m.msg_flags & MSG_CTRUNC) ? "MSG_TRUNC|MSG_CTRUNC"
                            : (m.msg_flags & MSG_TRUNC)                             ? "MSG_TRUNC"
                                                                                    : "MSG_CTRUNC";
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's %s was truncated (%s; %d fds closed): longer than the "
                        "protocol's %d bytes or %d fds", waiting_for, flags, fds, SLI_MAX_MESSAGE_BYTES, SLI_MAX_FDS);
    }
    if (n == 0) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EHOSTGONE, "the host closed the connection while we waited for %s", waiting_for);
    }
    p->len = (size_t) n;
    return SLUICE_OK;
}

int sli_send_packet(int sock, const uint8_t *buf, size_t len, int fd, const char *what, sluice_error *e) {
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = (void *) buf, .iov_len = len};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        m.msg_control = control.buf;
        m.msg_controllen = sizeof control.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &m, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EPIPE || errno == ECONNRESET) {
            return sli_fail(e, SLUICE_EHOSTGONE, "the host closed the connection before our %s", what);
        }
        return sli_fail_sys(e, errno, "sendmsg (%s)", what);
    }
    if ((size_t) n != len) {
        return sli_fail(e, SLUICE_ESYSCALL, "sendmsg (%s): sent %zd of %zu bytes", what, n, len);
    }
    return SLUICE_OK;
}
