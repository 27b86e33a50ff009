package dev.herald.files;

/** What a path maps to: a resource, a redirect to the folder form of the path, or nothing. */
sealed interface Lookup permits Lookup.Found, Lookup.Redirect, Lookup.Missing {

    /** A file to serve. */
    record Found(Resource resource) implements Lookup {
    }

    /** A folder asked for without its trailing slash: 301 to {@code location} (encoded, without query). */
    record Redirect(String location) implements Lookup {
    }

    /** Nothing to serve (404); {@code reason} is for the debug log only. */
    record Missing(String reason) implements Lookup {
    }
}
