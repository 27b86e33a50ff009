package dev.herald.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** An open {@code GET /msgs} read line by line on its own thread; the test thread takes documents with timeouts. */
final class NdjsonStream implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String END = "\u0000end";
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final HttpResponse<Stream<String>> response;
    private final Thread reader;

    private NdjsonStream(HttpResponse<Stream<String>> response) {
        this.response = response;
        this.reader = new Thread(() -> {
            try (Stream<String> s = response.body()) {
                s.forEach(lines::add);
            } catch (RuntimeException e) {
                // cancelled by close() or the server went away
            } finally {
                lines.add(END);
            }
        }, "ndjson-reader");
        reader.setDaemon(true);
        reader.start();
    }

    static NdjsonStream open(HttpClient client, URI uri) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(uri).GET().build();
        HttpResponse<Stream<String>> r = client.sendAsync(req, HttpResponse.BodyHandlers.ofLines())
                .get(10, TimeUnit.SECONDS);
        return new NdjsonStream(r);
    }

    int status() {
        return response.statusCode();
    }

    HttpHeaders headers() {
        return response.headers();
    }

    HttpClient.Version version() {
        return response.version();
    }

    /** The next non-empty line as JSON; fails after the timeout or at the end of the stream. */
    JsonNode next(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no document within " + timeout);
            }
            if (line.equals(END)) {
                lines.add(END);
                throw new AssertionError("the stream ended");
            }
            if (!line.isEmpty()) {
                return JSON.readTree(line);
            }
        }
    }

    /** The next raw line, empty ones included. */
    String nextLine(Duration timeout) throws InterruptedException {
        String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (line == null) {
            throw new AssertionError("no line within " + timeout);
        }
        return line;
    }

    /** Takes documents until one satisfies the check (states coalesce, so intermediate ones may be skipped). */
    JsonNode until(java.util.function.Predicate<JsonNode> check, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode doc = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (check.test(doc)) {
                return doc;
            }
        }
    }

    @Override
    public void close() {
        reader.interrupt();
        try {
            response.body().close();
        } catch (RuntimeException ignored) {
            // already closed
        }
    }
}
