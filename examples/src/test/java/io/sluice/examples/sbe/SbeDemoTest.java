package io.sluice.examples.sbe;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The SBE-style demo as a user runs it ({@code -Ddemo=sbe}), with 200,000 quotes: the decoding
 * JVM finds every quote intact and in order, and the summary says OK.
 */
class SbeDemoTest {
    @Test
    void everyQuoteEncodedInPlaceDecodesIntactInTheOtherJvm() throws Exception {
        try (ChildJvm demo = ChildJvm.launcher(SbeDemo.class).withoutStdin().start("200000")) {
            assertEquals(0, demo.waitFor(180), () -> "the demo failed; its output:\n" + demo.output());
            List<String> decoder = demo.lines("  decoder pid ");
            assertEquals(1, decoder.size(), demo::output);
            assertEquals(true, decoder.get(0).contains("decoded 200,000 in place") || decoder.get(0).contains("decoded 200000 in place"),
                    decoder.get(0));
            assertEquals(List.of("  OK"), demo.lines("  OK"), demo::output);
        }
    }
}
