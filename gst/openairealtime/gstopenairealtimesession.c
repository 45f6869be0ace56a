/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session: registry by name, the loop it lives on (a pool
 * loop, or the application's call loop), the work queued for that loop,
 * and attaching/detaching the elements. Work asked for on the session's
 * own loop runs at once; from any other thread it is queued and the loop
 * woken. The element-facing queues (caller audio toward the model, model
 * audio toward the source) are in gstopenairealtimesessionqueues.c; the
 * connection itself (connect, handshake, reconnect, renewal, replay) is in
 * gstopenairealtimeconnection.c; what each server event does is in
 * gstopenairealtimeevents.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstopenairealtimesessionprivate.h"

#define GST_CAT_DEFAULT gst_openai_realtime_session_debug

static GMutex registry_lock;
static GList *registry;


void
session_history_entry_free (HistoryEntry * entry)
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

void
session_assert_loop_thread (GstOpenAIRealtimeSession * self)
{
  if (G_UNLIKELY (!g_main_context_is_owner (self->context)))
    GST_ERROR ("session %s: called from the wrong thread", self->name);
}

GMainContext *
gst_openai_realtime_loop_context_get (GstContext * context)
{
  const GstStructure *s;
  GMainContext *main_context = NULL;

  if (context == NULL || g_strcmp0 (gst_context_get_context_type (context),
          GST_OPENAI_REALTIME_LOOP_CONTEXT_TYPE) != 0)
    return NULL;
  s = gst_context_get_structure (context);
  if (!gst_structure_get (s, GST_OPENAI_REALTIME_LOOP_CONTEXT_FIELD,
          G_TYPE_MAIN_CONTEXT, &main_context, NULL)) {
    GST_WARNING ("%s context without a %s field of type GMainContext",
        GST_OPENAI_REALTIME_LOOP_CONTEXT_TYPE,
        GST_OPENAI_REALTIME_LOOP_CONTEXT_FIELD);
    return NULL;
  }
  return main_context;
}

void
gst_openai_realtime_loop_context_store (GstElement * element,
    GstContext * context, GMainContext ** slot)
{
  GMainContext *main_context = gst_openai_realtime_loop_context_get (context);

  if (main_context == NULL)
    return;
  GST_INFO_OBJECT (element, "loop-driven: the call loop is %p", main_context);
  GST_OBJECT_LOCK (element);
  g_clear_pointer (slot, g_main_context_unref);
  *slot = main_context;
  GST_OBJECT_UNLOCK (element);
}

GMainContext *
gst_openai_realtime_session_get_call_context (GstOpenAIRealtimeSession * self)
{
  return self->call_context;
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

/* ---- state ----------------------------------------------------------------- */

void
session_set_state (GstOpenAIRealtimeSession * self, SessionState state)
{
  g_mutex_lock (&self->lock);
  if (self->state != SESSION_STATE_FAILED
      && self->state != SESSION_STATE_STOPPED)
    self->state = state;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

SessionState
session_get_state (GstOpenAIRealtimeSession * self)
{
  SessionState state;

  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
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

GSource *
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
  session_assert_loop_thread (self);
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

/* ---- work for the loop ----------------------------------------------------- */

static void
session_work_free (SessionWork * work)
{
  g_free (work->a);
  g_free (work->b);
  g_free (work);
}

/* Any thread, lock held. Queues @func; returns TRUE if the caller must run
 * the queue at once (after unlocking): it is on the session's loop, where
 * waking the loop would only cost a wake-up (and the caller could be the
 * loop waiting for itself). Else wakes the loop unless it is woken
 * already: what is queued before the loop gets to it is done in one
 * wake-up. */
gboolean
session_queue_work_locked (GstOpenAIRealtimeSession * self,
    SessionWorkFunc func, const gchar * a, const gchar * b, gint64 value)
{
  SessionWork *work;

  if (self->stopped)
    return FALSE;
  work = g_new0 (SessionWork, 1);
  work->func = func;
  work->a = g_strdup (a);
  work->b = g_strdup (b);
  work->value = value;
  g_queue_push_tail (&self->work, work);
  /* queued work first, then this one: order is kept */
  if (g_main_context_is_owner (self->context))
    return TRUE;
  if (self->work.length == 1)
    g_source_set_ready_time (self->work_source, 0);
  return FALSE;
}

void
session_queue_work (GstOpenAIRealtimeSession * self, SessionWorkFunc func,
    const gchar * a, const gchar * b, gint64 value)
{
  gboolean run_now;

  g_mutex_lock (&self->lock);
  run_now = session_queue_work_locked (self, func, a, b, value);
  g_mutex_unlock (&self->lock);
  if (run_now)
    session_run_work (self);
}

/* Loop thread: runs what was queued, in order. */
void
session_run_work (GstOpenAIRealtimeSession * self)
{
  GQueue batch = G_QUEUE_INIT;
  SessionWork *work;

  session_dispatch_begin (self);
  g_mutex_lock (&self->lock);
  batch = self->work;
  g_queue_init (&self->work);
  g_mutex_unlock (&self->lock);
  while ((work = g_queue_pop_head (&batch))) {
    work->func (self, work);
    session_work_free (work);
  }
  session_dispatch_end (self);
}

static gboolean
work_source_dispatch (GSource * source, GSourceFunc callback, gpointer data)
{
  /* re-armed by the next queued work */
  g_source_set_ready_time (source, -1);
  return callback (data);
}

static GSourceFuncs work_source_funcs = {
  NULL, NULL, work_source_dispatch, NULL, NULL, NULL
};

static gboolean
work_cb (gpointer data)
{
  session_run_work (data);
  return G_SOURCE_CONTINUE;
}

static void
try_send_update_work (GstOpenAIRealtimeSession * self, SessionWork * work)
{
  session_try_send_update (self);
}

static void
start_connect_work (GstOpenAIRealtimeSession * self, SessionWork * work)
{
  session_start_connect (self);
}

/* ---- life on the shared loop ----------------------------------------------- */

/* On the loop: what the session's own thread did when it ended. Nothing of
 * the session is left on the loop afterwards (sources destroyed, connect
 * attempt abandoned, libsoup objects gone). */
static gboolean
stop_cb (gpointer data)
{
  GstOpenAIRealtimeSession *self = data;

  /* what the elements asked for before they left is still done */
  session_run_work (self);
  g_mutex_lock (&self->lock);
  self->stopped = TRUE;
  g_mutex_unlock (&self->lock);
  g_source_destroy (self->work_source);
  session_set_state (self, SESSION_STATE_STOPPED);
  session_drop_connection (self, TRUE);
  session_disarm (&self->reconnect_timer);
  session_disarm (&self->renew_timer);
  session_disarm (&self->response_timer);
  session_disarm (&self->handshake_timeout);
  if (self->soup) {
    soup_session_abort (self->soup);
    g_clear_object (&self->soup);
  }

  g_mutex_lock (&self->lock);
  self->state = SESSION_STATE_STOPPED;
  self->loop_done = TRUE;
  g_queue_clear_full (&self->work, (GDestroyNotify) session_work_free);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
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
session_new (const GstOpenAIRealtimeSettings * settings, gchar * api_key,
    GMainContext * call_context)
{
  GstOpenAIRealtimeSession *self = g_new0 (GstOpenAIRealtimeSession, 1);

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
  g_queue_init (&self->work);
  self->state = SESSION_STATE_IDLE;

  if (call_context) {
    /* the application's call loop: no pool loop for this session */
    self->call_context = g_main_context_ref (call_context);
    self->context = call_context;
  } else {
    self->loop = gst_openai_realtime_loop_acquire ();
    self->context = gst_openai_realtime_loop_get_context (self->loop);
  }
  self->work_source = g_source_new (&work_source_funcs, sizeof (GSource));
  g_source_set_callback (self->work_source, work_cb, self, NULL);
  g_source_set_name (self->work_source, "openairealtime session work");
  g_source_set_ready_time (self->work_source, -1);
  g_source_attach (self->work_source, self->context);
  GST_DEBUG ("session %s: on %s %p", self->name, call_context ?
      "the call loop" : "pool loop", self->context);
  return self;
}

static void session_finalize (GstOpenAIRealtimeSession * self);

void
session_dispatch_begin (GstOpenAIRealtimeSession * self)
{
  self->dispatch_depth++;
}

void
session_dispatch_end (GstOpenAIRealtimeSession * self)
{
  if (--self->dispatch_depth == 0 && self->free_deferred)
    session_finalize (self);
}

static void
session_free (GstOpenAIRealtimeSession * self)
{
  if (g_main_context_is_owner (self->context)) {
    /* on the loop: nothing to wait for */
    stop_cb (self);
    if (self->dispatch_depth > 0) {
      /* released from inside one of our callbacks (a bus handler on the
       * call loop): the callback still uses the session */
      self->free_deferred = TRUE;
      return;
    }
  } else {
    /* runs in place if nobody iterates the context */
    g_main_context_invoke (self->context, stop_cb, self);
    g_mutex_lock (&self->lock);
    while (!self->loop_done)
      g_cond_wait (&self->cond, &self->lock);
    g_mutex_unlock (&self->lock);
  }
  session_finalize (self);
}

static void
session_finalize (GstOpenAIRealtimeSession * self)
{
  g_source_unref (self->work_source);
  if (self->loop)
    gst_openai_realtime_loop_release (self->loop);
  if (self->call_context)
    g_main_context_unref (self->call_context);

  g_queue_clear_full (&self->pending_input, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->output,
      (GDestroyNotify) gst_openai_realtime_audio_chunk_free);
  g_queue_clear_full (&self->history,
      (GDestroyNotify) session_history_entry_free);
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
    GMainContext * call_context, GError ** error)
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
    self = session_new (settings, key, call_context);
    registry = g_list_prepend (registry, self);
    created = TRUE;
  }
  g_mutex_unlock (&registry_lock);

  g_mutex_lock (&self->lock);
  if (role == GST_OPENAI_REALTIME_ROLE_SRC) {
    self->src = element;
    self->output_func = NULL;
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
    session_queue_work (self, start_connect_work, NULL, NULL, 0);
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
    self->output_func = NULL;
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
  last = (self->ref_count == 1);
  if (!last)
    self->ref_count--;
  g_mutex_unlock (&registry_lock);

  if (last)
    gst_openai_realtime_session_unref (self);
  else
    /* the remaining element may now be the only one whose format counts */
    session_queue_work (self, try_send_update_work, NULL, NULL, 0);
}

void
gst_openai_realtime_session_ref (GstOpenAIRealtimeSession * self)
{
  g_mutex_lock (&registry_lock);
  self->ref_count++;
  g_mutex_unlock (&registry_lock);
}

GstOpenAIRealtimeSession *
gst_openai_realtime_session_ref_held (GstObject * element,
    GstOpenAIRealtimeSession ** slot)
{
  GstOpenAIRealtimeSession *session;

  GST_OBJECT_LOCK (element);
  session = *slot;
  if (session)
    gst_openai_realtime_session_ref (session);
  GST_OBJECT_UNLOCK (element);
  return session;
}

gboolean
gst_openai_realtime_element_function_call_output (GstObject * element,
    GstOpenAIRealtimeSession ** slot, const gchar * call_id,
    const gchar * output)
{
  GstOpenAIRealtimeSession *session =
      gst_openai_realtime_session_ref_held (element, slot);
  gboolean ok;

  if (session == NULL)
    return FALSE;
  ok = gst_openai_realtime_session_function_call_output (session, call_id,
      output);
  gst_openai_realtime_session_unref (session);
  return ok;
}

void
gst_openai_realtime_session_unref (GstOpenAIRealtimeSession * self)
{
  gboolean last;

  g_mutex_lock (&registry_lock);
  last = (--self->ref_count == 0);
  if (last)
    registry = g_list_remove (registry, self);
  g_mutex_unlock (&registry_lock);
  if (last)
    session_free (self);
}

void
gst_openai_realtime_session_set_format (GstOpenAIRealtimeSession * self,
    GstOpenAIRealtimeRole role, RealtimeAudioFormat format)
{
  gboolean run_now;

  g_mutex_lock (&self->lock);
  if (role == GST_OPENAI_REALTIME_ROLE_SRC)
    self->src_format = format;
  else
    self->sink_format = format;
  run_now = session_queue_work_locked (self, try_send_update_work, NULL, NULL,
      0);
  g_mutex_unlock (&self->lock);
  if (run_now)
    session_run_work (self);
}
