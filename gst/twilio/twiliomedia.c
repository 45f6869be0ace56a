/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The per-frame part of the protocol: `media` and `mark` messages, 50 of
 * each per second and direction of every call. They are parsed and built
 * here without a JSON tree, and base64 is coded in place.
 *
 * The fast parser is an accelerator, not a second implementation of the
 * rules: it accepts only the plain, well-formed shape of these messages
 * (known keys once each, strings without escapes, integer counters) and
 * returns NULL for anything else, which the general parser in
 * twilioprotocol.c then accepts or rejects with a precise error. For what
 * it accepts it produces exactly what the general parser produces (checked
 * by the unit tests on real and mutated messages).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "twilioprotocol.h"
#include "twilioprotocolprivate.h"

/* ---- strict base64 ---------------------------------------------------- */

static inline gboolean
is_base64_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* Position of the first character that is not valid strict base64 of
 * @len bytes, or -1 when all are valid. */
static gssize
find_invalid_base64 (const gchar * text, gsize len)
{
  gsize i, padding = 0;

  for (i = 0; i < len; i++) {
    guchar c = text[i];

    if (c == '=' && i + 2 >= len) {
      padding++;
      continue;
    }
    if (padding > 0 || !is_base64_char (c))
      return i;
  }
  return -1;
}

GBytes *
twilio_base64_decode (const gchar * text, gsize len, GError ** error)
{
  gint state = 0;
  guint save = 0;
  guchar *data;
  gsize out_len;
  gssize bad;

  if (len % 4 != 0) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR,
        TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD,
        "base64 payload length %" G_GSIZE_FORMAT " is not a multiple of 4",
        len);
    return NULL;
  }
  bad = find_invalid_base64 (text, len);
  if (bad >= 0) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR,
        TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD,
        "invalid base64 character 0x%02x at offset %" G_GSSIZE_FORMAT,
        (guchar) text[bad], bad);
    return NULL;
  }
  if (len == 0)
    return g_bytes_new (NULL, 0);

  /* Decoded straight from the input: no NUL-terminated copy needed. */
  data = g_malloc (len / 4 * 3);
  out_len = g_base64_decode_step (text, len, data, &state, &save);
  return g_bytes_new_take (data, out_len);
}

/* ---- fast parsing ----------------------------------------------------- */

typedef struct
{
  const gchar *p;
  const gchar *end;
} Cursor;

/* A scalar value: a string without escapes, or an integer literal. */
typedef struct
{
  const gchar *text;
  gsize len;
  gboolean is_string;
  gboolean present;
} Scalar;

static inline void
skip_space (Cursor * c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n'
          || *c->p == '\r'))
    c->p++;
}

static inline gboolean
take_char (Cursor * c, gchar ch)
{
  skip_space (c);
  if (c->p >= c->end || *c->p != ch)
    return FALSE;
  c->p++;
  return TRUE;
}

/* Printable ASCII only: escapes, control characters and UTF-8 are left to
 * the general parser. */
static gboolean
take_plain_string (Cursor * c, const gchar ** text, gsize * len)
{
  const gchar *start;

  if (!take_char (c, '"'))
    return FALSE;
  start = c->p;
  while (c->p < c->end && *c->p != '"') {
    guchar ch = *c->p;

    if (ch < 0x20 || ch >= 0x7f || ch == '\\')
      return FALSE;
    c->p++;
  }
  if (c->p >= c->end)
    return FALSE;
  *text = start;
  *len = c->p - start;
  c->p++;
  return TRUE;
}

static gboolean
take_scalar (Cursor * c, Scalar * value)
{
  if (value->present)
    return FALSE;               /* duplicate key */
  skip_space (c);
  if (c->p < c->end && *c->p == '"') {
    if (!take_plain_string (c, &value->text, &value->len))
      return FALSE;
    value->is_string = TRUE;
  } else {
    value->text = c->p;
    while (c->p < c->end && g_ascii_isdigit (*c->p))
      c->p++;
    value->len = c->p - value->text;
    /* No sign, fraction, exponent or leading zero; fits a gint64. */
    if (value->len == 0 || value->len > 18
        || (value->len > 1 && value->text[0] == '0'))
      return FALSE;
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
      return FALSE;
  }
  value->present = TRUE;
  return TRUE;
}

static inline gboolean
key_is (const gchar * key, gsize len, const gchar * name)
{
  return strlen (name) == len && memcmp (key, name, len) == 0;
}

typedef struct
{
  Scalar event, sequence_number, stream_sid;
  gboolean has_media, has_mark;
  Scalar track, chunk, timestamp, payload;      /* media */
  Scalar name;                  /* mark */
} FastFields;

/* The body object of a media (@media) or mark message; a key that does
 * not belong there fails. */
static gboolean
take_body (Cursor * c, FastFields * f, gboolean media)
{
  gboolean first = TRUE;

  if (!take_char (c, '{'))
    return FALSE;
  if (take_char (c, '}'))
    return TRUE;
  do {
    const gchar *key;
    gsize len;
    Scalar *slot;

    if (!take_plain_string (c, &key, &len) || !take_char (c, ':'))
      return FALSE;
    if (media && key_is (key, len, "track"))
      slot = &f->track;
    else if (media && key_is (key, len, "chunk"))
      slot = &f->chunk;
    else if (media && key_is (key, len, "timestamp"))
      slot = &f->timestamp;
    else if (media && key_is (key, len, "payload"))
      slot = &f->payload;
    else if (!media && key_is (key, len, "name"))
      slot = &f->name;
    else
      return FALSE;
    if (!take_scalar (c, slot))
      return FALSE;
    first = FALSE;
  } while (take_char (c, ','));
  return !first && take_char (c, '}');
}

static gboolean
take_message (Cursor * c, FastFields * f)
{
  if (!take_char (c, '{'))
    return FALSE;
  do {
    const gchar *key;
    gsize len;

    if (!take_plain_string (c, &key, &len) || !take_char (c, ':'))
      return FALSE;
    if (key_is (key, len, "event")) {
      if (!take_scalar (c, &f->event))
        return FALSE;
    } else if (key_is (key, len, "sequenceNumber")) {
      if (!take_scalar (c, &f->sequence_number))
        return FALSE;
    } else if (key_is (key, len, "streamSid")) {
      if (!take_scalar (c, &f->stream_sid))
        return FALSE;
    } else if (key_is (key, len, "media") && !f->has_media) {
      if (!take_body (c, f, TRUE))
        return FALSE;
      f->has_media = TRUE;
    } else if (key_is (key, len, "mark") && !f->has_mark) {
      if (!take_body (c, f, FALSE))
        return FALSE;
      f->has_mark = TRUE;
    } else {
      return FALSE;
    }
  } while (take_char (c, ','));
  if (!take_char (c, '}'))
    return FALSE;
  skip_space (c);
  return c->p == c->end;
}

static gboolean
scalar_to_counter (const Scalar * s, gboolean * has, guint64 * out)
{
  gchar digits[24];

  if (!s->present)
    return TRUE;
  if (s->len >= sizeof (digits))
    return FALSE;
  memcpy (digits, s->text, s->len);
  digits[s->len] = '\0';
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT64, out, NULL))
    return FALSE;
  *has = TRUE;
  return TRUE;
}

static gboolean
scalar_to_string (const Scalar * s, gchar ** out)
{
  if (!s->present)
    return TRUE;
  if (!s->is_string)
    return FALSE;
  *out = g_strndup (s->text, s->len);
  return TRUE;
}

TwilioMessage *
twilio_media_fast_parse (const gchar * json, gsize len, TwilioParseFlags flags)
{
  gboolean strict = (flags & TWILIO_PARSE_STRICT) != 0;
  gboolean to_twilio = (flags & TWILIO_PARSE_TO_TWILIO) != 0;
  FastFields f = { {0,}, };
  Cursor c = { json, json + len };
  TwilioMessage *m;
  TwilioEvent event;

  if (!take_message (&c, &f) || !f.event.present || !f.event.is_string)
    return NULL;
  if (key_is (f.event.text, f.event.len, "media") && f.has_media && !f.has_mark)
    event = TWILIO_EVENT_MEDIA;
  else if (key_is (f.event.text, f.event.len, "mark") && f.has_mark
      && !f.has_media)
    event = TWILIO_EVENT_MARK;
  else
    return NULL;

  /* Shapes the general parser treats specially, or rejects, go there. */
  if (to_twilio && (f.sequence_number.present || f.track.present
          || f.chunk.present || f.timestamp.present))
    return NULL;
  if (strict && (!f.stream_sid.present || (!to_twilio
              && (!f.sequence_number.present || (event == TWILIO_EVENT_MEDIA
                      && (!f.track.present || !f.chunk.present
                          || !f.timestamp.present))))))
    return NULL;
  if (event == TWILIO_EVENT_MEDIA && (!f.payload.present
          || !f.payload.is_string))
    return NULL;
  if (event == TWILIO_EVENT_MARK && (!f.name.present || !f.name.is_string))
    return NULL;

  m = twilio_message_new (event);
  if (!scalar_to_string (&f.stream_sid, &m->stream_sid)
      || (!to_twilio && !scalar_to_counter (&f.sequence_number,
              &m->has_sequence_number, &m->sequence_number))
      || !scalar_to_string (&f.track, &m->track)
      || !scalar_to_counter (&f.chunk, &m->has_chunk, &m->chunk)
      || !scalar_to_counter (&f.timestamp, &m->has_timestamp, &m->timestamp_ms)
      || !scalar_to_string (&f.name, &m->mark_name))
    goto fallback;
  if (event == TWILIO_EVENT_MEDIA) {
    m->payload = twilio_base64_decode (f.payload.text, f.payload.len, NULL);
    if (m->payload == NULL)
      goto fallback;
  }
  return m;

fallback:
  twilio_message_free (m);
  return NULL;
}

/* ---- fast building ---------------------------------------------------- */

/* Strings that JSON carries verbatim (what json-glib would not escape). */
static gboolean
is_plain (const gchar * s)
{
  for (; s && *s; s++) {
    guchar ch = *s;

    if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
      return FALSE;
  }
  return TRUE;
}

static void
append_base64 (GString * out, const guint8 * data, gsize len)
{
  gsize start = out->len, n;
  gint state = 0, save = 0;

  /* Room as g_base64_encode_step () documents it; trimmed after. */
  g_string_set_size (out, start + (len / 3 + 1) * 4 + 4);
  n = g_base64_encode_step (data, len, FALSE, out->str + start, &state, &save);
  n += g_base64_encode_close (FALSE, out->str + start + n, &state, &save);
  g_string_truncate (out, start + n);
}

static void
append_counter (GString * out, const gchar * key, guint64 value)
{
  g_string_append_printf (out, "\"%s\":\"%" G_GUINT64_FORMAT "\",", key, value);
}

gchar *
twilio_build_media (const gchar * stream_sid, const guint8 * data, gsize len)
{
  const gchar *sid = stream_sid ? stream_sid : "";
  GString *out;

  if (!is_plain (sid))
    return twilio_build_media_slow (stream_sid, data, len);
  out = g_string_sized_new (64 + strlen (sid) + len / 3 * 4);
  g_string_append (out, "{\"event\":\"media\",\"streamSid\":\"");
  g_string_append (out, sid);
  g_string_append (out, "\",\"media\":{\"payload\":\"");
  append_base64 (out, data, len);
  g_string_append (out, "\"}}");
  return g_string_free (out, FALSE);
}

gchar *
twilio_build_mark (const gchar * stream_sid, const gchar * name)
{
  if (!is_plain (stream_sid) || !is_plain (name))
    return twilio_build_mark_slow (stream_sid, name);
  return g_strconcat ("{\"event\":\"mark\",\"streamSid\":\"",
      stream_sid ? stream_sid : "", "\",\"mark\":{\"name\":\"",
      name ? name : "", "\"}}", NULL);
}

gchar *
twilio_build_inbound_media (guint64 sequence_number, const gchar * stream_sid,
    const gchar * track, guint64 chunk, guint64 timestamp_ms,
    const guint8 * data, gsize len)
{
  GString *out;

  if (!is_plain (stream_sid) || !is_plain (track))
    return twilio_build_inbound_media_slow (sequence_number, stream_sid,
        track, chunk, timestamp_ms, data, len);
  out = g_string_sized_new (160 + strlen (stream_sid ? stream_sid : "") +
      len / 3 * 4);
  g_string_append (out, "{\"event\":\"media\",");
  append_counter (out, "sequenceNumber", sequence_number);
  g_string_append (out, "\"media\":{\"track\":\"");
  g_string_append (out, track ? track : "inbound");
  g_string_append (out, "\",");
  append_counter (out, "chunk", chunk);
  append_counter (out, "timestamp", timestamp_ms);
  g_string_append (out, "\"payload\":\"");
  append_base64 (out, data, len);
  g_string_append (out, "\"},\"streamSid\":\"");
  g_string_append (out, stream_sid ? stream_sid : "");
  g_string_append (out, "\"}");
  return g_string_free (out, FALSE);
}

gchar *
twilio_build_mark_echo (guint64 sequence_number, const gchar * stream_sid,
    const gchar * name)
{
  GString *out;

  if (!is_plain (stream_sid) || !is_plain (name))
    return twilio_build_mark_echo_slow (sequence_number, stream_sid, name);
  out = g_string_sized_new (96);
  g_string_append (out, "{\"event\":\"mark\",");
  append_counter (out, "sequenceNumber", sequence_number);
  g_string_append (out, "\"streamSid\":\"");
  g_string_append (out, stream_sid ? stream_sid : "");
  g_string_append (out, "\",\"mark\":{\"name\":\"");
  g_string_append (out, name ? name : "");
  g_string_append (out, "\"}}");
  return g_string_free (out, FALSE);
}
