package dev.herald.chat;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.JdkClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Herald's own chat (the default wiring, SQLite in the data directory) keeps its history across a restart. */
class ChatRestartTest {
    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic");

    @Test
    void historySurvivesARestart() throws Exception {
        String text = "before the restart " + UUID.randomUUID();
        HttpResult posted = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate()).send("POST", "/msgs",
                Map.of("content-type", "application/json"),
                ("{\"user\":\"ada\",\"text\":\"" + text + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThat(posted.status()).as(posted.toString()).isEqualTo(201);

        HERALD.stop();
        HERALD.start();

        JdkClient client = JdkClient.h2(HERALD.tlsPort(), HERALD.certificate());
        HttpResponse<InputStream> r = client.client().send(HttpRequest.newBuilder(client.uri("/msgs")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String first = lines.readLine();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(first).startsWith("{\"msg\":[").contains(text).contains("\"user\":\"ada\"");
        }
    }
}
