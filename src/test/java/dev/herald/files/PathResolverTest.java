package dev.herald.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PathResolverTest {

    private static PathResolver.Accepted accepted(String raw) {
        PathResolver.Outcome outcome = PathResolver.resolve(raw);
        assertThat(outcome).as(raw).isInstanceOf(PathResolver.Accepted.class);
        return (PathResolver.Accepted) outcome;
    }

    private static PathResolver.Rejected rejected(String raw) {
        PathResolver.Outcome outcome = PathResolver.resolve(raw);
        assertThat(outcome).as(raw).isInstanceOf(PathResolver.Rejected.class);
        return (PathResolver.Rejected) outcome;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "/                        | /",
        "/index.html              | /index.html",
        "/docs/                   | /docs/",
        "/docs                    | /docs",
        "/sub/%6fk.txt            | /sub/ok.txt",
        "/a%20b.txt               | /a b.txt",
        "/caf%C3%A9.txt           | /café.txt",
        "/%E2%82%AC/%F0%9F%98%80  | /€/😀",
        "/%252e%252e/secret.txt   | /%2e%2e/secret.txt",
        "/%25                     | /%",
        "/a..b                    | /a..b",
        "/a.                      | /a.",
        "//a///b//                | /a/b/",
        "//                       | /",
        "/.well-known/            | /.well-known/",
        "/.well-known/acme/tok    | /.well-known/acme/tok",
        "/x;y=1/z                 | /x;y=1/z",
        "/a+b~c!$&'()*,=:@        | /a+b~c!$&'()*,=:@",
    })
    void acceptsAndDecodesOnce(String raw, String decoded) {
        assertThat(accepted(raw).path()).isEqualTo(decoded);
    }

    @Test
    void splitsIntoSegmentsAndRemembersTheTrailingSlash() {
        PathResolver.Accepted folder = accepted("/docs//guide/");
        PathResolver.Accepted file = accepted("/docs/guide.html");
        PathResolver.Accepted root = accepted("/");

        assertThat(folder.segments()).containsExactly("docs", "guide");
        assertThat(folder.trailingSlash()).isTrue();
        assertThat(file.segments()).containsExactly("docs", "guide.html");
        assertThat(file.trailingSlash()).isFalse();
        assertThat(root.segments()).isEmpty();
        assertThat(root.trailingSlash()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "index.html",
        "*",
        "http://example.com/",
        "/..",
        "/../secret",
        "/a/../../secret",
        "/.",
        "/./a",
        "/a/.",
        "/a/./b",
        "/%2e%2e/secret",
        "/%2E%2E/secret",
        "/%2e%2E/secret",
        "/.%2e/secret",
        "/%2e./secret",
        "/%2e",
        "//..//secret",
        "/a%2fb",
        "/a%2Fb",
        "/..%2fsecret",
        "/%2f",
        "/a%5cb",
        "/a%5Cb",
        "/a\\b",
        "/..\\secret",
        "/a%00b",
        "/a\u0000b",
        "/%00",
        "/%",
        "/%2",
        "/a%2",
        "/%zz",
        "/%g0",
        "/%0g",
        "/%\uff10\uff10",
        "/%c0%ae%c0%ae/secret",
        "/%c0%af",
        "/%c0%2e",
        "/%e0%80%ae",
        "/%f0%80%80%ae",
        "/%c1%9c",
        "/%ed%a0%80",
        "/%ff",
        "/%fe%ff",
        "/%c3",
        "/%e2%82",
        "/%80",
        "/a%0ab",
        "/a%0d%0aSet-Cookie:x",
        "/a%09b",
        "/a%7fb",
        "/a%c2%85b",
        "/a b",
        "/a\tb",
        "/a\nb",
        "/caf\u00e9",
        "/\u2024\u2024/secret",
    })
    void refusesWith400(String raw) {
        assertThat(rejected(raw).status()).isEqualTo(400);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/.env",
        "/%2eenv",
        "/%2Eenv",
        "/.git/config",
        "/%2egit/config",
        "/a/.htaccess",
        "/a/.ssh/id_rsa",
        "/...",
        "/.well-known/.secret",
        "/a/.well-known/x",
        "/.well-knownx/y",
    })
    void hidesDotfilesWith404(String raw) {
        assertThat(rejected(raw).status()).isEqualTo(404);
    }

    @Test
    void dotSegmentsWinOverDotfiles() {
        assertThat(rejected("/.env/..").status()).isEqualTo(400);
    }

    @Test
    void doubleEncodingIsDecodedOnlyOnce() {
        PathResolver.Accepted p = accepted("/%252e%252e/%252e%252e/secret.txt");

        assertThat(p.segments()).containsExactly("%2e%2e", "%2e%2e", "secret.txt");
    }

    @Test
    void reasonsNameTheProblem() {
        assertThat(rejected("/a%2fb").reason()).contains("encoded slash");
        assertThat(rejected("/%c0%ae").reason()).contains("malformed UTF-8");
        assertThat(rejected("/%2").reason()).contains("truncated");
        assertThat(rejected("/%zz").reason()).contains("invalid percent-escape");
        assertThat(rejected("/..").reason()).contains("dot segment");
        assertThat(rejected("/.env").reason()).contains("hidden segment");
        assertThat(rejected("/a%0ab").reason()).contains("control character");
    }

    @Test
    void segmentsAreImmutable() {
        List<String> segments = accepted("/a/b").segments();

        assertThat(segments).isUnmodifiable();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "/docs/          | /docs/",
        "/a b/           | /a%20b/",
        "/café/          | /caf%C3%A9/",
        "/%2e%2e/        | /%252e%252e/",
        "/q?x#y/         | /q%3Fx%23y/",
        "/a+b;c=d@e/     | /a+b;c=d@e/",
    })
    void encodesForLocation(String decoded, String encoded) {
        assertThat(PathResolver.encode(decoded)).isEqualTo(encoded);
    }

    @Test
    void encodingRoundTrips() {
        String decoded = "/ü ber/%/a?b#c/é€😀/";

        assertThat(accepted(PathResolver.encode(decoded)).path()).isEqualTo(decoded);
    }
}
