package dev.herald.files;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The file cache at and beyond its cap. */
class CacheBoundsTest {

    private static Resource resource(String path, int bytes) {
        Variant v = new Variant(null, "\"t\"", 0, bytes, new byte[bytes], null);
        return new Resource(path, "text/plain", "no-cache", v, null, null, 0);
    }

    @Test
    void fileCacheStaysWithinItsByteCapAndEvictsTheLeastRecentlyUsed() {
        long cap = 10 * resource("/00", 1000).weight();
        FileCache cache = new FileCache(cap);

        for (int i = 0; i < 30; i++) {
            cache.put(resource(String.format("/%02d", i), 1000));
            if (i == 5) {
                assertThat(cache.get("/00")).isNotNull(); // touch: /00 becomes the most recently used
            }
            assertThat(cache.weight()).isLessThanOrEqualTo(cap);
        }

        assertThat(cache.size()).isEqualTo(10);
        assertThat(cache.weight()).isEqualTo(cap);
        assertThat(cache.get("/29")).isNotNull();
        assertThat(cache.get("/19")).isNull();
        assertThat(cache.get("/01")).isNull();
    }

    @Test
    void fileCacheKeepsNothingHeavierThanItself() {
        FileCache cache = new FileCache(1000);

        cache.put(resource("/big", 2000));

        assertThat(cache.size()).isZero();
        assertThat(cache.weight()).isZero();
    }

    @Test
    void zeroCapacityCachesNothing() {
        FileCache cache = new FileCache(0);

        cache.put(resource("/a", 0));

        assertThat(cache.size()).isZero();
    }

    @Test
    void replacingAnEntryAccountsForTheOldOne() {
        FileCache cache = new FileCache(1 << 20);
        Resource small = resource("/a", 10);
        Resource large = resource("/a", 5000);

        cache.put(small);
        cache.put(large);

        assertThat(cache.size()).isEqualTo(1);
        assertThat(cache.weight()).isEqualTo(large.weight());
        cache.remove(small); // no longer the entry: nothing happens
        assertThat(cache.weight()).isEqualTo(large.weight());
        cache.remove(large);
        assertThat(cache.weight()).isZero();
    }
}
