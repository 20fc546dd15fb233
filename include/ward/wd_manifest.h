/*
** include/ward/wd_manifest.h
** The manifest of an app directory: every _index.yaml below it (the
** reference format: 'namespace' + 'entries'), plus policy files added with
** --policy, checked and turned into typed entries. Every load error names
** "FILE:LINE:COL: what is wrong (what is expected)".
*/
#ifndef wd_manifest_h
#define wd_manifest_h

#include <stddef.h>
#include <stdint.h>

#include "ward/wd_common.h"
#include "ward/wd_node.h"
#include "ward/wd_yaml.h"

/* Largest Lua source file and largest YAML file read. */
#define WD_MANIFEST_MAX_SOURCE (4u << 20)
#define WD_MANIFEST_MAX_YAML   (4u << 20)

/* process.host limits: defaults when a key is absent. */
#define WD_HOST_DEFAULT_MAX_PROCESSES 100000
#define WD_HOST_DEFAULT_MEMORY        (64ull << 20) /* bytes */
#define WD_HOST_DEFAULT_MAILBOX       100000        /* messages */
#define WD_HOST_DEFAULT_MAX_PAYLOAD   (1ull << 20)  /* bytes */
#define WD_HOST_DEFAULT_CPU_NS        0             /* unlimited */
#define WD_HOST_DEFAULT_SLICE_NS      10000000ll    /* 10ms */
#define WD_HOST_DEFAULT_DEADLINE_NS   2000000000ll  /* 2s */
#define WD_HOST_DEFAULT_ADDRESS_SPACE (4ull << 30)  /* bytes */
#define WD_HOST_DEFAULT_SPAWN_RATE    0             /* unlimited */
#define WD_HOST_DEFAULT_MAX_NAMES     10000
#define WD_HOST_DEFAULT_MAX_WATCHES   100000
#define WD_HOST_DEFAULT_LIVENESS_NS   5000000000ll  /* 5s */
#define WD_HOST_DEFAULT_REQUEST_NS    10000000000ll /* 10s */
#define WD_HOST_DEFAULT_MAILBOX_BYTES (64ull << 20) /* bytes, whole host */
#define WD_HOST_DEFAULT_LINK_QUEUE    (64ull << 20) /* bytes, per direction */
#define WD_HOST_DEFAULT_OUTPUT_BUFFER (1ull << 20)  /* bytes */
#define WD_HOST_DEFAULT_SEND_TIMEOUT_NS 5000000000ll /* 5s */
#define WD_HOST_DEFAULT_OUTPUT_RATE   (16ull << 20) /* bytes/s printed */
/* The largest 'max_payload' ward supports: a host refuses a larger value
** with an error naming the line (no clamp). A message this large crosses
** the link in fragments (wd_link.h), and a receiver reassembles at most
** this plus WD_LINK_REC_SLACK bytes of one record. */
#define WD_HOST_MAX_PAYLOAD           (64ull << 20) /* bytes */

/* process.service lifecycle: defaults when a key is absent. */
#define WD_SVC_DEFAULT_START_TIMEOUT_NS    10000000000ll /* 10s */
#define WD_SVC_DEFAULT_STOP_TIMEOUT_NS     10000000000ll /* 10s */
#define WD_SVC_DEFAULT_STABLE_THRESHOLD_NS 5000000000ll  /* 5s */
#define WD_SVC_DEFAULT_INITIAL_DELAY_NS    1000000000ll  /* 1s */
#define WD_SVC_DEFAULT_MAX_DELAY_NS        90000000000ll /* 90s */
#define WD_SVC_DEFAULT_BACKOFF_FACTOR      2.0
#define WD_SVC_DEFAULT_JITTER              0.1
#define WD_SVC_DEFAULT_MAX_ATTEMPTS        0 /* unlimited */

typedef enum wd_kind {
  WD_KIND_HOST,    /* process.host */
  WD_KIND_LUA,     /* process.lua */
  WD_KIND_LIBRARY, /* library.lua */
  WD_KIND_SERVICE, /* process.service */
  WD_KIND_POLICY,  /* security.policy */
} wd_kind;

/* 'sandbox: {require: ...}' of a host; UNSET leaves it to the command line. */
enum { WD_SANDBOX_UNSET, WD_SANDBOX_ALL, WD_SANDBOX_NONE };

typedef struct wd_entry wd_entry;

/*
** Lifetimes: every 'const char *' and 'const wd_node *' below is borrowed
** from the manifest (the YAML trees it keeps) and stays valid until
** wd_manifest_free. Lists are arrays of 'n...' strings. A pointer is NULL
** when its key is absent, unless a default is named.
** References to entries ('imports', 'host', 'process') are stored fully
** qualified: a bare name (no ':') means the namespace of its own file.
** Sizes are bytes, or a number with B, KB, MB, GB, TB (powers of 1000) or
** KiB, MiB, GiB, TiB (powers of 1024): "64MiB". Durations use Go's syntax
** ("10ms", "1m30s", units ns us ms s m h) and are stored in nanoseconds.
** Unknown keys are errors at every level, not only at the top.
*/

/* List of strings from a YAML sequence of scalars. */
typedef struct wd_strv {
  const char **v;
  size_t n;
} wd_strv;

/* 'security: {actor: {id, meta}, groups: [...], policies: [...]}'. */
typedef struct wd_sec {
  const wd_node *node;       /* the whole block; NULL when absent */
  const char *actor_id;      /* NULL: no actor */
  const wd_node *actor_meta; /* a map or NULL */
  wd_strv groups;            /* policy groups ("ns:group" or as written) */
  wd_strv policies;          /* policy entry ids */
} wd_sec;

/* process.host 'host:' limits. Sizes in bytes, durations in ns; 0 for cpu
   and spawn_rate means unlimited. 'workers', 'queue_size' and
   'local_queue_size' (Wippy) are accepted and ignored. */
typedef struct wd_host_limits {
  int64_t max_processes;    /* live actors on the host, >= 1 */
  uint64_t memory;          /* Lua heap quota per actor */
  int64_t mailbox;          /* queued messages per actor, >= 1 */
  uint64_t max_payload;     /* largest message payload */
  int64_t cpu_ns;           /* total CPU budget per actor */
  int64_t slice_ns;         /* time slice before preemption, > 0 */
  int64_t turn_deadline_ns; /* loop turn watchdog, > 0 */
  uint64_t address_space;   /* RLIMIT_AS of the host process */
  int64_t spawn_rate;       /* spawns per second on the host */
  int64_t liveness_ns;      /* wall clock without a heartbeat (and without
                               running) before the host is killed, > 0 */
  int64_t request_ns;       /* 'request_timeout': a request carried to the
                               host fails unanswered after this, > 0 */
  int64_t max_names;        /* names its processes may hold, 0: no bound */
  int64_t max_watches;      /* cross-host monitors, links and exec waits
                               its processes may hold, 0: no bound */
  uint64_t mailbox_bytes;   /* bytes queued in all mailboxes of the host */
  uint64_t link_queue;      /* frames waiting for the link, each way */
  uint64_t output_buffer;   /* printed bytes the broker holds for stdout */
  int64_t send_timeout_ns;  /* how long a send waits for room, > 0 */
  uint64_t output_rate;     /* printed bytes per second the broker takes
                               from the host, 0 = no bound */
} wd_host_limits;

typedef struct wd_host_conf {
  wd_host_limits limits;
  int restart;             /* 'restart:', default 0 */
  int auto_start;          /* 'lifecycle: {auto_start}', default 0 */
  int sandbox_require;     /* WD_SANDBOX_* from 'sandbox: {require}' */
  const wd_node *security; /* raw 'security:' map or NULL */
  wd_sec def;              /* 'security: {default: ...}' */
  const wd_node *ceiling;  /* raw 'security: {ceiling: ...}' map or NULL */
  wd_strv ceil_actors;     /* actor id patterns allowed on the host */
  wd_strv ceil_groups;
  wd_strv ceil_policies;
} wd_host_conf;

/* 'imports:' item: require(name) loads library entry 'id'. */
typedef struct wd_import {
  const char *name;
  const char *id;        /* fully qualified ("ns:name") */
  const wd_node *node;   /* the value node (for error positions) */
  const wd_entry *entry; /* the library.lua, resolved after load */
} wd_import;

/* process.lua and library.lua. */
typedef struct wd_lua_conf {
  const char *source_uri;  /* as written: "file://x.lua" */
  const char *source_path; /* file read ("app/x.lua"); NULL if not read */
  const char *source;      /* file contents, NUL-terminated; NULL if not
                              read (wd_manifest_load_string, basedir NULL) */
  size_t source_len;
  const char *method; /* process.lua: default "main"; library: NULL */
  wd_strv modules;    /* require()-able built-ins, as written */
  wd_import *imports;
  size_t nimports;
  const char *host;           /* process.lua: host id or NULL */
  const wd_entry *host_entry; /* its process.host, resolved after load */
  wd_sec sec;                 /* process.lua 'security:' */
} wd_lua_conf;

typedef struct wd_restart_conf {
  int64_t initial_delay_ns, max_delay_ns;
  double backoff_factor; /* >= 1 */
  double jitter;         /* 0..1 */
  int64_t max_attempts;  /* 0: unlimited */
} wd_restart_conf;

typedef struct wd_service_conf {
  const char *process;           /* process.lua id (required) */
  const wd_entry *process_entry; /* resolved after load */
  const char *host;              /* host id or NULL */
  const wd_entry *host_entry;    /* resolved after load */
  wd_strv input;                 /* positional arguments to the method */
  const wd_node *lifecycle;      /* raw map or NULL */
  int auto_start;                /* default 0 */
  int64_t start_timeout_ns, stop_timeout_ns, stable_threshold_ns;
  wd_strv requires; /* 'lifecycle.requires', as written */
  wd_restart_conf restart;
  wd_sec sec; /* 'lifecycle.security' */
} wd_service_conf;

/* security.policy: validated by the policy loader, not here. */
typedef struct wd_policy_conf {
  const wd_node *policy; /* the 'policy:' map (required) */
  const wd_node *groups; /* the 'groups:' sequence or NULL */
  wd_strv groupv;        /* its items as written */
} wd_policy_conf;

struct wd_entry {
  const char *id; /* "namespace:name" */
  const char *ns; /* namespace of its file */
  const char *name;
  wd_kind kind;
  const char *kind_name; /* "process.lua", ... */
  const wd_node *node;   /* the entry map: file/line/col for messages */
  const wd_node *meta;   /* 'meta:' map or NULL (any kind) */
  const char *meta_type; /* 'meta.type' or NULL */
  size_t index;          /* its place in wd_manifest.entries */
  union {
    wd_host_conf host;     /* WD_KIND_HOST */
    wd_lua_conf lua;       /* WD_KIND_LUA, WD_KIND_LIBRARY */
    wd_service_conf svc;   /* WD_KIND_SERVICE */
    wd_policy_conf policy; /* WD_KIND_POLICY */
  } u;
};

typedef struct wd_mindex wd_mindex; /* private: id hash table */

/*
** Entries appear in load order: files sorted by path (then --policy files
** in the order added), entries in file order. References (imports, hosts,
** service processes) are resolved: each '*_entry' pointer is set.
*/
typedef struct wd_manifest {
  wd_entry **entries;
  size_t nentries;
  wd_doc **docs; /* the parsed files, kept alive for the nodes */
  size_t ndocs;
  wd_mindex *index; /* private */
} wd_manifest;

/* ** Loading ** */

/*
** Load every file named _index.yaml below 'dir' (recursively, in sorted
** path order; symlinked directories are skipped) and the Lua source of
** every process.lua/library.lua ('source: file://x.lua', relative to its
** YAML file's directory, which must stay inside 'dir': absolute paths and
** escapes through '..' or symlinks are refused; at most
** WD_MANIFEST_MAX_SOURCE bytes). Paths in messages are 'dir' joined with
** the path below it.
** Returns 0 and a new manifest in '*out' (free with wd_manifest_free);
** WD_EINVAL with "FILE:LINE:COL: message" in 'err' for bad content (also a
** missing or unreadable source, or no _index.yaml at all); -errno when
** 'dir' itself cannot be read; WD_ENOMEM. '*out' is untouched on failure.
** Runs in the broker (hosts never open files).
*/
int wd_manifest_load_dir(const char *dir, wd_manifest **out, char *err,
                         size_t errlen);

/*
** Add the entries of one more YAML file (--policy FILE), with its sources
** read relative to (and confined to) the file's directory, then resolve
** every reference again. Returns 0, WD_EINVAL (message in 'err'), -errno
** when 'path' cannot be read, or WD_ENOMEM. On failure 'm' may hold
** the entries of 'path' that came before the error: the caller must treat
** it as failed and free it.
*/
int wd_manifest_add_file(wd_manifest *m, const char *path, char *err,
                         size_t errlen);

/*
** Load an app as a serving ward has it: the files below 'dir' as
** wd_manifest_load_dir reads them, except those whose namespace is in
** 'skip' (a deploy keeps them elsewhere), then the 'extra' YAML files in
** order as wd_manifest_add_file adds them (a deployed revision's
** _index.yaml, the --policy files), then every reference resolved once,
** so files may refer to each other in any order. Returns as
** wd_manifest_load_dir.
*/
int wd_manifest_load_app(const char *dir, const char *const *skip,
                         size_t nskip, const char *const *extra,
                         size_t nextra, wd_manifest **out, char *err,
                         size_t errlen);

/*
** Load one file from memory ('file' names it in messages). Sources are read
** relative to (and confined to) 'basedir'; with 'basedir' NULL they are
** checked as paths but not read ('source' stays NULL). For tests and the
** fuzzer. Returns as wd_manifest_load_dir.
*/
int wd_manifest_load_string(const char *file, const char *text, size_t len,
                            const char *basedir, wd_manifest **out, char *err,
                            size_t errlen);

/* ** Queries ** */

/* The entry with id 'id' ("ns:name"), or NULL. Borrowed from 'm'. */
const wd_entry *wd_manifest_find(const wd_manifest *m, const char *id);

/* Free a manifest and every tree, string and source in it. NULL is a
   no-op. */
void wd_manifest_free(wd_manifest *m);

#endif
