/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime GA protocol: common JSON helpers, conversation items and
 * the client events. The session configuration (and audio formats) is in
 * realtimesessionconfig.c, the server events in realtimeserverevents.c.
 * No I/O.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "realtimeprotocolprivate.h"

G_DEFINE_QUARK (realtime - protocol - error - quark, realtime_protocol_error);

/* ---- JSON helpers --------------------------------------------------------- */

gchar *
rtp_object_to_string (JsonObject * object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  gchar *text;

  json_node_take_object (node, object);
  text = json_to_string (node, FALSE);
  return text;
}

JsonObject *
rtp_event_new (const gchar * type, gboolean with_event_id)
{
  static gint counter = 0;
  JsonObject *object = json_object_new ();

  /* The server echoes event_id in errors; server events require one. */
  if (with_event_id) {
    gchar *id = g_strdup_printf ("event_%08x",
        (guint) g_atomic_int_add (&counter, 1) + 1);
    json_object_set_string_member (object, "event_id", id);
    g_free (id);
  }
  json_object_set_string_member (object, "type", type);
  return object;
}

JsonObject *
rtp_parse_object (const gchar * json, gssize length, const gchar ** type,
    GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonNode *type_node;

  if (json == NULL) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR, REALTIME_PROTOCOL_ERROR_SYNTAX,
        "no data");
    return NULL;
  }
  if (length < 0)
    length = strlen (json);

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, length, &local_error)) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR, REALTIME_PROTOCOL_ERROR_SYNTAX,
        "malformed JSON: %s", local_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR, REALTIME_PROTOCOL_ERROR_SYNTAX,
        "empty message");
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR,
        REALTIME_PROTOCOL_ERROR_NOT_OBJECT, "event is not a JSON object");
    return NULL;
  }
  object = json_node_get_object (root);
  type_node = json_object_get_member (object, "type");
  if (type_node == NULL || !JSON_NODE_HOLDS_VALUE (type_node)
      || json_node_get_value_type (type_node) != G_TYPE_STRING) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR,
        REALTIME_PROTOCOL_ERROR_NOT_OBJECT,
        "event has no string \"type\" member");
    return NULL;
  }
  json_object_ref (object);
  *type = json_node_get_string (type_node);
  return object;
}

/* Returns the member node, or NULL if absent or null; sets @error when a
 * required one is missing. */
static JsonNode *
get_member (JsonObject * object, const gchar * member, gboolean required,
    GError ** error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required)
      g_set_error (error, REALTIME_PROTOCOL_ERROR,
          REALTIME_PROTOCOL_ERROR_INVALID, "missing required field \"%s\"",
          member);
    return NULL;
  }
  return node;
}

gboolean
rtp_wrong_type (const gchar * member, const gchar * expected, GError ** error)
{
  g_set_error (error, REALTIME_PROTOCOL_ERROR, REALTIME_PROTOCOL_ERROR_INVALID,
      "field \"%s\" is not %s", member, expected);
  return FALSE;
}

gboolean
rtp_get_string (JsonObject * object, const gchar * member, gboolean required,
    gchar ** out, GError ** error)
{
  JsonNode *node = get_member (object, member, required, error);

  if (node == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return rtp_wrong_type (member, "a string", error);
  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

gboolean
rtp_get_int (JsonObject * object, const gchar * member, gboolean required,
    gint64 * out, GError ** error)
{
  JsonNode *node = get_member (object, member, required, error);

  if (node == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return rtp_wrong_type (member, "an integer", error);
  if (json_node_get_value_type (node) == G_TYPE_INT64) {
    *out = json_node_get_int (node);
    return TRUE;
  }
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE) {
    /* JSON has one number type; accept integral doubles (e.g. 1200.0). */
    gdouble d = json_node_get_double (node);
    if (d == (gdouble) (gint64) d) {
      *out = (gint64) d;
      return TRUE;
    }
  }
  return rtp_wrong_type (member, "an integer", error);
}

gboolean
rtp_get_double (JsonObject * object, const gchar * member, gboolean required,
    gdouble * out, GError ** error)
{
  JsonNode *node = get_member (object, member, required, error);

  if (node == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return rtp_wrong_type (member, "a number", error);
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    *out = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    *out = json_node_get_double (node);
  else
    return rtp_wrong_type (member, "a number", error);
  return TRUE;
}

gboolean
rtp_get_bool (JsonObject * object, const gchar * member, gboolean required,
    gboolean * out, GError ** error)
{
  JsonNode *node = get_member (object, member, required, error);

  if (node == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return rtp_wrong_type (member, "a boolean", error);
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
rtp_get_object (JsonObject * object, const gchar * member, gboolean required,
    JsonObject ** out, GError ** error)
{
  JsonNode *node = get_member (object, member, required, error);

  *out = NULL;
  if (node == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return rtp_wrong_type (member, "an object", error);
  *out = json_node_get_object (node);
  return TRUE;
}

/* Value of each base64 character, -1 for anything else ('=' included). */
static const gint8 base64_values[256] = {
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
  52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
  -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
  -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
  41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Decodes @len characters of strict base64 (length a multiple of 4, at most
 * two '=' and only at the end) in one pass that also validates; NULL if
 * @text is not valid base64. Audio is most of the traffic, so this reads
 * straight from the parser's string into one buffer of the exact size. */
GBytes *
rtp_base64_decode_strict (const gchar * text, gsize len)
{
  const guchar *in = (const guchar *) text;
  gsize padding = 0, quanta, i, size;
  guchar *data, *out;

  if (len % 4 != 0)
    return NULL;
  if (len == 0)
    return g_bytes_new (NULL, 0);
  if (in[len - 1] == '=')
    padding = in[len - 2] == '=' ? 2 : 1;
  quanta = len / 4;
  size = quanta * 3 - padding;
  out = data = g_malloc (quanta * 3);
  for (i = 0; i < quanta; i++, in += 4) {
    gint a = base64_values[in[0]], b = base64_values[in[1]];
    gint c, d;

    if (i + 1 == quanta && padding > 0) {
      /* the last quantum: "xx==" or "xxx=" */
      c = padding == 2 ? 0 : base64_values[in[2]];
      d = 0;
    } else {
      c = base64_values[in[2]];
      d = base64_values[in[3]];
    }
    if ((a | b | c | d) < 0) {
      g_free (data);
      return NULL;
    }
    out[0] = (a << 2) | (b >> 4);
    out[1] = ((b & 0xf) << 4) | (c >> 2);
    out[2] = ((c & 0x3) << 6) | d;
    out += 3;
  }
  return g_bytes_new_take (data, size);
}

gboolean
rtp_get_base64 (JsonObject * object, const gchar * member, gboolean required,
    GBytes ** out, GError ** error)
{
  JsonNode *node = json_object_get_member (object, member);
  const gchar *text;
  GBytes *audio;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required)
      g_set_error (error, REALTIME_PROTOCOL_ERROR,
          REALTIME_PROTOCOL_ERROR_INVALID, "missing required field \"%s\"",
          member);
    return !required;
  }
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return rtp_wrong_type (member, "a string", error);
  text = json_node_get_string (node);
  audio = rtp_base64_decode_strict (text, strlen (text));
  if (audio == NULL) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR,
        REALTIME_PROTOCOL_ERROR_BASE64,
        "field \"%s\" is not valid base64 (%" G_GSIZE_FORMAT " characters)",
        member, strlen (text));
    return FALSE;
  }
  if (*out)
    g_bytes_unref (*out);
  *out = audio;
  return TRUE;
}

/* ---- items ---------------------------------------------------------------- */

void
realtime_item_clear (RealtimeItem * item)
{
  g_free (item->type_name);
  g_free (item->id);
  g_free (item->role);
  g_free (item->status);
  g_free (item->text);
  g_free (item->name);
  g_free (item->call_id);
  g_free (item->arguments);
  g_free (item->output);
  memset (item, 0, sizeof (*item));
}

gboolean
rtp_item_from_object (JsonObject * object, RealtimeItem * item, GError ** error)
{
  JsonNode *content;

  realtime_item_clear (item);
  if (!rtp_get_string (object, "type", TRUE, &item->type_name, error)
      || !rtp_get_string (object, "id", FALSE, &item->id, error)
      || !rtp_get_string (object, "status", FALSE, &item->status, error))
    return FALSE;

  if (g_str_equal (item->type_name, "message")) {
    GString *text = NULL;
    guint i, n;

    item->type = REALTIME_ITEM_MESSAGE;
    if (!rtp_get_string (object, "role", TRUE, &item->role, error))
      return FALSE;
    content = json_object_get_member (object, "content");
    if (content && !JSON_NODE_HOLDS_ARRAY (content)
        && !JSON_NODE_HOLDS_NULL (content))
      return rtp_wrong_type ("content", "an array", error);
    n = (content && JSON_NODE_HOLDS_ARRAY (content)) ?
        json_array_get_length (json_node_get_array (content)) : 0;
    for (i = 0; i < n; i++) {
      JsonNode *part_node =
          json_array_get_element (json_node_get_array (content), i);
      JsonObject *part;
      g_autofree gchar *part_type = NULL;
      g_autofree gchar *part_text = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (part_node))
        return rtp_wrong_type ("content[]", "an object", error);
      part = json_node_get_object (part_node);
      if (!rtp_get_string (part, "type", FALSE, &part_type, error))
        return FALSE;
      if (g_strcmp0 (part_type, "input_audio") == 0
          || g_strcmp0 (part_type, "output_audio") == 0
          || g_strcmp0 (part_type, "audio") == 0) {
        item->has_audio = TRUE;
        if (!rtp_get_string (part, "transcript", FALSE, &part_text, error))
          return FALSE;
      } else if (!rtp_get_string (part, "text", FALSE, &part_text, error)) {
        return FALSE;
      }
      if (part_text) {
        if (text == NULL)
          text = g_string_new (part_text);
        else
          g_string_append_printf (text, " %s", part_text);
      }
    }
    if (text)
      item->text = g_string_free (text, FALSE);
  } else if (g_str_equal (item->type_name, "function_call")) {
    item->type = REALTIME_ITEM_FUNCTION_CALL;
    if (!rtp_get_string (object, "name", FALSE, &item->name, error)
        || !rtp_get_string (object, "call_id", FALSE, &item->call_id, error)
        || !rtp_get_string (object, "arguments", FALSE, &item->arguments,
            error))
      return FALSE;
  } else if (g_str_equal (item->type_name, "function_call_output")) {
    item->type = REALTIME_ITEM_FUNCTION_CALL_OUTPUT;
    if (!rtp_get_string (object, "call_id", TRUE, &item->call_id, error)
        || !rtp_get_string (object, "output", TRUE, &item->output, error))
      return FALSE;
  } else {
    item->type = REALTIME_ITEM_OTHER;
  }
  return TRUE;
}

JsonObject *
rtp_message_item_new (const gchar * id, const gchar * role,
    const gchar * status, const gchar * text)
{
  JsonObject *item = json_object_new ();
  JsonArray *content = json_array_new ();
  JsonObject *part = json_object_new ();

  if (id)
    json_object_set_string_member (item, "id", id);
  json_object_set_string_member (item, "type", "message");
  if (status)
    json_object_set_string_member (item, "status", status);
  json_object_set_string_member (item, "role", role);
  if (g_strcmp0 (role, "assistant") == 0)
    json_object_set_string_member (part, "type", "output_text");
  else
    json_object_set_string_member (part, "type", "input_text");
  json_object_set_string_member (part, "text", text ? text : "");
  json_array_add_object_element (content, part);
  json_object_set_array_member (item, "content", content);
  return item;
}

/* ---- client event builders ------------------------------------------------ */

gchar *
realtime_build_session_update (const RealtimeSessionConfig * config,
    GError ** error)
{
  JsonObject *session = rtp_session_object_new (config, FALSE, error);
  JsonObject *event;

  if (session == NULL)
    return NULL;
  event = rtp_event_new ("session.update", FALSE);
  json_object_set_object_member (event, "session", session);
  return rtp_object_to_string (event);
}

#define APPEND_PREFIX "{\"type\":\"input_audio_buffer.append\",\"audio\":\""
#define APPEND_SUFFIX "\"}"

/* The largest output of one g_base64_encode_step() of @size bytes. */
#define BASE64_STEP_MAX(size) (((size) / 3 + 1) * 4 + 4)

/* input_audio_buffer.append is sent 50 times a second: written straight
 * into one string of the right size instead of through a JSON tree (base64
 * needs no JSON escaping). */
void
realtime_append_builder_init (RealtimeAppendBuilder * builder, gsize size)
{
  builder->text = g_string_sized_new (sizeof (APPEND_PREFIX) +
      BASE64_STEP_MAX (size) + sizeof (APPEND_SUFFIX));
  g_string_append_len (builder->text, APPEND_PREFIX,
      sizeof (APPEND_PREFIX) - 1);
  builder->state = 0;
  builder->save = 0;
}

void
realtime_append_builder_add (RealtimeAppendBuilder * builder,
    const guint8 * data, gsize size)
{
  GString *text = builder->text;
  gsize len = text->len;

  if (size == 0)
    return;
  /* grows only if more than the announced size is added */
  g_string_set_size (text, len + BASE64_STEP_MAX (size));
  len += g_base64_encode_step (data, size, FALSE, text->str + len,
      &builder->state, &builder->save);
  g_string_truncate (text, len);
}

gchar *
realtime_append_builder_finish (RealtimeAppendBuilder * builder)
{
  GString *text = builder->text;
  gsize len = text->len;

  g_string_set_size (text, len + 4);
  len += g_base64_encode_close (FALSE, text->str + len, &builder->state,
      &builder->save);
  g_string_truncate (text, len);
  g_string_append_len (text, APPEND_SUFFIX, sizeof (APPEND_SUFFIX) - 1);
  builder->text = NULL;
  return g_string_free (text, FALSE);
}

gchar *
realtime_build_input_audio_append (const guint8 * data, gsize size)
{
  RealtimeAppendBuilder builder;

  realtime_append_builder_init (&builder, size);
  realtime_append_builder_add (&builder, data, size);
  return realtime_append_builder_finish (&builder);
}

gchar *
realtime_build_input_audio_commit (void)
{
  return rtp_object_to_string (rtp_event_new ("input_audio_buffer.commit",
          FALSE));
}

gchar *
realtime_build_input_audio_clear (void)
{
  return rtp_object_to_string (rtp_event_new ("input_audio_buffer.clear",
          FALSE));
}

gchar *
realtime_build_item_create_message (const gchar * role, const gchar * text)
{
  JsonObject *event = rtp_event_new ("conversation.item.create", FALSE);

  json_object_set_object_member (event, "item",
      rtp_message_item_new (NULL, role, NULL, text));
  return rtp_object_to_string (event);
}

gchar *
realtime_build_item_create_function_call (const gchar * call_id,
    const gchar * name, const gchar * arguments)
{
  JsonObject *event = rtp_event_new ("conversation.item.create", FALSE);
  JsonObject *item = json_object_new ();

  json_object_set_string_member (item, "type", "function_call");
  json_object_set_string_member (item, "call_id", call_id);
  json_object_set_string_member (item, "name", name);
  json_object_set_string_member (item, "arguments", arguments ? arguments :
      "{}");
  json_object_set_object_member (event, "item", item);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_item_create_function_call_output (const gchar * call_id,
    const gchar * output)
{
  JsonObject *event = rtp_event_new ("conversation.item.create", FALSE);
  JsonObject *item = json_object_new ();

  json_object_set_string_member (item, "type", "function_call_output");
  json_object_set_string_member (item, "call_id", call_id);
  json_object_set_string_member (item, "output", output ? output : "");
  json_object_set_object_member (event, "item", item);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_item_truncate (const gchar * item_id, gint content_index,
    gint64 audio_end_ms)
{
  JsonObject *event = rtp_event_new ("conversation.item.truncate", FALSE);

  json_object_set_string_member (event, "item_id", item_id);
  json_object_set_int_member (event, "content_index", content_index);
  json_object_set_int_member (event, "audio_end_ms", MAX (audio_end_ms, 0));
  return rtp_object_to_string (event);
}

gchar *
realtime_build_item_delete (const gchar * item_id)
{
  JsonObject *event = rtp_event_new ("conversation.item.delete", FALSE);

  json_object_set_string_member (event, "item_id", item_id);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_response_create (const gchar * instructions)
{
  JsonObject *event = rtp_event_new ("response.create", FALSE);

  if (instructions && *instructions) {
    JsonObject *response = json_object_new ();
    json_object_set_string_member (response, "instructions", instructions);
    json_object_set_object_member (event, "response", response);
  }
  return rtp_object_to_string (event);
}

gchar *
realtime_build_response_cancel (const gchar * response_id)
{
  JsonObject *event = rtp_event_new ("response.cancel", FALSE);

  if (response_id)
    json_object_set_string_member (event, "response_id", response_id);
  return rtp_object_to_string (event);
}

/* ---- client event parser (server side) ------------------------------------ */

static const struct
{
  const gchar *name;
  RealtimeClientEventType type;
} client_types[] = {
  {"session.update", REALTIME_CLIENT_SESSION_UPDATE},
  {"input_audio_buffer.append", REALTIME_CLIENT_INPUT_AUDIO_APPEND},
  {"input_audio_buffer.commit", REALTIME_CLIENT_INPUT_AUDIO_COMMIT},
  {"input_audio_buffer.clear", REALTIME_CLIENT_INPUT_AUDIO_CLEAR},
  {"conversation.item.create", REALTIME_CLIENT_ITEM_CREATE},
  {"conversation.item.truncate", REALTIME_CLIENT_ITEM_TRUNCATE},
  {"conversation.item.delete", REALTIME_CLIENT_ITEM_DELETE},
  {"conversation.item.retrieve", REALTIME_CLIENT_ITEM_RETRIEVE},
  {"response.create", REALTIME_CLIENT_RESPONSE_CREATE},
  {"response.cancel", REALTIME_CLIENT_RESPONSE_CANCEL},
  {"output_audio_buffer.clear", REALTIME_CLIENT_OUTPUT_AUDIO_CLEAR},
};

void
realtime_client_event_free (RealtimeClientEvent * event)
{
  if (event == NULL)
    return;
  g_free (event->type_name);
  g_free (event->event_id);
  realtime_session_config_free (event->session);
  g_free (event->session_type);
  if (event->audio)
    g_bytes_unref (event->audio);
  realtime_item_clear (&event->item);
  g_free (event->previous_item_id);
  g_free (event->item_id);
  g_free (event->response_id);
  g_free (event->instructions);
  g_free (event);
}

static gboolean
parse_client_fields (JsonObject * object, RealtimeClientEvent * event,
    GError ** error)
{
  JsonObject *child = NULL;
  gint64 value = 0;

  switch (event->type) {
    case REALTIME_CLIENT_SESSION_UPDATE:
      if (!rtp_get_object (object, "session", TRUE, &child, error))
        return FALSE;
      event->session = rtp_session_config_from_object (child,
          &event->session_type, error);
      return event->session != NULL;
    case REALTIME_CLIENT_INPUT_AUDIO_APPEND:
      return rtp_get_base64 (object, "audio", TRUE, &event->audio, error);
    case REALTIME_CLIENT_ITEM_CREATE:
      if (!rtp_get_string (object, "previous_item_id", FALSE,
              &event->previous_item_id, error)
          || !rtp_get_object (object, "item", TRUE, &child, error))
        return FALSE;
      return rtp_item_from_object (child, &event->item, error);
    case REALTIME_CLIENT_ITEM_TRUNCATE:
      if (!rtp_get_string (object, "item_id", TRUE, &event->item_id, error)
          || !rtp_get_int (object, "content_index", TRUE, &value, error))
        return FALSE;
      event->content_index = (gint) value;
      return rtp_get_int (object, "audio_end_ms", TRUE, &event->audio_end_ms,
          error);
    case REALTIME_CLIENT_ITEM_DELETE:
    case REALTIME_CLIENT_ITEM_RETRIEVE:
      return rtp_get_string (object, "item_id", TRUE, &event->item_id, error);
    case REALTIME_CLIENT_RESPONSE_CREATE:
      if (!rtp_get_object (object, "response", FALSE, &child, error))
        return FALSE;
      return child == NULL || rtp_get_string (child, "instructions", FALSE,
          &event->instructions, error);
    case REALTIME_CLIENT_RESPONSE_CANCEL:
      return rtp_get_string (object, "response_id", FALSE,
          &event->response_id, error);
    default:
      return TRUE;
  }
}

RealtimeClientEvent *
realtime_client_event_parse (const gchar * json, gssize length, GError ** error)
{
  const gchar *type = NULL;
  JsonObject *object = rtp_parse_object (json, length, &type, error);
  RealtimeClientEvent *event;
  g_autoptr (GError) local_error = NULL;
  guint i;

  if (object == NULL)
    return NULL;
  event = g_new0 (RealtimeClientEvent, 1);
  event->type_name = g_strdup (type);
  for (i = 0; i < G_N_ELEMENTS (client_types); i++) {
    if (g_str_equal (type, client_types[i].name)) {
      event->type = client_types[i].type;
      break;
    }
  }
  if (!rtp_get_string (object, "event_id", FALSE, &event->event_id,
          &local_error)
      || !parse_client_fields (object, event, &local_error)) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR, local_error->code,
        "%s: %s", event->type_name, local_error->message);
    realtime_client_event_free (event);
    event = NULL;
  }
  json_object_unref (object);
  return event;
}

gchar *
realtime_protocol_peek_type (const gchar * json, gsize len, GError ** error)
{
  const gchar *type = NULL;
  JsonObject *object = rtp_parse_object (json, len, &type, error);
  gchar *result;

  if (object == NULL)
    return NULL;
  result = g_strdup (type);
  json_object_unref (object);
  return result;
}
