#!/bin/bash
# Runs each case of cases.txt natively and under Transit and compares
# stdout plus exit status (stderr is kept, not compared: timings, warnings).
#   tests/compat/sweep.sh "TRANSIT COMMAND" OUTDIR [NAME...]
# TRANSIT COMMAND is how to start Transit, e.g. "qemu-aarch64-static
# target/aarch64-unknown-linux-gnu/release/transit". Each case runs as
# `TRANSIT /bin/sh -c COMMAND`, so the shell and everything it starts are
# translated (Transit runs exec'd x86_64 children itself). Prints one line
# per case; exits 1 if any differs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
transit=$1 out=$2
shift 2
mkdir -p "$out"
# $W: a scratch directory; $C: this directory, for the case scripts.
export W C; W=$(cd "$out" && pwd)/work; C=$here
mkdir -p "$W"; chmod 755 "$W"
same=0 differ=0 failed=
while IFS='|' read -r name cmd; do
    case $name in ''|'#'*) continue ;; esac
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx -- "$name"; then continue; fi
    (cd "$W" && timeout 300 /bin/sh -c "$cmd" > "$out/$name.native" 2> "$out/$name.native.err" < /dev/null; echo "exit $?" >> "$out/$name.native")
    start=$(date +%s)
    # shellcheck disable=SC2086 # the Transit command is words
    (cd "$W" && timeout 900 $transit /bin/sh -c "$cmd" > "$out/$name.transit" 2> "$out/$name.transit.err" < /dev/null; echo "exit $?" >> "$out/$name.transit")
    seconds=$(( $(date +%s) - start ))
    if cmp -s "$out/$name.native" "$out/$name.transit"; then
        verdict=same; same=$((same + 1))
    else
        verdict=DIFFERS; differ=$((differ + 1)); failed="$failed $name"
    fi
    printf '%-16s %-8s %5ss under Transit\n' "$name" "$verdict" "$seconds"
done < "$here/cases.txt"
echo "$same identical to native, $differ differ${failed:+:$failed} (outputs in $out)"
[ "$differ" = 0 ]
