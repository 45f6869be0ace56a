/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <libsoup/soup.h>

#include "faketwilio.h"

struct _FakeTwilio
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupSession *session;         /* loop thread */
  SoupWebsocketConnection *conn;        /* loop thread */

  GMutex lock;
  GCond cond;
  gboolean done;                /* connect finished */
  gboolean connected;
  gboolean closed;
  guint status;
  GQueue received;

  gchar *url;
  gchar *signature;
};

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    FakeTwilio * fake)
{
  gsize size;
  const gchar *data = g_bytes_get_data (message, &size);

  g_mutex_lock (&fake->lock);
  g_queue_push_tail (&fake->received, g_strndup (data, size));
  g_cond_broadcast (&fake->cond);
  g_mutex_unlock (&fake->lock);
}

static void
on_closed (SoupWebsocketConnection * conn, FakeTwilio * fake)
{
  g_mutex_lock (&fake->lock);
  fake->closed = TRUE;
  g_cond_broadcast (&fake->cond);
  g_mutex_unlock (&fake->lock);
}

static void
connected_cb (GObject * source, GAsyncResult * result, gpointer user_data)
{
  FakeTwilio *fake = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (fake->session,
      result);
  GError *error = NULL;
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (fake->session, result, &error);

  g_mutex_lock (&fake->lock);
  fake->status = msg ? soup_message_get_status (msg) : 0;
  if (conn) {
    fake->conn = conn;
    g_object_set (conn, "max-incoming-payload-size", (guint64) 0, NULL);
    g_signal_connect (conn, "message", G_CALLBACK (on_message), fake);
    g_signal_connect (conn, "closed", G_CALLBACK (on_closed), fake);
    fake->connected = TRUE;
  }
  g_clear_error (&error);
  fake->done = TRUE;
  g_cond_broadcast (&fake->cond);
  g_mutex_unlock (&fake->lock);
}

static gboolean
start_connect (gpointer user_data)
{
  FakeTwilio *fake = user_data;
  SoupMessage *msg = soup_message_new ("GET", fake->url);

  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "User-Agent", "Twilio.TmeWs/1.0");
  if (fake->signature)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "X-Twilio-Signature", fake->signature);
  soup_session_websocket_connect_async (fake->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, connected_cb, fake);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static gpointer
thread_func (gpointer user_data)
{
  FakeTwilio *fake = user_data;

  g_main_context_push_thread_default (fake->context);
  /* Loopback only: no system proxy lookup (libproxy). */
  fake->session = soup_session_new_with_options ("proxy-resolver", NULL, NULL);
  g_main_loop_run (fake->loop);
  if (fake->conn) {
    g_signal_handlers_disconnect_by_data (fake->conn, fake);
    g_clear_object (&fake->conn);
  }
  g_clear_object (&fake->session);
  while (g_main_context_iteration (fake->context, FALSE));
  g_main_context_pop_thread_default (fake->context);
  return NULL;
}

FakeTwilio *
fake_twilio_connect (gint port, const gchar * path, const gchar * signature)
{
  FakeTwilio *fake = g_new0 (FakeTwilio, 1);
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;

  g_mutex_init (&fake->lock);
  g_cond_init (&fake->cond);
  g_queue_init (&fake->received);
  fake->url = g_strdup_printf ("ws://127.0.0.1:%d%s", port, path);
  fake->signature = g_strdup (signature);
  fake->context = g_main_context_new ();
  fake->loop = g_main_loop_new (fake->context, FALSE);
  fake->thread = g_thread_new ("faketwilio", thread_func, fake);
  g_main_context_invoke (fake->context, start_connect, fake);

  g_mutex_lock (&fake->lock);
  while (!fake->done)
    if (!g_cond_wait_until (&fake->cond, &fake->lock, deadline))
      break;
  g_mutex_unlock (&fake->lock);
  return fake;
}

gboolean
fake_twilio_is_connected (FakeTwilio * fake)
{
  return fake->connected;
}

guint
fake_twilio_get_status (FakeTwilio * fake)
{
  return fake->status;
}

typedef struct
{
  FakeTwilio *fake;
  gchar *text;
  gsize binary_size;
  gushort close_code;
} SendData;

static gboolean
send_cb (gpointer user_data)
{
  SendData *d = user_data;
  SoupWebsocketConnection *conn = d->fake->conn;

  if (conn == NULL
      || soup_websocket_connection_get_state (conn) !=
      SOUP_WEBSOCKET_STATE_OPEN)
    return G_SOURCE_REMOVE;
  if (d->close_code)
    soup_websocket_connection_close (conn, d->close_code, "test");
  else if (d->text)
    soup_websocket_connection_send_text (conn, d->text);
  else {
    gchar *data = g_malloc0 (d->binary_size);

    soup_websocket_connection_send_binary (conn, data, d->binary_size);
    g_free (data);
  }
  return G_SOURCE_REMOVE;
}

static void
send_data_free (SendData * d)
{
  g_free (d->text);
  g_free (d);
}

static void
invoke_send (FakeTwilio * fake, SendData * d)
{
  d->fake = fake;
  g_main_context_invoke_full (fake->context, G_PRIORITY_DEFAULT, send_cb, d,
      (GDestroyNotify) send_data_free);
}

void
fake_twilio_send (FakeTwilio * fake, const gchar * text)
{
  SendData *d = g_new0 (SendData, 1);

  d->text = g_strdup (text);
  invoke_send (fake, d);
}

void
fake_twilio_send_binary (FakeTwilio * fake, gsize size)
{
  SendData *d = g_new0 (SendData, 1);

  d->binary_size = size;
  invoke_send (fake, d);
}

void
fake_twilio_close (FakeTwilio * fake, gushort code)
{
  SendData *d = g_new0 (SendData, 1);

  d->close_code = code;
  invoke_send (fake, d);
}

gchar *
fake_twilio_pop (FakeTwilio * fake, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  gchar *text;

  g_mutex_lock (&fake->lock);
  while (g_queue_is_empty (&fake->received))
    if (!g_cond_wait_until (&fake->cond, &fake->lock, deadline))
      break;
  text = g_queue_pop_head (&fake->received);
  g_mutex_unlock (&fake->lock);
  return text;
}

gboolean
fake_twilio_wait_closed (FakeTwilio * fake, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  gboolean closed;

  g_mutex_lock (&fake->lock);
  while (!fake->closed)
    if (!g_cond_wait_until (&fake->cond, &fake->lock, deadline))
      break;
  closed = fake->closed;
  g_mutex_unlock (&fake->lock);
  return closed;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
fake_twilio_free (FakeTwilio * fake)
{
  g_main_context_invoke (fake->context, quit_cb, fake->loop);
  g_thread_join (fake->thread);
  g_main_loop_unref (fake->loop);
  g_main_context_unref (fake->context);
  g_queue_clear_full (&fake->received, g_free);
  g_mutex_clear (&fake->lock);
  g_cond_clear (&fake->cond);
  g_free (fake->url);
  g_free (fake->signature);
  g_free (fake);
}
