%% Helpers shared by the Erlang workloads.
-module(bench_util).
-export([arg/3, now_ns/0, report/2, vmrss/0, connect/1]).

%% Argument I of an `-s Mod main A1 A2 ...` list (atoms), as an integer or
%% atom, or Default.
arg(Args, I, _Default) when length(Args) >= I ->
    A = atom_to_list(lists:nth(I, Args)),
    case string:to_integer(A) of
        {N, ""} -> N;
        _ -> list_to_atom(A)
    end;
arg(_, _, Default) -> Default.

now_ns() -> erlang:monotonic_time(nanosecond).

%% Print the figure: Count operations in Ns nanoseconds, per second.
report(Count, Ns) ->
    io:format("FIGURE ~b~n", [round(Count * 1.0e9 / Ns)]).

%% This OS process's resident set size in bytes (/proc/self/status).
vmrss() ->
    {ok, B} = file:read_file("/proc/" ++ os:getpid() ++ "/status"),
    [_, Rest] = binary:split(B, <<"VmRSS:">>),
    [Num | _] = string:lexemes(binary_to_list(Rest), " \t\n"),
    list_to_integer(Num) * 1024.

%% Connect to Node (started by bench/run.sh), waiting up to 10 s for it.
connect(Node) -> connect(Node, 100).

connect(Node, 0) -> error({cannot_reach, Node});
connect(Node, K) ->
    case net_adm:ping(Node) of
        pong -> ok;
        pang -> timer:sleep(100), connect(Node, K - 1)
    end.
