/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fake OpenAI Realtime server for the tests (see fakerealtime.h).
 */
#include <libsoup/soup.h>
#include <string.h>

#include "fakerealtime.h"

struct _FakeRealtime
{
  FakeRealtimeMode mode;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  gchar *url;

  GMutex lock;
  GCond cond;
  gboolean running;
  SoupWebsocketConnection *conn;        /* current, server thread */
  GPtrArray *events;            /* gchar* JSON, in order */
  GByteArray *audio;
  guint connections;
  gboolean updated_released;
  gchar *pending_updated;       /* held session.updated */
  gchar *authorization;
};

static gboolean
send_in_thread (gpointer data)
{
  gpointer *pair = data;
  FakeRealtime *self = pair[0];

  if (self->conn && soup_websocket_connection_get_state (self->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (self->conn, pair[1]);
  return G_SOURCE_REMOVE;
}

static void
free_pair (gpointer data)
{
  gpointer *pair = data;

  g_free (pair[1]);
  g_free (pair);
}

void
fake_realtime_send (FakeRealtime * self, gchar * json)
{
  gpointer *pair = g_new0 (gpointer, 2);

  pair[0] = self;
  pair[1] = json;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT,
      send_in_thread, pair, free_pair);
}

static gboolean
drop_in_thread (gpointer data)
{
  FakeRealtime *self = data;

  if (self->conn) {
    GIOStream *stream = soup_websocket_connection_get_io_stream (self->conn);
    /* no close frame: the client sees the socket die */
    g_io_stream_close (stream, NULL, NULL);
  }
  return G_SOURCE_REMOVE;
}

void
fake_realtime_drop (FakeRealtime * self)
{
  g_main_context_invoke (self->context, drop_in_thread, self);
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer data)
{
  FakeRealtime *self = data;
  gsize size;
  const gchar *text = g_bytes_get_data (message, &size);
  RealtimeClientEvent *event;
  gchar *updated = NULL;

  g_assert (type == SOUP_WEBSOCKET_DATA_TEXT);
  event = realtime_client_event_parse (text, size, NULL);
  g_assert (event != NULL);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->events, g_strndup (text, size));
  if (event->type == REALTIME_CLIENT_INPUT_AUDIO_APPEND)
    g_byte_array_append (self->audio, g_bytes_get_data (event->audio, NULL),
        g_bytes_get_size (event->audio));
  if (event->type == REALTIME_CLIENT_SESSION_UPDATE) {
    RealtimeSessionConfig *effective = event->session;
    if (effective->input_format == REALTIME_AUDIO_FORMAT_UNSET)
      effective->input_format = REALTIME_AUDIO_FORMAT_PCM16;
    if (effective->output_format == REALTIME_AUDIO_FORMAT_UNSET)
      effective->output_format = REALTIME_AUDIO_FORMAT_PCM16;
    updated = realtime_build_session_updated ("sess_fake", effective, 0);
    if (self->mode == FAKE_REALTIME_HOLD_UPDATED && !self->updated_released) {
      g_free (self->pending_updated);
      self->pending_updated = updated;
      updated = NULL;
    }
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (updated) {
    soup_websocket_connection_send_text (conn, updated);
    g_free (updated);
  }
  realtime_client_event_free (event);
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer data)
{
  FakeRealtime *self = data;

  if (self->conn == conn)
    g_clear_object (&self->conn);
}

static void
websocket_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer data)
{
  FakeRealtime *self = data;
  RealtimeSessionConfig *defaults = realtime_session_config_new ();
  gchar *created;

  g_mutex_lock (&self->lock);
  self->connections++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (self->conn) {
    g_signal_handlers_disconnect_by_data (self->conn, self);
    g_clear_object (&self->conn);
  }
  self->conn = g_object_ref (conn);
  soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), self);
  defaults->model = g_strdup ("gpt-realtime");
  defaults->voice = g_strdup ("marin");
  created = realtime_build_session_created ("sess_fake", defaults, 0);
  soup_websocket_connection_send_text (conn, created);
  g_free (created);
  realtime_session_config_free (defaults);
}

/* Runs for every request: records the Authorization header. */
static void
request_read_cb (SoupServer * server, SoupServerMessage * msg, gpointer data)
{
  FakeRealtime *self = data;
  const gchar *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");

  g_mutex_lock (&self->lock);
  g_free (self->authorization);
  self->authorization = g_strdup (auth);
  g_mutex_unlock (&self->lock);
}

static void
reject_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
}

static gpointer
server_thread (gpointer data)
{
  FakeRealtime *self = data;
  GSList *uris;
  GError *error = NULL;

  g_main_context_push_thread_default (self->context);
  self->server = soup_server_new (NULL, NULL);
  g_signal_connect (self->server, "request-read",
      G_CALLBACK (request_read_cb), self);
  if (self->mode == FAKE_REALTIME_REJECT_401)
    soup_server_add_handler (self->server, NULL, reject_cb, self, NULL);
  else
    soup_server_add_websocket_handler (self->server, "/v1/realtime", NULL,
        NULL, websocket_cb, self, NULL);
  if (!soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
          &error))
    g_error ("fake server cannot listen: %s", error->message);
  uris = soup_server_get_uris (self->server);
  g_mutex_lock (&self->lock);
  self->url = g_strdup_printf ("ws://127.0.0.1:%d/v1/realtime",
      g_uri_get_port (uris->data));
  self->running = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (self->loop);

  if (self->conn) {
    g_signal_handlers_disconnect_by_data (self->conn, self);
    if (soup_websocket_connection_get_state (self->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      g_io_stream_close (soup_websocket_connection_get_io_stream (self->conn),
          NULL, NULL);
    g_clear_object (&self->conn);
  }
  while (g_main_context_iteration (self->context, FALSE));
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  while (g_main_context_pending (self->context))
    g_main_context_iteration (self->context, FALSE);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

FakeRealtime *
fake_realtime_new (FakeRealtimeMode mode)
{
  FakeRealtime *self = g_new0 (FakeRealtime, 1);

  self->mode = mode;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->events = g_ptr_array_new_with_free_func (g_free);
  self->audio = g_byte_array_new ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new ("fake-realtime", server_thread, self);
  g_mutex_lock (&self->lock);
  while (!self->running)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  return self;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
fake_realtime_free (FakeRealtime * self)
{
  g_main_context_invoke (self->context, quit_cb, self->loop);
  g_thread_join (self->thread);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_ptr_array_unref (self->events);
  g_byte_array_unref (self->audio);
  g_free (self->pending_updated);
  g_free (self->authorization);
  g_free (self->url);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

const gchar *
fake_realtime_get_url (FakeRealtime * self)
{
  return self->url;
}

void
fake_realtime_release_updated (FakeRealtime * self)
{
  gchar *updated;

  g_mutex_lock (&self->lock);
  self->updated_released = TRUE;
  updated = self->pending_updated;
  self->pending_updated = NULL;
  g_mutex_unlock (&self->lock);
  if (updated)
    fake_realtime_send (self, updated);
}

RealtimeClientEvent *
fake_realtime_wait_event (FakeRealtime * self, const gchar * type, guint nth,
    gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  RealtimeClientEvent *found = NULL;

  g_mutex_lock (&self->lock);
  while (found == NULL) {
    guint i, seen = 0;

    for (i = 0; i < self->events->len; i++) {
      RealtimeClientEvent *ev =
          realtime_client_event_parse (g_ptr_array_index (self->events, i),
          -1, NULL);
      if (g_strcmp0 (ev->type_name, type) == 0 && seen++ == nth) {
        found = ev;
        break;
      }
      realtime_client_event_free (ev);
    }
    if (found || !g_cond_wait_until (&self->cond, &self->lock, deadline))
      break;
  }
  g_mutex_unlock (&self->lock);
  return found;
}

gchar **
fake_realtime_get_types (FakeRealtime * self)
{
  GPtrArray *types = g_ptr_array_new ();
  guint i;

  g_mutex_lock (&self->lock);
  for (i = 0; i < self->events->len; i++) {
    gchar *type = realtime_protocol_peek_type (g_ptr_array_index (self->events,
            i), strlen (g_ptr_array_index (self->events, i)), NULL);
    g_ptr_array_add (types, type);
  }
  g_mutex_unlock (&self->lock);
  g_ptr_array_add (types, NULL);
  return (gchar **) g_ptr_array_free (types, FALSE);
}

guint
fake_realtime_count (FakeRealtime * self, const gchar * type)
{
  gchar **types = fake_realtime_get_types (self);
  guint i, n = 0;

  for (i = 0; types[i]; i++)
    n += g_str_equal (types[i], type);
  g_strfreev (types);
  return n;
}

GBytes *
fake_realtime_get_audio (FakeRealtime * self)
{
  GBytes *audio;

  g_mutex_lock (&self->lock);
  audio = g_bytes_new (self->audio->data, self->audio->len);
  g_mutex_unlock (&self->lock);
  return audio;
}

GBytes *
fake_realtime_wait_audio (FakeRealtime * self, gsize size, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  GBytes *audio;

  g_mutex_lock (&self->lock);
  while (self->audio->len < size
      && g_cond_wait_until (&self->cond, &self->lock, deadline));
  audio = g_bytes_new (self->audio->data, self->audio->len);
  g_mutex_unlock (&self->lock);
  return audio;
}

gint
fake_realtime_index_of (FakeRealtime * self, const gchar * type, guint nth)
{
  gchar **types = fake_realtime_get_types (self);
  gint i, found = -1;
  guint seen = 0;

  for (i = 0; types[i]; i++) {
    if (g_str_equal (types[i], type) && seen++ == nth) {
      found = i;
      break;
    }
  }
  g_strfreev (types);
  return found;
}

gboolean
fake_realtime_wait_connections (FakeRealtime * self, guint n, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  gboolean ok;

  g_mutex_lock (&self->lock);
  while (self->connections < n
      && g_cond_wait_until (&self->cond, &self->lock, deadline));
  ok = self->connections >= n;
  g_mutex_unlock (&self->lock);
  return ok;
}

gchar *
fake_realtime_get_authorization (FakeRealtime * self)
{
  gchar *auth;

  g_mutex_lock (&self->lock);
  auth = g_strdup (self->authorization);
  g_mutex_unlock (&self->lock);
  return auth;
}
