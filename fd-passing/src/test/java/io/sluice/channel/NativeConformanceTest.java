package io.sluice.channel;

import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.ringbuffer.BroadcastConsumerPositionDescriptor;
import io.sluice.ringbuffer.BroadcastRecordDescriptor;
import io.sluice.ringbuffer.BroadcastRingDescriptor;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.MpmcSlotDescriptor;
import io.sluice.ringbuffer.SpscRecordDescriptor;
import io.sluice.ringbuffer.RegionHeaderDescriptor;
import io.sluice.ringbuffer.SpscRingDescriptor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The native client's copy of the formats against the host's: every constant of
 * {@code fd-passing/native/sluice_layout.h} (and the codes of {@code sluice.h} that travel in the
 * handshake and the ring headers) must equal the Java constant it mirrors. The C side is
 * {@code native/test/layout_constants}, which prints each constant as {@code NAME=value}; the
 * Java side is {@link #MIRRORS}, which names each Java constant directly, so that renaming or
 * removing one breaks this test's compilation and changing one's value breaks the test. A C
 * constant without a mirror fails too (build.sh already fails when layout_constants misses one).
 */
class NativeConformanceTest {
    private static final long TIMEOUT_S = 60;

    /** One C constant and the value of the Java constant it mirrors. */
    private record Mirror(String cName, long javaValue) {
    }

    private static Mirror m(String cName, long javaValue) {
        return new Mirror(cName, javaValue);
    }

    /**
     * The one table of Java constants: C name on the left, the Java constant it copies on the
     * right. A C name may appear more than once when several Java constants hold its value.
     */
    private static final List<Mirror> MIRRORS = List.of(
            // attach handshake (docs/protocol.md)
            m("SLI_PROTO_MAGIC", HandshakeDescriptor.MAGIC),
            m("SLI_PROTO_MAGIC_OFFSET", HandshakeDescriptor.MAGIC_OFFSET),
            m("SLI_PROTO_VERSION_OFFSET", HandshakeDescriptor.VERSION_OFFSET),
            m("SLI_PROTO_TYPE_OFFSET", HandshakeDescriptor.TYPE_OFFSET),
            m("SLI_PROTO_HEADER_LENGTH", HandshakeDescriptor.HEADER_LENGTH),
            m("SLI_MSG_HELLO", HandshakeDescriptor.HELLO),
            m("SLI_MSG_WELCOME", HandshakeDescriptor.WELCOME),
            m("SLI_MSG_REFUSE", HandshakeDescriptor.REFUSE),
            m("SLI_MSG_POSITION", HandshakeDescriptor.POSITION),
            m("SLI_MSG_READY", HandshakeDescriptor.READY),
            m("SLI_MSG_DETACH", HandshakeDescriptor.DETACH),
            m("SLI_HELLO_ROLE_OFFSET", HandshakeDescriptor.HELLO_ROLE_OFFSET),
            m("SLI_HELLO_NAME_LENGTH_OFFSET", HandshakeDescriptor.HELLO_NAME_LENGTH_OFFSET),
            m("SLI_HELLO_FLAGS_OFFSET", HandshakeDescriptor.HELLO_FLAGS_OFFSET),
            m("SLI_HELLO_NAME_OFFSET", HandshakeDescriptor.HELLO_NAME_OFFSET),
            m("SLI_WELCOME_KIND_OFFSET", HandshakeDescriptor.WELCOME_KIND_OFFSET),
            m("SLI_WELCOME_PARTICIPANT_OFFSET", HandshakeDescriptor.WELCOME_PARTICIPANT_OFFSET),
            m("SLI_WELCOME_DATA_SIZE_OFFSET", HandshakeDescriptor.WELCOME_DATA_SIZE_OFFSET),
            m("SLI_WELCOME_POSITION_SIZE_OFFSET", HandshakeDescriptor.WELCOME_POSITION_SIZE_OFFSET),
            m("SLI_WELCOME_MAX_MESSAGE_OFFSET", HandshakeDescriptor.WELCOME_MAX_MESSAGE_OFFSET),
            m("SLI_WELCOME_FLAGS_OFFSET", HandshakeDescriptor.WELCOME_FLAGS_OFFSET),
            m("SLI_WELCOME_START_POSITION_OFFSET", HandshakeDescriptor.WELCOME_START_POSITION_OFFSET),
            m("SLI_WELCOME_LENGTH", HandshakeDescriptor.WELCOME_LENGTH),
            m("SLI_WELCOME_FLAG_WAKE", HandshakeDescriptor.WELCOME_FLAG_BLOCKING_WAKE),
            m("SLI_REFUSE_REASON_OFFSET", HandshakeDescriptor.REFUSE_REASON_OFFSET),
            m("SLI_REFUSE_TEXT_LENGTH_OFFSET", HandshakeDescriptor.REFUSE_TEXT_LENGTH_OFFSET),
            m("SLI_REFUSE_TEXT_OFFSET", HandshakeDescriptor.REFUSE_TEXT_OFFSET),
            m("SLI_POSITION_SIZE_OFFSET", HandshakeDescriptor.POSITION_SIZE_OFFSET),
            m("SLI_POSITION_LENGTH", HandshakeDescriptor.POSITION_LENGTH),
            m("SLI_READY_REGISTRATION_OFFSET", HandshakeDescriptor.READY_REGISTRATION_OFFSET),
            m("SLI_READY_LENGTH", HandshakeDescriptor.READY_LENGTH),
            m("SLI_MAX_NAME_BYTES", HandshakeDescriptor.MAX_NAME_BYTES),
            m("SLI_MAX_TEXT_BYTES", HandshakeDescriptor.MAX_TEXT_BYTES),
            m("SLI_MAX_MESSAGE_BYTES", HandshakeDescriptor.MAX_MESSAGE_BYTES),
            m("SLI_MAX_DATA_REGION_BYTES", HandshakeDescriptor.MAX_DATA_REGION_BYTES),
            m("SLUICE_PROTOCOL_VERSION", HandshakeDescriptor.PROTOCOL_VERSION),

            // common region header
            m("SLI_REGION_MAGIC", RegionHeaderDescriptor.MAGIC),
            m("SLI_REGION_MAGIC_OFFSET", RegionHeaderDescriptor.MAGIC_OFFSET),
            m("SLI_REGION_VERSION_OFFSET", RegionHeaderDescriptor.VERSION_OFFSET),
            m("SLI_REGION_KIND_OFFSET", RegionHeaderDescriptor.KIND_OFFSET),
            m("SLI_REGION_HEADER_LENGTH_OFFSET", RegionHeaderDescriptor.HEADER_LENGTH_OFFSET),
            m("SLI_REGION_RING_SPECIFIC_U32_OFFSET", RegionHeaderDescriptor.RING_SPECIFIC_U32_OFFSET),
            m("SLI_REGION_CAPACITY_OFFSET", RegionHeaderDescriptor.CAPACITY_OFFSET),
            m("SLI_REGION_RING_FIELDS_OFFSET", RegionHeaderDescriptor.RING_FIELDS_OFFSET),
            m("SLI_LINE", RegionHeaderDescriptor.LINE),
            m("SLI_REGION_MAX_CAPACITY", RegionHeaderDescriptor.MAX_CAPACITY),
            m("SLUICE_LAYOUT_VERSION", RegionHeaderDescriptor.LAYOUT_VERSION),
            m("SLUICE_POSITION_LAYOUT_VERSION", SpscConsumerPositionDescriptor.LAYOUT_VERSION),
            m("SLUICE_POSITION_LAYOUT_VERSION", BroadcastConsumerPositionDescriptor.LAYOUT_VERSION),

            // SPSC ring, record, consumer position region
            m("SLI_SPSC_HEADER_LENGTH", SpscRingDescriptor.HEADER_LENGTH),
            m("SLI_SPSC_MAX_MESSAGE_LENGTH_OFFSET", SpscRingDescriptor.MAX_MESSAGE_LENGTH_OFFSET),
            m("SLI_SPSC_RECORD_HEADER_LENGTH_OFFSET", SpscRingDescriptor.RECORD_HEADER_LENGTH_OFFSET),
            m("SLI_SPSC_RECORD_ALIGNMENT_OFFSET", SpscRingDescriptor.RECORD_ALIGNMENT_OFFSET),
            m("SLI_SPSC_WAKE_SEQUENCE_OFFSET", SpscRingDescriptor.WAKE_SEQUENCE_OFFSET),
            m("SLI_SPSC_PRODUCER_POSITION_OFFSET", SpscRingDescriptor.PRODUCER_POSITION_OFFSET),
            m("SLI_SPSC_MIN_CAPACITY", SpscRingDescriptor.MIN_CAPACITY),
            m("SLI_SPSC_MAX_MESSAGE_LENGTH_LIMIT", SpscRingDescriptor.MAX_MESSAGE_LENGTH_LIMIT),
            m("SLI_SPSC_REC_STAMP_OFFSET", SpscRecordDescriptor.STAMP_OFFSET),
            m("SLI_SPSC_REC_LENGTH_OFFSET", SpscRecordDescriptor.LENGTH_OFFSET),
            m("SLI_SPSC_REC_TYPE_OFFSET", SpscRecordDescriptor.TYPE_OFFSET),
            m("SLI_SPSC_REC_HEADER_LENGTH", SpscRecordDescriptor.HEADER_LENGTH),
            m("SLI_SPSC_REC_ALIGNMENT", SpscRecordDescriptor.ALIGNMENT),
            m("SLI_SPSC_LINE_LENGTH", SpscRecordDescriptor.LINE_LENGTH),
            m("SLI_SPSC_LAST_START_IN_LINE", SpscRecordDescriptor.LAST_START_IN_LINE),
            m("SLI_SPSC_PADDING_TYPE", SpscRecordDescriptor.PADDING_TYPE),
            m("SLI_SPSC_INVALID_STAMP", SpscRecordDescriptor.INVALID_STAMP),
            m("SLI_SPSC_POS_MAGIC", SpscConsumerPositionDescriptor.MAGIC),
            m("SLI_SPSC_POS_MAGIC_OFFSET", SpscConsumerPositionDescriptor.MAGIC_OFFSET),
            m("SLI_SPSC_POS_VERSION_OFFSET", SpscConsumerPositionDescriptor.VERSION_OFFSET),
            m("SLI_SPSC_POS_KIND_OFFSET", SpscConsumerPositionDescriptor.KIND_OFFSET),
            m("SLI_SPSC_POS_HEADER_LENGTH_OFFSET", SpscConsumerPositionDescriptor.HEADER_LENGTH_OFFSET),
            m("SLI_SPSC_POS_CAPACITY_OFFSET", SpscConsumerPositionDescriptor.CAPACITY_OFFSET),
            m("SLI_SPSC_POS_HEADER_LENGTH", SpscConsumerPositionDescriptor.HEADER_LENGTH),
            m("SLI_SPSC_POS_POSITION_OFFSET", SpscConsumerPositionDescriptor.POSITION_OFFSET),
            m("SLI_SPSC_POS_CONSUMED_OFFSET", SpscConsumerPositionDescriptor.MESSAGES_CONSUMED_OFFSET),
            m("SLI_SPSC_POS_PARKED_OFFSET", SpscConsumerPositionDescriptor.PARKED_FLAG_OFFSET),
            m("SLI_SPSC_POS_REGION_SIZE", SpscConsumerPositionDescriptor.REGION_SIZE),

            // broadcast ring, record, consumer position region
            m("SLI_BC_MAX_MESSAGE_LENGTH_OFFSET", BroadcastRingDescriptor.MAX_MESSAGE_LENGTH_OFFSET),
            m("SLI_BC_RECORD_HEADER_LENGTH_OFFSET", BroadcastRingDescriptor.RECORD_HEADER_LENGTH_FIELD_OFFSET),
            m("SLI_BC_RECORD_ALIGNMENT_OFFSET", BroadcastRingDescriptor.RECORD_ALIGNMENT_FIELD_OFFSET),
            m("SLI_BC_TAIL_INTENT_OFFSET", BroadcastRingDescriptor.TAIL_INTENT_OFFSET),
            m("SLI_BC_TAIL_OFFSET", BroadcastRingDescriptor.TAIL_OFFSET),
            m("SLI_BC_HEAD_OFFSET", BroadcastRingDescriptor.HEAD_OFFSET),
            m("SLI_BC_LATEST_OFFSET", BroadcastRingDescriptor.LATEST_OFFSET),
            m("SLI_BC_NEXT_SEQUENCE_OFFSET", BroadcastRingDescriptor.NEXT_SEQUENCE_OFFSET),
            m("SLI_BC_GATED_REGISTRATION_OFFSET", BroadcastRingDescriptor.GATED_REGISTRATION_OFFSET),
            m("SLI_BC_WAKE_SEQUENCE_OFFSET", BroadcastRingDescriptor.WAKE_SEQUENCE_OFFSET),
            m("SLI_BC_HEADER_LENGTH", BroadcastRingDescriptor.HEADER_LENGTH),
            m("SLI_BC_DATA_OFFSET", BroadcastRingDescriptor.DATA_OFFSET),
            m("SLI_BC_NO_MESSAGE", BroadcastRingDescriptor.NO_MESSAGE),
            m("SLI_BC_MIN_CAPACITY", BroadcastRingDescriptor.MIN_CAPACITY),
            m("SLI_BC_MAX_CAPACITY", BroadcastRingDescriptor.MAX_CAPACITY),
            m("SLI_BC_REC_LENGTH_OFFSET", BroadcastRecordDescriptor.LENGTH_OFFSET),
            m("SLI_BC_REC_TYPE_OFFSET", BroadcastRecordDescriptor.TYPE_OFFSET),
            m("SLI_BC_REC_SEQUENCE_OFFSET", BroadcastRecordDescriptor.SEQUENCE_OFFSET),
            m("SLI_BC_REC_HEADER_LENGTH", BroadcastRecordDescriptor.HEADER_LENGTH),
            m("SLI_BC_REC_ALIGNMENT", BroadcastRecordDescriptor.ALIGNMENT),
            m("SLI_BC_PADDING_TYPE", BroadcastRecordDescriptor.PADDING_TYPE),
            m("SLI_BC_NOT_COMMITTED", BroadcastRecordDescriptor.NOT_COMMITTED),
            m("SLI_BC_POS_MAGIC", BroadcastConsumerPositionDescriptor.MAGIC),
            m("SLI_BC_POS_MAGIC_OFFSET", BroadcastConsumerPositionDescriptor.MAGIC_OFFSET),
            m("SLI_BC_POS_VERSION_OFFSET", BroadcastConsumerPositionDescriptor.VERSION_OFFSET),
            m("SLI_BC_POS_REGION_LENGTH_OFFSET", BroadcastConsumerPositionDescriptor.REGION_LENGTH_OFFSET),
            m("SLI_BC_POS_POSITION_OFFSET", BroadcastConsumerPositionDescriptor.POSITION_OFFSET),
            m("SLI_BC_POS_DELIVERED_OFFSET", BroadcastConsumerPositionDescriptor.DELIVERED_OFFSET),
            m("SLI_BC_POS_NEXT_SEQUENCE_OFFSET", BroadcastConsumerPositionDescriptor.NEXT_SEQUENCE_OFFSET),
            m("SLI_BC_POS_LAPS_OFFSET", BroadcastConsumerPositionDescriptor.LAPS_OFFSET),
            m("SLI_BC_POS_LOST_OFFSET", BroadcastConsumerPositionDescriptor.LOST_OFFSET),
            m("SLI_BC_POS_PARKED_OFFSET", BroadcastConsumerPositionDescriptor.PARKED_FLAG_OFFSET),
            m("SLI_ST_MAGIC", HostStatusDescriptor.MAGIC),
            m("SLI_ST_VERSION_OFFSET", HostStatusDescriptor.VERSION_OFFSET),
            m("SLI_ST_HEADER_LENGTH_OFFSET", HostStatusDescriptor.HEADER_LENGTH_OFFSET),
            m("SLI_ST_HEADER_LENGTH", HostStatusDescriptor.HEADER_LENGTH),
            m("SLI_ST_CHANNEL_SLOTS_OFFSET", HostStatusDescriptor.CHANNEL_SLOTS_OFFSET),
            m("SLI_ST_PEER_SLOTS_OFFSET", HostStatusDescriptor.PEER_SLOTS_OFFSET),
            m("SLI_ST_SEQUENCE_OFFSET", HostStatusDescriptor.SEQUENCE_OFFSET),
            m("SLI_ST_CHANNELS_IN_USE_OFFSET", HostStatusDescriptor.CHANNELS_IN_USE_OFFSET),
            m("SLI_ST_PEERS_IN_USE_OFFSET", HostStatusDescriptor.PEERS_IN_USE_OFFSET),
            m("SLI_ST_REFUSALS_OFFSET", HostStatusDescriptor.REFUSALS_OFFSET),
            m("SLI_ST_CHANNEL_SLOT_LENGTH", HostStatusDescriptor.CHANNEL_SLOT_LENGTH),
            m("SLI_ST_CH_COMMITTED", HostStatusDescriptor.CH_COMMITTED),
            m("SLI_ST_CH_NAME_LENGTH", HostStatusDescriptor.CH_NAME_LENGTH),
            m("SLI_ST_CH_NAME", HostStatusDescriptor.CH_NAME),
            m("SLI_ST_PEER_SLOT_LENGTH", HostStatusDescriptor.PEER_SLOT_LENGTH),
            m("SLI_ST_PEER_PID", HostStatusDescriptor.PEER_PID),
            m("SLI_ST_PEER_LAG_BYTES", HostStatusDescriptor.PEER_LAG_BYTES),
            m("SLI_BC_POS_REGION_SIZE", BroadcastConsumerPositionDescriptor.REGION_SIZE),

            // MPMC ring and slot
            m("SLI_MPMC_SLOT_LENGTH_OFFSET", MpmcRingDescriptor.SLOT_LENGTH_OFFSET),
            m("SLI_MPMC_SLOT_COUNT_OFFSET", MpmcRingDescriptor.SLOT_COUNT_OFFSET),
            m("SLI_MPMC_MAX_PARTICIPANT_ID_OFFSET", MpmcRingDescriptor.MAX_PARTICIPANT_ID_OFFSET),
            m("SLI_MPMC_RESERVED_FIELDS_OFFSET", MpmcRingDescriptor.RESERVED_FIELDS_OFFSET),
            m("SLI_MPMC_TAIL_OFFSET", MpmcRingDescriptor.TAIL_POSITION_OFFSET),
            m("SLI_MPMC_HEAD_OFFSET", MpmcRingDescriptor.HEAD_POSITION_OFFSET),
            m("SLI_MPMC_WAKE_SEQUENCE_OFFSET", MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET),
            m("SLI_MPMC_PARKED_COUNT_OFFSET", MpmcRingDescriptor.PARKED_COUNT_OFFSET),
            m("SLI_MPMC_HEADER_LENGTH", MpmcRingDescriptor.HEADER_LENGTH),
            m("SLI_MPMC_MIN_SLOT_COUNT", MpmcRingDescriptor.MIN_SLOT_COUNT),
            m("SLI_MPMC_MAX_SLOT_COUNT", MpmcRingDescriptor.MAX_SLOT_COUNT),
            m("SLI_MPMC_MIN_SLOT_LENGTH", MpmcSlotDescriptor.MIN_SLOT_LENGTH),
            m("SLI_MPMC_MAX_SLOT_LENGTH", MpmcSlotDescriptor.MAX_SLOT_LENGTH),
            m("SLI_MPMC_SLOT_STATE_OFFSET", MpmcSlotDescriptor.STATE_WORD_OFFSET),
            m("SLI_MPMC_SLOT_TYPE_OFFSET", MpmcSlotDescriptor.TYPE_OFFSET),
            m("SLI_MPMC_SLOT_MESSAGE_LENGTH_OFFSET", MpmcSlotDescriptor.LENGTH_OFFSET),
            m("SLI_MPMC_SLOT_PAYLOAD_OFFSET", MpmcSlotDescriptor.PAYLOAD_OFFSET),
            m("SLI_MPMC_SLOT_HEADER_LENGTH", MpmcSlotDescriptor.HEADER_LENGTH),
            m("SLI_MPMC_PARTICIPANT_MASK", MpmcSlotDescriptor.PARTICIPANT_MASK),
            m("SLI_MPMC_STATE_SHIFT", MpmcSlotDescriptor.STATE_SHIFT),
            m("SLI_MPMC_STATE_MASK", MpmcSlotDescriptor.STATE_MASK),
            m("SLI_MPMC_LAP_SHIFT", MpmcSlotDescriptor.LAP_SHIFT),
            m("SLI_MPMC_MAX_PARTICIPANT_ID", MpmcSlotDescriptor.MAX_PARTICIPANT_ID),
            m("SLI_MPMC_FREE", MpmcSlotDescriptor.FREE),
            m("SLI_MPMC_CLAIMED", MpmcSlotDescriptor.CLAIMED),
            m("SLI_MPMC_COMMITTED", MpmcSlotDescriptor.COMMITTED),
            m("SLI_MPMC_ABORTED", MpmcSlotDescriptor.ABORTED),
            m("SLI_MPMC_CONSUMING", MpmcSlotDescriptor.CONSUMING),

            // codes carried in the handshake and the ring headers (sluice.h)
            m("SLUICE_KIND_SPSC", RingKind.SPSC.code()),
            m("SLUICE_KIND_BROADCAST_BACKPRESSURE", RingKind.BROADCAST_BACKPRESSURE.code()),
            m("SLUICE_KIND_BROADCAST_OVERWRITE", RingKind.BROADCAST_OVERWRITE.code()),
            m("SLUICE_KIND_MPMC", RingKind.MPMC.code()),
            m("SLUICE_ROLE_CONSUMER", Role.CONSUMER.code()),
            m("SLUICE_ROLE_PRODUCER", Role.PRODUCER.code()),
            m("SLUICE_ROLE_PARTICIPANT", Role.PARTICIPANT.code()),
            m("SLUICE_REFUSED_UNKNOWN_CHANNEL", RefusalReason.UNKNOWN_CHANNEL.code()),
            m("SLUICE_REFUSED_ROLE_NOT_ALLOWED", RefusalReason.ROLE_NOT_ALLOWED.code()),
            m("SLUICE_REFUSED_VERSION_MISMATCH", RefusalReason.VERSION_MISMATCH.code()),
            m("SLUICE_REFUSED_ACCESS_DENIED", RefusalReason.ACCESS_DENIED.code()),
            m("SLUICE_REFUSED_CHANNEL_FULL", RefusalReason.CHANNEL_FULL.code()),
            m("SLUICE_REFUSED_MALFORMED", RefusalReason.MALFORMED.code()),
            m("SLUICE_REFUSED_BAD_REGION", RefusalReason.BAD_REGION.code()),
            m("SLUICE_REFUSED_TIMEOUT", RefusalReason.TIMEOUT.code()),
            m("SLUICE_REFUSED_INTERNAL", RefusalReason.INTERNAL.code()),
            m("SLUICE_REFUSED_CONNECTION_LIMIT", RefusalReason.CONNECTION_LIMIT.code()),
            m("SLUICE_REFUSED_CHANNEL_CORRUPT", RefusalReason.CHANNEL_CORRUPT.code()),
            m("SLUICE_REFUSED_BAD_POSITION", RefusalReason.BAD_POSITION.code()),
            m("SLUICE_REFUSED_CHANNEL_CLOSED", RefusalReason.CHANNEL_CLOSED.code()),
            m("SLUICE_REFUSED_STUCK", RefusalReason.STUCK.code()));

    @Test
    void everyConstantOfTheNativeClientEqualsTheHostsConstant() throws Exception {
        Map<String, Long> c = cConstants();
        List<String> problems = new ArrayList<>();
        Set<String> mirrored = new TreeSet<>();
        for (Mirror mirror : MIRRORS) {
            mirrored.add(mirror.cName());
            Long value = c.get(mirror.cName());
            if (value == null) {
                problems.add(mirror.cName() + ": not printed by layout_constants (renamed or removed in C?)");
            } else if (value != mirror.javaValue()) {
                problems.add(mirror.cName() + ": C has " + value + " (0x" + Long.toHexString(value) + "), the host's "
                        + "Java constant is " + mirror.javaValue() + " (0x" + Long.toHexString(mirror.javaValue()) + ")");
            }
        }
        for (String name : c.keySet()) {
            if (!mirrored.contains(name) && !isCacheConstant(name)) {
                problems.add(name + ": printed by layout_constants but mirrors no Java constant in "
                        + "NativeConformanceTest.MIRRORS (add the Java constant it copies)");
            }
        }
        if (!problems.isEmpty()) {
            fail("the native client's constants differ from the host's (" + problems.size() + "):\n  "
                    + String.join("\n  ", problems));
        }
        assertTrue(c.size() > 100, "layout_constants printed only " + c.size() + " constants");
    }

    /**
     * The constants of the caches' regions (sealed snapshot tables, the shared map) and of the cache
     * protocol mirror classes of the cache module, which this module cannot see: the cache module's
     * NativeCacheConformanceTest checks them, and fails on any of these prefixes it does not know.
     */
    private static boolean isCacheConstant(String cName) {
        return cName.startsWith("SLI_SNAP_") || cName.startsWith("SLI_MAP_") || cName.startsWith("SLI_CACHE_");
    }

    /** What native/test/layout_constants prints: NAME=value, one per line, every name once. */
    private static Map<String, Long> cConstants() throws Exception {
        String output;
        try (NativeChild child = NativeChild.start(NativeChild.RELEASE, "layout_constants")) {
            child.assertExitsCleanly(TIMEOUT_S);
            output = child.output();
        }
        Map<String, Long> c = new LinkedHashMap<>();
        for (String line : output.lines().toList()) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                fail("layout_constants printed a line that is not NAME=value: '" + line + "'");
            }
            String name = line.substring(0, eq);
            if (c.put(name, Long.parseLong(line.substring(eq + 1))) != null) {
                fail("layout_constants printed " + name + " twice");
            }
        }
        return c;
    }
}
