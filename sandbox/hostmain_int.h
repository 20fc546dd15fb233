/*
** sandbox/hostmain_int.h
** The host's main (sandbox/hostmain.c) as tests see it.
** Runs in: host (sandboxed).
*/
#ifndef hostmain_int_h
#define hostmain_int_h

#include <stddef.h>
#include <stdint.h>

/*
** Test hook: when set (only test hosts set it, tests/sandbox/testhost.c),
** the host's main calls it once right after confinement, before its loop
** runs, with its host id and its 'uv_loop_t *'. NULL in 'ward'.
*/
extern void (*wd__sbx_confined_hook)(const char *id, void *loop);

/*
** The host's allocator (sandbox/hostmem.c): glibc's, but freed blocks of
** WD_HOSTMEM_BIG bytes or more are kept for the next big allocations,
** whose pages are then already there: WD_HOSTMEM_SLOTS blocks at most,
** none larger than twice a message of the host's (wd__hostmem_limit),
** for WD_HOSTMEM_IDLE heartbeats at most; what a kept block holds past
** what its new owner asked for goes back to the kernel as it is handed
** out.
*/
#define WD_HOSTMEM_BIG (4u << 20)
#define WD_HOSTMEM_SLOTS 4u
#define WD_HOSTMEM_IDLE 10u
#define WD_HOSTMEM_STEP (1u << 20)
#define WD_HOSTMEM_AHEAD 2u
/* Make it wd_malloc's (wd_replace_allocator), before anything allocates.
** Nothing is kept until wd__hostmem_limit. */
void wd__hostmem_install(void);
/* The largest block kept: 2 * 'max_rec' (a record or message of the
** host's, grown by doubling, may take that much), at most SIZE_MAX / 8.
** Blocks kept already that are larger go. */
void wd__hostmem_limit(uint64_t max_rec);
/* A heartbeat tick: after WD_HOSTMEM_IDLE of them without a big
** allocation, the kept blocks go back to the system. */
void wd__hostmem_tick(void);
/* Once per loop turn: fault in WD_HOSTMEM_STEP more bytes of a block
** made ahead, if one is wanted. */
void wd__hostmem_step(void);
/* Give back every kept block now. */
void wd__hostmem_release(void);
/* Bytes kept, the spare being made aside (tests). */
size_t wd__hostmem_kept(void);
/* Blocks kept, the spare being made among them: at most
** WD_HOSTMEM_SLOTS (tests). */
unsigned wd__hostmem_blocks(void);

#endif
