package dev.herald.files;

/**
 * What a path maps to: a resource, a redirect to the folder form of the path, nothing, or a file or folder Herald is
 * not allowed to read.
 */
sealed interface Lookup permits Lookup.Found, Lookup.Redirect, Lookup.Missing, Lookup.Forbidden {

    /** A file to serve. */
    record Found(Resource resource) implements Lookup {
    }

    /** A folder asked for without its trailing slash: 301 to {@code location} (encoded, without query). */
    record Redirect(String location) implements Lookup {
    }

    /** Nothing to serve (404); {@code reason} is for the debug log only. */
    record Missing(String reason) implements Lookup {
    }

    /** A file or folder on the way that Herald may not read (403); {@code reason}, naming it, goes to the log. */
    record Forbidden(String reason) implements Lookup {
    }
}
