package dev.herald.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The holder between a recorder standing for the socket and handlers standing for the TLS engine and the HTTP/2
 * codec: what reaches the socket, and in how many flushes, during and after the handshake's reads.
 */
class HandshakeFlushHolderTest {
    /** What the socket side saw: "w:MSG" for a write, "flush" for a flush, "close". */
    private final List<String> wire = new ArrayList<>();
    private final Promise<Void> handshake = ImmediateEventExecutor.INSTANCE.newPromise();

    private EmbeddedChannel channel() {
        // Like a read carrying the client's Finished and first request: the engine flushes its tickets, the codec
        // its SETTINGS and WINDOW_UPDATE, and the response is flushed when the read is complete.
        ChannelInboundHandlerAdapter upper = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                for (String m : ((String) msg).split(",")) {
                    if (m.equals("close")) {
                        ctx.close();
                    } else {
                        ctx.writeAndFlush(m);
                    }
                }
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                ctx.write("response");
                ctx.flush();
            }
        };
        return new EmbeddedChannel(socket(), new HandshakeFlushHolder(handshake, HandshakeFlushHolder.FIRST_FLIGHT_BYTES), upper);
    }

    /** Stands for the socket: records writes, flushes and closes in {@link #wire}. */
    private ChannelOutboundHandlerAdapter socket() {
        return new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                wire.add("w:" + msg);
                ctx.write(msg, promise);
            }

            @Override
            public void flush(ChannelHandlerContext ctx) {
                wire.add("flush");
                ctx.flush();
            }

            @Override
            public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
                wire.add("close");
                ctx.close(promise);
            }
        };
    }

    @Test
    void aHandshakeReadsFlushesLeaveAsOneFlushWhenTheReadIsComplete() {
        EmbeddedChannel ch = channel();
        ch.writeInbound("tickets,settings,window-update");

        assertThat(wire).containsExactly("w:tickets", "w:settings", "w:window-update", "w:response", "flush");
        assertThat(ch.<Object>readOutbound()).isEqualTo("tickets");
        assertThat(ch.pipeline().get(HandshakeFlushHolder.class)).isNotNull(); // the handshake is not done yet
        ch.finishAndReleaseAll();
    }

    @Test
    void afterTheReadThatCompletesTheHandshakeItLeavesAndFlushesPassAtOnce() {
        EmbeddedChannel ch = channel();
        handshake.setSuccess(null);
        ch.writeInbound("tickets,settings");
        assertThat(wire).containsExactly("w:tickets", "w:settings", "w:response", "flush");
        assertThat(ch.pipeline().get(HandshakeFlushHolder.class)).isNull();

        wire.clear();
        ch.writeInbound("window-update,data");
        assertThat(wire).containsExactly("w:window-update", "flush", "w:data", "flush", "w:response", "flush");
        ch.finishAndReleaseAll();
    }

    @Test
    void theReadThatCompletesTheHandshakeHoldsUntilTheTasksQueuedDuringItHaveRun() {
        // Like Http2Pusher with a page that answers later: the promises are written in the read, and the pushes
        // start in a task queued during it. Their first bytes must leave in the same write as the promises.
        EmbeddedChannel ch = new EmbeddedChannel(socket(), new HandshakeFlushHolder(handshake, HandshakeFlushHolder.FIRST_FLIGHT_BYTES),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.write("promises");
                        ctx.executor().execute(() -> ctx.writeAndFlush("push-data"));
                    }

                    @Override
                    public void channelReadComplete(ChannelHandlerContext ctx) {
                        ctx.flush();
                    }
                });
        handshake.setSuccess(null);
        ch.writeInbound("request");

        assertThat(wire).containsExactly("w:promises", "w:push-data", "flush");
        assertThat(ch.pipeline().get(HandshakeFlushHolder.class)).isNull();
        ch.finishAndReleaseAll();
    }

    @Test
    void aFlushOutsideAReadIsNotHeld() {
        EmbeddedChannel ch = channel();
        ch.writeAndFlush("think-time-response");
        assertThat(wire).containsExactly("w:think-time-response", "flush");
        ch.finishAndReleaseAll();
    }

    @Test
    void aCloseDuringAHeldReadFlushesWhatWasWrittenFirst() {
        EmbeddedChannel ch = channel();
        ch.writeInbound("alert,close");
        assertThat(wire).startsWith("w:alert", "flush", "close");
        assertThat(ch.<Object>readOutbound()).isEqualTo("alert");
        ch.finishAndReleaseAll();
    }

    @Test
    void removedDuringAReadItFlushesWhatItHeld() {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
                wire.add("flush");
                ctx.flush();
            }
        }, new HandshakeFlushHolder(handshake, HandshakeFlushHolder.FIRST_FLIGHT_BYTES),
                new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
                assertThat(wire).isEmpty(); // held
                ctx.pipeline().remove(HandshakeFlushHolder.class);
            }
        });
        ch.writeInbound("tickets");
        assertThat(wire).containsExactly("flush");
        assertThat(ch.<Object>readOutbound()).isEqualTo("tickets");
        ch.finishAndReleaseAll();
    }

    @Test
    void aHeldReadRaisesTheHighWaterMarkSoTheFlowControllerWritesTheFirstFlightInOnePass() {
        List<Integer> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(socket(), new HandshakeFlushHolder(handshake, 1 << 20),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        seen.add(ctx.channel().config().getWriteBufferHighWaterMark());
                    }

                    @Override
                    public void channelReadComplete(ChannelHandlerContext ctx) {
                        // Netty's HTTP/2 flow controller writes what the channel takes before it turns unwritable
                        seen.add((int) ctx.channel().bytesBeforeUnwritable());
                        ctx.write("response");
                        ctx.flush();
                    }
                });
        int defaultHigh = ch.config().getWriteBufferHighWaterMark();
        int defaultLow = ch.config().getWriteBufferLowWaterMark();
        assertThat(defaultHigh).isLessThan(1 << 20);
        handshake.setSuccess(null);
        ch.writeInbound("finished-and-request");

        assertThat(seen.get(0)).as("the high-water mark in the read").isEqualTo(1 << 20);
        assertThat(seen.get(1)).as("what the flow controller may write").isGreaterThanOrEqualTo(1 << 20);
        assertThat(wire).containsExactly("w:response", "flush");
        assertThat(ch.config().getWriteBufferHighWaterMark()).as("put back after the flush").isEqualTo(defaultHigh);
        assertThat(ch.config().getWriteBufferLowWaterMark()).isEqualTo(defaultLow);
        ch.finishAndReleaseAll();
    }

    @Test
    void withoutAFirstFlightSizeTheMarksStay() {
        List<Integer> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(socket(), new HandshakeFlushHolder(handshake, 0),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        seen.add(ctx.channel().config().getWriteBufferHighWaterMark());
                        ctx.writeAndFlush(msg);
                    }
                });
        int defaultHigh = ch.config().getWriteBufferHighWaterMark();
        ch.writeInbound("tickets");
        assertThat(seen).containsExactly(defaultHigh);
        assertThat(wire).containsExactly("w:tickets", "flush");
        ch.finishAndReleaseAll();
    }
}
