/**
 * The ring algorithms (SPSC, broadcast, MPMC) and their layouts, over any {@code MemorySegment}.
 * Knows nothing of memfds or sockets.
 */
module io.sluice.ringbuffer {
    requires transitive io.sluice.api;
    exports io.sluice.ringbuffer;
}
