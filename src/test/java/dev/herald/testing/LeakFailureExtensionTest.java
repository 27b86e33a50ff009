package dev.herald.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The leak check that guards every test class must itself see a leak, or it guards nothing. */
class LeakFailureExtensionTest {

    @Test
    void aLostBufferIsReported() {
        LeakFailureExtension.install();
        leakOne();
        for (int round = 0; round < 50 && LeakFailureExtension.leaks().isEmpty(); round++) {
            System.gc();
            for (int i = 0; i < 256; i++) {
                PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
            }
        }
        try {
            assertThat(LeakFailureExtension.leaks()).as("LEAK reports").isNotEmpty();
            assertThat(LeakFailureExtension.leaks().get(0)).contains("LEAK:");
        } finally {
            LeakFailureExtension.leaks().clear(); // this class's own leak must not fail it
        }
    }

    private static void leakOne() {
        ByteBuf lost = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        lost.writeLong(42);
        // dropped without release()
    }
}
