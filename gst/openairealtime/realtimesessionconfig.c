/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime GA protocol: audio formats and the session configuration,
 * the "session" object of session.update (built strictly from what the GA
 * schema declares) and of session.created/updated (parsed). No I/O.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "realtimeprotocolprivate.h"

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
    rtp_wrong_type ("tools", "an array", error);
    return NULL;
  }
  return g_steal_pointer (&config);
}
