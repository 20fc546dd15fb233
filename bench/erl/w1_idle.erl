%% W1 idle: N processes blocked in a receive; bytes of RSS per process
%% (VmRSS of the VM before and after), printed as FIGURE.
-module(w1_idle).
-export([main/1]).

main(Args) ->
    N = bench_util:arg(Args, 1, 100000),
    erlang:garbage_collect(),
    timer:sleep(200),
    R0 = bench_util:vmrss(),
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    timer:sleep(300),
    R1 = bench_util:vmrss(),
    [P ! stop || P <- Pids],
    io:format("FIGURE ~b~n", [(R1 - R0) div N]).
