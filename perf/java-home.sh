# Sourced by the perf scripts: sets java_home to a JDK 25 or later, or exits. $1 names the caller
# in the error. The build records the JDK it used (perf/target/latency/java.home), so a default
# `java` older than 25 does not matter; should the record be missing, JAVA_HOME if it is 25 or
# later, else a JDK 25 in /usr/lib/jvm.
latency=perf/target/latency
java_home=""
if [[ -f "$latency/java.home" ]]; then
  java_home="$(cat "$latency/java.home")"
fi
if [[ ! -x "$java_home/bin/java" ]]; then
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] \
      && "$JAVA_HOME/bin/java" -version 2>&1 | grep -Eq 'version "(2[5-9]|[3-9][0-9])'; then
    java_home="$JAVA_HOME"
  else
    java_home="$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -n 1 || true)"
  fi
fi
if [[ ! -x "$java_home/bin/java" ]]; then
  echo "$1: no JDK 25 found (build record, JAVA_HOME, /usr/lib/jvm/*25*)" >&2
  exit 1
fi
