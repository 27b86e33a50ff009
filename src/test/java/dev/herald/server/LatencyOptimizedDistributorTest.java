package dev.herald.server;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.StreamByteDistributor;
import io.netty.handler.codec.http2.WeightedFairQueueByteDistributor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The latency optimization over Netty's priority distributor, with a scripted socket: what it hands over, what it
 * keeps for the priorities, its cork and its wake-ups. The same code on a real epoll socket is in
 * {@link LatencyOptimizationOverWireTest}.
 */
class LatencyOptimizedDistributorTest {
    private static final long RTT = 100_000; // microseconds
    private static final int MSS = 1000;

    private Http2Connection connection = new DefaultHttp2Connection(true);
    private final FakeSocket socket = new FakeSocket();
    private final Map<Integer, State> states = new HashMap<>();
    private final List<String> written = new ArrayList<>();
    private LatencyOptimizedDistributor distributor;

    @BeforeEach
    void setUp() throws Exception {
        distributor = new LatencyOptimizedDistributor(new WeightedFairQueueByteDistributor(connection), connection,
                50_000, 64 * 1024);
        distributor.socket(socket);
        browserTree(distributor);
        socket.info.rttMicros = RTT;
        socket.info.minRttMicros = RTT;
        socket.info.mss = MSS;
        socket.info.cwnd = 10;
    }

    @Test
    void handsOverOnlyTheWindowAndAReserveAndTheDocumentOvertakesWhatIsHeld() throws Exception {
        pending(3, 50_000);
        socket.info.unacked = 10; // the window is full

        boolean more = distributor.distribute(65_535, this::write);

        assertThat(more).as("the pass ends; the wake-up starts the next").isFalse();
        assertThat(written).containsExactly("3:5000"); // the reserve: half a window
        assertThat(distributor.held()).isEqualTo(1);
        assertThat(socket.wakeUps).hasSize(1);
        assertThat(distributor.corked()).isTrue();

        // The document becomes ready; ACKs open the window: it goes first, the asset takes the rest.
        pending(1, 4_000);
        socket.info.unacked = 0;
        socket.info.notSent = 5_000;
        written.clear();
        distributor.distribute(65_535, this::write);

        assertThat(written).containsExactly("1:4000", "3:6000");
        assertThat(states.get(3).pending).isEqualTo(39_000);
    }

    @Test
    void withoutItTheWholeAssetLeavesInOnePass() throws Exception {
        connection = new DefaultHttp2Connection(true);
        StreamByteDistributor plain = new WeightedFairQueueByteDistributor(connection);
        browserTree(plain);
        distributor = null;
        State s = new State(connection.stream(3), 50_000);
        states.put(3, s);
        plain.updateStreamableBytes(s);

        plain.distribute(65_535, (stream, bytes) -> {
            written.add(stream.id() + ":" + bytes);
            s.pending -= bytes;
            plain.updateStreamableBytes(s);
        });

        assertThat(written).containsExactly("3:50000");
    }

    @Test
    void countsWhatIsStillUnsentInTheKernelAndTheChannel() throws Exception {
        pending(3, 50_000);
        socket.info.unacked = 4; // 6 segments free + 5 reserve = 11,000
        socket.info.notSent = 3_000;
        socket.pending = 2_500;

        distributor.distribute(65_535, this::write);

        assertThat(written).containsExactly("3:5500");
    }

    @Test
    void keepsNettysWritesOnAShortRoundTripOrALargeWindow() throws Exception {
        pending(3, 50_000);
        socket.info.unacked = 10;
        socket.info.rttMicros = 20_000; // under min-rtt (50 ms)

        assertThat(distributor.distribute(65_535, this::write)).isFalse();
        assertThat(written).containsExactly("3:50000");
        assertThat(distributor.corked()).isFalse();
        assertThat(socket.wakeUps).isEmpty();

        // Not looked at again within a second, even if the round trip grew.
        socket.info.rttMicros = RTT;
        socket.info.minRttMicros = RTT;
        pending(1, 1_000);
        written.clear();
        socket.infoReads = 0;
        distributor.distribute(65_535, this::write);
        assertThat(socket.infoReads).isZero();
        assertThat(written).containsExactly("1:1000");

        // A window over max-cwnd (64 KiB): bulk transfer, Netty's writes.
        socket.now += LatencyOptimizedDistributor.RECHECK_NANOS;
        socket.info.cwnd = 100;
        pending(3, 30_000);
        written.clear();
        distributor.distribute(65_535, this::write);
        assertThat(written).containsExactly("3:30000");
        assertThat(socket.infoReads).isEqualTo(1);
    }

    @Test
    void keepsNettysWritesWhenNoRequestAwaitsItsResponse() throws Exception {
        pending(3, 50_000);
        socket.info.unacked = 10;
        connection.stream(1).headersSent(false);
        connection.stream(3).headersSent(false);

        distributor.distribute(65_535, this::write);

        assertThat(written).containsExactly("3:50000");
        assertThat(socket.infoReads).isZero();
        assertThat(distributor.corked()).isFalse();

        // A new request, answered so far with a 103 only (informational): it waits, and the asset is held back.
        connection.remote().createStream(5, false).headersSent(true);
        pending(3, 50_000);
        written.clear();
        distributor.distribute(65_535, this::write);
        assertThat(written).containsExactly("3:5000");
    }

    @Test
    void offWhenMinRttIsZero() throws Exception {
        connection = new DefaultHttp2Connection(true);
        distributor = new LatencyOptimizedDistributor(new WeightedFairQueueByteDistributor(connection), connection,
                0, 64 * 1024);
        distributor.socket(socket);
        browserTree(distributor);
        pending(3, 50_000);
        socket.info.unacked = 10;

        distributor.distribute(65_535, this::write);

        assertThat(written).containsExactly("3:50000");
        assertThat(socket.infoReads).isZero();
    }

    @Test
    void aPassWithNothingToSendDoesNotCork() throws Exception {
        // A request waits and the conditions hold, but the flow controller has nothing queued: the flush this pass
        // precedes carries other frames (the waiting request's 103, a realtime frame), which must leave now.
        boolean more = distributor.distribute(65_535, this::write);

        assertThat(more).isFalse();
        assertThat(written).isEmpty();
        assertThat(socket.infoReads).as("the conditions were looked at").isPositive();
        assertThat(distributor.corked()).isFalse();
        assertThat(socket.corks).isEmpty();

        // The first bytes the flow controller writes cork it.
        pending(3, 2_000);
        distributor.distribute(65_535, this::write);
        assertThat(written).containsExactly("3:2000");
        assertThat(socket.corks).containsExactly(true);
    }

    @Test
    void uncorksAtOnceWhenNoStreamIsOpenElseOnceNothingWasWrittenForAMillisecond() throws Exception {
        long dry = LatencyOptimizedDistributor.DRY_NANOS;
        pending(3, 2_000);
        distributor.distribute(65_535, this::write);
        assertThat(written).containsExactly("3:2000");
        // Streams 1 and 3 are still open: a file's next chunk may follow, so the cork stays for now.
        assertThat(distributor.corked()).isTrue();
        assertThat(socket.wakeUps).containsExactly(dry);

        // The next chunk comes half way: written, and the dry clock starts again from it.
        socket.now += dry / 2;
        pending(3, 500);
        distributor.distribute(65_535, this::write);
        socket.now += dry * 3 / 4;
        socket.runWakeUp(); // the flush runs a pass that finds nothing, 0.75 ms after the last write
        distributor.distribute(65_535, this::write);
        assertThat(distributor.corked()).isTrue();

        socket.now += dry / 4;
        socket.runWakeUp();
        distributor.distribute(65_535, this::write);
        assertThat(distributor.corked()).isFalse();
        assertThat(socket.corks).containsExactly(true, false);

        // A pass that ends the last streams: they close once the flush has written their frames, and the task
        // queued for after it uncorks.
        pending(3, 1_000);
        socket.runQueued(); // the earlier passes' checks: streams still open, nothing changes
        distributor.distribute(65_535, this::write);
        assertThat(distributor.corked()).isTrue();
        connection.stream(1).close();
        connection.stream(3).close();
        socket.runQueued();
        assertThat(socket.corks).containsExactly(true, false, true, false);

        // With no stream open the cork comes off in the same pass.
        connection.remote().createStream(5, false);
        pending(5, 1_000);
        distributor.distribute(65_535, this::write);
        assertThat(socket.corks).containsExactly(true, false, true, false, true);
        connection.stream(5).close();
        distributor.distribute(65_535, this::write);
        assertThat(socket.corks).containsExactly(true, false, true, false, true, false);
    }

    @Test
    void sleepsUntilShortlyBeforeTheNextAcksWhenTheWindowIsFullAndQuiet() throws Exception {
        pending(3, 50_000);
        distributor.distribute(65_535, this::write); // room in the window: the flight starts now
        assertThat(written).containsExactly("3:15000");
        // The kernel sends the window and holds the reserve: nothing to do before this flight's ACKs are due.
        long margin = 6_250_000; // RTT/16
        assertThat(socket.wakeUps).containsExactly(TimeUnit.MILLISECONDS.toNanos(100) - margin);
        socket.runWakeUp();

        socket.now += TimeUnit.MILLISECONDS.toNanos(40);
        socket.info.unacked = 10;
        socket.info.notSent = 5_000; // the reserve is queued: nothing allowed
        socket.info.sinceAckMicros = 40_000;
        written.clear();
        distributor.distribute(65_535, this::write);

        assertThat(written).containsExactly("3:0");
        // RTT 100 ms, flight sent 40 ms ago: its ACKs are due in 60 ms; wake 100/16 ms before.
        long due = TimeUnit.MICROSECONDS.toNanos(60_000) - margin;
        assertThat(socket.wakeUps).containsExactly(TimeUnit.MILLISECONDS.toNanos(100) - margin, due);

        // An ACK that acknowledged nothing new (a request from the client, a WINDOW_UPDATE) starts no burst.
        socket.info.sinceAckMicros = 0;
        distributor.distribute(65_535, this::write);
        assertThat(socket.wakeUps).hasSize(2);

        // During a burst of ACKs it looks again soon, and an earlier wake-up replaces a later one.
        socket.info.bytesAcked += 4_000;
        distributor.distribute(65_535, this::write);
        assertThat(socket.wakeUps).containsExactly(TimeUnit.MILLISECONDS.toNanos(100) - margin, due,
                LatencyOptimizedDistributor.BURST_WAKE_NANOS);
        assertThat(socket.cancelled).isEqualTo(1);
    }

    /** A browser's tree: the document (1), then an asset that depends on it (3). */
    private void browserTree(StreamByteDistributor d) throws Exception {
        connection.remote().createStream(1, false);
        connection.remote().createStream(3, false);
        d.updateDependencyTree(3, 1, (short) 16, true);
    }

    @Test
    void wakesSoonDuringABurstOfAcksAndSleepsBetweenBursts() {
        long burst = LatencyOptimizedDistributor.BURST_WAKE_NANOS;
        long ms = TimeUnit.MILLISECONDS.toNanos(1);
        // New bytes acknowledged since the last pass, by an ACK within the last jiffy (4 ms at HZ=250): a burst is on.
        assertThat(LatencyOptimizedDistributor.nextWake(true, 100_000, 0, 50 * ms)).isEqualTo(burst);
        assertThat(LatencyOptimizedDistributor.nextWake(true, 100_000, 4_000, 50 * ms)).isEqualTo(burst);
        // A recent ACK that acknowledged nothing new, or new bytes acknowledged long ago: no burst.
        assertThat(LatencyOptimizedDistributor.nextWake(false, 100_000, 0, 50 * ms))
                .isEqualTo(100 * ms - 6_250_000 - 50 * ms);
        assertThat(LatencyOptimizedDistributor.nextWake(true, 100_000, 50_000, 50 * ms))
                .isEqualTo(100 * ms - 6_250_000 - 50 * ms);
        // Between bursts: asleep until one RTT after the flight's first send, less RTT/16 (at least 2 ms)...
        assertThat(LatencyOptimizedDistributor.nextWake(false, 100_000, 8_000, 8 * ms))
                .isEqualTo(100 * ms - 6_250_000 - 8 * ms);
        assertThat(LatencyOptimizedDistributor.nextWake(false, 20_000, 8_000, 8 * ms))
                .isEqualTo(20 * ms - 2 * ms - 8 * ms);
        // ...whatever ACK came last: a stray one 8 ms ago, 60 ms into the flight, does not push it out.
        assertThat(LatencyOptimizedDistributor.nextWake(false, 100_000, 8_000, 60 * ms))
                .isEqualTo(100 * ms - 6_250_000 - 60 * ms);
        // Due any moment: every millisecond until it comes.
        assertThat(LatencyOptimizedDistributor.nextWake(false, 100_000, 96_000, 96 * ms))
                .isEqualTo(LatencyOptimizedDistributor.PRE_BURST_WAKE_NANOS);
    }

    private void pending(int id, int bytes) {
        State s = states.computeIfAbsent(id, i -> new State(connection.stream(i), 0));
        s.pending += bytes;
        distributor.updateStreamableBytes(s);
    }

    private void write(Http2Stream stream, int bytes) {
        written.add(stream.id() + ":" + bytes);
        State s = states.get(stream.id());
        s.pending -= bytes;
        distributor.updateStreamableBytes(s);
    }

    private static final class State implements StreamByteDistributor.StreamState {
        private final Http2Stream stream;
        int pending;

        State(Http2Stream stream, int pending) {
            this.stream = stream;
            this.pending = pending;
        }

        @Override
        public Http2Stream stream() {
            return stream;
        }

        @Override
        public long pendingBytes() {
            return pending;
        }

        @Override
        public boolean hasFrame() {
            return pending > 0;
        }

        @Override
        public int windowSize() {
            return 1 << 20;
        }
    }

    private static final class FakeSocket implements LatencyOptimizedDistributor.Socket {
        final LatencyOptimizedDistributor.TcpInfo info = new LatencyOptimizedDistributor.TcpInfo();
        final List<Long> wakeUps = new ArrayList<>();
        final List<Boolean> corks = new ArrayList<>();
        final List<Runnable> queued = new ArrayList<>();
        Runnable wakeTask;
        long now = 1_000_000_000L;
        long pending;
        int infoReads;
        int cancelled;

        @Override
        public boolean tcpInfo(LatencyOptimizedDistributor.TcpInfo out) {
            infoReads++;
            out.rttMicros = info.rttMicros;
            out.mss = info.mss;
            out.cwnd = info.cwnd;
            out.unacked = info.unacked;
            out.notSent = info.notSent;
            out.minRttMicros = info.minRttMicros;
            out.sinceAckMicros = info.sinceAckMicros;
            out.bytesAcked = info.bytesAcked;
            return true;
        }

        @Override
        public long pendingOutbound() {
            return pending;
        }

        @Override
        public boolean cork(boolean on) {
            corks.add(on);
            return true;
        }

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public Object schedule(Runnable task, long delayNanos) {
            wakeUps.add(delayNanos);
            wakeTask = task;
            return wakeUps.size();
        }

        @Override
        public void cancel(Object handle) {
            cancelled++;
        }

        @Override
        public void execute(Runnable task) {
            queued.add(task);
        }

        @Override
        public void flush() {
        }

        void runQueued() {
            List<Runnable> tasks = new ArrayList<>(queued);
            queued.clear();
            tasks.forEach(Runnable::run);
        }

        void runWakeUp() {
            wakeTask.run();
        }
    }
}
