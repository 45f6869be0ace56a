/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One WebSocket session of the local model: client events in, conversation
 * state, input audio and server VAD, faults. Responses are in
 * modelresponse.c. Runs on the model's loop thread only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelsession.h"

#include <string.h>

/* ---- output, log ------------------------------------------------------ */

void
model_session_send_text (ModelSession * s, gchar * text)
{
  if (!s->closing && soup_websocket_connection_get_state (s->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (s->conn, text);
  g_free (text);
}

void
model_session_send (ModelSession * s, JsonObject * event)
{
  model_session_send_text (s, model_protocol_event_to_text (event));
}

void
model_session_send_error (ModelSession * s, const ModelError * err,
    const gchar * client_event_id)
{
  g_debug ("local model %s: error %s: %s", s->id,
      err->code ? err->code : err->type, err->message);
  MODEL_STAT_ADD (s->server, errors_sent, 1);
  model_session_send_text (s, realtime_build_error (err->type ? err->type :
          "invalid_request_error", err->code, err->message ? err->message :
          "Unknown error.", err->param, client_event_id));
}

void
model_server_log (ModelServer * server, const gchar * session_id,
    JsonObject * fields)
{
  JsonNode *root;
  gchar *line;

  if (server->events_log == NULL) {
    json_object_unref (fields);
    return;
  }
  json_object_set_int_member (fields, "t_ms",
      (g_get_monotonic_time () - server->start_us) / 1000);
  json_object_set_string_member (fields, "session", session_id);
  root = json_node_init_object (json_node_alloc (), fields);
  line = json_to_string (root, FALSE);
  json_node_unref (root);
  json_object_unref (fields);

  g_mutex_lock (&server->lock);
  fputs (line, server->events_log);
  fputc ('\n', server->events_log);
  fflush (server->events_log);
  g_mutex_unlock (&server->lock);
  g_free (line);
}

/* Copies member @name of @from to @to if it is a plain value. */
static void
copy_scalar (JsonObject * to, const gchar * as, JsonObject * from,
    const gchar * name)
{
  JsonNode *node = from ? json_object_get_member (from, name) : NULL;

  if (node && (JSON_NODE_HOLDS_VALUE (node) || JSON_NODE_HOLDS_NULL (node)))
    json_object_set_member (to, as, json_node_copy (node));
}

/* One line per client event: its type and the few fields that matter,
 * never audio payloads nor anything secret. */
static void
log_client_event (ModelSession * s, const gchar * type, JsonObject * ev,
    const gchar * event_id, gsize audio_bytes)
{
  JsonObject *f;
  JsonObject *obj;

  if (s->server->events_log == NULL)
    return;
  f = json_object_new ();
  json_object_set_string_member (f, "type", type);
  if (event_id)
    json_object_set_string_member (f, "event_id", event_id);
  if (strcmp (type, "input_audio_buffer.append") == 0) {
    json_object_set_int_member (f, "bytes", audio_bytes);
  } else if (strcmp (type, "conversation.item.truncate") == 0) {
    copy_scalar (f, "item_id", ev, "item_id");
    copy_scalar (f, "content_index", ev, "content_index");
    copy_scalar (f, "audio_end_ms", ev, "audio_end_ms");
  } else if (strcmp (type, "response.cancel") == 0) {
    copy_scalar (f, "response_id", ev, "response_id");
  } else if (strcmp (type, "conversation.item.create") == 0) {
    obj = model_protocol_object_member (ev, "item");
    copy_scalar (f, "item_type", obj, "type");
    copy_scalar (f, "role", obj, "role");
    copy_scalar (f, "call_id", obj, "call_id");
  } else if (strcmp (type, "session.update") == 0) {
    /* the effective configuration after the update */
    json_object_set_string_member (f, "input_format",
        realtime_audio_format_to_string (s->params.input_format));
    json_object_set_string_member (f, "output_format",
        realtime_audio_format_to_string (s->params.output_format));
    json_object_set_string_member (f, "turn_detection",
        s->params.turn_detection == MODEL_TURN_NONE ? "none" :
        s->params.turn_detection == MODEL_TURN_SERVER_VAD ? "server_vad" :
        "semantic_vad");
  } else if (strcmp (type, "response.create") == 0) {
    obj = model_protocol_object_member (ev, "response");
    json_object_set_boolean_member (f, "instructions", obj
        && json_object_has_member (obj, "instructions"));
  }
  model_server_log (s->server, s->id, f);
}

static void
send_session_event (ModelSession * s, const gchar * type)
{
  JsonObject *ev = json_object_new ();
  JsonNode *copy = json_node_init_object (json_node_alloc (), s->config);

  json_object_set_string_member (ev, "type", type);
  json_object_set_member (ev, "session", json_node_copy (copy));
  json_node_unref (copy);
  model_session_send (s, ev);
}

static void
handle_session_update (ModelSession * s, JsonObject * ev,
    const gchar * event_id)
{
  ModelError err = { 0, };
  static const gchar *const known[] = { "type", "event_id", "session", NULL };

  if (!model_protocol_check_known (ev, NULL, known, &err)
      || !model_session_apply_update (s->config,
          json_object_get_member (ev, "session"), s->audio_output_started,
          &err)) {
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
    return;
  }
  model_session_params_read (s->config, &s->params);
  model_vad_configure (&s->vad, s->params.threshold,
      s->params.prefix_padding_ms, s->params.silence_duration_ms);
  MODEL_STAT_ADD (s->server, session_updates, 1);
  if (s->server->opts.probe && s->server->opts.probe->session_updated)
    s->server->opts.probe->session_updated (s->id, g_get_monotonic_time (),
        s->server->opts.probe->user_data);
  send_session_event (s, "session.updated");
}

static void
handle_response_create (ModelSession * s, JsonObject * ev,
    const gchar * event_id)
{
  static const gchar *const known[] = {
    "output_modalities", "instructions", "audio", "tools", "tool_choice",
    "parallel_tool_calls", "reasoning", "max_output_tokens", "conversation",
    "metadata", "prompt", "input", NULL
  };
  ModelError err = { 0, };
  JsonNode *params = json_object_get_member (ev, "response");
  JsonObject *p = NULL;
  const gchar *instructions = NULL;

  if (params && !JSON_NODE_HOLDS_NULL (params)) {
    if (!JSON_NODE_HOLDS_OBJECT (params)) {
      model_error_set (&err, "invalid_request_error", "invalid_type",
          "response", "Invalid type for 'response': expected an object.");
      goto error;
    }
    p = json_node_get_object (params);
    if (!model_protocol_check_known (p, "response", known, &err)
        || !model_protocol_get_string (p, "instructions",
            "response.instructions", FALSE, &instructions, &err))
      goto error;
  }
  if (s->response) {
    model_error_set (&err, "invalid_request_error",
        "conversation_already_has_active_response", NULL,
        "Conversation already has an active response in progress: %s. Wait "
        "until the response is finished before creating a new one.",
        s->response->id);
    goto error;
  }

  if (s->awaiting_tool && s->tool_output) {
    ModelUtterance *u = s->awaiting_tool;
    s->awaiting_tool = NULL;
    model_response_start (s, MODEL_RESPONSE_ECHO, u, instructions);
  } else if (!g_queue_is_empty (&s->utterances)) {
    /* the latest unanswered utterance; older ones are superseded */
    ModelUtterance *u = g_queue_pop_tail (&s->utterances);
    g_queue_clear_full (&s->utterances, (GDestroyNotify) model_utterance_free);
    model_response_start (s, MODEL_RESPONSE_ECHO, u, instructions);
  } else if (s->pending_text) {
    model_response_start (s, MODEL_RESPONSE_TEXT_ECHO, NULL, instructions);
  } else {
    model_response_start (s, MODEL_RESPONSE_GREETING, NULL, instructions);
  }
  return;

error:
  model_session_send_error (s, &err, event_id);
  model_error_clear (&err);
}

static void
handle_response_cancel (ModelSession * s, JsonObject * ev,
    const gchar * event_id)
{
  ModelError err = { 0, };
  const gchar *response_id = NULL;

  MODEL_STAT_ADD (s->server, cancels, 1);
  if (!model_protocol_get_string (ev, "response_id", "response_id", FALSE,
          &response_id, &err))
    goto error;
  if (s->response == NULL || (response_id
          && strcmp (response_id, s->response->id) != 0)) {
    model_error_set (&err, "invalid_request_error",
        "response_cancel_not_active", NULL,
        "Cancellation failed: no active response found.");
    goto error;
  }
  model_response_cancel (s, "client_cancelled");
  return;

error:
  model_session_send_error (s, &err, event_id);
  model_error_clear (&err);
}

static void
dispatch (ModelSession * s, const gchar * type, JsonObject * ev,
    const gchar * event_id)
{
  if (strcmp (type, "input_audio_buffer.append") == 0)
    model_input_append_rejected (s, ev, event_id);
  else if (strcmp (type, "session.update") == 0)
    handle_session_update (s, ev, event_id);
  else if (strcmp (type, "input_audio_buffer.commit") == 0)
    model_input_commit (s, event_id);
  else if (strcmp (type, "input_audio_buffer.clear") == 0)
    model_input_clear (s);
  else if (strcmp (type, "conversation.item.create") == 0)
    model_items_handle_create (s, ev, event_id);
  else if (strcmp (type, "conversation.item.truncate") == 0)
    model_items_handle_truncate (s, ev, event_id);
  else if (strcmp (type, "conversation.item.delete") == 0)
    model_items_handle_delete_or_retrieve (s, ev, event_id, TRUE);
  else if (strcmp (type, "conversation.item.retrieve") == 0)
    model_items_handle_delete_or_retrieve (s, ev, event_id, FALSE);
  else if (strcmp (type, "response.create") == 0)
    handle_response_create (s, ev, event_id);
  else if (strcmp (type, "response.cancel") == 0)
    handle_response_cancel (s, ev, event_id);
  else {
    /* output_audio_buffer.clear: WebRTC/SIP only */
    ModelError err = { 0, };
    model_error_set (&err, "invalid_request_error", "invalid_value", "type",
        "'%s' is only supported for WebRTC and SIP sessions.", type);
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
  }
  log_client_event (s, type, ev, event_id, 0);
}

static void
on_message (SoupWebsocketConnection * conn, gint data_type, GBytes * message,
    ModelSession * s)
{
  ModelError err = { 0, };
  const gchar *type;
  gchar *event_id = NULL;
  JsonObject *ev;
  RealtimeClientEvent *parsed;
  GBytes *audio;
  gsize size;
  const gchar *text = g_bytes_get_data (message, &size);

  if (s->closing)
    return;
  if (data_type != SOUP_WEBSOCKET_DATA_TEXT) {
    model_error_set (&err, "invalid_request_error", "invalid_event", NULL,
        "Binary WebSocket frames are not supported; send JSON text frames.");
    model_session_send_error (s, &err, NULL);
    model_error_clear (&err);
    return;
  }
  /* An append (50 a second per call) in the elements' exact shape takes
   * the fast path; the elements' own parser reads every other event first,
   * and an append needs nothing more. Anything else, and any event it
   * refuses, goes through the strict checks below, which answer like the
   * real API. */
  audio = model_protocol_parse_append_fast (text, size, &event_id);
  if (audio) {
    model_input_append (s, audio, event_id);
    log_client_event (s, "input_audio_buffer.append", NULL, event_id,
        g_bytes_get_size (audio));
    g_bytes_unref (audio);
    g_free (event_id);
    return;
  }
  parsed = realtime_client_event_parse (text, size, NULL);
  if (parsed && parsed->type == REALTIME_CLIENT_INPUT_AUDIO_APPEND) {
    model_input_append (s, parsed->audio, parsed->event_id);
    log_client_event (s, parsed->type_name, NULL, parsed->event_id,
        g_bytes_get_size (parsed->audio));
    realtime_client_event_free (parsed);
    return;
  }
  realtime_client_event_free (parsed);
  ev = model_protocol_parse_client (text, size, &type, &event_id, &err);
  if (ev == NULL) {
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
    g_free (event_id);
    return;
  }
  dispatch (s, type, ev, event_id);
  json_object_unref (ev);
  g_free (event_id);
}

static gboolean
free_idle (gpointer user_data)
{
  ModelSession *s = user_data;

  g_source_unref (s->free_idle);
  s->free_idle = NULL;
  g_hash_table_remove (s->server->sessions, s);
  return G_SOURCE_REMOVE;
}

static void
session_stop_sources (ModelSession * s)
{
  if (s->fault_timer) {
    g_source_destroy (s->fault_timer);
    g_clear_pointer (&s->fault_timer, g_source_unref);
  }
  if (s->limit_timer) {
    g_source_destroy (s->limit_timer);
    g_clear_pointer (&s->limit_timer, g_source_unref);
  }
  if (s->response) {
    model_response_free (s->response);
    s->response = NULL;
  }
}

static void
mark_inactive (ModelSession * s)
{
  if (!s->active)
    return;
  s->active = FALSE;
  MODEL_STAT_ADD (s->server, sessions_active, -1);
}

static void
on_closed (SoupWebsocketConnection * conn, ModelSession * s)
{
  JsonObject *f;

  if (s->free_idle)
    return;
  s->closing = TRUE;
  session_stop_sources (s);
  mark_inactive (s);
  f = json_object_new ();
  json_object_set_string_member (f, "type", "ws.closed");
  json_object_set_int_member (f, "code",
      soup_websocket_connection_get_close_code (conn));
  model_server_log (s->server, s->id, f);
  /* not from inside libsoup's signal emission */
  s->free_idle = g_idle_source_new ();
  g_source_set_callback (s->free_idle, free_idle, s, NULL);
  g_source_attach (s->free_idle, s->server->context);
}

static void
on_error (SoupWebsocketConnection * conn, GError * error, ModelSession * s)
{
  g_message ("local model %s: WebSocket error: %s", s->id, error->message);
}

void
model_session_fault_close (ModelSession * s, const gchar * why)
{
  gint code = s->server->opts.close_code;
  JsonObject *f = json_object_new ();

  if (s->closing)
    return;
  g_message ("local model %s: fault: closing (%s)", s->id, why);
  json_object_set_string_member (f, "type", "fault.close");
  json_object_set_string_member (f, "reason", why);
  model_server_log (s->server, s->id, f);
  MODEL_STAT_ADD (s->server, faults_closed, 1);
  s->closing = TRUE;
  session_stop_sources (s);
  if (code > 0) {
    soup_websocket_connection_close (s->conn, code, "injected fault");
  } else {
    /* no close frame: the peer sees the TCP connection drop */
    GIOStream *stream = soup_websocket_connection_get_io_stream (s->conn);
    g_io_stream_close (stream, NULL, NULL);
  }
}

static gboolean
fault_timeout (gpointer user_data)
{
  ModelSession *s = user_data;

  g_clear_pointer (&s->fault_timer, g_source_unref);
  model_session_fault_close (s, "close-after-ms");
  return G_SOURCE_REMOVE;
}

/* "60 minutes", as the real API words it; shorter test limits in seconds */
static gchar *
describe_limit (guint limit_ms)
{
  if (limit_ms % 60000 == 0)
    return g_strdup_printf ("%u minute%s", limit_ms / 60000,
        limit_ms == 60000 ? "" : "s");
  return g_strdup_printf ("%g seconds", limit_ms / 1000.0);
}

/* The maximum session duration: like the real API, an error
 * session_expired, then a close 1001 with the same words. */
static gboolean
limit_timeout (gpointer user_data)
{
  ModelSession *s = user_data;
  ModelError err = { 0, };
  gchar *limit = describe_limit (s->server->opts.session_limit_ms);
  JsonObject *f = json_object_new ();

  g_clear_pointer (&s->limit_timer, g_source_unref);
  model_error_set (&err, "invalid_request_error", "session_expired", NULL,
      "Your session hit the maximum duration of %s.", limit);
  g_message ("local model %s: %s", s->id, err.message);
  json_object_set_string_member (f, "type", "session.expired");
  model_server_log (s->server, s->id, f);
  MODEL_STAT_ADD (s->server, sessions_expired, 1);
  model_session_send_error (s, &err, NULL);
  s->closing = TRUE;
  session_stop_sources (s);
  soup_websocket_connection_close (s->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
      err.message);
  model_error_clear (&err);
  g_free (limit);
  return G_SOURCE_REMOVE;
}

ModelSession *
model_session_new (ModelServer * server, SoupWebsocketConnection * conn,
    const gchar * model)
{
  ModelSession *s = g_new0 (ModelSession, 1);
  LocalModelOptions *o = &server->opts;
  JsonObject *ev;
  JsonObject *f;
  guint index = server->sessions_started++;

  s->server = server;
  s->conn = g_object_ref (conn);
  s->id = model_protocol_new_id ("sess");
  s->conversation_id = model_protocol_new_id ("conv");
  s->opened_us = g_get_monotonic_time ();
  /* expires_at: unix seconds, rounded up */
  s->config = model_session_new_default (s->id, model,
      (g_get_real_time () + (gint64) (o->session_limit_ms > 0 ?
              o->session_limit_ms : 24 * 3600 * 1000) * 1000 +
          G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  model_session_params_read (s->config, &s->params);
  model_vad_init (&s->vad, s->params.threshold, s->params.prefix_padding_ms,
      s->params.silence_duration_ms);
  s->input = g_array_new (FALSE, FALSE, sizeof (gint16));
  s->vad_events = g_array_new (FALSE, FALSE, sizeof (ModelVadEvent));
  s->items = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) model_item_free);
  g_queue_init (&s->utterances);
  s->fault_target = (o->close_after_ms > 0 || o->close_after_appends > 0)
      && (o->close_sessions == 0 || index < o->close_sessions);

  /* appends of up to 15 MiB, base64 */
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      21 * 1024 * 1024);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), s);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), s);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), s);

  g_mutex_lock (&server->lock);
  server->stats.sessions_total++;
  server->stats.sessions_active++;
  g_mutex_unlock (&server->lock);
  s->active = TRUE;
  f = json_object_new ();
  json_object_set_string_member (f, "type", "ws.open");
  json_object_set_string_member (f, "model", model);
  model_server_log (server, s->id, f);

  send_session_event (s, "session.created");
  ev = json_object_new ();
  json_object_set_string_member (ev, "type", "conversation.created");
  f = json_object_new ();
  json_object_set_string_member (f, "id", s->conversation_id);
  json_object_set_string_member (f, "object", "realtime.conversation");
  json_object_set_object_member (ev, "conversation", f);
  model_session_send (s, ev);

  if (o->session_limit_ms > 0) {
    s->limit_timer = g_timeout_source_new (o->session_limit_ms);
    g_source_set_callback (s->limit_timer, limit_timeout, s, NULL);
    g_source_attach (s->limit_timer, server->context);
  }
  if (s->fault_target && o->close_after_ms > 0) {
    s->fault_timer = g_timeout_source_new (o->close_after_ms);
    g_source_set_callback (s->fault_timer, fault_timeout, s, NULL);
    g_source_attach (s->fault_timer, server->context);
  }
  return s;
}

void
model_session_shutdown (ModelSession * s)
{
  s->closing = TRUE;
  session_stop_sources (s);
  if (soup_websocket_connection_get_state (s->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (s->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        "server shutting down");
}

void
model_session_free (ModelSession * s)
{
  g_signal_handlers_disconnect_by_data (s->conn, s);
  session_stop_sources (s);
  if (s->free_idle) {
    g_source_destroy (s->free_idle);
    g_source_unref (s->free_idle);
  }
  mark_inactive (s);
  g_object_unref (s->conn);
  g_free (s->id);
  g_free (s->conversation_id);
  json_object_unref (s->config);
  model_session_params_clear (&s->params);
  g_array_unref (s->input);
  g_array_unref (s->vad_events);
  g_free (s->speech_item_id);
  g_hash_table_unref (s->items);
  g_free (s->last_item_id);
  g_queue_clear_full (&s->utterances, (GDestroyNotify) model_utterance_free);
  g_free (s->pending_text);
  model_utterance_free (s->awaiting_tool);
  g_free (s->awaiting_call_id);
  g_free (s->awaiting_tool_name);
  g_free (s->tool_output);
  g_free (s);
}
