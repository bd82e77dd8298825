#!/bin/sh
# OCaml 4.13: ocamlopt compiles a program (Map, variants, exceptions,
# Array.sort, Hashtbl, a full major GC, Digest) and runs it; the bytecode
# toplevel runs a script. With "stack", the program also recovers from a
# Stack_overflow (SIGSEGV on the main stack, handled on sigaltstack) and
# then exits normally.
d=$W/ocaml_$$
mkdir -p $d && cd $d || exit 1
cat > m.ml <<'ML'
module SM = Map.Make (String)
type shape = Circle of float | Rect of float * float
let area = function Circle r -> 3.14159265358979 *. r *. r | Rect (a, b) -> a *. b
let rec fib n = if n < 2 then n else fib (n - 1) + fib (n - 2)
let () =
  let m = ref SM.empty in
  for i = 1 to 20000 do m := SM.add (string_of_int i) (i * i) !m done;
  Printf.printf "%d %d\n" (SM.cardinal !m) (SM.find "1999" !m);
  Printf.printf "%d\n" (fib 25);
  Printf.printf "%.6f\n" (List.fold_left ( +. ) 0. (List.map area [ Circle 1.5; Rect (2., 3.25) ]));
  (try ignore (1 / int_of_string "0") with Division_by_zero -> print_endline "div0");
  (try ignore (List.nth [] 3) with Failure s | Invalid_argument s -> print_endline s);
  let a = Array.init 100000 (fun i -> (i * 7919) mod 100003) in
  Array.sort compare a;
  Printf.printf "%d %d\n" a.(0) a.(99999);
  let h = Hashtbl.create 16 in
  for i = 0 to 50000 do Hashtbl.replace h (i mod 1000) i done;
  Printf.printf "%d\n" (Hashtbl.length h);
  Gc.full_major ();
  Printf.printf "%s\n" (Digest.to_hex (Digest.string "abc"))
ML
if [ "${1-}" = stack ]; then
    cat >> m.ml <<'ML'
let rec deep n = if n = 0 then 0 else 1 + deep (n - 1)
let () = try Printf.printf "%d\n" (deep 100_000_000) with Stack_overflow -> print_endline "stack overflow"
ML
fi
ocamlopt m.ml -o m && ./m
echo "ocamlopt exit $?"
echo 'let () = List.iter (fun x -> Printf.printf "%d " (x * x)) [1; 2; 3]; print_newline ()' > t.ml
ocaml t.ml
echo "ocaml exit $?"
cd / && rm -rf $d
