package io.sluice.channel;

import io.sluice.api.RingKind;

/**
 * What a channel is, as both sides see it: {@link HostedChannel#info()} on the host,
 * {@link ConsumerAttachment#info()} and {@link MpmcAttachment#info()} on an attachment.
 *
 * @param name                 the channel's name
 * @param kind                 the ring kind (for broadcast channels, the policy:
 *                             {@link io.sluice.api.BroadcastPolicy#of})
 * @param capacity             the ring's data area in bytes: the SPSC or broadcast capacity, or an
 *                             MPMC ring's slot count &times; slot length
 * @param maxMessageLength     the longest message (an MPMC slot's payload) in bytes
 * @param wakesParkedConsumers whether producers wake consumers that sleep in
 *                             {@link ConsumerAttachment#pollBlocking} or {@link MpmcAttachment#pollBlocking}
 */
public record ChannelInfo(String name, RingKind kind, long capacity, int maxMessageLength, boolean wakesParkedConsumers) {
}
