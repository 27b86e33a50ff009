package dev.herald.cli;

import dev.herald.Herald;
import dev.herald.config.HeraldConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts the real {@link Herald} and shuts it down gracefully on SIGTERM, SIGINT (Ctrl-C) or SIGHUP, then exits
 * with 0. SIGHUP is what a process gets when its terminal or SSH session closes; without a handler the JVM would
 * exit at once with 129, without draining connections or saving the learned push lists. (Herald reloads its TLS
 * files by polling, so SIGHUP has no reload meaning here. Under {@code nohup} it stays ignored: the JVM installs
 * no handler for a signal the process inherited as ignored.) A second signal while shutting down is ignored
 * rather than starting a second shutdown.
 */
final class HeraldLauncher implements ServerLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(HeraldLauncher.class);

    @Override
    public Running start(HeraldConfig config) throws Exception {
        Herald herald = Herald.start(config);
        AtomicBoolean stopping = new AtomicBoolean();
        for (String name : List.of("TERM", "INT", "HUP")) {
            Signal.handle(new Signal(name), signal -> {
                if (!stopping.compareAndSet(false, true)) {
                    LOG.info("SIG{} ignored: already shutting down", signal.getName());
                    return;
                }
                LOG.info("SIG{}: shutting down", signal.getName());
                herald.close();
                System.exit(0);
            });
        }
        return new Running() {
            @Override
            public List<String> urls() {
                return herald.urls();
            }

            @Override
            public Optional<String> spkiSha256() {
                return herald.spkiSha256();
            }

            @Override
            public void awaitClosed() {
                herald.awaitClosed();
            }
        };
    }
}
