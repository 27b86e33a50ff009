package dev.herald.server;

import dev.herald.config.HeraldConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The count behind the HTTP/2 request-body limits: per connection and server-wide, what is refused counts nothing,
 * and a connection that closes gives back everything its streams held, exactly once.
 */
class BodyBudgetTest {
    static final int BODY = 16 << 10;

    private static ServerContext server(HeraldConfig.Builder config) {
        return new ServerContext(config.maxRequestBody(BODY).build(), ex -> { }, new ServerMetrics(),
                LimitLog.create(Duration.ofSeconds(1)));
    }

    @Test
    void autoIsFourBodiesPerConnectionAndAQuarterOfTheMemoryInAll() {
        HeraldConfig auto = HeraldConfig.builder().maxRequestBody(BODY).build();
        assertThat(BodyBudget.perConnectionLimit(auto)).isEqualTo(4L * BODY);
        assertThat(BodyBudget.totalLimit(auto)).isEqualTo(Math.max(Runtime.getRuntime().maxMemory() / 4, BODY));

        HeraldConfig set = HeraldConfig.builder().maxRequestBody(BODY).maxBufferedBodyPerConnection(100_000)
                .maxBufferedBody(300_000).build();
        assertThat(BodyBudget.perConnectionLimit(set)).isEqualTo(100_000);
        assertThat(BodyBudget.totalLimit(set)).isEqualTo(300_000);
    }

    @Test
    void aConnectionTakesUpToItsLimitAndWhatIsRefusedCountsNothing() {
        ServerContext server = server(HeraldConfig.builder());
        BodyBudget budget = BodyBudget.of(server, new EmbeddedChannel());
        for (int i = 0; i < 4; i++) {
            assertThat(budget.take(BODY)).as("body %s of 4", i + 1).isNull();
        }
        assertThat(budget.take(1)).isEqualTo(BodyBudget.PER_CONNECTION);
        assertThat(budget.limit(BodyBudget.PER_CONNECTION)).isEqualTo(4L * BODY);
        assertThat(server.metrics.bufferedRequestBodies).hasValue(4L * BODY);

        budget.giveBack(BODY);
        assertThat(budget.take(BODY)).as("room again once a body left").isNull();
        budget.giveBack(4L * BODY);
        assertThat(server.metrics.bufferedRequestBodies).hasValue(0);
    }

    @Test
    void connectionsShareTheServerWideLimit() {
        ServerContext server = server(HeraldConfig.builder().maxBufferedBody(3L * BODY));
        BodyBudget a = BodyBudget.of(server, new EmbeddedChannel());
        BodyBudget b = BodyBudget.of(server, new EmbeddedChannel());
        assertThat(a.take(BODY)).isNull();
        assertThat(a.take(BODY)).isNull();
        assertThat(b.take(BODY)).isNull();
        assertThat(b.take(1)).isEqualTo(BodyBudget.TOTAL);
        assertThat(a.take(1)).isEqualTo(BodyBudget.TOTAL);
        assertThat(server.metrics.bufferedRequestBodies).as("the refused bytes are not counted").hasValue(3L * BODY);

        a.giveBack(BODY);
        assertThat(b.take(BODY)).as("another connection's body left").isNull();
    }

    @Test
    void aClosedConnectionGivesBackWhatItHeldOnce() {
        ServerContext server = server(HeraldConfig.builder());
        EmbeddedChannel connection = new EmbeddedChannel();
        BodyBudget closing = BodyBudget.of(server, connection);
        BodyBudget other = BodyBudget.of(server, new EmbeddedChannel());
        assertThat(closing.take(BODY)).isNull();
        assertThat(closing.take(BODY)).isNull();
        assertThat(other.take(BODY)).isNull();

        connection.close();
        assertThat(server.metrics.bufferedRequestBodies).as("the closed connection's bodies left at once")
                .hasValue(BODY);
        closing.giveBack(BODY); // its streams learn of the close afterwards
        closing.giveBack(BODY);
        assertThat(server.metrics.bufferedRequestBodies).as("and only once").hasValue(BODY);
        assertThat(closing.take(1)).as("nothing more on a closed connection").isEqualTo(BodyBudget.PER_CONNECTION);
        assertThat(server.metrics.bufferedRequestBodies).hasValue(BODY);
    }
}
