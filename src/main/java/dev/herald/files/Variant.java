package dev.herald.files;

/**
 * One representation of a resource: the file itself or a precompressed sibling. Immutable; its body is either
 * held in memory ({@link #bytes}) or streamed from {@link #stamp}'s path.
 *
 * @param encoding     {@code null} for identity, else the {@code content-encoding} ({@code br}, {@code gzip})
 * @param etag         a strong tag of exactly these bytes
 * @param lastModified epoch milliseconds
 * @param length       the body length in bytes
 * @param bytes        the body when held in memory, else {@code null}
 * @param stamp        the file it was read from; {@code null} for bundled resources, which never change
 */
record Variant(String encoding, String etag, long lastModified, long length, byte[] bytes, FileStamp stamp) {

    /** A rough count of the heap this variant holds, for the cache bound. */
    long weight() {
        return 128 + (bytes != null ? bytes.length : 0) + (stamp != null ? 2L * stamp.path().toString().length() : 0);
    }
}
