package dev.herald.server;

import dev.herald.config.HeraldConfig;
import dev.herald.push.PushingFiles;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2PushPromiseFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What reaches Netty's HTTP/2 codec, and between which flushes, when a page with preloads is answered: the frames
 * the stream channels write, seen between the codec and the multiplexer, on an embedded connection with a client
 * codec at the other end.
 *
 * <p>Each flush runs the flow controller. A page's HEADERS flushed on their own end the latency optimization (no
 * request waits any more) while the page's body is not yet queued, so the other streams' held-back bytes (the
 * assets its 103 named) go to the socket ahead of it: measured in {@code bench/push}, Chromium's document then ended
 * one round trip later. So the HEADERS and the body's first DATA must reach the codec before the same flush. A
 * pushed page keeps its HEADERS' own flush: its pushes carry what it needs next (measured, see Http2StreamHandler).
 */
class PageBodyFlushTest {
    @TempDir
    Path root;

    @Test
    void aHintedPagesHeadersAndFirstDataReachTheCodecBeforeOneFlush() throws Exception {
        List<String> seen = load(Http2Settings.defaultSettings().pushEnabled(false), HeraldConfig.PushPriority.BEFORE);

        assertThat(seen).as("a 103 went first").contains("HEADERS 103");
        int head = seen.indexOf("HEADERS 200");
        assertThat(head).as("the page's HEADERS in " + seen).isPositive();
        assertThat(seen.subList(head + 1, seen.size())).as("after the page's HEADERS, in " + seen)
                .first().isEqualTo("DATA");
    }

    @ParameterizedTest
    @EnumSource(value = HeraldConfig.PushPriority.class, names = {"BEFORE", "INTERLEAVED"})
    void aPushedPagesHeadersHaveAFlushOfTheirOwn(HeraldConfig.PushPriority order) throws Exception {
        // Push on, the stylesheet pushed: the page's HEADERS go at once, its body after the pushes (BEFORE) or
        // from the next pass on, behind what they queued (INTERLEAVED).
        List<String> seen = load(Http2Settings.defaultSettings().pushEnabled(true), order);

        assertThat(seen).as("a push was promised").contains("PUSH_PROMISE");
        int head = seen.indexOf("HEADERS 200");
        assertThat(head).as("the page's HEADERS in " + seen).isPositive();
        assertThat(seen.get(head + 1)).as("after the page's HEADERS, in " + seen).isEqualTo("FLUSH");
    }

    /**
     * Loads /index.html with these client settings and push order; returns what the stream channels wrote to the
     * codec.
     */
    private List<String> load(Http2Settings clientSettings, HeraldConfig.PushPriority order) throws Exception {
        Files.writeString(root.resolve("index.html"), "<!doctype html><title>t</title>"
                + "<link rel=stylesheet href=/style.css>\n<p>" + "words ".repeat(2_000) + "</p>\n");
        Files.writeString(root.resolve("style.css"), "body { margin: 0 }\n".repeat(200));
        HeraldConfig config = HeraldConfig.builder().root(root).pushPriority(order).build();
        ServerContext server = new ServerContext(config, PushingFiles.create(root, config, Runnable::run),
                new ServerMetrics(), LimitLog.create(Duration.ofSeconds(1)));

        EmbeddedChannel serverChannel = new EmbeddedChannel();
        serverChannel.pipeline().addLast("socket", new ChannelDuplexHandler());
        ConnectionInfo.attach(serverChannel, true);
        Pipelines.addHttp2(serverChannel.pipeline(), "socket", server);
        CodecInput input = new CodecInput();
        serverChannel.pipeline().addAfter("h2-codec", "codec-input", input);

        Client client = new Client();
        EmbeddedChannel clientChannel = new EmbeddedChannel(
                Http2FrameCodecBuilder.forClient().initialSettings(clientSettings).build(), client);
        Http2FrameStream page = client.get("/index.html");
        for (int round = 0; round < 50 && !client.ended(page); round++) {
            shuttle(clientChannel, serverChannel);
            shuttle(serverChannel, clientChannel);
            serverChannel.runPendingTasks();
            clientChannel.runPendingTasks();
        }
        assertThat(client.ended(page)).as("the page arrived whole").isTrue();
        serverChannel.finishAndReleaseAll();
        clientChannel.finishAndReleaseAll();
        return input.seen;
    }

    private static void shuttle(EmbeddedChannel from, EmbeddedChannel to) {
        for (Object msg; (msg = from.readOutbound()) != null; ) {
            to.writeInbound(msg);
        }
    }

    /** Between the codec and the multiplexer: the page stream's frames and every flush, in order. */
    private static final class CodecInput extends ChannelDuplexHandler {
        final List<String> seen = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof Http2HeadersFrame h && h.stream() != null && h.stream().id() % 2 == 1) {
                seen.add("HEADERS " + h.headers().status());
            } else if (msg instanceof Http2DataFrame d && d.stream() != null && d.stream().id() % 2 == 1) {
                seen.add("DATA");
            } else if (msg instanceof Http2PushPromiseFrame) {
                seen.add("PUSH_PROMISE");
            }
            ctx.write(msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (!seen.isEmpty() && !"FLUSH".equals(seen.get(seen.size() - 1))) {
                seen.add("FLUSH");
            }
            ctx.flush();
        }
    }

    /** The client end: sends a GET, notes which streams ended, and drops what it reads. */
    private static final class Client extends Http2ChannelDuplexHandler {
        private final List<Integer> ended = new ArrayList<>();
        private ChannelHandlerContext ctx;

        @Override
        public void handlerAdded0(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        Http2FrameStream get(String path) {
            Http2FrameStream s = newStream();
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET").scheme("https")
                    .authority("localhost").path(path), true).stream(s));
            return s;
        }

        boolean ended(Http2FrameStream s) {
            return s.id() > 0 && ended.contains(s.id());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2StreamFrame f && f.stream() != null) {
                    boolean end = f instanceof Http2DataFrame d ? d.isEndStream()
                            : f instanceof Http2HeadersFrame h && h.isEndStream();
                    if (end) {
                        ended.add(f.stream().id());
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
