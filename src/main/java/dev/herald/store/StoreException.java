package dev.herald.store;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

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

    /**
     * The failure a store future completed with, out of the {@code CompletionException} or {@code ExecutionException}
     * that {@code whenComplete} or {@code get} wraps it in.
     */
    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
