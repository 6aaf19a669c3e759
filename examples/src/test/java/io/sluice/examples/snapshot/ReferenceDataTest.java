package io.sluice.examples.snapshot;

import io.sluice.cache.snapshot.SnapshotReader;
import io.sluice.memfd.MemfdRegion;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The demo's data in a sealed table: every instrument of a version is found with its value. */
class ReferenceDataTest {

    @Test
    void referenceDataOfEveryInstrumentIsFoundInASealedMemfd() {
        try (MemfdRegion region = ReferenceData.table(3).build("test.refdata", 3)) {
            SnapshotReader r = SnapshotReader.open(region.mapReadOnly(), region.name());
            r.verify();
            int listed = ReferenceData.instrumentCount(3);
            assertEquals(listed, r.entryCount());
            for (int i = 0; i < listed + 500; i++) {
                MemorySegment v = r.get(ReferenceData.symbol(i));
                if (i < listed) {
                    assertNotNull(v, "instrument " + i);
                    assertArrayEquals(ReferenceData.value(3, i), v.toArray(ValueLayout.JAVA_BYTE), "instrument " + i);
                } else {
                    assertNull(v, "instrument " + i + " is not listed in v3");
                }
            }
        }
    }
}
