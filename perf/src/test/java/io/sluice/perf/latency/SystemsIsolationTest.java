package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SystemsIsolationTest {
    /**
     * The launcher's JVM has only the harness's jars (HdrHistogram, XChart and the Sluice
     * modules), and each peer JVM only its own: the registry and every system's description must
     * load without any peer library.
     */
    @Test
    void systemDescriptionsLoadWithoutAnyPeerLibrary() throws Exception {
        URL[] harness = {location(Systems.class), location(Histogram.class), location(io.sluice.api.MessageHandler.class),
                location(io.sluice.ringbuffer.SpscRing.class), location(io.sluice.memfd.MemfdRegion.class),
                location(io.sluice.channel.ChannelHost.class)};
        try (URLClassLoader bare = new URLClassLoader(harness, ClassLoader.getPlatformClassLoader())) {
            Class<?> systems = Class.forName(Systems.class.getName(), true, bare);
            List<?> all = (List<?>) systems.getField("ALL").get(null);
            assertTrue(all.size() >= 6);
            for (Object s : all) {
                Class<?> type = s.getClass();
                String id = (String) type.getMethod("id").invoke(s);
                assertTrue(!id.isBlank());
                type.getMethod("label").invoke(s);
                type.getMethod("scenarios").invoke(s);
                type.getMethod("classpathSets").invoke(s);
                type.getMethod("jvmArgs").invoke(s);
                type.getMethod("nativeSide").invoke(s);
            }
        }
    }

    private static URL location(Class<?> type) {
        return type.getProtectionDomain().getCodeSource().getLocation();
    }

    @Test
    void idsAreUniqueAndFoundByName() {
        for (LatencySystem s : Systems.ALL) {
            assertEquals(s, Systems.byId(s.id()));
        }
        assertEquals(Systems.ALL.size(), Systems.ALL.stream().map(LatencySystem::id).distinct().count());
    }

    @Test
    void theRatioColumnsStillReferToTheSpscRow() {
        // SummaryWriter divides by the first sluice* row: the C client rows come after it.
        assertEquals("sluice-spsc", Systems.ALL.stream().map(LatencySystem::id).filter(id -> id.startsWith("sluice"))
                .findFirst().orElseThrow());
    }

    @Test
    void onlyTwoProcessRowsHaveANativeSide() {
        for (LatencySystem s : Systems.ALL) {
            if (s.nativeSide().isPresent()) {
                assertEquals(LatencySystem.Kind.IPC, s.kind(), s.id());
            }
        }
    }

    @Test
    void aJvmNeverOpensTheSideTheNativePeerRuns() {
        LatencySystem cJava = Systems.byId("sluice-c-java");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cJava.open(Role.INITIATOR, null));
        assertEquals("sluice-c-java: side A is the native peer, not a JVM", e.getMessage());
    }
}
