%% W1 spawn: N processes that each send `done` to the parent and exit; the
%% time from the first spawn to the last `done`.
-module(w1_spawn).
-export([main/1]).

main(Args) ->
    N = bench_util:arg(Args, 1, 100000),
    Me = self(),
    T0 = bench_util:now_ns(),
    spawn_n(N, Me),
    wait_n(N),
    bench_util:report(N, bench_util:now_ns() - T0).

spawn_n(0, _) -> ok;
spawn_n(I, Me) ->
    spawn(fun() -> Me ! done end),
    spawn_n(I - 1, Me).

wait_n(0) -> ok;
wait_n(I) -> receive done -> wait_n(I - 1) end.
