package io.sluice.memfd.libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The one place that calls {@link Linker#downcallHandle}: every libc function Sluice uses is
 * bound here, by the classes of this package and nowhere else.
 *
 * <p>Package-private on purpose. Native access is granted to the module that binds the handle
 * ({@code --enable-native-access=io.sluice.memfd}); a public factory would let any module that
 * can read this package bind arbitrary symbols under that grant. Other modules get typed calls
 * ({@link SocketCalls}, {@link FutexCalls}, ...) and nothing more.
 */
final class Downcalls {
    private Downcalls() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /**
     * A handle for {@code name} that captures errno in the same native call: the handle takes
     * {@link Errno#buffer()} as an extra first argument, so nothing the JVM does between the call
     * and the check can overwrite the value.
     */
    static MethodHandle capturingErrno(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol '" + name + "'"));
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        return LINKER.downcallHandle(symbol, descriptor, all);
    }

    /** A handle without errno capture, or empty if this libc lacks the symbol. */
    static Optional<MethodHandle> optional(String name, FunctionDescriptor descriptor) {
        return LIBC.find(name).map(s -> LINKER.downcallHandle(s, descriptor));
    }

    /**
     * What a {@code catch (Throwable)} around {@code invokeExact} rethrows: the handles declare
     * {@code Throwable}, but a downcall only ever throws unchecked exceptions and errors.
     */
    static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
