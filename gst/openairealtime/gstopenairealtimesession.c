/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session: registry by name, the loop thread and its
 * GMainContext, the WebSocket connection (connect, handshake timeouts,
 * reconnect with backoff, renewal) and the queues toward the elements.
 * What each server event does is in gstopenairealtimeevents.c.
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
/* Caller audio is sent in events of at most this many bytes. */
#define MAX_APPEND_BYTES (32 * 1024)
#define RECONNECT_BASE_DELAY_MS 250
#define RECONNECT_MAX_DELAY_MS 8000
#define MAX_HISTORY 200

static GMutex registry_lock;
static GList *registry;

static void session_start_connect (GstOpenAIRealtimeSession * self);

void
gst_openai_realtime_audio_chunk_free (GstOpenAIRealtimeAudioChunk * chunk)
{
  if (chunk == NULL)
    return;
  g_bytes_unref (chunk->audio);
  g_free (chunk->response_id);
  g_free (chunk->item_id);
  g_free (chunk);
}

static void
history_entry_free (HistoryEntry * entry)
{
  g_free (entry->item_id);
  g_free (entry->role);
  g_free (entry->text);
  g_free (entry->call_id);
  g_free (entry->name);
  g_free (entry);
}

const gchar *
gst_openai_realtime_session_get_name (GstOpenAIRealtimeSession * session)
{
  return session->name;
}

static void
assert_loop_thread (GstOpenAIRealtimeSession * self)
{
  if (G_UNLIKELY (self->thread != g_thread_self ()))
    GST_ERROR ("session %s: called from the wrong thread", self->name);
}

/* ---- bus messages ---------------------------------------------------------- */

/* Posts from the source if there is one, else from the sink: messages reach
 * the bus of the pipeline the session serves. */
void
session_post (GstOpenAIRealtimeSession * self, GstStructure * s)
{
  GstElement *element;

  g_mutex_lock (&self->lock);
  element = self->src ? self->src : self->sink;
  if (element)
    gst_object_ref (element);
  g_mutex_unlock (&self->lock);

  if (element == NULL) {
    gst_structure_free (s);
    return;
  }
  GST_DEBUG_OBJECT (element, "posting %" GST_PTR_FORMAT, s);
  gst_element_post_message (element,
      gst_message_new_element (GST_OBJECT_CAST (element), s));
  gst_object_unref (element);
}

/* ---- timers --------------------------------------------------------------- */

void
session_disarm (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

static GSource *
session_arm (GstOpenAIRealtimeSession * self, guint ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

/* ---- sending -------------------------------------------------------------- */

void
session_send (GstOpenAIRealtimeSession * self, gchar * json)
{
  assert_loop_thread (self);
  if (self->conn == NULL
      || soup_websocket_connection_get_state (self->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN) {
    GST_DEBUG ("session %s: not connected, dropping %.60s", self->name, json);
    g_free (json);
    return;
  }
  GST_LOG ("session %s: sending %.120s", self->name, json);
  soup_websocket_connection_send_text (self->conn, json);
  g_free (json);
}

/* Sends the caller audio that waited for the session, in order. */
static void
session_flush_input (GstOpenAIRealtimeSession * self)
{
  for (;;) {
    GByteArray *merged = NULL;
    guint64 dropped;

    g_mutex_lock (&self->lock);
    self->flush_scheduled = FALSE;
    dropped = self->dropped_input_bytes;
    self->dropped_input_bytes = 0;
    if (self->state != SESSION_STATE_READY) {
      self->dropped_input_bytes += dropped;
      g_mutex_unlock (&self->lock);
      return;
    }
    while (!g_queue_is_empty (&self->pending_input)) {
      GBytes *head = g_queue_peek_head (&self->pending_input);
      gsize size = g_bytes_get_size (head);

      if (merged && merged->len + size > MAX_APPEND_BYTES)
        break;
      g_queue_pop_head (&self->pending_input);
      self->pending_bytes -= size;
      if (merged == NULL)
        merged = g_byte_array_sized_new (MAX (size, 4096));
      g_byte_array_append (merged, g_bytes_get_data (head, NULL), size);
      g_bytes_unref (head);
    }
    g_mutex_unlock (&self->lock);

    if (dropped > 0) {
      g_autofree gchar *msg = g_strdup_printf ("caller audio buffer full "
          "while the session was not ready: %" G_GUINT64_FORMAT " bytes of the "
          "oldest audio were dropped", dropped);
      GST_WARNING ("session %s: %s", self->name, msg);
      session_post_error (self, "buffer_overflow", "input_dropped", msg, FALSE);
    }
    if (merged == NULL)
      return;
    session_send (self, realtime_build_input_audio_append (merged->data,
            merged->len));
    g_byte_array_unref (merged);
  }
}

static gboolean
flush_input_cb (gpointer data)
{
  session_flush_input (data);
  return G_SOURCE_REMOVE;
}

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
    history_entry_free (g_queue_pop_head (&self->history));
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

static void
session_drop_connection (GstOpenAIRealtimeSession * self, gboolean close)
{
  session_disarm (&self->handshake_timeout);
  session_disarm (&self->response_timer);
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

static void
set_state (GstOpenAIRealtimeSession * self, SessionState state)
{
  g_mutex_lock (&self->lock);
  if (self->state != SESSION_STATE_FAILED
      && self->state != SESSION_STATE_STOPPED)
    self->state = state;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static SessionState
get_state (GstOpenAIRealtimeSession * self)
{
  SessionState state;

  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

void
session_fatal (GstOpenAIRealtimeSession * self, GQuark domain, gint code,
    const gchar * type, const gchar * error_code, const gchar * message)
{
  GstElement *elements[2] = { NULL, NULL };
  guint i;

  if (get_state (self) == SESSION_STATE_FAILED
      || get_state (self) == SESSION_STATE_STOPPED)
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
  SessionState state = get_state (self);

  if (state == SESSION_STATE_FAILED || state == SESSION_STATE_STOPPED)
    return;
  session_drop_connection (self, TRUE);
  set_state (self, SESSION_STATE_IDLE);

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
  SessionState state = get_state (self);
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
  session_handle_text (self, text, size);
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
  GstOpenAIRealtimeSession *self = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), result);
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn;
  guint status = msg ? soup_message_get_status (msg) : 0;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
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
  set_state (self, SESSION_STATE_WAIT_CREATED);
  session_arm_handshake_timeout (self);
}

static void
session_start_connect (GstOpenAIRealtimeSession * self)
{
  SoupMessage *msg;
  g_autofree gchar *auth = NULL;

  assert_loop_thread (self);
  if (get_state (self) == SESSION_STATE_FAILED
      || get_state (self) == SESSION_STATE_STOPPED)
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

  set_state (self, SESSION_STATE_CONNECTING);
  self->connect_timed_out = FALSE;
  self->cancellable = g_cancellable_new ();
  session_arm_handshake_timeout (self);
  soup_session_websocket_connect_async (self->soup, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancellable, connect_done, self);
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
  set_state (self, SESSION_STATE_IDLE);
  session_start_connect (self);
}

/* session.updated confirmed the configuration. */
void
session_on_ready (GstOpenAIRealtimeSession * self)
{
  gboolean replay = self->ever_ready;

  session_disarm (&self->handshake_timeout);
  self->attempt = 0;
  set_state (self, SESSION_STATE_READY);
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
  set_state (self, SESSION_STATE_WAIT_UPDATED);
  session_send (self, json);
  session_arm_handshake_timeout (self);
}

static gboolean
try_send_update_cb (gpointer data)
{
  session_try_send_update (data);
  return G_SOURCE_REMOVE;
}

/* ---- the loop thread ------------------------------------------------------- */

static gboolean
loop_started_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return G_SOURCE_REMOVE;
}

static gboolean
start_connect_cb (gpointer data)
{
  session_start_connect (data);
  return G_SOURCE_REMOVE;
}

static gpointer
session_thread (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;
  GSource *idle;

  g_main_context_push_thread_default (self->context);
  /* created here so that every source libsoup makes lands on our context */
  self->soup = soup_session_new_with_options ("timeout", 0,
      "idle-timeout", 0, NULL);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, loop_started_cb, self, NULL);
  g_source_attach (idle, self->context);
  g_source_unref (idle);

  g_main_loop_run (self->loop);

  set_state (self, SESSION_STATE_STOPPED);
  session_drop_connection (self, TRUE);
  session_disarm (&self->reconnect_timer);
  session_disarm (&self->renew_timer);
  soup_session_abort (self->soup);
  while (g_main_context_pending (self->context))
    g_main_context_iteration (self->context, FALSE);
  g_clear_object (&self->soup);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
quit_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;

  g_mutex_lock (&self->lock);
  self->state = SESSION_STATE_STOPPED;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

static gchar *
make_http_url (const gchar * url, const gchar * model, gboolean for_display)
{
  GString *s = g_string_new (NULL);

  /* libsoup connects WebSockets through http(s) URIs */
  if (!for_display && g_str_has_prefix (url, "wss://"))
    g_string_append_printf (s, "https://%s", url + 6);
  else if (!for_display && g_str_has_prefix (url, "ws://"))
    g_string_append_printf (s, "http://%s", url + 5);
  else
    g_string_append (s, url);
  if (model && *model && strstr (url, "model=") == NULL) {
    gchar *escaped = g_uri_escape_string (model, NULL, FALSE);
    g_string_append_printf (s, "%cmodel=%s", strchr (url, '?') ? '&' : '?',
        escaped);
    g_free (escaped);
  }
  return g_string_free (s, FALSE);
}

static GstOpenAIRealtimeSession *
session_new (const GstOpenAIRealtimeSettings * settings, gchar * api_key)
{
  GstOpenAIRealtimeSession *self = g_new0 (GstOpenAIRealtimeSession, 1);
  gchar *thread_name;

  self->name = g_strdup (settings->session_name);
  self->ref_count = 1;
  gst_openai_realtime_settings_copy (&self->settings, settings);
  /* the session keeps the resolved key only */
  g_clear_pointer (&self->settings.api_key, g_free);
  self->api_key = api_key;
  self->http_url = make_http_url (settings->url, settings->model, FALSE);
  self->display_url = make_http_url (settings->url, settings->model, TRUE);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->pending_input);
  g_queue_init (&self->output);
  g_queue_init (&self->history);
  g_queue_init (&self->discarded_responses);
  self->state = SESSION_STATE_IDLE;

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  thread_name = g_strdup_printf ("rt:%s", self->name);
  g_mutex_lock (&self->lock);
  self->thread = g_thread_new (thread_name, session_thread, self);
  /* the caller proceeds once the loop runs */
  while (!g_main_loop_is_running (self->loop))
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  g_free (thread_name);
  return self;
}

static void
session_free (GstOpenAIRealtimeSession * self)
{
  GSource *quit = g_idle_source_new ();

  g_source_set_callback (quit, quit_cb, self, NULL);
  g_source_attach (quit, self->context);
  g_source_unref (quit);
  g_thread_join (self->thread);

  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_queue_clear_full (&self->pending_input, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->output,
      (GDestroyNotify) gst_openai_realtime_audio_chunk_free);
  g_queue_clear_full (&self->history, (GDestroyNotify) history_entry_free);
  g_queue_clear_full (&self->discarded_responses, g_free);
  realtime_session_config_free (self->sent_config);
  g_free (self->wanted_instructions);
  g_free (self->first_audio_response);
  g_free (self->session_id);
  g_free (self->active_response_id);
  if (self->api_key) {
    memset (self->api_key, 0, strlen (self->api_key));
    g_free (self->api_key);
  }
  g_free (self->http_url);
  g_free (self->display_url);
  gst_openai_realtime_settings_clear (&self->settings);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->name);
  g_free (self);
}

/* ---- element API ----------------------------------------------------------- */

GstOpenAIRealtimeSession *
gst_openai_realtime_session_acquire (GstElement * element,
    GstOpenAIRealtimeRole role, const GstOpenAIRealtimeSettings * settings,
    GError ** error)
{
  GstOpenAIRealtimeSession *self = NULL;
  gboolean created = FALSE;
  GList *l;

  /* Lookup and unref share one lock so that nobody finds an entry whose
   * count has just reached zero (the inter plugin's reasoning). */
  g_mutex_lock (&registry_lock);
  for (l = registry; l; l = l->next) {
    GstOpenAIRealtimeSession *s = l->data;
    if (g_str_equal (s->name, settings->session_name)) {
      self = s;
      self->ref_count++;
      break;
    }
  }
  if (self == NULL) {
    RealtimeSessionConfig *config;
    gchar *key = gst_openai_realtime_settings_resolve_api_key (settings,
        error);

    if (key == NULL) {
      g_mutex_unlock (&registry_lock);
      return NULL;
    }
    config = gst_openai_realtime_settings_to_config (settings);
    if (!realtime_session_config_validate (config, error)) {
      realtime_session_config_free (config);
      g_free (key);
      g_mutex_unlock (&registry_lock);
      return NULL;
    }
    realtime_session_config_free (config);
    if (settings->url == NULL || !(g_str_has_prefix (settings->url, "ws://")
            || g_str_has_prefix (settings->url, "wss://")
            || g_str_has_prefix (settings->url, "http://")
            || g_str_has_prefix (settings->url, "https://"))) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Invalid url \"%s\": expected ws:// or wss://",
          settings->url ? settings->url : "(null)");
      g_free (key);
      g_mutex_unlock (&registry_lock);
      return NULL;
    }
    self = session_new (settings, key);
    registry = g_list_prepend (registry, self);
    created = TRUE;
  }
  g_mutex_unlock (&registry_lock);

  g_mutex_lock (&self->lock);
  if (role == GST_OPENAI_REALTIME_ROLE_SRC) {
    self->src = element;
    self->src_format = REALTIME_AUDIO_FORMAT_UNSET;
    self->src_flushing = FALSE;
  } else {
    self->sink = element;
    self->sink_format = REALTIME_AUDIO_FORMAT_UNSET;
  }
  g_mutex_unlock (&self->lock);
  /* connect once the element is attached, so that realtime-connecting
   * reaches its bus */
  if (created)
    g_main_context_invoke (self->context, start_connect_cb, self);
  return self;
}

void
gst_openai_realtime_session_release (GstOpenAIRealtimeSession * self,
    GstElement * element, GstOpenAIRealtimeRole role)
{
  gboolean last;

  g_mutex_lock (&self->lock);
  if (role == GST_OPENAI_REALTIME_ROLE_SRC && self->src == element) {
    self->src = NULL;
    self->src_format = REALTIME_AUDIO_FORMAT_UNSET;
    g_queue_clear_full (&self->output,
        (GDestroyNotify) gst_openai_realtime_audio_chunk_free);
    g_queue_init (&self->output);
  } else if (role == GST_OPENAI_REALTIME_ROLE_SINK && self->sink == element) {
    self->sink = NULL;
    self->sink_format = REALTIME_AUDIO_FORMAT_UNSET;
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  g_mutex_lock (&registry_lock);
  last = (--self->ref_count == 0);
  if (last)
    registry = g_list_remove (registry, self);
  g_mutex_unlock (&registry_lock);

  if (last)
    session_free (self);
  else
    /* the remaining element may now be the only one whose format counts */
    g_main_context_invoke (self->context, try_send_update_cb, self);
}

void
gst_openai_realtime_session_set_format (GstOpenAIRealtimeSession * self,
    GstOpenAIRealtimeRole role, RealtimeAudioFormat format)
{
  g_mutex_lock (&self->lock);
  if (role == GST_OPENAI_REALTIME_ROLE_SRC)
    self->src_format = format;
  else
    self->sink_format = format;
  g_mutex_unlock (&self->lock);
  g_main_context_invoke (self->context, try_send_update_cb, self);
}

gboolean
gst_openai_realtime_session_push_input (GstOpenAIRealtimeSession * self,
    const guint8 * data, gsize size)
{
  gsize limit;
  guint bytes_per_ms;
  gboolean schedule = FALSE;

  g_mutex_lock (&self->lock);
  if (self->state == SESSION_STATE_FAILED) {
    g_mutex_unlock (&self->lock);
    return FALSE;
  }
  bytes_per_ms = realtime_audio_format_bytes_per_ms (self->sink_format);
  limit = (gsize) self->settings.max_buffered_ms * MAX (bytes_per_ms, 8);
  g_queue_push_tail (&self->pending_input, g_bytes_new (data, size));
  self->pending_bytes += size;
  /* bounded: beyond the limit the oldest audio goes, and is reported */
  while (self->pending_bytes > limit
      && g_queue_get_length (&self->pending_input) > 1) {
    GBytes *old = g_queue_pop_head (&self->pending_input);
    self->pending_bytes -= g_bytes_get_size (old);
    self->dropped_input_bytes += g_bytes_get_size (old);
    g_bytes_unref (old);
  }
  if (self->state == SESSION_STATE_READY && !self->flush_scheduled) {
    self->flush_scheduled = TRUE;
    schedule = TRUE;
  }
  g_mutex_unlock (&self->lock);

  if (schedule)
    g_main_context_invoke (self->context, flush_input_cb, self);
  return TRUE;
}

static gboolean
commit_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;

  session_flush_input (self);
  session_send (self, realtime_build_input_audio_commit ());
  session_request_response (self, NULL);
  return G_SOURCE_REMOVE;
}

void
gst_openai_realtime_session_commit_input (GstOpenAIRealtimeSession * self)
{
  g_main_context_invoke (self->context, commit_cb, self);
}

GstOpenAIRealtimePullResult
gst_openai_realtime_session_pull (GstOpenAIRealtimeSession * self,
    GstOpenAIRealtimeAudioChunk ** chunk, gboolean * dropped_audio)
{
  GstOpenAIRealtimePullResult result;

  *chunk = NULL;
  g_mutex_lock (&self->lock);
  for (;;) {
    if (self->src_flushing) {
      result = GST_OPENAI_REALTIME_PULL_FLUSHING;
      break;
    }
    if (self->state == SESSION_STATE_FAILED) {
      result = GST_OPENAI_REALTIME_PULL_ERROR;
      break;
    }
    if (self->barge_in) {
      self->barge_in = FALSE;
      *dropped_audio = self->barge_in_dropped;
      self->barge_in_dropped = FALSE;
      result = GST_OPENAI_REALTIME_PULL_BARGE_IN;
      break;
    }
    if (!g_queue_is_empty (&self->output)) {
      *chunk = g_queue_pop_head (&self->output);
      result = GST_OPENAI_REALTIME_PULL_AUDIO;
      break;
    }
    g_cond_wait (&self->cond, &self->lock);
  }
  g_mutex_unlock (&self->lock);
  return result;
}

void
gst_openai_realtime_session_set_src_flushing (GstOpenAIRealtimeSession * self,
    gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->src_flushing = flushing;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

typedef struct
{
  GstOpenAIRealtimeSession *session;
  gchar *a;
  gchar *b;
  gint64 value;
} Invocation;

static void
invocation_free (gpointer data)
{
  Invocation *inv = data;

  g_free (inv->a);
  g_free (inv->b);
  g_free (inv);
}

static void
invoke (GstOpenAIRealtimeSession * self, GSourceFunc func, const gchar * a,
    const gchar * b, gint64 value)
{
  Invocation *inv = g_new0 (Invocation, 1);

  inv->session = self;
  inv->a = g_strdup (a);
  inv->b = g_strdup (b);
  inv->value = value;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, func, inv,
      invocation_free);
}

static gboolean
truncate_cb (gpointer data)
{
  Invocation *inv = data;
  GstOpenAIRealtimeSession *self = inv->session;
  GList *l;

  session_send (self, realtime_build_item_truncate (inv->a, 0, inv->value));
  session_post (self, gst_structure_new ("realtime-truncated",
          "item-id", G_TYPE_STRING, inv->a,
          "audio-end-ms", G_TYPE_INT, (gint) inv->value, NULL));
  /* the caller did not hear the rest: don't replay it as said */
  for (l = self->history.head; l; l = l->next) {
    HistoryEntry *entry = l->data;
    if (g_strcmp0 (entry->item_id, inv->a) == 0) {
      history_entry_free (entry);
      g_queue_delete_link (&self->history, l);
      break;
    }
  }
  return G_SOURCE_REMOVE;
}

void
gst_openai_realtime_session_truncate (GstOpenAIRealtimeSession * self,
    const gchar * item_id, gint64 audio_end_ms)
{
  invoke (self, truncate_cb, item_id, NULL, audio_end_ms);
}

static gboolean
function_call_output_cb (gpointer data)
{
  Invocation *inv = data;
  GstOpenAIRealtimeSession *self = inv->session;

  session_history_add (self, HISTORY_FUNCTION_OUTPUT, NULL, NULL, inv->b,
      inv->a, NULL);
  if (get_state (self) == SESSION_STATE_READY)
    session_send (self,
        realtime_build_item_create_function_call_output (inv->a, inv->b));
  /* else the history replay on the next connection carries it */
  session_request_response (self, NULL);
  return G_SOURCE_REMOVE;
}

gboolean
gst_openai_realtime_session_function_call_output (GstOpenAIRealtimeSession *
    self, const gchar * call_id, const gchar * output)
{
  if (call_id == NULL || *call_id == '\0') {
    GST_WARNING ("session %s: function-call-output without a call id",
        self->name);
    return FALSE;
  }
  if (get_state (self) == SESSION_STATE_FAILED)
    return FALSE;
  invoke (self, function_call_output_cb, call_id, output ? output : "", 0);
  return TRUE;
}
