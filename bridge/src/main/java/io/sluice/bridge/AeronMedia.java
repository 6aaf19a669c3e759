package io.sluice.bridge;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Aeron a bridge talks through: a media driver embedded in this process (the default: one
 * process, nothing else to run) or an external one already running, reached through its
 * directory. Closes what it opened, once; a driver it embedded removes its directory on close
 * (a process killed with SIGKILL leaves it behind: docs/bridge.md).
 */
public final class AeronMedia implements AutoCloseable {
    private final MediaDriver driver; // null: an external driver
    private final Aeron aeron;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AeronMedia(MediaDriver driver, Aeron aeron) {
        this.driver = driver;
        this.aeron = aeron;
    }

    /**
     * Starts a media driver in this process, one thread for all its work, and connects to it.
     *
     * @param directory the driver's directory, or null for Aeron's default (a fresh directory
     *                  under /dev/shm where it exists)
     * @return the media, to close when the bridge is done
     */
    public static AeronMedia embedded(String directory) {
        MediaDriver.Context ctx = new MediaDriver.Context()
                .threadingMode(ThreadingMode.SHARED)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true);
        if (directory != null) {
            ctx.aeronDirectoryName(directory);
        }
        MediaDriver driver = MediaDriver.launchEmbedded(ctx);
        try {
            return new AeronMedia(driver, Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName())));
        } catch (RuntimeException e) {
            driver.close();
            throw e;
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
        return new AeronMedia(null, Aeron.connect(new Aeron.Context().aeronDirectoryName(directory)));
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

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            aeron.close();
        } finally {
            if (driver != null) {
                driver.close();
            }
        }
    }
}
