#!/usr/bin/env bash
# The cross-process latency harness, in one command: builds perf/ (and what it needs) with the
# Maven wrapper, compiles the C probe and the C client's peer, then runs every system side by side
# and writes the summary, .hgrm files and charts to perf/results/<run-id>/.
#
#   perf/run-latency.sh                      # quick mode: every row, 3 rounds, a few minutes
#   perf/run-latency.sh --mode full          # for publication: 7 rounds, long runs
#   perf/run-latency.sh --systems raw-c,raw-java,agrona --scenarios pingpong --rounds 5
#
# Options: --mode quick|full, --rounds N, --systems a,b,..., --scenarios pingpong,fixedrate,throughput,
# --ping-sizes 64,200 (ping-pong message sizes; default 32,256), --throughput-sizes 4096,65536 (rings then hold at least 16 messages), --run-id ID, --compare-to SYSTEM (extra ratio columns; by default the first sluice* row, if any). Extra JVM properties for the launcher and every peer (e.g.
# -Dsluice.perf.aeron.driver=shared-busy) go in LATENCY_JAVA_OPTS.
#
# The peers run on the JDK the build used (its java.home is recorded in
# perf/target/latency/java.home), so a default `java` older than 25 does not matter.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

./mvnw -q -B -pl perf -am package -DskipTests

# shellcheck source=java-home.sh
source perf/java-home.sh run-latency.sh

# The C programs: the raw probe (the raw-c row) and the C client's side of the sluice-java-c and
# sluice-c-java rows, built with the client's own sources as a C user would build them.
native=()
if command -v gcc >/dev/null 2>&1; then
  mkdir -p perf/target/native
  gcc -O2 -Wall -Wextra -o perf/target/native/rawpingpong perf/native/rawpingpong.c
  gcc -O2 -Wall -Wextra -o perf/target/native/memcpybw perf/native/memcpybw.c
  gcc -O2 -Wall -Wextra -I fd-passing/native -o perf/target/native/sluice_latency_peer \
    perf/native/sluice_latency_peer.c fd-passing/native/*.c
  native=(--probe perf/target/native/rawpingpong --memcpy-probe perf/target/native/memcpybw --native-peer perf/target/native/sluice_latency_peer)
else
  echo "run-latency.sh: no gcc, so no raw-c, memcpy, sluice-java-c or sluice-c-java rows" >&2
fi

# shellcheck disable=SC2086 # LATENCY_JAVA_OPTS is a list of flags
exec "$java_home/bin/java" -XX:+UseSerialGC -Xmx2g -Djava.awt.headless=true -Dstdout.encoding=UTF-8 --enable-native-access=ALL-UNNAMED \
  ${LATENCY_JAVA_OPTS:-} \
  -cp "perf/target/classes:$(cat "$latency/harness.classpath")" io.sluice.perf.latency.LatencyMain \
  --latency-dir "$latency" --classes perf/target/classes --results perf/results "${native[@]}" "$@"
