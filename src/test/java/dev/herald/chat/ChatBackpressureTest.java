package dev.herald.chat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.server.Exchange;
import dev.herald.server.Headers;
import dev.herald.server.Protocol;
import dev.herald.server.Request;
import dev.herald.server.Response;
import dev.herald.server.ResponseStream;
import dev.herald.testing.LogCapture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Coalescing and heartbeats on a stream whose writability the test controls: a stalled /msgs stream holds one
 * pending document, never a queue, and gets the newest state when it can write again.
 */
class ChatBackpressureTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final ExecutorService loop = Executors.newSingleThreadExecutor();
    final MemoryEventLog log = new MemoryEventLog();

    @AfterEach
    void shutdown() {
        loop.shutdownNow();
        log.close();
    }

    /** A response stream on a single-thread "event loop" whose writability is a switch. */
    final class FakeStream implements ResponseStream {
        final LinkedBlockingQueue<byte[]> written = new LinkedBlockingQueue<>();
        volatile boolean writable = true;
        volatile boolean open = true;
        volatile Runnable onWritable = () -> { };
        volatile Runnable onClose = () -> { };

        @Override
        public boolean write(byte[] data) {
            written.add(data);
            return true;
        }

        @Override
        public boolean write(java.util.List<byte[]> parts) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            parts.forEach(out::writeBytes);
            return write(out.toByteArray());
        }

        @Override
        public boolean isWritable() {
            return writable;
        }

        @Override
        public void onWritable(Runnable listener) {
            onWritable = listener;
        }

        @Override
        public void onClose(Runnable listener) {
            onClose = listener;
        }

        @Override
        public void end() {
            open = false;
            loop.execute(onClose);
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public java.util.concurrent.Executor eventLoop() {
            return loop;
        }

        JsonNode take() throws Exception {
            byte[] b = written.poll(10, TimeUnit.SECONDS);
            assertThat(b).as("a document within 10 s").isNotNull();
            return JSON.readTree(new String(b, UTF_8));
        }

        /** Waits until everything queued on the loop so far has run. */
        void settle() throws Exception {
            CompletableFuture.runAsync(() -> { }, loop).get(10, TimeUnit.SECONDS);
        }
    }

    final class FakeExchange implements Exchange {
        final FakeStream stream = new FakeStream();
        final CompletableFuture<Response> response = new CompletableFuture<>();
        final Request request;

        FakeExchange() {
            this(new Request("GET", "/msgs", "https", "127.0.0.1", Protocol.H2, new Headers(),
                    new byte[0], 1, 1, new InetSocketAddress("127.0.0.1", 40000)));
        }

        FakeExchange(Request request) {
            this.request = request;
        }

        @Override
        public Request request() {
            return request;
        }

        @Override
        public void respond(Response r) {
            response.complete(r);
        }

        @Override
        public ResponseStream stream(int status, Headers headers) {
            assertThat(status).isEqualTo(200);
            return stream;
        }

        @Override
        public java.util.concurrent.Executor eventLoop() {
            return loop;
        }

        @Override
        public boolean isOpen() {
            return stream.open;
        }
    }

    static String msg(int i) {
        return "{\"user\":\"u\",\"text\":\"m" + i + "\"}";
    }

    @Test
    void aStalledStreamKeepsOnlyTheNewestStateAndGetsItWhenWritable() throws Exception {
        try (ChatHandler chat = new ChatHandler(log, ChatSettings.defaults())) {
            FakeExchange ex = new FakeExchange();
            chat.handle(ex);
            assertThat(ex.stream.take().get("msg").size()).isZero();

            ex.stream.writable = false;
            String last = null;
            for (int i = 0; i < 500; i++) {
                last = log.append(ChatHandler.TOPIC, msg(i)).get().id().toString();
            }
            ex.stream.settle();
            assertThat(ex.stream.written).as("nothing written while not writable").isEmpty();
            assertThat(chat.coalesced()).isEqualTo(499);

            ex.stream.writable = true;
            loop.execute(ex.stream.onWritable);
            JsonNode doc = ex.stream.take();
            assertThat(doc.get("msg").size()).isEqualTo(50);
            assertThat(doc.get("msg").get(0).get("id").asText()).isEqualTo(last);
            assertThat(doc.get("msg").get(0).get("text").asText()).isEqualTo("m499");
            ex.stream.settle();
            assertThat(ex.stream.written).as("exactly one document after the stall").isEmpty();
        }
    }

    @Test
    void aClosedStreamIsForgotten() throws Exception {
        try (ChatHandler chat = new ChatHandler(log, ChatSettings.defaults())) {
            FakeExchange ex = new FakeExchange();
            chat.handle(ex);
            ex.stream.take();
            assertThat(chat.subscribers()).isEqualTo(1);
            ex.stream.end();
            ex.stream.settle();
            assertThat(chat.subscribers()).isZero();
            log.append(ChatHandler.TOPIC, msg(1)).get();
            ex.stream.settle();
            assertThat(ex.stream.written).isEmpty();
        }
    }

    @Test
    void subscriberLimitAnswers503WithRetryAfter() throws Exception {
        LogCapture logged = LogCapture.of(dev.herald.server.LimitLog.class);
        try (ChatHandler chat = new ChatHandler(log, ChatSettings.defaults().withMaxSubscribers(2),
                dev.herald.server.LimitLog.create(Duration.ofSeconds(10)))) {
            FakeExchange a = new FakeExchange();
            FakeExchange b = new FakeExchange();
            FakeExchange c = new FakeExchange();
            chat.handle(a);
            chat.handle(b);
            chat.handle(c);
            Response r = c.response.get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.headers().get("retry-after")).isEqualTo("5");
            assertThat(logged.messages()).anySatisfy(m -> assertThat(m)
                    .startsWith("limit streams.max-subscribers exceeded by ").contains("GET /msgs: 503"));
            a.stream.take();
            a.stream.end();
            a.stream.settle();
            FakeExchange d = new FakeExchange();
            chat.handle(d);
            assertThat(d.stream.take().has("msg")).isTrue();
        } finally {
            logged.close();
        }
    }

    @Test
    void heartbeatRepeatsTheStateForTheCourseClient() throws Exception {
        ChatSettings s = ChatSettings.defaults().withHeartbeat(Duration.ofMillis(100), ChatSettings.HeartbeatStyle.STATE);
        log.append(ChatHandler.TOPIC, msg(1)).get();
        try (ChatHandler chat = new ChatHandler(log, s)) {
            FakeExchange ex = new FakeExchange();
            chat.handle(ex);
            JsonNode first = ex.stream.take();
            assertThat(first.get("msg").size()).isEqualTo(1);
            assertThat(ex.stream.take()).isEqualTo(first);
            assertThat(ex.stream.take()).isEqualTo(first);
        }
    }

    @Test
    void heartbeatCanBeAnEmptyLine() throws Exception {
        ChatSettings s = ChatSettings.defaults().withHeartbeat(Duration.ofMillis(100), ChatSettings.HeartbeatStyle.EMPTY_LINE);
        try (ChatHandler chat = new ChatHandler(log, s)) {
            FakeExchange ex = new FakeExchange();
            chat.handle(ex);
            ex.stream.take();
            byte[] beat = ex.stream.written.poll(10, TimeUnit.SECONDS);
            assertThat(beat).containsExactly('\n');
        }
    }

    @Test
    void aStoreFailureAnswers503AndChangesNothing() throws Exception {
        try (ChatHandler chat = new ChatHandler(log, ChatSettings.defaults())) {
            log.failAppends = true;
            FakeExchange post = new FakeExchange(new Request("POST", "/msgs", "https", "127.0.0.1", Protocol.H2,
                    new Headers().add("content-type", "application/json"), msg(1).getBytes(UTF_8), 1, 3,
                    new InetSocketAddress("127.0.0.1", 40000)));
            chat.handle(post);
            Response r = post.response.get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(503);
            assertThat(JSON.readTree(r.bytes()).get("error").asText()).isEqualTo("unavailable");
            assertThat(chat.messages()).isEmpty();
        }
    }

    @Test
    void historyIsLoadedAtStart() throws Exception {
        List<String> ids = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 60; i++) {
            ids.add(log.append(ChatHandler.TOPIC, msg(i)).get().id().toString());
        }
        try (ChatHandler chat = new ChatHandler(log, ChatSettings.defaults())) {
            FakeExchange ex = new FakeExchange();
            chat.handle(ex);
            JsonNode msgs = ex.stream.take().get("msg");
            assertThat(msgs.size()).isEqualTo(50);
            assertThat(msgs.get(0).get("id").asText()).isEqualTo(ids.get(59));
            assertThat(msgs.get(49).get("id").asText()).isEqualTo(ids.get(10));
        }
    }
}
