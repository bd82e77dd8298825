#!/bin/sh
# Where the aarch64 instructions of a Transit run go, by Transit function
# (and "[generated code]" for translated guest code), then the hottest
# guest blocks (Transit's --perf-map names its translations):
#   benches/profile/profile.sh [-n TOP] [--outer] [--no-perf-map] [--state-traffic FIELD=LO:HI ...]
#       -- TRANSIT_BINARY [TRANSIT ARGS] PROGRAM [ARGS]
# (--outer: by the function code was inlined into, not the innermost one;
# --no-perf-map: guest blocks unnamed, for start-up profiles that the map's
# own cost of reading symbols would swamp; --state-traffic: instead, how
# many executed instructions of translated code address CpuState, in total,
# in each named byte range, and by offset: state_traffic.py)
# Runs under qemu-aarch64 (the dynamic build from package qemu-user, the one
# that loads plugins) with hotpc.c, and names functions with
# aarch64-linux-gnu-addr2line; installs both if missing. Counts per block
# start, like ../shared/bench.
set -eu
top=40
outer=
perf_map=--perf-map
traffic=
fields=
while [ $# -gt 0 ]; do
    case $1 in
        --state-traffic) traffic=1; shift ;;
        *=*:*) fields="$fields $1"; shift ;;
        -n) top=$2; shift 2 ;;
        --outer) outer=--outer; shift ;;
        --no-perf-map) perf_map=; shift ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || { echo "usage: $0 [-n TOP] [--outer] [--no-perf-map] -- TRANSIT_BINARY [ARGS] PROGRAM [ARGS]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
# qemu-aarch64 from qemu-user (the static build cannot load plugins), and
# an addr2line that reads aarch64 binaries.
if ! command -v qemu-aarch64 > /dev/null || ! command -v aarch64-linux-gnu-addr2line > /dev/null; then
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y --no-install-recommends qemu-user binutils-aarch64-linux-gnu gcc
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -shared -fPIC -fvisibility=hidden -o "$work/hotpc.so" "$here/hotpc.c"
transit=$1
shift
# --perf-map names the translated blocks by guest address: the maps this
# run writes are the ones newer than the marker.
touch "$work/marker"
plugin="$work/hotpc.so,out=$work/hotpc.txt"
[ -z "$traffic" ] || { plugin="$plugin,disas=on"; perf_map=--perf-map; }
QEMU_LD_PREFIX=${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu} qemu-aarch64 -cpu neoverse-n1 \
    -plugin "$plugin" "$transit" $perf_map "$@" > /dev/null
maps=$(find /tmp -maxdepth 1 -name 'perf-*.map' -newer "$work/marker")
if [ -n "$traffic" ]; then
    # shellcheck disable=SC2086 # one argument per field and map
    python3 "$here/state_traffic.py" "$work/hotpc.txt" "$top" $fields -- $maps
    rm -f $maps
    exit
fi
# shellcheck disable=SC2086 # one argument per map
python3 "$here/report.py" $outer "$work/hotpc.txt" "$transit" aarch64-linux-gnu-addr2line "$top" $maps
rm -f $maps
