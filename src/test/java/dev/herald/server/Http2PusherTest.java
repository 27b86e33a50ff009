package dev.herald.server;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class Http2PusherTest {
    @ParameterizedTest
    @ValueSource(strings = {"localhost", "localhost:8443", "127.0.0.1:1", "[::1]:8443", "[::1]", "example.com",
            "a-b.example.com:65535"})
    void aWellFormedAuthorityMayBePromised(String authority) {
        assertThat(Http2Pusher.servedAuthority(authority)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "user@localhost", "localhost:", "localhost:0", "localhost:123456", "local host",
            "localhost/x", "-bad", "[::1", "a.example:80:80"})
    void aMalformedAuthorityIsNeverPromised(String authority) {
        assertThat(Http2Pusher.servedAuthority(authority)).isFalse();
    }

    @org.junit.jupiter.api.Test
    void noAuthorityIsNeverPromised() {
        assertThat(Http2Pusher.servedAuthority(null)).isFalse();
    }
}
