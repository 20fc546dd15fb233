%% W3 ring: N processes in a ring pass a token M times around (N*M hops),
%% with the same exit rule as the ward app.
-module(w3_ring).
-export([main/1]).

main(Args) ->
    N = bench_util:arg(Args, 1, 1000),
    M = bench_util:arg(Args, 2, 1000),
    Me = self(),
    Pids = [spawn(fun() -> node_init(Me, N) end) || _ <- lists:seq(1, N)],
    Next = tl(Pids) ++ [hd(Pids)],
    [P ! {next, Q} || {P, Q} <- lists:zip(Pids, Next)],
    Hops = N * M,
    T0 = bench_util:now_ns(),
    hd(Pids) ! {t, Hops},
    receive done -> ok end,
    bench_util:report(Hops, bench_util:now_ns() - T0).

node_init(Parent, N) ->
    receive {next, Next} -> node(Parent, N, Next) end.

node(Parent, N, Next) ->
    receive
        {t, 0} -> Parent ! done;
        {t, V} ->
            Next ! {t, V - 1},
            if V < N -> ok; true -> node(Parent, N, Next) end
    end.
