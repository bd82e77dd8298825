// node workers_wasm.js: a compute loop for V8's optimising compiler,
// worker_threads, and a WebAssembly module written by hand. Exits with 3.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

function collatzSteps(limit) {
  let best = 0, bestN = 0;
  for (let n = 1; n < limit; n++) {
    let x = n, steps = 0;
    while (x !== 1) { x = (x & 1) ? 3 * x + 1 : x / 2; steps++; }
    if (steps > best) { best = steps; bestN = n; }
  }
  return [bestN, best];
}

function primesBelow(limit) {
  const sieve = new Uint8Array(limit);
  let count = 0;
  for (let i = 2; i < limit; i++) {
    if (sieve[i]) continue;
    count++;
    for (let j = i * i; j < limit; j += i) sieve[j] = 1;
  }
  return count;
}

if (!isMainThread) {
  const { from, to } = workerData;
  let sum = 0n;
  for (let i = from; i < to; i++) sum += BigInt(i) * BigInt(i);
  parentPort.postMessage({ from, sum: sum.toString(), primes: primesBelow(to) });
  return;
}

console.log('collatz', collatzSteps(300000).join(' '));
let f = 0;
for (let i = 1; i <= 2000000; i++) f += Math.sqrt(i) / i;
console.log('float loop', f.toFixed(9));
const words = [];
for (let i = 0; i < 50000; i++) words.push(((i * 7919) % 50021).toString(36));
words.sort();
const counts = new Map();
for (const w of words) counts.set(w.length, (counts.get(w.length) || 0) + 1);
console.log('strings', words[0], words[words.length - 1], JSON.stringify([...counts]));

// (module
//   (func (export "add") (param i32 i32) (result i32)
//     (i32.add (local.get 0) (local.get 1)))
//   (func (export "sum") (param $n i32) (result i64) (local $s i64)
//     (loop  ;; s += n * n, n -= 1, while n != 0
//       (local.set $s (i64.add (local.get $s)
//         (i64.mul (i64.extend_i32_u (local.get $n)) (i64.extend_i32_u (local.get $n)))))
//       (br_if 0 (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
//     (local.get $s)))
const wasm = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  // type section: (i32 i32) -> i32, (i32) -> i64
  0x01, 0x0c, 0x02,
  0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
  0x60, 0x01, 0x7f, 0x01, 0x7e,
  // function section: two functions, types 0 and 1
  0x03, 0x03, 0x02, 0x00, 0x01,
  // export section: "add" -> func 0, "sum" -> func 1
  0x07, 0x0d, 0x02,
  0x03, 0x61, 0x64, 0x64, 0x00, 0x00,
  0x03, 0x73, 0x75, 0x6d, 0x00, 0x01,
  // code section
  0x0a, 0x28, 0x02,
  // add: local.get 0, local.get 1, i32.add, end
  0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
  // sum: one i64 local; loop { local1 += i64.extend_i32_u(local0) * local0;
  //      local0 -= 1; br_if 0 (local0) } local1
  0x1e, 0x01, 0x01, 0x7e,
  0x03, 0x40,                   // loop (empty block type)
  0x20, 0x01,                   // local.get 1
  0x20, 0x00, 0xad,             // local.get 0, i64.extend_i32_u
  0x20, 0x00, 0xad, 0x7e,       // local.get 0, i64.extend_i32_u, i64.mul
  0x7c, 0x21, 0x01,             // i64.add, local.set 1
  0x20, 0x00, 0x41, 0x01, 0x6b, // local.get 0, i32.const 1, i32.sub
  0x22, 0x00,                   // local.tee 0
  0x0d, 0x00,                   // br_if 0
  0x0b,                         // end loop
  0x20, 0x01, 0x0b,             // local.get 1, end
]);

async function main() {
  const { instance } = await WebAssembly.instantiate(wasm);
  const { add, sum } = instance.exports;
  let acc = 0;
  for (let i = 0; i < 100000; i++) acc = add(acc, i) | 0;
  console.log('wasm add', add(2, 40), add(0x7fffffff, 1), acc);
  console.log('wasm sum of squares', sum(1000).toString(), sum(100000).toString());

  const ranges = [[1, 200000], [200000, 400000], [400000, 600000]];
  const results = await Promise.all(ranges.map(([from, to]) => new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: { from, to } });
    worker.once('message', resolve);
    worker.once('error', reject);
  })));
  for (const r of results) console.log('worker', r.from, r.sum, r.primes);
  process.exitCode = 3;
}
main().catch((e) => { console.error(e); process.exit(1); });
