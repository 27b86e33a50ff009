package dev.herald.files;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class ByteRangeTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bytes=0-0                         | 100 | 0  | 0",
        "bytes=0-99                        | 100 | 0  | 99",
        "bytes=10-19                       | 100 | 10 | 19",
        "bytes=10-                         | 100 | 10 | 99",
        "bytes=90-1000                     | 100 | 90 | 99",
        "bytes=-10                         | 100 | 90 | 99",
        "bytes=-1000                       | 100 | 0  | 99",
        "BYTES=5-6                         | 100 | 5  | 6",
        "bytes = 5-6                       | 100 | 5  | 6",
        "bytes=5-6,                        | 100 | 5  | 6",
        "bytes=, 5-6                       | 100 | 5  | 6",
        "bytes=99-99999999999999999999999  | 100 | 99 | 99",
        "bytes=-99999999999999999999999    | 100 | 0  | 99",
    })
    void satisfiable(String header, long total, long first, long last) {
        ByteRange r = ByteRange.parse(header, total);

        assertThat(r).as(header).isNotNull();
        assertThat(r.satisfiable()).isTrue();
        assertThat(r.first()).isEqualTo(first);
        assertThat(r.last()).isEqualTo(last);
        assertThat(r.length()).isEqualTo(last - first + 1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bytes=100-    | 100",
        "bytes=100-200 | 100",
        "bytes=-0      | 100",
        "bytes=0-      | 0",
        "bytes=-5      | 0",
        "bytes=99999999999999999999999- | 100",
    })
    void unsatisfiable(String header, long total) {
        ByteRange r = ByteRange.parse(header, total);

        assertThat(r).as(header).isNotNull();
        assertThat(r.satisfiable()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "bytes=0-1,5-6",
        "bytes=0-1, -5",
        "bytes=-",
        "bytes=",
        "bytes=,",
        "bytes=abc",
        "bytes=1-a",
        "bytes=a-1",
        "bytes=5-2",
        "bytes=+1-2",
        "bytes=-+2",
        "bytes=1 - 2",
        "bytes=0x10-20",
        "bytes 0-1",
        "items=0-1",
        "=0-1",
        "",
        "bytes=--1",
    })
    void ignored(String header) {
        assertThat(ByteRange.parse(header, 100)).as(header).isNull();
    }
}
