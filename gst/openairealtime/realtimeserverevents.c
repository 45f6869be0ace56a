/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime GA protocol: the server events, parsed into
 * RealtimeServerEvent (client side) and built (local model, fake servers).
 * No I/O.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "realtimeprotocolprivate.h"

static const struct
{
  const gchar *name;
  RealtimeServerEventType type;
} server_types[] = {
  {"error", REALTIME_SERVER_ERROR},
  {"session.created", REALTIME_SERVER_SESSION_CREATED},
  {"session.updated", REALTIME_SERVER_SESSION_UPDATED},
  {"conversation.created", REALTIME_SERVER_CONVERSATION_CREATED},
  {"input_audio_buffer.speech_started", REALTIME_SERVER_SPEECH_STARTED},
  {"input_audio_buffer.speech_stopped", REALTIME_SERVER_SPEECH_STOPPED},
  {"input_audio_buffer.committed", REALTIME_SERVER_INPUT_AUDIO_COMMITTED},
  {"input_audio_buffer.cleared", REALTIME_SERVER_INPUT_AUDIO_CLEARED},
  {"input_audio_buffer.timeout_triggered",
      REALTIME_SERVER_INPUT_AUDIO_TIMEOUT_TRIGGERED},
  {"conversation.item.created", REALTIME_SERVER_ITEM_CREATED},
  {"conversation.item.added", REALTIME_SERVER_ITEM_ADDED},
  {"conversation.item.done", REALTIME_SERVER_ITEM_DONE},
  {"conversation.item.truncated", REALTIME_SERVER_ITEM_TRUNCATED},
  {"conversation.item.deleted", REALTIME_SERVER_ITEM_DELETED},
  {"conversation.item.input_audio_transcription.delta",
      REALTIME_SERVER_TRANSCRIPTION_DELTA},
  {"conversation.item.input_audio_transcription.completed",
      REALTIME_SERVER_TRANSCRIPTION_COMPLETED},
  {"conversation.item.input_audio_transcription.failed",
      REALTIME_SERVER_TRANSCRIPTION_FAILED},
  {"response.created", REALTIME_SERVER_RESPONSE_CREATED},
  {"response.done", REALTIME_SERVER_RESPONSE_DONE},
  {"response.output_item.added", REALTIME_SERVER_OUTPUT_ITEM_ADDED},
  {"response.output_item.done", REALTIME_SERVER_OUTPUT_ITEM_DONE},
  {"response.content_part.added", REALTIME_SERVER_CONTENT_PART_ADDED},
  {"response.content_part.done", REALTIME_SERVER_CONTENT_PART_DONE},
  {"response.output_audio.delta", REALTIME_SERVER_OUTPUT_AUDIO_DELTA},
  {"response.output_audio.done", REALTIME_SERVER_OUTPUT_AUDIO_DONE},
  {"response.output_audio_transcript.delta",
      REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA},
  {"response.output_audio_transcript.done",
      REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DONE},
  {"response.output_text.delta", REALTIME_SERVER_OUTPUT_TEXT_DELTA},
  {"response.output_text.done", REALTIME_SERVER_OUTPUT_TEXT_DONE},
  {"response.function_call_arguments.delta",
      REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DELTA},
  {"response.function_call_arguments.done",
      REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DONE},
  {"rate_limits.updated", REALTIME_SERVER_RATE_LIMITS_UPDATED},
};

RealtimeServerEventType
realtime_server_event_type_from_string (const gchar * type)
{
  guint i;

  for (i = 0; type && i < G_N_ELEMENTS (server_types); i++) {
    if (g_str_equal (type, server_types[i].name))
      return server_types[i].type;
  }
  return REALTIME_SERVER_UNKNOWN;
}

void
realtime_server_event_free (RealtimeServerEvent * event)
{
  if (event == NULL)
    return;
  g_free (event->type_name);
  g_free (event->event_id);
  realtime_session_config_free (event->session);
  g_free (event->session_id);
  g_free (event->item_id);
  g_free (event->previous_item_id);
  g_free (event->response_id);
  g_free (event->delta);
  g_free (event->transcript);
  if (event->audio)
    g_bytes_unref (event->audio);
  realtime_item_clear (&event->item);
  g_free (event->name);
  g_free (event->call_id);
  g_free (event->arguments);
  g_free (event->status);
  g_free (event->reason);
  g_free (event->rate_limits_json);
  g_free (event->error_type);
  g_free (event->error_code);
  g_free (event->error_message);
  g_free (event->error_param);
  g_free (event->error_event_id);
  g_free (event);
}

gint
rtp_index_from_int64 (gint64 value)
{
  return (gint) CLAMP (value, G_MININT, G_MAXINT);
}

static gboolean
get_index (JsonObject * object, const gchar * member, gboolean required,
    gint * out, GError ** error)
{
  gint64 value = *out;

  if (!rtp_get_int (object, member, required, &value, error))
    return FALSE;
  *out = rtp_index_from_int64 (value);
  return TRUE;
}

static gboolean
parse_error_object (JsonObject * error_object, RealtimeServerEvent * event,
    gboolean message_required, GError ** error)
{
  JsonNode *code;

  if (!rtp_get_string (error_object, "type", FALSE, &event->error_type, error)
      || !rtp_get_string (error_object, "message", message_required,
          &event->error_message, error)
      || !rtp_get_string (error_object, "param", FALSE, &event->error_param,
          error)
      || !rtp_get_string (error_object, "event_id", FALSE,
          &event->error_event_id, error))
    return FALSE;
  /* "code" is documented as a string but has been seen as a number. */
  code = json_object_get_member (error_object, "code");
  if (code && JSON_NODE_HOLDS_VALUE (code)
      && json_node_get_value_type (code) == G_TYPE_INT64)
    event->error_code = g_strdup_printf ("%" G_GINT64_FORMAT,
        json_node_get_int (code));
  else if (!rtp_get_string (error_object, "code", FALSE, &event->error_code,
          error))
    return FALSE;
  return TRUE;
}

static gboolean
parse_response (JsonObject * object, RealtimeServerEvent * event,
    GError ** error)
{
  JsonObject *response, *details = NULL, *usage = NULL, *err = NULL;

  if (!rtp_get_object (object, "response", TRUE, &response, error)
      || !rtp_get_string (response, "id", TRUE, &event->response_id, error)
      || !rtp_get_string (response, "status", FALSE, &event->status, error)
      || !rtp_get_object (response, "status_details", FALSE, &details, error)
      || !rtp_get_object (response, "usage", FALSE, &usage, error))
    return FALSE;
  if (details) {
    if (!rtp_get_string (details, "reason", FALSE, &event->reason, error)
        || !rtp_get_object (details, "error", FALSE, &err, error))
      return FALSE;
    if (err && !parse_error_object (err, event, FALSE, error))
      return FALSE;
  }
  if (usage) {
    if (!rtp_get_int (usage, "input_tokens", FALSE, &event->input_tokens, error)
        || !rtp_get_int (usage, "output_tokens", FALSE, &event->output_tokens,
            error)
        || !rtp_get_int (usage, "total_tokens", FALSE, &event->total_tokens,
            error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
parse_item_member (JsonObject * object, RealtimeServerEvent * event,
    GError ** error)
{
  JsonObject *item;

  if (!rtp_get_object (object, "item", TRUE, &item, error)
      || !rtp_item_from_object (item, &event->item, error))
    return FALSE;
  g_free (event->item_id);
  event->item_id = g_strdup (event->item.id);
  return TRUE;
}

static gboolean
parse_server_fields (JsonObject * object, RealtimeServerEvent * event,
    GError ** error)
{
  JsonObject *child = NULL;
  JsonNode *node;

  /* Members shared by many events; typed checks everywhere. */
  if (!rtp_get_string (object, "item_id", FALSE, &event->item_id, error)
      || !rtp_get_string (object, "previous_item_id", FALSE,
          &event->previous_item_id, error)
      || !rtp_get_string (object, "response_id", FALSE, &event->response_id,
          error)
      || !get_index (object, "output_index", FALSE, &event->output_index, error)
      || !get_index (object, "content_index", FALSE, &event->content_index,
          error))
    return FALSE;

  switch (event->type) {
    case REALTIME_SERVER_ERROR:
      if (!rtp_get_object (object, "error", TRUE, &child, error))
        return FALSE;
      return parse_error_object (child, event, TRUE, error);
    case REALTIME_SERVER_SESSION_CREATED:
    case REALTIME_SERVER_SESSION_UPDATED:
      if (!rtp_get_object (object, "session", TRUE, &child, error)
          || !rtp_get_string (child, "id", FALSE, &event->session_id, error)
          || !rtp_get_int (child, "expires_at", FALSE, &event->expires_at,
              error))
        return FALSE;
      event->session = rtp_session_config_from_object (child, NULL, error);
      return event->session != NULL;
    case REALTIME_SERVER_SPEECH_STARTED:
      return rtp_get_int (object, "audio_start_ms", TRUE,
          &event->audio_start_ms, error)
          && rtp_get_string (object, "item_id", TRUE, &event->item_id, error);
    case REALTIME_SERVER_SPEECH_STOPPED:
      return rtp_get_int (object, "audio_end_ms", TRUE, &event->audio_end_ms,
          error)
          && rtp_get_string (object, "item_id", TRUE, &event->item_id, error);
    case REALTIME_SERVER_INPUT_AUDIO_TIMEOUT_TRIGGERED:
      return rtp_get_int (object, "audio_start_ms", FALSE,
          &event->audio_start_ms, error)
          && rtp_get_int (object, "audio_end_ms", FALSE, &event->audio_end_ms,
          error);
    case REALTIME_SERVER_INPUT_AUDIO_COMMITTED:
    case REALTIME_SERVER_ITEM_DELETED:
      return rtp_get_string (object, "item_id", TRUE, &event->item_id, error);
    case REALTIME_SERVER_ITEM_TRUNCATED:
      return rtp_get_string (object, "item_id", TRUE, &event->item_id, error)
          && rtp_get_int (object, "audio_end_ms", TRUE, &event->audio_end_ms,
          error);
    case REALTIME_SERVER_ITEM_CREATED:
    case REALTIME_SERVER_ITEM_ADDED:
    case REALTIME_SERVER_ITEM_DONE:
    case REALTIME_SERVER_OUTPUT_ITEM_ADDED:
    case REALTIME_SERVER_OUTPUT_ITEM_DONE:
      return parse_item_member (object, event, error);
    case REALTIME_SERVER_TRANSCRIPTION_DELTA:
      return rtp_get_string (object, "item_id", TRUE, &event->item_id, error)
          && rtp_get_string (object, "delta", FALSE, &event->delta, error);
    case REALTIME_SERVER_TRANSCRIPTION_COMPLETED:
      return rtp_get_string (object, "item_id", TRUE, &event->item_id, error)
          && rtp_get_string (object, "transcript", TRUE, &event->transcript,
          error);
    case REALTIME_SERVER_TRANSCRIPTION_FAILED:
      if (!rtp_get_string (object, "item_id", TRUE, &event->item_id, error)
          || !rtp_get_object (object, "error", FALSE, &child, error))
        return FALSE;
      return child == NULL || parse_error_object (child, event, FALSE, error);
    case REALTIME_SERVER_RESPONSE_CREATED:
    case REALTIME_SERVER_RESPONSE_DONE:
      return parse_response (object, event, error);
    case REALTIME_SERVER_OUTPUT_AUDIO_DELTA:
      return rtp_get_string (object, "response_id", TRUE, &event->response_id,
          error)
          && rtp_get_string (object, "item_id", TRUE, &event->item_id, error)
          && rtp_get_base64 (object, "delta", TRUE, &event->audio, error);
    case REALTIME_SERVER_OUTPUT_AUDIO_DONE:
      return rtp_get_string (object, "item_id", TRUE, &event->item_id, error);
    case REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA:
    case REALTIME_SERVER_OUTPUT_TEXT_DELTA:
    case REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DELTA:
      return rtp_get_string (object, "delta", TRUE, &event->delta, error)
          && rtp_get_string (object, "call_id", FALSE, &event->call_id, error);
    case REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DONE:
      return rtp_get_string (object, "item_id", TRUE, &event->item_id, error)
          && rtp_get_string (object, "transcript", FALSE, &event->transcript,
          error);
    case REALTIME_SERVER_OUTPUT_TEXT_DONE:
      return rtp_get_string (object, "text", FALSE, &event->transcript, error);
    case REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DONE:
      return rtp_get_string (object, "call_id", TRUE, &event->call_id, error)
          && rtp_get_string (object, "name", TRUE, &event->name, error)
          && rtp_get_string (object, "arguments", TRUE, &event->arguments,
          error);
    case REALTIME_SERVER_RATE_LIMITS_UPDATED:
      node = json_object_get_member (object, "rate_limits");
      if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)) {
        g_set_error (error, REALTIME_PROTOCOL_ERROR,
            REALTIME_PROTOCOL_ERROR_INVALID,
            "field \"rate_limits\" is missing or not an array");
        return FALSE;
      }
      event->rate_limits_json = json_to_string (node, FALSE);
      return TRUE;
    default:
      return TRUE;
  }
}

RealtimeServerEvent *
realtime_server_event_parse (const gchar * json, gssize length, GError ** error)
{
  RealtimeServerEvent *event;

  if (json != NULL) {
    event = rtp_parse_delta_fast (json, length < 0 ? strlen (json) :
        (gsize) length);
    if (event)
      return event;
  }
  return rtp_server_event_parse_tree (json, length, error);
}

RealtimeServerEvent *
rtp_server_event_parse_tree (const gchar * json, gssize length, GError ** error)
{
  const gchar *type = NULL;
  JsonObject *object = rtp_parse_object (json, length, &type, error);
  RealtimeServerEvent *event;
  g_autoptr (GError) local_error = NULL;

  if (object == NULL)
    return NULL;
  event = g_new0 (RealtimeServerEvent, 1);
  event->type_name = g_strdup (type);
  event->type = realtime_server_event_type_from_string (type);
  event->input_tokens = event->output_tokens = event->total_tokens = -1;
  if (!rtp_get_string (object, "event_id", FALSE, &event->event_id,
          &local_error)
      || !parse_server_fields (object, event, &local_error)) {
    g_set_error (error, REALTIME_PROTOCOL_ERROR, local_error->code,
        "%s: %s", event->type_name, local_error->message);
    realtime_server_event_free (event);
    event = NULL;
  }
  json_object_unref (object);
  return event;
}

/* ---- builders ------------------------------------------------------------- */

static gchar *
build_session_event (const gchar * type, const gchar * session_id,
    const RealtimeSessionConfig * config, gint64 expires_at)
{
  JsonObject *event = rtp_event_new (type, TRUE);
  JsonObject *session = rtp_session_object_new (config, TRUE, NULL);

  /* A server builds from a config it accepted; broken tools/extra JSON is
   * left out rather than failing the event. */
  if (session == NULL) {
    RealtimeSessionConfig *plain = realtime_session_config_copy (config);
    g_clear_pointer (&plain->tools_json, g_free);
    g_clear_pointer (&plain->extra_json, g_free);
    session = rtp_session_object_new (plain, TRUE, NULL);
    realtime_session_config_free (plain);
  }
  if (session_id)
    json_object_set_string_member (session, "id", session_id);
  json_object_set_string_member (session, "object", "realtime.session");
  if (expires_at > 0)
    json_object_set_int_member (session, "expires_at", expires_at);
  json_object_set_object_member (event, "session", session);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_session_created (const gchar * session_id,
    const RealtimeSessionConfig * config, gint64 expires_at)
{
  return build_session_event ("session.created", session_id, config,
      expires_at);
}

gchar *
realtime_build_session_updated (const gchar * session_id,
    const RealtimeSessionConfig * config, gint64 expires_at)
{
  return build_session_event ("session.updated", session_id, config,
      expires_at);
}

gchar *
realtime_build_speech_started (gint64 audio_start_ms, const gchar * item_id)
{
  JsonObject *event = rtp_event_new ("input_audio_buffer.speech_started",
      TRUE);

  json_object_set_int_member (event, "audio_start_ms", audio_start_ms);
  json_object_set_string_member (event, "item_id", item_id);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_speech_stopped (gint64 audio_end_ms, const gchar * item_id)
{
  JsonObject *event = rtp_event_new ("input_audio_buffer.speech_stopped",
      TRUE);

  json_object_set_int_member (event, "audio_end_ms", audio_end_ms);
  json_object_set_string_member (event, "item_id", item_id);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_input_audio_committed (const gchar * item_id,
    const gchar * previous_item_id)
{
  JsonObject *event = rtp_event_new ("input_audio_buffer.committed", TRUE);

  if (previous_item_id)
    json_object_set_string_member (event, "previous_item_id", previous_item_id);
  else
    json_object_set_null_member (event, "previous_item_id");
  json_object_set_string_member (event, "item_id", item_id);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_input_audio_cleared (void)
{
  return rtp_object_to_string (rtp_event_new ("input_audio_buffer.cleared",
          TRUE));
}

static gchar *
build_item_event (const gchar * type, const gchar * item_id,
    const gchar * role, const gchar * status, const gchar * text,
    const gchar * previous_item_id)
{
  JsonObject *event = rtp_event_new (type, TRUE);
  JsonObject *item = rtp_message_item_new (item_id, role, status, text);

  json_object_set_string_member (item, "object", "realtime.item");
  if (previous_item_id)
    json_object_set_string_member (event, "previous_item_id", previous_item_id);
  else
    json_object_set_null_member (event, "previous_item_id");
  json_object_set_object_member (event, "item", item);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_item_added (const gchar * item_id, const gchar * role,
    const gchar * status, const gchar * text, const gchar * previous_item_id)
{
  return build_item_event ("conversation.item.added", item_id, role, status,
      text, previous_item_id);
}

gchar *
realtime_build_item_done (const gchar * item_id, const gchar * role,
    const gchar * status, const gchar * text, const gchar * previous_item_id)
{
  return build_item_event ("conversation.item.done", item_id, role, status,
      text, previous_item_id);
}

gchar *
realtime_build_item_truncated (const gchar * item_id, gint content_index,
    gint64 audio_end_ms)
{
  JsonObject *event = rtp_event_new ("conversation.item.truncated", TRUE);

  json_object_set_string_member (event, "item_id", item_id);
  json_object_set_int_member (event, "content_index", content_index);
  json_object_set_int_member (event, "audio_end_ms", audio_end_ms);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_transcription_delta (const gchar * item_id, const gchar * delta)
{
  JsonObject *event =
      rtp_event_new ("conversation.item.input_audio_transcription.delta",
      TRUE);

  json_object_set_string_member (event, "item_id", item_id);
  json_object_set_int_member (event, "content_index", 0);
  json_object_set_string_member (event, "delta", delta);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_transcription_completed (const gchar * item_id,
    const gchar * transcript)
{
  JsonObject *event =
      rtp_event_new ("conversation.item.input_audio_transcription.completed",
      TRUE);
  JsonObject *usage = json_object_new ();

  json_object_set_string_member (event, "item_id", item_id);
  json_object_set_int_member (event, "content_index", 0);
  json_object_set_string_member (event, "transcript", transcript);
  json_object_set_string_member (usage, "type", "duration");
  json_object_set_double_member (usage, "seconds", 0);
  json_object_set_object_member (event, "usage", usage);
  return rtp_object_to_string (event);
}

static JsonObject *
response_object_new (const gchar * response_id, const gchar * status)
{
  JsonObject *response = json_object_new ();

  json_object_set_string_member (response, "id", response_id);
  json_object_set_string_member (response, "object", "realtime.response");
  json_object_set_string_member (response, "status", status);
  json_object_set_array_member (response, "output", json_array_new ());
  return response;
}

gchar *
realtime_build_response_created (const gchar * response_id)
{
  JsonObject *event = rtp_event_new ("response.created", TRUE);

  json_object_set_object_member (event, "response",
      response_object_new (response_id, "in_progress"));
  return rtp_object_to_string (event);
}

gchar *
realtime_build_response_done (const gchar * response_id, const gchar * status,
    const gchar * reason, gint64 input_tokens, gint64 output_tokens)
{
  JsonObject *event = rtp_event_new ("response.done", TRUE);
  JsonObject *response = response_object_new (response_id, status);

  if (reason) {
    JsonObject *details = json_object_new ();
    json_object_set_string_member (details, "type", status);
    json_object_set_string_member (details, "reason", reason);
    json_object_set_object_member (response, "status_details", details);
  }
  if (input_tokens >= 0 && output_tokens >= 0) {
    JsonObject *usage = json_object_new ();
    json_object_set_int_member (usage, "total_tokens",
        input_tokens + output_tokens);
    json_object_set_int_member (usage, "input_tokens", input_tokens);
    json_object_set_int_member (usage, "output_tokens", output_tokens);
    json_object_set_object_member (response, "usage", usage);
  }
  json_object_set_object_member (event, "response", response);
  return rtp_object_to_string (event);
}

static JsonObject *
response_event_new (const gchar * type, const gchar * response_id,
    const gchar * item_id)
{
  JsonObject *event = rtp_event_new (type, TRUE);

  json_object_set_string_member (event, "response_id", response_id);
  json_object_set_string_member (event, "item_id", item_id);
  json_object_set_int_member (event, "output_index", 0);
  json_object_set_int_member (event, "content_index", 0);
  return event;
}

gchar *
realtime_build_output_item_added (const gchar * response_id,
    gint output_index, const gchar * item_id)
{
  JsonObject *event = rtp_event_new ("response.output_item.added", TRUE);
  JsonObject *item = rtp_message_item_new (item_id, "assistant",
      "in_progress", NULL);

  /* an item being generated has no content yet */
  json_object_set_array_member (item, "content", json_array_new ());
  json_object_set_string_member (item, "object", "realtime.item");
  json_object_set_string_member (event, "response_id", response_id);
  json_object_set_int_member (event, "output_index", output_index);
  json_object_set_object_member (event, "item", item);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_output_item_done (const gchar * response_id,
    gint output_index, const gchar * item_id, const gchar * transcript)
{
  JsonObject *event = rtp_event_new ("response.output_item.done", TRUE);
  JsonObject *item = json_object_new ();
  JsonArray *content = json_array_new ();
  JsonObject *part = json_object_new ();

  json_object_set_string_member (item, "id", item_id);
  json_object_set_string_member (item, "object", "realtime.item");
  json_object_set_string_member (item, "type", "message");
  json_object_set_string_member (item, "status", "completed");
  json_object_set_string_member (item, "role", "assistant");
  json_object_set_string_member (part, "type", "output_audio");
  json_object_set_string_member (part, "transcript",
      transcript ? transcript : "");
  json_array_add_object_element (content, part);
  json_object_set_array_member (item, "content", content);
  json_object_set_string_member (event, "response_id", response_id);
  json_object_set_int_member (event, "output_index", output_index);
  json_object_set_object_member (event, "item", item);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_output_audio_delta (const gchar * response_id,
    const gchar * item_id, const guint8 * data, gsize size)
{
  JsonObject *event = response_event_new ("response.output_audio.delta",
      response_id, item_id);
  gchar *b64 = g_base64_encode (data, size);

  json_object_set_string_member (event, "delta", b64);
  g_free (b64);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_output_audio_done (const gchar * response_id,
    const gchar * item_id)
{
  return rtp_object_to_string (response_event_new
      ("response.output_audio.done", response_id, item_id));
}

gchar *
realtime_build_output_audio_transcript_delta (const gchar * response_id,
    const gchar * item_id, const gchar * delta)
{
  JsonObject *event =
      response_event_new ("response.output_audio_transcript.delta",
      response_id, item_id);

  json_object_set_string_member (event, "delta", delta);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_output_audio_transcript_done (const gchar * response_id,
    const gchar * item_id, const gchar * transcript)
{
  JsonObject *event =
      response_event_new ("response.output_audio_transcript.done",
      response_id, item_id);

  json_object_set_string_member (event, "transcript", transcript);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_function_call_arguments_done (const gchar * response_id,
    const gchar * item_id, const gchar * call_id, const gchar * name,
    const gchar * arguments)
{
  JsonObject *event = rtp_event_new ("response.function_call_arguments.done",
      TRUE);

  json_object_set_string_member (event, "response_id", response_id);
  json_object_set_string_member (event, "item_id", item_id);
  json_object_set_int_member (event, "output_index", 0);
  json_object_set_string_member (event, "call_id", call_id);
  json_object_set_string_member (event, "name", name);
  json_object_set_string_member (event, "arguments", arguments);
  return rtp_object_to_string (event);
}

static JsonObject *
rate_limit_new (const gchar * name, gint64 limit, gint64 remaining)
{
  JsonObject *entry = json_object_new ();

  json_object_set_string_member (entry, "name", name);
  json_object_set_int_member (entry, "limit", limit);
  json_object_set_int_member (entry, "remaining", remaining);
  json_object_set_double_member (entry, "reset_seconds", 1.0);
  return entry;
}

gchar *
realtime_build_rate_limits_updated (gint64 requests_limit,
    gint64 requests_remaining, gint64 tokens_limit, gint64 tokens_remaining)
{
  JsonObject *event = rtp_event_new ("rate_limits.updated", TRUE);
  JsonArray *limits = json_array_new ();

  json_array_add_object_element (limits, rate_limit_new ("requests",
          requests_limit, requests_remaining));
  json_array_add_object_element (limits, rate_limit_new ("tokens",
          tokens_limit, tokens_remaining));
  json_object_set_array_member (event, "rate_limits", limits);
  return rtp_object_to_string (event);
}

gchar *
realtime_build_error (const gchar * type, const gchar * code,
    const gchar * message, const gchar * param, const gchar * event_id)
{
  JsonObject *event = rtp_event_new ("error", TRUE);
  JsonObject *err = json_object_new ();

  json_object_set_string_member (err, "type", type);
  if (code)
    json_object_set_string_member (err, "code", code);
  else
    json_object_set_null_member (err, "code");
  json_object_set_string_member (err, "message", message);
  if (param)
    json_object_set_string_member (err, "param", param);
  else
    json_object_set_null_member (err, "param");
  if (event_id)
    json_object_set_string_member (err, "event_id", event_id);
  else
    json_object_set_null_member (err, "event_id");
  json_object_set_object_member (event, "error", err);
  return rtp_object_to_string (event);
}
