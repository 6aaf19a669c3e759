/**
 * memfd regions, seals and mappings through FFM downcalls to libc.
 * This is the only Sluice module that calls the {@code Linker}: run with
 * {@code --enable-native-access=io.sluice.memfd} (or {@code ALL-UNNAMED} on the class path).
 */
module io.sluice.memfd {
    requires transitive io.sluice.api;
    exports io.sluice.memfd;
    // The raw libc bindings: fd-passing builds its socket calls on them, so that native access
    // stays confined to this one module; the examples use them to show what the kernel refuses.
    // Never exported to everyone: Libc.downcall would let any module call native code without
    // having been granted native access itself.
    exports io.sluice.memfd.libc to io.sluice.fdpassing, io.sluice.examples;
}
