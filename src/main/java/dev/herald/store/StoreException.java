package dev.herald.store;

/** The event log could not do what was asked: a database or I/O error (the cause says which). */
public class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** With a message for the user and the underlying cause. */
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    /** With a message for the user. */
    public StoreException(String message) {
        super(message);
    }
}
