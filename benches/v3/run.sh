#!/usr/bin/env bash
# The microbenchmarks of ../shared/bench built for x86-64-v3 (gcc -O3
# -march=x86-64-v3: AVX2 loops) against their aarch64 -O3 builds (NEON
# loops), counted by the same harness. The harness reads its programs from
# <cache>/bin/<arch>/, so this builds them into a cache of their own that
# shares everything else (plugin, sysroots, data) with the standard one.
#
#   benches/v3/run.sh --emulator transit='TRANSIT -L {sysroot_amd64}' --no-qemu-tcg [harness options] [workloads]
#
# Default workloads: the microbenchmarks (hello excluded). Any harness
# option may be given (--markdown, --json, --time-runs 0...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${TRANSIT_BENCH_DIR:-$(cd "$here/../../../shared/bench" && pwd)}
cache=${BENCH_CACHE:-$HOME/.cache/transit-bench}
v3_cache=${V3_BENCH_CACHE:-$cache-x86-64-v3}

"$bench/setup.sh" >/dev/null
mkdir -p "$v3_cache/bin/amd64" "$v3_cache/bin/arm64"
for shared in plugin sysroot-amd64 sysroot-arm64 shim data; do
    ln -sfn "$cache/$shared" "$v3_cache/$shared"
done
# As setup.sh builds them (-ffp-contract=off keeps the checksums of both
# architectures bit-identical), at -O3 and, for x86_64, x86-64-v3.
flags=(-O3 -static -ffp-contract=off -Wall -Wextra)
for src in "$bench"/micro/*.c; do
    name=$(basename "$src" .c)
    for arch in amd64 arm64; do
        out="$v3_cache/bin/$arch/$name"
        if [[ ! -e $out || $src -nt $out || $bench/micro/common.h -nt $out || $0 -nt $out ]]; then
            case $arch in
                amd64) x86_64-linux-gnu-gcc "${flags[@]}" -march=x86-64-v3 -o "$out" "$src" -lm ;;
                arm64) aarch64-linux-gnu-gcc "${flags[@]}" -o "$out" "$src" -lm ;;
            esac
        fi
    done
done
# shellcheck source=../harness_args.sh
source "$here/../harness_args.sh"
split_harness_args "$@"
if [[ ${#workloads[@]} -eq 0 ]]; then
    workloads=(fib sieve nbody matmul crc32 qsort strhash interp bintree sha256)
fi
exec "$bench/run.sh" --cache "$v3_cache" "${options[@]}" "${workloads[@]}"
