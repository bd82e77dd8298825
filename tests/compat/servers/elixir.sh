#!/bin/sh
# Elixir on the BEAM (JIT): maps, Tasks on the schedulers, a comprehension,
# a rescued exception, :crypto (OpenSSL through a NIF), a struct.
f=$W/elixir_$$.exs
cat > $f <<'EXS'
m = Map.new(1..20000, fn i -> {Integer.to_string(i), i*i} end)
IO.puts(Enum.sum(Map.values(m)))
t = Enum.map(0..3, fn k -> Task.async(fn -> Enum.reduce(0..100000, 0, fn j, a -> a + rem(j, k+2) end) end) end)
IO.puts(Enum.sum(Enum.map(t, &Task.await/1)))
IO.inspect(Enum.take(Enum.sort(for x <- 1..5000, do: rem(x*7919, 1009)), 5))
IO.puts(try do raise ArgumentError, "bad" rescue e in ArgumentError -> e.message end)
IO.puts(:io_lib.format("~.6f", [:math.sin(1.0)]))
IO.puts(String.upcase("héllo") <> " " <> Base.encode16(:crypto.hash(:sha256, "abc")))
defmodule S do
  defstruct a: 1, b: [2]
  def go(%S{a: a, b: b}), do: a + length(b)
end
IO.puts(S.go(struct(S, b: [1, 2, 3])))
EXS
elixir $f
echo "elixir exit $?"
rm -f $f
