/*
** sandbox/fork_int.h
** Starting a host process: fork into a new pid namespace (sandbox/fork.c).
** Used by the broker (broker_host.c), 'ward doctor' (cli/doctor.c) and the
** confinement tests, which start their hosts the way the broker does.
** Runs in: broker (the child, until its execve, as a host stand-in).
*/
#ifndef wd_fork_int_h
#define wd_fork_int_h

#include <sys/types.h>

/*
** fork(), but the child is the first process (pid 1) of a new pid
** namespace when the kernel allows it. CLONE_NEWPID needs CAP_SYS_ADMIN:
** without it, the child also gets a new user namespace that maps only our
** own uid and gid (so that the host can nest its own user namespace in
** it). Falls back to a plain fork with the reason in '*pidns_err' (0 when
** the namespace was made). Returns like fork. The child may only call
** async-signal-safe functions before execve.
*/
pid_t wd__fork_host(int *pidns_err);

#endif
