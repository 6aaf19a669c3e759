package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The launcher reads a histogram from a JVM peer (encoded) or from the native peer (a file of raw values). */
class PeerResultsTest {
    @TempDir
    Path dir;

    @Test
    void aJvmPeersHistogramIsDecoded() throws Exception {
        Histogram h = Histograms.newHistogram();
        h.recordValue(300);
        h.recordValue(4000);
        Properties p = new Properties();
        p.setProperty("histogram.measured", Histograms.encode(h));
        assertEquals(h, PeerResults.histogram(p, "histogram.measured"));
    }

    @Test
    void theNativePeersValuesAreRecordedAndTheirFileDeleted() throws Exception {
        long[] values = {276, 301, 1_000_000, 276};
        ByteBuffer bytes = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            bytes.putLong(v);
        }
        Path bin = dir.resolve("sluice-c-java-r1-A-measured.bin");
        Files.write(bin, bytes.array());
        Properties p = new Properties();
        p.setProperty("histogram.measured.bin", bin.toString());

        Histogram h = PeerResults.histogram(p, "histogram.measured");

        assertEquals(values.length, h.getTotalCount());
        assertEquals(2, h.getCountAtValue(276));
        assertEquals(h.highestEquivalentValue(1_000_000), h.getMaxValue());
        assertFalse(Files.exists(bin), "read once, then deleted");
    }
}
