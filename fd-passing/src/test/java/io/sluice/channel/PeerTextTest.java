package io.sluice.channel;

import io.sluice.api.ChannelNames;
import io.sluice.api.RefusalReason;
import io.sluice.api.UntrustedText;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Text a peer sends is never trusted: one name rule for every side, and whatever a peer wrote
 * comes back (and goes to logs) escaped.
 */
class PeerTextTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void oneNameRuleForHostingAndAttaching() {
        for (String bad : new String[] {"", "a b", "a/b", "new\nline", "esc\u001b[2J", "nul\u0000", "caf\u00e9", "x".repeat(129)}) {
            assertThrows(IllegalArgumentException.class, () -> ChannelNames.validate(bad), bad);
        }
        ChannelNames.validate("md.eurusd-1_A:B");
        ChannelNames.validate("x".repeat(128));
        try (ChannelHost host = ChannelHost.bind(dir.resolve("names.sock"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> host.spsc("x".repeat(129), SpscOptions.of(4096)));
            assertTrue(e.getMessage().contains("129 characters, longer than 128"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> host.spsc("bad\nname", SpscOptions.of(4096)));
            assertTrue(e.getMessage().contains("bad\\nname"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> Channels.spsc(dir.resolve("names.sock"), "a b").close(), "refused before connecting");
        }
    }

    @Test
    void aHelloWithAForgedLogLineIsRefusedWithTheNameEscaped() throws Exception {
        Path socket = dir.resolve("forge.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            host.spsc("orders", SpscOptions.of(4096));
            String forged = "orders\n2026-12-04 INFO attached \u001b[2Jroot";
            Handshake.Refuse r = refusalFor(socket, rawHello(forged.getBytes(StandardCharsets.UTF_8)));
            assertEquals(RefusalReason.MALFORMED, r.reason());
            assertFalse(r.text().contains("\n") || r.text().contains("\u001b"), r.text());
            assertTrue(r.text().contains("orders\\n2026-12-04 INFO attached \\x1b[2Jroot"), r.text());
            // an over-long name (the old host hosted names no peer could ask for)
            r = refusalFor(socket, rawHello("y".repeat(200).getBytes(StandardCharsets.UTF_8)));
            assertEquals(RefusalReason.MALFORMED, r.reason());
            // invalid UTF-8 / non-ASCII bytes
            r = refusalFor(socket, rawHello(new byte[] {'a', (byte) 0xC3, (byte) 0x28}));
            assertEquals(RefusalReason.MALFORMED, r.reason());
            assertTrue(r.text().contains("a\\xc3("), r.text());
        }
    }

    @Test
    void escapingKeepsPrintableTextAndNeutralisesTheRest() {
        assertEquals("plain text 123", UntrustedText.escape("plain text 123"));
        assertEquals("a\\nb\\rc\\td\\\\e\\x1b[0m\\x00\\x7f\\u2028", UntrustedText.escape("a\nb\rc\td\\e\u001b[0m\u0000\u007f\u2028"));
        String longText = "z".repeat(10_000);
        assertTrue(UntrustedText.escape(longText).length() < 600);
        assertTrue(UntrustedText.escape(longText).endsWith("...(10000 characters)"));
    }

    /** A HELLO for a consumer of {@code name}, bytes as given: no check of length or content. */
    static byte[] rawHello(byte[] name) {
        ByteBuffer b = ByteBuffer.allocate(HandshakeDescriptor.HELLO_NAME_OFFSET + name.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(HandshakeDescriptor.MAGIC_OFFSET, HandshakeDescriptor.MAGIC);
        b.putShort(HandshakeDescriptor.VERSION_OFFSET, (short) HandshakeDescriptor.PROTOCOL_VERSION);
        b.putShort(HandshakeDescriptor.TYPE_OFFSET, (short) HandshakeDescriptor.HELLO);
        b.putShort(HandshakeDescriptor.HELLO_ROLE_OFFSET, (short) 1);
        b.putShort(HandshakeDescriptor.HELLO_NAME_LENGTH_OFFSET, (short) name.length);
        b.put(HandshakeDescriptor.HELLO_NAME_OFFSET, name);
        return b.array();
    }

    private static Handshake.Refuse refusalFor(Path socket, byte[] hello) {
        try (SeqPacketSocket s = SeqPacketSocket.connect(socket)) {
            s.send(hello);
            try (ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, WAIT)) {
                return Handshake.decodeRefuse(m.data(), "host");
            }
        }
    }
}
