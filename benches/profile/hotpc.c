/* A QEMU TCG plugin (API v1, QEMU 7.2) that attributes the aarch64
 * instructions a process executes to the translation blocks that executed
 * them, keyed by guest virtual address: run Transit under qemu-aarch64
 * with it, and `profile.sh` names the Transit functions (and the share in
 * generated code) that cost the most. Counts are per block start, like
 * ../shared/bench's counting plugin.
 *
 * Output (to the file named by the plugin argument `out=PATH`, default
 * hotpc.txt): one line per block, "ADDRESS COUNT", unsorted. With the
 * argument `disas=on`, each block's line is followed by its instructions'
 * disassembly, one per line, indented by a tab (`state_traffic.py`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                                 enum qemu_plugin_cb_flags flags, void *userdata);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
struct qemu_plugin_insn;
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

/* One record per translation of a block (a block translated twice gets
 * two; the report adds them up by address). */
struct block {
    uint64_t vaddr;
    uint64_t insns;
    uint64_t count;
    /* With disas=on: the instructions, newline-separated. */
    char *disas;
    struct block *next;
};
static struct block *blocks;
static char out_path[4096] = "hotpc.txt";
static int with_disas;

/* The block's instructions, each line "\tTEXT\n". */
static char *disassemble(struct qemu_plugin_tb *tb, size_t n) {
    size_t len = 0, cap = 256;
    char *text = malloc(cap);
    if (!text) return NULL;
    text[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char *line = qemu_plugin_insn_disas(qemu_plugin_tb_get_insn(tb, i));
        size_t need = len + strlen(line ? line : "?") + 3;
        if (need > cap) {
            while (need > cap) cap *= 2;
            char *bigger = realloc(text, cap);
            if (!bigger) break;
            text = bigger;
        }
        len += (size_t)sprintf(text + len, "\t%s\n", line ? line : "?");
        free(line);
    }
    return text;
}

static void on_exec(unsigned int vcpu, void *udata) {
    (void)vcpu;
    struct block *b = udata;
    __atomic_fetch_add(&b->count, b->insns, __ATOMIC_RELAXED);
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    struct block *b = calloc(1, sizeof *b);
    if (!b) return;
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->insns = qemu_plugin_tb_n_insns(tb);
    if (with_disas) b->disas = disassemble(tb, b->insns);
    b->next = __atomic_load_n(&blocks, __ATOMIC_ACQUIRE);
    while (!__atomic_compare_exchange_n(&blocks, &b->next, b, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void write_report(qemu_plugin_id_t id, void *udata) {
    (void)id;
    (void)udata;
    FILE *f = fopen(out_path, "w");
    if (!f) return;
    for (struct block *b = blocks; b; b = b->next)
        if (b->count) {
            fprintf(f, "%llx %llu\n", (unsigned long long)b->vaddr, (unsigned long long)b->count);
            if (b->disas) fputs(b->disas, f);
        }
    fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0) snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        else if (strcmp(argv[i], "disas=on") == 0) with_disas = 1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
    qemu_plugin_register_atexit_cb(id, write_report, NULL);
    return 0;
}
