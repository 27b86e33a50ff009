package dev.herald.files;

/**
 * One representation of a resource: the file itself, a precompressed sibling, or the gzip variant Herald made from
 * the file ({@link Compression}). Immutable; its body is either held in memory ({@link #bytes}) or streamed from
 * {@link #stamp}'s path.
 *
 * @param encoding     {@code null} for identity, else the {@code content-encoding} ({@code br}, {@code gzip})
 * @param etag         a strong tag of this representation: of its bytes, or of the stat of a file streamed from
 *                     disk ({@link EntityTags})
 * @param lastModified epoch milliseconds
 * @param length       the body length in bytes
 * @param bytes        the body when held in memory, else {@code null}
 * @param stamp        the file it was read from (for a variant Herald made: the identity file it was made from);
 *                     {@code null} for bundled resources, which never change
 */
record Variant(String encoding, String etag, long lastModified, long length, byte[] bytes, FileStamp stamp) {

    /** Whether Herald made this variant from {@code identity}'s file as it is now (not a sibling on disk). */
    boolean madeFrom(Variant identity) {
        return encoding != null && stamp != null && stamp.equals(identity.stamp());
    }

    /** A rough count of the heap this variant holds, for the cache bound. */
    long weight() {
        return 128 + (bytes != null ? bytes.length : 0) + (stamp != null ? 2L * stamp.path().toString().length() : 0);
    }
}
