package dev.herald.attack;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hostile HTTP/2 client: writes raw frames (any type, flags, stream and payload, legal or not) on a blocking
 * socket, h2c with prior knowledge, and records what the server answers on a reader thread: GOAWAY and its code,
 * RST_STREAM codes, response statuses, PUSH_PROMISEs, DATA bytes, and when the connection closed; and per stream,
 * its status, body, END_STREAM and RST_STREAM ({@link #awaitStream}).
 *
 * <p>Header blocks are encoded with Netty's HPACK encoder (no validation, so illegal names go out as written) or
 * given as raw HPACK bytes. The reader may be held back ({@code readNow = false}) so that the server's writes back
 * up, which is what the ping and settings floods need.
 */
final class H2AttackClient implements AutoCloseable {
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int PRIORITY = 0x2;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PUSH_PROMISE = 0x5;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int WINDOW_UPDATE = 0x8;
    static final int CONTINUATION = 0x9;
    static final int END_STREAM = 0x1;
    static final int ACK = 0x1;
    static final int END_HEADERS = 0x4;
    static final int PADDED = 0x8;
    static final int PRIORITY_FLAG = 0x20;
    static final int SETTINGS_ENABLE_PUSH = 0x2;
    static final int SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
    static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

    private final Socket socket;
    private final OutputStream out;
    private final int port;
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder(
            Http2HeadersEncoder.NEVER_SENSITIVE, true);
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false, false);
    private final long startNanos = System.nanoTime();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final CountDownLatch goAwayOrClosed = new CountDownLatch(1);
    private final CountDownLatch firstRst = new CountDownLatch(1);
    private volatile Long goAwayCode;
    private volatile long endNanos;
    private volatile String closeReason = "";
    private final Map<Long, AtomicInteger> rstCodes = new ConcurrentHashMap<>();
    private final Map<Integer, String> statuses = new ConcurrentHashMap<>();
    private final java.util.concurrent.Semaphore statusPermits = new java.util.concurrent.Semaphore(0);
    private final AtomicInteger pushPromises = new AtomicInteger();
    private final java.util.concurrent.BlockingQueue<Integer> promised = new java.util.concurrent.LinkedBlockingQueue<>();
    private final AtomicInteger headersOnEvenStreams = new AtomicInteger();
    private final AtomicLong dataBytes = new AtomicLong();
    private final AtomicInteger pingAcks = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    /** What arrived on each stream; guarded by itself, notified on every change. */
    private final Map<Integer, StreamRecord> streams = new java.util.HashMap<>();
    private Thread reader;

    /** What the server sent on one stream, in arrival order: its final status, DATA, END_STREAM, RST_STREAM. */
    static final class StreamRecord {
        String status;
        final java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        boolean endStream;
        /** The RST_STREAM error code, or null if none arrived. */
        Long rstCode;
        /** Whether END_STREAM arrived before the RST_STREAM (a complete response, then the reset). */
        boolean endedBeforeRst;

        String body() {
            return data.toString(StandardCharsets.UTF_8);
        }

        /** Ended one way or the other: END_STREAM or RST_STREAM. */
        boolean ended() {
            return endStream || rstCode != null;
        }

        @Override
        public String toString() {
            return "status " + status + ", " + data.size() + " DATA bytes" + (endStream ? ", END_STREAM" : "")
                    + (rstCode != null ? ", RST_STREAM " + nameOf(rstCode) : "");
        }
    }

    private H2AttackClient(Socket socket, int port) throws IOException {
        this.socket = socket;
        this.port = port;
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    /** Connects, sends the preface, the given SETTINGS and an ACK for the server's, and starts reading. */
    static H2AttackClient connect(int port, int... settings) throws IOException {
        return connect(port, true, settings);
    }

    /**
     * As {@link #connect(int, int...)}; with {@code readNow = false} nothing is read until {@link #startReading()}
     * and the socket's receive buffer is small, so the server's answers pile up on its side.
     */
    static H2AttackClient connect(int port, boolean readNow, int... settings) throws IOException {
        return connectFrom("127.0.0.1", port, readNow, settings);
    }

    /** As {@link #connect(int, boolean, int...)}, from this local loopback address (such as 127.0.0.2). */
    static H2AttackClient connectFrom(String localIp, int port, boolean readNow, int... settings) throws IOException {
        Socket s = new Socket();
        if (!readNow) {
            s.setReceiveBufferSize(4096);
        }
        s.setTcpNoDelay(true);
        s.bind(new InetSocketAddress(localIp, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        H2AttackClient c = new H2AttackClient(s, port);
        c.raw(PREFACE);
        byte[] p = new byte[settings.length / 2 * 6];
        for (int i = 0; i < settings.length / 2; i++) {
            putShort(p, i * 6, settings[2 * i]);
            putInt(p, i * 6 + 2, settings[2 * i + 1]);
        }
        c.frame(SETTINGS, 0, 0, p);
        c.frame(SETTINGS, ACK, 0, new byte[0]);
        c.flush();
        if (readNow) {
            c.startReading();
        }
        return c;
    }

    /** The client's port, as Herald's log lines name the peer. */
    int localPort() {
        return socket.getLocalPort();
    }

    synchronized void startReading() {
        if (reader == null) {
            reader = new Thread(this::readLoop, "h2-attack-reader-" + socket.getLocalPort());
            reader.setDaemon(true);
            reader.start();
        }
    }

    // ---- writing

    synchronized void raw(byte[] bytes) throws IOException {
        out.write(bytes);
    }

    synchronized void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
        frame(type, flags, streamId, payload, 0, payload.length);
    }

    synchronized void frame(int type, int flags, int streamId, byte[] payload, int off, int len) throws IOException {
        byte[] h = new byte[9];
        h[0] = (byte) (len >>> 16);
        h[1] = (byte) (len >>> 8);
        h[2] = (byte) len;
        h[3] = (byte) type;
        h[4] = (byte) flags;
        putInt(h, 5, streamId & 0x7fffffff);
        out.write(h);
        out.write(payload, off, len);
    }

    synchronized void flush() throws IOException {
        out.flush();
    }

    /** A GET request for {@code path}: the minimal legal header set. */
    Http2Headers get(String path) {
        return new DefaultHttp2Headers(false).method("GET").scheme("http").path(path).authority("127.0.0.1:" + port);
    }

    /** A POST request for {@code path} with a JSON body to follow in DATA frames. */
    Http2Headers post(String path) {
        return get(path).method("POST").add("content-type", "application/json");
    }

    /** HPACK-encodes {@code headers} (no validation) with this connection's encoder. */
    synchronized byte[] encode(Http2Headers headers) {
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.encodeHeaders(0, headers, buf);
            return ByteBufUtil.getBytes(buf);
        } catch (Exception e) {
            throw new IllegalStateException("cannot encode " + headers, e);
        } finally {
            buf.release();
        }
    }

    /** HEADERS with END_HEADERS, the block encoded here: encoding and writing under one lock keeps HPACK in order. */
    synchronized void headers(int streamId, Http2Headers headers, boolean endStream) throws IOException {
        frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, encode(headers));
    }

    synchronized void rst(int streamId, Http2Error error) throws IOException {
        byte[] p = new byte[4];
        putInt(p, 0, (int) error.code());
        frame(RST_STREAM, 0, streamId, p);
    }

    synchronized void windowUpdate(int streamId, int increment) throws IOException {
        byte[] p = new byte[4];
        putInt(p, 0, increment);
        frame(WINDOW_UPDATE, 0, streamId, p);
    }

    synchronized void ping(long data) throws IOException {
        byte[] p = new byte[8];
        putInt(p, 0, (int) (data >>> 32));
        putInt(p, 4, (int) data);
        frame(PING, 0, 0, p);
    }

    /** DATA on {@code streamId}, with END_STREAM if {@code endStream}. */
    synchronized void data(int streamId, byte[] payload, boolean endStream) throws IOException {
        frame(DATA, endStream ? END_STREAM : 0, streamId, payload);
    }

    synchronized void priority(int streamId, int dependency, boolean exclusive, int weight) throws IOException {
        byte[] p = new byte[5];
        putInt(p, 0, dependency | (exclusive ? 0x80000000 : 0));
        p[4] = (byte) (weight - 1);
        frame(PRIORITY, 0, streamId, p);
    }

    // ---- what the server said

    /** Waits until the server sent GOAWAY or closed the connection; true if it did within {@code timeout}. */
    boolean awaitGoAwayOrClose(Duration timeout) throws InterruptedException {
        return goAwayOrClosed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean awaitClosed(Duration timeout) throws InterruptedException {
        return closed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean awaitFirstRst(Duration timeout) throws InterruptedException {
        return firstRst.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * True if the server sent GOAWAY with {@code error}, or closed the connection without a GOAWAY this client could
     * read. The GOAWAY goes missing through TCP, not Herald: a flooding attacker's frames are still unread in
     * Herald's receive buffer when it closes, so the kernel may answer with RST, and the client's kernel drops what
     * it had not yet handed to the reader; measured, about one run in ten also ends in EOF with no GOAWAY for the
     * reset flood. A GOAWAY with another code is false.
     */
    boolean sentAwayWith(Http2Error error) {
        Long code = goAwayCode;
        return code == null ? isClosed() : code == error.code();
    }

    /** The GOAWAY error code, or null if none arrived (yet). */
    Long goAwayCode() {
        return goAwayCode;
    }

    boolean isClosed() {
        return closed.getCount() == 0;
    }

    /** Time from connecting until GOAWAY or close, for the report. */
    Duration timeToGoAwayOrClose() {
        return Duration.ofNanos(endNanos - startNanos);
    }

    /** Waits until {@code n} responses have begun (HEADERS with a status). */
    boolean awaitStatuses(int n, Duration timeout) throws InterruptedException {
        return statusPermits.tryAcquire(n, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Waits until what arrived on {@code streamId} satisfies {@code done}; returns a copy of the stream's record
     * either way (test with {@code done} again to tell which).
     */
    StreamRecord awaitStream(int streamId, java.util.function.Predicate<StreamRecord> done, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (streams) {
            StreamRecord r = streams.computeIfAbsent(streamId, k -> new StreamRecord());
            long left;
            while (!done.test(r) && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(streams, left);
            }
            return copy(r);
        }
    }

    private static StreamRecord copy(StreamRecord r) {
        StreamRecord c = new StreamRecord();
        c.status = r.status;
        c.data.writeBytes(r.data.toByteArray());
        c.endStream = r.endStream;
        c.rstCode = r.rstCode;
        c.endedBeforeRst = r.endedBeforeRst;
        return c;
    }

    /** Updates the record of {@code streamId} and wakes {@link #awaitStream} callers. */
    private void onStream(int streamId, java.util.function.Consumer<StreamRecord> update) {
        synchronized (streams) {
            update.accept(streams.computeIfAbsent(streamId, k -> new StreamRecord()));
            streams.notifyAll();
        }
    }

    int rstCount(Http2Error error) {
        AtomicInteger n = rstCodes.get(error.code());
        return n == null ? 0 : n.get();
    }

    Map<Long, AtomicInteger> rstCodes() {
        return rstCodes;
    }

    Map<Integer, String> statuses() {
        return statuses;
    }

    int pushPromises() {
        return pushPromises.get();
    }

    /** The stream ids of PUSH_PROMISEs received and not yet taken, in order. */
    java.util.concurrent.BlockingQueue<Integer> promised() {
        return promised;
    }

    int headersOnEvenStreams() {
        return headersOnEvenStreams.get();
    }

    long dataBytes() {
        return dataBytes.get();
    }

    int pingAcks() {
        return pingAcks.get();
    }

    /** What the server answered, in one line, for assertion messages and the report. */
    String outcome() {
        String ga = goAwayCode == null ? "no GOAWAY"
                : "GOAWAY " + nameOf(goAwayCode);
        return ga + (isClosed() ? ", closed (" + closeReason + ")" : ", open") + ", RST " + rstCodes
                + ", statuses " + statuses.size() + (ended.get() ? ", after " + timeToGoAwayOrClose().toMillis() + " ms" : "");
    }

    static String nameOf(long code) {
        Http2Error e = Http2Error.valueOf(code);
        return e == null ? "0x" + Long.toHexString(code) : e.name();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private void readLoop() {
        ByteBuf block = null;
        int blockStream = 0;
        boolean blockIsPromise = false;
        try {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            while (true) {
                int len = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] p = new byte[len];
                in.readFully(p);
                switch (type) {
                    case DATA -> {
                        dataBytes.addAndGet(len);
                        int pad = (flags & PADDED) != 0 ? 1 + (p[0] & 0xff) : 0;
                        onStream(stream, r -> {
                            r.data.write(p, pad == 0 ? 0 : 1, Math.max(0, len - pad));
                            r.endStream |= (flags & END_STREAM) != 0;
                        });
                    }
                    case HEADERS, PUSH_PROMISE, CONTINUATION -> {
                        int off = 0;
                        int end = len;
                        if (type != CONTINUATION && (flags & PADDED) != 0) {
                            end -= p[0] & 0xff;
                            off = 1;
                        }
                        if (type == HEADERS && (flags & PRIORITY_FLAG) != 0) {
                            off += 5;
                        }
                        if (type == PUSH_PROMISE) {
                            pushPromises.incrementAndGet();
                            promised.add(readInt(p, off) & 0x7fffffff);
                            off += 4;
                        }
                        if (type == HEADERS && stream % 2 == 0) {
                            headersOnEvenStreams.incrementAndGet();
                        }
                        if (type != CONTINUATION) {
                            block = Unpooled.buffer();
                            blockStream = stream;
                            blockIsPromise = type == PUSH_PROMISE;
                        }
                        if (block != null) {
                            block.writeBytes(p, off, Math.max(0, end - off));
                            if ((flags & END_HEADERS) != 0) {
                                decodeBlock(block, blockStream, blockIsPromise);
                                block.release();
                                block = null;
                            }
                        }
                        if (type == HEADERS && (flags & END_STREAM) != 0) {
                            onStream(stream, r -> r.endStream = true); // after its status, when in one frame
                        }
                    }
                    case RST_STREAM -> {
                        long code = readInt(p, 0) & 0xffffffffL;
                        rstCodes.computeIfAbsent(code, k -> new AtomicInteger()).incrementAndGet();
                        onStream(stream, r -> {
                            r.endedBeforeRst = r.endStream;
                            r.rstCode = code;
                        });
                        firstRst.countDown();
                    }
                    case PING -> {
                        if ((flags & ACK) != 0) {
                            pingAcks.incrementAndGet();
                        }
                    }
                    case GOAWAY -> {
                        goAwayCode = readInt(p, 4) & 0xffffffffL;
                        end();
                    }
                    default -> {
                        // SETTINGS, WINDOW_UPDATE, PRIORITY: nothing to record
                    }
                }
            }
        } catch (EOFException e) {
            closeReason = "EOF";
        } catch (IOException e) {
            closeReason = e.getMessage();
        } finally {
            if (block != null) {
                block.release();
            }
            closed.countDown(); // before end(): a test woken by end() reads isClosed()
            end();
        }
    }

    private void decodeBlock(ByteBuf block, int stream, boolean promise) {
        try {
            Http2Headers h = decoder.decodeHeaders(stream, block);
            // Final statuses only: a 103 Early Hints precedes the response on the same stream.
            if (!promise && h.status() != null && h.status().charAt(0) != '1') {
                statuses.put(stream, h.status().toString());
                onStream(stream, r -> r.status = h.status().toString());
                statusPermits.release();
            }
        } catch (Exception e) {
            statuses.put(stream, "undecodable: " + e.getMessage());
        }
    }

    private void end() {
        // Not under the writers' lock: a writer may be blocked on a full socket.
        if (ended.compareAndSet(false, true)) {
            endNanos = System.nanoTime();
            goAwayOrClosed.countDown();
        }
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static int readInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }
}
