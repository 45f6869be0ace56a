/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session's connection, on its loop thread: WebSocket connect
 * with the key in the header, the handshake (session.created,
 * session.update, session.updated) with timeouts, reconnect with backoff,
 * planned renewal, the conversation history replayed into a new
 * connection, and one response at a time. The registry and the loop
 * thread are in gstopenairealtimesession.c, the queues toward the
 * elements in gstopenairealtimesessionqueues.c; what each server event
 * does is in gstopenairealtimeevents.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstopenairealtimesessionprivate.h"

#define GST_CAT_DEFAULT gst_openai_realtime_session_debug

/* Audio deltas can be large; libsoup's default of 128 KiB per frame is not
 * enough. The API allows 15 MiB per event. */
#define MAX_INCOMING_PAYLOAD (16 * 1024 * 1024)
#define RECONNECT_BASE_DELAY_MS 250
#define RECONNECT_MAX_DELAY_MS 8000
#define MAX_HISTORY 200

/* ---- responses ------------------------------------------------------------- */

static gboolean
response_timeout_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;
  g_autofree gchar *msg = g_strdup_printf ("no response.created within %u ms "
      "of response.create", self->settings.response_timeout_ms);

  g_source_unref (self->response_timer);
  self->response_timer = NULL;
  self->response_requested = FALSE;
  GST_WARNING ("session %s: %s", self->name, msg);
  session_post_error (self, "timeout", "response_timeout", msg, FALSE);
  return G_SOURCE_REMOVE;
}

/* One response at a time: asks now if none is active, else after the
 * active one's response.done. */
void
session_request_response (GstOpenAIRealtimeSession * self,
    const gchar * instructions)
{
  if (self->active_response_id || self->response_requested
      || self->state != SESSION_STATE_READY) {
    GST_DEBUG ("session %s: response.create deferred", self->name);
    self->response_wanted = TRUE;
    if (instructions) {
      g_free (self->wanted_instructions);
      self->wanted_instructions = g_strdup (instructions);
    }
    return;
  }
  self->response_wanted = FALSE;
  g_clear_pointer (&self->wanted_instructions, g_free);
  self->response_requested = TRUE;
  session_send (self, realtime_build_response_create (instructions));
  session_disarm (&self->response_timer);
  self->response_timer = session_arm (self, self->settings.response_timeout_ms,
      response_timeout_cb);
}

/* ---- conversation history -------------------------------------------------- */

void
session_history_add (GstOpenAIRealtimeSession * self, HistoryKind kind,
    const gchar * item_id, const gchar * role, const gchar * text,
    const gchar * call_id, const gchar * name)
{
  HistoryEntry *entry = g_new0 (HistoryEntry, 1);

  entry->kind = kind;
  entry->item_id = g_strdup (item_id);
  entry->role = g_strdup (role);
  entry->text = g_strdup (text);
  entry->call_id = g_strdup (call_id);
  entry->name = g_strdup (name);
  g_queue_push_tail (&self->history, entry);
  while (g_queue_get_length (&self->history) > MAX_HISTORY)
    session_history_entry_free (g_queue_pop_head (&self->history));
}

static void
session_replay_history (GstOpenAIRealtimeSession * self)
{
  GList *l;

  if (!g_queue_is_empty (&self->history))
    GST_INFO ("session %s: replaying %u conversation items", self->name,
        g_queue_get_length (&self->history));
  for (l = self->history.head; l; l = l->next) {
    HistoryEntry *entry = l->data;

    switch (entry->kind) {
      case HISTORY_MESSAGE:
        session_send (self, realtime_build_item_create_message (entry->role,
                entry->text));
        break;
      case HISTORY_FUNCTION_CALL:
        session_send (self,
            realtime_build_item_create_function_call (entry->call_id,
                entry->name, entry->text));
        break;
      case HISTORY_FUNCTION_OUTPUT:
        session_send (self,
            realtime_build_item_create_function_call_output (entry->call_id,
                entry->text));
        break;
    }
  }
}

/* ---- connection ------------------------------------------------------------ */

void
session_drop_connection (GstOpenAIRealtimeSession * self, gboolean close)
{
  session_disarm (&self->handshake_timeout);
  session_disarm (&self->response_timer);
  if (self->connect_attempt) {
    self->connect_attempt->session = NULL;
    self->connect_attempt = NULL;
  }
  if (self->cancellable) {
    g_cancellable_cancel (self->cancellable);
    g_clear_object (&self->cancellable);
  }
  if (self->conn) {
    g_signal_handlers_disconnect_by_data (self->conn, self);
    if (close && soup_websocket_connection_get_state (self->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (self->conn,
          SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_clear_object (&self->conn);
  }
  /* what belonged to that connection */
  g_clear_pointer (&self->active_response_id, g_free);
  if (self->response_requested) {
    /* ask again on the next connection */
    self->response_requested = FALSE;
    self->response_wanted = TRUE;
  }
  g_clear_pointer (&self->session_id, g_free);
  self->speech_stopped_at = 0;
}


void
session_fatal (GstOpenAIRealtimeSession * self, GQuark domain, gint code,
    const gchar * type, const gchar * error_code, const gchar * message)
{
  GstElement *elements[2] = { NULL, NULL };
  guint i;

  if (session_get_state (self) == SESSION_STATE_FAILED
      || session_get_state (self) == SESSION_STATE_STOPPED)
    return;
  GST_ERROR ("session %s: fatal: %s", self->name, message);
  session_post_error (self, type, error_code, message, TRUE);
  session_drop_connection (self, TRUE);
  session_disarm (&self->reconnect_timer);
  session_disarm (&self->renew_timer);

  g_mutex_lock (&self->lock);
  self->state = SESSION_STATE_FAILED;
  if (self->src)
    elements[0] = gst_object_ref (self->src);
  if (self->sink)
    elements[1] = gst_object_ref (self->sink);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  for (i = 0; i < 2; i++) {
    if (elements[i] == NULL)
      continue;
    gst_element_message_full (elements[i], GST_MESSAGE_ERROR, domain, code,
        g_strdup (message), g_strdup_printf ("session %s, %s (%s)",
            self->name, self->display_url, error_code ? error_code : type),
        __FILE__, GST_FUNCTION, __LINE__);
    gst_object_unref (elements[i]);
  }
  /* a loop-driven source ends its stream (after the error above) */
  session_notify_src (self);
}

static gboolean
reconnect_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;

  g_source_unref (self->reconnect_timer);
  self->reconnect_timer = NULL;
  session_start_connect (self);
  return G_SOURCE_REMOVE;
}

/* A dropped socket, a 5xx or a timeout: try again with exponential backoff,
 * keeping the caller's audio buffered meanwhile. */
void
session_schedule_reconnect (GstOpenAIRealtimeSession * self,
    const gchar * reason)
{
  guint delay;
  SessionState state = session_get_state (self);

  if (state == SESSION_STATE_FAILED || state == SESSION_STATE_STOPPED)
    return;
  session_drop_connection (self, TRUE);
  session_set_state (self, SESSION_STATE_IDLE);

  if (self->attempt >= self->settings.max_reconnect_attempts) {
    g_autofree gchar *msg = NULL;
    msg = g_strdup_printf ("Could not reach the Realtime API at %s after %u "
        "attempt(s): %s", self->display_url, self->attempt + 1, reason);
    session_fatal (self, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "connection", "reconnect_failed",
        msg);
    return;
  }
  self->attempt++;
  delay = MIN (RECONNECT_BASE_DELAY_MS << MIN (self->attempt - 1, 10),
      RECONNECT_MAX_DELAY_MS);
  GST_WARNING ("session %s: %s; reconnecting in %u ms (attempt %u of %u)",
      self->name, reason, delay, self->attempt,
      self->settings.max_reconnect_attempts);
  session_post (self, gst_structure_new ("realtime-reconnecting",
          "attempt", G_TYPE_INT, (gint) self->attempt,
          "delay-ms", G_TYPE_INT, (gint) delay,
          "reason", G_TYPE_STRING, reason, NULL));
  session_disarm (&self->reconnect_timer);
  self->reconnect_timer = session_arm (self, delay, reconnect_cb);
}

static gboolean
handshake_timeout_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;
  SessionState state = session_get_state (self);
  const gchar *step = state == SESSION_STATE_CONNECTING ? "WebSocket connect"
      : state == SESSION_STATE_WAIT_CREATED ? "session.created" :
      "session.updated";
  g_autofree gchar *reason = g_strdup_printf ("timed out after %u ms "
      "waiting for %s", self->settings.connect_timeout_ms, step);

  g_source_unref (self->handshake_timeout);
  self->handshake_timeout = NULL;
  if (state == SESSION_STATE_CONNECTING) {
    /* connect_done sees the cancellation and reconnects */
    self->connect_timed_out = TRUE;
    g_cancellable_cancel (self->cancellable);
    return G_SOURCE_REMOVE;
  }
  session_schedule_reconnect (self, reason);
  return G_SOURCE_REMOVE;
}

static void
session_arm_handshake_timeout (GstOpenAIRealtimeSession * self)
{
  session_disarm (&self->handshake_timeout);
  self->handshake_timeout = session_arm (self,
      self->settings.connect_timeout_ms, handshake_timeout_cb);
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer data)
{
  GstOpenAIRealtimeSession *self = data;
  gsize size;
  const gchar *text = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    g_autofree gchar *msg = g_strdup_printf ("ignored a binary WebSocket "
        "message of %" G_GSIZE_FORMAT " bytes (the protocol is JSON text)",
        size);
    GST_WARNING ("session %s: %s", self->name, msg);
    session_post_error (self, "protocol", "binary_frame", msg, FALSE);
    return;
  }
  /* may reach application code on this thread (a loop-driven source
   * pushes from here): a release meanwhile frees the session afterwards */
  session_dispatch_begin (self);
  session_handle_text (self, text, size);
  session_dispatch_end (self);
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer data)
{
  GstOpenAIRealtimeSession *self = data;
  gushort code = soup_websocket_connection_get_close_code (conn);
  const gchar *reason = soup_websocket_connection_get_close_data (conn);
  g_autofree gchar *why = g_strdup_printf ("the server closed the "
      "connection (code %u%s%s)", code, reason && *reason ? ": " : "",
      reason ? reason : "");

  GST_INFO ("session %s: %s", self->name, why);
  session_schedule_reconnect (self, why);
}

static void
on_error (SoupWebsocketConnection * conn, GError * error, gpointer data)
{
  GstOpenAIRealtimeSession *self = data;

  /* "closed" follows; only log here */
  GST_WARNING ("session %s: WebSocket error: %s", self->name, error->message);
}

static void
connect_done (GObject * source, GAsyncResult * result, gpointer data)
{
  SessionConnectAttempt *attempt = data;
  GstOpenAIRealtimeSession *self = attempt->session;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), result);
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn;
  guint status = msg ? soup_message_get_status (msg) : 0;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
  g_free (attempt);
  if (self == NULL) {
    /* abandoned (dropped or stopped) while in flight; the session may be
     * gone: touch nothing of it */
    GST_DEBUG ("abandoned WebSocket connect finished");
    if (conn) {
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (conn);
    }
    return;
  }
  self->connect_attempt = NULL;
  if (conn == NULL) {
    g_autofree gchar *reason = NULL;

    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
        && !self->connect_timed_out) {
      GST_DEBUG ("session %s: connect cancelled", self->name);
      return;
    }
    session_disarm (&self->handshake_timeout);
    if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
      g_autofree gchar *message = g_strdup_printf ("The Realtime API "
          "rejected the API key (HTTP %u %s)", status,
          soup_status_get_phrase (status));
      session_fatal (self, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED, "authentication_error",
          "invalid_api_key", message);
      return;
    }
    if (self->connect_timed_out)
      reason = g_strdup_printf ("WebSocket connect timed out after %u ms",
          self->settings.connect_timeout_ms);
    else if (status >= 100)
      reason = g_strdup_printf ("WebSocket handshake failed: HTTP %u %s",
          status, soup_status_get_phrase (status));
    else
      reason = g_strdup_printf ("WebSocket connect failed: %s", error->message);
    if (status >= 400 && status < 500 && status != 408 && status != 429) {
      /* a client error will not go away by retrying */
      session_fatal (self, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE, "connection", "http_error",
          reason);
      return;
    }
    session_schedule_reconnect (self, reason);
    return;
  }

  GST_INFO ("session %s: connected to %s", self->name, self->display_url);
  self->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      MAX_INCOMING_PAYLOAD);
  /* a stalled peer is noticed by the handshake/response timeouts; keep the
   * socket alive through NATs meanwhile */
  soup_websocket_connection_set_keepalive_interval (conn, 20);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), self);
  session_set_state (self, SESSION_STATE_WAIT_CREATED);
  session_arm_handshake_timeout (self);
}

void
session_start_connect (GstOpenAIRealtimeSession * self)
{
  SoupMessage *msg;
  g_autofree gchar *auth = NULL;

  session_assert_loop_thread (self);
  if (session_get_state (self) == SESSION_STATE_FAILED
      || session_get_state (self) == SESSION_STATE_STOPPED)
    return;

  session_post (self, gst_structure_new ("realtime-connecting",
          "url", G_TYPE_STRING, self->display_url,
          "attempt", G_TYPE_INT, (gint) self->attempt + 1, NULL));
  msg = soup_message_new ("GET", self->http_url);
  if (msg == NULL) {
    g_autofree gchar *message = g_strdup_printf ("Invalid Realtime URL %s",
        self->display_url);
    session_fatal (self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "configuration", "invalid_url", message);
    return;
  }
  /* The key goes into the header only; no SoupLogger is ever attached. GA
   * protocol: no OpenAI-Beta header. */
  auth = g_strconcat ("Bearer ", self->api_key, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Authorization", auth);
  memset (auth, 0, strlen (auth));

  session_set_state (self, SESSION_STATE_CONNECTING);
  self->connect_timed_out = FALSE;
  self->cancellable = g_cancellable_new ();
  session_arm_handshake_timeout (self);
  /* libsoup attaches its sources to the thread-default context: the
   * session's (a call loop pushes it already; this makes sure) */
  g_main_context_push_thread_default (self->context);
  if (self->soup == NULL)
    /* made here, on the loop, so that every source libsoup makes lands on
     * the loop's context */
    self->soup = soup_session_new_with_options ("timeout", 0,
        "idle-timeout", 0, NULL);
  self->connect_attempt = g_new0 (SessionConnectAttempt, 1);
  self->connect_attempt->session = self;
  soup_session_websocket_connect_async (self->soup, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancellable, connect_done,
      self->connect_attempt);
  g_main_context_pop_thread_default (self->context);
  g_object_unref (msg);
}

static gboolean
renew_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;

  g_source_unref (self->renew_timer);
  self->renew_timer = NULL;
  session_renew (self);
  return G_SOURCE_REMOVE;
}

/* A fresh connection before the server's session limit, at a quiet moment. */
void
session_renew (GstOpenAIRealtimeSession * self)
{
  gboolean busy;

  g_mutex_lock (&self->lock);
  busy = !g_queue_is_empty (&self->output);
  g_mutex_unlock (&self->lock);
  if (busy || self->active_response_id || self->response_requested) {
    GST_DEBUG ("session %s: renewal waits for the response", self->name);
    self->renew_pending = TRUE;
    return;
  }
  self->renew_pending = FALSE;
  GST_INFO ("session %s: renewing the session", self->name);
  session_post (self, gst_structure_new ("realtime-reconnecting",
          "attempt", G_TYPE_INT, 0, "delay-ms", G_TYPE_INT, 0,
          "reason", G_TYPE_STRING, "session renewal", NULL));
  session_drop_connection (self, TRUE);
  session_set_state (self, SESSION_STATE_IDLE);
  session_start_connect (self);
}

/* session.updated confirmed the configuration. */
void
session_on_ready (GstOpenAIRealtimeSession * self)
{
  gboolean replay = self->ever_ready;

  session_disarm (&self->handshake_timeout);
  self->attempt = 0;
  session_set_state (self, SESSION_STATE_READY);
  if (replay)
    session_replay_history (self);
  self->ever_ready = TRUE;
  session_flush_input (self);
  if (self->settings.greeting && !self->greeting_sent) {
    self->greeting_sent = TRUE;
    session_request_response (self, self->settings.greeting);
  } else if (self->response_wanted) {
    g_autofree gchar *instructions =
        g_steal_pointer (&self->wanted_instructions);
    self->response_wanted = FALSE;
    session_request_response (self, instructions);
  }
  session_disarm (&self->renew_timer);
  if (self->settings.renew_interval_s > 0)
    self->renew_timer = session_arm (self,
        self->settings.renew_interval_s * 1000, renew_cb);
}

/* Sends session.update once every attached element knows its format. */
void
session_try_send_update (GstOpenAIRealtimeSession * self)
{
  RealtimeSessionConfig *config;
  SessionState state;
  gboolean ready;
  RealtimeAudioFormat in, out;
  g_autoptr (GError) error = NULL;
  gchar *json;

  g_mutex_lock (&self->lock);
  state = self->state;
  ready = (self->src == NULL || self->src_format != REALTIME_AUDIO_FORMAT_UNSET)
      && (self->sink == NULL
      || self->sink_format != REALTIME_AUDIO_FORMAT_UNSET);
  in = self->sink_format;
  out = self->src_format;
  g_mutex_unlock (&self->lock);

  if (in == REALTIME_AUDIO_FORMAT_UNSET)
    in = REALTIME_AUDIO_FORMAT_PCM16;
  if (out == REALTIME_AUDIO_FORMAT_UNSET)
    out = REALTIME_AUDIO_FORMAT_PCM16;

  if (state == SESSION_STATE_READY && self->sent_config
      && (self->sent_config->input_format != in
          || self->sent_config->output_format != out)) {
    /* an element negotiated after the session was set up: formats only,
     * since the voice cannot change once audio exists */
    RealtimeSessionConfig *update = realtime_session_config_copy
        (self->sent_config);
    g_clear_pointer (&update->voice, g_free);
    g_clear_pointer (&update->instructions, g_free);
    g_clear_pointer (&update->tools_json, g_free);
    g_clear_pointer (&update->extra_json, g_free);
    update->input_format = self->sent_config->input_format = in;
    update->output_format = self->sent_config->output_format = out;
    GST_INFO ("session %s: formats changed, updating the session", self->name);
    session_send (self, realtime_build_session_update (update, NULL));
    realtime_session_config_free (update);
    return;
  }
  if (state != SESSION_STATE_WAIT_FORMATS || !ready)
    return;

  config = gst_openai_realtime_settings_to_config (&self->settings);
  config->input_format = in;
  config->output_format = out;
  json = realtime_build_session_update (config, &error);
  if (json == NULL) {
    /* validated at acquire; only reachable on a bug */
    session_fatal (self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "configuration", "invalid_config", error->message);
    realtime_session_config_free (config);
    return;
  }
  realtime_session_config_free (self->sent_config);
  self->sent_config = config;
  session_set_state (self, SESSION_STATE_WAIT_UPDATED);
  session_send (self, json);
  session_arm_handshake_timeout (self);
}
