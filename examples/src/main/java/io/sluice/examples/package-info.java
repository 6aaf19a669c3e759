/** Runnable demonstrations of Sluice; each has a one-line command in the README. */
package io.sluice.examples;
