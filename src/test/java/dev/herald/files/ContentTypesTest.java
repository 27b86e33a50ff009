package dev.herald.files;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class ContentTypesTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "index.html       | text/html; charset=utf-8",
        "site.css         | text/css; charset=utf-8",
        "app.js           | text/javascript; charset=utf-8",
        "module.mjs       | text/javascript; charset=utf-8",
        "data.json        | application/json; charset=utf-8",
        "logo.svg         | image/svg+xml; charset=utf-8",
        "a.png            | image/png",
        "a.jpg            | image/jpeg",
        "a.JPEG           | image/jpeg",
        "a.gif            | image/gif",
        "a.webp           | image/webp",
        "a.avif           | image/avif",
        "favicon.ico      | image/x-icon",
        "f.woff           | font/woff",
        "f.woff2          | font/woff2",
        "f.ttf            | font/ttf",
        "f.otf            | font/otf",
        "notes.txt        | text/plain; charset=utf-8",
        "feed.xml         | application/xml; charset=utf-8",
        "m.wasm           | application/wasm",
        "doc.pdf          | application/pdf",
        "v.mp4            | video/mp4",
        "v.webm           | video/webm",
        "app.js.map       | application/json; charset=utf-8",
        "site.css.gz      | application/gzip",
        "site.css.br      | application/octet-stream",
        "README           | application/octet-stream",
        "trailing.        | application/octet-stream",
        "archive.unknown  | application/octet-stream",
        "SITE.CSS         | text/css; charset=utf-8",
    })
    void byExtension(String name, String type) {
        assertThat(ContentTypes.forName(name)).isEqualTo(type);
    }
}
