package dev.herald.files;

import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.Headers;
import dev.herald.server.Protocol;
import dev.herald.server.Request;
import dev.herald.server.Response;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** An {@link Exchange} that records what the handler answered, on which thread, and how often. */
final class FakeExchange implements Exchange {
    private final Request request;
    private final AtomicInteger responses = new AtomicInteger();
    private volatile Response response;
    private volatile Thread respondedOn;
    private volatile boolean open = true;
    private final CountDownLatch answered = new CountDownLatch(1);

    FakeExchange(Request request) {
        this.request = request;
    }

    /** A request with header name/value pairs, as it would arrive over h2. */
    static FakeExchange of(String method, String target, String... headerPairs) {
        Headers headers = new Headers();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.add(headerPairs[i], headerPairs[i + 1]);
        }
        return new FakeExchange(new Request(method, target, "https", "localhost", Protocol.H2, headers, new byte[0],
                1, 1, null));
    }

    /** Hands a new exchange to {@code handler} and returns it (answered already if the handler was synchronous). */
    static FakeExchange run(Handler handler, String method, String target, String... headerPairs) throws Exception {
        FakeExchange exchange = of(method, target, headerPairs);
        handler.handle(exchange);
        return exchange;
    }

    @Override
    public Request request() {
        return request;
    }

    @Override
    public void respond(Response r) {
        if (responses.getAndIncrement() == 0) {
            response = r;
            respondedOn = Thread.currentThread();
            answered.countDown();
        }
    }

    @Override
    public Executor eventLoop() {
        return Runnable::run;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public dev.herald.server.ResponseStream stream(int status, dev.herald.server.Headers headers) {
        throw new UnsupportedOperationException("static files never stream");
    }

    void close() {
        open = false;
    }

    /** Waits for the response from another thread; whether it came in time. */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return answered.await(timeout, unit);
    }

    /** The response, or {@code null} if none yet. */
    Response response() {
        return response;
    }

    int responses() {
        return responses.get();
    }

    Thread respondedOn() {
        return respondedOn;
    }

    int status() {
        return response.status();
    }

    String header(String name) {
        return response.headers().get(name);
    }

    /** The body as the protocol layer would send it on GET: the bytes, or the file region read from disk. */
    byte[] body() throws IOException {
        if (response.bodyForbidden()) {
            return new byte[0];
        }
        if (response.bytes() != null) {
            return response.bytes();
        }
        if (response.file() == null) {
            return new byte[0];
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(response.fileLength()));
        try (FileChannel ch = FileChannel.open(response.file(), StandardOpenOption.READ)) {
            while (buf.hasRemaining() && ch.read(buf, response.fileOffset() + buf.position()) > 0) {
                // keep reading
            }
        }
        return buf.array();
    }

    String bodyText() throws IOException {
        return new String(body(), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        Response r = response;
        return request + " -> " + (r == null ? "(no response)" : r.status() + "\n" + r.headers());
    }
}
