#!/bin/sh
# SWI-Prolog: naive reverse, 6-queens by permutation search, bignums, a
# caught evaluation error, atoms, format, a second Prolog thread.
f=$W/swipl_$$.pl
cat > $f <<'PL'
:- initialization(main, main).
nrev([], []).
nrev([H|T], R) :- nrev(T, RT), append(RT, [H], R).
queens(N, Qs) :- numlist(1, N, Ns), permutation(Ns, Qs), safe(Qs).
safe([]). safe([Q|Qs]) :- no_attack(Q, Qs, 1), safe(Qs).
no_attack(_, [], _). no_attack(Q, [Q1|Qs], D) :- Q =\= Q1 + D, Q =\= Q1 - D, D1 is D + 1, no_attack(Q, Qs, D1).
main :-
    numlist(1, 300, L), nrev(L, R), R = [F|_], writeln(F),
    findall(Q, queens(6, Q), All), length(All, N), writeln(N),
    X is 2 ** 100, writeln(X),
    catch(_ is 1 / 0, error(E, _), (print(E), nl)),
    atom_codes(A, "hello"), upcase_atom(A, U), writeln(U),
    format("~4f~n", [sin(1.0)]),
    thread_create((aggregate_all(sum(I), between(1, 100000, I), S), writeln(S)), T, []), thread_join(T, _).
PL
swipl $f
echo "swipl exit $?"
rm -f $f
