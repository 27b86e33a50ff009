package dev.herald.bench.realtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Fan-out load generator for bench/realtime: C connections x S streams subscribe to GET /topics/{topic}
 * (NDJSON), one more connection publishes {"seq":N,"t":T} at R events/s, and every received event is checked
 * (latency = receipt - publish on this process's monotonic clock; lost and duplicated per stream by seq,
 * reordered per stream by the event ids, i.e. against the server's order: concurrent POSTs may be stored in
 * another order than they were sent, which is reported apart as publishOrderInversions).
 *
 * <pre>
 * java -jar realtime-loadgen.jar --port P[,P2...] [--host 127.0.0.1] [--connections 100] [--streams 100]
 *     [--rate 100] [--duration 60] [--warmup 10] [--steps true] [--step-start RATE] [--step-seconds 10]
 *     [--step-max 102400] [--step-min 1] [--p99-limit-ms 100] [--topic bench] [--label NAME] [--out FILE]
 *     [--mode run|hold] [--ready-file F] [--release-file F] [--hold-seconds 600] [--threads 1]
 *     [--server-pid PID[,PID2...]] (to record the servers' CPU use per phase, summed)
 *     [--watch-pids NAME=PID,...] (CPU seconds of more processes per phase, e.g. redis=PID)
 *     [--drain-quiet 3] [--drain-max 30]
 * </pre>
 * Several ports (several nodes sharing topics, bench/redis): subscriber connections are spread over them round
 * robin, and there is one publisher connection per port, events going to them in turn (seq modulo the ports).
 * Mode hold: subscribe, sync, touch the ready file, keep the streams idle until the release file exists (the
 * memory measurement), then exit.
 */
public final class LoadGen {
    private final Map<String, String> opt;
    private final Shared shared = new Shared();
    private final String host;
    private final List<Integer> ports = new ArrayList<>();
    private final int connections;
    private final int streams;
    private final int total;
    private final String path;
    private final double p99Limit;
    private final List<Publisher> publishers = new ArrayList<>();
    private final List<Channel> publisherChannels = new ArrayList<>();
    private final List<Channel> subChannels = new ArrayList<>();
    private long nextSeq = 1;
    private long maxInFlight;

    private LoadGen(Map<String, String> opt) {
        this.opt = opt;
        host = opt.getOrDefault("host", "127.0.0.1");
        for (String p : required("port").split(",")) {
            ports.add(Integer.parseInt(p.strip()));
        }
        connections = intOpt("connections", 100);
        streams = intOpt("streams", 100);
        total = connections * streams;
        path = "/topics/" + opt.getOrDefault("topic", "bench");
        p99Limit = Double.parseDouble(opt.getOrDefault("p99-limit-ms", "100"));
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("usage: --key value ... (see the class javadoc); bad argument: " + args[i]);
                System.exit(64);
            }
            opt.put(args[i].substring(2), args[++i]);
        }
        System.exit(new LoadGen(opt).run());
    }

    private String required(String k) {
        String v = opt.get(k);
        if (v == null) {
            throw new IllegalArgumentException("--" + k + " is required");
        }
        return v;
    }

    private int intOpt(String k, int d) {
        return opt.containsKey(k) ? Integer.parseInt(opt.get(k)) : d;
    }

    private double doubleOpt(String k, double d) {
        return opt.containsKey(k) ? Double.parseDouble(opt.get(k)) : d;
    }

    private static void log(String s) {
        System.err.printf("[loadgen %s] %s%n", Instant.now().toString().substring(11, 19), s);
    }

    private int run() throws Exception {
        String mode = opt.getOrDefault("mode", "run");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("label", opt.getOrDefault("label", host + ":" + ports));
        out.put("ports", ports);
        out.put("mode", mode);
        out.put("connections", connections);
        out.put("streamsPerConnection", streams);
        out.put("subscribers", total);
        out.put("path", path);
        out.put("startedAt", Instant.now().toString());
        // epoll when available: less CPU per frame than NIO, and the load generator has one core
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        out.put("transport", epoll ? "epoll" : "nio");
        EventLoopGroup subGroup = new MultiThreadIoEventLoopGroup(intOpt("threads", 1), io);
        EventLoopGroup pubGroup = new MultiThreadIoEventLoopGroup(1, io);
        int rc = 0;
        try {
            long t0 = System.nanoTime();
            for (int port : ports) {
                Publisher pub = new Publisher(shared, host + ":" + port, path);
                publisherChannels.add(connect(pubGroup, pub, h -> pub.handler = h, port));
                pub.ready.get(30, TimeUnit.SECONDS);
                publishers.add(pub);
            }
            for (int c = 0; c < connections; c++) {
                int port = ports.get(c % ports.size());
                SubscriberConnection sc = new SubscriberConnection(shared, streams, host + ":" + port, path);
                subChannels.add(connect(subGroup, sc, h -> sc.handler = h, port));
            }
            boolean all = waitFor(() -> statusTotal() >= total, 120, "subscribe answers");
            Map<String, Object> sub = new LinkedHashMap<>();
            sub.put("ok", shared.subscribed.get());
            sub.put("statuses", new TreeMap<>(shared.statuses));
            sub.put("seconds", Phase.round((System.nanoTime() - t0) / 1e9, 3));
            out.put("subscribe", sub);
            if (!all || shared.subscribed.get() < total) {
                log("only " + shared.subscribed.get() + " of " + total + " streams subscribed: " + shared.statuses);
                rc = 2;
            } else {
                sync();
                sub.put("syncedSeconds", Phase.round((System.nanoTime() - t0) / 1e9, 3));
                log(total + " subscribers ready in " + sub.get("syncedSeconds") + " s");
                if (shared.synced.get() < total) {
                    log("only " + shared.synced.get() + " of " + total + " streams received the sync event");
                    rc = 2;
                } else if (mode.equals("hold")) {
                    hold();
                } else {
                    phases(out);
                }
            }
        } catch (Exception e) {
            log("failed: " + e);
            out.put("error", e.toString());
            rc = 3;
        } finally {
            Map<String, Object> diag = new LinkedHashMap<>(); // before closing: counts the server's doing only
            diag.put("streamsEndedByServer", shared.ended.get());
            diag.put("rstStreams", shared.resets.get());
            diag.put("connectionsClosedByServer", shared.connectionsClosed.get());
            diag.put("heartbeatLines", shared.heartbeats.sum());
            diag.put("slowNotices", shared.slowNotices.sum());
            diag.put("otherLines", shared.otherLines.sum());
            diag.put("eventsOfUnknownSeq", shared.unknownSeq.sum());
            diag.put("samples", List.copyOf(shared.samples));
            out.put("diagnostics", diag);
            for (Channel ch : subChannels) {
                ch.close();
            }
            for (Channel ch : publisherChannels) {
                ch.close();
            }
            out.put("finishedAt", Instant.now().toString());
            String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
            if (opt.containsKey("out")) {
                Files.writeString(Path.of(opt.get("out")), json + "\n");
            } else {
                System.out.println(json);
            }
            subGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            pubGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        return rc;
    }

    private int statusTotal() {
        return shared.statuses.values().stream().mapToInt(java.util.concurrent.atomic.AtomicInteger::get).sum();
    }

    private Channel connect(EventLoopGroup group, Http2FrameListener listener, Consumer<Http2ConnectionHandler> set,
            int port) throws InterruptedException {
        Http2Settings settings = new Http2Settings().initialWindowSize(1 << 20).pushEnabled(false)
                .maxConcurrentStreams(1000).maxHeaderListSize(64 * 1024);
        Bootstrap b = new Bootstrap().group(group)
                .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_RCVBUF, 1 << 20)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Http2ConnectionHandler h = new Http2ConnectionHandlerBuilder().server(false)
                                .frameListener(listener).initialSettings(settings)
                                .encoderEnforceMaxConcurrentStreams(true).build();
                        set.accept(h);
                        ch.pipeline().addLast(h, new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) throws Exception {
                                // a large connection window: 64 MiB instead of 64 KiB
                                h.connection().local().flowController().incrementWindowSize(
                                        h.connection().connectionStream(), (64 << 20) - 65535);
                                ctx.flush();
                                super.channelActive(ctx);
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) throws Exception {
                                shared.connectionsClosed.incrementAndGet();
                                super.channelInactive(ctx);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                shared.sample("connection error: " + cause);
                                ctx.close();
                            }
                        });
                    }
                });
        return b.connect(host, port).sync().channel();
    }

    private boolean waitFor(java.util.function.BooleanSupplier cond, double seconds, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                log("timed out waiting for " + what);
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Publishes seq-0 events until every stream received one: proves every subscriber is registered. */
    private void sync() throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (shared.synced.get() < total && System.nanoTime() < deadline) {
            publisherChannels.get(0).eventLoop().execute(() -> publishers.get(0).publish(0, 1, 1));
            long until = System.nanoTime() + 1_000_000_000L;
            while (shared.synced.get() < total && System.nanoTime() < until) {
                Thread.sleep(10);
            }
        }
        waitFor(() -> inFlight() == 0, 10, "sync publishes");
    }

    private void hold() throws Exception {
        Path ready = Path.of(required("ready-file"));
        Path release = Path.of(required("release-file"));
        Files.writeString(ready, total + "\n");
        log("holding " + total + " idle subscribers until " + release + " exists");
        waitFor(() -> Files.exists(release), doubleOpt("hold-seconds", 600), "the release file");
    }

    private void phases(Map<String, Object> out) throws Exception {
        int rate = intOpt("rate", 100);
        double duration = doubleOpt("duration", 60);
        double warmup = doubleOpt("warmup", 10);
        List<Map<String, Object>> list = new ArrayList<>();
        out.put("phases", list);
        if (warmup > 0) {
            list.add(runPhase("warmup", "warmup", rate, warmup).toJson(p99Limit));
        }
        Phase main = null;
        if (duration > 0) {
            main = runPhase("main", "main", rate, duration);
            list.add(main.toJson(p99Limit));
        }
        Map<String, Object> step = new LinkedHashMap<>();
        out.put("stepUp", step);
        if (!Boolean.parseBoolean(opt.getOrDefault("steps", "true"))) {
            step.put("skipped", true);
            return;
        }
        int start = intOpt("step-start", rate);
        int max = intOpt("step-max", 102_400);
        int min = intOpt("step-min", 1);
        double secs = doubleOpt("step-seconds", 10);
        step.put("p99LimitMs", p99Limit);
        step.put("stepSeconds", secs);
        int best = 0;
        double bestDelivered = 0;
        int r = start;
        boolean down = false;
        if (main != null && start == rate) {
            // the main run is the first step: go up from it, or down if it did not stay within the limits
            step.put("firstStepIsMain", true);
            if (main.pass(p99Limit)) {
                best = rate;
                bestDelivered = main.deliveredPerSecond();
                r = rate * 2;
            } else {
                down = true;
                r = rate / 2;
            }
        }
        int bad = 0; // the lowest rate found over the limits, above best
        // A step after one in which the server ended streams would measure fewer subscribers: the search stops.
        while (r >= min && r <= max && shared.ended.get() == 0) {
            Phase p = step(r, secs, list);
            if (p.pass(p99Limit)) {
                best = r;
                bestDelivered = Math.max(bestDelivered, p.deliveredPerSecond());
                if (down) {
                    bad = r * 2;
                    break;
                }
                r *= 2;
            } else if (best == 0) {
                down = true; // not even the start rate: search downwards for a sustainable one
                r /= 2;
            } else {
                bad = r;
                break;
            }
        }
        // Then halve the interval between the last rate within the limits and the first over them, until it is
        // within an eighth of the former: doubling alone can only tell 200 from 400.
        while (best > 0 && bad > best && bad - best > Math.max(1, best / 8) && shared.ended.get() == 0) {
            int mid = (best + bad) / 2;
            Phase p = step(mid, secs, list);
            if (p.pass(p99Limit)) {
                best = mid;
                bestDelivered = Math.max(bestDelivered, p.deliveredPerSecond());
            } else {
                bad = mid;
            }
        }
        step.put("firstRateOverLimits", bad);
        if (shared.ended.get() > 0) {
            step.put("stoppedBecause", shared.ended.get() + " streams were ended by the server");
        }
        step.put("sustainableRate", best);
        step.put("sustainableDeliveredPerSecond", Phase.round(bestDelivered, 1));
        step.put("sustainableRateNote", best == 0 ? "no step met the limits" : "highest step rate with no lost, "
                + "reordered or duplicated event and p99 <= " + p99Limit + " ms");
    }

    /** One step of the step-up at {@code rate}, recorded in {@code list}. */
    private Phase step(int rate, double secs, List<Map<String, Object>> list) throws InterruptedException {
        double settled = settle();
        Phase p = runPhase("step-" + rate, "step", rate, secs);
        Map<String, Object> json = p.toJson(p99Limit);
        json.put("settleSecondsBefore", Phase.round(settled, 3));
        list.add(json);
        return p;
    }

    /** Publishes seqs s0 .. s0+n-1, each on publisher seq modulo the publishers. */
    private void publish(long s0, int n) {
        int k = publishers.size();
        for (int i = 0; i < k; i++) {
            long first = s0 + Math.floorMod(i - s0, (long) k);
            long end = s0 + n;
            if (first < end) {
                int count = (int) ((end - first + k - 1) / k);
                Publisher pub = publishers.get(i);
                publisherChannels.get(i).eventLoop().execute(() -> pub.publish(first, count, k));
            }
        }
    }

    private int inFlight() {
        int n = 0;
        for (Publisher p : publishers) {
            n += p.inFlightCount;
        }
        return n;
    }

    /** CPU seconds (user + system) of processes (comma-separated pids) from /proc/PID/stat, summed; -1 if unknown. */
    private static double cpuSeconds(String pids) {
        if (pids == null) {
            return -1;
        }
        double sum = 0;
        try {
            for (String pid : pids.split(",")) {
                String stat = Files.readString(Path.of("/proc/" + pid.strip() + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                sum += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in USER_HZ (100)
            }
            return sum;
        } catch (Exception e) {
            return -1;
        }
    }

    /** --watch-pids NAME=PID,...: the CPU seconds of each now. */
    private Map<String, Double> watchedCpu() {
        Map<String, Double> m = new LinkedHashMap<>();
        String w = opt.get("watch-pids");
        if (w != null) {
            for (String e : w.split(",")) {
                String[] kv = e.split("=", 2);
                m.put(kv[0], cpuSeconds(kv[1]));
            }
        }
        return m;
    }

    /**
     * Before a step: waits until no line at all arrived for 2 s (up to --settle-max s, 180), so a backlog the
     * server still holds from an overloaded phase (the Node baseline buffers without bound) does not count
     * against the next one. Returns the seconds waited.
     */
    private double settle() throws InterruptedException {
        long start = System.nanoTime();
        long maxNs = (long) (doubleOpt("settle-max", 180) * 1e9);
        long last = shared.lines.sum();
        long lastChange = System.nanoTime();
        while (System.nanoTime() - lastChange < 2_000_000_000L && System.nanoTime() - start < maxNs) {
            Thread.sleep(100);
            long n = shared.lines.sum();
            if (n != last) {
                last = n;
                lastChange = System.nanoTime();
            }
        }
        double s = (System.nanoTime() - start) / 1e9;
        if (s > 3) {
            log(String.format("waited %.1f s for the server's backlog to drain before the next step", s));
        }
        return s;
    }

    private Phase runPhase(String name, String kind, int rate, double seconds) throws InterruptedException {
        Phase p = new Phase(name, kind, rate, seconds, nextSeq);
        String self = Long.toString(ProcessHandle.current().pid());
        String server = opt.get("server-pid");
        double clientCpu0 = cpuSeconds(self);
        double serverCpu0 = cpuSeconds(server);
        Map<String, Double> watched0 = watchedCpu();
        long wall0 = System.nanoTime();
        shared.addPhase(p);
        p.streamsEndedBefore = shared.ended.get();
        long totalEvents = Math.max(1, Math.round(rate * seconds));
        long sent = 0;
        long start = Shared.now();
        p.publishStartNs = start;
        maxInFlight = 0;
        log(String.format("%s: %d events/s for %.0f s to %d subscribers", name, rate, seconds, total));
        while (sent < totalEvents) {
            long due = Math.min(totalEvents, (long) ((Shared.now() - start) * (double) rate / 1e9) + 1);
            if (due > sent) {
                int n = (int) (due - sent);
                long s0 = nextSeq;
                nextSeq += n;
                sent += n;
                publish(s0, n);
            }
            maxInFlight = Math.max(maxInFlight, inFlight());
            LockSupport.parkNanos(Math.min(1_000_000L, Math.max(50_000L, 500_000_000L / rate)));
        }
        p.publishEndNs = Shared.now();
        p.lastSeq = nextSeq - 1;
        p.published = totalEvents;
        p.expected = totalEvents * total;
        // drain: until everything arrived, or nothing arrived for drain-quiet seconds, or drain-max seconds
        long drainStart = System.nanoTime();
        long quietNs = (long) (doubleOpt("drain-quiet", 3) * 1e9);
        long maxNs = (long) (doubleOpt("drain-max", 30) * 1e9);
        long lastCount = -1;
        long lastChange = System.nanoTime();
        while (true) {
            long got = p.received.sum() + p.duplicated.sum();
            long nowNs = System.nanoTime();
            if (p.received.sum() >= p.expected && inFlight() == 0) {
                break;
            }
            if (got != lastCount) {
                lastCount = got;
                lastChange = nowNs;
            } else if (nowNs - lastChange > quietNs) {
                break;
            }
            if (nowNs - drainStart > maxNs) {
                break;
            }
            maxInFlight = Math.max(maxInFlight, inFlight());
            Thread.sleep(20);
        }
        p.drainSeconds = (System.nanoTime() - drainStart) / 1e9;
        p.wallSeconds = (System.nanoTime() - wall0) / 1e9;
        double clientCpu1 = cpuSeconds(self);
        double serverCpu1 = cpuSeconds(server);
        watchedCpu().forEach((k, v) -> {
            Double v0 = watched0.get(k);
            p.watchedCpuSeconds.put(k, v < 0 || v0 == null || v0 < 0 ? -1 : Phase.round(v - v0, 2));
        });
        p.clientCpuSeconds = clientCpu0 < 0 || clientCpu1 < 0 ? -1 : clientCpu1 - clientCpu0;
        p.serverCpuSeconds = serverCpu0 < 0 || serverCpu1 < 0 ? -1 : serverCpu1 - serverCpu0;
        p.maxInFlight = maxInFlight;
        p.streamsEndedAfter = shared.ended.get();
        log(String.format("%s: delivered %d/%d (%.0f/s), p50 %.2f ms, p99 %.2f ms, max %.2f ms, reordered %d, dup %d,"
                        + " publish errors %d, streams ended %d, cpu client %.0f%% server %.0f%%", name, p.received.sum(), p.expected,
                p.deliveredPerSecond(), p.latency.quantileMicros(0.5) / 1000.0, p.latency.quantileMicros(0.99) / 1000.0,
                p.latency.maxMicros() / 1000.0, p.reordered.sum(), p.duplicated.sum(), p.publishErrors.sum(),
                p.streamsEndedAfter - p.streamsEndedBefore, 100 * p.clientCpuSeconds / p.wallSeconds,
                100 * p.serverCpuSeconds / p.wallSeconds));
        return p;
    }
}
