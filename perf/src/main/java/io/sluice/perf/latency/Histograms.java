package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.DataFormatException;

/** Histogram helpers: the one shape every latency is recorded in, and its text encodings. */
public final class Histograms {
    /** Highest trackable value: one hour in nanoseconds. */
    public static final long HIGHEST_NS = 3_600_000_000_000L;

    private Histograms() {
    }

    /** A histogram of nanoseconds with three significant digits. */
    public static Histogram newHistogram() {
        return new Histogram(HIGHEST_NS, 3);
    }

    /** HdrHistogram's compressed encoding, in base64. */
    public static String encode(Histogram h) {
        ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int length = h.encodeIntoCompressedByteBuffer(buffer);
        byte[] bytes = new byte[length];
        buffer.flip();
        buffer.get(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    public static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("not an encoded histogram: " + e.getMessage(), e);
        }
    }

    /** The {@code .hgrm} text (percentile distribution, values in ns). */
    public static String hgrm(Histogram h) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            h.outputPercentileDistribution(out, 5, 1.0);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
