%% W4 fan-in: P producers send K messages each to one consumer; the time
%% from the first spawn to the last message received. With a third
%% argument, a node name, the producers run on that node.
-module(w4_fanin).
-export([main/1, produce/2]).

main(Args) ->
    P = bench_util:arg(Args, 1, 4),
    K = bench_util:arg(Args, 2, 250000),
    Me = self(),
    Where = bench_util:arg(Args, 3, local),
    Where =:= local orelse bench_util:connect(Where),
    T0 = bench_util:now_ns(),
    [case Where of
         local -> spawn(fun() -> produce(Me, K) end);
         Node -> spawn(Node, ?MODULE, produce, [Me, K])
     end || _ <- lists:seq(1, P)],
    consume(P * K),
    bench_util:report(P * K, bench_util:now_ns() - T0).

produce(_, 0) -> ok;
produce(To, I) -> To ! {m, I}, produce(To, I - 1).

consume(0) -> ok;
consume(I) -> receive {m, _} -> consume(I - 1) end.
