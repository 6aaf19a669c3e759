/**
 * A live shared map with exactly one writer: an off-heap open-addressing hash table in one
 * memfd, written by its owner only and mapped read-only by readers in other processes.
 */
package io.sluice.cache.map;
