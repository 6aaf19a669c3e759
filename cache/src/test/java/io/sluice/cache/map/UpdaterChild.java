package io.sluice.cache.map;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The sender JVM of {@link SharedMapCrossProcessTest#updatesFromAnotherJvmAreAllAppliedInOrder}:
 * {@code args[2]} senders, each on its own thread with its own {@link SharedMapUpdater}, send
 * {@code args[3]} updates each ({@link #updates}), waiting out back-pressure, then a last PUT of
 * {@code s<sender>-done}.
 */
public final class UpdaterChild {
    /** One update of sender {@code s}: PUT (value non-null) or REMOVE of key. */
    record Update(String key, byte[] value) {
    }

    static List<Update> updates(int sender, int count) {
        List<Update> list = new ArrayList<>(count + 1);
        for (int i = 0; i < count; i++) {
            String key = "s" + sender + "-k" + (i * 7 % 37);
            list.add(i % 5 == 4 ? new Update(key, null)
                    : new Update(key, ("s" + sender + "-v" + i).getBytes(StandardCharsets.US_ASCII)));
        }
        list.add(new Update("s" + sender + "-done", Integer.toString(count).getBytes(StandardCharsets.US_ASCII)));
        return list;
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String channel = args[1];
        int senders = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            int sender = s;
            threads.add(Thread.ofPlatform().start(() -> {
                long deadline = System.nanoTime() + 60_000_000_000L;
                long full = 0;
                try (SharedMapUpdater u = SharedMapUpdater.attach(socket, channel)) {
                    for (Update up : updates(sender, count)) {
                        while (!(up.value() == null ? u.offerRemove(up.key()) : u.offerPut(up.key(), up.value()))) {
                            full++; // back-pressure: the owner drains at its own pace
                            if (System.nanoTime() > deadline) {
                                throw new AssertionError("sender " + sender + ": the channel stayed full for 60 s");
                            }
                            Thread.onSpinWait();
                        }
                    }
                    System.out.println("SENT " + sender + " full=" + full);
                } catch (Throwable t) {
                    synchronized (failures) {
                        failures.add(t);
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            failures.forEach(t -> t.printStackTrace(System.out));
            System.exit(1);
        }
        System.out.println("DONE");
    }
}
