/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local model's effective session configuration: the GA defaults
 * session.created reports, merging a validated session.update into it, and
 * reading what the model acts on. Declared in modelprotocol.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelprotocol.h"

#include <string.h>

static gchar *
child_path (const gchar * path, const gchar * name)
{
  return g_strdup_printf ("%s.%s", path, name);
}

static gboolean
is_string (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* ---- defaults, merge -------------------------------------------------- */

#define DEFAULT_INSTRUCTIONS \
  "You are the local echo model of gst-realtime-bridge. You cannot " \
  "understand speech: you say the caller's last utterance back to them."

static JsonObject *
server_vad_defaults (void)
{
  JsonObject *td = json_object_new ();

  json_object_set_string_member (td, "type", "server_vad");
  json_object_set_double_member (td, "threshold", 0.5);
  json_object_set_int_member (td, "prefix_padding_ms", 300);
  json_object_set_int_member (td, "silence_duration_ms", 200);
  json_object_set_null_member (td, "idle_timeout_ms");
  json_object_set_boolean_member (td, "create_response", TRUE);
  json_object_set_boolean_member (td, "interrupt_response", TRUE);
  return td;
}

static JsonObject *
semantic_vad_defaults (void)
{
  JsonObject *td = json_object_new ();

  json_object_set_string_member (td, "type", "semantic_vad");
  json_object_set_string_member (td, "eagerness", "auto");
  json_object_set_boolean_member (td, "create_response", TRUE);
  json_object_set_boolean_member (td, "interrupt_response", TRUE);
  return td;
}

JsonNode *
model_protocol_format_node (RealtimeAudioFormat format)
{
  JsonObject *f = json_object_new ();
  JsonNode *node;

  if (format != REALTIME_AUDIO_FORMAT_PCMU
      && format != REALTIME_AUDIO_FORMAT_PCMA)
    format = REALTIME_AUDIO_FORMAT_PCM16;
  json_object_set_string_member (f, "type",
      realtime_audio_format_to_string (format));
  if (format == REALTIME_AUDIO_FORMAT_PCM16)
    json_object_set_int_member (f, "rate", 24000);
  node = json_node_init_object (json_node_alloc (), f);
  json_object_unref (f);
  return node;
}

JsonObject *
model_session_new_default (const gchar * session_id, const gchar * model,
    gint64 expires_at)
{
  JsonObject *s = json_object_new ();
  JsonObject *audio = json_object_new ();
  JsonObject *in = json_object_new ();
  JsonObject *out = json_object_new ();
  JsonArray *modalities = json_array_new ();

  json_object_set_string_member (s, "type", "realtime");
  json_object_set_string_member (s, "object", "realtime.session");
  json_object_set_string_member (s, "id", session_id);
  json_object_set_string_member (s, "model", model);
  json_array_add_string_element (modalities, "audio");
  json_object_set_array_member (s, "output_modalities", modalities);
  json_object_set_string_member (s, "instructions", DEFAULT_INSTRUCTIONS);
  json_object_set_array_member (s, "tools", json_array_new ());
  json_object_set_string_member (s, "tool_choice", "auto");
  json_object_set_string_member (s, "max_output_tokens", "inf");
  json_object_set_null_member (s, "tracing");
  json_object_set_null_member (s, "prompt");
  json_object_set_int_member (s, "expires_at", expires_at);

  json_object_set_member (in, "format",
      model_protocol_format_node (REALTIME_AUDIO_FORMAT_PCM16));
  json_object_set_null_member (in, "transcription");
  json_object_set_null_member (in, "noise_reduction");
  json_object_set_object_member (in, "turn_detection", server_vad_defaults ());
  json_object_set_member (out, "format",
      model_protocol_format_node (REALTIME_AUDIO_FORMAT_PCM16));
  json_object_set_string_member (out, "voice", "marin");
  json_object_set_int_member (out, "speed", 1);
  json_object_set_object_member (audio, "input", in);
  json_object_set_object_member (audio, "output", out);
  json_object_set_object_member (s, "audio", audio);
  json_object_set_null_member (s, "include");
  return s;
}

static RealtimeAudioFormat
format_from_node (JsonNode * node)
{
  const gchar *type = NULL;

  if (node && JSON_NODE_HOLDS_OBJECT (node))
    type = json_object_get_string_member_with_default (json_node_get_object
        (node), "type", NULL);
  if (g_strcmp0 (type, "audio/pcmu") == 0)
    return REALTIME_AUDIO_FORMAT_PCMU;
  if (g_strcmp0 (type, "audio/pcma") == 0)
    return REALTIME_AUDIO_FORMAT_PCMA;
  return REALTIME_AUDIO_FORMAT_PCM16;
}

/* Members of these objects are merged one by one; every other member of
 * the update replaces the current value as a whole. */
static gboolean
is_merged_object (const gchar * path)
{
  return strcmp (path, "session") == 0 || strcmp (path, "session.audio") == 0
      || strcmp (path, "session.audio.input") == 0
      || strcmp (path, "session.audio.output") == 0;
}

static void
merge_into (JsonObject * target, JsonObject * update, const gchar * path)
{
  GList *members = json_object_get_members (update);
  GList *l;

  for (l = members; l; l = l->next) {
    const gchar *name = l->data;
    JsonNode *value = json_object_get_member (update, name);
    gchar *p = child_path (path, name);

    if (is_merged_object (p) && json_object_has_member (target, name)) {
      merge_into (json_object_get_object_member (target, name),
          json_node_get_object (value), p);
    } else if (strcmp (p, "session.audio.input.format") == 0
        || strcmp (p, "session.audio.output.format") == 0) {
      json_object_set_member (target, name,
          model_protocol_format_node (format_from_node (value)));
    } else if (strcmp (p, "session.audio.input.turn_detection") == 0
        && JSON_NODE_HOLDS_OBJECT (value)) {
      /* a partial turn_detection gets the server's defaults for the rest */
      JsonObject *given = json_node_get_object (value);
      JsonObject *td = g_strcmp0 (json_object_get_string_member (given,
              "type"), "semantic_vad") == 0 ?
          semantic_vad_defaults () : server_vad_defaults ();

      merge_into (td, given, "-");
      json_object_set_object_member (target, name, td);
    } else {
      json_object_set_member (target, name, json_node_copy (value));
    }
    g_free (p);
  }
  g_list_free (members);
}

static const gchar *
current_voice (JsonObject * session)
{
  JsonObject *audio = json_object_get_object_member (session, "audio");
  JsonObject *out = audio ? json_object_get_object_member (audio,
      "output") : NULL;
  JsonNode *voice = out ? json_object_get_member (out, "voice") : NULL;

  return voice && is_string (voice) ? json_node_get_string (voice) : NULL;
}

gboolean
model_session_apply_update (JsonObject * session, JsonNode * update,
    gboolean voice_locked, ModelError * err)
{
  JsonObject *upd;
  JsonObject *audio, *out;
  JsonNode *voice;

  if (!model_session_validate_update (update, err))
    return FALSE;
  upd = json_node_get_object (update);

  audio = model_protocol_object_member (upd, "audio");
  out = model_protocol_object_member (audio, "output");
  voice = out ? json_object_get_member (out, "voice") : NULL;
  if (voice_locked && voice && (!is_string (voice)
          || g_strcmp0 (json_node_get_string (voice),
              current_voice (session)) != 0)) {
    model_error_set (err, "invalid_request_error", "cannot_update_voice",
        "session.audio.output.voice",
        "Cannot update a conversation's voice if assistant audio is present.");
    return FALSE;
  }

  merge_into (session, upd, "session");
  return TRUE;
}

/* ---- reading what the model acts on ------------------------------------ */

void
model_session_params_read (JsonObject * session, ModelSessionParams * p)
{
  JsonObject *audio = json_object_get_object_member (session, "audio");
  JsonObject *in = json_object_get_object_member (audio, "input");
  JsonObject *out = json_object_get_object_member (audio, "output");
  JsonNode *td_node = json_object_get_member (in, "turn_detection");
  JsonNode *tr = json_object_get_member (in, "transcription");
  JsonArray *modalities =
      json_object_get_array_member (session, "output_modalities");
  JsonArray *tools = json_object_get_array_member (session, "tools");
  JsonNode *choice = json_object_get_member (session, "tool_choice");
  JsonNode *voice = json_object_get_member (out, "voice");
  guint i;

  model_session_params_clear (p);
  p->input_format = format_from_node (json_object_get_member (in, "format"));
  p->output_format = format_from_node (json_object_get_member (out, "format"));
  p->text_only = modalities && json_array_get_length (modalities) == 1 &&
      g_strcmp0 (json_array_get_string_element (modalities, 0), "text") == 0;
  p->transcription = tr && JSON_NODE_HOLDS_OBJECT (tr);

  p->turn_detection = MODEL_TURN_NONE;
  p->create_response = FALSE;
  p->interrupt_response = FALSE;
  p->threshold = 0.5;
  p->prefix_padding_ms = 300;
  p->silence_duration_ms = 200;
  p->idle_timeout_ms = 0;
  if (td_node && JSON_NODE_HOLDS_OBJECT (td_node)) {
    JsonObject *td = json_node_get_object (td_node);
    const gchar *type = json_object_get_string_member (td, "type");

    p->create_response = json_object_get_boolean_member_with_default (td,
        "create_response", TRUE);
    p->interrupt_response = json_object_get_boolean_member_with_default (td,
        "interrupt_response", TRUE);
    if (g_strcmp0 (type, "semantic_vad") == 0) {
      const gchar *eagerness =
          json_object_get_string_member_with_default (td, "eagerness",
          "auto");
      p->turn_detection = MODEL_TURN_SEMANTIC_VAD;
      /* eagerness as a fixed end-of-turn silence; see docs/local-model.md */
      if (g_strcmp0 (eagerness, "high") == 0)
        p->silence_duration_ms = 300;
      else if (g_strcmp0 (eagerness, "low") == 0)
        p->silence_duration_ms = 1500;
      else
        p->silence_duration_ms = 700;
      p->prefix_padding_ms = 300;
    } else {
      p->turn_detection = MODEL_TURN_SERVER_VAD;
      p->threshold = json_object_get_double_member_with_default (td,
          "threshold", 0.5);
      p->prefix_padding_ms = json_object_get_int_member_with_default (td,
          "prefix_padding_ms", 300);
      p->silence_duration_ms = json_object_get_int_member_with_default (td,
          "silence_duration_ms", 200);
      /* null (the default) = none; the schema allows 5000..30000 */
      if (json_object_has_member (td, "idle_timeout_ms")
          && !json_object_get_null_member (td, "idle_timeout_ms"))
        p->idle_timeout_ms = json_object_get_int_member (td, "idle_timeout_ms");
    }
  }

  for (i = 0; tools && i < json_array_get_length (tools); i++) {
    JsonObject *tool = json_array_get_object_element (tools, i);
    if (g_strcmp0 (json_object_get_string_member_with_default (tool, "type",
                NULL), "function") == 0) {
      p->first_tool = g_strdup (json_object_get_string_member (tool, "name"));
      break;
    }
  }
  p->tools_allowed = !(choice && is_string (choice)
      && strcmp (json_node_get_string (choice), "none") == 0);
  p->voice = g_strdup (voice && is_string (voice) ?
      json_node_get_string (voice) : "custom");
  p->instructions = g_strdup (json_object_get_string_member_with_default
      (session, "instructions", ""));
}

void
model_session_params_clear (ModelSessionParams * p)
{
  g_clear_pointer (&p->first_tool, g_free);
  g_clear_pointer (&p->voice, g_free);
  g_clear_pointer (&p->instructions, g_free);
}
