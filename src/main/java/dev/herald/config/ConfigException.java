package dev.herald.config;

/**
 * A configuration value that Herald cannot use. The message is one line naming the key, the value and what is
 * expected, for example {@code http2.max-concurrent-streams: 0 (expected: an integer >= 1)}.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
