%% Issue 3: a chain of N linked processes below the main one (which traps
%% exits); the last one exits abnormally and the exit cascades up. Prints
%% the time from `go` to the main process's 'EXIT', in milliseconds.
-module(lc_cascade).
-export([main/1]).

main(Args) ->
    N = bench_util:arg(Args, 1, 10000),
    process_flag(trap_exit, true),
    Me = self(),
    First = spawn_link(fun() -> node(Me, N) end),
    receive {ready, Leaf} -> ok end,
    T0 = bench_util:now_ns(),
    Leaf ! go,
    receive {'EXIT', First, _} -> ok end,
    io:format("FIGURE ~.1f~n", [(bench_util:now_ns() - T0) / 1.0e6]).

node(Main, Depth) when Depth > 1 ->
    spawn_link(fun() -> node(Main, Depth - 1) end),
    receive never -> ok end;
node(Main, _) ->
    Main ! {ready, self()},
    receive go -> exit(end_of_chain) end.
