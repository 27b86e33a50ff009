package dev.herald.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PushRuleTest {
    @Test
    void anExactPatternMatchesOnlyThatPathWhateverTheQuery() {
        PushRule r = PushRule.of("/index.html", List.of());
        assertThat(r.matches("/index.html")).isTrue();
        assertThat(r.matches("/index.html?v=2")).isTrue();
        assertThat(r.matches("/index.htm")).isFalse();
        assertThat(r.matches("/x/index.html")).isFalse();
    }

    @Test
    void oneStarStaysInASegmentTwoStarsCrossThem() {
        PushRule one = PushRule.of("/docs/*.html", List.of());
        assertThat(one.matches("/docs/a.html")).isTrue();
        assertThat(one.matches("/docs/.html")).isTrue();
        assertThat(one.matches("/docs/a/b.html")).isFalse();
        PushRule two = PushRule.of("/docs/**", List.of());
        assertThat(two.matches("/docs/a/b.html")).isTrue();
        assertThat(two.matches("/docs/")).isTrue();
        assertThat(two.matches("/doc")).isFalse();
    }

    @Test
    void regexCharactersInAPatternAreLiteral() {
        PushRule r = PushRule.of("/a+b(1).html", List.of());
        assertThat(r.matches("/a+b(1).html")).isTrue();
        assertThat(r.matches("/aab1.html")).isFalse();
        assertThat(PushRule.of("/v1.0/*", List.of()).matches("/v1x0/a")).isFalse();
    }

    @Test
    void problemsNameTheField() {
        assertThat(PushRule.of("/", List.of("/a.css")).problem()).isNull();
        assertThat(PushRule.of("/", List.of("/a b.css")).problem()).startsWith("resources: /a b.css");
        assertThat(new PushRule("/", List.of(), true, -2, true, List.of()).problem()).startsWith("limit: -2");
        assertThat(new PushRule("/", List.of(), true, 0, true, List.of("a\nb")).problem()).startsWith("link: ");
    }

    @Test
    void threeStarsInARowAreRefusedSinceTheyCouldMeanEither() {
        assertThat(PushRule.of("/a/***/b", List.of()).problem()).startsWith("path: /a/***/b (expected: ");
        assertThat(PushRule.of("/a/**/b", List.of()).problem()).isNull();
        assertThat(PushRule.of("/a/*/*.css", List.of()).problem()).isNull();
    }

    @Test
    void aLinkMustBeAFieldValueOfPreloads() {
        assertThat(new PushRule("/", List.of(), true, 0, true, List.of("</a.css>; rel=preload\r\nX: 1")).problem())
                .isEqualTo("link: </a.css>; rel=preload\\r\\nX: 1 (expected: a Link field value of preloads such as "
                        + "</a.css>; rel=preload; as=style)");
        assertThat(new PushRule("/", List.of(), true, 0, true, List.of("garbage;;;<")).problem())
                .startsWith("link: garbage;;;< (expected: ");
        assertThat(new PushRule("/", List.of(), true, 0, true, List.of("</a.css>; rel=preload; as=style")).problem())
                .isNull();
    }
}
