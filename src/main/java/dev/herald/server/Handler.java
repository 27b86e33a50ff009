package dev.herald.server;

/**
 * Answers requests. Called on the connection's event loop: a handler that needs to block hands the work to its
 * own executor and calls {@link Exchange#respond} from there.
 */
@FunctionalInterface
public interface Handler {
    void handle(Exchange exchange) throws Exception;
}
