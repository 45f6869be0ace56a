/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Twilio Media Streams messages: the shared parts (event names, message
 * structs, the error domain) and parsing with json-glib. Building is in
 * twilioprotocolbuild.c, the per-frame fast path in twiliomedia.c; see
 * twilioprotocol.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <stdlib.h>
#include <json-glib/json-glib.h>

#include "twilioprotocol.h"
#include "twilioprotocolprivate.h"

G_DEFINE_QUARK (twilio - protocol - error - quark, twilio_protocol_error);

static const gchar *event_names[] = {
  [TWILIO_EVENT_UNKNOWN] = "unknown",
  [TWILIO_EVENT_CONNECTED] = "connected",
  [TWILIO_EVENT_START] = "start",
  [TWILIO_EVENT_MEDIA] = "media",
  [TWILIO_EVENT_DTMF] = "dtmf",
  [TWILIO_EVENT_MARK] = "mark",
  [TWILIO_EVENT_STOP] = "stop",
  [TWILIO_EVENT_CLEAR] = "clear",
};

const gchar *
twilio_event_to_string (TwilioEvent event)
{
  if ((guint) event >= G_N_ELEMENTS (event_names))
    return event_names[TWILIO_EVENT_UNKNOWN];
  return event_names[event];
}

TwilioEvent
twilio_event_from_string (const gchar * name)
{
  guint i;

  if (name == NULL)
    return TWILIO_EVENT_UNKNOWN;
  for (i = TWILIO_EVENT_CONNECTED; i < G_N_ELEMENTS (event_names); i++) {
    if (g_str_equal (name, event_names[i]))
      return (TwilioEvent) i;
  }
  return TWILIO_EVENT_UNKNOWN;
}

TwilioMessage *
twilio_message_new (TwilioEvent event)
{
  TwilioMessage *message = g_new0 (TwilioMessage, 1);

  message->event = event;
  return message;
}

void
twilio_message_free (TwilioMessage * message)
{
  if (message == NULL)
    return;
  g_free (message->stream_sid);
  g_free (message->protocol);
  g_free (message->version);
  g_free (message->account_sid);
  g_free (message->call_sid);
  g_strfreev (message->tracks);
  g_free (message->encoding);
  g_strfreev (message->custom_parameter_names);
  g_strfreev (message->custom_parameter_values);
  g_free (message->track);
  g_clear_pointer (&message->payload, g_bytes_unref);
  g_free (message->digit);
  g_free (message->mark_name);
  g_free (message);
}

/* ---- parsing ---------------------------------------------------------- */

static JsonNode *
get_member (JsonObject * obj, const gchar * key)
{
  if (obj == NULL || !json_object_has_member (obj, key))
    return NULL;
  return json_object_get_member (obj, key);
}

static gboolean
read_string (JsonObject * obj, const gchar * where, const gchar * key,
    gboolean required, gchar ** out, GError ** error)
{
  JsonNode *node = get_member (obj, key);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required) {
      g_set_error (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "%s%s%s is missing",
          where ? where : "", where ? "." : "", key);
      return FALSE;
    }
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR,
        TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "%s%s%s is not a string",
        where ? where : "", where ? "." : "", key);
    return FALSE;
  }
  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* Counters are JSON strings in Twilio's messages; plain integers are
 * accepted too. */
static gboolean
read_counter (JsonObject * obj, const gchar * where, const gchar * key,
    gboolean required, gboolean * has, guint64 * out, GError ** error)
{
  JsonNode *node = get_member (obj, key);
  const gchar *dot = where ? "." : "";

  where = where ? where : "";
  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required) {
      g_set_error (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "%s%s%s is missing", where,
          dot, key);
      return FALSE;
    }
    return TRUE;
  }
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    const gchar *s = json_node_get_string (node);
    guint64 value = 0;

    if (!g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT64, &value, NULL)) {
      g_set_error (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_BAD_NUMBER,
          "%s%s%s is not a non-negative integer: \"%.32s\"", where, dot, key,
          s);
      return FALSE;
    }
    *out = value;
    *has = TRUE;
    return TRUE;
  }
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64) {
    gint64 value = json_node_get_int (node);

    if (value < 0) {
      g_set_error (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_BAD_NUMBER, "%s%s%s is negative: %"
          G_GINT64_FORMAT, where, dot, key, value);
      return FALSE;
    }
    *out = (guint64) value;
    *has = TRUE;
    return TRUE;
  }
  g_set_error (error, TWILIO_PROTOCOL_ERROR, TWILIO_PROTOCOL_ERROR_WRONG_TYPE,
      "%s%s%s is neither a string nor an integer", where, dot, key);
  return FALSE;
}

static gboolean
read_int (JsonObject * obj, const gchar * where, const gchar * key,
    gboolean required, gint * out, GError ** error)
{
  gboolean has = FALSE;
  guint64 value = 0;

  if (!read_counter (obj, where, key, required, &has, &value, error))
    return FALSE;
  if (has) {
    if (value > G_MAXINT) {
      g_set_error (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_BAD_NUMBER, "%s.%s is too large", where, key);
      return FALSE;
    }
    *out = (gint) value;
  }
  return TRUE;
}

static JsonObject *
read_object (JsonObject * obj, const gchar * key, gboolean required,
    GError ** error)
{
  JsonNode *node = get_member (obj, key);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required)
      g_set_error (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_MISSING_FIELD, "%s is missing", key);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR,
        TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "%s is not an object", key);
    return NULL;
  }
  return json_node_get_object (node);
}

/* In strict mode every key must be one of @allowed (NULL-terminated). */
static gboolean
check_keys (JsonObject * obj, const gchar * where, const gchar * const *allowed,
    TwilioParseFlags flags, GError ** error)
{
  g_autoptr (GList) members = NULL;
  GList *l;

  if (!(flags & TWILIO_PARSE_STRICT) || obj == NULL)
    return TRUE;
  members = json_object_get_members (obj);
  for (l = members; l; l = l->next) {
    if (!g_strv_contains (allowed, l->data)) {
      g_set_error (error, TWILIO_PROTOCOL_ERROR,
          TWILIO_PROTOCOL_ERROR_EXTRA_FIELD, "%s has an unknown key \"%s\"",
          where, (const gchar *) l->data);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
read_payload (JsonObject * media, TwilioMessage * message, GError ** error)
{
  g_autofree gchar *text = NULL;
  GError *local = NULL;

  if (!read_string (media, "media", "payload", TRUE, &text, error))
    return FALSE;
  message->payload = twilio_base64_decode (text, strlen (text), &local);
  if (message->payload == NULL) {
    g_propagate_prefixed_error (error, local, "media.payload: ");
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_custom_parameters (JsonObject * start, TwilioMessage * message,
    GError ** error)
{
  JsonObject *params;
  g_autoptr (GList) members = NULL;
  GList *l;
  GPtrArray *names = g_ptr_array_new ();
  GPtrArray *values = g_ptr_array_new ();

  params = read_object (start, "customParameters", FALSE, error);
  if (params == NULL && error && *error) {
    g_prefix_error (error, "start.");
    g_ptr_array_free (names, TRUE);
    g_ptr_array_free (values, TRUE);
    return FALSE;
  }
  if (params)
    members = json_object_get_members (params);
  for (l = members; l; l = l->next) {
    JsonNode *node = json_object_get_member (params, l->data);
    gchar *value;

    /* <Parameter> values are strings; anything else is kept as its JSON
     * text rather than failing the whole start. */
    if (JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_STRING)
      value = g_strdup (json_node_get_string (node));
    else
      value = json_to_string (node, FALSE);
    g_ptr_array_add (names, g_strdup (l->data));
    g_ptr_array_add (values, value);
  }
  g_ptr_array_add (names, NULL);
  g_ptr_array_add (values, NULL);
  message->custom_parameter_names = (gchar **) g_ptr_array_free (names, FALSE);
  message->custom_parameter_values =
      (gchar **) g_ptr_array_free (values, FALSE);
  return TRUE;
}

static gboolean
read_tracks (JsonObject * start, TwilioMessage * message, GError ** error)
{
  JsonNode *node = get_member (start, "tracks");
  GPtrArray *tracks = g_ptr_array_new_with_free_func (g_free);
  JsonArray *array;
  guint i;

  if (node && JSON_NODE_HOLDS_ARRAY (node)) {
    array = json_node_get_array (node);
    for (i = 0; i < json_array_get_length (array); i++) {
      JsonNode *item = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (item)
          || json_node_get_value_type (item) != G_TYPE_STRING) {
        g_set_error (error, TWILIO_PROTOCOL_ERROR,
            TWILIO_PROTOCOL_ERROR_WRONG_TYPE,
            "start.tracks[%u] is not a string", i);
        g_ptr_array_free (tracks, TRUE);
        return FALSE;
      }
      g_ptr_array_add (tracks, g_strdup (json_node_get_string (item)));
    }
  } else if (node && !JSON_NODE_HOLDS_NULL (node)) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR,
        TWILIO_PROTOCOL_ERROR_WRONG_TYPE, "start.tracks is not an array");
    g_ptr_array_free (tracks, TRUE);
    return FALSE;
  }
  g_ptr_array_add (tracks, NULL);
  g_ptr_array_set_free_func (tracks, NULL);
  message->tracks = (gchar **) g_ptr_array_free (tracks, FALSE);
  return TRUE;
}

static gboolean
parse_start (JsonObject * root, TwilioMessage * m, TwilioParseFlags flags,
    GError ** error)
{
  static const gchar *const start_keys[] = { "accountSid", "streamSid",
    "callSid", "tracks", "mediaFormat", "customParameters", NULL
  };
  static const gchar *const format_keys[] = { "encoding", "sampleRate",
    "channels", NULL
  };
  gboolean strict = (flags & TWILIO_PARSE_STRICT) != 0;
  JsonObject *start, *format;

  start = read_object (root, "start", TRUE, error);
  if (start == NULL)
    return FALSE;
  if (!check_keys (start, "start", start_keys, flags, error))
    return FALSE;
  if (!read_string (start, "start", "accountSid", strict, &m->account_sid,
          error)
      || !read_string (start, "start", "callSid", strict, &m->call_sid, error))
    return FALSE;
  /* The stream SID is needed to answer; take it from either place. */
  if (m->stream_sid == NULL
      && !read_string (start, "start", "streamSid", TRUE, &m->stream_sid,
          error))
    return FALSE;
  if (!read_tracks (start, m, error))
    return FALSE;

  format = read_object (start, "mediaFormat", strict, error);
  if (format == NULL && error && *error) {
    g_prefix_error (error, "start.");
    return FALSE;
  }
  if (format) {
    m->has_media_format = TRUE;
    if (!check_keys (format, "start.mediaFormat", format_keys, flags, error)
        || !read_string (format, "start.mediaFormat", "encoding", TRUE,
            &m->encoding, error)
        || !read_int (format, "start.mediaFormat", "sampleRate", TRUE,
            &m->sample_rate, error)
        || !read_int (format, "start.mediaFormat", "channels", TRUE,
            &m->channels, error))
      return FALSE;
  }
  return read_custom_parameters (start, m, error);
}

static gboolean
parse_media (JsonObject * root, TwilioMessage * m, TwilioParseFlags flags,
    GError ** error)
{
  static const gchar *const from_keys[] = { "track", "chunk", "timestamp",
    "payload", NULL
  };
  static const gchar *const to_keys[] = { "payload", NULL };
  gboolean to_twilio = (flags & TWILIO_PARSE_TO_TWILIO) != 0;
  JsonObject *media = read_object (root, "media", TRUE, error);

  if (media == NULL)
    return FALSE;
  if (!check_keys (media, "media", to_twilio ? to_keys : from_keys, flags,
          error))
    return FALSE;
  if (!to_twilio) {
    gboolean strict = (flags & TWILIO_PARSE_STRICT) != 0;

    if (!read_string (media, "media", "track", strict, &m->track, error)
        || !read_counter (media, "media", "chunk", strict, &m->has_chunk,
            &m->chunk, error)
        || !read_counter (media, "media", "timestamp", strict,
            &m->has_timestamp, &m->timestamp_ms, error))
      return FALSE;
  }
  return read_payload (media, m, error);
}

static gboolean
parse_named_object (JsonObject * root, const gchar * key,
    const gchar * const *keys, TwilioParseFlags flags, JsonObject ** out,
    GError ** error)
{
  *out = read_object (root, key, TRUE, error);
  if (*out == NULL)
    return FALSE;
  return check_keys (*out, key, keys, flags, error);
}

static gboolean
parse_body (JsonObject * root, TwilioMessage * m, TwilioParseFlags flags,
    GError ** error)
{
  static const gchar *const dtmf_keys[] = { "track", "digit", NULL };
  static const gchar *const mark_keys[] = { "name", NULL };
  static const gchar *const stop_keys[] = { "accountSid", "callSid", NULL };
  gboolean strict = (flags & TWILIO_PARSE_STRICT) != 0;
  JsonObject *obj = NULL;

  switch (m->event) {
    case TWILIO_EVENT_CONNECTED:
      return read_string (root, NULL, "protocol", strict, &m->protocol, error)
          && read_string (root, NULL, "version", strict, &m->version, error);
    case TWILIO_EVENT_START:
      return parse_start (root, m, flags, error);
    case TWILIO_EVENT_MEDIA:
      return parse_media (root, m, flags, error);
    case TWILIO_EVENT_DTMF:
      return parse_named_object (root, "dtmf", dtmf_keys, flags, &obj, error)
          && read_string (obj, "dtmf", "track", strict, &m->track, error)
          && read_string (obj, "dtmf", "digit", TRUE, &m->digit, error);
    case TWILIO_EVENT_MARK:
      return parse_named_object (root, "mark", mark_keys, flags, &obj, error)
          && read_string (obj, "mark", "name", TRUE, &m->mark_name, error);
    case TWILIO_EVENT_STOP:
      /* The stop body only repeats SIDs; tolerate its absence. */
      obj = read_object (root, "stop", strict, error);
      if (obj == NULL)
        return !(error && *error);
      return check_keys (obj, "stop", stop_keys, flags, error)
          && read_string (obj, "stop", "accountSid", strict, &m->account_sid,
          error)
          && read_string (obj, "stop", "callSid", strict, &m->call_sid, error);
    case TWILIO_EVENT_CLEAR:
      return TRUE;
    case TWILIO_EVENT_UNKNOWN:
      break;
  }
  g_assert_not_reached ();
  return FALSE;
}

static gboolean
event_allowed (TwilioEvent event, TwilioParseFlags flags)
{
  if (flags & TWILIO_PARSE_TO_TWILIO)
    return event == TWILIO_EVENT_MEDIA || event == TWILIO_EVENT_MARK
        || event == TWILIO_EVENT_CLEAR;
  return event != TWILIO_EVENT_UNKNOWN && event != TWILIO_EVENT_CLEAR;
}

/* Strict mode: the top level holds "event", "streamSid", "sequenceNumber"
 * (from Twilio only) and one object named after the event. */
static gboolean
check_top_level_keys (JsonObject * obj, TwilioEvent event,
    TwilioParseFlags flags, GError ** error)
{
  const gchar *allowed[5] = { "event", NULL, };
  guint n = 1;

  if (event == TWILIO_EVENT_CONNECTED) {
    allowed[n++] = "protocol";
    allowed[n++] = "version";
  } else {
    allowed[n++] = "streamSid";
    if (!(flags & TWILIO_PARSE_TO_TWILIO))
      allowed[n++] = "sequenceNumber";
    if (event != TWILIO_EVENT_CLEAR)
      allowed[n++] = twilio_event_to_string (event);
  }
  allowed[n] = NULL;
  return check_keys (obj, "message", allowed, flags, error);
}

TwilioMessage *
twilio_message_parse (const gchar * json, gssize len, TwilioParseFlags flags,
    GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (TwilioMessage) message = NULL;
  g_autofree gchar *event_name = NULL;
  gboolean strict = (flags & TWILIO_PARSE_STRICT) != 0;
  gboolean to_twilio = (flags & TWILIO_PARSE_TO_TWILIO) != 0;
  GError *local = NULL;
  JsonNode *root;
  JsonObject *obj;
  TwilioEvent event;

  g_return_val_if_fail (json != NULL, NULL);

  if (!(flags & TWILIO_PARSE_NO_FAST_PATH)) {
    message = twilio_media_fast_parse (json, len < 0 ? strlen (json) :
        (gsize) len, flags);
    if (message)
      return g_steal_pointer (&message);
  }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, len, &local)) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR, TWILIO_PROTOCOL_ERROR_MALFORMED,
        "not valid JSON: %s", local->message);
    g_clear_error (&local);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR, TWILIO_PROTOCOL_ERROR_MALFORMED,
        "message is not a JSON object");
    return NULL;
  }
  obj = json_node_get_object (root);

  if (!read_string (obj, NULL, "event", TRUE, &event_name, error))
    return NULL;
  event = twilio_event_from_string (event_name);
  if (!event_allowed (event, flags)) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR,
        TWILIO_PROTOCOL_ERROR_UNKNOWN_EVENT,
        "unknown event \"%.64s\" for a message %s Twilio", event_name,
        to_twilio ? "to" : "from");
    return NULL;
  }

  message = twilio_message_new (event);
  if (!check_top_level_keys (obj, event, flags, error))
    return NULL;
  if (event != TWILIO_EVENT_CONNECTED) {
    if (!read_string (obj, NULL, "streamSid", strict, &message->stream_sid,
            error))
      return NULL;
    if (!to_twilio
        && !read_counter (obj, NULL, "sequenceNumber", strict,
            &message->has_sequence_number, &message->sequence_number, error))
      return NULL;
  }
  if (!parse_body (obj, message, flags, error))
    return NULL;
  return g_steal_pointer (&message);
}

gboolean
twilio_message_check_media_format (const TwilioMessage * message,
    GError ** error)
{
  g_return_val_if_fail (message != NULL, FALSE);

  if (!message->has_media_format)
    return TRUE;
  if (g_strcmp0 (message->encoding, TWILIO_ENCODING_MULAW) != 0
      || message->sample_rate != TWILIO_SAMPLE_RATE || message->channels != 1) {
    g_set_error (error, TWILIO_PROTOCOL_ERROR,
        TWILIO_PROTOCOL_ERROR_UNSUPPORTED_FORMAT,
        "unsupported media format: encoding \"%s\", %d Hz, %d channel(s); "
        "only %s, %d Hz, mono is supported",
        message->encoding ? message->encoding : "(none)", message->sample_rate,
        message->channels, TWILIO_ENCODING_MULAW, TWILIO_SAMPLE_RATE);
    return FALSE;
  }
  return TRUE;
}

gchar *
twilio_protocol_peek_event (const gchar * json, gsize len, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonObject *obj;

  if (!json_parser_load_from_data (parser, json, len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  obj = json_node_get_object (root);
  return g_strdup (json_object_get_string_member_with_default (obj, "event",
          NULL));
}
