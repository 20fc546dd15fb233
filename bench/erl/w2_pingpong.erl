%% W2 ping-pong: N round trips between two processes. Payload `int` (the
%% counter) or `table` (a small map, like the Lua table of the ward app).
%% With a third argument, a node name, the ponger runs on that node
%% (distributed Erlang: the counterpart of "across two hosts").
-module(w2_pingpong).
-export([main/1, pong/2]).

main(Args) ->
    N = bench_util:arg(Args, 1, 1000000),
    Kind = bench_util:arg(Args, 2, int),
    Me = self(),
    Pong = case bench_util:arg(Args, 3, local) of
               local -> spawn(fun() -> pong(Me, N) end);
               Node -> bench_util:connect(Node),
                       spawn(Node, ?MODULE, pong, [Me, N])
           end,
    T0 = bench_util:now_ns(),
    ping(Pong, Kind, 1, N),
    bench_util:report(N, bench_util:now_ns() - T0).

ping(_, _, I, N) when I > N -> ok;
ping(Pong, int, I, N) ->
    Pong ! {ping, I},
    receive {pong, _} -> ping(Pong, int, I + 1, N) end;
ping(Pong, table, I, N) ->
    Pong ! {ping, #{seq => I, tag => <<"ping">>, xs => [1, 2, 3]}},
    receive {pong, _} -> ping(Pong, table, I + 1, N) end.

pong(_, 0) -> ok;
pong(Parent, K) ->
    receive {ping, V} -> Parent ! {pong, V} end,
    pong(Parent, K - 1).
