/**
 * Views of Sluice payloads and claims as other libraries' buffer types, over the same bytes:
 * Agrona's {@code DirectBuffer} and {@code MutableDirectBuffer} (what SBE codecs encode into and
 * decode from), and Chronicle Bytes. Re-pointing a view allocates nothing.
 */
module io.sluice.views {
    requires transitive io.sluice.api;
    requires transitive org.agrona;
    requires static chronicle.bytes;
    exports io.sluice.views.agrona;
}
