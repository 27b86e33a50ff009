package dev.herald.server;

/** Fired through every connection's pipeline when graceful shutdown starts. */
final class ShutdownEvent {
    static final ShutdownEvent INSTANCE = new ShutdownEvent();

    private ShutdownEvent() {
    }
}
