package dev.herald.store.redis;

import dev.herald.testing.ExternalTool;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server for one test class: on a free port, in its own folder, no RDB snapshots, optionally with an
 * append-only file fsynced on every write. Stopped and started again on the same port for outage tests.
 */
final class RedisServer implements AutoCloseable {
    private final Path redis = ExternalTool.require("redis-server", "redis-server");
    private final Path dir;
    private final boolean aof;
    private final int port;
    private final List<String> extra;
    private final StringBuffer output = new StringBuffer();
    private Process process;

    private RedisServer(Path dir, boolean aof, int port, List<String> extra) {
        this.dir = dir;
        this.aof = aof;
        this.port = port;
        this.extra = extra;
    }

    /** Starts a server in {@code dir}; with {@code aof}, every acknowledged write is fsynced before the reply. */
    static RedisServer start(Path dir, boolean aof) throws Exception {
        return start(dir, aof, false, null, null);
    }

    /** With {@code tls}, the port speaks only TLS with the given PEM certificate and key (clients not verified). */
    static RedisServer start(Path dir, boolean aof, boolean tls, Path cert, Path key) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> extra = tls ? List.of("--port", "0", "--tls-port", Integer.toString(port), "--tls-cert-file",
                cert.toString(), "--tls-key-file", key.toString(), "--tls-ca-cert-file", cert.toString(),
                "--tls-auth-clients", "no") : List.of();
        RedisServer server = new RedisServer(dir, aof, port, extra);
        server.start();
        return server;
    }

    int port() {
        return port;
    }

    String url() {
        return (extra.isEmpty() ? "redis://" : "rediss://") + "127.0.0.1:" + port;
    }

    /** (Re)starts the process and waits until it accepts connections. */
    void start() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(redis.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--daemonize", "no",
                "--appendonly", aof ? "yes" : "no"));
        cmd.addAll(extra); // a later --port wins
        if (aof) {
            cmd.addAll(List.of("--appendfsync", "always"));
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Process p = process;
        Thread drain = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.append(line).append('\n');
                    if (line.contains("Ready to accept connections")) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                ready.completeExceptionally(new UncheckedIOException(e));
            }
            ready.completeExceptionally(new AssertionError("redis-server exited before it was ready:\n" + output));
        }, "redis-server-" + port);
        drain.setDaemon(true);
        drain.start();
        ready.get(15, TimeUnit.SECONDS);
    }

    /** Kills the process (SIGKILL: no shutdown save) and waits for it to exit. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("redis-server on port " + port + " did not exit");
        }
    }

    /**
     * Kills the process, then waits until every one of {@code logs} has seen its connections close: from then on
     * what they send is refused, not written to a socket whose peer is gone (which may or may not have run it).
     */
    void killNoticedBy(RedisEventLog... logs) throws Exception {
        kill();
        for (RedisEventLog log : logs) {
            awaitConnected(log, false);
        }
    }

    /** Waits at most 15 s until both connections of {@code log} are up, or until one is down. */
    static void awaitConnected(RedisEventLog log, boolean up) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while ("redis unreachable".equals(log.unavailable()) == up) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the log did not see redis " + (up ? "back" : "gone") + " within 15 s");
            }
            CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS)).get();
        }
    }

    /** Freezes ({@code SIGSTOP}) or thaws ({@code SIGCONT}) the process: connections stay open, nothing answers. */
    void signal(String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
