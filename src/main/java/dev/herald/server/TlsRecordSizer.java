package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.PendingWriteQueue;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Ticker;

import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic TLS record sizing, right behind the {@link SslHandler}: records of about one TCP segment while the
 * connection is new or has been idle, full 16 KiB records once it carries bulk data.
 *
 * <p>A client can decrypt a record only once all of it has arrived, so a 16 KiB record that starts in one round trip
 * of slow start and ends in the next holds back everything in it: in {@code bench/push} a page written in one go
 * with its pushes shared its last record with the first push bytes and completed one round trip later. Small
 * records are usable packet by packet. Large records cost less CPU and fewer bytes per byte sent (22 bytes of
 * overhead per record), so bulk transfers switch to them after {@link #BOOST_AFTER}. The scheme of Go's
 * {@code crypto/tls} (small records for the first 128 KB) and of Cloudflare's nginx patch
 * ({@code ssl_dyn_rec_size_lo 1369}, back to small after 1 s idle, when TCP restarts slow start too).
 *
 * <p>The wrap size is set at each flush (a flush's records are all small or all large): small while the
 * connection's bytes stay within the threshold. The write that crosses it, and the writes after it, wait here until
 * the next flush, which sends what came before in small records, then them in large ones. It never flushes from a
 * write: the HTTP/2 flow controller writes in the middle of walking its priority tree, and a flush there completes
 * earlier writes, closes their streams and changes the tree under the walk (Netty then ends the connection with
 * INTERNAL_ERROR, "Error flushing"; nghttp lost a pushed script that way on most page loads).
 *
 * <p>Measured and dropped: holding the flushes asked for during every read until it completes. It made the 103
 * Early Hints client of {@code bench/push} 5-20 ms slower (its assets' first round trip carried less of
 * style.css), more than it gained elsewhere. Only the handshake's reads are held now ({@link HandshakeFlushHolder}),
 * so a new connection's tickets, SETTINGS and WINDOW_UPDATE leave in one packet with the response, as nginx's do.
 *
 * <p>Event-loop confined.
 */
final class TlsRecordSizer extends ChannelDuplexHandler {
    /**
     * Plaintext per small record: with TLS 1.3's 22 bytes of record overhead it fits one segment of a 1500-byte
     * MTU path over IPv6 with TCP timestamps (1,400-byte payload); Cloudflare's value.
     */
    static final int SMALL = 1369;
    /** The protocol's maximum plaintext per record, Netty's default wrap size. */
    static final int LARGE = 16 * 1024;
    /**
     * Plaintext bytes flushed in small records before large ones: about what slow start from ten segments sends in
     * its first two round trips (10 + 20 segments). In bench/push 32 KiB and 128 KiB (Go's value) gave the same
     * page loads; the smaller costs less.
     */
    static final long BOOST_AFTER = 32 * 1024;
    /** A connection that flushed nothing for this long starts over with small records. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final SslHandler ssl;
    private Ticker ticker;
    private long written;
    private long flushed;
    private long lastFlush;
    private int size;
    /** The write that crossed the threshold and those after it, until the next flush; null before handlerAdded. */
    private PendingWriteQueue held;
    private long heldBytes;

    TlsRecordSizer(SslHandler ssl) {
        this.ssl = ssl;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ticker = ctx.executor().ticker();
        lastFlush = ticker.nanoTime();
        size = SMALL;
        ssl.setWrapDataSize(SMALL);
        held = new PendingWriteQueue(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        int n = msg instanceof ByteBuf b ? b.readableBytes()
                : msg instanceof ByteBufHolder h ? h.content().readableBytes() : 0;
        if (!held.isEmpty() || size == SMALL && written > 0 && flushed + written + n > BOOST_AFTER
                && ticker.nanoTime() - lastFlush < IDLE_NANOS) {
            // This write takes the connection past the threshold: what is pending goes at the next flush in small
            // records, this write and the rest in large ones (one flush of 64 KiB would otherwise be all small).
            held.add(msg, promise);
            heldBytes += n;
            return;
        }
        written += n;
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        sizeAndFlush(ctx);
        if (!held.isEmpty()) {
            written = heldBytes;
            heldBytes = 0;
            held.removeAndWriteAll();
            sizeAndFlush(ctx);
        }
    }

    private void sizeAndFlush(ChannelHandlerContext ctx) {
        if (written > 0) {
            long now = ticker.nanoTime();
            if (now - lastFlush >= IDLE_NANOS) {
                flushed = 0;
            }
            lastFlush = now;
            int want = flushed + written <= BOOST_AFTER ? SMALL : LARGE;
            if (want != size) {
                size = want;
                ssl.setWrapDataSize(want);
            }
            flushed += written;
            written = 0;
        }
        ctx.flush();
    }

    /** Held writes keep their place before a close, as if they had gone on at once (a close does not flush). */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        releaseHeld();
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseHeld();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (held != null && !held.isEmpty()) {
            heldBytes = 0;
            held.removeAndFailAll(new ClosedChannelException());
        }
        ctx.fireChannelInactive();
    }

    private void releaseHeld() {
        if (held != null && !held.isEmpty()) {
            written += heldBytes;
            heldBytes = 0;
            held.removeAndWriteAll();
        }
    }
}
