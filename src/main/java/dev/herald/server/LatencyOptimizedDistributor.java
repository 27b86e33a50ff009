package dev.herald.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.RawUnixChannelOption;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamVisitor;
import io.netty.handler.codec.http2.StreamByteDistributor;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * h2o's "latency optimization" for Netty's HTTP/2 flow controller: on a connection with a long round trip and a
 * small congestion window, hand the socket only what TCP can send now (plus a small reserve), and keep the rest per
 * stream in the flow controller, where stream priorities still decide what goes next.
 *
 * <h2>Why</h2>
 * Netty's flow controller writes at least 32 KiB per pass, and the kernel queues whatever it is given behind the
 * congestion window. A response that becomes ready later then waits behind every byte queued before it, whatever
 * its priority. In {@code bench/push}, Chromium's document, ready after the server's think time, ended 100-200 ms
 * late: the assets its 103 Early Hints named had filled the kernel's queue meanwhile. {@code TCP_NOTSENT_LOWAT}
 * alone cannot bound that queue ({@code http2.send-buffer}): the kernel fills its last segment-to-be (up to half the
 * peer's window) before it checks the limit.
 *
 * <h2>How</h2>
 * <ul>
 *   <li><b>When.</b> While a client's request waits for its response (the one that should overtake), the smoothed
 *       RTT is at least {@code minRtt} and the congestion window is under {@code maxCwnd} bytes (h2o's
 *       {@code http2-latency-optimization-min-rtt} and {@code -max-cwnd}); bulk transfers, short round trips and
 *       connections with nothing waiting keep Netty's usual writes. Short RTTs and large windows are looked at
 *       again each second. Measured: applied to every write, it cost {@code bench/push}'s pushed page at think
 *       time 0 a fourth round trip in 3 to 7 of 10 loads (part-filled packets the cork did not prevent).</li>
 *   <li><b>How much.</b> Each distribution reads {@code TCP_INFO} and allows
 *       {@code (cwnd - unacked + max(2, cwnd / 2)) × mss} bytes less what is still unsent: in the kernel
 *       ({@code tcpi_notsent_bytes}) and in the channel's outbound buffer (the TLS handler's queue included). The
 *       reserve of half a window is what the kernel sends by itself when the next ACKs arrive, before Herald looks
 *       again; a response that becomes ready waits behind at most that, not behind everything.</li>
 *   <li><b>Whole segments.</b> {@code TCP_CORK} is on while the connection is optimized and streams have more to
 *       send, so the last part-filled segment of a write waits for the next write instead of taking a packet of
 *       the window. Measured: without it, a page pushed in three round trips took four, its rounds' packets a few
 *       hundred bytes short each. The cork comes off when nothing is left to write: at once when no stream is
 *       open, else once nothing was written for {@link #DRY_NANOS} (a file's next chunk often follows a moment
 *       later).</li>
 *   <li><b>When to look again.</b> The kernel gives no event when an ACK opens the window (h2o polls for
 *       writability with {@code TCP_NOTSENT_LOWAT} 1; Netty's edge-triggered epoll asks for it only after a write
 *       fell short). So while it holds bytes back it wakes the connection itself: every {@link #BURST_WAKE_NANOS}
 *       while ACKs are arriving, else shortly before the next round of ACKs is due ({@link #nextWake}).</li>
 * </ul>
 *
 * <p>Only on epoll sockets ({@code TCP_INFO}, {@code TCP_CORK}); elsewhere, and when off, it is the wrapped
 * distributor unchanged. Event-loop confined, like the flow controller that calls it.
 */
final class LatencyOptimizedDistributor extends ForwardingDistributor {
    private static final Logger LOG = LoggerFactory.getLogger(LatencyOptimizedDistributor.class);
    /** Wake-up interval while ACKs arrive: a slow-start round's ACKs come within a few milliseconds. */
    static final long BURST_WAKE_NANOS = TimeUnit.MICROSECONDS.toNanos(250);
    /** Wake-up interval from shortly before a burst of ACKs is due until it comes. */
    static final long PRE_BURST_WAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * The granularity of {@code tcpi_last_ack_recv} at HZ=250 (jiffies; 1 ms at HZ=1000); also the quiet spell
     * after which room in the window starts a new flight.
     */
    static final long ACK_JIFFY_MICROS = 4_000;
    /** How long nothing must be written before the cork comes off while streams are open. */
    static final long DRY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** A connection found outside the conditions (short RTT, large window) is looked at again after this. */
    static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Http2Connection connection;
    private final long minRttMicros;
    private final long maxCwndBytes;
    private final TcpInfo tcp = new TcpInfo();
    private final Runnable wake = this::wake;
    private final Runnable endCheck = this::endCheck;
    private final CountingWriter counting = new CountingWriter();
    private Socket socket;
    private Object wakeUp;
    private long wakeAt;
    private long nextWake;
    private long flightStart;
    private long lastRoom;
    /** {@code tcpi_bytes_acked} at the last pass: whether ACKs came since. */
    private long lastBytesAcked;
    private long offUntil;
    private long drySince;
    private boolean corked;
    /** Whether the last distribution found the connection within the conditions. */
    private boolean active;
    private long held;
    private boolean announced;
    private boolean endCheckQueued;

    /**
     * @param minRttMicros the smoothed RTT from which it acts; 0 turns it off
     * @param maxCwndBytes the congestion window (bytes) from which Netty's usual writes resume
     */
    LatencyOptimizedDistributor(StreamByteDistributor delegate, Http2Connection connection, long minRttMicros,
            long maxCwndBytes) {
        super(delegate);
        this.connection = connection;
        this.minRttMicros = minRttMicros;
        this.maxCwndBytes = maxCwndBytes;
    }

    /** The connection it writes to; not an epoll socket, or never set: it only delegates. */
    void channel(Channel ch) {
        if (ch instanceof EpollSocketChannel epoll) {
            socket(new EpollSocket(epoll));
        }
    }

    void socket(Socket s) {
        socket = minRttMicros > 0 ? s : null;
    }

    /** Distributions that held bytes back. */
    long held() {
        return held;
    }

    boolean corked() {
        return corked;
    }

    @Override
    public boolean distribute(int maxBytes, Writer writer) throws Http2Exception {
        int allowed = allowed(maxBytes);
        counting.target = writer;
        counting.wrote = false;
        // Zero still lets empty frames out (a stream's end, trailers).
        boolean more = delegate.distribute(allowed, counting);
        if (active && (more || counting.wrote)) {
            // Before the flush that follows this pass takes the written frames to the socket. Not when the flow
            // controller had nothing to send: what this flush carries (a 103, HEADERS, a realtime frame) goes now.
            cork(true);
        }
        if (!more) {
            dry();
            return false;
        }
        drySince = 0;
        if (allowed == maxBytes) {
            return true;
        }
        held++;
        wakeIn(nextWake);
        // False ends the flow controller's pass; the wake-up, a window update or new data start the next.
        return false;
    }

    private int allowed(int maxBytes) {
        active = false;
        Socket s = socket;
        if (s == null || (offUntil != 0 && s.nanoTime() < offUntil) || !awaitingResponse() || !s.tcpInfo(tcp)) {
            return maxBytes;
        }
        if (tcp.rttMicros < minRttMicros || tcp.cwnd * tcp.mss >= maxCwndBytes) {
            // Back to Netty's writes. A cork stays until the flow controller runs dry (dry()): taking it off
            // now, mid-burst, would send the last part-filled segment as a packet of its own.
            offUntil = s.nanoTime() + RECHECK_NANOS;
            return maxBytes;
        }
        offUntil = 0;
        if (!announced) {
            announced = true;
            LOG.debug("{}: latency optimization on (rtt {} us, cwnd {} x {} bytes)", s, tcp.rttMicros, tcp.cwnd,
                    tcp.mss);
        }
        active = true;
        long free = Math.max(0, tcp.cwnd - tcp.unacked);
        long sendable = (free + Math.max(2, tcp.cwnd / 2)) * tcp.mss;
        long allowed = Math.max(0, Math.min(maxBytes, sendable - tcp.notSent - s.pendingOutbound()));
        long now = s.nanoTime();
        if (free > 0) {
            if (now - lastRoom > TimeUnit.MICROSECONDS.toNanos(ACK_JIFFY_MICROS)) {
                flightStart = now; // room after a quiet spell: what goes now is ACKed one RTT from now
            }
            lastRoom = now;
        }
        boolean newAcks = tcp.bytesAcked != lastBytesAcked;
        lastBytesAcked = tcp.bytesAcked;
        nextWake = nextWake(newAcks, tcp.minRttMicros, tcp.sinceAckMicros, now - flightStart);
        return (int) allowed;
    }

    /**
     * When to look again while bytes are held back. ACKs come in bursts one RTT apart (slow start sends each round
     * as a burst): the next burst is due one RTT (the minimum seen, {@code tcpi_min_rtt}: the smoothed RTT grows with
     * the client's delayed ACKs, and waking late splits a round) after the first send of the current flight ({@code flightStart},
     * the first pass that found room in the window after a quiet spell). While a burst is arriving (bytes were
     * acknowledged since the last pass, by an ACK within the last jiffy or so: {@code tcpi_last_ack_recv} counts in
     * jiffies, 4 ms at HZ=250), soon; otherwise asleep until shortly before the next burst is due, then every
     * millisecond until it comes (the kernel sends the reserve on its first ACKs by itself). Not from the last ACK: a
     * stray one (a delayed ACK, a WINDOW_UPDATE) would put the wake-up after the real burst. Room in the window
     * alone is no reason to look soon: after a pass that held bytes back the kernel holds more than the room (the
     * reserve), and sends it by itself. Measured: when room or any recent ACK was reason enough, a hinted page load's
     * connection woke about 36 times 250 µs apart, mostly while the kernel deferred a one-segment send (TSO
     * deferral) or right after an ACK that acknowledged nothing new; now less than once.
     */
    static long nextWake(boolean newAcks, long rttMicros, long sinceAckMicros, long sinceFlightStartNanos) {
        if (newAcks && sinceAckMicros <= ACK_JIFFY_MICROS) {
            return BURST_WAKE_NANOS;
        }
        long margin = Math.max(rttMicros / 16, 2_000);
        long due = TimeUnit.MICROSECONDS.toNanos(rttMicros - margin) - sinceFlightStartNanos;
        return due > 0 ? due : PRE_BURST_WAKE_NANOS;
    }

    /**
     * Whether a client's request on this connection still waits for its response (no HEADERS yet, a 103 aside):
     * the response a held-back queue would delay once it is ready. Without one there is nothing to overtake, and
     * Netty's writes keep the kernel's queue full, which costs nothing and packs segments best.
     */
    private boolean awaitingResponse() {
        try {
            return connection.forEachActiveStream(AWAITING) != null;
        } catch (Http2Exception e) {
            throw new IllegalStateException(e); // the visitor throws nothing
        }
    }

    /** Stops at a client-initiated stream whose response has not started. */
    private static final Http2StreamVisitor AWAITING = stream -> (stream.id() & 1) == 0 || stream.isHeadersSent();

    /**
     * Nothing left to write for now. Uncork at once if no stream is open: nothing more is coming. Otherwise once
     * nothing was written for {@link #DRY_NANOS}: a response's next bytes often follow a moment later (a file's next
     * chunk, once its stream channel is writable again), and uncorking at once would send a part-filled segment. A
     * task after this flush looks again, as the streams this pass ended close when their last frames are written.
     */
    private void dry() {
        if (!corked) {
            return;
        }
        long now = socket.nanoTime();
        if (counting.wrote) {
            drySince = now;
        }
        if (connection.numActiveStreams() == 0) {
            uncork();
            return;
        }
        if (!endCheckQueued) {
            endCheckQueued = true;
            socket.execute(endCheck);
        }
        if (drySince == 0) {
            drySince = now;
            wakeIn(DRY_NANOS);
        } else if (now - drySince >= DRY_NANOS) {
            uncork();
        } else {
            wakeIn(DRY_NANOS - (now - drySince));
        }
    }

    private void endCheck() {
        endCheckQueued = false;
        if (corked && connection.numActiveStreams() == 0) {
            uncork();
        }
    }

    private void uncork() {
        drySince = 0;
        cork(false);
    }

    private void cork(boolean on) {
        if (corked != on && socket != null && socket.cork(on)) {
            corked = on;
        }
    }

    private void wakeIn(long delayNanos) {
        long at = socket.nanoTime() + delayNanos;
        if (wakeUp != null) {
            if (wakeAt <= at) {
                return;
            }
            socket.cancel(wakeUp);
        }
        wakeAt = at;
        wakeUp = socket.schedule(wake, delayNanos);
    }

    private void wake() {
        wakeUp = null;
        socket.flush();
    }

    /** The flow controller's writer, noting whether a pass wrote any bytes. */
    private static final class CountingWriter implements Writer {
        Writer target;
        boolean wrote;

        @Override
        public void write(Http2Stream stream, int numBytes) {
            if (numBytes > 0) {
                wrote = true;
            }
            target.write(stream, numBytes);
        }
    }

    /** The fields of {@code struct tcp_info} used here. */
    static final class TcpInfo {
        long rttMicros;
        long mss;
        long cwnd;
        long unacked;
        long notSent;
        long minRttMicros;
        long sinceAckMicros;
        long bytesAcked;
    }

    /** What the distributor needs of the connection's socket and event loop; a seam for tests. */
    interface Socket {
        /** Fills {@code info}; false if the socket is closed or cannot tell. */
        boolean tcpInfo(TcpInfo info);

        /** Bytes written to the channel that have not reached the kernel yet. */
        long pendingOutbound();

        /** Sets {@code TCP_CORK}; false if it could not. */
        boolean cork(boolean on);

        long nanoTime();

        /** Runs {@code task} on the event loop after {@code delayNanos}; returns a handle for {@link #cancel}. */
        Object schedule(Runnable task, long delayNanos);

        void cancel(Object handle);

        /** Runs {@code task} on the event loop after the current task. */
        void execute(Runnable task);

        /** Flushes the channel, which runs the HTTP/2 flow controller's next pass. */
        void flush();
    }

    /** An epoll socket: {@code getsockopt(TCP_INFO)} through Netty's raw option, {@code TCP_CORK} through its config. */
    static final class EpollSocket implements Socket {
        /** {@code getsockopt(IPPROTO_TCP, TCP_INFO)}: {@code struct tcp_info} up to {@code tcpi_min_rtt}. */
        private static final RawUnixChannelOption TCP_INFO = new RawUnixChannelOption("TCP_INFO", 6, 11, 152);
        // Offsets in struct tcp_info (linux/tcp.h; u32, native byte order).
        private static final int SND_MSS = 16;
        private static final int UNACKED = 24;
        private static final int LAST_ACK_RECV = 56;
        private static final int RTT = 68;
        private static final int SND_CWND = 80;
        private static final int BYTES_ACKED = 120; // u64
        private static final int NOTSENT_BYTES = 144;
        private static final int MIN_RTT = 148;

        private final EpollSocketChannel ch;

        EpollSocket(EpollSocketChannel ch) {
            this.ch = ch;
        }

        @Override
        public boolean tcpInfo(TcpInfo info) {
            if (!ch.isActive()) {
                return false;
            }
            ByteBuffer b = ch.config().getOption(TCP_INFO).order(ByteOrder.nativeOrder());
            if (b.limit() < MIN_RTT + 4) { // a kernel before 4.10
                return false;
            }
            info.mss = u32(b, SND_MSS);
            info.unacked = u32(b, UNACKED);
            info.sinceAckMicros = u32(b, LAST_ACK_RECV) * 1000;
            info.rttMicros = u32(b, RTT);
            info.cwnd = u32(b, SND_CWND);
            info.notSent = u32(b, NOTSENT_BYTES);
            info.minRttMicros = u32(b, MIN_RTT);
            info.bytesAcked = b.getLong(BYTES_ACKED);
            return true;
        }

        private static long u32(ByteBuffer b, int offset) {
            return b.getInt(offset) & 0xFFFF_FFFFL;
        }

        @Override
        public long pendingOutbound() {
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            return out == null ? 0 : out.totalPendingWriteBytes();
        }

        @Override
        public boolean cork(boolean on) {
            if (!ch.isActive()) {
                return false;
            }
            ch.config().setTcpCork(on);
            return true;
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Object schedule(Runnable task, long delayNanos) {
            return ch.eventLoop().schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void cancel(Object handle) {
            ((ScheduledFuture<?>) handle).cancel(false);
        }

        @Override
        public void execute(Runnable task) {
            ch.eventLoop().execute(task);
        }

        @Override
        public void flush() {
            if (ch.isActive()) {
                ch.flush();
            }
        }

        @Override
        public String toString() {
            return String.valueOf(ch.remoteAddress());
        }
    }
}
