#!/usr/bin/env bash
# JIT runtimes under the shared bench (../shared/bench): Debian 12's
# nodejs and OpenJDK 17 (HotSpot, C1+C2) running small compute programs,
# next to the harness's own python workload for comparison (issue 12's
# target: their slowdown within twice Python's).
#
#   benches/jit/run.sh --no-qemu-tcg --time-runs 0 \
#       --emulator transit='TRANSIT -L {sysroot_amd64}' [harness options] [workloads]
#
# Default workloads: python node java (any of the harness's own may be
# named too).  Any harness option may be given (--markdown, --json,
# --size, --count-runs...).
#
# The harness reads its programs from <cache>/sysroot-<arch>, so this
# makes a cache of its own (${JIT_BENCH_CACHE:-<standard cache>-jit}):
# its sysroots are hard-link copies of the standard ones (cp -al) plus the
# amd64 and arm64 builds of nodejs and default-jre-headless and their
# dependency closure, resolved and unpacked the way setup.sh does it (apt
# against an empty private dpkg status, names both architectures agree on,
# dpkg -x, /usr merged, absolute symlinks made relative); everything else
# (plugin, shim, data, static binaries, qemu-tcg) is a symlink into the
# standard cache.  Bench.java is compiled once on the host (class files do
# not depend on the architecture).  The driver, jitbench.py, imports the
# shared harness.py and adds the two workloads to its table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${TRANSIT_BENCH_DIR:-$(cd "$here/../../../shared/bench" && pwd)}
cache=${BENCH_CACHE:-$HOME/.cache/transit-bench}
jit=${JIT_BENCH_CACHE:-$cache-jit}

log() { printf '[jit-setup] %s\n' "$*" >&2; }
die() { printf '[jit-setup] ERROR: %s\n' "$*" >&2; exit 1; }

"$bench/setup.sh" >/dev/null 2>&1 || "$bench/setup.sh"
mkdir -p "$jit"
cache=$(cd "$cache" && pwd)
jit=$(cd "$jit" && pwd)
for shared in plugin shim data bin qemu-tcg; do
    ln -sfn "$cache/$shared" "$jit/$shared"
done

# Roots of the extra packages.  default-jre-headless brings the
# /usr/lib/jvm/default-java symlink, so both architectures run the JVM by
# the same path.
JIT_ROOTS=(libc6 nodejs default-jre-headless)

APT_PRIVATE=(
    -o "Dir::State::status=$jit/apt/status"
    -o "Dir::Cache=$jit/apt/cache"
    -o "Dir::Cache::archives=$jit/apt/archives"
    -o "Debug::NoLocking=1"
    -o "pkgCacheGen::Essential=none"
    -o "APT::Sandbox::User=root"
)
mkdir -p "$jit/apt/cache" "$jit/apt/archives/partial"
: > "$jit/apt/status"
resolve_packages() {   # as setup.sh's: "name arch version" lines
    local arch=$1 roots=() p
    for p in "${JIT_ROOTS[@]}"; do
        roots+=("$p:$arch")
    done
    apt-get install -s --no-install-recommends "${APT_PRIVATE[@]}" "${roots[@]}" 2>/dev/null |
        sed -n 's/^Inst \([^ :]*\)\(:[a-z0-9]*\)\{0,1\} (\([^ ]*\) .*\[\([a-z0-9]*\)\]).*/\1 \4 \3/p' |
        awk -v want="$arch" '$2 == want || $2 == "all"' | sort -u
}
resolve_packages arm64 > "$jit/apt/resolved-arm64.txt"
resolve_packages amd64 > "$jit/apt/resolved-amd64.txt"
[ -s "$jit/apt/resolved-arm64.txt" ] && [ -s "$jit/apt/resolved-amd64.txt" ] ||
    die "apt could not resolve ${JIT_ROOTS[*]}"
# Names both architectures agree on (the amd64 side also resolves
# Multi-Arch: foreign packages such as fontconfig-config or util-linux
# natively; the arm64 side drops them), less what the standard sysroots
# already have.
common_names=$(comm -12 <(awk '{print $1}' "$jit/apt/resolved-arm64.txt" | sort -u) \
                        <(awk '{print $1}' "$jit/apt/resolved-amd64.txt" | sort -u))
for p in "${JIT_ROOTS[@]}"; do
    grep -qx "$p" <<<"$common_names" || die "package $p missing from the resolved set"
done

SYSROOT_LAYOUT=1
build_sysroot() {
    local arch=$1
    local std="$cache/sysroot-$arch" root="$jit/sysroot-$arch"
    local extras
    extras=$(awk 'NR == FNR { keep[$1] = 1; next } ($1 in keep)' \
                 <(printf '%s\n' "$common_names") "$jit/apt/resolved-$arch.txt" |
             awk 'NR == FNR { have[$1] = 1; next } !($1 in have)' "$std/.manifest" -)
    local stamp="jit layout $SYSROOT_LAYOUT"$'\n'"$(cat "$std/.stamp")"$'\n'"$extras"
    if [ -f "$root/.stamp" ] && [ "$(cat "$root/.stamp")" = "$stamp" ]; then
        log "sysroot-$arch is up to date (+$(wc -l <<<"$extras") packages)"
        return
    fi
    log "building sysroot-$arch: standard + $(wc -l <<<"$extras") packages"
    local debs="$jit/debs/$arch" stage="$jit/stage-$arch"
    rm -rf "$debs" "$stage" "$root.tmp" "$root"
    mkdir -p "$debs" "$stage"
    local specs=() name a ver
    while read -r name a ver; do
        if [ "$a" = all ]; then specs+=("$name=$ver"); else specs+=("$name:$a=$ver"); fi
    done <<<"$extras"
    (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "${specs[@]}")
    local deb
    for deb in "$debs"/*.deb; do
        dpkg -x "$deb" "$stage"
    done
    # /usr merged, as setup.sh does (the standard sysroot's /bin, /lib...
    # are already symlinks into usr/)
    local d
    for d in bin sbin lib lib32 lib64 libx32; do
        if [ -d "$stage/$d" ] && [ ! -L "$stage/$d" ]; then
            mkdir -p "$stage/usr/$d"
            cp -a "$stage/$d/." "$stage/usr/$d/"
            rm -rf "${stage:?}/$d"
        fi
    done
    # absolute symlinks (the JDK's lib/jvm.cfg -> /etc/java-17-openjdk/...)
    # would point into the host: make them relative
    local link target
    while IFS= read -r -d '' link; do
        target=$(readlink "$link")
        ln -sfn "$(realpath -s -m --relative-to="$(dirname "$link")" "$stage$target")" "$link"
    done < <(find "$stage" -type l -lname '/*' -print0)
    # The standard sysroot, hard-linked (read-only use: nothing is ever
    # written into a sysroot), then the extras on top.  --remove-destination
    # so that a path present in both would be replaced, never written
    # through a link shared with the standard sysroot.
    cp -al "$std" "$root.tmp"
    cp -a --remove-destination "$stage/." "$root.tmp/"
    rm -rf "$stage"
    [ -x "$root.tmp/usr/bin/node" ] || die "sysroot-$arch: no usr/bin/node"
    [ -x "$root.tmp/usr/lib/jvm/default-java/bin/java" ] || die "sysroot-$arch: no default-java"
    { cat "$std/.manifest"; printf '%s\n' "$extras"; } > "$root.tmp/.manifest.new"
    rm -f "$root.tmp/.manifest" "$root.tmp/.stamp"
    mv "$root.tmp/.manifest.new" "$root.tmp/.manifest"
    printf '%s\n' "$stamp" > "$root.tmp/.stamp"
    mv "$root.tmp" "$root"
}
build_sysroot arm64
build_sysroot amd64
if ! diff <(awk '{print $1, $3}' "$jit/sysroot-arm64/.manifest") \
          <(awk '{print $1, $3}' "$jit/sysroot-amd64/.manifest") >/dev/null; then
    log "note: some package versions differ between the arches:"
    diff <(awk '{print $1, $3}' "$jit/sysroot-arm64/.manifest") \
         <(awk '{print $1, $3}' "$jit/sysroot-amd64/.manifest") | sed 's/^/[jit-setup]   /' >&2 || true
fi

# The programs: bench.js as it is, Bench.java compiled by the host's javac
# for Java 17.  Copied into the cache so that the paths the guests see do
# not depend on where this checkout is.
mkdir -p "$jit/jit"
cmp -s "$here/bench.js" "$jit/jit/bench.js" || cp "$here/bench.js" "$jit/jit/bench.js"
if [ ! -e "$jit/jit/Bench.class" ] || [ "$here/Bench.java" -nt "$jit/jit/Bench.class" ]; then
    command -v javac >/dev/null || die "javac not found (apt-get install openjdk-17-jdk-headless)"
    log "compiling Bench.java"
    rm -f "$jit/jit"/*.class
    javac --release 17 -d "$jit/jit" "$here/Bench.java"
fi

# shellcheck source=../harness_args.sh
source "$here/../harness_args.sh"
split_harness_args "$@"
if [[ ${#workloads[@]} -eq 0 ]]; then
    workloads=(python node java)
fi
TRANSIT_BENCH_DIR=$bench exec python3 "$here/jitbench.py" --cache "$jit" "${options[@]}" "${workloads[@]}"
