package dev.herald.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The write-idle clock on an embedded channel with frozen time: what counts as written, and when it fires. */
class WriteIdleHandlerTest {
    private final List<IdleStateEvent> events = new ArrayList<>();
    private EmbeddedChannel ch;

    @BeforeEach
    void setUp() {
        ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(new WriteIdleHandler(10, TimeUnit.SECONDS), new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add((IdleStateEvent) evt);
            }
        });
    }

    @AfterEach
    void tearDown() {
        for (Object m; (m = ch.readOutbound()) != null; ) {
            ReferenceCountUtil.release(m);
        }
        ch.finishAndReleaseAll();
    }

    private void after(long seconds) {
        ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
    }

    @Test
    void firesAfterTheTimeoutWithoutWrites() {
        after(9);
        assertThat(events).isEmpty();
        after(1);
        assertThat(events).containsExactly(IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT);
        after(10);
        assertThat(events).containsExactly(IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT,
                IdleStateEvent.WRITER_IDLE_STATE_EVENT);
    }

    @Test
    void aFlushedWriteRestartsTheClock() {
        after(8);
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
        after(8);
        assertThat(events).isEmpty();
        after(2);
        assertThat(events).containsExactly(IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT);
    }

    @Test
    void aFlushWithNothingWrittenIsNotActivity() {
        // The HTTP/2 codec flushes after every read; a client trickling bytes must not keep the connection alive.
        for (int i = 0; i < 5; i++) {
            after(2);
            ch.flush();
        }
        assertThat(events).containsExactly(IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT);
    }

    @Test
    void writingAfterIdleStartsOverWithAFirstEvent() {
        after(10);
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
        after(10);
        assertThat(events).containsExactly(IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT,
                IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT);
    }

    @Test
    void stopsWhenTheChannelCloses() {
        ch.close();
        after(30);
        assertThat(events).isEmpty();
    }
}
