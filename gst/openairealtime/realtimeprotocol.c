/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime GA protocol: common helpers, session configuration,
 * conversation items and the client events. Server events are in
 * realtimeserverevents.c. No I/O.
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

static gboolean
wrong_type (const gchar * member, const gchar * expected, GError ** error)
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
    return wrong_type (member, "a string", error);
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
    return wrong_type (member, "an integer", error);
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
  return wrong_type (member, "an integer", error);
}

gboolean
rtp_get_double (JsonObject * object, const gchar * member, gboolean required,
    gdouble * out, GError ** error)
{
  JsonNode *node = get_member (object, member, required, error);

  if (node == NULL)
    return !required;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return wrong_type (member, "a number", error);
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    *out = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    *out = json_node_get_double (node);
  else
    return wrong_type (member, "a number", error);
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
    return wrong_type (member, "a boolean", error);
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
    return wrong_type (member, "an object", error);
  *out = json_node_get_object (node);
  return TRUE;
}

gboolean
rtp_base64_is_valid (const gchar * text)
{
  gsize len = strlen (text);
  gsize i, padding = 0;

  if (len % 4 != 0)
    return FALSE;
  for (i = 0; i < len; i++) {
    gchar c = text[i];

    if (c == '=') {
      padding++;
      continue;
    }
    /* data after padding */
    if (padding > 0)
      return FALSE;
    if (!g_ascii_isalnum (c) && c != '+' && c != '/')
      return FALSE;
  }
  return padding <= 2;
}

gboolean
rtp_get_base64 (JsonObject * object, const gchar * member, gboolean required,
    GBytes ** out, GError ** error)
{
  g_autofree gchar *text = NULL;
  guchar *data;
  gsize size = 0;

  if (!rtp_get_string (object, member, required, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  if (!rtp_base64_is_valid (text)) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR,
        REALTIME_PROTOCOL_ERROR_BASE64,
        "field \"%s\" is not valid base64 (%" G_GSIZE_FORMAT " characters)",
        member, strlen (text));
    return FALSE;
  }
  if (text[0] == '\0') {
    data = NULL;
  } else {
    data = g_base64_decode (text, &size);
  }
  if (*out)
    g_bytes_unref (*out);
  *out = g_bytes_new_take (data, size);
  return TRUE;
}

/* Parses a JSON text into a node; NULL with @error if it is not JSON or not
 * of @expected type. */
static JsonNode *
parse_json_text (const gchar * text, JsonNodeType expected, const gchar * what,
    GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, -1, &local_error)) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR, REALTIME_PROTOCOL_ERROR_SYNTAX,
        "%s is not valid JSON: %s", what, local_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || json_node_get_node_type (root) != expected) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR,
        REALTIME_PROTOCOL_ERROR_INVALID, "%s must be a JSON %s", what,
        expected == JSON_NODE_ARRAY ? "array" : "object");
    return NULL;
  }
  return json_node_copy (root);
}

/* ---- audio formats -------------------------------------------------------- */

const gchar *
realtime_audio_format_to_string (RealtimeAudioFormat format)
{
  switch (format) {
    case REALTIME_AUDIO_FORMAT_PCM16:
      return "audio/pcm";
    case REALTIME_AUDIO_FORMAT_PCMU:
      return "audio/pcmu";
    case REALTIME_AUDIO_FORMAT_PCMA:
      return "audio/pcma";
    default:
      return NULL;
  }
}

guint
realtime_audio_format_bytes_per_ms (RealtimeAudioFormat format)
{
  switch (format) {
    case REALTIME_AUDIO_FORMAT_PCM16:
      return 48;
    case REALTIME_AUDIO_FORMAT_PCMU:
    case REALTIME_AUDIO_FORMAT_PCMA:
      return 8;
    default:
      return 0;
  }
}

static JsonObject *
format_object_new (RealtimeAudioFormat format)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "type",
      realtime_audio_format_to_string (format));
  /* The API rejects audio/pcm without a rate; only 24 kHz exists. */
  if (format == REALTIME_AUDIO_FORMAT_PCM16)
    json_object_set_int_member (object, "rate", 24000);
  return object;
}

static gboolean
format_from_object (JsonObject * parent, const gchar * member,
    RealtimeAudioFormat * format, GError ** error)
{
  JsonObject *object;
  g_autofree gchar *type = NULL;
  gint64 rate = 24000;

  if (!rtp_get_object (parent, member, FALSE, &object, error))
    return FALSE;
  if (object == NULL)
    return TRUE;
  if (!rtp_get_string (object, "type", TRUE, &type, error)
      || !rtp_get_int (object, "rate", FALSE, &rate, error))
    return FALSE;
  if (g_str_equal (type, "audio/pcm") && rate == 24000)
    *format = REALTIME_AUDIO_FORMAT_PCM16;
  else if (g_str_equal (type, "audio/pcmu"))
    *format = REALTIME_AUDIO_FORMAT_PCMU;
  else if (g_str_equal (type, "audio/pcma"))
    *format = REALTIME_AUDIO_FORMAT_PCMA;
  else
    *format = REALTIME_AUDIO_FORMAT_OTHER;
  return TRUE;
}

/* ---- session configuration ------------------------------------------------ */

RealtimeSessionConfig *
realtime_session_config_new (void)
{
  RealtimeSessionConfig *config = g_new0 (RealtimeSessionConfig, 1);

  config->input_format = REALTIME_AUDIO_FORMAT_PCM16;
  config->output_format = REALTIME_AUDIO_FORMAT_PCM16;
  config->turn_detection = REALTIME_TURN_DETECTION_SERVER_VAD;
  config->vad_threshold = -1;
  config->prefix_padding_ms = -1;
  config->silence_duration_ms = -1;
  config->idle_timeout_ms = 0;
  config->create_response = TRUE;
  config->interrupt_response = TRUE;
  config->noise_reduction = REALTIME_NOISE_REDUCTION_NONE;
  return config;
}

RealtimeSessionConfig *
realtime_session_config_copy (const RealtimeSessionConfig * config)
{
  RealtimeSessionConfig *copy = g_new0 (RealtimeSessionConfig, 1);

  *copy = *config;
  copy->model = g_strdup (config->model);
  copy->instructions = g_strdup (config->instructions);
  copy->voice = g_strdup (config->voice);
  copy->transcription_model = g_strdup (config->transcription_model);
  copy->tools_json = g_strdup (config->tools_json);
  copy->extra_json = g_strdup (config->extra_json);
  return copy;
}

void
realtime_session_config_free (RealtimeSessionConfig * config)
{
  if (config == NULL)
    return;
  g_free (config->model);
  g_free (config->instructions);
  g_free (config->voice);
  g_free (config->transcription_model);
  g_free (config->tools_json);
  g_free (config->extra_json);
  g_free (config);
}

gboolean
realtime_session_config_validate (const RealtimeSessionConfig * config,
    GError ** error)
{
  JsonNode *node;

  if (config->tools_json && *config->tools_json) {
    node = parse_json_text (config->tools_json, JSON_NODE_ARRAY, "tools",
        error);
    if (node == NULL)
      return FALSE;
    json_node_unref (node);
  }
  if (config->extra_json && *config->extra_json) {
    node = parse_json_text (config->extra_json, JSON_NODE_OBJECT,
        "session-extra", error);
    if (node == NULL)
      return FALSE;
    json_node_unref (node);
  }
  return TRUE;
}

/* Copies every member of @src into @dest; objects are merged recursively so
 * that {"audio":{"output":{"speed":1.2}}} keeps the formats. */
static void
deep_merge (JsonObject * dest, JsonObject * src)
{
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *value;

  json_object_iter_init (&iter, src);
  while (json_object_iter_next (&iter, &name, &value)) {
    JsonNode *existing = json_object_get_member (dest, name);

    if (existing && JSON_NODE_HOLDS_OBJECT (existing)
        && JSON_NODE_HOLDS_OBJECT (value))
      deep_merge (json_node_get_object (existing),
          json_node_get_object (value));
    else
      json_object_set_member (dest, name, json_node_copy (value));
  }
}

static JsonObject *
turn_detection_object_new (const RealtimeSessionConfig * config)
{
  JsonObject *td = json_object_new ();

  if (config->turn_detection == REALTIME_TURN_DETECTION_SEMANTIC_VAD) {
    json_object_set_string_member (td, "type", "semantic_vad");
  } else {
    json_object_set_string_member (td, "type", "server_vad");
    if (config->vad_threshold >= 0)
      json_object_set_double_member (td, "threshold", config->vad_threshold);
    if (config->prefix_padding_ms >= 0)
      json_object_set_int_member (td, "prefix_padding_ms",
          config->prefix_padding_ms);
    if (config->silence_duration_ms >= 0)
      json_object_set_int_member (td, "silence_duration_ms",
          config->silence_duration_ms);
    if (config->idle_timeout_ms > 0)
      json_object_set_int_member (td, "idle_timeout_ms",
          config->idle_timeout_ms);
  }
  json_object_set_boolean_member (td, "create_response",
      config->create_response);
  json_object_set_boolean_member (td, "interrupt_response",
      config->interrupt_response);
  return td;
}

JsonObject *
rtp_session_object_new (const RealtimeSessionConfig * config,
    gboolean server_side, GError ** error)
{
  JsonObject *session = json_object_new ();
  JsonObject *audio = json_object_new ();
  JsonObject *input = json_object_new ();
  JsonObject *output = json_object_new ();

  json_object_set_string_member (session, "type", "realtime");
  /* The model is chosen by the URL and cannot change: only the server
   * reports it. */
  if (server_side && config->model)
    json_object_set_string_member (session, "model", config->model);
  if (config->instructions)
    json_object_set_string_member (session, "instructions",
        config->instructions);

  if (config->input_format != REALTIME_AUDIO_FORMAT_UNSET
      && config->input_format != REALTIME_AUDIO_FORMAT_OTHER)
    json_object_set_object_member (input, "format",
        format_object_new (config->input_format));
  if (config->transcription_model && *config->transcription_model) {
    JsonObject *tr = json_object_new ();
    json_object_set_string_member (tr, "model", config->transcription_model);
    json_object_set_object_member (input, "transcription", tr);
  } else if (server_side) {
    json_object_set_null_member (input, "transcription");
  }
  if (config->noise_reduction != REALTIME_NOISE_REDUCTION_NONE) {
    JsonObject *nr = json_object_new ();
    json_object_set_string_member (nr, "type",
        config->noise_reduction == REALTIME_NOISE_REDUCTION_NEAR_FIELD ?
        "near_field" : "far_field");
    json_object_set_object_member (input, "noise_reduction", nr);
  } else if (server_side) {
    json_object_set_null_member (input, "noise_reduction");
  }
  if (config->turn_detection == REALTIME_TURN_DETECTION_NONE)
    json_object_set_null_member (input, "turn_detection");
  else
    json_object_set_object_member (input, "turn_detection",
        turn_detection_object_new (config));

  if (config->output_format != REALTIME_AUDIO_FORMAT_UNSET
      && config->output_format != REALTIME_AUDIO_FORMAT_OTHER)
    json_object_set_object_member (output, "format",
        format_object_new (config->output_format));
  if (config->voice && *config->voice)
    json_object_set_string_member (output, "voice", config->voice);

  json_object_set_object_member (audio, "input", input);
  json_object_set_object_member (audio, "output", output);
  json_object_set_object_member (session, "audio", audio);

  if (config->tools_json && *config->tools_json) {
    JsonNode *tools = parse_json_text (config->tools_json, JSON_NODE_ARRAY,
        "tools", error);
    if (tools == NULL)
      goto failed;
    json_object_set_member (session, "tools", tools);
  }
  if (config->extra_json && *config->extra_json) {
    JsonNode *extra = parse_json_text (config->extra_json, JSON_NODE_OBJECT,
        "session-extra", error);
    if (extra == NULL)
      goto failed;
    deep_merge (session, json_node_get_object (extra));
    json_node_unref (extra);
  }
  return session;

failed:
  json_object_unref (session);
  return NULL;
}

RealtimeSessionConfig *
rtp_session_config_from_object (JsonObject * session, gchar ** session_type,
    GError ** error)
{
  g_autoptr (RealtimeSessionConfig) config = realtime_session_config_new ();
  JsonObject *audio = NULL, *input = NULL, *output = NULL, *obj = NULL;
  JsonNode *node;
  gint64 value;

  /* Only what is present is reported. */
  config->input_format = REALTIME_AUDIO_FORMAT_UNSET;
  config->output_format = REALTIME_AUDIO_FORMAT_UNSET;

  if (session_type && !rtp_get_string (session, "type", FALSE, session_type,
          error))
    return NULL;
  if (!rtp_get_string (session, "model", FALSE, &config->model, error)
      || !rtp_get_string (session, "instructions", FALSE,
          &config->instructions, error)
      || !rtp_get_object (session, "audio", FALSE, &audio, error))
    return NULL;

  if (audio) {
    if (!rtp_get_object (audio, "input", FALSE, &input, error)
        || !rtp_get_object (audio, "output", FALSE, &output, error))
      return NULL;
  }
  if (input) {
    if (!format_from_object (input, "format", &config->input_format, error))
      return NULL;
    if (!rtp_get_object (input, "transcription", FALSE, &obj, error))
      return NULL;
    if (obj && !rtp_get_string (obj, "model", FALSE,
            &config->transcription_model, error))
      return NULL;
    if (!rtp_get_object (input, "noise_reduction", FALSE, &obj, error))
      return NULL;
    if (obj) {
      g_autofree gchar *type = NULL;
      if (!rtp_get_string (obj, "type", FALSE, &type, error))
        return NULL;
      if (g_strcmp0 (type, "near_field") == 0)
        config->noise_reduction = REALTIME_NOISE_REDUCTION_NEAR_FIELD;
      else if (g_strcmp0 (type, "far_field") == 0)
        config->noise_reduction = REALTIME_NOISE_REDUCTION_FAR_FIELD;
    }
    node = json_object_get_member (input, "turn_detection");
    if (node && JSON_NODE_HOLDS_NULL (node)) {
      config->turn_detection = REALTIME_TURN_DETECTION_NONE;
    } else if (node) {
      g_autofree gchar *type = NULL;
      if (!rtp_get_object (input, "turn_detection", TRUE, &obj, error)
          || !rtp_get_string (obj, "type", FALSE, &type, error)
          || !rtp_get_double (obj, "threshold", FALSE, &config->vad_threshold,
              error)
          || !rtp_get_bool (obj, "create_response", FALSE,
              &config->create_response, error)
          || !rtp_get_bool (obj, "interrupt_response", FALSE,
              &config->interrupt_response, error))
        return NULL;
      if (g_strcmp0 (type, "semantic_vad") == 0)
        config->turn_detection = REALTIME_TURN_DETECTION_SEMANTIC_VAD;
      value = -1;
      if (!rtp_get_int (obj, "prefix_padding_ms", FALSE, &value, error))
        return NULL;
      config->prefix_padding_ms = (gint) value;
      value = -1;
      if (!rtp_get_int (obj, "silence_duration_ms", FALSE, &value, error))
        return NULL;
      config->silence_duration_ms = (gint) value;
      value = 0;
      if (!rtp_get_int (obj, "idle_timeout_ms", FALSE, &value, error))
        return NULL;
      config->idle_timeout_ms = (gint) value;
    }
  }
  if (output) {
    if (!format_from_object (output, "format", &config->output_format, error))
      return NULL;
    node = json_object_get_member (output, "voice");
    if (node && JSON_NODE_HOLDS_OBJECT (node)) {
      /* custom voice {"id": "voice_..."} */
      if (!rtp_get_string (json_node_get_object (node), "id", FALSE,
              &config->voice, error))
        return NULL;
    } else if (!rtp_get_string (output, "voice", FALSE, &config->voice, error)) {
      return NULL;
    }
  }
  node = json_object_get_member (session, "tools");
  if (node && JSON_NODE_HOLDS_ARRAY (node))
    config->tools_json = json_to_string (node, FALSE);
  else if (node && !JSON_NODE_HOLDS_NULL (node)) {
    wrong_type ("tools", "an array", error);
    return NULL;
  }
  return g_steal_pointer (&config);
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
      return wrong_type ("content", "an array", error);
    n = (content && JSON_NODE_HOLDS_ARRAY (content)) ?
        json_array_get_length (json_node_get_array (content)) : 0;
    for (i = 0; i < n; i++) {
      JsonNode *part_node =
          json_array_get_element (json_node_get_array (content), i);
      JsonObject *part;
      g_autofree gchar *part_type = NULL;
      g_autofree gchar *part_text = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (part_node))
        return wrong_type ("content[]", "an object", error);
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

gchar *
realtime_build_input_audio_append (const guint8 * data, gsize size)
{
  JsonObject *event = rtp_event_new ("input_audio_buffer.append", FALSE);
  gchar *b64 = g_base64_encode (data, size);

  json_object_set_string_member (event, "audio", b64);
  g_free (b64);
  return rtp_object_to_string (event);
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
