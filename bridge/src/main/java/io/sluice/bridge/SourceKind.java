package io.sluice.bridge;

/** How the out side attaches to its local channel. */
public enum SourceKind {
    /** As one more consumer of a broadcast channel: the channel's other consumers go on as before. */
    BROADCAST,
    /** As the consumer of an SPSC channel: the bridge takes the one consumer's place. */
    SPSC
}
