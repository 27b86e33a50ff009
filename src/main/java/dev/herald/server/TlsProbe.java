package dev.herald.server;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;

/**
 * One TLS handshake in memory, no sockets: the JDK's client engine, trusting any certificate, against an engine of
 * the server context, their records handed across in buffers. It proves a certificate and key can serve before
 * Herald uses them: some load into a context and then fail every handshake (an Ed25519 or DSA key finds no cipher
 * suite to sign for). A few milliseconds.
 */
final class TlsProbe {
    /** Far more round trips than a TLS 1.3 or 1.2 handshake takes; a handshake that needs more is stuck. */
    private static final int MAX_STEPS = 50;
    /** Room for a whole flight with a long certificate chain. */
    private static final int BUFFER = 256 * 1024;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private TlsProbe() {
    }

    /** Shakes hands with an engine of {@code server}; throws with the engines' reason when that fails. */
    static void handshake(SslContext server) throws SSLException {
        SSLEngine client = clientEngine();
        SSLEngine engine = server.newEngine(ByteBufAllocator.DEFAULT);
        try {
            ByteBuffer toServer = ByteBuffer.allocate(BUFFER);
            ByteBuffer toClient = ByteBuffer.allocate(BUFFER);
            ByteBuffer app = ByteBuffer.allocate(BUFFER);
            client.beginHandshake();
            engine.beginHandshake();
            for (int i = 0; i < MAX_STEPS; i++) {
                step(engine, toServer, toClient, app);
                try {
                    step(client, toClient, toServer, app);
                } catch (SSLException clientSide) {
                    // The client only names the alert it got; the server engine says why on its next call.
                    try {
                        step(engine, toServer, toClient, app);
                    } catch (SSLException serverSide) {
                        serverSide.addSuppressed(clientSide);
                        throw serverSide;
                    }
                    throw clientSide;
                }
                if (done(client) && done(engine)) {
                    return;
                }
            }
            throw new SSLException("the handshake did not finish in " + MAX_STEPS + " round trips");
        } finally {
            client.closeOutbound();
            engine.closeOutbound();
            ReferenceCountUtil.release(engine);
        }
    }

    /** Reads what the peer sent, runs the engine's tasks, writes what it has to send. */
    private static void step(SSLEngine engine, ByteBuffer in, ByteBuffer out, ByteBuffer app) throws SSLException {
        in.flip();
        while (in.hasRemaining()) {
            int before = in.remaining();
            engine.unwrap(in, app);
            runTasks(engine);
            app.clear();
            if (in.remaining() == before) {
                break; // a partial record: the rest comes in the next step
            }
        }
        in.compact();
        engine.wrap(NOTHING, out);
        runTasks(engine);
    }

    private static void runTasks(SSLEngine engine) {
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
        }
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
    }

    private static SSLEngine clientEngine() throws SSLException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
            SSLEngine engine = context.createSSLEngine("localhost", 443);
            engine.setUseClientMode(true);
            return engine;
        } catch (GeneralSecurityException e) {
            throw new SSLException("no TLS client in this JDK", e);
        }
    }
}
