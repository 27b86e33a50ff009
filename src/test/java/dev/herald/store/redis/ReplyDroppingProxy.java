package dev.herald.store.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP proxy in front of a redis-server, for the faults a real Redis cannot be made to show on cue. Armed with
 * {@link #dropReplyToNextEval()}, it forwards the next {@code EVAL} a client sends to Redis, then swallows Redis's
 * reply and closes that connection on both sides: Redis ran the command, the client never hears of it.
 * {@link #refuse(boolean)} cuts every connection and stops listening (a connect is refused, as with Redis down),
 * while Redis itself stays up.
 */
final class ReplyDroppingProxy implements AutoCloseable {
    /** How an {@code EVAL} starts on the wire (RESP: a bulk string of 4 bytes). */
    private static final byte[] EVAL = "$4\r\nEVAL\r\n".getBytes(StandardCharsets.US_ASCII);

    private volatile ServerSocket server;
    private final int port;
    private final int redisPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    /** Completed once the reply to the armed EVAL was dropped; null while not armed. */
    private final AtomicReference<CompletableFuture<Void>> armed = new AtomicReference<>();
    private ReplyDroppingProxy(ServerSocket server, int redisPort) {
        this.server = server;
        this.port = server.getLocalPort();
        this.redisPort = redisPort;
    }

    /** Listens on a free local port and forwards to Redis on {@code redisPort}. */
    static ReplyDroppingProxy start(int redisPort) throws IOException {
        ReplyDroppingProxy proxy = new ReplyDroppingProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
                redisPort);
        daemon("proxy-accept-" + redisPort, () -> proxy.accept(proxy.server));
        return proxy;
    }

    /** The URL a log opens to go through the proxy. */
    String url() {
        return "redis://127.0.0.1:" + port;
    }

    /**
     * Arms the proxy: the next {@code EVAL} reaches Redis, its reply does not reach the client, and its connection is
     * closed. The future completes once that happened.
     */
    CompletableFuture<Void> dropReplyToNextEval() {
        CompletableFuture<Void> dropped = new CompletableFuture<>();
        if (!armed.compareAndSet(null, dropped)) {
            throw new IllegalStateException("already armed");
        }
        return dropped;
    }

    /**
     * With {@code true}, closes every connection and stops listening, so that a client's connect is refused: a client
     * never gets a connection it could write to. (Accepting and closing at once left a client a moment in which it
     * wrote a command to a connection about to close.) With {@code false}, listens on the same port again.
     */
    void refuse(boolean refuse) throws IOException {
        if (refuse) {
            closeQuietly(server);
            sockets.forEach(ReplyDroppingProxy::closeQuietly);
        } else if (server.isClosed()) {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            server = s;
            daemon("proxy-accept-" + redisPort, () -> accept(s));
        }
    }

    @Override
    public void close() {
        closeQuietly(server);
        sockets.forEach(ReplyDroppingProxy::closeQuietly);
    }

    private void accept(ServerSocket listening) {
        while (!listening.isClosed()) {
            Socket client;
            try {
                client = listening.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                Socket redis = new Socket(InetAddress.getLoopbackAddress(), redisPort);
                Link link = new Link(client, redis);
                sockets.add(client);
                sockets.add(redis);
                daemon("proxy-to-redis", link::toRedis);
                daemon("proxy-to-client", link::toClient);
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    /** One client connection and its connection to Redis. */
    private final class Link {
        private final Socket client;
        private final Socket redis;
        /** Set before the armed EVAL is forwarded, so before Redis can answer it. */
        private volatile CompletableFuture<Void> dropNextReply;

        Link(Socket client, Socket redis) {
            this.client = client;
            this.redis = redis;
        }

        void toRedis() {
            byte[] carry = new byte[0]; // the end of the last read: a marker may straddle two reads
            try (InputStream in = client.getInputStream(); OutputStream out = redis.getOutputStream()) {
                byte[] buf = new byte[65536];
                for (int n; (n = in.read(buf)) > 0; ) {
                    byte[] seen = concat(carry, buf, n);
                    CompletableFuture<Void> drop = armed.get();
                    if (drop != null && indexOf(seen, EVAL) >= 0 && armed.compareAndSet(drop, null)) {
                        dropNextReply = drop;
                    }
                    carry = Arrays.copyOfRange(seen, Math.max(0, seen.length - EVAL.length + 1), seen.length);
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // closed by the other direction or by the proxy
            } finally {
                end();
            }
        }

        void toClient() {
            try (InputStream in = redis.getInputStream(); OutputStream out = client.getOutputStream()) {
                byte[] buf = new byte[65536];
                for (int n; (n = in.read(buf)) > 0; ) {
                    CompletableFuture<Void> drop = dropNextReply;
                    if (drop != null) {
                        // Completed before the close the client waits on, so a test that saw the close sees this.
                        drop.complete(null);
                        end();
                        return;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // closed by the other direction or by the proxy
            } finally {
                end();
            }
        }

        private void end() {
            closeQuietly(client);
            closeQuietly(redis);
            sockets.remove(client);
            sockets.remove(redis);
        }
    }

    private static byte[] concat(byte[] head, byte[] buf, int n) {
        byte[] all = Arrays.copyOf(head, head.length + n);
        System.arraycopy(buf, 0, all, head.length, n);
        return all;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void daemon(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // already closed
        }
    }
}
