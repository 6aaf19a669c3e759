/**
 * Lock-free rings over a {@link java.lang.foreign.MemorySegment}: SPSC, broadcast and MPMC.
 * Each layout is described byte by byte in {@code docs/layout.md} and on its descriptor class.
 */
package io.sluice.ringbuffer;
