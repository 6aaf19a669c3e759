package io.sluice.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonWriterTest {

    @Test
    void placesCommasAndNests() {
        String json = new JsonWriter().beginObject()
                .name("a").value(1)
                .name("b").beginArray().value(true).nullValue().beginObject().endObject().beginArray().endArray().endArray()
                .name("c").value((String) null)
                .endObject().toString();
        assertEquals("{\"a\":1,\"b\":[true,null,{},[]],\"c\":null}", json);
    }

    @Test
    void escapesWhatAPeerCouldUseToForgeOutput() {
        String hostile = "q\"b\\n\nr\rt\t\b\f\u0000\u001b[2J\u007f\u0085\u2028\u2029";
        assertEquals("[\"q\\\"b\\\\n\\nr\\rt\\t\\b\\f\\u0000\\u001b[2J\\u007f\\u0085\\u2028\\u2029\"]",
                new JsonWriter().beginArray().value(hostile).endArray().toString());
    }

    @Test
    void keepsPairedSurrogatesAndEscapesLoneOnes() {
        String text = "\ud83d\ude00 \ud83d x \ude00";
        assertEquals("\"\ud83d\ude00 \\ud83d x \\ude00\"", new JsonWriter().value(text).toString());
    }

    @Test
    void escapesNamesToo() {
        assertEquals("{\"a\\nb\":\"\"}", new JsonWriter().beginObject().name("a\nb").value("").endObject().toString());
    }
}
