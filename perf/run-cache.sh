#!/usr/bin/env bash
# The cross-process cache lookups, in one command: builds perf/ (and what it needs) with the Maven
# wrapper, then for each round, entry count and number of readers runs every system in turn, each
# run in fresh JVMs (an owner and 1 or 2 readers), and writes perf/results/<run-id>/cache-summary.md
# (medians across rounds), runs.tsv, hgrm/ and logs/.
#
#   perf/run-cache.sh                                    # 3 rounds, 10,000 and 1,000,000 entries, 1 and 2 readers
#   perf/run-cache.sh --rounds 5 --measure-ms 10000      # for publication
#   perf/run-cache.sh --systems map,chronicle --entries 10000 --readers 1 --rounds 1 --warmup-ms 200 --measure-ms 300
#
# Options (defaults in brackets): --systems snapshot,map,chronicle, --entries [10000,1000000],
# --readers [1,2], --rounds [3], --warmup-ms [2000] and --measure-ms [3000] per phase (hits, then
# misses), --batch [1000] lookups per timed batch, --update-rate [100000] updates/s by the map and
# Chronicle owners, --run-id ID, --results [perf/results], --work [/dev/shm] (sockets, Chronicle's file).
#
# The JVMs run on the JDK the build used (perf/target/latency/java.home), as in run-latency.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

./mvnw -q -B -pl perf -am package -DskipTests -Djcstress.skip=true

# shellcheck source=java-home.sh
source perf/java-home.sh run-cache.sh

# Sluice's modules and HdrHistogram, then Chronicle Map and what it pulls in; the launcher hands
# its class path to the owner and reader JVMs.
classpath="perf/target/classes:$(cat "$latency/harness.classpath"):$(cat "$latency/chronicle.classpath")"
exec "$java_home/bin/java" -XX:+UseSerialGC -Xmx512m -Dstdout.encoding=UTF-8 --enable-native-access=ALL-UNNAMED \
  -cp "$classpath" io.sluice.perf.cache.CacheBenchMain "$@"
