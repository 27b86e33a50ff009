package dev.herald.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Sits after {@code Http2MultiplexHandler} and sees the connection-level frames: it sets the connection
 * receive window, and turns idle timeouts and server shutdown into a graceful close
 * (the frame codec sends GOAWAY and lets open streams finish within {@code shutdown-timeout}).
 */
final class Http2ConnectionObserver extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http2ConnectionObserver.class);

    private final ServerContext server;

    Http2ConnectionObserver(ServerContext server) {
        this.server = server;
    }

    /** Brings the connection receive window to {@code http2.connection-window-size} (Netty sizes it from the stream window). */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
        Http2Connection conn = codec.connection();
        conn.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onGoAwaySent(int lastStreamId, long errorCode, ByteBuf debugData) {
                if (errorCode != Http2Error.NO_ERROR.code() && errorCode != Http2Error.INTERNAL_ERROR.code()) {
                    // Netty's flood guards (RST_STREAM, queued control frames, empty DATA, CONTINUATION) and
                    // the client's protocol errors end here; INTERNAL_ERROR is Herald's side (a write that
                    // failed because the client left), not a limit.
                    Http2Error e = Http2Error.valueOf(errorCode);
                    server.limitLog.exceeded("h2 GOAWAY " + (e == null ? "0x" + Long.toHexString(errorCode) : e),
                            ConnectionInfo.of(ctx.channel()).remote, "last stream " + lastStreamId + ": "
                                    + debugData.toString(StandardCharsets.UTF_8));
                }
            }
        });
        int current = conn.local().flowController().windowSize(conn.connectionStream());
        int delta = server.config.connectionWindowSize() - current;
        if (delta > 0) {
            ctx.write(new DefaultHttp2WindowUpdateFrame(delta));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame
                    && ((Http2SettingsFrame) msg).settings().initialWindowSize() != null) {
                Http2DataWriter w = Http2DataWriter.ifPresent(ctx.channel());
                if (w != null) {
                    w.initialWindowChanged(); // Netty applied the new windows as it read the frame, just before
                }
            }
            if (msg instanceof Http2GoAwayFrame) {
                LOG.debug("{}: GOAWAY from client: {}", ctx.channel(), ((Http2GoAwayFrame) msg).errorCode());
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Http2DataWriter w = Http2DataWriter.ifPresent(ctx.channel());
        if (w != null) {
            w.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Http2DataWriter w = Http2DataWriter.ifPresent(ctx.channel());
        if (w != null) {
            w.closed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ShutdownEvent.INSTANCE) {
            ctx.channel().close(); // Http2ConnectionHandler.close: GOAWAY, then wait for open streams
            return;
        }
        if (evt instanceof IdleStateEvent) {
            Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
            if (codec != null && codec.connection().numActiveStreams() > 0) {
                // Idle means no open stream; long-running responses keep their own heartbeats, and a stream whose
                // request stalls is answered 408 and reset by its own idle timeout (Http2StreamHandler), after which
                // the connection goes idle here.
                return;
            }
            LOG.debug("{}: idle, closing", ctx.channel());
            ctx.channel().close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            // The frame codec tells the pipeline first, then sends GOAWAY with the right error code itself;
            // closing here would send GOAWAY(NO_ERROR) ahead of it.
            LOG.debug("{}: HTTP/2 protocol error: {}", ctx.channel(), cause.toString());
            return;
        }
        LOG.debug("{}: HTTP/2 connection failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
