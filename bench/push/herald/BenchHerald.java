import dev.herald.Herald;
import dev.herald.config.ConfigLoader;
import dev.herald.config.HeraldConfig;
import dev.herald.files.StaticFiles;
import dev.herald.push.ForwardingExchange;
import dev.herald.push.PushingFiles;
import dev.herald.server.Exchange;
import dev.herald.server.Handler;
import dev.herald.server.Headers;
import dev.herald.server.Response;
import dev.herald.server.ResponseStream;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Herald for bench/push, built only from Herald's public API (no change to src/): the page {@code /index.html}
 * (and {@code /}) is answered by its own handler, either Herald's {@code PushingFiles} (push or 103 Early Hints,
 * exactly as {@code herald serve}) or plain {@code StaticFiles} (no announcement at all, for the Chromium run
 * without hints), and that page's response is held back by an application "think time" after the handler
 * announced the page's resources. Every other path is Herald's default handler for the root. Herald itself has no
 * think-time option; this is the application code a real deployment would have in front of the page.
 *
 * <pre>
 * javac -cp herald.jar -d OUT BenchHerald.java
 * java -cp herald.jar:OUT BenchHerald ROOT HOST TLS_PORT CERT KEY DATA_DIR THINK_MS push|plain CACHE_CONTROL [MAX_PUSH_BYTES]
 * </pre>
 * MAX_PUSH_BYTES (default Herald's {@code PushingFiles.DEFAULT_MAX_BYTES}) raises the push budget, for the
 * diagnostic run that pushes the whole page.
 */
public final class BenchHerald {
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        long thinkMs = Long.parseLong(args[6]);
        boolean announce = switch (args[7]) {
            case "push" -> true;
            case "plain" -> false;
            default -> throw new IllegalArgumentException("mode: " + args[7] + " (expected: push or plain)");
        };
        Files.createDirectories(Path.of(args[5]));
        // From HERALD_* environment variables like herald serve (none set: the defaults), for diagnostic runs.
        HeraldConfig config = ConfigLoader.create().load().toBuilder().root(root).host(args[1]).tlsPort(Integer.parseInt(args[2]))
                .httpPort(-1).tlsCert(Path.of(args[3])).tlsKey(Path.of(args[4])).dataDir(Path.of(args[5]))
                .cacheControl(args[8]).accessLog(false).build();
        ExecutorService blocking = Executors.newFixedThreadPool(2);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        long maxPushBytes = args.length > 9 ? Long.parseLong(args[9]) : PushingFiles.DEFAULT_MAX_BYTES;
        StaticFiles plain = StaticFiles.create(root, config, blocking);
        Handler files = announce
                ? PushingFiles.wrap(plain, root, blocking, PushingFiles.DEFAULT_MAX_PUSHES, maxPushBytes) // = create()
                : plain;
        Handler page = exchange -> files.handle(thinkMs > 0 ? new Thinking(exchange, timer, thinkMs) : exchange);
        Herald herald = Herald.builder().config(config).route("/", page).route("/index.html", page).start();
        System.out.println("bench-herald listening on " + herald.urls() + ", think " + thinkMs + " ms, "
                + (announce ? "push / early hints, push budget " + maxPushBytes + " bytes" : "no push, no hints"));
        herald.awaitClosed();
    }

    /** Announces at once (push or 103 go out now) and holds the response back for the think time. */
    private static final class Thinking extends ForwardingExchange {
        private final ScheduledExecutorService timer;
        private final long thinkMs;

        Thinking(Exchange delegate, ScheduledExecutorService timer, long thinkMs) {
            super(delegate);
            this.timer = timer;
            this.thinkMs = thinkMs;
        }

        @Override
        public void respond(Response response) {
            timer.schedule(() -> super.respond(response), thinkMs, TimeUnit.MILLISECONDS);
        }

        @Override
        public ResponseStream stream(int status, Headers headers) {
            throw new UnsupportedOperationException("the bench page is small enough to be answered whole");
        }
    }
}
