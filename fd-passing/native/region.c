/*
 * region.c: shared memory at the edges of the handshake. A received fd is checked before it is
 * mapped (a memfd, an access mode that allows the mapping, the seals, and only then the size);
 * a mapped region's common header is checked before anything else in it is read; and the
 * consumer's own position region is created, sized and sealed before it is sent.
 */
#include "sluice_internal.h"

static void seals_describe(int seals, char *out, size_t n) {
    static const struct {
        int bit;
        const char *name;
    } names[] = {{F_SEAL_SEAL, "SEAL"}, {F_SEAL_SHRINK, "SHRINK"}, {F_SEAL_GROW, "GROW"}, {F_SEAL_WRITE, "WRITE"},
                 {F_SEAL_FUTURE_WRITE, "FUTURE_WRITE"}, {F_SEAL_EXEC, "EXEC"}};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (seals & names[i].bit) {
            int w = snprintf(out + used, n - used, "%s%s", used ? "|" : "", names[i].name);
            if (w < 0 || (size_t) w >= n - used) {
                return;
            }
            used += (size_t) w;
        }
    }
    if (used == 0) {
        snprintf(out, n, "none");
    }
}

static const char *file_type(mode_t m) {
    if (S_ISREG(m)) return "regular file";
    if (S_ISDIR(m)) return "directory";
    if (S_ISFIFO(m)) return "pipe";
    if (S_ISSOCK(m)) return "socket";
    if (S_ISCHR(m)) return "character device";
    if (S_ISBLK(m)) return "block device";
    if (S_ISLNK(m)) return "symbolic link";
    return "file of unknown type";
}

/* How a region is to be mapped: read-only (SPSC and broadcast consumers) or read-write (MPMC). */

/*
 * Checks a received fd before mapping it (docs/protocol.md, WELCOME), in an order that leaves a
 * hostile sender no window: (1) fstat: a regular file; /proc/self/fd/N: /memfd:...; its access
 * mode allows the mapping we need; (2) F_GET_SEALS: at least `seals`, which must include
 * SHRINK|GROW; (3) only now, with the size final, fstat again: exactly `size` bytes. A size read
 * before the seals were verified means nothing: the sender could shrink the memfd, then seal it,
 * between the two, and a mapping of the promised size would then fault (SIGBUS) past the end.
 */
int sli_verify_memfd(int fd, int seals, uint64_t size, int use, const char *what, sluice_error *e) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return sli_fail_sys(e, errno, "fstat of the %s (fd %d)", what, fd);
    }
    if (!S_ISREG(st.st_mode)) {
        return sli_fail(e, SLUICE_EREGION, "the %s (fd %d) is a %s, not a memfd", what, fd, file_type(st.st_mode));
    }
    char path[64];
    char target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) {
        return sli_fail_sys(e, errno, "readlink %s (the %s)", path, what);
    }
    target[n] = '\0';
    char shown[SLI_ESCAPED_TEXT / 4]; /* the target and the memfd name are the sender's words: escaped */
    static const char memfd_prefix[] = "/memfd:"; /* how the kernel names a memfd's target */
    const size_t prefix_length = sizeof memfd_prefix - 1;
    if (strncmp(target, memfd_prefix, prefix_length) != 0) {
        sli_escape_untrusted((const uint8_t *) target, (size_t) n, shown, sizeof shown);
        return sli_fail(e, SLUICE_EREGION, "the %s (fd %d) is %s (a regular file), not a memfd", what, fd, shown);
    }
    char *deleted = strstr(target, " (deleted)");
    if (deleted != NULL) {
        *deleted = '\0';
    }
    sli_escape_untrusted((const uint8_t *) target + prefix_length, strlen(target + prefix_length), shown, sizeof shown);
    const char *name = shown;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) {
        return sli_fail_sys(e, errno, "F_GETFL on memfd '%s' (the %s)", name, what);
    }
    int accmode = flags & O_ACCMODE;
    if (accmode == O_WRONLY) {
        return sli_fail(e, SLUICE_EREGION, "memfd '%s' (the %s) is open O_WRONLY: it cannot be mapped for reading", name, what);
    }
    if (use == MAP_FOR_WRITING && accmode != O_RDWR) {
        return sli_fail(e, SLUICE_EREGION, "memfd '%s' (the %s) is open O_RDONLY, but this role writes the ring: it needs "
                        "O_RDWR", name, what);
    }
    SLI_TEST_HOOK("data-region-before-seals", fd);
    int have = fcntl(fd, F_GET_SEALS);
    if (have < 0) {
        return sli_fail_sys(e, errno, "F_GET_SEALS on memfd '%s' (the %s)", name, what);
    }
    if ((have & seals) != seals) {
        char h[80], need[80];
        seals_describe(have, h, sizeof h);
        seals_describe(seals & ~have, need, sizeof need);
        return sli_fail(e, SLUICE_EREGION, "memfd '%s' (the %s) has seals %s, missing %s", name, what, h, need);
    }
    /* SHRINK|GROW are on (seals includes them): the size read now is the size for good. */
    if (fstat(fd, &st) != 0) {
        return sli_fail_sys(e, errno, "fstat of memfd '%s' (the %s), after its seals", name, what);
    }
    if (st.st_size < 0 || (uint64_t) st.st_size != size) {
        return sli_fail(e, SLUICE_EREGION, "memfd '%s' (the %s) is %lld bytes, the host promised %llu", name, what,
                        (long long) st.st_size, (unsigned long long) size);
    }
    return SLUICE_OK;
}

/*
 * The common header every ring region starts with: magic, layout version, the kind expected, the
 * kind's header length, and a power-of-two capacity that fits the region after the header.
 * *capacity is the capacity, read once.
 */
int sli_validate_region_header(const uint8_t *r, size_t size, uint32_t kind, uint32_t header_length, const char *what,
                               int64_t *capacity, sluice_error *e) {
    if (size < SLI_LINE || size < header_length) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: segment of %zu bytes is smaller than the %u-byte header", what, size,
                        header_length > SLI_LINE ? header_length : SLI_LINE);
    }
    uint64_t magic = sli_rd64(r, SLI_REGION_MAGIC_OFFSET);
    if (magic != SLI_REGION_MAGIC) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: bad magic 0x%llx, expected 0x%llx (\"SLUICERB\")", what,
                        (unsigned long long) magic, (unsigned long long) SLI_REGION_MAGIC);
    }
    uint32_t version = sli_rd32(r, SLI_REGION_VERSION_OFFSET);
    if (version != SLUICE_LAYOUT_VERSION) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: layout version %u, this library reads %d", what, version, SLUICE_LAYOUT_VERSION);
    }
    uint32_t k = sli_rd32(r, SLI_REGION_KIND_OFFSET);
    if (k != kind) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: ring kind %s (code %u), expected %s", what, sli_kind_name(k), k, sli_kind_name(kind));
    }
    uint32_t hl = sli_rd32(r, SLI_REGION_HEADER_LENGTH_OFFSET);
    if (hl != header_length) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: header length %u, expected %u", what, hl, header_length);
    }
    int64_t cap = (int64_t) sli_rd64(r, SLI_REGION_CAPACITY_OFFSET);
    if (!sli_is_pow2_64(cap)) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: capacity %lld is not a positive power of two", what, (long long) cap);
    }
    if ((uint64_t) cap > size - header_length) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: capacity %lld plus header %u exceeds the segment's %zu bytes", what,
                        (long long) cap, header_length, size);
    }
    *capacity = cap;
    return SLUICE_OK;
}

/* ---- the consumer's own position region ----------------------------------------------------- */

/* Creates our position region (mode 0600, sized, mapped read-write); *fd_out is its memfd. */
int sli_create_position_region(sluice_channel *ch, int *fd_out, sluice_error *e) {
    char name[SLI_MAX_NAME_BYTES + 64];
    snprintf(name, sizeof name, "sluice:%s.consumer.%ld", ch->name, (long) getpid());
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
    if (fd < 0 && errno == EINVAL) {
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); /* kernel < 6.3: no MFD_NOEXEC_SEAL */
    }
    if (fd < 0) {
        return sli_fail_sys(e, errno, "memfd_create(%s)", name);
    }
    int rc = SLUICE_OK;
    if (fchmod(fd, 0600) != 0) { /* memfds are born 0777 (0666 with MFD_NOEXEC_SEAL) */
        rc = sli_fail_sys(e, errno, "fchmod 0600 of the position region (memfd %s)", name);
    } else if (ftruncate(fd, (off_t) ch->pos_size) != 0) {
        rc = sli_fail_sys(e, errno, "ftruncate of the position region to %zu bytes", ch->pos_size);
    } else {
        void *p = mmap(NULL, ch->pos_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            rc = sli_fail_sys(e, errno, "mmap of the position region");
        } else {
            ch->pos = p;
        }
    }
    if (rc != SLUICE_OK) {
        sli_close_fd(&fd);
        return rc;
    }
    *fd_out = fd;
    return SLUICE_OK;
}

/* Seals our position region: from now on only our existing mapping can write it; then, with the
   seals final, F_SEAL_SEAL, so that nobody holding the fd (the host) can add any more. */
int sli_seal_position_region(int fd, sluice_error *e) {
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) != 0) {
        return sli_fail_sys(e, errno, "F_ADD_SEALS SHRINK|GROW|FUTURE_WRITE on the position region");
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) != 0) {
        return sli_fail_sys(e, errno, "F_ADD_SEALS SEAL on the position region");
    }
    return SLUICE_OK;
}

/* ---- cache regions (snapshot tables, shared maps) ----------------------------------------------- */

/*
 * Checks a cache region's fd (sli_verify_memfd: a memfd, at least `seals`, then, with the size
 * final, exactly `size` bytes), then maps it read-only. Before mapping, the size must hold the
 * layout's `header_length`-byte header (mmap of a region too small to hold one would be refused
 * later anyway; this says why). *out is the mapping. The fd stays the caller's, open or not.
 */
int sli_map_cache_region(int fd, int seals, uint64_t size, size_t header_length, const char *what, const uint8_t **out,
                         sluice_error *e) {
    int rc = sli_verify_memfd(fd, seals, size, MAP_FOR_READING, what, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (size < header_length) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: region of %llu bytes is smaller than the %zu-byte header", what,
                        (unsigned long long) size, header_length);
    }
    if (size > (uint64_t) PTRDIFF_MAX) {
        return sli_fail(e, SLUICE_EREGION, "%s: region of %llu bytes cannot be mapped", what, (unsigned long long) size);
    }
    void *p = mmap(NULL, (size_t) size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        return sli_fail_sys(e, errno, "mmap of the %s (%llu bytes, read-only)", what, (unsigned long long) size);
    }
    *out = p;
    return SLUICE_OK;
}
