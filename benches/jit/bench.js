// bench.js N - a small Node.js compute workload for the JIT bench:
// objects and classes (polymorphic calls), closures, arrays and typed
// arrays, Map/Set, sorting with a comparator, string building, JSON and
// regexes.  Deterministic: its own PRNG, no time, no I/O but the final
// checksums on stdout.  Enough loop iterations that V8's optimizing tiers
// (Sparkplug, TurboFan) take over the hot functions.
'use strict';

const n = parseInt(process.argv[2] || '20000', 10);

let seed = 12345;
function rand() {                       // 31-bit LCG, exact in doubles;
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536);    // its high 15 bits
}

// --- classes, polymorphic dispatch ----------------------------------------
class Shape { constructor(id) { this.id = id; } }
class Rect extends Shape {
    constructor(id, w, h) { super(id); this.w = w; this.h = h; }
    area() { return this.w * this.h; }
    perimeter() { return 2 * (this.w + this.h); }
}
class Square extends Rect {
    constructor(id, s) { super(id, s, s); }
}
class Circle extends Shape {
    constructor(id, r) { super(id); this.r = r; }
    area() { return Math.floor(355 * this.r * this.r / 113); }
    perimeter() { return Math.floor(710 * this.r / 113); }
}
class Tri extends Shape {
    constructor(id, a, b, c) { super(id); this.a = a; this.b = b; this.c = c; }
    area() { return (this.a * this.b) >> 1; }
    perimeter() { return this.a + this.b + this.c; }
}

function makeShapes(count) {
    const out = [];
    for (let i = 0; i < count; i++) {
        const k = rand() % 4, x = 1 + rand() % 50, y = 1 + rand() % 50;
        if (k === 0) out.push(new Rect(i, x, y));
        else if (k === 1) out.push(new Square(i, x));
        else if (k === 2) out.push(new Circle(i, x));
        else out.push(new Tri(i, x, y, 1 + ((x + y) >> 1)));
    }
    return out;
}

// --- closures and higher-order functions -----------------------------------
function counterFactory() {
    const counters = [];
    for (let i = 0; i < 16; i++) {
        let c = i;
        counters.push({ inc: (d) => (c = (c + d) | 0), get: () => c });
    }
    return counters;
}

function compose(...fs) { return (x) => fs.reduceRight((acc, f) => f(acc), x); }

// --- the work ---------------------------------------------------------------
function shapes(count) {
    const list = makeShapes(count);
    let total = 0;
    for (let round = 0; round < 4; round++) {
        for (const s of list) total = (total + s.area() + s.perimeter()) % 1000000007;
    }
    list.sort((a, b) => (a.area() - b.area()) || (a.id - b.id));
    const byKind = new Map();
    for (const s of list) {
        const k = s.constructor.name;
        byKind.set(k, (byKind.get(k) || 0) + s.perimeter());
    }
    const kinds = [...byKind.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return 'shapes ' + total + ' first=' + list[0].id + ' last=' + list[list.length - 1].id +
        ' ' + kinds.map(([k, v]) => k + ':' + v).join(',');
}

function closures(count) {
    const cs = counterFactory();
    const f = compose((x) => x + 1, (x) => x * 3, (x) => x ^ 0x55);
    let acc = 0;
    for (let i = 0; i < count * 8; i++) {
        const c = cs[i & 15];
        c.inc(f(i & 1023));
        acc = (acc + c.get()) | 0;
    }
    return 'closures ' + acc + ' ' + cs.map((c) => c.get()).join(',').length;
}

function arrays(count) {
    const a = new Int32Array(count);
    for (let i = 0; i < count; i++) a[i] = (rand() * 32768 + rand()) % 100000;
    const f = new Float64Array(count);
    for (let i = 0; i < count; i++) f[i] = a[i] / 7 + Math.sqrt(a[i]);
    let fs = 0;
    for (let i = 0; i < count; i++) fs += f[i];
    const plain = Array.from(a, (x) => x * 2);
    const evens = plain.filter((x) => x % 3 === 0).map((x) => x >> 1);
    const sum = evens.reduce((s, x) => s + x, 0);
    const sorted = plain.slice().sort((x, y) => x - y);
    const uniq = new Set(sorted);
    // a small sieve and a prefix sum
    const lim = count * 4, sieve = new Uint8Array(lim + 1);
    let primes = 0;
    for (let i = 2; i <= lim; i++) {
        if (!sieve[i]) { primes++; for (let j = i * i; j <= lim; j += i) sieve[j] = 1; }
    }
    const pre = new Array(count);
    let run = 0;
    for (let i = 0; i < count; i++) { run = (run + sorted[i]) % 1000003; pre[i] = run; }
    return 'arrays ' + sum + ' ' + fs.toFixed(3) + ' ' + uniq.size + ' ' + primes + ' ' +
        pre[count - 1] + ' ' + sorted[count >> 1];
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta',
               'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron', 'pi'];

function strings(count) {
    const parts = [];
    for (let i = 0; i < count; i++) {
        const w = WORDS[rand() & 15], v = rand() % 1000;
        parts.push(`${w}-${v.toString(16)}:${(v * 31) % 97}`);
    }
    const text = parts.join(' ');
    const freq = Object.create(null);
    for (const m of text.matchAll(/([a-z]+)-([0-9a-f]+)/g)) {
        freq[m[1]] = (freq[m[1]] || 0) + parseInt(m[2], 16);
    }
    let h = 0;
    const upper = text.replace(/[aeiou]/g, (c) => c.toUpperCase());
    for (let i = 0; i < upper.length; i++) h = (Math.imul(h, 31) + upper.charCodeAt(i)) | 0;
    let sb = '';
    for (let i = 0; i < count; i++) sb += String.fromCharCode(97 + (i % 26));
    const rev = sb.split('').reverse().join('');
    const keys = Object.keys(freq).sort();
    return 'strings ' + text.length + ' ' + h + ' ' + rev.slice(0, 8) + ' ' +
        keys.map((k) => k + '=' + freq[k]).join(',');
}

function json(count) {
    const recs = [];
    for (let i = 0; i < count / 4; i++) {
        recs.push({ id: i, name: WORDS[i & 15] + i, tags: [WORDS[(i * 7) & 15], WORDS[(i * 3) & 15]],
                    score: ((rand() * 32768 + rand()) % 10000) / 100, nested: { a: i & 7, b: [i, i + 1] } });
    }
    const s = JSON.stringify(recs);
    const back = JSON.parse(s);
    let score = 0, tags = 0;
    for (const r of back) { score += r.score; tags += r.tags.length + r.nested.b[1]; }
    return 'json ' + s.length + ' ' + score.toFixed(2) + ' ' + tags;
}

const out = [shapes(n), closures(n), arrays(n), strings(n), json(n)];
console.log(out.join('\n'));
