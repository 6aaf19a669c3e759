package io.sluice.cli;

import io.sluice.api.RefusalReason;
import io.sluice.api.UntrustedText;
import io.sluice.channel.HostStatusSnapshot;

import java.nio.file.Path;
import java.util.Map;

/** {@code sluice stat}'s two forms of one reading (with the one before it, for rates). */
final class StatReport {
    private StatReport() {
    }

    static String table(Path socket, HostStatusSnapshot now, HostStatusSnapshot before, double seconds) {
        StringBuilder sb = new StringBuilder();
        sb.append("host ").append(socket).append("  pid ").append(now.hostPid())
                .append("  up ").append((now.updatedAt() - now.hostStarted()) / 1000).append(" s")
                .append("  attaches ").append(now.attaches())
                .append("  detaches ").append(now.detaches()).append(" (hang-ups ").append(now.hangUps())
                .append(", stuck ").append(now.stuckDetaches()).append(')')
                .append("  recoveries ").append(now.recoveries())
                .append("  refusals ").append(StatCommand.refusals(now)).append('\n');
        Map<Long, HostStatusSnapshot.Peer> earlier = StatCommand.peersById(before);
        TextTable t = new TextTable("CHANNEL", "KIND", "CAPACITY", "PRODUCED", "MESSAGES", "MSG/S", "REFUSED", "STALLED",
                "PEER", "PID", "UID", "ROLE", "POSITION", "LAG B", "LAG MSG", "READ", "READ/S", "LAPS", "LOST");
        for (HostStatusSnapshot.Channel c : now.channels()) {
            HostStatusSnapshot.Channel was = before.channel(c.name());
            t.add(UntrustedText.escape(c.name()), String.valueOf(c.kind()), Long.toString(c.capacity()),
                    Long.toString(c.producerPosition()), count(c.committed()),
                    rate(StatCommand.rate(c.committed(), was == null ? -1 : was.committed(), seconds)),
                    count(c.refusedClaims()), stalled(c));
            for (HostStatusSnapshot.Peer p : c.peers()) {
                HostStatusSnapshot.Peer pw = earlier.get(p.attachmentId());
                t.add("", "", "", "", "", "", "", "", "#" + p.attachmentId(), Integer.toString(p.pid()),
                        Integer.toString(p.uid()), String.valueOf(p.role()).toLowerCase(),
                        count(p.position()), count(p.lagBytes()), count(p.lagMessages()), count(p.messagesRead()),
                        rate(StatCommand.rate(p.messagesRead(), pw == null ? -1 : pw.messagesRead(), seconds)),
                        Long.toString(p.laps()), Long.toString(p.lost()));
            }
        }
        sb.append(t.render());
        if (now.channels().isEmpty()) {
            sb.append("no channels\n");
        }
        return sb.toString();
    }

    private static String count(long n) {
        return n < 0 ? "-" : Long.toString(n);
    }

    private static String rate(double r) {
        return r < 0 ? "-" : Long.toString(Math.round(r));
    }

    private static String stalled(HostStatusSnapshot.Channel c) {
        if (c.stalledNanos() < 0) {
            return "-";
        }
        String total = String.format("%.3f s", c.stalledNanos() / 1e9);
        return c.currentStallNanos() > 0 ? total + " (now " + String.format("%.3f s", c.currentStallNanos() / 1e9) + ")"
                : total;
    }

    static String json(HostStatusSnapshot now, HostStatusSnapshot before, double seconds) {
        Map<Long, HostStatusSnapshot.Peer> earlier = StatCommand.peersById(before);
        JsonWriter w = new JsonWriter().beginObject()
                .name("hostPid").value(now.hostPid())
                .name("hostStarted").value(now.hostStarted())
                .name("updatedAt").value(now.updatedAt())
                .name("attaches").value(now.attaches())
                .name("detaches").value(now.detaches())
                .name("hangUps").value(now.hangUps())
                .name("recoveries").value(now.recoveries())
                .name("stuckDetaches").value(now.stuckDetaches())
                .name("refusals").beginObject();
        for (Map.Entry<RefusalReason, Long> e : now.refusals().entrySet()) {
            w.name(e.getKey().name()).value(e.getValue());
        }
        w.endObject().name("channels").beginArray();
        for (HostStatusSnapshot.Channel c : now.channels()) {
            HostStatusSnapshot.Channel was = before.channel(c.name());
            w.beginObject()
                    .name("name").value(c.name())
                    .name("kind").value(String.valueOf(c.kind()))
                    .name("capacity").value(c.capacity())
                    .name("maxMessageLength").value(c.maxMessageLength())
                    .name("producerPosition").value(c.producerPosition())
                    .name("consumerPosition").value(c.consumerPosition())
                    .name("committed").value(c.committed())
                    .name("committedPerSecond").value(Math.round(StatCommand.rate(c.committed(),
                            was == null ? -1 : was.committed(), seconds)))
                    .name("aborted").value(c.aborted())
                    .name("refusedClaims").value(c.refusedClaims())
                    .name("stalledNanos").value(c.stalledNanos())
                    .name("currentStallNanos").value(c.currentStallNanos())
                    .name("peers").beginArray();
            for (HostStatusSnapshot.Peer p : c.peers()) {
                HostStatusSnapshot.Peer pw = earlier.get(p.attachmentId());
                w.beginObject()
                        .name("attachment").value(p.attachmentId())
                        .name("role").value(String.valueOf(p.role()))
                        .name("participant").value(p.participantId())
                        .name("pid").value(p.pid())
                        .name("uid").value(p.uid())
                        .name("gid").value(p.gid())
                        .name("attachedAt").value(p.attachedAt())
                        .name("position").value(p.position())
                        .name("lagBytes").value(p.lagBytes())
                        .name("lagMessages").value(p.lagMessages())
                        .name("messagesRead").value(p.messagesRead())
                        .name("readPerSecond").value(Math.round(StatCommand.rate(p.messagesRead(),
                                pw == null ? -1 : pw.messagesRead(), seconds)))
                        .name("laps").value(p.laps())
                        .name("lost").value(p.lost())
                        .endObject();
            }
            w.endArray().endObject();
        }
        w.endArray().name("hostMonitors").value(now.hostMonitors().size()).endObject();
        return w + "\n";
    }
}
