package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * Shapes what a TLS connection hands to its {@link SslHandler}, right behind it: how large its records are and how
 * often it writes to the socket. Both matter most at the start of a connection, when TCP's congestion window is a
 * handful of packets (counted in packets, not bytes) and a page, its pushes and its hints race for them.
 *
 * <h2>Record size</h2>
 * Records of about one TCP segment while the connection is new or has been idle, full 16 KiB records once it
 * carries bulk data. A client can decrypt a record only once all of it has arrived, so a 16 KiB record that starts
 * in one round trip of slow start and ends in the next holds back everything in it (a page that shares its record
 * with the first bytes of a push waits one round trip more; measured in {@code bench/push}); small records are
 * usable packet by packet. Large records cost less CPU per byte, so bulk transfers switch to them after
 * {@link #BOOST_AFTER}. The scheme of Go's {@code crypto/tls} (small records for the first 128 KB) and of
 * Cloudflare's nginx patch ({@code ssl_dyn_rec_size_lo 1369}, back to small after 1 s idle, when TCP restarts slow
 * start too). The wrap size is set at each flush from the plaintext bytes flushed before it, so a flush's records
 * are all small or all large.
 *
 * <h2>Flushes during a read</h2>
 * A flush asked for while a read is being handled (including the one that completes the handshake) is done once,
 * when the read completes. Netty already does this for HTTP/2 stream channels; at the connection level, the read
 * that completes the handshake otherwise writes the server's SETTINGS, the HTTP/2 codec's connection
 * WINDOW_UPDATE and Herald's own as separate packets, each taking one of the first round trip's ten, ahead of the
 * response that usually arrived in the same read. Now they leave with it, as nginx's do. Writes are not held:
 * the channel's writability sees them as before, and a read always ends with its read-complete event.
 *
 * <p>Event-loop confined.
 */
final class TlsWriteShaper extends ChannelDuplexHandler {
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
     * page loads; the smaller costs less (22 bytes of overhead per small record).
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
    private boolean reading;
    private boolean flushDeferred;

    TlsWriteShaper(SslHandler ssl) {
        this.ssl = ssl;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ticker = ctx.executor().ticker();
        lastFlush = ticker.nanoTime();
        size = SMALL;
        ssl.setWrapDataSize(SMALL);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent && !reading) {
            // Fired from within the read that completed the handshake, before any of its plaintext. Should it ever
            // come from elsewhere (a delegated task), the task below ends the wait.
            reading = true;
            ctx.executor().execute(() -> {
                if (reading) {
                    reading = false;
                    if (flushDeferred) {
                        flushDeferred = false;
                        flushNow(ctx);
                    }
                }
            });
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        reading = false;
        ctx.fireChannelReadComplete();
        if (flushDeferred) {
            flushDeferred = false;
            flushNow(ctx);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        reading = false;
        flushDeferred = false;
        ctx.fireChannelInactive();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf b) {
            written += b.readableBytes();
        } else if (msg instanceof ByteBufHolder h) {
            written += h.content().readableBytes();
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (reading) {
            flushDeferred = true;
        } else {
            flushNow(ctx);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (flushDeferred) { // a handler that flushes then closes within a read: its bytes go before the close
            flushDeferred = false;
            flushNow(ctx);
        }
        ctx.close(promise);
    }

    private void flushNow(ChannelHandlerContext ctx) {
        if (written > 0) {
            long now = ticker.nanoTime();
            if (now - lastFlush >= IDLE_NANOS) {
                flushed = 0;
            }
            lastFlush = now;
            int want = flushed < BOOST_AFTER ? SMALL : LARGE;
            if (want != size) {
                size = want;
                ssl.setWrapDataSize(want);
            }
            flushed += written;
            written = 0;
        }
        ctx.flush();
    }
}
