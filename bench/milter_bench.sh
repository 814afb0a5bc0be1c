#!/bin/bash
# Milter benchmark: mfld against mailfromd (and OpenDKIM when installed) in the same run,
# on the shared harness (../shared/bench: C load client, 2-200 KB corpus, loopback DNS).
#
#   bench/milter_bench.sh [verify|sign|all]     (root; mfld, mailfromd on PATH)
# Environment: RUNS (3) CONC ("8") COUNT (400) -- passed to the harness.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED_BENCH:-$HERE/../../shared/bench}
[ -d "$SHARED" ] || SHARED=$HERE/../shared/bench
[ -d "$SHARED" ] || { echo "shared bench harness not found (set SHARED_BENCH)" >&2; exit 1; }
WHAT=${1:-all}
export PY=${PY:-python3} RUNS=${RUNS:-3} CONC=${CONC:-8} COUNT=${COUNT:-400} CLIENT=c MFD_SKIP_MP=1
out=$(mktemp)
for anchor in mfl mailfromd opendkim; do
  if [ "$anchor" = opendkim ] && ! command -v opendkim >/dev/null; then
    echo "opendkim: not installed, skipped" >&2; continue
  fi
  "$SHARED/anchors/$anchor.sh" "$WHAT" 2>&1 | tee -a "$out" | grep -E "msg/s|correct"
done
median() {  # median WHO WORKLOAD FIELD-REGEX
  grep -E "^$1/$2 r[0-9]+: .* msg/s" "$out" | sed -E "s/.*$3.*/\1/" | sort -n |
    awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'
}
echo
echo "median at c=$CONC (same run): msgs/s, p99 ms"
for w in verify sign; do
  for who in mfl mailfromd-sp opendkim; do
    v=$(median "$who" "$w" ': ([0-9.]+) msg\/s')
    p=$(median "$who" "$w" 'p99 ([0-9.]+) ms')
    [ -n "$v" ] && echo "  $w $who: $v msg/s, p99 $p ms"
  done
  m=$(median mfl "$w" ': ([0-9.]+) msg\/s'); o=$(median opendkim "$w" ': ([0-9.]+) msg\/s')
  [ -n "$m" ] && [ -n "$o" ] && awk -v m="$m" -v o="$o" -v w="$w" \
    'BEGIN {printf "  %s: mfl / OpenDKIM = %.2f\n", w, m / o}'
done
rm -f "$out"
