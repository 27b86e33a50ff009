package dev.herald.store;

/**
 * The event log's bounded queue is full: the work was not done and nothing was stored. Transient; an HTTP layer
 * answers 503 with Retry-After.
 */
public final class StoreOverloadedException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** With a message that names the full queue and its capacity. */
    public StoreOverloadedException(String message) {
        super(message);
    }
}
