#!/bin/sh
# Racket CS (Chez Scheme's native-code compiler, code generated at run
# time): recursion, hash tables, bignums, a caught exception, green threads,
# sort, escape continuations, GC.
f=$W/racket_$$.rkt
cat > $f <<'RKT'
#lang racket/base
(require racket/list racket/string racket/future racket/place)
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(displayln (fib 25))
(define h (make-hash))
(for ([i 20000]) (hash-set! h (number->string i) (* i i)))
(displayln (hash-ref h "1999"))
(displayln (expt 3 100))
(displayln (real->decimal-string (sin 1.0) 6))
(displayln (with-handlers ([exn:fail:contract:divide-by-zero? (lambda (e) "div0")]) (/ 1 0)))
(define ts (for/list ([k 4]) (thread (lambda () (for/sum ([j 100000]) (modulo j (+ k 2)))))))
(for-each thread-wait ts)
(displayln (string-join (map number->string (take (sort (for/list ([x 5000]) (modulo (* x 7919) 1009)) <) 5)) ","))
(displayln (let/ec k (for ([x '(1 2 3 4)]) (when (> x 2) (k x))) 'none))
(collect-garbage)
(displayln (length (for/list ([i 10000]) (make-string 100 #\a))))
RKT
racket $f
echo "racket exit $?"
rm -f $f
