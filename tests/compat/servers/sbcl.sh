#!/bin/sh
# SBCL (native compiler): recursion, hash tables, a GC over 200k structs
# (card marking / mprotect write barriers), bignums, floats, the runtime's
# own conditions (division by zero, type error), compile at run time, four
# threads under a mutex, and control stack exhaustion caught through the
# guard page (SIGSEGV).
f=$W/sbcl_$$.lisp
cat > $f <<'LISP'
(defstruct pt x y)
(defun fib (n) (declare (fixnum n)) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(format t "~a~%" (fib 24))
(let ((h (make-hash-table :test 'equal)))
  (dotimes (i 20000) (setf (gethash (format nil "k~a" i) h) (* i i)))
  (format t "~a ~a~%" (hash-table-count h) (gethash "k1999" h)))
;; allocate lots: exercise the GC (write barriers via mprotect/SIGSEGV)
(defvar *keep* (make-array 1000))
(dotimes (r 200)
  (dotimes (i 1000)
    (setf (aref *keep* i) (make-pt :x (list i r) :y (make-string 50 :initial-element #\a)))))
(sb-ext:gc :full t)
(format t "~a~%" (reduce #'+ (map 'list (lambda (p) (car (pt-x p))) *keep*)))
(format t "~a~%" (expt 3 200))
(format t "~,6f ~a~%" (sin 1d0) (/ 1 3))
(format t "~a~%" (handler-case (/ 1 0) (division-by-zero () "div0")))
(format t "~a~%" (handler-case (car (the list (eval '(quote 5)))) (type-error () "type-error")))
(format t "~a~%" (handler-case (funcall (compile nil '(lambda (a) (declare (optimize (safety 0))) (aref (the simple-vector a) 0))) (vector 7)) (error () "err")))
;; threads
(let* ((lock (sb-thread:make-mutex)) (tot 0)
       (ts (loop for k below 4 collect
                 (let ((k k)) (sb-thread:make-thread
                  (lambda () (let ((s 0)) (dotimes (j 100000) (incf s (mod j (+ k 2))))
                               (sb-thread:with-mutex (lock) (incf tot s)))))))))
  (mapc #'sb-thread:join-thread ts)
  (format t "~a~%" tot))
;; stack exhaustion is handled via guard page
(format t "~a~%" (handler-case (labels ((f (n) (1+ (f n)))) (f 0)) (storage-condition () "stack-exhausted")))
LISP
sbcl --noinform --non-interactive --no-sysinit --no-userinit --load $f
echo "sbcl exit $?"
rm -f $f
