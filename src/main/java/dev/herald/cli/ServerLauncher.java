package dev.herald.cli;

import dev.herald.config.HeraldConfig;

import java.util.List;
import java.util.Optional;

/** Starts the server for the command line; tests pass a fake so that no server starts. */
@FunctionalInterface
interface ServerLauncher {
    /** Starts a server with this configuration and returns once it listens. */
    Running start(HeraldConfig config) throws Exception;

    /** A started server. */
    interface Running {
        /** The URLs it listens on, one per port. */
        List<String> urls();

        /** Base64 SHA-256 of the TLS certificate's SubjectPublicKeyInfo; empty when TLS is off. */
        Optional<String> spkiSha256();

        /** Blocks until the server has shut down. */
        void awaitClosed();
    }
}
