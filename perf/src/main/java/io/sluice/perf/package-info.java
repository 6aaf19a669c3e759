/** Benchmarks of Sluice against its peers and the machine's own limit. */
package io.sluice.perf;
