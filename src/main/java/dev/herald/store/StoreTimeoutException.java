package dev.herald.store;

/**
 * The store did not answer: not in time, or the connection to it broke after the command was sent. The work may or
 * may not have been done (a command sent to Redis can still be applied after the client gave up on it, or have been
 * applied just before its reply was lost). Unlike the other {@link StoreException}s, retrying blindly can store an
 * event twice; an HTTP layer answers 504 and tells the client to check (resume from its last id) first.
 */
public final class StoreTimeoutException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** With a message for the user and the client's timeout. */
    public StoreTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
