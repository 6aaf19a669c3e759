package io.sluice.perf.cache;

import net.openhft.chronicle.map.ChronicleMap;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Chronicle Map configured as the Sluice caches are sized: {@code Long} keys (8 bytes), 64-byte
 * {@code byte[]} values of constant size, room for exactly the entries put. {@code put} returns
 * null (no copy of the old value is made), so an update allocates nothing on Chronicle's side.
 * Chronicle's JVMs need the flags in {@link #JVM_FLAGS}.
 */
public final class ChronicleMaps {
    /**
     * What Chronicle Map 2026.1 (with Chronicle Core 2026.5, Bytes 2026.4, Values 2026.2) needs on
     * JDK 25, found by starting it without each flag:
     * <ul>
     *   <li>required: {@code --add-opens java.base/java.lang} (it defines the classes it generates
     *       with {@code ClassLoader.defineClass}), {@code --add-opens java.base/java.lang.reflect}
     *       (it reads its builder's private fields), {@code --add-exports
     *       jdk.compiler/com.sun.tools.javac.file} (Chronicle Values compiles those classes with
     *       javac at run time: a full JDK is needed, not a JRE), {@code --add-exports
     *       java.base/sun.nio.ch};</li>
     *   <li>for a clean log: {@code --add-exports java.base/jdk.internal.ref} (else a warning about
     *       its ByteBuffer cleaner), {@code --sun-misc-unsafe-memory-access=allow} and
     *       {@code --enable-native-access=ALL-UNNAMED} (its JNR/JNA dependencies), and
     *       {@code -Dchronicle.analytics.disable=true}.</li>
     * </ul>
     * Keep in step with the {@code @Fork} flags of the cache benchmarks (annotations take constants only).
     */
    public static final String[] JVM_FLAGS = {
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "--enable-native-access=ALL-UNNAMED",
            "-Dchronicle.analytics.disable=true",
    };

    private ChronicleMaps() {
    }

    /** An off-heap map in this process only, for {@code entries} entries. */
    public static ChronicleMap<Long, byte[]> inMemory(String name, int entries) {
        return builder(name, entries).create();
    }

    /** Puts every entry of {@code data} into {@code map}, the same values the Sluice rows hold; returns the map. */
    public static ChronicleMap<Long, byte[]> fill(ChronicleMap<Long, byte[]> map, CacheData data) {
        for (int i = 0; i < data.entries(); i++) {
            long k = data.key(i);
            map.put(k, CacheData.value(k));
        }
        return map;
    }

    /**
     * A map persisted to {@code file} (in {@code /dev/shm} for the cross-process rows): the first
     * process creates it, the others open the same file with the same configuration and share its
     * pages.
     */
    public static ChronicleMap<Long, byte[]> persisted(String name, int entries, File file) {
        try {
            return builder(name, entries).createPersistedTo(file);
        } catch (IOException e) {
            throw new UncheckedIOException("Chronicle Map in " + file, e);
        }
    }

    private static net.openhft.chronicle.map.ChronicleMapBuilder<Long, byte[]> builder(String name, int entries) {
        return ChronicleMap.of(Long.class, byte[].class)
                .name(name)
                .entries(entries)
                .constantValueSizeBySample(new byte[CacheData.VALUE_LENGTH])
                .putReturnsNull(true)
                .removeReturnsNull(true);
    }
}
