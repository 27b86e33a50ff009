package dev.herald.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class AcceptEncodingTest {

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "gzip, deflate, br, zstd        | br",
        "gzip, br                       | br",
        "br                             | br",
        "BR                             | br",
        "gzip                           | gzip",
        "x-gzip                         | gzip",
        "gzip;q=1.0, br;q=1.0           | br",
        "br;q=0.5, gzip;q=0.8           | gzip",
        "br;q=0.8, gzip;q=0.5           | br",
        "br;q=0, gzip                   | gzip",
        "br;q=0.000, gzip               | gzip",
        "br ; q=0 , gzip ; q=0.1        | gzip",
        "gzip;q=0, br;q=0               | -",
        "*                              | br",
        "*;q=0.5                        | br",
        "*;q=0                          | -",
        "*, br;q=0                      | gzip",
        "gzip, *;q=0                    | gzip",
        "identity                       | -",
        "identity, gzip;q=0.5           | -",
        "identity;q=0.5, gzip           | gzip",
        "identity;q=0, br               | br",
        "deflate, zstd                  | -",
        "br;q=2, gzip                   | gzip",
        "br;q=abc, gzip                 | gzip",
        "br;level=5;q=0.9, gzip;q=0.8   | br",
        "''                             | -",
        "' , ,'                         | -",
    })
    void choosesByQValue(String header, String expected) {
        assertThat(AcceptEncoding.choose(header, true, true)).isEqualTo(expected);
    }

    @Test
    void absentHeaderMeansIdentity() {
        assertThat(AcceptEncoding.choose(null, true, true)).isNull();
    }

    @Test
    void onlyOffersWhatExists() {
        assertThat(AcceptEncoding.choose("br, gzip", false, true)).isEqualTo("gzip");
        assertThat(AcceptEncoding.choose("br, gzip", true, false)).isEqualTo("br");
        assertThat(AcceptEncoding.choose("br", false, true)).isNull();
        assertThat(AcceptEncoding.choose("br, gzip", false, false)).isNull();
        assertThat(AcceptEncoding.choose("br;q=0.1, gzip;q=0.9", true, false)).isEqualTo("br");
    }
}
