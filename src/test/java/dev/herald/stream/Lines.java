package dev.herald.stream;

import dev.herald.testing.JdkClient;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A streaming response body read line by line as it arrives: the response future completes with the headers
 * (so the subscriber is registered by then), lines go to a queue the test thread polls with a timeout.
 */
final class Lines implements HttpResponse.BodySubscriber<Lines> {
    static final Duration WAIT = Duration.ofSeconds(20);
    final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final AtomicInteger nonBlank = new AtomicInteger();
    private final CountDownLatch expected;
    private volatile Flow.Subscription subscription;

    Lines(int expectNonBlank) {
        this.expected = new CountDownLatch(expectNonBlank);
    }

    /** Opens a subscription; returns once the response headers arrived. */
    static HttpResponse<Lines> open(HttpClient client, URI uri, Map<String, String> headers, int expect)
            throws Exception {
        return openAsync(client, uri, headers, expect).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static CompletableFuture<HttpResponse<Lines>> openAsync(HttpClient client, URI uri, Map<String, String> headers,
                                                           int expect) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET();
        headers.forEach(b::header);
        return client.sendAsync(b.build(), info -> new Lines(expect));
    }

    static HttpResponse<Lines> open(JdkClient c, String path, Map<String, String> headers) throws Exception {
        return open(c.client(), c.uri(path), headers, 0);
    }

    @Override
    public CompletionStage<Lines> getBody() {
        return CompletableFuture.completedFuture(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        for (ByteBuffer b : item) {
            while (b.hasRemaining()) {
                byte c = b.get();
                if (c == '\n') {
                    String l = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    queue.add(l);
                    if (!l.isEmpty()) {
                        nonBlank.incrementAndGet();
                        expected.countDown();
                    }
                } else {
                    line.write(c);
                }
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        if (line.size() > 0) {
            queue.add(line.toString(StandardCharsets.UTF_8));
        }
        done.complete(null);
    }

    /** Cancels the stream: RST_STREAM on HTTP/2, a closed connection on HTTP/1.1. */
    void cancel() {
        subscription.cancel();
    }

    int received() {
        return nonBlank.get();
    }

    boolean awaitExpected(Duration d) throws InterruptedException {
        return expected.await(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next line, blank ones (NDJSON heartbeats) skipped. */
    String next() throws InterruptedException {
        for (;;) {
            String l = nextRaw();
            if (!l.isEmpty()) {
                return l;
            }
        }
    }

    /** The next line as it came, or an AssertionError after the timeout. */
    String nextRaw() throws InterruptedException {
        String l = queue.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (l == null) {
            throw new AssertionError("no line within " + WAIT + "; done=" + done);
        }
        return l;
    }

    /** The next SSE message as its lines (without the blank terminator); heartbeat comments skipped. */
    List<String> nextSse() throws InterruptedException {
        for (;;) {
            List<String> block = new ArrayList<>();
            for (String l = nextRaw(); !l.isEmpty(); l = nextRaw()) {
                block.add(l);
            }
            if (!block.isEmpty() && !block.stream().allMatch(x -> x.startsWith(":"))) {
                return block;
            }
        }
    }

    /** Every non-blank line received so far. */
    List<String> drainNonBlank() {
        List<String> all = new ArrayList<>();
        queue.drainTo(all);
        all.removeIf(String::isEmpty);
        return all;
    }

    /** Waits for a condition with a timeout, polling every millisecond (no fixed sleeps). */
    static void await(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }
}
