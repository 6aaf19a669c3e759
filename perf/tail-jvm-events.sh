#!/usr/bin/env bash
# Counts the JVM events logged inside the measured loop of every traced ping-pong run: the JVM
# side of "where the tail comes from". Run the harness with the tail trace and two -Xlog files
# decorated with timenanos (System.nanoTime(), the clock of the trace's window), then:
#
#   mkdir -p /tmp/jvmlog
#   LATENCY_JAVA_OPTS="-Dsluice.perf.tailTrace=true -Dsluice.perf.peerJvmArgs=-Xlog:safepoint=info:file=/tmp/jvmlog/safepoint-%p.log:timenanos,-Xlog:deoptimization=debug:file=/tmp/jvmlog/deoptimization-%p.log:timenanos" \
#     perf/run-latency.sh --systems agrona,sluice-spsc --scenarios pingpong --rounds 3 --run-id tail
#   perf/tail-jvm-events.sh perf/results/tail /tmp/jvmlog
#
# Prints, per run and side, the measured window and how many safepoints and deoptimizations of
# any JVM of the run fall inside it (runs do not overlap in time, so no event is counted twice).
set -euo pipefail
results="${1:?results folder of a traced run}"
logs="${2:?folder of the -Xlog files}"
printf '%-44s %6s %10s %15s\n' "run and side" "ms" "safepoints" "deoptimizations"
for trace in "$results"/logs/*/*.trace; do
  start=$(sed -n 's/^startNanos=//p' "$trace")
  end=$(sed -n 's/^endNanos=//p' "$trace")
  [ -n "$start" ] && [ -n "$end" ] || continue
  count() {
    cat "$logs"/"$1"-*.log 2>/dev/null | awk -v s="$start" -v e="$end" \
      'match($0, /^\[[0-9]+ns\]/) { t = substr($0, 2, RLENGTH - 4) + 0; if (t >= s && t <= e) n++ } END { print n + 0 }'
  }
  name="${trace#"$results"/logs/}"
  printf '%-44s %6d %10d %15d\n' "${name%.trace}" $(( (end - start) / 1000000 )) "$(count safepoint)" "$(count deoptimization)"
done
