/**
 * memfd regions, seals and mappings through FFM downcalls to libc.
 * This is the only Sluice module that calls the {@code Linker}: run with
 * {@code --enable-native-access=io.sluice.memfd} (or {@code ALL-UNNAMED} on the class path).
 */
module io.sluice.memfd {
    requires transitive io.sluice.api;
    exports io.sluice.memfd;
    // The typed system calls (io.sluice.memfd.libc): fd-passing builds its sockets, polling and
    // futex parking on them, so that native access stays confined to this one module. Exported to
    // fd-passing only: the package binds native code under this module's native-access grant, so
    // every module it reaches could make those calls without a grant of its own.
    exports io.sluice.memfd.libc to io.sluice.fdpassing;
}
