package dev.herald.store;

/** The event log was closed (the server is shutting down): the work was not done. An HTTP layer answers 503. */
public final class StoreClosedException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** With a message that names the closed log. */
    public StoreClosedException(String message) {
        super(message);
    }
}
