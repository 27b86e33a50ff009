package dev.herald.files;

import dev.herald.server.Request;
import dev.herald.server.Response;

import java.util.Arrays;
import java.util.List;

/**
 * Builds the response for a found resource: chooses the variant, evaluates the preconditions, applies a range.
 * Pure apart from reading the request; never touches the disk, so it runs on whichever thread has the resource.
 *
 * <p>Order of evaluation (RFC 9110 §13.2.2, for GET and HEAD): {@code If-Match} (strong comparison, §13.1.1) or
 * else {@code If-Unmodified-Since} (§13.1.4; ignored when it is not a valid date), either giving 412 when false;
 * then {@code If-None-Match} (weak comparison; when it is present {@code If-Modified-Since} is ignored) or else
 * {@code If-Modified-Since}, either giving 304; then, for GET only, {@code Range}, applied only if
 * {@code If-Range} is absent or matches (strong tag comparison or the exact {@code last-modified} date). Tags are
 * compared with the chosen variant's, dates with its {@code last-modified}, to the second. Every response for a
 * resource that has a precompressed sibling carries {@code vary: accept-encoding}, the identity ones, 304s and
 * 412s included, so caches key on the header.
 */
final class Responder {
    private Responder() {
    }

    static Response respond(Request request, Resource resource) {
        Variant v = variantFor(request, resource);
        String ifMatch = joined(request.headers().getAll("if-match"));
        if (ifMatch != null) {
            if (!EntityTags.matchHits(ifMatch, v.etag())) {
                return preconditionFailed(resource);
            }
        } else {
            long unmodifiedSince = HttpDates.parseSeconds(request.header("if-unmodified-since"));
            if (unmodifiedSince != HttpDates.INVALID && v.lastModified() / 1000 > unmodifiedSince) {
                return preconditionFailed(resource);
            }
        }

        String ifNoneMatch = joined(request.headers().getAll("if-none-match"));
        if (ifNoneMatch != null) {
            if (EntityTags.noneMatchHits(ifNoneMatch, v.etag())) {
                return notModified(resource, v);
            }
        } else {
            long since = HttpDates.parseSeconds(request.header("if-modified-since"));
            if (since != HttpDates.INVALID && v.lastModified() / 1000 <= since) {
                return notModified(resource, v);
            }
        }

        String range = request.header("range");
        if (range != null && "GET".equals(request.method()) && ifRangeHolds(request.header("if-range"), v)) {
            ByteRange r = ByteRange.parse(range, v.length());
            if (r != null && !r.satisfiable()) {
                Response unsatisfiable = Response.error(416, "range not satisfiable",
                        "no byte of the range is within the " + v.length() + " bytes of the representation")
                        .header("content-range", "bytes */" + v.length());
                return vary(resource, unsatisfiable);
            }
            if (r != null) {
                Response partial = Response.status(206)
                        .header("content-range", "bytes " + r.first() + '-' + r.last() + '/' + v.length());
                return body(representation(resource, v, partial), v, r.first(), r.length());
            }
        }
        return body(representation(resource, v, Response.status(200)), v, 0, v.length());
    }

    /** The variant this request's {@code Accept-Encoding} selects. */
    static Variant variantFor(Request request, Resource resource) {
        return resource.hasSiblings() ? resource.choose(joined(request.headers().getAll("accept-encoding")))
                : resource.identity();
    }

    private static boolean ifRangeHolds(String ifRange, Variant v) {
        if (ifRange == null) {
            return true;
        }
        if (EntityTags.looksLikeTag(ifRange)) {
            return EntityTags.strongMatch(ifRange, v.etag());
        }
        long date = HttpDates.parseSeconds(ifRange);
        return date != HttpDates.INVALID && date == v.lastModified() / 1000;
    }

    private static Response preconditionFailed(Resource resource) {
        return vary(resource, Response.error(412, "precondition failed",
                "If-Match or If-Unmodified-Since does not hold for the current representation"));
    }

    private static Response notModified(Resource resource, Variant v) {
        return vary(resource, validators(resource, v, Response.status(304)));
    }

    private static Response representation(Resource resource, Variant v, Response r) {
        r.header("content-type", resource.contentType());
        if (v.encoding() != null) {
            r.header("content-encoding", v.encoding());
        }
        validators(resource, v, r).header("accept-ranges", "bytes");
        return vary(resource, r);
    }

    private static Response validators(Resource resource, Variant v, Response r) {
        return r.header("etag", v.etag())
                .header("last-modified", HttpDates.format(v.lastModified()))
                .header("cache-control", resource.cacheControl());
    }

    private static Response vary(Resource resource, Response r) {
        return resource.hasSiblings() ? r.header("vary", "accept-encoding") : r;
    }

    private static Response body(Response r, Variant v, long offset, long length) {
        if (v.bytes() == null) {
            return r.file(v.stamp().path(), offset, length);
        }
        if (offset == 0 && length == v.bytes().length) {
            return r.body(v.bytes());
        }
        return r.body(Arrays.copyOfRange(v.bytes(), (int) offset, (int) (offset + length)));
    }

    /** Several header lines of a list-valued field, as one comma-separated value; {@code null} if none. */
    private static String joined(List<String> values) {
        if (values.isEmpty()) {
            return null;
        }
        return values.size() == 1 ? values.get(0) : String.join(", ", values);
    }
}
