#!/bin/sh
# PHP 8.2 with opcache's tracing JIT enabled for the CLI (DynASM x86-64
# code): hot numeric loops, recursion, arrays, an exception, and the JIT's
# own status. With "off": opcache (shared memory, compiled scripts) without
# the JIT, as php-fpm runs by default.
f=$W/php_jit_$$.php
cat > $f <<'PHP'
<?php
function fib($n) { return $n < 2 ? $n : fib($n - 1) + fib($n - 2); }
$s = 0.0; for ($i = 1; $i < 2000000; $i++) { $s += sqrt($i) * ($i % 7); }
printf("%.4f %d\n", $s, fib(22));
$a = []; for ($i = 0; $i < 50000; $i++) { $a["k$i"] = $i * $i; }
echo array_sum($a), " ", md5(json_encode(array_slice($a, 0, 100))), "\n";
try { intdiv(1, 0); } catch (DivisionByZeroError $e) { echo "div0\n"; }
$st = opcache_get_status(false); echo $st["jit"]["enabled"] ? "jit on" : "jit off", " ", $st["jit"]["on"] ? "active" : "inactive", "\n";
PHP
if [ "${1-}" = off ]; then
    php -d opcache.enable_cli=1 $f
else
    php -d opcache.enable_cli=1 -d opcache.jit=tracing -d opcache.jit_buffer_size=32M $f
fi
echo "php exit $?"
rm -f $f
