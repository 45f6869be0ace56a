/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime GA protocol: a fast path for response.output_audio.delta,
 * most of what the server sends (64 KiB of base64 per second of 24 kHz
 * audio). json-glib's scanner costs about 5 ns per character; this reads
 * the one flat object such an event is and decodes the base64 straight
 * from the text. It accepts only a strict subset of JSON: a flat object
 * with plain ASCII strings (no escapes), small integers, unique keys, type
 * "response.output_audio.delta" and valid fields. Anything else returns
 * NULL and goes through the full json-glib parser, which then reports what
 * is wrong; for what it accepts, the result equals the full parser's (the
 * unit tests check both on the same inputs). No I/O.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "realtimeprotocolprivate.h"

#define DELTA_TYPE "response.output_audio.delta"
#define MAX_MEMBERS 16

typedef struct
{
  const gchar *key;
  gsize key_len;
  const gchar *value;           /* string contents, or the number's text */
  gsize value_len;
  gboolean is_string;
} Member;

static const gchar *
skip_space (const gchar * p, const gchar * end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* A string without escapes, control or non-ASCII characters; @p is after
 * the opening quote. Returns the closing quote or NULL. */
static const gchar *
scan_plain_string (const gchar * p, const gchar * end)
{
  for (; p < end; p++) {
    guchar c = (guchar) * p;

    if (c == '"')
      return p;
    if (c == '\\' || c < 0x20 || c >= 0x80)
      return NULL;
  }
  return NULL;
}

/* -?(0|[1-9][0-9]*) with at most 18 digits: fits a gint64 as json-glib
 * reads it. Returns the end or NULL. */
static const gchar *
scan_small_integer (const gchar * p, const gchar * end)
{
  const gchar *digits;

  if (p < end && *p == '-')
    p++;
  digits = p;
  while (p < end && g_ascii_isdigit (*p))
    p++;
  if (p == digits || p - digits > 18 || (*digits == '0' && p - digits > 1))
    return NULL;
  /* a fraction or exponent is a double for json-glib: full path */
  if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
    return NULL;
  return p;
}

static gboolean
key_is (const Member * m, const gchar * key)
{
  return m->key_len == strlen (key) && memcmp (m->key, key, m->key_len) == 0;
}

static gboolean
value_is (const Member * m, const gchar * value)
{
  return m->is_string && m->value_len == strlen (value)
      && memcmp (m->value, value, m->value_len) == 0;
}

static gchar *
member_string (const Member * members, guint n, const gchar * key,
    gboolean * ok)
{
  guint i;

  for (i = 0; i < n; i++) {
    if (key_is (&members[i], key)) {
      if (!members[i].is_string)
        *ok = FALSE;
      return g_strndup (members[i].value, members[i].value_len);
    }
  }
  return NULL;
}

static gint
member_index (const Member * members, guint n, const gchar * key, gboolean * ok)
{
  guint i;

  for (i = 0; i < n; i++) {
    if (key_is (&members[i], key)) {
      gint64 value;

      if (members[i].is_string) {
        *ok = FALSE;
        return 0;
      }
      value = g_ascii_strtoll (members[i].value, NULL, 10);
      return (gint) CLAMP (value, G_MININT, G_MAXINT);
    }
  }
  return 0;
}

RealtimeServerEvent *
rtp_parse_audio_delta_fast (const gchar * json, gsize length)
{
  const gchar *p = json, *end = json + length;
  Member members[MAX_MEMBERS];
  const Member *delta = NULL, *type = NULL;
  RealtimeServerEvent *event;
  gboolean ok = TRUE;
  guint n = 0, i, j;

  p = skip_space (p, end);
  if (p == end || *p++ != '{')
    return NULL;
  for (;;) {
    Member *m;

    if (n == MAX_MEMBERS)
      return NULL;
    m = &members[n];
    p = skip_space (p, end);
    if (p == end || *p++ != '"')
      return NULL;
    m->key = p;
    if ((p = scan_plain_string (p, end)) == NULL)
      return NULL;
    m->key_len = p - m->key;
    p = skip_space (p + 1, end);
    if (p == end || *p++ != ':')
      return NULL;
    p = skip_space (p, end);
    if (p == end)
      return NULL;
    if (*p == '"') {
      m->is_string = TRUE;
      m->value = ++p;
      if ((p = scan_plain_string (p, end)) == NULL)
        return NULL;
      m->value_len = p - m->value;
      p++;
    } else {
      m->is_string = FALSE;
      m->value = p;
      if ((p = scan_small_integer (p, end)) == NULL)
        return NULL;
      m->value_len = p - m->value;
    }
    /* json-glib keeps the last of duplicate keys; simpler to leave them */
    for (j = 0; j < n; j++) {
      if (members[j].key_len == m->key_len
          && memcmp (members[j].key, m->key, m->key_len) == 0)
        return NULL;
    }
    n++;
    p = skip_space (p, end);
    if (p == end)
      return NULL;
    if (*p == '}')
      break;
    if (*p++ != ',')
      return NULL;
  }
  if (skip_space (p + 1, end) != end)
    return NULL;

  for (i = 0; i < n; i++) {
    if (key_is (&members[i], "type"))
      type = &members[i];
    else if (key_is (&members[i], "delta"))
      delta = &members[i];
  }
  if (type == NULL || !value_is (type, DELTA_TYPE))
    return NULL;
  if (delta == NULL || !delta->is_string)
    return NULL;

  event = g_new0 (RealtimeServerEvent, 1);
  event->type = REALTIME_SERVER_OUTPUT_AUDIO_DELTA;
  event->type_name = g_strdup (DELTA_TYPE);
  event->input_tokens = event->output_tokens = event->total_tokens = -1;
  event->event_id = member_string (members, n, "event_id", &ok);
  event->item_id = member_string (members, n, "item_id", &ok);
  event->previous_item_id = member_string (members, n, "previous_item_id", &ok);
  event->response_id = member_string (members, n, "response_id", &ok);
  event->output_index = member_index (members, n, "output_index", &ok);
  event->content_index = member_index (members, n, "content_index", &ok);
  if (!ok || event->item_id == NULL || event->response_id == NULL) {
    /* a wrong type or a missing field: the full parser says which */
    realtime_server_event_free (event);
    return NULL;
  }
  event->audio = rtp_base64_decode_strict (delta->value, delta->value_len);
  if (event->audio == NULL) {
    realtime_server_event_free (event);
    return NULL;
  }
  return event;
}
