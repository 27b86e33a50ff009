package dev.herald.attack;

import dev.herald.testing.HeraldExtension;
import dev.herald.testing.HttpResult;
import dev.herald.testing.NettyH2cClient;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One attack run against a running Herald (same JVM): records the heap (and Netty's direct memory) before, runs a
 * well-behaved h2c client fetching {@code /hello.txt} in a loop alongside, runs the attacker's floods on their own
 * threads, and at the end asserts on the test thread that memory stayed bounded, the good client was served with a
 * bounded p99, and Herald still serves on a fresh connection.
 */
final class AttackScenario implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AttackScenario.class);
    /** Generous: the build machine has 2 cores, shared by Herald, the attacker and the good client. */
    static final Duration GOOD_P99 = Duration.ofMillis(500);
    /**
     * The good client keeps going at least this long and until it has made this many requests, so that its p99 is
     * a percentile and not the one slowest request (a GC pause in this shared JVM).
     */
    static final int MIN_GOOD = 200;
    static final Duration MIN_GOOD_TIME = Duration.ofMillis(1500);
    static final long HEAP_GROWTH_BOUND = 64L << 20;
    private long heapBound = HEAP_GROWTH_BOUND;
    static final long DIRECT_GROWTH_BOUND = 64L << 20;
    /** System property: how long each attack floods, in seconds; bench/attack/run.sh sets it for the long variant. */
    static final String DURATION_PROPERTY = "herald.attack.seconds";

    /** The flood duration: {@code ciDefault} (a few seconds), or {@value #DURATION_PROPERTY} when set. */
    static Duration attackDuration(Duration ciDefault) {
        String s = System.getProperty(DURATION_PROPERTY, "");
        return s.isBlank() ? ciDefault : Duration.ofSeconds(Long.parseLong(s.strip()));
    }

    private final HeraldExtension herald;
    private final String name;
    private final long heapBefore;
    private final long directBefore;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final java.util.concurrent.CountDownLatch goodServed = new java.util.concurrent.CountDownLatch(1);
    private final long goodStart = System.nanoTime();
    private final List<Long> latencies = new CopyOnWriteArrayList<>();
    private final List<String> goodFailures = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> good = new CompletableFuture<>();
    private final List<Flood> floods = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private String answered = "";

    private AttackScenario(HeraldExtension herald, String name) {
        this.herald = herald;
        this.name = name;
        this.heapBefore = heapAfterGc();
        this.directBefore = directUsed();
    }

    /** Starts the good client; the attack follows. */
    static AttackScenario start(HeraldExtension herald, String name) throws Exception {
        AttackScenario s = new AttackScenario(herald, name);
        NettyH2cClient client = new NettyH2cClient(herald.httpPort());
        for (int i = 0; i < 10; i++) {
            client.get("/hello.txt"); // warm-up, not measured: the attack starts on a served, warm connection
        }
        Thread t = new Thread(() -> s.goodLoop(client), "good-client");
        t.setDaemon(true);
        t.start();
        return s;
    }

    private void goodLoop(NettyH2cClient client) {
        try {
            while (!stop.get()) {
                long t0 = System.nanoTime();
                try {
                    HttpResult r = client.get("/hello.txt");
                    if (r.status() != 200) {
                        goodFailures.add("status " + r.status());
                    }
                } catch (Exception e) {
                    goodFailures.add(e.toString());
                }
                latencies.add(System.nanoTime() - t0);
                if (latencies.size() >= MIN_GOOD && System.nanoTime() - goodStart >= MIN_GOOD_TIME.toNanos()) {
                    goodServed.countDown();
                }
            }
            good.complete(null);
        } catch (Throwable e) {
            good.completeExceptionally(e);
        } finally {
            client.close();
        }
    }

    /** Keeps an attacker (or anything else) open until the end of the scenario. */
    <T extends AutoCloseable> T keep(T c) {
        closeables.add(c);
        return c;
    }

    /** Runs {@code step(i)} for i = 0, 1, ... on its own thread until {@code max} passed, it threw, or the end. */
    Flood flood(Duration max, Step step) {
        Flood f = new Flood(max, step, stop);
        floods.add(f);
        return f;
    }

    private long[] checkpoint;
    private String histogram = "";

    /** The top of the heap's class histogram, to say what grew. */
    static String histogram() {
        try {
            Object h = ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "gcClassHistogram", new Object[] {null}, new String[] {String[].class.getName()});
            return String.join("\n", java.util.Arrays.asList(h.toString().split("\n")).subList(0, 20));
        } catch (Exception e) {
            return "no histogram: " + e;
        }
    }

    /** Measures memory growth now (while an attacker holds the server in some state), for {@link #finish()}. */
    void checkpointMemory() {
        checkpoint = new long[] {heapAfterGc() - heapBefore, directUsed() - directBefore};
        // The clients share this JVM: frames in flight and their leak-detector records can be counted for a
        // moment. What the server retains stays through a few more looks; a transient burst does not.
        for (int i = 0; i < 6 && checkpoint[0] >= heapBound; i++) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            checkpoint[0] = Math.min(checkpoint[0], heapAfterGc() - heapBefore);
        }
        if (checkpoint[0] >= heapBound) {
            histogram = histogram();
        }
    }

    /** A different bound on heap growth, for attacks whose cost is known to be higher (see the caller). */
    void heapBound(long bytes) {
        this.heapBound = bytes;
    }

    /** Records what the attacker got, for the log line (and the report's table). */
    void answered(String what) {
        this.answered = what;
    }

    /**
     * Ends the attack: measures memory while the attackers are still connected, stops the good client and asserts
     * its p99 and that it was served, closes the attackers, and checks that Herald still serves.
     */
    void finish() throws Exception {
        for (Flood f : floods) {
            f.stopAndJoin();
        }
        boolean enough = goodServed.await(15, TimeUnit.SECONDS);
        if (checkpoint == null) {
            checkpointMemory();
        }
        long heapGrowth = checkpoint[0];
        if (heapGrowth >= heapBound) {
            LOG.warn("attack {}: heap +{} KiB, the largest classes:\n{}", name, heapGrowth >> 10, histogram);
        }
        long directGrowth = checkpoint[1];
        stop.set(true);
        good.get(30, TimeUnit.SECONDS);
        for (AutoCloseable c : closeables) {
            c.close();
        }
        closeables.clear();
        List<Long> sorted = new ArrayList<>(latencies);
        sorted.sort(null);
        long p99 = sorted.isEmpty() ? Long.MAX_VALUE : sorted.get((int) Math.min(sorted.size() - 1,
                Math.ceil(sorted.size() * 0.99) - 1));
        LOG.info("attack {}: answered [{}]; heap +{} KiB, direct +{} KiB; good client {} requests, p99 {} ms, "
                        + "{} failures", name, answered, heapGrowth >> 10, directGrowth >> 10, sorted.size(),
                TimeUnit.NANOSECONDS.toMillis(p99), goodFailures.size());
        assertThat(goodFailures).as("the good client's failures during %s", name).isEmpty();
        assertThat(enough).as("the good client made %s requests in time during %s", sorted.size(), name).isTrue();
        assertThat(Duration.ofNanos(p99)).as("the good client's p99 during %s", name).isLessThan(GOOD_P99);
        assertThat(heapGrowth).as("heap growth (bytes) during %s", name).isLessThan(heapBound);
        assertThat(directGrowth).as("direct memory growth (bytes) during %s", name).isLessThan(DIRECT_GROWTH_BOUND);
        NettyH2cClient after = new NettyH2cClient(herald.httpPort());
        try {
            HttpResult r = after.get("/hello.txt");
            assertThat(r.status()).as("Herald after %s: %s", name, r).isEqualTo(200);
        } finally {
            after.close();
        }
    }

    @Override
    public void close() {
        stop.set(true);
        for (Flood f : floods) {
            f.stop.set(true);
        }
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // cleaning up after a failed test
            }
        }
    }

    static long heapAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    static long directUsed() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            return p.metric().usedDirectMemory() + p.metric().usedHeapMemory();
        }
        return 0;
    }

    /** One step of a flood. */
    @FunctionalInterface
    interface Step {
        void run(int i) throws Exception;
    }

    /** A flood on its own thread. */
    static final class Flood {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicBoolean scenarioStop;
        private final AtomicLong steps = new AtomicLong();
        private final CompletableFuture<Throwable> done = new CompletableFuture<>();
        private final Thread thread;

        Flood(Duration max, Step step, AtomicBoolean scenarioStop) {
            this.scenarioStop = scenarioStop;
            long deadline = System.nanoTime() + max.toNanos();
            thread = new Thread(() -> {
                try {
                    for (int i = 0; !stop.get() && !scenarioStop.get() && System.nanoTime() < deadline; i++) {
                        step.run(i);
                        steps.incrementAndGet();
                    }
                    done.complete(null);
                } catch (Throwable e) {
                    done.complete(e); // the server closing on the attacker ends its flood: an expected outcome
                }
            }, "attack-flood");
            thread.setDaemon(true);
            thread.start();
        }

        long steps() {
            return steps.get();
        }

        boolean isDone() {
            return done.isDone();
        }

        /**
         * Waits until the flood ended (the server closed on it) or stalled (no step for {@code quiet}: the server
         * stopped reading, pushing back); true if either happened within {@code timeout}.
         */
        boolean awaitEndOrStall(Duration quiet, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            long last = -1;
            long lastChange = System.nanoTime();
            while (System.nanoTime() < deadline) {
                try {
                    done.get(100, TimeUnit.MILLISECONDS);
                    return true;
                } catch (java.util.concurrent.TimeoutException e) {
                    long n = steps();
                    if (n != last) {
                        last = n;
                        lastChange = System.nanoTime();
                    } else if (System.nanoTime() - lastChange > quiet.toNanos()) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** Waits for the flood to end by itself; returns what ended it (null: the time ran out). */
        Throwable await(Duration timeout) throws Exception {
            try {
                return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("the flood neither ended nor was cut off within " + timeout + " ("
                        + steps() + " steps, thread " + thread.getState() + " at "
                        + java.util.Arrays.toString(thread.getStackTrace()).substring(0, 300) + ")");
            }
        }

        void stopAndJoin() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }
    }
}
