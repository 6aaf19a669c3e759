package io.sluice.perf.latency.systems;

/** The bytes after the 8-byte value that every sender writes into every message. */
final class Payload {
    private Payload() {
    }

    /** {@code messageSize - 8} bytes of a recognisable pattern. */
    static byte[] of(int messageSize) {
        byte[] b = new byte[messageSize - 8];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }
}
