#!/bin/bash
# Runs inside the arm64 VM (vm.sh), as root, with the payload disk on
# /payload: transit (static aarch64), probe (static x86_64, probe.c prints
# how it was started), level_probe (level_probe.S),
# fault_signals_around_thread_exits[_musl] (its .c here, glibc and musl),
# signalfd_segv_bus (its .c and .expected here), address_space,
# self_queued_faults, exiting_thread_signals, threads_basic,
# thread_signal_storm, tso_misaligned, leader_exited, vfork_shared_writes and seccomp_filters (from tests/programs) with
# their expected outputs (NAME.expected), thread_churn (tests/soak), busybox-amd64,
# transit.deb (cargo xtask deb, of the same Transit), cri-client (static
# aarch64, tests/arm64-vm/cri-client). Each check prints "TEST name: ok" or
# "TEST name: FAIL ..."; the exit status is 0 only if all passed.
#
# Transit is the only x86_64 handler in this VM, so an x86_64 program that
# runs at all ran under it; the process log (TRANSIT_PROCESS_LOG) shows it
# by name where the environment reaches Transit.
set -u
P=/payload
FAILED=0

# CHECKS (vm.sh, on the payload as "checks"): run only the checks named
# there. A check uses what earlier ones set up; e.g. the CRI check needs
# CHECKS="install podman-import-amd64-image registry-with-amd64-only-index
# mirror-starts cri-pod-amd64-only-image-through-mirror".
ONLY=$(echo $(cat $P/checks 2>/dev/null))
[ -z "$ONLY" ] || echo "only the checks: $ONLY"

# check NAME COMMAND...: runs the command, which fails the check by failing.
check() {
  local name=$1; shift
  [ -z "$ONLY" ] || [[ " $ONLY " == *" $name "* ]] || return 0
  local why
  if why=$("$@" 2>&1); then echo "TEST $name: ok"; else echo "TEST $name: FAIL $why"; FAILED=$((FAILED + 1)); fi
}
# expect OUTPUT LINE: OUTPUT has LINE as one of its lines.
expect() {
  grep -qxF -- "$2" <<< "$1" || { echo "expected the line '$2' in:"; echo "$1"; return 1; }
}
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
elapsed() { echo "($(cut -d' ' -f1 /proc/uptime)s)"; }
# A program of tests/programs, whose output must be the expected one (the
# kernel's last lines show where a fatal fault was).
t_program() {
  local out; out=$(transit $P/$1 2> /tmp/$1.err) || { echo "exit $?: $out"; tail -n 20 /tmp/$1.err; dmesg | tail -n 4; return 1; }
  [ "$out" = "$(cat $P/$1.expected)" ] || { echo "$out"; return 1; }
}

modprobe binfmt_misc 2>/dev/null
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
install -m 755 $P/transit /usr/local/bin/transit

# ---- the guest's address space ---------------------------------------------

# This kernel gives processes 48 bits of address space; an x86_64 program
# must see 47 (address_space.c, with the output it has on x86_64).
check address-space-below-2^47 t_program address_space

# Fault signals the program queues to itself arrive in Transit's own code
# (tests/programs/signals/self_queued_faults.c; qemu-user cannot run it).
check self-queued-fault-signals t_program self_queued_faults
# A signal sent to the process that a thread caught as it exited reaches
# another thread (qemu-user keeps it for the exiting thread).
check exiting-thread-hands-signals-on t_program exiting_thread_signals
# A signalfd reads SIGSEGV and SIGBUS sent while the program blocks them
# (signalfd_segv_bus.c here, with its output on x86_64 Linux): they wait
# in Transit's queue, and around poll and read in the kernel's.
check signalfd-reads-blocked-segv-and-bus t_program signalfd_segv_bus
# A SIGBUS sent to the process that reaches a thread in the middle of its
# exit is handed on (fault signals stay unblocked on the host there): five
# runs of 300 rounds each of a glibc and a musl build
# (fault_signals_around_thread_exits.c). The binary before this lost 4 to 7
# rounds in five of six runs of the musl build (whose exiting threads
# block every signal first), and one round in five runs of the glibc one.
t_fault_signals_around_thread_exits() {
  local run out build
  for build in fault_signals_around_thread_exits fault_signals_around_thread_exits_musl; do
    for run in 1 2 3 4 5; do
      out=$(transit $P/$build 2>&1) || { echo "$build run $run: exit $?: $out"; return 1; }
      expect "$out" "rounds whose SIGBUS never ran the handler: 0" || { echo "($build run $run)"; return 1; }
    done
  done
}
check fault-signals-around-thread-exits t_fault_signals_around_thread_exits
# Threads run truly in parallel here (a thread create and join once
# crashed only on a real kernel).
check threads-basic t_program threads_basic
check thread-signal-storm t_program thread_signal_storm
check tso-misaligned t_program tso_misaligned
# A thread running on after the first one exited (pthread_exit in main):
# Transit copied signal frames through the process id, which then has no
# memory (ESRCH), and the thread died of SIGSEGV at its next signal.
check thread-outlives-the-first-thread t_program leader_exited
# What a vfork child writes reaches its parent (posix_spawn's exec error).
check vfork-child-writes-reach-the-parent t_program vfork_shared_writes

# The thread programs with a 64 KiB code cache and no saved translations,
# so that new code is written where old code ran. Three runs each; each
# must have flushed at least once. Written with the C library's memcpy
# (SVE stores here), every threads_basic run died after its first flush:
# qemu-system kept running the old code (cache::copy_code).
t_program_flushing() {
  local run out flushes
  for run in 1 2 3; do
    out=$(TRANSIT_CACHE=off TRANSIT_CODE_CACHE_KB=64 TRANSIT_STATS=1 transit $P/$1 2> /tmp/$1.err) ||
      { echo "run $run: exit $?: $out"; tail -n 20 /tmp/$1.err; dmesg | tail -n 4; return 1; }
    [ "$out" = "$(cat $P/$1.expected)" ] || { echo "run $run: $out"; return 1; }
    flushes=$(grep -o 'process: .* flushes=[0-9]*' /tmp/$1.err | grep -o '[0-9]*$' | tail -n 1)
    [ "${flushes:-0}" -ge 1 ] || { echo "run $run: no flush:"; grep 'process:' /tmp/$1.err; return 1; }
  done
}
check full-flush-threads-basic t_program_flushing threads_basic
check full-flush-thread-signal-storm t_program_flushing thread_signal_storm
check full-flush-tso-misaligned t_program_flushing tso_misaligned

# Issue 16's soak on a real kernel (qemu-user leaks per thread, so
# `cargo xtask soak` can only watch Transit's heap there): thread_churn
# (tests/soak) for SOAK_SECONDS (vm.sh puts it on the payload; 600 by
# default). The program reports its resident memory between rounds, when
# no worker thread is alive: after the first fifth (caches filled) and at
# most after that; it may grow by at most 8 MiB (natively on x86_64 it
# grows by well under 1). Sampled at any moment RSS swings by 25 MiB with
# the threads alive, so the samples every minute (MiB/mappings) only
# show the trend.
t_soak() {
  local seconds; seconds=$(cat $P/soak-seconds 2> /dev/null || echo 600)
  local rss maps samples=0 trend=
  transit $P/thread_churn $seconds > /tmp/soak.out 2> /tmp/soak.err &
  local pid=$! start=$SECONDS
  while kill -0 $pid 2> /dev/null; do
    sleep 10
    rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2> /dev/null) || continue
    maps=$(wc -l < /proc/$pid/maps 2> /dev/null) || continue
    [ -n "$rss" ] || continue
    samples=$((samples + 1))
    [ $((samples % 6)) -ne 0 ] || trend="$trend $((rss / 1024))/$maps"
  done
  wait $pid || { echo "exit $? after $((SECONDS - start)) s:"; tail -n 5 /tmp/soak.out; tail -n 30 /tmp/soak.err; return 1; }
  local last; last=$(tail -1 /tmp/soak.out)
  echo "soak: $last; sampled MiB/mappings each minute:$trend" > /tmp/soak.summary
  [[ "$last" =~ resident\ between\ rounds:\ ([0-9]+)\ KiB\ after\ warm-up,\ at\ most\ ([0-9]+)\ KiB ]] ||
    { echo "no resident memory in: $last"; return 1; }
  local warm=${BASH_REMATCH[1]} peak=${BASH_REMATCH[2]}
  [ $((peak - warm)) -le 8192 ] || { echo "resident memory between rounds grew from $warm to $peak KiB"; return 1; }
}
if [[ " $ONLY " == *" soak-thread-churn "* ]]; then
  check soak-thread-churn t_soak
  cat /tmp/soak.summary 2> /dev/null
fi

# ---- registration ---------------------------------------------------------

t_install() {
  transit binfmt install || return 1
  local entry; entry=$(cat /proc/sys/fs/binfmt_misc/transit-x86_64) || return 1
  expect "$entry" "enabled" && expect "$entry" "interpreter /usr/local/bin/transit" && expect "$entry" "flags: POCF"
}
check install t_install
transit binfmt status

t_direct() {
  rm -f /tmp/direct.log
  local out; out=$(TRANSIT_PROCESS_LOG=/tmp/direct.log $P/probe) || return 1
  expect "$out" "machine=x86_64" && expect "$out" "at_secure=0" && expect "$out" "exe=$P/probe" &&
    grep -q " $P/probe\$" /tmp/direct.log
}
check direct-exec t_direct

# seccomp filters survive an execve that binfmt_misc serves (they go in the
# environment there, not on Transit's command line): seccomp_filters execs
# itself and must print what it prints natively.
t_seccomp_binfmt() {
  rm -f /tmp/seccomp.log
  local out; out=$(TRANSIT_PROCESS_LOG=/tmp/seccomp.log $P/seccomp_filters 2>&1) || { echo "exit $?: $out"; return 1; }
  [ "$out" = "$(cat $P/seccomp_filters.expected)" ] || { echo "$out"; return 1; }
  [ "$(grep -c seccomp_filters /tmp/seccomp.log)" = 2 ] || { echo "Transit did not start it twice:"; cat /tmp/seccomp.log; return 1; }
}
check seccomp-filters-survive-a-binfmt-exec t_seccomp_binfmt

# A guest started through binfmt_misc runs its x86_64 children through the
# kernel, except scripts under TRANSIT_ROOTFS: their `#!/bin/sh` must be the
# root filesystem's (an x86_64 busybox), not this VM's arm64 dash.
t_rootfs_script() {
  rm -rf /tmp/amd64root && mkdir -p /tmp/amd64root/bin
  cp $P/busybox-amd64 /tmp/amd64root/bin/busybox && ln -s busybox /tmp/amd64root/bin/sh
  printf '#!/bin/sh\necho script-ran\n' > /tmp/script.sh && chmod 755 /tmp/script.sh
  rm -f /tmp/rootfs.log
  local out; out=$(TRANSIT_ROOTFS=/tmp/amd64root TRANSIT_PROCESS_LOG=/tmp/rootfs.log $P/busybox-amd64 sh -c '/tmp/script.sh; true') ||
    return 1
  expect "$out" "script-ran" || return 1
  grep -qE " /tmp/amd64root/bin/(sh|busybox)\$" /tmp/rootfs.log ||
    { echo "the script's interpreter was not the root filesystem's:"; cat /tmp/rootfs.log; return 1; }
}
check rootfs-script-interpreter-from-the-rootfs t_rootfs_script

# ---- P: the guest sees the argv[0] it was given ---------------------------

t_preserve_argv0() {
  local out; out=$(bash -c "exec -a custom-name $P/probe one two") || return 1
  expect "$out" "argv0=custom-name" && expect "$out" "arg1=one" && expect "$out" "arg2=two" && expect "$out" "exe=$P/probe"
}
check P-preserves-argv0 t_preserve_argv0

# ---- O: an execute-only binary (no read permission) runs ------------------

t_execute_only() {
  install -m 0111 $P/probe /tmp/xonly
  if as_nobody cat /tmp/xonly > /dev/null 2>&1; then echo "nobody can read /tmp/xonly"; return 1; fi
  local out; out=$(as_nobody /tmp/xonly) || return 1
  expect "$out" "machine=x86_64" && expect "$out" "uid=65534 euid=65534" && expect "$out" "exe=/tmp/xonly"
}
check O-execute-only t_execute_only

# ---- C: setuid programs get their credentials and AT_SECURE=1 -------------

t_setuid() {
  install -o root -m 4755 $P/probe /tmp/suid
  rm -f /tmp/suid.log
  local out err
  out=$(TRANSIT_PROCESS_LOG=/tmp/suid.log TRANSIT_LOG=trace as_nobody /tmp/suid 2> /tmp/suid.err) || return 1
  err=$(cat /tmp/suid.err)
  expect "$out" "uid=65534 euid=0" && expect "$out" "at_secure=1" || return 1
  [ ! -e /tmp/suid.log ] || { echo "secure mode wrote TRANSIT_PROCESS_LOG"; return 1; }
  [ -z "$err" ] || { echo "secure mode logged for TRANSIT_LOG: $err"; return 1; }
}
check C-setuid-secure-mode t_setuid

# The control: the same variables do reach a program that is not setuid.
t_not_setuid() {
  install -m 0755 $P/probe /tmp/plain
  rm -f /tmp/plain.log
  local out
  out=$(TRANSIT_PROCESS_LOG=/tmp/plain.log TRANSIT_LOG=debug as_nobody /tmp/plain 2> /tmp/plain.err) || return 1
  expect "$out" "uid=65534 euid=65534" && expect "$out" "at_secure=0" && grep -q " /tmp/plain\$" /tmp/plain.log &&
    [ -s /tmp/plain.err ]
}
check C-plain-program-reads-environment t_not_setuid

# A guest (an x86_64 shell run by nobody) executing the setuid program: the
# kernel, not Transit, starts it, so it gets its credentials.
t_setuid_from_guest() {
  install -m 0755 $P/busybox-amd64 /tmp/busybox-amd64
  local out; out=$(as_nobody /tmp/busybox-amd64 sh -c '/tmp/suid; echo sh-euid=$(/tmp/busybox-amd64 id -u)') || return 1
  expect "$out" "uid=65534 euid=0" && expect "$out" "at_secure=1" && expect "$out" "sh-euid=65534"
}
check C-setuid-from-a-guest t_setuid_from_guest

# ---- F: works where the Transit binary does not exist ---------------------

t_chroot() {
  rm -rf /tmp/jail; mkdir -p /tmp/jail
  cp $P/probe /tmp/jail/probe
  local out; out=$(TRANSIT_PROCESS_LOG=/log chroot /tmp/jail /probe) || return 1
  [ ! -e /tmp/jail/usr/local/bin/transit ] && expect "$out" "machine=x86_64" && grep -q " /probe\$" /tmp/jail/log
}
check F-in-chroot t_chroot

# An x86_64 shell in the chroot starting x86_64 children: Transit hands
# them back to the kernel, as its own file is not there.
t_chroot_children() {
  mkdir -p /tmp/jail/bin && cp $P/busybox-amd64 /tmp/jail/bin/busybox && ln -sf busybox /tmp/jail/bin/sh
  rm -f /tmp/jail/log
  local out; out=$(TRANSIT_PROCESS_LOG=/log chroot /tmp/jail /bin/sh -c '/probe | /bin/busybox grep machine; /bin/busybox uname -m') || return 1
  expect "$out" "machine=x86_64" && expect "$out" "x86_64" || return 1
  local n; n=$(grep -c -E ' (/bin/sh|/probe|/bin/busybox)$' /tmp/jail/log)
  [ "$n" -eq 4 ] || { echo "the process log has $n of 4 programs:"; cat /tmp/jail/log; return 1; }
}
check F-in-chroot-children t_chroot_children

# buildkit's emulator detection: a libc-free static probe alone in a fresh
# directory (with /proc mounted there, as buildkit does for amd64), run
# chrooted; its exit status is 64 + the x86-64 level CPUID reports, and
# Transit's CPUID is x86-64-v3 by default (translator/src/cpu/features.rs).
t_buildkit_probe() {
  local dir status; dir=$(mktemp -d)
  cp $P/level_probe "$dir/check" && mkdir "$dir/proc" && mount -t proc proc "$dir/proc" || return 1
  chroot "$dir" /check; status=$?
  umount "$dir/proc"; rm -rf "$dir"
  [ "$status" -eq 67 ] || { echo "exit status $status, not 67 (x86-64-v3)"; return 1; }
}
check buildkit-style-probe t_buildkit_probe

# An amd64 image: busybox as /bin/sh and the probe, nothing else.
make_image() {
  rm -rf /tmp/img && mkdir -p /tmp/img/bin /tmp/img/tmp
  cp $P/busybox-amd64 /tmp/img/bin/busybox && ln -s busybox /tmp/img/bin/sh && cp $P/probe /tmp/img/probe
  tar -C /tmp/img -cf /tmp/img.tar . && podman import --arch amd64 /tmp/img.tar localhost/app64:latest > /dev/null
}
check podman-import-amd64-image make_image

# `podman run --arch amd64` (the explicit-platform route): every process in
# the container runs under Transit, which is not in the image.
t_podman_arch_amd64() {
  local out
  out=$(podman run --rm --network none --arch amd64 -e TRANSIT_PROCESS_LOG=/tmp/plog localhost/app64 \
    /bin/sh -c '/probe; busybox uname -m; echo log; cat /tmp/plog; test ! -e /usr/local/bin/transit && echo no-transit-here') || return 1
  expect "$out" "machine=x86_64" && expect "$out" "x86_64" && expect "$out" "no-transit-here" || return 1
  # sh, the probe and busybox uname: three processes in the log.
  local n; n=$(sed -n '/^log$/,$p' <<< "$out" | grep -c -E ' (/bin/sh|/probe|/bin/busybox)$')
  [ "$n" -ge 3 ] || { echo "process log has $n of 3 programs:"; echo "$out"; return 1; }
}
check F-podman-run-arch-amd64 t_podman_arch_amd64 ; elapsed

# ---- transit mirror: an amd64-only image index, pulled on arm64 -----------

# How many times the mirror has served an amd64 manifest for an index.
substitutions() { grep -c "serving linux/amd64" /tmp/mirror.log; }
# substituted_since N: the mirror has substituted since it had N.
substituted_since() {
  [ "$(substitutions)" -gt "$1" ] || { echo "the mirror did not substitute:"; cat /tmp/mirror.log; return 1; }
}

# wait_until SECONDS COMMAND...: retries the command (output discarded)
# every half second until it succeeds or the time is up.
wait_until() {
  local tries=$(($1 * 2)); shift
  for _ in $(seq $tries); do "$@" > /dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}

# wait_http URL: up to 60 s for a server to answer.
wait_http() {
  wait_until 60 busybox wget -q -O /dev/null "$1" || { echo "nothing answers at $1"; return 1; }
}

# The registry plays Docker Hub: the mirror listens where the client
# configurations in binfmt/mirror-clients/ (used here as shipped) expect it,
# 127.0.0.1:5000, and sends docker.io requests to this registry.
REGISTRY=127.0.0.1:5100
t_registry() {
  mkdir -p /tmp/registry
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /tmp/registry\nhttp:\n  addr: %s\n' $REGISTRY > /tmp/registry.yml
  docker-registry serve /tmp/registry.yml > /tmp/registry.log 2>&1 &
  wait_http http://$REGISTRY/v2/ || return 1
  # An index with only linux/amd64, as amd64-only projects publish.
  podman push --tls-verify=false localhost/app64 docker://$REGISTRY/app64:single > /dev/null &&
    podman manifest create localhost/amd64only > /dev/null &&
    podman manifest add --tls-verify=false localhost/amd64only docker://$REGISTRY/app64:single > /dev/null &&
    podman manifest push --all --tls-verify=false localhost/amd64only docker://$REGISTRY/library/app:amd64only > /dev/null &&
    podman rmi -a -f > /dev/null
}
check registry-with-amd64-only-index t_registry

t_start_mirror() {
  printf 'listen = "127.0.0.1:5000"\nupstream = "http://%s"\n\n[registries."docker.io"]\nurl = "http://%s"\n' $REGISTRY $REGISTRY \
    > /tmp/mirror.toml
  TRANSIT_LOG=info transit mirror --config /tmp/mirror.toml > /tmp/mirror.log 2>&1 &
  wait_http http://127.0.0.1:5000/v2/
}
check mirror-starts t_start_mirror

# ---- podman ---------------------------------------------------------------

t_podman_direct_fails() {
  local out
  if out=$(podman pull --tls-verify=false $REGISTRY/library/app:amd64only 2>&1); then echo "pulled without the mirror: $out"; return 1; fi
  grep -qE "no image found in (manifest list|image index) for architecture arm64" <<< "$out" || { echo "not podman's platform error: $out"; return 1; }
}
check podman-pull-amd64-only-without-mirror-fails t_podman_direct_fails

t_podman_mirror() {
  mkdir -p /etc/containers/registries.conf.d
  cp $P/containers-registries.conf /etc/containers/registries.conf.d/transit-mirror.conf
  # No --arch: what a user types for an image that has no arm64 entry.
  local out; out=$(podman run --rm --network none -e TRANSIT_PROCESS_LOG=/tmp/plog docker.io/library/app:amd64only \
    /bin/sh -c '/probe; cat /tmp/plog') || return 1
  expect "$out" "machine=x86_64" && grep -q ' /probe$' <<< "$out" && substituted_since 0 &&
    [ "$(podman image inspect --format '{{.Architecture}}' docker.io/library/app:amd64only)" = amd64 ]
}
check podman-run-amd64-only-image-through-mirror t_podman_mirror ; elapsed
grep "serving linux/amd64" /tmp/mirror.log | tail -1

# ---- containerd (ctr) -----------------------------------------------------

t_containerd() {
  containerd > /tmp/containerd.log 2>&1 &
  wait_until 60 ctr version || { echo "containerd does not answer:"; tail -20 /tmp/containerd.log; return 1; }
}
check containerd-starts t_containerd

# `ctr run --platform linux/amd64` (runc, the explicit-platform route).
t_ctr_platform_amd64() {
  ctr images pull --plain-http --platform linux/amd64 $REGISTRY/app64:single > /dev/null || return 1
  local out; out=$(ctr run --rm --platform linux/amd64 --env TRANSIT_PROCESS_LOG=/tmp/plog \
    $REGISTRY/app64:single ctr-amd64 /bin/sh -c '/probe; cat /tmp/plog') || return 1
  expect "$out" "machine=x86_64" && grep -q ' /probe$' <<< "$out"
}
check ctr-run-platform-amd64 t_ctr_platform_amd64 ; elapsed

# The amd64-only index: containerd's own error, then through the shipped
# hosts.toml the amd64 image, run with no --platform.
t_ctr_mirror() {
  local out
  if out=$(ctr images pull --plain-http $REGISTRY/library/app:amd64only 2>&1); then echo "pulled without the mirror"; return 1; fi
  grep -q "no match for platform in manifest" <<< "$out" || { echo "not containerd's platform error: $out"; return 1; }
  mkdir -p /etc/containerd/certs.d/docker.io
  cp $P/containerd-hosts.toml /etc/containerd/certs.d/docker.io/hosts.toml
  local before; before=$(substitutions)
  ctr images pull --hosts-dir /etc/containerd/certs.d docker.io/library/app:amd64only > /dev/null || return 1
  substituted_since "$before" || return 1
  out=$(ctr run --rm docker.io/library/app:amd64only ctr-mirror /probe) || return 1
  expect "$out" "machine=x86_64"
}
check ctr-run-amd64-only-image-through-mirror t_ctr_mirror ; elapsed

# ---- Kubernetes: containerd's CRI plugin, driven as kubelet drives it ------

# A second containerd, configured as a Kubernetes node's: its CRI plugin
# pulls through the registries' hosts.toml directory (with the shipped
# docker.io one), and the pod sandbox's image is amd64-only too. Its own
# root, state and socket keep it apart from the containerd of ctr and dockerd.
CRI=/run/containerd-cri/containerd.sock
t_cri_containerd() {
  mkdir -p /etc/containerd/certs.d/docker.io /run/containerd-cri
  cp $P/containerd-hosts.toml /etc/containerd/certs.d/docker.io/hosts.toml
  cat > /tmp/containerd-cri.toml <<END
version = 2
root = "/var/lib/containerd-cri"
state = "/run/containerd-cri"
[grpc]
  address = "$CRI"
[ttrpc]
  address = "$CRI.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/pause:amd64only"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "/var/lib/containerd-cri/opt"
END
  containerd --config /tmp/containerd-cri.toml > /tmp/containerd-cri.log 2>&1 &
  wait_until 60 ctr --address $CRI version || { echo "containerd does not answer:"; tail -20 /tmp/containerd-cri.log; return 1; }
  local cri; cri=$(ctr --address $CRI plugins ls | awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" {print $NF}')
  [ "$cri" = ok ] || { echo "the CRI plugin is '$cri', not ok:"; grep -i cri /tmp/containerd-cri.log | tail -20; return 1; }
}

# The pause image, as registry.k8s.io/pause would be if it were amd64-only:
# a process that sleeps (busybox) in an index with only linux/amd64.
t_pause_image() {
  rm -rf /tmp/pause && mkdir -p /tmp/pause/bin && cp $P/busybox-amd64 /tmp/pause/bin/busybox &&
    tar -C /tmp/pause -cf /tmp/pause.tar . || return 1
  podman import --arch amd64 --change 'CMD ["/bin/busybox", "sleep", "2147483647"]' /tmp/pause.tar localhost/pause64 > /dev/null &&
    podman push --tls-verify=false localhost/pause64 docker://$REGISTRY/pause64:single > /dev/null &&
    podman manifest create localhost/pauseindex > /dev/null &&
    podman manifest add --tls-verify=false localhost/pauseindex docker://$REGISTRY/pause64:single > /dev/null &&
    podman manifest push --all --tls-verify=false localhost/pauseindex docker://$REGISTRY/library/pause:amd64only > /dev/null &&
    podman rmi -f localhost/pauseindex localhost/pause64 > /dev/null
}

# cri-client: Version, PullImage, RunPodSandbox (containerd pulls the pause
# image), CreateContainer, StartContainer, ContainerStatus until it exits
# with status 0, its CRI log file, StopPodSandbox, RemovePodSandbox. Both
# images come from the amd64-only indexes through the mirror; the pause
# process and the container's run under Transit (the only x86_64 handler),
# and the container's log shows it: the probe's lines, uname, and its
# process log, which has the probe.
CRI_EXPECTED='machine=x86_64
argv0=/probe
arg1=pod
uid=0 euid=0
at_secure=0
exe=/probe
x86_64
1'
t_cri_pod() {
  t_cri_containerd || return 1
  t_pause_image > /tmp/pause-image.log 2>&1 || { cat /tmp/pause-image.log; return 1; }
  local before; before=$(substitutions)
  local out status
  out=$($P/cri-client --socket $CRI --image docker.io/library/app:amd64only --env TRANSIT_PROCESS_LOG=/tmp/plog -- \
    /bin/sh -c "/probe pod; /bin/busybox uname -m; /bin/busybox grep -c ' /probe\$' /tmp/plog" 2>&1)
  status=$?
  echo "$out" > /tmp/cri-client.out
  [ $status -eq 0 ] || { echo "$out"; echo "containerd:"; tail -20 /tmp/containerd-cri.log; return 1; }
  # The client prints the log's lines last, after removing the pod.
  local log; log=$(sed '1,/^RemovePodSandbox: /d' <<< "$out")
  [ "$log" = "$CRI_EXPECTED" ] || { echo "the container's log is not the expected one:"; echo "$out"; return 1; }
  # The workload's index and the pause image's: two substitutions.
  [ "$(substitutions)" -ge $((before + 2)) ] ||
    { echo "the mirror substituted $(($(substitutions) - before)) of 2 indexes:"; cat /tmp/mirror.log; return 1; }
  [ "$(ctr --address $CRI -n k8s.io images ls -q | grep -c ':amd64only$')" -eq 2 ] || { ctr --address $CRI -n k8s.io images ls; return 1; }
}
check cri-pod-amd64-only-image-through-mirror t_cri_pod ; elapsed
[ ! -e /tmp/cri-client.out ] || sed 's/^/    cri-client: /' /tmp/cri-client.out

# ---- Docker ---------------------------------------------------------------

t_dockerd() {
  dockerd --config-file $P/docker-daemon.json --containerd=/run/containerd/containerd.sock --iptables=false --ip6tables=false \
    --bridge=none --exec-opt native.cgroupdriver=cgroupfs > /tmp/dockerd.log 2>&1 &
  wait_until 120 docker info || { echo "dockerd does not answer:"; tail -20 /tmp/dockerd.log; return 1; }
}
check dockerd-starts t_dockerd

# `docker run --platform linux/amd64` (127.0.0.0/8 registries are plain HTTP to Docker).
t_docker_platform_amd64() {
  local out; out=$(docker run --rm --network none --platform linux/amd64 -e TRANSIT_PROCESS_LOG=/tmp/plog \
    $REGISTRY/app64:single /bin/sh -c '/probe; cat /tmp/plog') || return 1
  expect "$out" "machine=x86_64" && grep -q ' /probe$' <<< "$out"
}
check docker-run-platform-amd64 t_docker_platform_amd64 ; elapsed

t_docker_direct_fails() {
  local out
  if out=$(docker pull $REGISTRY/library/app:amd64only 2>&1); then echo "pulled without the mirror"; return 1; fi
  grep -q "no matching manifest for linux/arm64" <<< "$out" || { echo "not Docker's platform error: $out"; return 1; }
}
check docker-pull-amd64-only-without-mirror-fails t_docker_direct_fails

# Docker mirrors Docker Hub only: `app` is docker.io/library/app, which
# comes from the mirror (this VM has no network to reach Docker Hub).
t_docker_mirror() {
  local before; before=$(substitutions)
  local out; out=$(docker run --rm --network none app:amd64only /probe) || return 1
  expect "$out" "machine=x86_64" && [ "$(docker image inspect --format '{{.Architecture}}' app:amd64only)" = amd64 ] &&
    substituted_since "$before"
}
check docker-run-amd64-only-image-through-registry-mirrors t_docker_mirror ; elapsed

# BuildKit (inside dockerd) building for linux/amd64: its RUN steps run
# through binfmt_misc, the way `docker buildx build --platform` does.
t_buildkit_run() {
  rm -rf /tmp/bk && mkdir /tmp/bk
  printf 'FROM %s/app64:single\nRUN /probe > /probe.out && /bin/busybox uname -m >> /probe.out\n' $REGISTRY > /tmp/bk/Dockerfile
  DOCKER_BUILDKIT=1 docker build -q --network none --platform linux/amd64 -t bk-test /tmp/bk > /dev/null || return 1
  local out; out=$(docker run --rm --network none --platform linux/amd64 bk-test /bin/busybox cat /probe.out) || return 1
  expect "$out" "machine=x86_64" && expect "$out" "x86_64"
}
check buildkit-run-step-for-linux-amd64 t_buildkit_run ; elapsed

# ---- the installer image (binfmt/Dockerfile), as on a Docker host ---------

t_installer_image() {
  transit binfmt uninstall > /dev/null || return 1
  rm -rf /tmp/ctx && mkdir /tmp/ctx && cp /usr/local/bin/transit /tmp/ctx/transit
  DOCKER_BUILDKIT=1 docker build -q --build-arg TRANSIT_FROM=prebuilt -f $P/Dockerfile -t transit-binfmt /tmp/ctx > /dev/null ||
    return 1
  docker run --privileged --rm transit-binfmt || return 1
  local entry; entry=$(cat /proc/sys/fs/binfmt_misc/transit-x86_64) || return 1
  expect "$entry" "interpreter /usr/bin/transit" && expect "$entry" "flags: POCF" || return 1
  # F: the kernel holds the container's file; this VM has none there.
  [ ! -e /usr/bin/transit ] || { echo "/usr/bin/transit exists in the VM"; return 1; }
  local out; out=$($P/probe) || return 1
  expect "$out" "machine=x86_64" || return 1
  docker run --privileged --rm transit-binfmt status || { echo "status: Transit is not the handler"; return 1; }
  docker run --privileged --rm transit-binfmt uninstall || return 1
  [ ! -e /proc/sys/fs/binfmt_misc/transit-x86_64 ] || { echo "uninstall left the entry"; return 1; }
  transit binfmt install > /dev/null
}
check installer-image-docker-run-privileged t_installer_image ; elapsed

# ---- uninstall ------------------------------------------------------------

t_uninstall() {
  transit binfmt uninstall || return 1
  [ ! -e /proc/sys/fs/binfmt_misc/transit-x86_64 ] || return 1
  if $P/probe > /dev/null 2>&1; then echo "an x86_64 program still runs"; return 1; fi
}
check uninstall t_uninstall

# ---- the Debian package (cargo xtask deb) ---------------------------------

# After `uninstall` no x86_64 handler is left. This VM's init is not
# systemd, so postinst registers through `transit binfmt install`.
t_deb_install() {
  dpkg -i $P/transit.deb > /tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; return 1; }
  local entry; entry=$(cat /proc/sys/fs/binfmt_misc/transit-x86_64) || return 1
  expect "$entry" "enabled" && expect "$entry" "interpreter /usr/bin/transit" && expect "$entry" "flags: POCF" || return 1
  # The binfmt.d line systemd-binfmt would write at boot registers the same.
  grep -q '^:transit-x86_64:M:0:.*:/usr/bin/transit:POCF$' /usr/lib/binfmt.d/transit-x86_64.conf || return 1
  [ "$(/usr/bin/transit --version)" = "transit $(dpkg-query -W -f '${Version}' transit)" ] || return 1
  [ -e /usr/share/man/man1/transit.1.gz ] && [ -e /usr/lib/systemd/system/transit-mirror.service ] || return 1
  local out; out=$($P/probe) || return 1
  expect "$out" "machine=x86_64" && expect "$out" "exe=$P/probe"
}
check deb-install-registers t_deb_install

# t_registry removed every image: the amd64 one again, run by the packaged Transit.
t_deb_container() {
  make_image || return 1
  local out; out=$(podman run --rm --network none --arch amd64 localhost/app64 /probe) || return 1
  expect "$out" "machine=x86_64"
}
check deb-podman-run-arch-amd64 t_deb_container ; elapsed

t_deb_remove() {
  dpkg -r transit > /tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; return 1; }
  [ ! -e /proc/sys/fs/binfmt_misc/transit-x86_64 ] || { echo "dpkg -r left the entry"; return 1; }
  [ ! -e /usr/bin/transit ] && [ ! -e /usr/lib/binfmt.d/transit-x86_64.conf ] || { echo "dpkg -r left files"; return 1; }
  if $P/probe > /dev/null 2>&1; then echo "an x86_64 program still runs"; return 1; fi
}
check deb-remove-unregisters t_deb_remove

echo "guest tests: $FAILED failed"
[ "$FAILED" -eq 0 ]
