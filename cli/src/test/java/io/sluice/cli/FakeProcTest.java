package io.sluice.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sluice ps} over a made-up {@code /proc} whose process chose hostile names: what it
 * prints must not carry a control character to the terminal, and its JSON must stay one line.
 */
class FakeProcTest {

    @Test
    void peerChosenTextIsEscapedInTheTableAndInJson(@TempDir Path proc) throws Exception {
        Files.createDirectories(proc.resolve("self"));
        Path p = Files.createDirectories(proc.resolve("4242"));
        Files.createDirectories(p.resolve("fd"));
        Files.writeString(p.resolve("comm"), "evil\u001b]0;pwned\u0007\n", StandardCharsets.ISO_8859_1);
        Files.write(p.resolve("cmdline"), "java\0-cp\0x.jar\0a.Main\"\nforged\0".getBytes(StandardCharsets.UTF_8));
        Files.writeString(p.resolve("maps"),
                "7f0000000000-7f0000001000 rw-s 00000000 00:01 99 /memfd:sluice:ring\u001b[2J (deleted)\n"
                        + "7f0000002000-7f0000003000 r-xp 00000000 08:01 12 /usr/lib/libc.so.6\n",
                StandardCharsets.ISO_8859_1);

        String table = run(proc, "ps");
        assertFalse(table.chars().anyMatch(c -> c < 0x20 && c != '\n'), table);
        assertTrue(table.contains("ring\\x1b[2J"), table);
        assertTrue(table.contains("evil\\x1b]0;pwned\\x07 a.Main\"\\nforged"), table);
        assertTrue(table.contains(" 4096 "), "size from the mapping when no fd is held: " + table);

        String json = run(proc, "ps", "--json");
        assertEquals(1, json.lines().count(), json);
        assertTrue(json.contains("\"name\":\"ring\\u001b[2J\""), json);
        assertTrue(json.contains("\"comm\":\"evil\\u001b]0;pwned\\u0007\",\"mainClass\":\"a.Main\\\"\\nforged\""), json);
    }

    private static String run(Path proc, String... args) {
        StringWriter out = new StringWriter();
        CommandLine cmd = SluiceCommand.commandLine(proc);
        cmd.setOut(new PrintWriter(out, true));
        StringWriter err = new StringWriter();
        cmd.setErr(new PrintWriter(err, true));
        assertEquals(0, cmd.execute(args), err.toString());
        return out.toString();
    }
}
