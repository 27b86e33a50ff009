package dev.herald.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** An HTTP/2 client on Netty speaking h2c with prior knowledge (what Java's HttpClient cannot do). */
public final class NettyH2cClient implements TestClient {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final int port;

    public NettyH2cClient(int port) throws InterruptedException {
        this.port = port;
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)
                                        .initialWindowSize(1 << 20))
                                .build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                // pushed streams are not expected on this client
                            }
                        }));
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
    }

    @Override
    public String name() {
        return "h2c-prior-knowledge";
    }

    @Override
    public HttpResult send(String method, String path, Map<String, String> headers, byte[] body) throws Exception {
        CompletableFuture<HttpResult> result = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(channel)
                .handler(new ResponseCollector(result)).open().get(5, TimeUnit.SECONDS);
        Http2Headers h = new DefaultHttp2Headers().method(method).path(path).scheme("http")
                .authority("127.0.0.1:" + port);
        headers.forEach((k, v) -> h.add(k.toLowerCase(Locale.ROOT), v));
        boolean hasBody = body != null && body.length > 0;
        stream.write(new DefaultHttp2HeadersFrame(h, !hasBody));
        if (hasBody) {
            stream.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
        }
        stream.flush();
        return result.get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Collects one response on its stream child channel; completes at END_STREAM or reset. */
    private static final class ResponseCollector extends SimpleChannelInboundHandler<Http2StreamFrame> {
        private final CompletableFuture<HttpResult> result;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final Map<String, List<String>> headers = new TreeMap<>();
        private int status;

        ResponseCollector(CompletableFuture<HttpResult> result) {
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            if (frame instanceof Http2HeadersFrame) {
                Http2HeadersFrame hf = (Http2HeadersFrame) frame;
                CharSequence s = hf.headers().status();
                if (s != null) {
                    int code = Integer.parseInt(s.toString());
                    if (code >= 200) {
                        status = code;
                        hf.headers().forEach(e -> {
                            if (e.getKey().charAt(0) != ':') {
                                headers.computeIfAbsent(e.getKey().toString(), k -> new ArrayList<>())
                                        .add(e.getValue().toString());
                            }
                        });
                    }
                }
                if (hf.isEndStream()) {
                    done(ctx);
                }
            } else if (frame instanceof Http2DataFrame) {
                Http2DataFrame df = (Http2DataFrame) frame;
                ByteBuf content = df.content();
                body.writeBytes(ByteBufUtil.getBytes(content));
                if (df.isEndStream()) {
                    done(ctx);
                }
            } else if (frame instanceof Http2ResetFrame) {
                result.completeExceptionally(new IllegalStateException(
                        "stream reset: " + ((Http2ResetFrame) frame).errorCode()));
            }
        }

        private void done(ChannelHandlerContext ctx) {
            result.complete(new HttpResult(status, headers, body.toByteArray(), "HTTP/2"));
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IllegalStateException("stream closed before the response ended"));
        }
    }
}
