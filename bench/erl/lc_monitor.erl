%% Issue 3: N times spawn_monitor a process that exits at once and wait for
%% its 'DOWN'. With a second argument, a node name, the children run there.
-module(lc_monitor).
-export([main/1]).

main(Args) ->
    N = bench_util:arg(Args, 1, 100000),
    Where = bench_util:arg(Args, 2, local),
    Where =:= local orelse bench_util:connect(Where),
    T0 = bench_util:now_ns(),
    loop(N, Where),
    bench_util:report(N, bench_util:now_ns() - T0).

loop(0, _) -> ok;
loop(I, Where) ->
    {Pid, Ref} = case Where of
                     local -> spawn_monitor(fun() -> ok end);
                     Node -> spawn_monitor(Node, fun() -> ok end)
                 end,
    receive {'DOWN', Ref, process, Pid, _} -> ok end,
    loop(I - 1, Where).
