/*
 * errors.c: how the client reports failure. Every public function returns a code and leaves a
 * message in a sluice_error that names what failed, where and why; a failed system call carries
 * its errno and the errno's name. Also the names of codes, refusal reasons and ring kinds.
 */
#include "sluice_internal.h"

__attribute__((format(printf, 3, 4)))
int sli_fail(sluice_error *e, int code, const char *fmt, ...) {
    if (e != NULL) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        e->refusal = 0;
        e->sys_errno = 0;
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A failed system call: "<call>: EPERM (Operation not permitted)". errno as it was. */
__attribute__((format(printf, 3, 4)))
int sli_fail_sys(sluice_error *e, int err, const char *fmt, ...) {
    if (e != NULL) {
        char what[600];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        e->code = SLUICE_ESYSCALL;
        e->refusal = 0;
        e->sys_errno = err;
        snprintf(e->message, sizeof e->message, "%s: %s (%s)", what, sluice_errno_name(err), strerror(err));
    }
    return SLUICE_ESYSCALL;
}

const char *sluice_errno_name(int err) {
    switch (err) {
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case ESRCH: return "ESRCH";
        case EINTR: return "EINTR";
        case EIO: return "EIO";
        case ENXIO: return "ENXIO";
        case E2BIG: return "E2BIG";
        case EBADF: return "EBADF";
        case EAGAIN: return "EAGAIN";
        case ENOMEM: return "ENOMEM";
        case EACCES: return "EACCES";
        case EFAULT: return "EFAULT";
        case EBUSY: return "EBUSY";
        case EEXIST: return "EEXIST";
        case ENODEV: return "ENODEV";
        case ENOTDIR: return "ENOTDIR";
        case EISDIR: return "EISDIR";
        case EINVAL: return "EINVAL";
        case ENFILE: return "ENFILE";
        case EMFILE: return "EMFILE";
        case ETXTBSY: return "ETXTBSY";
        case EFBIG: return "EFBIG";
        case ENOSPC: return "ENOSPC";
        case ESPIPE: return "ESPIPE";
        case EROFS: return "EROFS";
        case EPIPE: return "EPIPE";
        case ERANGE: return "ERANGE";
        case EDEADLK: return "EDEADLK";
        case ENAMETOOLONG: return "ENAMETOOLONG";
        case ENOSYS: return "ENOSYS";
        case ELOOP: return "ELOOP";
        case EOVERFLOW: return "EOVERFLOW";
        case ENOTSOCK: return "ENOTSOCK";
        case EMSGSIZE: return "EMSGSIZE";
        case EPROTOTYPE: return "EPROTOTYPE";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case EAFNOSUPPORT: return "EAFNOSUPPORT";
        case EADDRINUSE: return "EADDRINUSE";
        case ENETDOWN: return "ENETDOWN";
        case ECONNABORTED: return "ECONNABORTED";
        case ECONNRESET: return "ECONNRESET";
        case ENOBUFS: return "ENOBUFS";
        case EISCONN: return "EISCONN";
        case ENOTCONN: return "ENOTCONN";
        case ETIMEDOUT: return "ETIMEDOUT";
        case ECONNREFUSED: return "ECONNREFUSED";
        default: return "errno ?";
    }
}

const char *sluice_refusal_name(int reason) {
    switch (reason) {
        case SLUICE_REFUSED_UNKNOWN_CHANNEL: return "UNKNOWN_CHANNEL";
        case SLUICE_REFUSED_ROLE_NOT_ALLOWED: return "ROLE_NOT_ALLOWED";
        case SLUICE_REFUSED_VERSION_MISMATCH: return "VERSION_MISMATCH";
        case SLUICE_REFUSED_ACCESS_DENIED: return "ACCESS_DENIED";
        case SLUICE_REFUSED_CHANNEL_FULL: return "CHANNEL_FULL";
        case SLUICE_REFUSED_MALFORMED: return "MALFORMED";
        case SLUICE_REFUSED_BAD_REGION: return "BAD_REGION";
        case SLUICE_REFUSED_TIMEOUT: return "TIMEOUT";
        case SLUICE_REFUSED_INTERNAL: return "INTERNAL";
        case SLUICE_REFUSED_CONNECTION_LIMIT: return "CONNECTION_LIMIT";
        case SLUICE_REFUSED_CHANNEL_CORRUPT: return "CHANNEL_CORRUPT";
        case SLUICE_REFUSED_BAD_POSITION: return "BAD_POSITION";
        case SLUICE_REFUSED_CHANNEL_CLOSED: return "CHANNEL_CLOSED";
        case SLUICE_REFUSED_STUCK: return "STUCK";
        default: return "UNKNOWN_REASON";
    }
}

const char *sluice_code_name(int code) {
    switch (code) {
        case SLUICE_OK: return "SLUICE_OK";
        case SLUICE_FULL: return "SLUICE_FULL";
        case SLUICE_ESYSCALL: return "SLUICE_ESYSCALL";
        case SLUICE_EREFUSED: return "SLUICE_EREFUSED";
        case SLUICE_EPROTOCOL: return "SLUICE_EPROTOCOL";
        case SLUICE_EREGION: return "SLUICE_EREGION";
        case SLUICE_ELAYOUT: return "SLUICE_ELAYOUT";
        case SLUICE_ECORRUPT: return "SLUICE_ECORRUPT";
        case SLUICE_EHOSTGONE: return "SLUICE_EHOSTGONE";
        case SLUICE_ETIMEOUT: return "SLUICE_ETIMEOUT";
        case SLUICE_EARGUMENT: return "SLUICE_EARGUMENT";
        case SLUICE_ESTATE: return "SLUICE_ESTATE";
        case SLUICE_ESLOTLOST: return "SLUICE_ESLOTLOST";
        case SLUICE_ABSENT: return "SLUICE_ABSENT";
        case SLUICE_ECONTENDED: return "SLUICE_ECONTENDED";
        case SLUICE_EENDED: return "SLUICE_EENDED";
        default: return "SLUICE_E?";
    }
}

const char *sli_kind_name(uint32_t kind) {
    switch (kind) {
        case SLUICE_KIND_SPSC: return "SPSC";
        case SLUICE_KIND_BROADCAST_BACKPRESSURE: return "BROADCAST_BACKPRESSURE";
        case SLUICE_KIND_BROADCAST_OVERWRITE: return "BROADCAST_OVERWRITE";
        case SLUICE_KIND_MPMC: return "MPMC";
        default: return "unknown kind";
    }
}

int sli_fail_record(sluice_channel *ch, int64_t position, const char *fmt, ...) {
    char problem[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    if (ch->kind == SLUICE_KIND_SPSC) {
        return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: record at position %lld (data offset %lld): %s", ch->what,
                        (long long) position, (long long) (position & ch->u.spsc.mask), problem);
    }
    return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: corrupt record at position %lld (offset %lld): %s", ch->what,
                    (long long) position, (long long) (position & ch->u.bc.mask), problem);
}
