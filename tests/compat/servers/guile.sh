#!/bin/sh
# Guile 3.0 (its lightening JIT on x86_64): recursion, hash tables, bignums,
# a caught exception, par-map over its thread pool, call/cc, GC.
f=$W/guile_$$.scm
cat > $f <<'SCM'
(use-modules (srfi srfi-1) (ice-9 hash-table) (ice-9 threads) (ice-9 format))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(display (fib 22)) (newline)
(define h (make-hash-table))
(do ((i 0 (+ i 1))) ((= i 20000)) (hash-set! h i (* i i)))
(display (hash-ref h 1999)) (newline)
(display (fold + 0 (iota 100000))) (newline)
(display (expt 7 77)) (newline)
(format #t "~,6f~%" (sin 1.0))
(display (catch 'numerical-overflow (lambda () (/ 1 0)) (lambda (k . a) "div0"))) (newline)
(display (apply + (par-map (lambda (k) (fold + 0 (map (lambda (j) (modulo j (+ k 2))) (iota 20000)))) '(0 1 2 3)))) (newline)
(display (call-with-current-continuation (lambda (k) (for-each (lambda (x) (if (> x 2) (k x))) '(1 2 3 4)) 'none))) (newline)
(gc)
(display (length (map (lambda (i) (make-string 100 #\a)) (iota 10000)))) (newline)
SCM
guile --no-auto-compile $f
echo "guile exit $?"
rm -f $f
