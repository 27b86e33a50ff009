package dev.herald.stream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An h2c subscriber that never reads: a tiny stream window and a child channel with auto-read off, so the server
 * can send at most {@code window} bytes of DATA before its flow control stops it. {@link #startReading()} lets it
 * drain what the server had queued, up to the end of the stream.
 */
final class StalledH2cSubscriber implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final Http2StreamChannel stream;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    final CompletableFuture<String> ended = new CompletableFuture<>();

    StalledH2cSubscriber(int port, String path, int window) throws Exception {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)
                                        .initialWindowSize(window))
                                .build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        stream = new Http2StreamChannelBootstrap(channel).option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        try {
                            if (msg instanceof Http2DataFrame d) {
                                byte[] b = new byte[d.content().readableBytes()];
                                d.content().readBytes(b);
                                body.writeBytes(b);
                            }
                            if (msg instanceof Http2StreamFrame f && (f instanceof Http2DataFrame d2 && d2.isEndStream()
                                    || f instanceof Http2HeadersFrame h && h.isEndStream())) {
                                ended.complete(body.toString(StandardCharsets.UTF_8));
                            }
                        } finally {
                            ReferenceCountUtil.release(msg);
                        }
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        ended.complete(body.toString(StandardCharsets.UTF_8));
                    }
                }).open().get(5, TimeUnit.SECONDS);
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET").path(path)
                .scheme("http").authority("127.0.0.1:" + port), true)).sync();
    }

    void startReading() {
        stream.eventLoop().execute(() -> {
            stream.config().setAutoRead(true);
            stream.read();
        });
    }

    @Override
    public void close() {
        stream.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
