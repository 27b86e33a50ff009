package dev.herald.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValueTypeTest {
    @ParameterizedTest
    @CsvSource({
            "0, 0", "512, 512", "512b, 512", "16k, 16384", "16K, 16384", "16kb, 16384", "64KiB, 65536",
            "1m, 1048576", "1MiB, 1048576", "32 MiB, 33554432", "1g, 1073741824", "1GiB, 1073741824",
            "' 8k ', 8192"})
    void sizesTakeBinaryUnits(String text, long bytes) {
        assertThat(ValueType.SIZE.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5MiB", "abc", "1TiB", "k", "16 k b", "99999999999999GiB"})
    void badSizesAreRejected(String text) {
        assertThatThrownBy(() -> ValueType.SIZE.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aPushBudgetIsAutoOrASize() {
        assertThat(ValueType.SIZE_OR_AUTO.parse("auto")).isEqualTo(HeraldConfig.PUSH_BYTES_AUTO);
        assertThat(ValueType.SIZE_OR_AUTO.parse(" AUTO ")).isEqualTo(HeraldConfig.PUSH_BYTES_AUTO);
        assertThat(ValueType.SIZE_OR_AUTO.parse("64KiB")).isEqualTo(64L << 10);
        assertThat(ValueType.SIZE_OR_AUTO.format(HeraldConfig.PUSH_BYTES_AUTO)).isEqualTo("auto");
        assertThat(ValueType.SIZE_OR_AUTO.format(43_800L)).isEqualTo("43800");
        assertThatThrownBy(() -> ValueType.SIZE_OR_AUTO.parse("-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ValueType.SIZE_OR_AUTO.parse("automatic"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(HeraldConfig.builder().build().pushMaxBytes()).as("the default")
                .isEqualTo(HeraldConfig.PUSH_BYTES_AUTO);
        assertThatThrownBy(() -> HeraldConfig.builder().pushMaxBytes(-2)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("auto or a size >= 0");
    }

    @Test
    void intSizesStopBelow2GiB() {
        assertThat(ValueType.INT_SIZE.parse("2047MiB")).isEqualTo(2047 << 20);
        assertThatThrownBy(() -> ValueType.INT_SIZE.parse("2GiB")).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({"500ms, PT0.5S", "0s, PT0S", "10s, PT10S", "2m, PT2M", "1h, PT1H", "' 3 s', PT3S"})
    void durationsTakeAUnit(String text, Duration expected) {
        assertThat(ValueType.DURATION.parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10", "-1s", "1.5s", "10 sec", "PT10S", "s"})
    void badDurationsAreRejected(String text) {
        assertThatThrownBy(() -> ValueType.DURATION.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sizesAndDurationsFormatInTheirLargestExactUnit() {
        assertThat(ValueType.SIZE.format(32L << 20)).isEqualTo("32MiB");
        assertThat(ValueType.SIZE.format(1536L)).isEqualTo("1536");
        assertThat(ValueType.SIZE.format(0L)).isEqualTo("0");
        assertThat(ValueType.INT_SIZE.format(16_384)).isEqualTo("16KiB");
        assertThat(ValueType.DURATION.format(Duration.ofSeconds(120))).isEqualTo("120s");
        assertThat(ValueType.DURATION.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    }

    @Test
    void integersMayBeNegative() {
        assertThat(ValueType.INT.parse("-1")).isEqualTo(-1);
        assertThatThrownBy(() -> ValueType.INT.parse("1.0")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ValueType.INT.parse("3000000000")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void booleansAreTrueOrFalse() {
        assertThat(ValueType.BOOLEAN.parse("true")).isTrue();
        assertThat(ValueType.BOOLEAN.parse("FALSE")).isFalse();
        assertThatThrownBy(() -> ValueType.BOOLEAN.parse("yes")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pathsFilesAndFolders(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("cert.pem"), "x");
        assertThat(ValueType.PATH.parse("not/there")).isEqualTo(Path.of("not/there"));
        assertThatThrownBy(() -> ValueType.PATH.parse(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThat(ValueType.FILE.parse(file.toString())).isEqualTo(file);
        assertThatThrownBy(() -> ValueType.FILE.parse(tmp.toString())).isInstanceOf(IllegalArgumentException.class);
        assertThat(ValueType.FOLDER.parse(tmp.toString())).isEqualTo(tmp);
        assertThatThrownBy(() -> ValueType.FOLDER.parse(file.toString()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
