/**
 * Views of Sluice payloads and claims as Agrona's buffer types, over the same bytes:
 * {@code DirectBuffer} and {@code MutableDirectBuffer}, what SBE codecs encode into and decode
 * from. Re-pointing a view allocates nothing.
 */
module io.sluice.views {
    requires transitive io.sluice.api;
    requires transitive org.agrona;
    exports io.sluice.views.agrona;
}
