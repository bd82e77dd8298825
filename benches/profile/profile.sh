#!/bin/sh
# Where the aarch64 instructions of a Transit run go, by Transit function
# (and "[generated code]" for translated guest code):
#   benches/profile/profile.sh [-n TOP] -- TRANSIT_BINARY [TRANSIT ARGS] PROGRAM [ARGS]
# Runs under qemu-aarch64 (the dynamic build from package qemu-user, the one
# that loads plugins) with hotpc.c, and names functions with
# aarch64-linux-gnu-addr2line; installs both if missing. Counts per block
# start, like ../shared/bench.
set -eu
top=40
while [ $# -gt 0 ]; do
    case $1 in
        -n) top=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || { echo "usage: $0 [-n TOP] -- TRANSIT_BINARY [ARGS] PROGRAM [ARGS]" >&2; exit 2; }
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
QEMU_LD_PREFIX=${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu} qemu-aarch64 -cpu neoverse-n1 \
    -plugin "$work/hotpc.so,out=$work/hotpc.txt" "$@" > /dev/null
addr2line=aarch64-linux-gnu-addr2line
python3 - "$work/hotpc.txt" "$transit" "$addr2line" "$top" <<'PY'
import collections, subprocess, sys
counts_file, transit, addr2line, top = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
counts = collections.Counter()
for line in open(counts_file):
    addr, n = line.split()
    counts[int(addr, 16)] += int(n)
# Transit is linked at 0x7000000000 (.cargo/config.toml).
own = sorted(a for a in counts if 0x7000000000 <= a < 0x7100000000)
names = {}
if own:
    out = subprocess.run([addr2line, "-f", "-C", "-e", transit], input="".join(f"{a:#x}\n" for a in own),
                         capture_output=True, text=True).stdout.splitlines()
    names = {a: out[2 * i] for i, a in enumerate(own)}
by = collections.Counter()
for a, n in counts.items():
    by[names.get(a, "[generated code, libraries, loader]")] += n
total = sum(counts.values())
print(f"{total} aarch64 instructions")
for name, n in by.most_common(top):
    print(f"{100 * n / total:6.2f}% {n:14d}  {name}")
PY
