package dev.herald;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Copies the bundled default app from the classpath into the data directory, so it is served like any folder:
 * from disk, with push and early hints discovered from its HTML. Files whose bytes are unchanged are left alone,
 * so their ETag and Last-Modified survive restarts and browsers keep their caches.
 */
final class AppExtractor {
    private AppExtractor() {
    }

    /** Extracts classpath folder {@code folder} into {@code target} and returns {@code target}. */
    static Path extract(String folder, Path target) {
        URL url = AppExtractor.class.getClassLoader().getResource(folder);
        if (url == null) {
            throw new IllegalStateException("bundled app missing from the classpath: " + folder);
        }
        java.util.Set<Path> written = new java.util.HashSet<>();
        try {
            Files.createDirectories(target);
            if ("jar".equals(url.getProtocol())) {
                JarURLConnection conn = (JarURLConnection) url.openConnection();
                conn.setUseCaches(false);
                try (JarFile jar = conn.getJarFile()) {
                    String prefix = folder.endsWith("/") ? folder : folder + "/";
                    Enumeration<JarEntry> entries = jar.entries();
                    while (entries.hasMoreElements()) {
                        JarEntry e = entries.nextElement();
                        if (!e.isDirectory() && e.getName().startsWith(prefix)) {
                            try (InputStream in = jar.getInputStream(e)) {
                                Path file = target.resolve(e.getName().substring(prefix.length()));
                                write(in.readAllBytes(), file);
                                written.add(file);
                            }
                        }
                    }
                }
            } else {
                Path source = Path.of(url.toURI());
                try (Stream<Path> files = Files.walk(source)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                        Path file = target.resolve(source.relativize(f).toString());
                        write(Files.readAllBytes(f), file);
                        written.add(file);
                    }
                }
            }
            removeStale(target, written);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the bundled app into " + target, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Files a previous version bundled and this one does not would otherwise still be served. */
    private static void removeStale(Path target, java.util.Set<Path> keep) throws IOException {
        try (Stream<Path> files = Files.walk(target)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                if (!keep.contains(f)) {
                    Files.delete(f);
                }
            }
        }
    }

    private static void write(byte[] bytes, Path file) throws IOException {
        if (Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), bytes)) {
            return;
        }
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), ".extract", ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
