package dev.herald.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.herald.config.HeraldConfig;
import dev.herald.server.TlsSetup;
import dev.herald.store.Event;
import dev.herald.store.EventId;
import dev.herald.store.Retention;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** rediss:// against a real redis-server with a self-signed certificate, and a password. */
class RedisTlsTest {
    private static final Retention RETENTION = new Retention(1000, Duration.ofHours(1));

    @TempDir
    Path dir;

    @Test
    void rediss() throws Exception {
        TlsSetup tls = TlsSetup.load(HeraldConfig.builder().dataDir(dir).build());
        Path cert = tls.certFile();
        Path key = cert.resolveSibling("herald-key.pem");
        try (RedisServer redis = RedisServer.start(dir, false, true, cert, key)) {
            assertThat(redis.url()).startsWith("rediss://");
            try (RedisEventLog log = RedisEventLog.open(redis.url(), RETENTION, Optional.empty(), Optional.of(cert))) {
                assertThat(log.where()).contains("TLS");
                BlockingQueue<Event> tailed = new LinkedBlockingQueue<>();
                log.tail(tailed::add);
                log.interest("secure").ready().get(5, TimeUnit.SECONDS);
                Event e = log.append("secure", "{\"tls\":true}").get(5, TimeUnit.SECONDS);
                assertThat(tailed.poll(10, TimeUnit.SECONDS)).isEqualTo(e);
                assertThat(log.readAfter("secure", EventId.ZERO, 10).get(5, TimeUnit.SECONDS).events())
                        .isEqualTo(List.of(e));
            }
            // Without trusting the self-signed certificate, the connection is refused, not silently unverified.
            assertThatThrownBy(() -> RedisEventLog.open(redis.url(), RETENTION, Optional.empty(), Optional.empty()))
                    .isInstanceOf(RedisUnavailableException.class);
        }
    }
}
