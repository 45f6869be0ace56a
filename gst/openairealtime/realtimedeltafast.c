/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime GA protocol: a fast path for the delta events, most of
 * what the server sends. response.output_audio.delta carries 64 KiB of
 * base64 per second of 24 kHz audio; the text deltas
 * (response.output_audio_transcript.delta, response.output_text.delta,
 * response.function_call_arguments.delta,
 * conversation.item.input_audio_transcription.delta) come one per word or
 * token. json-glib builds a whole tree for each and its scanner costs about
 * 5 ns per character; this reads the one flat object such an event is and,
 * for audio, decodes the base64 straight from the text.
 *
 * It accepts only a strict subset of JSON: a flat object whose values are
 * plain ASCII strings (no escapes, control or non-ASCII characters) or
 * small integers, unique keys, one of the types above and every member the
 * full parser requires, with the type it requires. A text delta with an
 * escape ("\n", "\u00e9") or non-ASCII text is therefore refused: there is
 * no unescaper here. Anything refused returns NULL and goes through
 * rtp_server_event_parse_tree(), which then also reports what is wrong;
 * for what it accepts, the event equals the full parser's field by field
 * (tests/check/openairealtime/fastpath.c checks both on the same inputs).
 * No I/O.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "realtimeprotocolprivate.h"

#define MAX_MEMBERS 16
/* longer than any server event type we know */
#define MAX_TYPE_LEN 64

typedef struct
{
  const gchar *key;
  gsize key_len;
  const gchar *value;           /* string contents, or the number's text */
  gsize value_len;
  gboolean is_string;
} Member;

typedef struct
{
  Member members[MAX_MEMBERS];
  guint n_members;
} FlatObject;

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

/* Reads @json as one flat object into @object (pointers into @json).
 * FALSE for anything outside the subset, including duplicate keys
 * (json-glib keeps the last one; simpler to leave those to it). */
static gboolean
scan_flat_object (const gchar * json, gsize length, FlatObject * object)
{
  const gchar *p = json, *end = json + length;
  Member *members = object->members;
  guint n = 0, j;

  p = skip_space (p, end);
  if (p == end || *p++ != '{')
    return FALSE;
  for (;;) {
    Member *m;

    if (n == MAX_MEMBERS)
      return FALSE;
    m = &members[n];
    p = skip_space (p, end);
    if (p == end || *p++ != '"')
      return FALSE;
    m->key = p;
    if ((p = scan_plain_string (p, end)) == NULL)
      return FALSE;
    m->key_len = p - m->key;
    p = skip_space (p + 1, end);
    if (p == end || *p++ != ':')
      return FALSE;
    p = skip_space (p, end);
    if (p == end)
      return FALSE;
    if (*p == '"') {
      m->is_string = TRUE;
      m->value = ++p;
      if ((p = scan_plain_string (p, end)) == NULL)
        return FALSE;
      m->value_len = p - m->value;
      p++;
    } else {
      m->is_string = FALSE;
      m->value = p;
      if ((p = scan_small_integer (p, end)) == NULL)
        return FALSE;
      m->value_len = p - m->value;
    }
    for (j = 0; j < n; j++) {
      if (members[j].key_len == m->key_len
          && memcmp (members[j].key, m->key, m->key_len) == 0)
        return FALSE;
    }
    n++;
    p = skip_space (p, end);
    if (p == end)
      return FALSE;
    if (*p == '}')
      break;
    if (*p++ != ',')
      return FALSE;
  }
  if (skip_space (p + 1, end) != end)
    return FALSE;
  object->n_members = n;
  return TRUE;
}

static const Member *
find_member (const FlatObject * object, const gchar * key)
{
  gsize key_len = strlen (key);
  guint i;

  for (i = 0; i < object->n_members; i++) {
    const Member *m = &object->members[i];

    if (m->key_len == key_len && memcmp (m->key, key, key_len) == 0)
      return m;
  }
  return NULL;
}

/* Like rtp_get_string(): NULL when absent (the scanner has no null
 * literal); a number clears @ok. */
static gchar *
member_string (const FlatObject * object, const gchar * key, gboolean * ok)
{
  const Member *m = find_member (object, key);

  if (m == NULL)
    return NULL;
  if (!m->is_string) {
    *ok = FALSE;
    return NULL;
  }
  return g_strndup (m->value, m->value_len);
}

/* Like get_index() in realtimeserverevents.c: 0 when absent; a string
 * clears @ok. The scanner's integers fit a gint64. */
static gint
member_index (const FlatObject * object, const gchar * key, gboolean * ok)
{
  const Member *m = find_member (object, key);
  gboolean negative;
  gint64 value = 0;
  gsize i;

  if (m == NULL)
    return 0;
  if (m->is_string) {
    *ok = FALSE;
    return 0;
  }
  negative = m->value[0] == '-';
  for (i = negative ? 1 : 0; i < m->value_len; i++)
    value = value * 10 + (m->value[i] - '0');
  return rtp_index_from_int64 (negative ? -value : value);
}

RealtimeServerEvent *
rtp_parse_delta_fast (const gchar * json, gsize length)
{
  FlatObject object;
  const Member *type, *delta;
  gchar type_name[MAX_TYPE_LEN + 1];
  RealtimeServerEventType event_type;
  RealtimeServerEvent *event;
  gboolean ok = TRUE;

  if (!scan_flat_object (json, length, &object))
    return NULL;
  type = find_member (&object, "type");
  if (type == NULL || !type->is_string || type->value_len > MAX_TYPE_LEN)
    return NULL;
  memcpy (type_name, type->value, type->value_len);
  type_name[type->value_len] = '\0';
  event_type = realtime_server_event_type_from_string (type_name);
  switch (event_type) {
    case REALTIME_SERVER_OUTPUT_AUDIO_DELTA:
    case REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA:
    case REALTIME_SERVER_OUTPUT_TEXT_DELTA:
    case REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DELTA:
    case REALTIME_SERVER_TRANSCRIPTION_DELTA:
      break;
    default:
      return NULL;
  }
  /* the audio is decoded from the text, never copied into a string */
  delta = find_member (&object, "delta");
  if (event_type == REALTIME_SERVER_OUTPUT_AUDIO_DELTA
      && (delta == NULL || !delta->is_string))
    return NULL;

  /* the members rtp_server_event_parse_tree() reads for every event */
  event = g_new0 (RealtimeServerEvent, 1);
  event->type = event_type;
  event->type_name = g_strdup (type_name);
  event->input_tokens = event->output_tokens = event->total_tokens = -1;
  event->event_id = member_string (&object, "event_id", &ok);
  event->item_id = member_string (&object, "item_id", &ok);
  event->previous_item_id = member_string (&object, "previous_item_id", &ok);
  event->response_id = member_string (&object, "response_id", &ok);
  event->output_index = member_index (&object, "output_index", &ok);
  event->content_index = member_index (&object, "content_index", &ok);

  /* and those of each type, as parse_server_fields() */
  switch (event_type) {
    case REALTIME_SERVER_OUTPUT_AUDIO_DELTA:
      ok = ok && event->item_id != NULL && event->response_id != NULL;
      if (ok) {
        event->audio = rtp_base64_decode_strict (delta->value,
            delta->value_len);
        ok = event->audio != NULL;
      }
      break;
    case REALTIME_SERVER_TRANSCRIPTION_DELTA:
      event->delta = member_string (&object, "delta", &ok);
      ok = ok && event->item_id != NULL;
      break;
    default:
      event->delta = member_string (&object, "delta", &ok);
      event->call_id = member_string (&object, "call_id", &ok);
      ok = ok && event->delta != NULL;
      break;
  }
  if (!ok) {
    /* a wrong type or a missing member: the full parser says which */
    realtime_server_event_free (event);
    return NULL;
  }
  return event;
}
