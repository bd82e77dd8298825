# Sourced by the bench wrappers (v3/, jit/): splits their arguments into
# the shared harness's options (`options`, with the values of those that
# take one) and workload names (`workloads`).
split_harness_args() {
    workloads=()
    options=()
    local arg
    for arg in "$@"; do
        case $arg in
            -*|*=*) options+=("$arg") ;;
            *) if [[ ${#options[@]} -gt 0 && ${options[-1]} =~ ^--(emulator|json|markdown|size|cpu|count-runs|time-runs|plugin-mode|qemu-aarch64|cache)$ ]]; then
                   options+=("$arg")
               else
                   workloads+=("$arg")
               fi ;;
        esac
    done
}
