#!/usr/bin/env bash
# Wake-up latency, in one command: builds perf/ (and what it needs) with the Maven wrapper, then
# measures commit -> parked consumer running again for SPSC, broadcast and MPMC channels, beside a
# bare futex wake between the same two processes, and writes summary.md and one .hgrm per kind to
# perf/results/wakeup-<time>/.
#
#   perf/run-wakeup.sh                                   # 5,000 samples per kind
#   perf/run-wakeup.sh --samples 20000 --kinds raw-futex,mpmc
#
# The sender (this JVM) runs on CPU 0 and the sleeping consumer's JVM on CPU 1 when taskset is
# there and the machine has two CPUs or more. Options: --samples N, --warmup N, --kinds a,b,...,
# --out DIR. Extra JVM flags for the sender go in WAKEUP_JAVA_OPTS.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

./mvnw -q -B -pl perf -am package -DskipTests

# shellcheck source=java-home.sh
source perf/java-home.sh run-wakeup.sh

pin=()
cpu=()
if command -v taskset >/dev/null 2>&1 && [[ "$(nproc)" -ge 2 ]]; then
  pin=(taskset -c 0)
  cpu=(--consumer-cpu 1)
fi

# shellcheck disable=SC2086 # WAKEUP_JAVA_OPTS is a list of flags
exec "${pin[@]}" "$java_home/bin/java" -XX:+UseSerialGC -Xms256m -Xmx256m --enable-native-access=ALL-UNNAMED \
  ${WAKEUP_JAVA_OPTS:-} \
  -cp "perf/target/classes:$(cat "$latency/harness.classpath")" io.sluice.perf.wakeup.WakeupMain "${cpu[@]}" "$@"
