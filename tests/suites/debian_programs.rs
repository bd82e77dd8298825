//! Real Debian amd64 programs (bash, coreutils, grep, sed, awk, find, tar,
//! gzip, xz, perl, python3 and numpy, sqlite3) and a static Go program (tests/programs/go/)
//! run natively and under Transit on inputs this suite generates; stdout,
//! stderr and the exit status must be identical.
//! These programs are dynamically linked against the host's own libraries,
//! so the suite needs an x86_64 Debian host (the host CPU is the oracle).
//! How a run is compared, and the process log each is checked against:
//! `transit_tests::host_programs`.
//!
//! One test per program; each lists all its mismatching runs (the command,
//! and the first differing lines) before failing.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use transit_tests::host_programs::{Comparison, Run};
use transit_tests::{host_runs_x86_64, work_dir};

const SUITE: Comparison = Comparison {
    work_dir: "debian-programs",
    // Native runs take well under a second; this only guards against a hang.
    native_timeout: Duration::from_secs(30),
    // python3 under Transit under qemu takes about 10 s on a loaded 2-core host.
    transit_timeout: Duration::from_secs(120),
};

/// A run whose `{in}` is the generated inputs directory.
fn run(program: &str, args: &[&str]) -> Run {
    Run::new(program, args).inputs(&inputs().dir)
}

/// Runs every invocation natively and under Transit; fails with every difference.
fn check(what: &str, runs: &[Run]) {
    SUITE.check(what, runs)
}

#[test]
fn bash_runs_a_script_with_pipelines_subshells_and_functions() {
    check(
        "bash",
        &[run("/usr/bin/bash", &["{in}/script.sh", "{in}"])
            // Every external command of BASH_SCRIPT, counted (as `strace -f
            // -e execve` counts the native run). Parts of pipelines and
            // command substitutions that are builtins fork bash without an
            // exec, so they leave no line.
            .translated(&[
                ("bash", 1),
                ("basename", 4),
                ("cat", 1),
                ("grep", 1),
                ("head", 2),
                ("ls", 1),
                ("paste", 1),
                ("seq", 1),
                ("sort", 3),
                ("tr", 3),
                ("uniq", 1),
                ("wc", 3),
            ])],
    );
}

#[test]
fn coreutils() {
    check(
        "coreutils",
        &[
            run("/usr/bin/sort", &["{in}/words.txt"]),
            run(
                "/usr/bin/sort",
                &["-t,", "-k4,4nr", "-k1,1n", "{in}/table.csv"],
            ),
            run("/usr/bin/sort", &["-n", "-u", "{in}/numbers.txt"]),
            run("/usr/bin/uniq", &["-c", "{in}/words.txt"]),
            run(
                "/usr/bin/wc",
                &["{in}/words.txt", "{in}/table.csv", "{in}/numbers.txt"],
            ),
            run("/usr/bin/wc", &["-c", "-w", "-l", "-m", "-L"]).stdin_file("words.txt"),
            run(
                "/usr/bin/sha256sum",
                &["{in}/words.txt", "{in}/table.csv", "{in}/tree/a/data.bin"],
            ),
            run("/usr/bin/tr", &["a-zA-Z", "n-za-mN-ZA-M"]).stdin_file("words.txt"),
            run("/usr/bin/tr", &["-s", "a-z", "-d", "0-9"]).stdin_file("words.txt"),
            run("/usr/bin/seq", &["1", "7", "1000"]),
            run("/usr/bin/seq", &["-w", "-s,", "0.5", "0.25", "12"]),
            run("/usr/bin/date", &["-u", "-d", "@1700000000"]),
            run(
                "/usr/bin/date",
                &[
                    "-u",
                    "-d",
                    "@1700000000",
                    "+%Y-%m-%d %H:%M:%S %A %j %U %s %:z",
                ],
            ),
            run("/usr/bin/head", &["-n", "12", "{in}/words.txt"]),
            run("/usr/bin/head", &["-c", "200", "{in}/table.csv"]),
            run("/usr/bin/cut", &["-d,", "-f2,4", "{in}/table.csv"]),
            run("/usr/bin/cut", &["-c", "2-5"]).stdin_file("words.txt"),
            run(
                "/usr/bin/cat",
                &["-n", "{in}/numbers.txt", "-", "{in}/table.csv"],
            )
            .stdin(b"from stdin\n"),
            // An error: the message on stderr and the status must match.
            run("/usr/bin/cat", &["{in}/words.txt", "{in}/missing.txt"]),
        ],
    );
}

#[test]
fn grep() {
    check(
        "grep",
        &[
            run(
                "/usr/bin/grep",
                &["-E", "^[a-z]+[0-9]{2,}$", "{in}/words.txt"],
            ),
            run(
                "/usr/bin/grep",
                &["-c", "-E", "(alpha|echo) [a-z]+", "{in}/words.txt"],
            ),
            run(
                "/usr/bin/grep",
                &["-n", "-i", "-w", "KILO", "{in}/words.txt"],
            ),
            run(
                "/usr/bin/grep",
                &["-o", "-E", "[0-9]+\\.[0-9]5", "{in}/table.csv"],
            ),
            run(
                "/usr/bin/grep",
                &["-r", "-l", "-F", "november", "{in}/tree"],
            ),
            // No match: exit 1, nothing printed but the count.
            run("/usr/bin/grep", &["-c", "zulu", "{in}/words.txt"]),
        ],
    );
}

#[test]
fn sed() {
    check(
        "sed",
        &[
            run("/usr/bin/sed", &["-n", "5,20p;/^lima/p", "{in}/words.txt"]),
            run(
                "/usr/bin/sed",
                &[
                    "-E",
                    "s/([a-z]+)([0-9]+)/<\\2:\\1>/g; y/abc/ABC/",
                    "{in}/words.txt",
                ],
            ),
            run("/usr/bin/sed", &["-n", "1!G;h;$p", "{in}/numbers.txt"]),
            run(
                "/usr/bin/sed",
                &[
                    "-e",
                    "1d",
                    "-e",
                    "s/,/ | /g",
                    "-e",
                    "/Oslo/d",
                    "{in}/table.csv",
                ],
            ),
        ],
    );
}

#[test]
fn awk() {
    check(
        "awk",
        &[
            run(
                "/usr/bin/awk",
                &[
                    "-F,",
                    "NR > 1 { sum[$3] += $4; n[$3]++; if ($4 > max) { max = $4; who = $2 } }
                     END { for (c in sum) printf \"%-6s %10.2f %4d %9.4f\\n\", c, sum[c], n[c], sum[c] / n[c];
                           print \"max\", max, who, NR }",
                    "{in}/table.csv",
                ],
            ),
            run(
                "/usr/bin/awk",
                &["BEGIN { srand(42); for (i = 0; i < 5; i++) printf \"%.6f\\n\", rand();
                   print sqrt(2), exp(1), log(10), sin(1), cos(2), atan2(1, 1) * 4, 2 ^ 40, int(-3.7);
                   print substr(\"transit\", 2, 3), toupper(\"abc\"), length(\"abcd\"), index(\"hello\", \"ll\");
                   printf \"%x %o %e %g %5.1f%%\\n\", 255, 8, 12345.678, 0.0001234, 99.44;
                   s = \"a-b-c-d\"; n = split(s, parts, \"-\"); gsub(/[bd]/, \"X\", s); print n, parts[3], s }"],
            ),
            run("/usr/bin/awk", &["{ w += NF; c += length($0) + 1 } END { print NR, w, c }"])
                .stdin_file("words.txt"),
        ],
    );
}

#[test]
fn find() {
    let script = "cd {in}/tree && find . -type f -name '*.txt' | sort; \
                  find . -type d | sort; \
                  find . -type f -size +1k -printf '%p %s\\n' | sort; \
                  find . -path ./b -prune -o -type l -print | sort";
    check(
        "find",
        &[run("/usr/bin/bash", &["-c", script]).translated(&[
            ("bash", 1),
            ("find", 4),
            ("sort", 4),
        ])],
    );
}

#[test]
fn tar_gzip_xz_round_trips() {
    check(
        "tar, gzip, xz",
        &[
            run("/usr/bin/bash", &["{in}/archive.sh", "{in}"]).translated(&[
                ("bash", 1),
                ("cmp", 2),
                ("diff", 2),
                ("find", 2),
                // tar -c with -z or -J runs its compressor through `/bin/sh -c`
                // (and -x runs it directly); gunzip is a /bin/sh script, which
                // the log names by its interpreter.
                ("sh", 3),
                ("gzip", 4),
                ("mkdir", 1),
                ("sha256sum", 5),
                ("sort", 3),
                ("tar", 6),
                ("xargs", 2),
                ("xz", 4),
            ]),
        ],
    );
}

#[test]
fn sqlite3() {
    // The command-line shell on a database file it creates: DDL, inserts in
    // a transaction, an index, joins, aggregates, a CTE and a window function.
    const SQL: &str = "create table w(id integer primary key, word text, n int);
        begin; with recursive c(i) as (select 1 union all select i + 1 from c where i < 500)
        insert into w(word, n) select printf('w%03d', (i * 37) % 211), (i * 7919) % 1009 from c; commit;
        create index w_word on w(word);
        create table t(word text primary key, tag text);
        insert into t select distinct word, case when n % 2 then 'odd' else 'even' end from w where id % 3 = 0;
        select count(*), sum(n), min(word), max(word), avg(n) from w;
        select t.tag, count(*), sum(w.n) from w join t using (word) group by t.tag order by t.tag;
        select word, n, rank() over (order by n desc, word) from w order by n desc, word limit 5;
        select hex(zeroblob(2)), typeof(1.5), 7 / 2, 7 / 2.0, round(2.5), upper('ok');";
    check(
        "sqlite3",
        &[
            run("/usr/bin/sqlite3", &["-batch", "-bail", "data.db"]).stdin(SQL.as_bytes()),
            run("/usr/bin/sqlite3", &["data.db", "select 1 from missing_table;"]),
        ],
    );
}

#[test]
fn perl() {
    check(
        "perl",
        &[
            run(
                "/usr/bin/perl",
                &[
                    "-ne",
                    "chomp; $count{lc $1}++ while /([A-Za-z]+)/g; $sum += $1 while /(\\d+)/g;
                     END { printf \"%-10s %5d\\n\", $_, $count{$_}
                               for sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count;
                           printf \"sum=%d hex=%x oct=%o sci=%.4e frac=%.3f\\n\", $sum, $sum, $sum, $sum * 1.5, $sum / 7 }",
                    "{in}/words.txt",
                ],
            ),
            run(
                "/usr/bin/perl",
                &[
                    "-e",
                    "my @n = map { ($_ * 7919) % 1009 } 1 .. 50; my @s = sort { $a <=> $b } @n;
                     print join(',', @s[0 .. 9]), \"\\n\";
                     my %h = map { sprintf('k%03d', $_) => $_ ** 2 } @s; print scalar(keys %h), ' ', $h{k025} // 'none', \"\\n\";
                     (my $t = 'The quick brown fox') =~ s/(\\w+)/\\u\\L$1/g; print \"$t\\n\";
                     my @w = 'a1b22c333' =~ /(\\d+)/g; print \"@w\\n\";
                     printf \"%s %.10g %s\\n\", 10 / 3, 2 ** 0.5, join '', reverse split //, 'transit';
                     exit 7",
                ],
            ),
        ],
    );
}

#[test]
fn python3() {
    check(
        "python3",
        // Debian's python3, whatever PATH says (a pyenv shim would be another program).
        &[run("/usr/bin/python3", &["{in}/program.py", "{in}"])
            .translated(&[("python3", 1), ("echo", 1)])],
    );
}

/// Debian's numpy (python3-numpy): integer and float sums, a 64x64 matrix
/// product, sorting, and LAPACK's solve, inv, det and eigenvalues.
/// Debian 12's numpy requires SSE3 at import: it runs on the x86-64-v2 CPU.
#[test]
fn numpy() {
    // Without numpy both runs would fail the same way, and match.
    let numpy = Path::new("/usr/lib/python3/dist-packages/numpy/__init__.py");
    if host_runs_x86_64() && !numpy.is_file() {
        panic!(
            "{} is missing: `cargo xtask test` installs python3-numpy",
            numpy.display()
        );
    }
    check("numpy", &[run("/usr/bin/python3", &["{in}/numpy_program.py"])]);
}

#[test]
fn go_program() {
    if !host_runs_x86_64() {
        println!("go: skipped, the native reference needs an x86_64 host");
        return;
    }
    let binary = build_go("goroutines");
    check("go", &[run(&binary.to_string_lossy(), &[]).translated(&[("goroutines", 1), ("echo", 1)])]);
}

/// Builds tests/programs/go/NAME.go into a static amd64 executable.
fn build_go(name: &str) -> PathBuf {
    let source = transit_tests::workspace_root().join("tests/programs/go").join(format!("{name}.go"));
    let out_dir = work_dir("go");
    std::fs::create_dir_all(&out_dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let binary = out_dir.join(name);
    let status = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .env("CGO_ENABLED", "0")
        .env("GOARCH", "amd64")
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOPATH", out_dir.join("path"))
        .env("GO111MODULE", "off")
        .status()
        .unwrap_or_else(|e| panic!("cannot run `go build` (Debian package golang-go): {e}"));
    assert!(status.success(), "go build of {} failed", source.display());
    binary
}

/// The files every run reads, generated once per test process from a fixed
/// seed (the runs write only in their own directories).
struct Inputs {
    dir: PathBuf,
}

fn inputs() -> &'static Inputs {
    static INPUTS: OnceLock<Inputs> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let dir = work_dir("debian-programs").join("inputs");
        generate_inputs(&dir).unwrap_or_else(|e| panic!("cannot write {}: {e}", dir.display()));
        Inputs { dir }
    })
}

/// Words from a small vocabulary, so that sort, uniq and grep find repeats.
const VOCABULARY: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa",
];
const CITIES: &[&str] = &["Oslo", "Lima", "Quito", "Hanoi", "Accra", "Perth"];

/// xorshift64*: a fixed sequence, so every run of the suite sees the same files.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn word(&mut self) -> &'static str {
        VOCABULARY[self.below(VOCABULARY.len())]
    }
}

fn generate_inputs(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let tree = dir.join("tree");
    for sub in ["a/deep/er", "b", "c/empty"] {
        std::fs::create_dir_all(tree.join(sub))?;
    }
    let mut random = Random(0x7472_616e_7369_7421);

    // words.txt: one to three words a line, some capitalised, some with a
    // number glued on, and runs of repeated lines for uniq.
    let mut words = String::new();
    let mut lines = 0;
    while lines < 1500 {
        let mut line = String::new();
        for i in 0..1 + random.below(3) {
            if i > 0 {
                line.push(' ');
            }
            let word = random.word();
            match random.below(6) {
                0 => line.push_str(&capitalise(word)),
                1 => line.push_str(&format!("{word}{}", random.below(1000))),
                _ => line.push_str(word),
            }
        }
        for _ in 0..1 + random.below(2) * random.below(4) {
            words.push_str(&line);
            words.push('\n');
            lines += 1;
        }
    }
    std::fs::write(dir.join("words.txt"), &words)?;

    let mut table = String::from("id,name,city,amount\n");
    for id in 1..=400 {
        let cents = random.below(10_000_000);
        let city = CITIES[random.below(CITIES.len())];
        let name = random.word();
        table.push_str(&format!(
            "{id},{name},{city},{}.{:02}\n",
            cents / 100,
            cents % 100
        ));
    }
    std::fs::write(dir.join("table.csv"), &table)?;

    let numbers: String = (0..1000)
        .map(|_| format!("{}\n", random.below(20_001) as i64 - 10_000))
        .collect();
    std::fs::write(dir.join("numbers.txt"), &numbers)?;

    let binary: Vec<u8> = (0..3000).map(|_| random.next() as u8).collect();
    std::fs::write(tree.join("a/data.bin"), binary)?;
    std::fs::write(tree.join("readme.txt"), "A small tree for find and tar.\n")?;
    std::fs::write(tree.join("a/one.txt"), "november oscar papa\n")?;
    let first_lines: String = words
        .lines()
        .take(40)
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(tree.join("a/deep/er/bottom.txt"), first_lines)?;
    std::fs::write(tree.join("b/two.txt"), table.repeat(2))?;
    std::fs::write(tree.join("b/empty.txt"), "")?;
    std::fs::write(
        tree.join("c/notes.md"),
        "# notes\nnothing about november here\n",
    )?;
    std::fs::write(tree.join("c/words.txt"), &words)?;
    symlink("../a/one.txt", tree.join("c/link.txt"))?;
    symlink("../missing", tree.join("b/dangling"))?;

    std::fs::write(dir.join("script.sh"), BASH_SCRIPT)?;
    std::fs::write(dir.join("archive.sh"), ARCHIVE_SCRIPT)?;
    std::fs::write(dir.join("program.py"), PYTHON_PROGRAM)?;
    std::fs::write(dir.join("numpy_program.py"), NUMPY_PROGRAM)
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

/// `bash script.sh INPUTS`. The process counts in the bash test follow the
/// external commands here.
const BASH_SCRIPT: &str = r#"set -u
in=$1

count_lines() {
    wc -l < "$1"
}

total=0
for file in "$in/words.txt" "$in/numbers.txt"; do
    n=$(count_lines "$file")
    total=$((total + n))
    echo "$(basename "$file"): $n lines"
done
echo "total: $total"

tr 'A-Z' 'a-z' < "$in/words.txt" | tr -d '0-9' | sort | uniq -c | sort -k1,1nr -k2 | head -n 5

(cd "$in/tree" && echo "the subshell sees $(ls | wc -l) entries in $(basename "$PWD")")
echo "back in $(basename "$PWD")"

i=0
while [ "$i" -lt 5 ]; do
    i=$((i + 1))
    printf '%d squared is %d\n' "$i" $((i * i))
done
squares=$(for i in $(seq 1 10); do echo $((i * i)); done | paste -sd+)
echo "sum of squares: $squares = $((squares))"

words=( $(head -n 4 "$in/words.txt") )
echo "${#words[@]} words, the last is ${words[-1]}"
sorted=$( { echo pear; echo apple; echo fig; } | sort | tr '\n' ' ')
echo "sorted: $sorted"
echo "pipeline status $(false | true; echo $?), with pipefail $(set -o pipefail; false | true; echo $?)"
grep -c lima "$in/words.txt" | { read -r n; echo "lima is on $n lines"; }
cat <<EOF
here-document: total=$total, upper=${sorted^^}
EOF
exit 3
"#;

/// `bash archive.sh INPUTS`, in a fresh directory.
const ARCHIVE_SCRIPT: &str = r#"set -eu
in=$1

tar -cf a.tar -C "$in" tree
tar -tvf a.tar | sort -k6
sha256sum a.tar

gzip -9 -n -c a.tar > a.tar.gz
sha256sum a.tar.gz
gunzip -c a.tar.gz | cmp - a.tar && echo "gzip round trip ok"

xz -T2 -3 -c a.tar > a.tar.xz
sha256sum a.tar.xz
xz -d -c a.tar.xz | cmp - a.tar && echo "xz round trip ok"

mkdir gz xz
tar -czf b.tar.gz -C "$in" tree
tar -xzf b.tar.gz -C gz
tar -cJf b.tar.xz -C "$in" tree
tar -xJf b.tar.xz -C xz
for dir in gz xz; do
    diff -r --no-dereference "$in/tree" "$dir/tree" && echo "$dir: extracted tree is identical"
    (cd "$dir" && find tree -type f | sort | xargs sha256sum)
done
"#;

/// `python3 program.py INPUTS`: prints only after its threads have joined,
/// so its output does not depend on scheduling.
const PYTHON_PROGRAM: &str = r#"import csv, hashlib, json, re, sqlite3, subprocess, sys, threading, zlib

inputs = sys.argv[1]
with open(inputs + "/words.txt") as f:
    text = f.read()
with open(inputs + "/table.csv", newline="") as f:
    rows = list(csv.DictReader(f))

# re and json
counts = {}
for word in re.findall(r"[a-z]+", text.lower()):
    counts[word] = counts.get(word, 0) + 1
numbers = [int(n) for n in re.findall(r"\d+", text)]
summary = {"words": counts, "numbers": len(numbers), "largest": max(numbers), "mean": sum(numbers) / len(numbers)}
encoded = json.dumps(summary, sort_keys=True, indent=1)
print(encoded)
assert json.loads(encoded) == summary
print(re.sub(r"([a-z]+)(\d{3})", lambda m: m.group(2) + m.group(1).upper(), "lima123 kilo9 echo456"))

# hashlib and zlib
data = text.encode()
for name in ("md5", "sha1", "sha256", "sha512", "blake2b"):
    print(name, hashlib.new(name, data).hexdigest())
for level in (1, 6, 9):
    packed = zlib.compress(data, level)
    assert zlib.decompress(packed) == data
    print("zlib", level, len(packed), hex(zlib.crc32(packed)), zlib.adler32(data))

# threading: four threads add under one lock
lock = threading.Lock()
totals = {"cents": 0, "rows": 0}
def work(part):
    for row in rows[part::4]:
        cents = int(row["amount"].replace(".", ""))
        with lock:
            totals["cents"] += cents
            totals["rows"] += 1
threads = [threading.Thread(target=work, args=(part,)) for part in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("threads", totals)

# subprocess
echoed = subprocess.run(["echo", "hello", "from", "echo"], capture_output=True, check=True)
print("subprocess", echoed.returncode, echoed.stdout)

# sqlite3, in memory
db = sqlite3.connect(":memory:")
db.execute("create table sales (id integer primary key, name text, city text, amount real)")
db.executemany("insert into sales values (?, ?, ?, ?)",
               [(int(r["id"]), r["name"], r["city"], float(r["amount"])) for r in rows])
for row in db.execute("select city, count(*), round(sum(amount), 2), max(amount) from sales group by city order by city"):
    print("sqlite", row)
print("sqlite", db.execute("select name, amount from sales where amount > 90000 order by id limit 3").fetchall())
print("float", 1 / 3, 2 ** 0.5, 1e300 * 1e10, round(2.675, 2), f"{12345.6789:,.2f}")
sys.exit(5)
"#;

/// `python3 numpy_program.py`. numpy picks its loops by CPU feature (AVX-512
/// natively, SSE under Transit) and so does an optimised BLAS, and vectors of
/// other widths add in another order: floating-point results may differ in
/// the last bits. They are printed to 10 significant digits, after rounding
/// to 12 decimals so that a residue such as -6.9e-18 prints as 0.
const NUMPY_PROGRAM: &str = r#"import numpy as np

def show(name, values):
    values = np.round(np.asarray(values, dtype=float), 12) + 0.0
    print(name, np.array2string(values, separator=" ", formatter={"float_kind": lambda v: "%.10g" % v}))

a = np.arange(1, 100001, dtype=np.int64)
print("int sums", a.sum(), (a * a).sum(), a.cumsum()[-3:].tolist(), np.bitwise_xor.reduce(a))
f = np.linspace(0.0, 1.0, 10001)
show("float sums", [f.sum(), np.sqrt(f).sum(), np.exp(-f).mean(), np.sin(f).std()])

rng = np.random.default_rng(12345)
x = rng.standard_normal((64, 64))
y = rng.standard_normal((64, 64))
p = np.dot(x, y)
show("dot sum, trace, max", [p.sum(), p.trace(), np.abs(p).max()])
show("dot corner", p[:2, :4])
show("matmul row", (x @ y.T)[7, :4])

r = rng.integers(-10**6, 10**6, size=20000)
s = np.sort(r)
print("sort", s[:5].tolist(), s[-5:].tolist(), bool(np.all(np.diff(s) >= 0)), int(np.sum(s)))
u = rng.random(5000)
print("argsort", np.argsort(u, kind="stable")[:8].tolist())
show("sorted floats", np.sort(u)[::1000])

m = np.array([[4.0, 1.0, 2.0], [1.0, 5.0, 3.0], [2.0, 3.0, 6.0]])
b = np.array([1.0, 2.0, 3.0])
show("solve", np.linalg.solve(m, b))
show("inv", np.linalg.inv(m))
show("det", np.linalg.det(m))
show("eigh", np.linalg.eigh(m)[0])
# A non-symmetric matrix with real eigenvalues (1, 2, 3); their order from
# LAPACK is not specified, so they are sorted.
n = np.array([[2.0, 0.0, 0.0], [1.0, 3.0, 0.0], [4.0, 5.0, 1.0]])
show("eig", np.sort(np.linalg.eig(n)[0].real))
"#;
