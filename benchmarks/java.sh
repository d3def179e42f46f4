# Sourced by the run-*.sh scripts: sets java_bin to a JDK >= 21: $JAVA, else $JAVA_HOME/bin/java,
# else the newest JDK under /usr/lib/jvm, else java on the PATH (the build finds its JDK through
# Maven toolchains; a plain java -jar does not).
java_bin="${JAVA:-}"
if [[ -z "$java_bin" && -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  java_bin="$JAVA_HOME/bin/java"
fi
if [[ -z "$java_bin" ]]; then
  for candidate in $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -V -r); do
    version="$("$candidate" -XshowSettings:properties -version 2>&1 \
      | awk -F'= ' '/java.specification.version/ {print $2}')"
    if [[ "${version%%.*}" -ge 21 ]] 2>/dev/null; then java_bin="$candidate"; break; fi
  done
fi
java_bin="${java_bin:-java}"
echo "== java: $java_bin ($("$java_bin" -version 2>&1 | head -1))"
