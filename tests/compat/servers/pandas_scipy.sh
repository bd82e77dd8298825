#!/bin/sh
# pandas and SciPy from PyPI's manylinux wheels (their own OpenBLAS, which
# picks its kernels by CPUID at run time): groupby, pivot, dates, merge,
# CSV/JSON; LAPACK solve/eigvalsh/svd, BFGS, quad, a sparse solve, FFT,
# special functions (not scipy.stats: importing it doubles the case's time
# under Transit). The virtual environment is made once, in $W, by the
# first (native) run of the case: the Transit run finds it there.
v=$W/pydata-venv
if [ ! -x $v/bin/python ]; then
    { python3 -m venv $v && $v/bin/pip install -q numpy==2.4.6 pandas==3.1.1 scipy==1.17.1; } > /dev/null 2>&1 || { rm -rf $v; echo "no venv"; exit 1; }
fi
$v/bin/python - <<'PY'
import numpy as np, pandas as pd, scipy
from scipy import linalg, optimize, integrate, sparse, fft, special
from scipy.sparse.linalg import spsolve
print(np.__version__, pd.__version__, scipy.__version__)
df = pd.DataFrame({"g": ["a", "b", "c"] * 2000, "v": np.arange(6000) % 97, "w": np.linspace(0, 1, 6000)})
print(df.groupby("g").agg({"v": "sum", "w": "mean"}).round(6).to_string())
print(df.pivot_table(index="g", values="v", aggfunc="max").to_dict())
s = pd.Series(pd.date_range("2020-01-01", periods=400, freq="D"))
print(s.dt.month.value_counts().sort_index().tolist()[:4])
j = df.merge(pd.DataFrame({"g": ["a", "b"], "x": [1.5, 2.5]}), on="g")
print(len(j), round(j.x.sum(), 3))
print(pd.read_csv(__import__("io").StringIO("a,b\n1,x\n2,y\n")).to_json())
a = np.array([[4.0, 1, 0], [1, 3, 1], [0, 1, 2]])
print(np.round(linalg.solve(a, [1, 2, 3]), 10).tolist(), np.round(linalg.eigvalsh(a), 10).tolist())
print(np.round(linalg.svdvals(np.arange(12.0).reshape(3, 4)), 8).tolist())
r = optimize.minimize(lambda x: (x[0] - 1) ** 2 + (x[1] + 2) ** 2 + x[0] * x[1] * 0.1, [0, 0], method="BFGS")
print(np.round(r.x, 5).tolist())
print(round(integrate.quad(np.sin, 0, np.pi)[0], 10))
m = sparse.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(200, 200), format="csc")
print(round(float(spsolve(m, np.ones(200)).sum()), 6))
print(np.round(np.abs(fft.rfft(np.sin(np.arange(64) * 0.5))), 6)[:4].tolist())
print(round(float(special.ndtr(1.96)), 10), round(float(special.gamma(4.5)), 10))
PY
echo "python exit $?"
