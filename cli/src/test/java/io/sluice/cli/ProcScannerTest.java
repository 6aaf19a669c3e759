package io.sluice.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcScannerTest {

    @Test
    void readsASluiceMapsLine() {
        RegionMapping m = ProcScanner.parseMapsLine(
                "7f0a2c000000-7f0a2c010000 rw-s 00002000 00:01 849759                     /memfd:sluice:md quotes (deleted)");
        assertEquals(new RegionMapping(0x7f0a2c000000L, 0x7f0a2c010000L, "rw-s", 0x2000, 849759, "md quotes"), m);
        assertEquals(0x10000, m.length());
        assertTrue(m.writesRegion());
    }

    @Test
    void aPrivateOrReadOnlyMappingDoesNotWriteTheRegion() {
        assertFalse(ProcScanner.parseMapsLine("1000-2000 r--s 00000000 00:01 5 /memfd:sluice:a (deleted)").writesRegion());
        assertFalse(ProcScanner.parseMapsLine("1000-2000 rw-p 00000000 00:01 5 /memfd:sluice:a (deleted)").writesRegion());
    }

    @Test
    void ignoresOtherLinesAndMalformedOnes() {
        assertNull(ProcScanner.parseMapsLine("7f0a2c000000-7f0a2c010000 rw-s 00000000 00:01 849759 /memfd:other (deleted)"));
        assertNull(ProcScanner.parseMapsLine("7f0a2c000000-7f0a2c010000 r-xp 00000000 08:01 1234 /usr/lib/libc.so.6"));
        assertNull(ProcScanner.parseMapsLine("7f0a2c000000-7f0a2c010000 rw-p 00000000 00:00 0"));
        assertNull(ProcScanner.parseMapsLine("zz-7f0a2c010000 rw-s 00000000 00:01 849759 /memfd:sluice:x (deleted)"));
        assertNull(ProcScanner.parseMapsLine("7f0a2c000000 rw-s 00000000 00:01 849759 /memfd:sluice:x (deleted)"));
        assertNull(ProcScanner.parseMapsLine(""));
    }

    @Test
    void findsTheMainOfAJavaCommandLine() {
        assertEquals("a.B", ProcScanner.javaMain(new String[] {"/usr/bin/java", "-Xmx1g", "-cp", "x.jar:y", "--add-opens", "m/p=ALL-UNNAMED", "a.B", "arg"}));
        assertEquals("m/a.B", ProcScanner.javaMain(new String[] {"java", "--module-path", "mods", "-m", "m/a.B"}));
        assertEquals("m/a.B", ProcScanner.javaMain(new String[] {"java", "--module=m/a.B"}));
        assertEquals("app.jar", ProcScanner.javaMain(new String[] {"java", "-jar", "/opt/x/app.jar"}));
        assertEquals("a.B", ProcScanner.javaMain(new String[] {"java", "@argfile", "--enable-native-access=ALL-UNNAMED", "a.B"}));
        assertEquals("", ProcScanner.javaMain(new String[] {"python3", "x.py"}));
        assertEquals("", ProcScanner.javaMain(new String[] {"java", "-version"}));
        assertEquals("", ProcScanner.javaMain(new String[] {"java", "-jar"}));
        assertEquals("", ProcScanner.javaMain(new String[0]));
    }
}
