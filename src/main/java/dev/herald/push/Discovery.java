package dev.herald.push;

import dev.herald.server.Preload;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds what a page needs to render by reading it: HTML with jsoup ({@code <link rel=stylesheet>},
 * {@code <script src>} classic and module, {@code <link rel=preload>} and {@code rel=modulepreload}), and CSS by
 * pattern ({@code @import} and {@code url()} fonts), followed transitively (page -> CSS -> imported CSS -> font).
 *
 * <p>Only same-origin relative or absolute-path URLs count ({@code https://cdn...}, {@code //cdn...} and
 * {@code data:} are skipped), and only those that name an existing regular file under the root (a push of a 404
 * is waste). Runs on a blocking executor: it reads files.
 */
final class Discovery {
    private static final Logger LOG = LoggerFactory.getLogger(Discovery.class);
    /** CSS nesting followed at most this deep; also the cycle guard together with the visited set. */
    static final int MAX_DEPTH = 4;
    /** Dependencies recorded per page at most, whatever the page says (bounds a hostile or generated page). */
    static final int MAX_DEPENDENCIES = 64;
    private static final long MAX_FILE = 2L << 20;
    private static final Pattern IMPORT = Pattern.compile(
            "@import\\s+(?:url\\(\\s*)?[\"']?([^\"')\\s;]+)[\"']?", Pattern.CASE_INSENSITIVE);
    private static final Pattern URL = Pattern.compile("url\\(\\s*[\"']?([^\"')]+?)[\"']?\\s*\\)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);

    private final Path root;
    private final Tagger tags;
    private final Map<String, Preload.Type> found = new LinkedHashMap<>();
    /** The CORS mode of a found path whose element had a {@code crossorigin} attribute. */
    private final Map<String, String> cors = new HashMap<>();
    private final Map<String, Long> sizes = new LinkedHashMap<>();
    private final Map<Path, Stamp> stamps = new LinkedHashMap<>();
    private final Map<String, Long> keys = new LinkedHashMap<>();

    private Discovery(Path root, Tagger tags) {
        this.root = root;
        this.tags = tags;
    }

    /** The ETag the files are served with, for the cache-digest keys: the static files' own rule. */
    @FunctionalInterface
    interface Tagger {
        String etag(Path file) throws IOException;
    }

    /** A file's modification time and size: the manifest is rebuilt when any of them changes. */
    record Stamp(long modified, long size) {
        static Stamp of(Path file) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                return new Stamp(a.lastModifiedTime().toMillis(), a.size());
            } catch (IOException e) {
                return new Stamp(-1, -1);
            }
        }
    }

    /**
     * What one page needs, in push order, with the stamps of every file read to find it and the
     * {@link CacheDigest#key cache-digest key} of each resource's (path, ETag).
     */
    record Manifest(List<Preload> resources, Map<Path, Stamp> stamps, Map<String, Long> keys) {
        boolean fresh() {
            for (Map.Entry<Path, Stamp> e : stamps.entrySet()) {
                if (!Stamp.of(e.getKey()).equals(e.getValue())) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Reads {@code pageFile} (served at {@code pagePath}) and what it links to.
     *
     * @param maxPushes at most this many resources are marked pushable, the rest are hint-only
     * @param maxBytes  pushable resources add up to at most this many bytes (identity sizes)
     */
    static Manifest scan(Path root, Path pageFile, String pagePath, int maxPushes, long maxBytes)
            throws IOException {
        return scan(root, pageFile, pagePath, maxPushes, maxBytes, Discovery::etag);
    }

    /** {@link #scan(Path, Path, String, int, long)}, the digest keys made of the ETags {@code tags} gives. */
    static Manifest scan(Path root, Path pageFile, String pagePath, int maxPushes, long maxBytes, Tagger tags)
            throws IOException {
        Discovery d = new Discovery(root, tags);
        d.stamps.put(pageFile, Stamp.of(pageFile));
        d.html(pageFile, pagePath);
        List<Map.Entry<String, Preload.Type>> ordered = new ArrayList<>(d.found.entrySet());
        ordered.sort(Comparator.comparingInt(e -> e.getValue().rank())); // stable: page order within a rank
        List<Preload> out = new ArrayList<>(ordered.size());
        int pushes = 0;
        long bytes = 0;
        for (Map.Entry<String, Preload.Type> e : ordered) {
            long size = d.sizes.get(e.getKey());
            Preload p;
            try {
                p = Preload.of(e.getKey(), e.getValue()).size(size);
                String mode = d.cors.get(e.getKey());
                if (mode != null) {
                    p = p.cors(mode);
                }
            } catch (IllegalArgumentException bad) {
                LOG.debug("{}: {} cannot be announced: {}", pagePath, e.getKey(), bad.getMessage());
                continue; // one odd reference must not cost the page its whole manifest
            }
            if (pushes < maxPushes && bytes + size <= maxBytes) {
                pushes++;
                bytes += size;
            } else {
                p = p.noPush();
            }
            out.add(p);
        }
        return new Manifest(List.copyOf(out), Map.copyOf(d.stamps), Map.copyOf(d.keys));
    }

    private void html(Path file, String urlPath) throws IOException {
        if (Files.size(file) > MAX_FILE) {
            return;
        }
        Document doc = Jsoup.parse(file.toFile(), StandardCharsets.UTF_8.name(), "");
        for (Element e : doc.select("link[rel][href], script[src]")) {
            if (e.closest("noscript") != null) {
                continue; // what a browser without scripts would load: one that uses the hints runs scripts
            }
            String mode = corsMode(e);
            if (e.tagName().equals("script")) {
                boolean module = "module".equalsIgnoreCase(e.attr("type").trim());
                add(urlPath, e.attr("src"), module ? Preload.Type.MODULE : Preload.Type.SCRIPT, 0, mode);
                continue;
            }
            List<String> rels = List.of(e.attr("rel").toLowerCase(Locale.ROOT).trim().split("\\s+"));
            String href = e.attr("href");
            if (rels.contains("stylesheet") && !rels.contains("alternate")) {
                add(urlPath, href, Preload.Type.STYLE, 0, mode);
            } else if (rels.contains("modulepreload")) {
                add(urlPath, href, Preload.Type.MODULE, 0, mode);
            } else if (rels.contains("preload")) {
                add(urlPath, href, typeOfAs(e.attr("as"), href), 0, mode);
            }
        }
    }

    /**
     * The CORS mode an element's {@code crossorigin} attribute asks for (HTML: {@code use-credentials}, or
     * {@code anonymous} for any other value, an empty one too); null without the attribute.
     */
    static String corsMode(Element e) {
        if (!e.hasAttr("crossorigin")) {
            return null;
        }
        return Preload.corsMode(e.attr("crossorigin"));
    }

    private static Preload.Type typeOfAs(String as, String href) {
        switch (as.toLowerCase(Locale.ROOT).trim()) {
            case "style": return Preload.Type.STYLE;
            case "script": return Preload.Type.SCRIPT;
            case "font": return Preload.Type.FONT;
            case "image": return Preload.Type.IMAGE;
            case "fetch": return Preload.Type.FETCH;
            default: return Preload.Type.ofPath(href);
        }
    }

    private void css(Path file, String urlPath, int depth) throws IOException {
        if (depth >= MAX_DEPTH || Files.size(file) > MAX_FILE) {
            return;
        }
        String text = COMMENT.matcher(Files.readString(file, StandardCharsets.UTF_8)).replaceAll("");
        Matcher m = IMPORT.matcher(text);
        while (m.find()) {
            add(urlPath, m.group(1), Preload.Type.STYLE, depth + 1);
        }
        m = URL.matcher(text);
        while (m.find()) {
            String ref = m.group(1).trim();
            if (Preload.Type.ofPath(ref) == Preload.Type.FONT) {
                add(urlPath, ref, Preload.Type.FONT, depth + 1);
            }
        }
    }

    /**
     * The content ETag the static files send for a file that fits their cache: {@code "} + base64url of the first
     * 16 bytes of the content's SHA-256 + {@code "} (the formula of {@code dev.herald.files.EntityTags}), read in
     * 64 KiB chunks. For the handlers that are no {@code StaticFiles}; {@code StaticFiles.identityTag} knows the
     * rule for larger files too.
     */
    static String etag(Path file) throws IOException {
        java.security.MessageDigest digest;
        try {
            digest = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        byte[] buffer = new byte[64 << 10];
        try (java.io.InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return '"' + java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(java.util.Arrays.copyOf(digest.digest(), 16)) + '"';
    }

    /** Resolves {@code ref} against the URL path of the file that names it, and records it if it is ours. */
    private void add(String basePath, String ref, Preload.Type type, int depth) throws IOException {
        add(basePath, ref, type, depth, null);
    }

    private void add(String basePath, String ref, Preload.Type type, int depth, String corsMode) throws IOException {
        if (found.size() >= MAX_DEPENDENCIES) {
            return;
        }
        String path = sameOriginPath(basePath, ref);
        if (path == null || found.containsKey(path)) {
            return; // foreign, malformed, or seen (also the cycle guard)
        }
        Path file = fileOf(path);
        if (file == null) {
            return;
        }
        found.put(path, type);
        if (corsMode != null) {
            cors.put(path, corsMode);
        }
        sizes.put(path, Files.size(file));
        keys.put(path, CacheDigest.key(path, tags.etag(file)));
        stamps.put(file, Stamp.of(file));
        if (type == Preload.Type.STYLE) {
            css(file, path, depth);
        }
    }

    /** The absolute path (with any query, without the fragment) of a same-origin reference; else null. */
    static String sameOriginPath(String basePath, String ref) {
        String r = ref.trim();
        if (r.isEmpty() || r.startsWith("//") || r.startsWith("#")) {
            return null;
        }
        try {
            URI u = new URI(r);
            if (u.getScheme() != null || u.getRawAuthority() != null) {
                return null;
            }
            // ASCII: a non-ASCII character (which URI lets through) percent-encoded as UTF-8, as a browser does.
            URI resolved = URI.create(new URI("http", "h", basePath, null).resolve(u).toASCIIString());
            String p = resolved.getRawPath();
            if (p == null || !p.startsWith("/") || p.contains("/../") || p.endsWith("/..")) {
                return null;
            }
            return resolved.getRawQuery() == null ? p : p + '?' + resolved.getRawQuery();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /** The regular file under the root that serves this URL path, or null. */
    Path fileOf(String path) {
        int q = path.indexOf('?');
        String p = q < 0 ? path : path.substring(0, q);
        String decoded;
        try {
            decoded = URI.create(p).getPath();
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (decoded == null || decoded.contains("\0") || decoded.contains("/.")) {
            return null; // dotfiles and dot-segments are never served, so never pushed
        }
        Path f = root.resolve(decoded.substring(1)).normalize();
        if (!f.startsWith(root) || !Files.isRegularFile(f)) {
            return null;
        }
        return f;
    }
}
