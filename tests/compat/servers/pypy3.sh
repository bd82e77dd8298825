#!/bin/sh
# PyPy (tracing JIT): hot loops over a user class with __slots__ and
# operator overloading, dicts, json, hashlib, re, generators, an exception,
# four threads under a lock.
pypy3 - <<'PY'
import json, hashlib, re
class V:
    __slots__ = ("x", "y")
    def __init__(s, x, y): s.x = x; s.y = y
    def __add__(s, o): return V(s.x + o.x, s.y * o.y % 1000003)
acc = V(0, 1)
for i in range(1, 400000):
    acc = acc + V(i % 97, i % 89 + 1)
print(acc.x, acc.y)
d = {}
for i in range(50000):
    d[str(i)] = i * i
print(sum(d.values()), hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16])
print(len(re.findall(r"\d+7", ",".join(map(str, range(30000))))))
def gen(n):
    for i in range(n):
        yield i * 0.5
print(sum(gen(300000)), repr(sum(x * 1.1 for x in range(100000))))
try:
    [][1]
except IndexError as e:
    print("ie", e)
import threading
tot = [0]; lk = threading.Lock()
def w(k):
    s = sum(j % (k + 2) for j in range(50000))
    with lk: tot[0] += s
ts = [threading.Thread(target=w, args=(k,)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(tot[0])
PY
