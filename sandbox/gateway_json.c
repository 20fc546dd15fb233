/*
** sandbox/gateway_json.c
** JSON (jansson) to payload codec bytes and back, so that the broker never
** parses JSON: objects <-> tables with string keys, arrays <-> sequences,
** integers stay integers and floats floats, error objects become
** {"kind", "message"}. Both directions are bounded in depth; a value JSON
** cannot hold is an error naming its path ("result.items[2]").
** Runs in: gateway (sandboxed).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ward/wd_codec.h"

#include "gateway.h"

/* {====== JSON to codec ====== */

typedef struct jpath {
  char s[256];
  size_t n;
} jpath;

/* Append ".key" or "[i]" to the path; returns the old length. */
static size_t path_key(jpath *p, const char *k) {
  size_t old = p->n;
  int w = snprintf(p->s + p->n, sizeof p->s - p->n, "%s%s",
                   p->n ? "." : "", k);
  if (w > 0) p->n += (size_t)w < sizeof p->s - p->n ? (size_t)w
                                                    : sizeof p->s - p->n - 1;
  return old;
}

static size_t path_idx(jpath *p, uint64_t i) {
  size_t old = p->n;
  int w = snprintf(p->s + p->n, sizeof p->s - p->n, "[%llu]",
                   (unsigned long long)i);
  if (w > 0) p->n += (size_t)w < sizeof p->s - p->n ? (size_t)w
                                                    : sizeof p->s - p->n - 1;
  return old;
}

static void path_cut(jpath *p, size_t old) {
  p->n = old;
  p->s[old] = '\0';
}

static int jfail(jpath *p, char *err, size_t errlen, const char *why) {
  snprintf(err, errlen, "%s: %s", p->n ? p->s : "value", why);
  return WD_EINVAL;
}

static int put_json(wd_buf *out, const json_t *v, int depth, jpath *p,
                    char *err, size_t errlen) {
  size_t i, n, old;
  int r;
  if (depth > WD_CODEC_MAXDEPTH)
    return jfail(p, err, errlen, "nested too deeply");
  switch (json_typeof(v)) {
    case JSON_NULL:
      wd_codec_put_nil(out);
      break;
    case JSON_TRUE:
    case JSON_FALSE:
      wd_codec_put_bool(out, json_is_true(v));
      break;
    case JSON_INTEGER:
      wd_codec_put_int(out, (int64_t)json_integer_value(v));
      break;
    case JSON_REAL:
      wd_codec_put_num(out, json_real_value(v));
      break;
    case JSON_STRING:
      wd_codec_put_str(out, json_string_value(v), json_string_length(v));
      break;
    case JSON_ARRAY: {
      size_t holes = 0;
      n = json_array_size(v);
      for (i = 0; i < n; i++)
        if (json_is_null(json_array_get(v, i))) holes++;
      /* A sequence: its array part holds no nil, so one with holes
      ** travels as pairs keyed by index. */
      if (holes == 0)
        wd_codec_put_table(out, n, 0);
      else
        wd_codec_put_table(out, 0, n - holes);
      for (i = 0; i < n; i++) {
        const json_t *x = json_array_get(v, i);
        if (holes != 0) {
          if (json_is_null(x)) continue;
          wd_codec_put_int(out, (int64_t)i + 1);
        }
        old = path_idx(p, i);
        r = put_json(out, x, depth + 1, p, err, errlen);
        path_cut(p, old);
        if (r < 0) return r;
      }
      break;
    }
    case JSON_OBJECT: {
      const char *k;
      const json_t *x;
      n = 0;
      json_object_foreach((json_t *)v, k, x) if (!json_is_null(x)) n++;
      wd_codec_put_table(out, 0, n);
      json_object_foreach((json_t *)v, k, x) {
        if (json_is_null(x)) continue;
        wd_codec_put_str(out, k, strlen(k));
        old = path_key(p, k);
        r = put_json(out, x, depth + 1, p, err, errlen);
        path_cut(p, old);
        if (r < 0) return r;
      }
      break;
    }
    default:
      return jfail(p, err, errlen, "unknown JSON type");
  }
  if (out->err != 0) {
    snprintf(err, errlen, "value too large");
    return out->err;
  }
  return 0;
}

int wd__gw_json_put(wd_buf *out, const json_t *v, char *err, size_t errlen) {
  jpath p;
  p.n = 0;
  p.s[0] = '\0';
  return put_json(out, v, 0, &p, err, errlen);
}

/* }====== */

/* {====== Codec to JSON ====== */

#define MAXREFS 4096
/* What a value may weigh written out as JSON: each value (a shared table
** as often as it is met) WEIGHT_VALUE, and each string's bytes. A few
** hundred bytes of shared tables would otherwise write out as millions
** of values and hold the gateway for seconds (its liveness kills it,
** and every client with it). 80 MiB: a 64 MiB string still goes. */
#define WEIGHT_MAX (80ull << 20)
#define WEIGHT_VALUE 16u

typedef struct dec {
  wd_cur c;
  json_t *refs[MAXREFS]; /* tables and error objects, in order; NULL
                            while one is being read (a reference to it
                            then is a cycle) */
  int done[MAXREFS];
  uint64_t weight[MAXREFS]; /* each one's weight written out */
  uint64_t w;            /* the weight of what was read so far */
  size_t nrefs;
  jpath p;
  char *err;
  size_t errlen;
} dec;

static int bad(dec *d) {
  snprintf(d->err, d->errlen, "malformed value bytes");
  return WD_EBADFRAME;
}

static int get_value(dec *d, int depth, json_t **out);

/* Count 'n' more of weight; an error past WEIGHT_MAX. */
static int weigh(dec *d, uint64_t n) {
  d->w = n > WEIGHT_MAX ? WEIGHT_MAX + 1 : d->w + n;
  if (d->w <= WEIGHT_MAX) return 0;
  snprintf(d->err, d->errlen,
           "%s: too big written out as JSON (shared tables are written "
           "once for each time they are met: more than %llu MiB)",
           d->p.n ? d->p.s : "value", (unsigned long long)(WEIGHT_MAX >> 20));
  return WD_EINVAL;
}

static int get_strv(dec *d, size_t len, json_t **out) {
  const uint8_t *s;
  if (wd_cur_bytes(&d->c, len, &s) < 0) return bad(d);
  if (weigh(d, len) < 0) return WD_EINVAL;
  *out = json_stringn((const char *)s, len);
  if (*out == NULL) {
    snprintf(d->err, d->errlen, "%s: a string that is not UTF-8 text",
             d->p.n ? d->p.s : "value");
    return WD_EINVAL;
  }
  return 0;
}

/* A table: an object (string keys only), an array (its array part and
** integer keys that fill 1..n), or an error naming its path. */
static int get_table(dec *d, int depth, json_t **out) {
  uint64_t narr, nhash, i, maxk = 0, w0;
  size_t slot = d->nrefs, old;
  json_t *arr = NULL, *obj = NULL, *ints = NULL, *v = NULL, *k = NULL;
  int r = 0;
  if (wd_codec_get_varint(&d->c, &narr) || wd_codec_get_varint(&d->c, &nhash) ||
      narr > wd_cur_left(&d->c) || nhash > wd_cur_left(&d->c))
    return bad(d);
  if (d->nrefs == MAXREFS) {
    snprintf(d->err, d->errlen, "too many tables");
    return WD_EINVAL;
  }
  d->refs[d->nrefs] = NULL;
  d->done[d->nrefs++] = 0;
  w0 = d->w;
  arr = json_array();
  obj = json_object();
  ints = json_object();
  if (arr == NULL || obj == NULL || ints == NULL) goto nomem;
  for (i = 0; i < narr; i++) {
    old = path_idx(&d->p, i);
    r = get_value(d, depth + 1, &v);
    path_cut(&d->p, old);
    if (r < 0) goto out;
    if (json_array_append_new(arr, v) < 0) goto nomem;
  }
  for (i = 0; i < nhash; i++) {
    char kb[32];
    if ((r = get_value(d, depth + 1, &k)) < 0) goto out;
    if (json_is_string(k)) {
      old = path_key(&d->p, json_string_value(k));
    } else if (json_is_integer(k) && json_integer_value(k) > (json_int_t)narr &&
               json_integer_value(k) <= (json_int_t)(2 * (narr + nhash) + 1)) {
      /* An index past the array part (after a hole): kept by number. A
      ** sequence less than half full is no sequence (its holes would
      ** make an array of any size). */
      snprintf(kb, sizeof kb, "%lld", (long long)json_integer_value(k));
      if ((uint64_t)json_integer_value(k) > maxk)
        maxk = (uint64_t)json_integer_value(k);
      old = path_idx(&d->p, (uint64_t)json_integer_value(k) - 1);
    } else {
      snprintf(d->err, d->errlen,
               "%s: a key that is neither a string nor an index of a "
               "sequence",
               d->p.n ? d->p.s : "value");
      r = WD_EINVAL;
      goto out;
    }
    r = get_value(d, depth + 1, &v);
    path_cut(&d->p, old);
    if (r < 0) goto out;
    if (json_is_string(k))
      r = json_object_set_new(obj, json_string_value(k), v);
    else
      r = json_object_set_new(ints, kb, v);
    v = NULL;
    json_decref(k);
    k = NULL;
    if (r < 0) goto nomem;
  }
  if (json_object_size(obj) > 0 &&
      (json_array_size(arr) > 0 || json_object_size(ints) > 0)) {
    snprintf(d->err, d->errlen,
             "%s: a table mixing string keys with a sequence",
             d->p.n ? d->p.s : "value");
    r = WD_EINVAL;
    goto out;
  }
  if (json_object_size(obj) > 0 || (narr == 0 && maxk == 0)) {
    *out = obj;
    obj = NULL;
  } else {
    /* The holes of a sequence are null. */
    for (i = narr + 1; i <= maxk; i++) {
      char kb[32];
      json_t *x;
      snprintf(kb, sizeof kb, "%llu", (unsigned long long)i);
      x = json_object_get(ints, kb);
      if (json_array_append(arr, x != NULL ? x : json_null()) < 0)
        goto nomem;
    }
    *out = arr;
    arr = NULL;
  }
  d->refs[slot] = json_incref(*out); /* its own: *out may be dropped */
  d->weight[slot] = d->w - w0;
  d->done[slot] = 1;
  r = 0;
  goto out;
nomem:
  snprintf(d->err, d->errlen, "out of memory");
  r = WD_ENOMEM;
out:
  json_decref(k);
  json_decref(arr);
  json_decref(obj);
  json_decref(ints);
  return r;
}

/* An error object: {"kind", "message"} (retryable, details and stack are
** read and left out). */
static int get_error(dec *d, int depth, json_t **out) {
  size_t slot = d->nrefs;
  json_t *f[5] = { NULL, NULL, NULL, NULL, NULL };
  uint64_t w0 = d->w;
  int i, r = 0;
  if (d->nrefs == MAXREFS) return bad(d);
  d->refs[d->nrefs] = NULL;
  d->done[d->nrefs++] = 0;
  for (i = 0; i < 5 && r == 0; i++) r = get_value(d, depth + 1, &f[i]);
  if (r == 0 && (!json_is_string(f[0]) || !json_is_string(f[1]))) r = bad(d);
  if (r == 0) {
    *out = json_pack("{sOsO}", "kind", f[0], "message", f[1]);
    if (*out == NULL) r = WD_ENOMEM;
  }
  for (i = 0; i < 5; i++) json_decref(f[i]);
  if (r == 0) {
    d->refs[slot] = json_incref(*out); /* its own: *out may be dropped */
    d->weight[slot] = d->w - w0;
    d->done[slot] = 1;
  }
  return r;
}

static int get_value(dec *d, int depth, json_t **out) {
  uint8_t t;
  uint64_t u;
  *out = NULL;
  if (depth > WD_CODEC_MAXDEPTH) {
    snprintf(d->err, d->errlen, "%s: nested too deeply",
             d->p.n ? d->p.s : "value");
    return WD_EINVAL;
  }
  if (wd_cur_u8(&d->c, &t) < 0) return bad(d);
  if (weigh(d, WEIGHT_VALUE) < 0) return WD_EINVAL;
  if (t >= WD_CODEC_T_SINT) {
    *out = json_integer(t - WD_CODEC_T_SINT);
  } else if (t >= WD_CODEC_T_SSTR && t < WD_CODEC_T_SSTR + 32) {
    return get_strv(d, (size_t)(t - WD_CODEC_T_SSTR), out);
  } else {
    switch (t) {
      case WD_CODEC_T_NIL:
        *out = json_null();
        break;
      case WD_CODEC_T_FALSE:
      case WD_CODEC_T_TRUE:
        *out = json_boolean(t == WD_CODEC_T_TRUE);
        break;
      case WD_CODEC_T_INT:
        if (wd_codec_get_varint(&d->c, &u)) return bad(d);
        *out = json_integer((json_int_t)((u >> 1) ^ (~(u & 1) + 1)));
        break;
      case WD_CODEC_T_FLT: {
        const uint8_t *b;
        uint64_t x = 0;
        double f;
        int i;
        if (wd_cur_bytes(&d->c, 8, &b) < 0) return bad(d);
        for (i = 7; i >= 0; i--) x = x << 8 | b[i];
        memcpy(&f, &x, sizeof f);
        if (!isfinite(f)) {
          snprintf(d->err, d->errlen, "%s: %s has no JSON form",
                   d->p.n ? d->p.s : "value", isnan(f) ? "NaN" : "infinity");
          return WD_EINVAL;
        }
        *out = json_real(f);
        break;
      }
      case WD_CODEC_T_STR:
        if (wd_codec_get_varint(&d->c, &u) || u > wd_cur_left(&d->c))
          return bad(d);
        return get_strv(d, (size_t)u, out);
      case WD_CODEC_T_TAB:
        return get_table(d, depth, out);
      case WD_CODEC_T_ERR:
        return get_error(d, depth, out);
      case WD_CODEC_T_REF:
        if (wd_codec_get_varint(&d->c, &u) || u >= d->nrefs) return bad(d);
        if (!d->done[u]) {
          snprintf(d->err, d->errlen, "%s: a cycle (a table inside itself)",
                   d->p.n ? d->p.s : "value");
          return WD_EINVAL;
        }
        /* A table met twice (not a cycle) is written twice. */
        if (weigh(d, d->weight[u]) < 0) return WD_EINVAL;
        *out = json_incref(d->refs[u]);
        break;
      default:
        return bad(d);
    }
  }
  if (*out == NULL) {
    snprintf(d->err, d->errlen, "out of memory");
    return WD_ENOMEM;
  }
  return 0;
}

int wd__gw_json_get(const uint8_t *p, size_t n, json_t **out, char *err,
                    size_t errlen) {
  static dec d; /* big; the gateway is single-threaded */
  uint64_t count;
  uint8_t h;
  /* Only what a decode reads before writing it is reset: 'refs', 'done'
  ** and 'weight' are read below 'nrefs' only, and clearing all of them
  ** cost more than the rest of decoding a small answer. */
  d.nrefs = 0;
  d.w = 0;
  d.p.n = 0;
  d.p.s[0] = '\0';
  wd_cur_init(&d.c, p, n);
  d.err = err;
  d.errlen = errlen;
  if (wd_cur_u8(&d.c, &h) < 0 || (h & 0xf0) != WD_CODEC_VERSION ||
      wd_codec_get_varint(&d.c, &count))
    return bad(&d);
  if (count == 0) {
    *out = json_null();
    return 0;
  }
  {
    /* A table or error object read and then dropped (an error's details)
    ** must not be met again through a back-reference once freed: the
    ** table of back-references holds a reference of its own to each. */
    int r = get_value(&d, 0, out);
    size_t i;
    for (i = 0; i < d.nrefs; i++) json_decref(d.refs[i]);
    return r;
  }
}

/* }====== */
