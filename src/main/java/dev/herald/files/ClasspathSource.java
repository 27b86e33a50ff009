package dev.herald.files;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Resources bundled on the classpath (the built-in app), read once at start into memory and never changed: every
 * lookup is a map read on the calling thread. Their {@code last-modified} is the time they were loaded (jar entry
 * times are pinned by the reproducible build and would lie across upgrades); their tags come from content.
 *
 * <p>The folder may be a directory (tests, IDE runs) or live in a jar. Dotfiles are skipped at load. The total
 * is capped at {@link #MAX_BYTES} so a mistake in packaging fails the start instead of filling the heap.
 */
final class ClasspathSource {
    static final long MAX_BYTES = 64L << 20;

    private final Map<String, Resource> files;
    private final Set<String> folders;

    private ClasspathSource(Map<String, Resource> files, Set<String> folders) {
        this.files = Map.copyOf(files);
        this.folders = Set.copyOf(folders);
    }

    static ClasspathSource load(ClassLoader loader, String folder, CachePolicy policy, long loadedAtMillis,
                                boolean compress) throws IOException {
        String name = trimSlashes(folder);
        URL url = loader.getResource(name);
        if (url == null) {
            throw new FileNotFoundException("classpath folder " + name + " (expected: a folder of bundled files)");
        }
        URI uri;
        try {
            uri = url.toURI();
        } catch (URISyntaxException e) {
            throw new IOException("classpath folder " + name + " has no usable URI: " + url, e);
        }
        Map<String, byte[]> raw;
        if ("jar".equals(uri.getScheme())) {
            FileSystem fs;
            boolean opened = false;
            try {
                fs = FileSystems.newFileSystem(uri, Map.of());
                opened = true;
            } catch (FileSystemAlreadyExistsException e) {
                fs = FileSystems.getFileSystem(uri);
            }
            try {
                raw = read(fs.provider().getPath(uri));
            } finally {
                if (opened) {
                    fs.close();
                }
            }
        } else {
            raw = read(Path.of(uri));
        }

        Map<String, Resource> files = new HashMap<>();
        Set<String> folders = new HashSet<>();
        folders.add("/");
        raw.forEach((path, bytes) -> {
            Variant identity = bundled(null, bytes, loadedAtMillis);
            byte[] br = raw.get(path + ".br");
            byte[] gz = raw.get(path + ".gz");
            String contentType = ContentTypes.forName(path.substring(path.lastIndexOf('/') + 1));
            Variant gzip = gz != null ? bundled(AcceptEncoding.GZIP, gz, loadedAtMillis)
                    : compress ? Compression.gzip(identity, contentType, null, Long.MAX_VALUE) : null;
            files.put(path, new Resource(path, contentType, policy.forPath(path), identity,
                    br == null ? null : bundled(AcceptEncoding.BR, br, loadedAtMillis), gzip, 0));
            for (int slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) {
                folders.add(path.substring(0, slash + 1));
            }
        });
        return new ClasspathSource(files, folders);
    }

    Lookup lookup(PathResolver.Accepted request) {
        String path = request.path();
        if (request.trailingSlash()) {
            Resource index = folders.contains(path) ? files.get(path + DiskSource.INDEX) : null;
            return index != null ? new Lookup.Found(index) : new Lookup.Missing("no bundled folder index " + path);
        }
        Resource r = files.get(path);
        if (r != null) {
            return new Lookup.Found(r);
        }
        if (folders.contains(path + "/")) {
            return new Lookup.Redirect(PathResolver.encode(path + "/"));
        }
        return new Lookup.Missing("no bundled file " + path);
    }

    int size() {
        return files.size();
    }

    private static Map<String, byte[]> read(Path base) throws IOException {
        List<Path> regular = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(base)) {
            walk.filter(Files::isRegularFile).forEach(regular::add);
        }
        Map<String, byte[]> raw = new HashMap<>();
        long total = 0;
        for (Path file : regular) {
            Path rel = base.relativize(file);
            StringBuilder key = new StringBuilder();
            boolean hidden = false;
            for (Path segment : rel) {
                String s = trimSlashes(segment.toString());
                hidden |= s.startsWith(".");
                key.append('/').append(s);
            }
            if (hidden) {
                continue;
            }
            total += Files.size(file);
            if (total > MAX_BYTES) {
                throw new IOException("classpath folder " + base + ": more than " + MAX_BYTES
                        + " bytes (expected: a small bundled app)");
            }
            raw.put(key.toString(), Files.readAllBytes(file));
        }
        return raw;
    }

    private static Variant bundled(String encoding, byte[] bytes, long loadedAtMillis) {
        return new Variant(encoding, EntityTags.of(bytes), loadedAtMillis, bytes.length, bytes, null);
    }

    private static String trimSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }
}
