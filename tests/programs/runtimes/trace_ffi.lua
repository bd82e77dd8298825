-- luajit trace_ffi.lua: a loop hot enough for the trace compiler, and the FFI
-- (libc functions through ffi.cdef, a Lua callback called by qsort).
local ffi = require("ffi")
ffi.cdef[[
size_t strlen(const char *s);
int snprintf(char *buf, size_t n, const char *fmt, ...);
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
]]

local sum, x = 0, 12345
for i = 1, 2000000 do
  x = (x * 1103515245 + 12345) % 2147483648
  sum = (sum + x % 1000) % 1000000007
end
print("loop", sum, x)

local fsum = 0.0
for i = 1, 500000 do fsum = fsum + math.sqrt(i) * 0.5 end
print("float loop", string.format("%.6f", fsum))

local t = {}
for i = 1, 100000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
print("table.sort", t[1], t[50000], t[100000])

print("strlen", ffi.C.strlen("hello, transit"))
local buf = ffi.new("char[64]")
ffi.C.snprintf(buf, 64, "%d-%s-%.3f", ffi.new("int", 42), "ffi", 3.14159)
print("snprintf", ffi.string(buf))

local n = 1000
local arr = ffi.new("int[?]", n)
for i = 0, n - 1 do arr[i] = (i * 7919) % 1009 - 500 end
local calls = 0
local cmp = ffi.cast("int (*)(const void *, const void *)", function(a, b)
  calls = calls + 1
  local x, y = ffi.cast("const int *", a)[0], ffi.cast("const int *", b)[0]
  return x < y and -1 or (x > y and 1 or 0)
end)
ffi.C.qsort(arr, n, ffi.sizeof("int"), cmp)
cmp:free()
local sorted = true
for i = 1, n - 1 do if arr[i - 1] > arr[i] then sorted = false end end
print("qsort", sorted, arr[0], arr[n - 1], calls > 0)

local point = ffi.typeof("struct { double x, y; }")
local d = 0
for i = 1, 200000 do local p = point(i, i + 1); d = d + p.y - p.x end
print("cdata structs", d)
print("jit on", (jit.status()))
