package dev.herald.server;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LinkHeaderTest {
    private static List<String> parse(String value) {
        return LinkHeader.preloads(value, "https", "example.com:8443").stream().map(Preload::toString).toList();
    }

    @Test
    void readsPreloadsInOrderWithTheirTypes() {
        assertThat(parse("</a.css>; rel=preload; as=style, </f.woff2>; rel=preload; as=font; crossorigin, "
                + "</m.js>; rel=modulepreload, </s.js>; rel=\"preload\"; as=\"script\""))
                .containsExactly("</a.css>; rel=preload; as=style", "</f.woff2>; rel=preload; as=font; crossorigin",
                        "</m.js>; rel=modulepreload", "</s.js>; rel=preload; as=script");
    }

    @Test
    void guessesTheTypeFromThePathWithoutAs() {
        assertThat(LinkHeader.preloads("</x/app.js>; rel=preload", "https", null))
                .extracting(Preload::type).containsExactly(Preload.Type.SCRIPT);
    }

    @Test
    void keepsTheCrossoriginModeOnTheLinkLine() {
        assertThat(LinkHeader.preloads("</a.css>; rel=preload; as=style; crossorigin, "
                        + "</b.js>; rel=preload; as=script; crossorigin=\"use-credentials\", </c.js>; rel=preload; as=script",
                "https", null)).extracting(Preload::linkValue).containsExactly(
                "</a.css>; rel=preload; as=style; crossorigin",
                "</b.js>; rel=preload; as=script; crossorigin=use-credentials",
                "</c.js>; rel=preload; as=script");
    }

    @Test
    void nopushMakesAHintOnly() {
        List<Preload> preloads = LinkHeader.preloads("</a.css>; rel=preload; as=style; nopush", "https", null);
        assertThat(preloads).hasSize(1);
        assertThat(preloads.get(0).push()).isFalse();
    }

    @Test
    void keepsOnlyTheRequestsOrigin() {
        assertThat(parse("<https://example.com:8443/a.css>; rel=preload; as=style, "
                + "<https://EXAMPLE.com:8443>; rel=preload, "
                + "<https://evil.com/b.css>; rel=preload; as=style, "
                + "<http://example.com:8443/c.css>; rel=preload; as=style, "
                + "<//example.com:8443/d.css>; rel=preload; as=style, "
                + "<e.css>; rel=preload; as=style"))
                .containsExactly("</a.css>; rel=preload; as=style", "</>; rel=preload; as=fetch; crossorigin");
    }

    @Test
    void ignoresOtherRelationsAndDuplicates() {
        assertThat(parse("</a.css>; rel=stylesheet, </b.css>; rel=\"prefetch preload\"; as=style, "
                + "</b.css>; rel=preload; as=style, </c.css>; rel=preconnect"))
                .containsExactly("</b.css>; rel=preload; as=style");
    }

    @Test
    void skipsMalformedEntriesAndKeepsTheRest() {
        assertThat(parse("garbage, </a.css> rel=preload, </b.css>; rel=preload; as=style, <unterminated"))
                .containsExactly("</b.css>; rel=preload; as=style");
        assertThat(parse("</a b.css>; rel=preload, </q.css?v=1#top>; rel=preload; as=style"))
                .containsExactly("</q.css?v=1>; rel=preload; as=style");
        assertThat(parse("</x,y.css>; rel=\"pre\\\"load\", </ok.css>; rel=preload; as=style"))
                .containsExactly("</ok.css>; rel=preload; as=style");
    }

    @Test
    void neverThrowsOnEdgeInputs() {
        for (String s : new String[] {"", ",", ";", "<", ">", "<>", "<>;", "</a>;;;", "</a>; =x", "</a>; rel=",
                "</a>; rel=\"", "\"", "\\", "</a>; rel=preload; as"}) {
            assertThat(LinkHeader.preloads(s, "https", "h")).isNotNull();
        }
        assertThat(LinkHeader.preloads(null, "https", "h")).isEmpty();
    }

    @Test
    void boundsTheNumberOfPreloads() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            sb.append("</r").append(i).append(".css>; rel=preload; as=style, ");
        }
        assertThat(LinkHeader.preloads(sb.toString(), "https", null)).hasSize(LinkHeader.MAX_LINKS);
    }

    @Test
    void aPreloadListHasOnlyWellFormedPreloadEntries() {
        assertThat(LinkHeader.isPreloadList("</a.css>; rel=preload; as=style, </m.js>; rel=modulepreload")).isTrue();
        assertThat(LinkHeader.isPreloadList("<https://cdn.example/f.woff2>; rel=preload; as=font; crossorigin"))
                .as("a configured value may name another origin").isTrue();
        for (String s : new String[] {"", " ", "garbage;;;<", "</a.css>; rel=stylesheet", "<a.css>; rel=preload",
                "</a.css>; rel=preload, garbage", "</a.css> rel=preload", "</a.css; rel=preload", "</a b.css>; rel=preload",
                "<ftp://x/a.css>; rel=preload", "</a.css>; rel=preload; =x"}) {
            assertThat(LinkHeader.isPreloadList(s)).as(s).isFalse();
        }
        StringBuilder many = new StringBuilder();
        for (int i = 0; i <= LinkHeader.MAX_LINKS; i++) {
            many.append("</r").append(i).append(".css>; rel=preload, ");
        }
        assertThat(LinkHeader.isPreloadList(many.toString())).as("more than are ever read").isFalse();
    }
}
