/*
** sandbox/hostmain_int.h
** The host's main (sandbox/hostmain.c) as tests see it.
** Runs in: host (sandboxed).
*/
#ifndef hostmain_int_h
#define hostmain_int_h

/*
** Test hook: when set (only test hosts set it, tests/sandbox/testhost.c),
** the host's main calls it once right after confinement, before its loop
** runs, with its host id and its 'uv_loop_t *'. NULL in 'ward'.
*/
extern void (*wd__sbx_confined_hook)(const char *id, void *loop);

#endif
