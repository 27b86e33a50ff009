package dev.herald.push;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pages' dependencies learned from traffic (the idea of Jetty's {@code PushCacheFilter}, without its bugs): a
 * request whose {@code Referer} is page P, arriving on the connection that loaded P within {@link #window} after
 * P's response, makes the requested resource one of P's dependencies.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>Learning goes on for the life of the server (Jetty stopped after the first seconds of a page).</li>
 *   <li>Never from conditional requests (the caller checks), nor from anything but a 200 (the caller checks).</li>
 *   <li>No cycles: a page is never its own dependency, and a learned resource is never a page (pages push; a page
 *       pushing a page would chain).</li>
 *   <li>Bounded: {@link #MAX_PER_PAGE} dependencies per page, {@link #MAX_PAGES} pages (least recently used out),
 *       {@link #MAX_RECENT} recently served (connection, page) pairs; one query per file and page, the latest
 *       (what one client requests cannot make every other visitor get pushed {@code /a.css?x1}, {@code ?x2}...).
 *       </li>
 *   <li>Decay: each page counts its learning events; a dependency not confirmed in the last {@link #DECAY_EVENTS}
 *       events of its page is forgotten, and when a page is full the least recently confirmed goes first. (A
 *       pushed resource is not requested again, so it is confirmed only by clients that did not get it pushed;
 *       browsers, which take early hints and send a Referer, confirm it on every cold load.)</li>
 * </ul>
 * Thread-safe: every method locks the instance; each call is a few map operations.
 */
final class RefererLearning {
    /** Dependencies remembered per page at most (Jetty's default push list size was 16 too). */
    static final int MAX_PER_PAGE = 16;
    /** Pages remembered at most: with 16 entries each, a few MB at worst. */
    static final int MAX_PAGES = 1000;
    /** (Connection, page) pairs whose response time is remembered, for the window. */
    static final int MAX_RECENT = 4096;
    /** Learning events of a page after which an unconfirmed dependency is forgotten. */
    static final int DECAY_EVENTS = 64;
    /** Default window after the page's response: a browser asks for a page's assets within a few round trips. */
    static final long DEFAULT_WINDOW_NANOS = 2_000_000_000L;
    /** The first line of the file {@link #dump} writes. */
    static final String HEADER = "# herald learned push dependencies v1";

    /** A learned dependency: its path, its ETag when learned (for the cache digest) and size (for the budget). */
    record Dependency(String path, String etag, long size) {
    }

    private static final class Learned {
        String etag;
        long size;
        long confirmed;

        Learned(String etag, long size, long confirmed) {
            this.etag = etag;
            this.size = size;
            this.confirmed = confirmed;
        }
    }

    private static final class Page {
        final LinkedHashMap<String, Learned> deps = new LinkedHashMap<>();
        long events;

        void decay() {
            deps.values().removeIf(l -> events - l.confirmed > DECAY_EVENTS);
        }
    }

    private final long window;
    private final LinkedHashMap<String, Page> pages = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Page> eldest) {
            return size() > MAX_PAGES;
        }
    };
    private final LinkedHashMap<String, Long> recent = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_RECENT;
        }
    };

    RefererLearning(long windowNanos) {
        if (windowNanos <= 0) {
            throw new IllegalArgumentException("window: " + windowNanos + "ns (expected: > 0)");
        }
        this.window = windowNanos;
    }

    /** The window after a page's response in which requests naming it as Referer are learned. */
    long window() {
        return window;
    }

    private static String recentKey(long connection, String page) {
        return connection + " " + page;
    }

    /** Page {@code page} was answered (200) on {@code connection} at {@code nanos} ({@link System#nanoTime}). */
    synchronized void pageServed(long connection, String page, long nanos) {
        recent.put(recentKey(connection, page), nanos);
    }

    /**
     * {@code path} was answered (200, unconditional) on {@code connection} at {@code nanos}, with this Referer
     * page: learned when the page was served on that connection within the window. The caller guarantees that
     * {@code path} is not a page. Returns whether it was learned (or confirmed).
     */
    synchronized boolean requested(long connection, String page, String path, String etag, long size, long nanos) {
        if (page.equals(path)) {
            return false;
        }
        Long served = recent.get(recentKey(connection, page));
        if (served == null || nanos - served > window || nanos - served < 0) {
            return false;
        }
        learn(page, path, etag, size);
        return true;
    }

    private void learn(String page, String path, String etag, long size) {
        Page p = pages.computeIfAbsent(page, k -> new Page());
        p.events++;
        Learned l = p.deps.get(path);
        if (l != null) {
            l.etag = etag;
            l.size = size;
            l.confirmed = p.events;
            return;
        }
        p.decay();
        // One URL per file: a new query replaces the old one (a cache buster changed), so one client cannot fill
        // the page's list with variants of a file (?a, ?b...) that every other visitor would then be pushed.
        String file = PushingFiles.withoutQuery(path);
        p.deps.keySet().removeIf(known -> PushingFiles.withoutQuery(known).equals(file));
        if (p.deps.size() >= MAX_PER_PAGE) {
            String oldest = null;
            long when = Long.MAX_VALUE;
            for (Map.Entry<String, Learned> e : p.deps.entrySet()) {
                if (e.getValue().confirmed < when) {
                    when = e.getValue().confirmed;
                    oldest = e.getKey();
                }
            }
            p.deps.remove(oldest);
        }
        p.deps.put(path, new Learned(etag, size, p.events));
    }

    /** The page's learned dependencies, in the order they were first learned. */
    synchronized List<Dependency> dependencies(String page) {
        Page p = pages.get(page);
        if (p == null) {
            return List.of();
        }
        p.decay();
        List<Dependency> out = new ArrayList<>(p.deps.size());
        p.deps.forEach((path, l) -> out.add(new Dependency(path, l.etag, l.size)));
        return out;
    }

    /** Pages with learned dependencies. */
    synchronized int pages() {
        return pages.size();
    }

    /**
     * Writes everything learned to {@code file} (replaced atomically): one line per dependency,
     * {@code page TAB path TAB etag TAB size}, pages least recently used first.
     */
    synchronized void dump(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write(HEADER + "\n");
                for (Map.Entry<String, Page> page : pages.entrySet()) {
                    for (Map.Entry<String, Learned> d : page.getValue().deps.entrySet()) {
                        Learned l = d.getValue();
                        w.write(page.getKey() + '\t' + d.getKey() + '\t' + (l.etag == null ? "" : l.etag) + '\t'
                                + l.size + '\n');
                    }
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp); // no stray half-written copy next to the file
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Adds what {@link #dump} wrote (the caps hold; a missing file loads nothing). The file is read line by line:
     * a line that is not UTF-8 or not a valid entry is skipped and counted, and every valid line is kept.
     */
    synchronized Loaded load(Path file) throws IOException {
        if (!Files.exists(file)) {
            return new Loaded(0, 0, 0);
        }
        int n = 0;
        int skipped = 0;
        long firstBad = 0;
        long number = 0;
        // Latin-1 maps each byte to one char, so a bad byte cannot stop the reader; each line is decoded below.
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            for (String raw = r.readLine(); raw != null; raw = r.readLine()) {
                number++;
                String line = utf8(raw);
                if (line != null && (line.startsWith("#") || line.isBlank())) {
                    continue;
                }
                if (line == null || !add(line)) {
                    skipped++;
                    firstBad = firstBad == 0 ? number : firstBad;
                    continue;
                }
                n++;
            }
        }
        return new Loaded(n, skipped, firstBad);
    }

    /** What {@link #load} found: entries added, bad lines skipped and the number of the first (1-based; 0: none). */
    record Loaded(int entries, int skipped, long firstBadLine) {
    }

    /** The line's bytes (one per char of {@code latin1}) as strict UTF-8; null when they are not UTF-8. */
    private static String utf8(String latin1) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1))).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Learns one {@code page TAB path TAB etag TAB size} line; false when it is malformed. */
    private boolean add(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 4 || !plainPath(f[0]) || !plainPath(f[1]) || f[0].equals(f[1])) {
            return false;
        }
        long size;
        try {
            size = Long.parseLong(f[3]);
        } catch (NumberFormatException e) {
            return false;
        }
        if (size < 0) {
            return false;
        }
        learn(f[0], f[1], f[2].isEmpty() ? null : f[2], size);
        return true;
    }

    /** An absolute same-origin path with no spaces or controls (what a Preload accepts). */
    static boolean plainPath(String p) {
        if (!p.startsWith("/") || p.startsWith("//")) {
            return false;
        }
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '>' || c == '<' || c == '"') {
                return false;
            }
        }
        return true;
    }
}
