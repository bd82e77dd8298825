#!/bin/bash
# The arm64 end-to-end tests: boots an emulated arm64 Debian host
# (qemu-system-aarch64, TCG) with podman, crun and docker-registry, puts
# Transit and the test files on a second disk, and runs guest-tests.sh in it.
# There Transit is the only x86_64 handler and runs natively, which is what
# binfmt_misc's F, P, O and C flags and containers need (on an x86_64 host
# Transit is two interpreter hops away). `cargo xtask arm64-vm` builds the
# inputs and runs this script; see README.md "The arm64 VM tests".
#
# Inputs (environment): TRANSIT (static aarch64 Transit), PAYLOAD (a
# directory of files for the tests: probe.c and level_probe.S built as
# static x86_64 programs, binfmt/Dockerfile, cri-client); W, the cache
# directory; CHECKS, optionally, the names of the only checks to run (a
# space-separated list, with the ones they depend on: see guest-tests.sh).
# Needs root, binfmt_misc
# (it registers qemu-aarch64 host-wide for debootstrap's second stage; that
# only affects aarch64 programs) and ~1.5 GB under W.
#
# The base image (kernel, initramfs, rootfs.img) is cached in W under a key
# made of the functions that build it and the Debian package versions: ~4 min to build cold,
# then each run is the boot (~30 s) plus the tests.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${TRANSIT:?set TRANSIT to a static aarch64 Transit}" "${PAYLOAD:?set PAYLOAD to the directory of test files}"
W=${W:-${XDG_CACHE_HOME:-$HOME/.cache}/transit-arm64-vm}
# The host's Debian release: the kernel and busybox come from its apt lists.
SUITE=${SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
CPU=${CPU:-max,pauth-impdef=on}   # plain "max" is ~2.5x slower (pointer authentication)
INC=podman,crun,conmon,netavark,docker.io,containerd,runc,golang-github-containers-common,golang-github-containers-image,catatonit,busybox-static,kmod,docker-registry
KEY_PACKAGES="linux-image-arm64 ${INC//,/ }"
mkdir -p "$W"

say() { echo "==> $*"; }

# The Debian mirror this machine's apt already uses.
apt_mirror() {
  local u
  u=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$u" ] || u=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "$u"
}
MIRROR=${MIRROR:-$(apt_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

host_packages() {
  [ "$(. /etc/os-release && echo "$ID")" = debian ] && [ "$(uname -m)" = x86_64 ] ||
    { echo "vm.sh runs on x86_64 Debian hosts (bookworm is tested)"; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
  local need=() suite=()
  for p in debootstrap kmod cpio e2fsprogs qemu-user-static; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  # Any qemu-system-aarch64 will do. qemu-system-arm must come from the suite
  # of the installed qemu-system-common/qemu-utils (e.g. bookworm-backports),
  # as the default suite's would conflict with them.
  if ! command -v qemu-system-aarch64 >/dev/null; then
    need+=(qemu-system-arm)
    local s; s=$(qemu_suite)
    [ -z "$s" ] || suite=(-t "$s")
  fi
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${suite[@]}" "${need[@]}" >/dev/null
  fi
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register
}

# The suite (archive name, e.g. bookworm-backports) that the installed
# qemu-system-common or qemu-utils came from, from the lines under the
# installed ("***") version in `apt-cache policy`; empty if neither is
# installed.
qemu_suite() {
  local p
  for p in qemu-system-common qemu-utils; do
    dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || continue
    apt-cache policy "$p" | awk '$1 == "***" {mine = 1; next} /^     [^ ]/ {mine = 0; next}
                                 mine && NF >= 5 {split($3, s, "/"); print s[1]; exit}'
    return 0
  done
}

# What the cached base image depends on: the code that builds it and the
# packages in it (not the payload, which changes with every test edit).
base_key() {
  { declare -f build_kernel build_rootfs; echo "$SUITE $MIRROR $INC"
    for p in $KEY_PACKAGES; do apt-cache show --no-all-versions "$p:arm64" 2>/dev/null | grep '^Version:' || true; done
  } | sha256sum | cut -c1-16
}

# Kernel and a busybox initramfs that loads virtio/ext4 and switches to /dev/vda.
build_kernel() {
  local b=$1
  mkdir -p "$b/debs" "$b/kernel" "$b/initramfs"/{bin,modules,proc,sys,dev,newroot}
  (cd "$b/debs" && apt-get download -qq -o APT::Sandbox::User=root linux-image-arm64:arm64 busybox-static:arm64 &&
     apt-get download -qq -o APT::Sandbox::User=root "$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')")
  for f in "$b"/debs/linux-image-*.deb; do dpkg -x "$f" "$b/kernel"; done
  ls "$b/kernel/lib/modules" > "$b/kver"
  local kver; kver=$(cat "$b/kver")
  depmod -b "$b/kernel" "$kver"
  dpkg -x "$b"/debs/busybox-static_*_arm64.deb "$b/bb" && cp "$b/bb/bin/busybox" "$b/initramfs/bin/"
  for m in crc32c_generic crc16 mbcache jbd2 ext4 virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio virtio_blk; do
    cp "$(find "$b/kernel/lib/modules/$kver" -name "$m.ko")" "$b/initramfs/modules/"; echo "$m" >> "$b/initramfs/modules.order"
  done
  cat > "$b/initramfs/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod /modules/$m.ko || echo "initramfs: insmod $m failed"; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initramfs: mount /dev/vda failed"; exec sh; }
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/vm-init
EOF
  chmod 755 "$b/initramfs/init"
  (cd "$b/initramfs" && find . | cpio -o -H newc --quiet | gzip -1) > "$b/initrd.gz"
}

# Debian arm64 (minbase + podman, crun, docker-registry) with an init that
# runs the payload disk's guest-tests.sh and powers off.
build_rootfs() {
  local b=$1 kver; kver=$(cat "$b/kver")
  local r=$b/rootfs
  debootstrap --foreign --arch=arm64 --variant=minbase --include=$INC "$SUITE" "$r" "$MIRROR" > "$b/debootstrap.log" 2>&1
  chroot "$r" /debootstrap/debootstrap --second-stage >> "$b/debootstrap.log" 2>&1   # through qemu-aarch64
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*_Packages "$r"/usr/share/{doc,locale,man}/*
  local km=$b/kernel/lib/modules/$kver m=$r/lib/modules/$kver
  mkdir -p "$m/kernel/drivers/net"
  cp -a "$km"/modules.order "$km"/modules.builtin "$km"/modules.builtin.modinfo "$m/"
  for d in fs net lib crypto arch block mm; do cp -a "$km/kernel/$d" "$m/kernel/"; done
  for d in virtio block char; do cp -a "$km/kernel/drivers/$d" "$m/kernel/drivers/"; done
  cp -a "$km"/kernel/drivers/net/{veth,tun,dummy}.ko "$m/kernel/drivers/net/"
  depmod -b "$r" "$kver"
  printf '[containers]\nlog_driver = "k8s-file"\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "crun"\n' \
    > "$r/etc/containers/containers.conf"
  echo arm64-testbed > "$r/etc/hostname"
  cat > "$r/sbin/vm-init" <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc; mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm; mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp;     mount -t cgroup2 cgroup2 /sys/fs/cgroup
hostname arm64-testbed; modprobe overlay; busybox ip link set lo up
echo "VM-INIT: $(uname -m) up at $(cut -d' ' -f1 /proc/uptime)s"
RESULT=no-payload
if [ -b /dev/vdb ]; then
  mkdir -p /payload && mount -o ro /dev/vdb /payload
  if /bin/bash /payload/guest-tests.sh; then RESULT=ok; else RESULT=FAIL; fi
fi
echo "=== VM-TEST-MARKER result=$RESULT uptime=$(cut -d' ' -f1 /proc/uptime)s ==="
sync; busybox poweroff -f
EOF
  chmod 755 "$r/sbin/vm-init"
  # rootfs.img is what marks the cache complete: it appears only whole.
  mkfs.ext4 -q -F -L armroot -d "$r" "$b/rootfs.img.partial" 2G
  mv "$b/rootfs.img.partial" "$b/rootfs.img"
  rm -rf "$r"
}

# The files the tests use, on a read-only second disk.
build_payload() {
  local b=$1 p=$W/payload
  rm -rf "$p" "$W/payload.img"; mkdir -p "$p"
  [ -e "$W/busybox-amd64" ] || {
    local d; d=$(mktemp -d)
    (cd "$d" && apt-get download -qq -o APT::Sandbox::User=root busybox-static:amd64 && dpkg -x busybox-static_*_amd64.deb x && cp x/bin/busybox "$W/busybox-amd64")
    rm -rf "$d"
  }
  cp "$TRANSIT" "$p/transit"; cp "$PAYLOAD"/* "$p/"; cp "$W/busybox-amd64" "$p/busybox-amd64"
  cp "$HERE/guest-tests.sh" "$p/"
  # CHECKS: run only these checks (names as guest-tests.sh prints them).
  [ -z "${CHECKS:-}" ] || echo "$CHECKS" > "$p/checks"
  # SOAK_SECONDS: how long the soak-thread-churn check runs.
  [ -z "${SOAK_SECONDS:-}" ] || echo "$SOAK_SECONDS" > "$p/soak-seconds"
  mkfs.ext4 -q -F -L payload -d "$p" "$W/payload.img" 256M
}

boot() {
  local b=$1 kver; kver=$(cat "$b/kver")
  local log=$W/console.log
  # -snapshot keeps rootfs.img pristine for the next run.
  timeout "${VM_TIMEOUT:-1800}" qemu-system-aarch64 -M virt -cpu "$CPU" -smp 2 -m 2G -nographic -nic none -no-reboot -snapshot \
    -kernel "$b/kernel/boot/vmlinuz-$kver" -initrd "$b/initrd.gz" \
    -append "console=ttyAMA0 rdinit=/init panic=-1 loglevel=4" \
    -drive file="$b/rootfs.img",if=none,id=hd0,format=raw -device virtio-blk-pci,drive=hd0 \
    -drive file="$W/payload.img",if=none,id=hd1,format=raw,readonly=on -device virtio-blk-pci,drive=hd1 \
    </dev/null > "$log" 2>&1 || true
  # The console has CRLF line ends.
  tr -d '\r' < "$log" | sed -n '/^VM-INIT/,$p'
  grep -q 'VM-TEST-MARKER result=ok' "$log"
}

# All in one function, so that bash has read all of it before it starts:
# editing this file during a run does not change the run.
main() {
  say "host packages"
  host_packages
  BASE=$W/base-$(base_key)
  if [ ! -e "$BASE/rootfs.img" ]; then
    say "building the arm64 VM image in $BASE (cached; ~4 min)"
    rm -rf "$W"/base-*; mkdir -p "$BASE"
    build_kernel "$BASE"
    build_rootfs "$BASE"
    rm -rf "$BASE/debs" "$BASE/bb" "$BASE/initramfs" "$BASE/kernel/lib"
  fi
  say "payload"
  build_payload "$BASE"
  say "booting the VM (console follows)"
  start=$(date +%s)
  if boot "$BASE"; then
    say "arm64 VM tests passed ($(( $(date +%s) - start )) s)"
  else
    say "arm64 VM tests FAILED ($(( $(date +%s) - start )) s; console: $W/console.log)"
    exit 1
  fi
}
main "$@"; exit $?
