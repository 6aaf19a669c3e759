/**
 * Sluice's public types: the exception hierarchy, ring interfaces, handlers and wait strategies.
 * Depends on nothing but {@code java.base}.
 */
module io.sluice.api {
    exports io.sluice.api;
}
