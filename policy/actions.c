/*
** policy/actions.c
** What ward asks: every action its runtime, broker and front door pass
** to the policy check (the operation table of ward/wd_ops.h), and every
** attribute a request carries. A strict policy set
** (wd_policy_set_strict) refuses action patterns that match none of these
** actions and condition fields no request has, so a typo in a policy is a
** load error instead of a rule that silently never applies (a misspelled
** deny allows what it meant to forbid).
** Runs in: broker and host. Pure: no I/O, no allocation.
*/
#include <string.h>

#include "policy_int.h"
#include "ward/wd_ops.h"

/* The one list of actions: the operation table's (ward/wd_ops.h), in its
** order, so wd_policy_actions()[WD_ACT_x] is action x. */
static const char *const actions[] = {
#define XX(id, name, res, who) name,
  WD_ACTION_MAP(XX)
#undef XX
  NULL,
};

/* Request attributes (runtime/secid.c wd_sec_request; the front door
** adds 'via' and 'token'). All strings. */
static const char *const attrs[] = {
  "pid", "host", "target_host", "topic", "via", "token", NULL,
};

/* Fields that are not attributes; "actor.meta[.<path>]" is open. */
static const char *const fixed[] = {
  "actor.id",
  "action",
  "resource",
  NULL,
};

const char *const *wd_policy_actions(void) {
  return actions;
}

const char *const *wd_policy_attrs(void) {
  return attrs;
}

static int in_list(const char *const *v, const char *s, size_t n) {
  size_t i;
  for (i = 0; v[i] != NULL; i++)
    if (strlen(v[i]) == n && memcmp(v[i], s, n) == 0) return 1;
  return 0;
}

int wd_policy_action_known(const char *pat) {
  size_t n, i;
  if (pat == NULL || (n = strlen(pat)) == 0) return 0;
  if (n == 1 && pat[0] == '*') return 1;
  if (n > 2 && pat[n - 2] == '.' && pat[n - 1] == '*') {
    /* "p.*": an action "p", or one below "p." */
    for (i = 0; actions[i] != NULL; i++)
      if (strncmp(actions[i], pat, n - 1) == 0 ||
          (strlen(actions[i]) == n - 2 && memcmp(actions[i], pat, n - 2) == 0))
        return 1;
    return 0;
  }
  if (pat[n - 1] == '*') {
    for (i = 0; actions[i] != NULL; i++)
      if (strncmp(actions[i], pat, n - 1) == 0) return 1;
    return 0;
  }
  return in_list(actions, pat, n);
}

int wd_policy_field_known(const char *f) {
  const char *dot;
  if (f == NULL) return 0;
  if (in_list(fixed, f, strlen(f)) || in_list(attrs, f, strlen(f)) ||
      strcmp(f, "actor.meta") == 0)
    return 1;
  if (strncmp(f, "actor.meta.", 11) == 0) return f[11] != '\0';
  if (strncmp(f, "meta.", 5) == 0) {
    /* Attributes are strings: a path below one never has a value. */
    f += 5;
    dot = strchr(f, '.');
    return dot == NULL && in_list(attrs, f, strlen(f));
  }
  return 0;
}

/*
** {======================================================================
** Messages, with a suggestion for a near miss
** =======================================================================
*/

#define MAXDIST 2 /* edits for "did you mean" */
#define MAXLEN  64

/* Levenshtein distance of a[0..an) and b[0..bn), or MAXDIST + 1 when
** either is longer than MAXLEN. */
static size_t dist(const char *a, size_t an, const char *b, size_t bn) {
  size_t row[MAXLEN + 1], i, j, diag, up, best;
  if (an > MAXLEN || bn > MAXLEN) return MAXDIST + 1;
  for (j = 0; j <= bn; j++)
    row[j] = j;
  for (i = 1; i <= an; i++) {
    diag = row[0];
    row[0] = i;
    for (j = 1; j <= bn; j++) {
      up = row[j];
      best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[bn];
}

/* The entry of 'v' nearest to s[0..n), if within MAXDIST edits and
** closer than its own length (so "a" suggests nothing); else NULL. */
static const char *nearest(const char *const *v, const char *s, size_t n) {
  const char *best = NULL;
  size_t i, d, bd = MAXDIST + 1;
  for (i = 0; v[i] != NULL; i++) {
    d = dist(s, n, v[i], strlen(v[i]));
    if (d < bd && d < strlen(v[i])) {
      bd = d;
      best = v[i];
    }
  }
  return best;
}

void wd__policy_action_msg(SBuf *sb, const char *pat) {
  size_t n = strlen(pat);
  const char *star = memchr(pat, '*', n), *near;
  wd__policy_sb_puts(sb, "action '");
  wd__policy_sb_putq(sb, pat, n);
  wd__policy_sb_puts(sb, "' matches no action ward asks");
  if (star != NULL && star != pat + n - 1) {
    wd__policy_sb_puts(sb, " ('*' is a wildcard only at the end)");
  } else if (star == NULL && (near = nearest(actions, pat, n)) != NULL) {
    wd__policy_sb_puts(sb, " (did you mean '");
    wd__policy_sb_puts(sb, near);
    wd__policy_sb_puts(sb, "'?)");
  }
}

void wd__policy_field_msg(SBuf *sb, const char *f) {
  size_t n = strlen(f), i;
  const char *near = NULL, *dot;
  int meta = strncmp(f, "meta.", 5) == 0;
  wd__policy_sb_puts(sb, "unknown field '");
  wd__policy_sb_putq(sb, f, n);
  wd__policy_sb_puts(sb, "'");
  if (meta && (dot = strchr(f + 5, '.')) != NULL &&
      in_list(attrs, f + 5, (size_t)(dot - f - 5))) {
    wd__policy_sb_puts(sb, ": attribute '");
    wd__policy_sb_putq(sb, f + 5, (size_t)(dot - f - 5));
    wd__policy_sb_puts(sb, "' is a string");
    return;
  }
  if (meta)
    near = nearest(attrs, f + 5, n - 5);
  else if ((near = nearest(attrs, f, n)) == NULL)
    near = nearest(fixed, f, n);
  if (near != NULL) {
    wd__policy_sb_puts(sb, " (did you mean '");
    wd__policy_sb_puts(sb, meta ? "meta." : "");
    wd__policy_sb_puts(sb, near);
    wd__policy_sb_puts(sb, "'?)");
    return;
  }
  wd__policy_sb_puts(sb, ": a request has actor.id, actor.meta.*, action, "
                         "resource and the attributes");
  for (i = 0; attrs[i] != NULL; i++) {
    wd__policy_sb_puts(sb, i > 0 ? ", " : " ");
    wd__policy_sb_puts(sb, attrs[i]);
  }
}

/* }====================================================================== */
