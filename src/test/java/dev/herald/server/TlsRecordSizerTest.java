package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Herald's real TLS context (the generated certificate, its provider) behind a real TLS client, in memory: the
 * sizes of the application-data records on the wire, read from their plaintext headers.
 */
class TlsRecordSizerTest {
    /** TLS 1.3 record overhead counted in the length field: the inner content type and the 16-byte AEAD tag. */
    private static final int OVERHEAD = 17;

    @TempDir
    Path dir;

    @Test
    void smallRecordsFirstThenFullOnesAndSmallAgainAfterAnIdleSecond() throws Exception {
        EmbeddedChannel server = new EmbeddedChannel();
        server.freezeTime();
        EmbeddedChannel client = connect(server);

        // Up to the threshold in small records (connect() flushed one byte), the rest in full ones, also within
        // one flush that crosses it.
        int first = (int) TlsRecordSizer.BOOST_AFTER - 1 - 10 * 1024;
        assertThat(recordsOf(server, first)).allMatch(n -> n <= TlsRecordSizer.SMALL + OVERHEAD)
                .hasSize((first + TlsRecordSizer.SMALL - 1) / TlsRecordSizer.SMALL);
        ChannelFuture below = server.write(Unpooled.wrappedBuffer(new byte[8 * 1024]));
        server.write(Unpooled.wrappedBuffer(new byte[16 * 1024]));
        // Never a flush from a write: the HTTP/2 flow controller writes in the middle of walking its priority tree,
        // and a flush there completes writes and closes their streams under the walk.
        assertThat(below.isDone()).as("the write below the threshold, before any flush").isFalse();
        assertThat(server.outboundMessages()).isEmpty();
        List<Integer> crossing = recordsOf(server, 0);
        assertThat(crossing.subList(0, 6)).allMatch(n -> n <= TlsRecordSizer.SMALL + OVERHEAD);
        assertThat(crossing.subList(6, crossing.size())).containsExactly(TlsRecordSizer.LARGE + OVERHEAD);
        List<Integer> bulk = recordsOf(server, 100 * 1024);
        assertThat(bulk).hasSize(7).element(0).isEqualTo(TlsRecordSizer.LARGE + OVERHEAD);

        // A short pause keeps full records; an idle second starts over with small ones.
        server.advanceTimeBy(500, TimeUnit.MILLISECONDS);
        assertThat(recordsOf(server, 20 * 1024)).hasSize(2).element(0).isEqualTo(TlsRecordSizer.LARGE + OVERHEAD);
        server.advanceTimeBy(1, TimeUnit.SECONDS);
        assertThat(recordsOf(server, 20 * 1024)).allMatch(n -> n <= TlsRecordSizer.SMALL + OVERHEAD)
                .hasSize((20 * 1024 + TlsRecordSizer.SMALL - 1) / TlsRecordSizer.SMALL);
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    /** Herald's TLS context and the sizer on {@code server}, a TLS 1.3 client, the handshake done. */
    private EmbeddedChannel connect(EmbeddedChannel server) throws Exception {
        SslContext serverContext = TlsSetup.load(HeraldConfig.builder().dataDir(dir).build()).sslContext();
        SslContext clientContext = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .protocols("TLSv1.3").build();
        SslHandler serverSsl = serverContext.newHandler(server.alloc());
        server.pipeline().addLast(serverSsl, new TlsRecordSizer(serverSsl));
        EmbeddedChannel client = new EmbeddedChannel(clientContext.newHandler(ByteBufAllocator.DEFAULT));
        for (int i = 0; i < 20 && !(serverSsl.handshakeFuture().isDone() && drained(server, client)); i++) {
            pump(client, server);
            pump(server, client);
        }
        assertThat(serverSsl.handshakeFuture().isSuccess()).as("handshake").isTrue();
        assertThat(serverSsl.engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
        // The server sends its session tickets with its first bytes: out of the way of the records measured.
        server.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {0}));
        pump(server, client);
        ReferenceCountUtil.release(client.readInbound());
        return client;
    }

    /** Flushes {@code bytes} of plaintext through the server and returns the lengths of the records it wrote. */
    private static List<Integer> recordsOf(EmbeddedChannel server, int bytes) {
        server.writeAndFlush(Unpooled.wrappedBuffer(new byte[bytes]));
        ByteBuf wire = Unpooled.buffer();
        for (ByteBuf b = server.readOutbound(); b != null; b = server.readOutbound()) {
            wire.writeBytes(b);
            b.release();
        }
        List<Integer> lengths = new ArrayList<>();
        while (wire.readableBytes() >= 5) {
            int type = wire.readUnsignedByte();
            wire.skipBytes(2);
            int length = wire.readUnsignedShort();
            wire.skipBytes(length);
            assertThat(type).as("record type").isEqualTo(23);
            lengths.add(length);
        }
        assertThat(wire.readableBytes()).as("a partial record").isZero();
        wire.release();
        return lengths;
    }

    private static void pump(EmbeddedChannel from, EmbeddedChannel to) {
        for (ByteBuf b = from.readOutbound(); b != null; b = from.readOutbound()) {
            to.writeInbound(b);
        }
        to.runPendingTasks();
    }

    private static boolean drained(EmbeddedChannel a, EmbeddedChannel b) {
        return a.outboundMessages().isEmpty() && b.outboundMessages().isEmpty();
    }
}
