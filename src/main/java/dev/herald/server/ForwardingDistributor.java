package dev.herald.server;

import io.netty.handler.codec.http2.StreamByteDistributor;

/**
 * A stream byte distributor that hands everything to another one: the base of Herald's wrappers of Netty's
 * distributor, which change or watch {@link #distribute} only.
 */
abstract class ForwardingDistributor implements StreamByteDistributor {
    final StreamByteDistributor delegate;

    ForwardingDistributor(StreamByteDistributor delegate) {
        this.delegate = delegate;
    }

    @Override
    public void updateStreamableBytes(StreamState state) {
        delegate.updateStreamableBytes(state);
    }

    @Override
    public void updateDependencyTree(int childStreamId, int parentStreamId, short weight, boolean exclusive) {
        delegate.updateDependencyTree(childStreamId, parentStreamId, weight, exclusive);
    }
}
