/**
 * Views of Sluice payloads and claims as the buffer types of other libraries, over the same
 * bytes: Agrona's {@code DirectBuffer} and {@code MutableDirectBuffer} (what SBE codecs encode
 * into and decode from), and Chronicle Bytes' {@code BytesIn} and {@code Bytes} (what a
 * {@code BytesMarshallable} reads and writes). Re-pointing a view allocates nothing. Chronicle
 * is optional: only an application that uses {@code io.sluice.views.chronicle} needs it, and it
 * then requires {@code chronicle.bytes} itself (not transitive here: a module that reads this one
 * would otherwise need Chronicle on its module path to compile, whether it uses it or not).
 */
module io.sluice.views {
    requires transitive io.sluice.api;
    requires transitive org.agrona;
    requires static chronicle.bytes;
    requires static chronicle.core;
    exports io.sluice.views.agrona;
    exports io.sluice.views.chronicle;
}
