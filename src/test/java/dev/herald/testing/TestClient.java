package dev.herald.testing;

import java.util.Map;

/** A real HTTP client bound to one protocol and one running Herald. */
public interface TestClient {
    /** The protocol label, for test names: h2, h2c-upgrade, h2c-prior-knowledge, http/1.1, https/1.1. */
    String name();

    HttpResult send(String method, String path, Map<String, String> headers, byte[] body) throws Exception;

    default HttpResult get(String path) throws Exception {
        return send("GET", path, Map.of(), null);
    }

    default HttpResult get(String path, Map<String, String> headers) throws Exception {
        return send("GET", path, headers, null);
    }

    /**
     * Releases the client's connections. Deliberately not {@link AutoCloseable}: JUnit closes AutoCloseable
     * arguments of parameterized tests after each invocation, and the clients are shared by a whole class.
     */
    default void close() throws Exception {
    }
}
