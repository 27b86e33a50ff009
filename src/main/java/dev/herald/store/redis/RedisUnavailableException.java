package dev.herald.store.redis;

import dev.herald.store.StoreException;

/**
 * Redis could not be reached (down, restarting, network cut): the command was not sent, so not run. Transient; an
 * HTTP layer answers 503 with Retry-After. (A command sent but not answered, in time or before the connection broke,
 * fails with {@link dev.herald.store.StoreTimeoutException} instead: it may have run.)
 */
public final class RedisUnavailableException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** With a message for the user (it names the Redis host, never its credentials) and the client's error. */
    public RedisUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
