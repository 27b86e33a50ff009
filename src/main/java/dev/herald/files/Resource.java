package dev.herald.files;

/**
 * A servable file: its media type and cache policy, the identity {@link Variant} and any precompressed siblings.
 *
 * @param path         the decoded request path it answers (the folder's path for an index file)
 * @param contentType  of the identity representation; siblings are served with it too
 * @param cacheControl the {@code cache-control} value
 * @param identity     the file itself
 * @param br           the {@code .br} sibling, or {@code null}
 * @param gzip         the {@code .gz} sibling, or {@code null}
 * @param resolvedAt   {@link System#nanoTime()} when the path was last resolved on disk (symlinks, siblings)
 */
record Resource(String path, String contentType, String cacheControl, Variant identity, Variant br, Variant gzip,
                long resolvedAt) {

    boolean hasSiblings() {
        return br != null || gzip != null;
    }

    /** The variant {@code Accept-Encoding} asks for. */
    Variant choose(String acceptEncoding) {
        String coding = AcceptEncoding.choose(acceptEncoding, br != null, gzip != null);
        if (AcceptEncoding.BR.equals(coding)) {
            return br;
        }
        return AcceptEncoding.GZIP.equals(coding) ? gzip : identity;
    }

    /** A rough count of the heap this resource holds, for the cache bound. */
    long weight() {
        return 256 + 2L * path.length() + identity.weight()
                + (br != null ? br.weight() : 0) + (gzip != null ? gzip.weight() : 0);
    }
}
