package io.sluice.bridge;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.concurrent.AgentInvoker;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The Aeron a bridge talks through: a media driver embedded in this process (the default: one
 * process, nothing else to run) or an external one already running, reached through its
 * directory. Closes what it opened, once; a driver it embedded removes its directory on close
 * (a process killed with SIGKILL leaves it behind: docs/bridge.md).
 */
public final class AeronMedia implements AutoCloseable {
    private final MediaDriver driver; // null: an external driver
    private final Aeron aeron;
    private final AgentInvoker invoker; // an invoked driver: its duty cycle, run by invokeDriver()
    private final AtomicBoolean helperRuns; // an invoked driver: true while the helper thread runs it
    private final Thread helper;
    private boolean driverHere; // runDriverHere's caller, the one thread that invokes the driver from then on
    private final AtomicBoolean closed = new AtomicBoolean();

    private AeronMedia(MediaDriver driver, Aeron aeron, AgentInvoker invoker, AtomicBoolean helperRuns, Thread helper) {
        this.driver = driver;
        this.aeron = aeron;
        this.invoker = invoker;
        this.helperRuns = helperRuns;
        this.helper = helper;
    }

    /**
     * Starts a media driver in this process, one thread for all its work, and connects to it.
     *
     * @param directory the driver's directory, or null for Aeron's default (a fresh directory
     *                  under /dev/shm where it exists)
     * @return the media, to close when the bridge is done
     */
    public static AeronMedia embedded(String directory) {
        MediaDriver driver = launch(directory, ThreadingMode.SHARED);
        try {
            return new AeronMedia(driver, Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName())), null, null, null);
        } catch (RuntimeException e) {
            driver.close();
            throw e;
        }
    }

    /**
     * Starts a media driver in this process with no thread of its own (Aeron's INVOKER mode): the
     * application's thread runs its duty cycle through {@link #invokeDriver()}, so a bridge and its
     * driver share one core. Until {@link #runDriverHere()} a helper thread runs it, so that
     * connecting and adding publications and subscriptions can complete.
     *
     * @param directory the driver's directory, or null for Aeron's default
     * @return the media, to close when the bridge is done
     */
    public static AeronMedia invoked(String directory) {
        MediaDriver driver = launch(directory, ThreadingMode.INVOKER);
        AgentInvoker invoker = driver.sharedAgentInvoker();
        AtomicBoolean helperRuns = new AtomicBoolean(true);
        Thread helper = Thread.ofPlatform().name("aeron-driver-setup").daemon().start(() -> {
            while (helperRuns.get()) {
                if (invoker.invoke() == 0) {
                    LockSupport.parkNanos(100_000);
                }
            }
        });
        try {
            return new AeronMedia(driver, Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName())),
                    invoker, helperRuns, helper);
        } catch (RuntimeException e) {
            stop(helperRuns, helper);
            driver.close();
            throw e;
        }
    }

    /** A driver in this process, in {@code directory} (null: Aeron's default), removed on close. */
    private static MediaDriver launch(String directory, ThreadingMode mode) {
        MediaDriver.Context ctx = new MediaDriver.Context()
                .threadingMode(mode)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true);
        if (directory != null) {
            ctx.aeronDirectoryName(directory);
        }
        return MediaDriver.launchEmbedded(ctx);
    }

    /**
     * For an {@link #invoked} driver: stops the helper thread; from now on only the calling
     * thread runs the driver, through {@link #invokeDriver()}. Does nothing for other drivers.
     */
    public void runDriverHere() {
        if (helper != null) {
            stop(helperRuns, helper); // join: the helper's last invoke happens-before ours
            driverHere = true;
        }
    }

    /**
     * Runs one duty cycle of an {@link #invoked} driver (send, receive, flow control) once
     * {@link #runDriverHere()} was called; does nothing otherwise.
     *
     * @return the work the driver did (0: none)
     */
    public int invokeDriver() {
        return driverHere ? invoker.invoke() : 0;
    }

    private static void stop(AtomicBoolean runs, Thread thread) {
        runs.set(false);
        try {
            thread.join(10_000); // it ends within one duty cycle and a 100 us park
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Connects to a media driver that runs on its own (Aeron's {@code MediaDriver} or the C
     * driver), through its directory.
     *
     * @param directory the driver's directory ({@code aeron.dir})
     * @return the media, to close when the bridge is done (the driver goes on)
     */
    public static AeronMedia external(String directory) {
        return new AeronMedia(null, Aeron.connect(new Aeron.Context().aeronDirectoryName(directory)), null, null, null);
    }

    /** {@return the Aeron client} */
    public Aeron aeron() {
        return aeron;
    }

    /** {@return the driver's directory} */
    public String directory() {
        return aeron.context().aeronDirectoryName();
    }

    /** {@return whether the driver runs in this process} */
    public boolean isEmbedded() {
        return driver != null;
    }

    /** {@return "Aeron embedded, DIR" or "Aeron external, DIR"} */
    @Override
    public String toString() {
        return "Aeron " + (isEmbedded() ? "embedded, " : "external, ") + directory();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        runDriverHere();
        try {
            aeron.close();
        } finally {
            if (driver != null) {
                driver.close();
            }
        }
    }
}
