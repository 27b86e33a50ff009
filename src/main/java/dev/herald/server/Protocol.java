package dev.herald.server;

/** The protocol a request arrived on, as the access log names it. */
public enum Protocol {
    /** HTTP/2 over TLS, negotiated by ALPN. */
    H2("h2"),
    /** HTTP/2 over cleartext TCP, by prior knowledge or by {@code Upgrade: h2c}. */
    H2C("h2c"),
    /** HTTP/1.1 over TLS. */
    HTTPS_1_1("https/1.1"),
    /** HTTP/1.1 over cleartext TCP. */
    HTTP_1_1("http/1.1");

    private final String label;

    Protocol(String label) {
        this.label = label;
    }


    @Override
    public String toString() {
        return label;
    }
}
