package io.sluice.bridge;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's help, usage errors and failures: exit codes and what it says. */
class BridgeCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = BridgeCommand.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Test
    void helpOnEveryCommandExitsZero() {
        assertEquals(0, run("--help"));
        assertEquals(0, run("out", "--help"));
        assertEquals(0, run("in", "--help"));
        assertTrue(out.toString().contains("--aeron-channel=URI"), out.toString());
        assertTrue(out.toString().contains("--policy=POLICY"), out.toString());
    }

    @Test
    void usageErrorsExitTwoNamingWhatIsWrong() {
        assertEquals(2, run());
        assertTrue(err.toString().contains("Missing a command"), err.toString());
        assertEquals(2, run("out", "--socket", "s"));
        assertTrue(err.toString().contains("Missing required options"), err.toString());
        assertEquals(2, run("out", "--socket", "s", "--channel", "c", "--aeron-channel", "aeron:udp?endpoint=127.0.0.1:1",
                "--policy", "DROP", "--drop-after", "soon"));
        assertTrue(err.toString().contains("'soon' is not a duration"), err.toString());
    }

    @Test
    void aFailureExitsOneWithOneLine() {
        Path missing = dir.resolve("nobody-here.sock");
        assertEquals(1, run("out", "--socket", missing.toString(), "--channel", "md",
                "--aeron-channel", "aeron:udp?endpoint=127.0.0.1:1", "--embedded-dir", dir.resolve("aeron").toString()));
        String said = err.toString().trim();
        assertTrue(said.startsWith("bridge out: ") && said.contains(missing.toString()) && !said.contains("\n"), said);
    }
}
