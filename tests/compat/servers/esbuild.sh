#!/bin/sh
# esbuild (Go, from npm's @esbuild/linux-x64 package): bundle two
# TypeScript modules, minified (its checksum) and for node (run by node).
# npm installs it once, in $W, during the first (native) run of the case.
n=$W/esbuild-npm
if [ ! -x $n/node_modules/@esbuild/linux-x64/bin/esbuild ]; then
    mkdir -p $n && (cd $n && npm install --silent --no-audit --no-fund esbuild@0.24.0) > /dev/null 2>&1 || { echo "no esbuild"; exit 1; }
fi
e=$n/node_modules/@esbuild/linux-x64/bin/esbuild
d=$W/esbuild_$$
mkdir -p $d && cd $d || exit 1
cat > a.ts <<'TS'
import { b } from "./b";
interface P { x: number; y: number }
const ps: P[] = Array.from({ length: 5 }, (_, i) => ({ x: i, y: i * i }));
export const total = ps.reduce((s, p) => s + p.x * p.y, 0);
console.log(total, b(3));
TS
echo 'export const b = (n: number): string => "b".repeat(n);' > b.ts
$e a.ts --bundle --minify --format=esm --log-level=error | md5sum
$e a.ts --bundle --platform=node --log-level=error | node
echo "esbuild exit $?"
cd / && rm -rf $d
