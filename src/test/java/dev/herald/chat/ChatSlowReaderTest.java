package dev.herald.chat;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.store.EventLog;
import dev.herald.testing.HeraldExtension;
import dev.herald.testing.JdkClient;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A real client that never reads /msgs while 300 large states go out: it is coalesced, the others are not held up. */
class ChatSlowReaderTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final ObjectMapper JSON = new ObjectMapper();
    static EventLog log;
    static ChatHandler chat;

    @RegisterExtension
    static final HeraldExtension HERALD = HeraldExtension.site("basic").routes(b -> {
        log = ChatLogs.open(ChatSlowReaderTest.HERALD.dataDir());
        chat = new ChatHandler(log, ChatSettings.defaults());
        b.route("/msgs", chat);
    });

    @AfterAll
    static void closeLog() throws Exception {
        chat.close();
        log.close();
    }

    @Test
    void aReaderThatNeverReadsIsCoalescedAndCatchesUpWithTheNewestState() throws Exception {
        JdkClient c = (JdkClient) HERALD.client("h2");
        try (Socket slow = new Socket();
             NdjsonStream fast = NdjsonStream.open(c.client(), c.uri("/msgs"))) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", HERALD.httpPort()), 5000);
            slow.setSoTimeout((int) WAIT.toMillis());
            slow.getOutputStream().write("GET /msgs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(ISO_8859_1));
            fast.next(WAIT);

            String text = "x".repeat(1990);
            String last = null;
            int posts = 300; // each state is ~100 KB: ~30 MB in all, far more than the socket buffers hold
            for (int i = 0; i < posts; i++) {
                HttpResponse<String> r = c.client().send(HttpRequest.newBuilder(c.uri("/msgs")).timeout(WAIT)
                        .header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"load\",\"text\":\"" + i + text + "\"}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(201);
                last = JSON.readTree(r.body()).get("id").asText();
            }
            String lastId = last;
            // the reading stream sees the final state promptly
            JsonNode doc = fast.until(d -> d.get("msg").get(0).get("id").asText().equals(lastId), WAIT);
            assertThat(doc.get("msg").size()).isEqualTo(50);
            assertThat(chat.coalesced()).as("states dropped for the stalled stream").isPositive();

            // now the slow one reads: it gets fewer documents than states were produced, the newest one last
            String marker = "{\"msg\":[{\"id\":\"" + lastId + "\"";
            InputStream in = slow.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            while (!got.toString(ISO_8859_1).contains(marker)) {
                int n = in.read(buf);
                assertThat(n).as("stream still open").isPositive();
                got.write(buf, 0, n);
            }
            String all = got.toString(ISO_8859_1);
            int docs = all.split("\\{\"msg\":\\[", -1).length - 1;
            assertThat(docs).as("documents received by the stalled reader").isLessThan(posts + 1);
        }
    }
}
