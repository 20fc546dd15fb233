/*
** include/ward/wd_cli.h
** Subcommands of the 'ward' command that live outside cli/main.c. Each
** takes the arguments after its own name ('ward policy check x' calls
** wd_cmd_policy(2, {"check", "x"})), prints to stdout/stderr and returns
** the exit status: 0 success, 1 the job failed, 2 bad usage or bad input.
** Runs in: the ward command (broker side; never inside a host).
*/
#ifndef wd_cli_h
#define wd_cli_h

/* ward policy check|eval|explain|test ... (cli/cmd_policy.c) */
int wd_cmd_policy(int argc, char **argv);

/* ward audit keygen|verify ... (cli/cmd_audit.c) */
int wd_cmd_audit(int argc, char **argv);

#endif
