/*
** tests/fuzz/fuzz_manifest.c
** libFuzzer target for the YAML reader and the manifest checks:
** wd_manifest_load_string on arbitrary bytes, with no source files read
** (basedir NULL), so every run is pure parsing and checking.
** Runs in: broker.
**
** Build and run (from the repository root):
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
**     -D_GNU_SOURCE tests/fuzz/fuzz_manifest.c runtime/manifest.c \
**     runtime/yaml.c runtime/node.c runtime/pid.c runtime/duration.c \
**     runtime/common.c runtime/buf.c -lyaml -lm -o fuzz_manifest
**   ./fuzz_manifest -max_total_time=60 tests/fuzz/corpus/manifest
**
** Checks beyond the sanitizers: a failed load leaves no manifest and says
** where ("FILE:..."), and a successful one holds only entries that
** wd_manifest_find returns by id, with every reference resolved.
*/
#include <stdlib.h>
#include <string.h>

#include "ward/wd_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const wd_manifest *m, const wd_entry *e) {
  size_t i;
  if (wd_manifest_find(m, e->id) != e) abort();
  if (e->node == NULL || e->node->type != WD_NODE_MAP) abort();
  switch (e->kind) {
    case WD_KIND_LUA:
    case WD_KIND_LIBRARY:
      if (e->u.lua.source_uri == NULL || e->u.lua.source != NULL) abort();
      for (i = 0; i < e->u.lua.nimports; i++)
        if (e->u.lua.imports[i].entry == NULL ||
            e->u.lua.imports[i].entry->kind != WD_KIND_LIBRARY)
          abort();
      if (e->u.lua.host != NULL && e->u.lua.host_entry == NULL) abort();
      break;
    case WD_KIND_SERVICE:
      if (e->u.svc.process_entry == NULL ||
          e->u.svc.process_entry->kind != WD_KIND_LUA)
        abort();
      break;
    case WD_KIND_POLICY:
      if (e->u.policy.policy->type != WD_NODE_MAP) abort();
      break;
    case WD_KIND_HOST:
      if (e->u.host.limits.slice_ns <= 0 || e->u.host.limits.memory == 0)
        abort();
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wd_manifest *m = NULL;
  char err[512];
  size_t i;
  int r;
  r = wd_manifest_load_string("f.yaml", (const char *)data, size, NULL, &m, err,
                              sizeof err);
  if (r != 0) {
    if (m != NULL) abort();
    if (r == WD_EINVAL && strncmp(err, "f.yaml", 6) != 0) abort();
    return 0;
  }
  for (i = 0; i < m->nentries; i++)
    check_entry(m, m->entries[i]);
  wd_manifest_free(m);
  return 0;
}
