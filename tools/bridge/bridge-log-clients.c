/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The /logs WebSocket clients (bridge-log-clients.h). The log calls its
 * subscriber from any thread, under the log's lock; the clients and their
 * connections belong to the main loop.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-log-clients.h"

#include <string.h>

#define MAX_LOG_CLIENTS 32
#define LOG_CLIENT_MAX_INCOMING 4096

/* A /logs client that does not read must not make the launcher queue events
 * without bound: libsoup queues every frame it cannot write yet. Frames go
 * to libsoup only while the socket takes them; the rest wait here, and a
 * client whose wait grows beyond this is disconnected. */
#define LOG_CLIENT_MAX_BACKLOG (1024 * 1024)

struct _BridgeLogClient
{
  BridgeApp *app;
  SoupWebsocketConnection *conn;
  GPollableOutputStream *out;   /* NULL: not pollable, send directly */
  GSource *writable;            /* set while events wait */
  GQueue backlog;               /* gchar *, oldest first */
  gsize backlog_bytes;
  gchar *remote;
  gulong closed_id;
};

static void
log_client_free (BridgeLogClient * client)
{
  if (client->writable) {
    g_source_destroy (client->writable);
    g_source_unref (client->writable);
  }
  g_queue_clear_full (&client->backlog, g_free);
  if (client->closed_id)
    g_signal_handler_disconnect (client->conn, client->closed_id);
  g_object_unref (client->conn);
  g_free (client->remote);
  g_free (client);
}

static gboolean
log_client_free_idle (gpointer client)
{
  log_client_free (client);
  return G_SOURCE_REMOVE;
}

/* Removes @client from the list; freed from an idle, never inside one of
 * its connection's signal emissions. */
static void
log_client_forget (BridgeLogClient * client)
{
  BridgeApp *app = client->app;
  guint index;

  if (client->closed_id) {
    g_signal_handler_disconnect (client->conn, client->closed_id);
    client->closed_id = 0;
  }
  if (app->log_clients && g_ptr_array_find (app->log_clients, client, &index)) {
    g_ptr_array_steal_index (app->log_clients, index);
    g_atomic_int_set (&app->log_client_count, app->log_clients->len);
    g_idle_add (log_client_free_idle, client);
  }
}

static void
on_log_client_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  log_client_forget (user_data);
}

static void
log_client_drop (BridgeLogClient * client)
{
  BridgeApp *app = client->app;
  guint waiting = g_queue_get_length (&client->backlog);
  gsize bytes = client->backlog_bytes;
  g_autofree gchar *remote = g_strdup (client->remote);

  /* Out of the list first: the event below goes to the other clients. */
  log_client_forget (client);
  if (soup_websocket_connection_get_state (client->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (client->conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "not reading fast enough");
  bridge_log_emitv (app->log, "warning", NULL, "logs-client-dropped",
      "remote", G_TYPE_STRING, remote,
      "message", G_TYPE_STRING, "a /logs client did not read its events; "
      "disconnected", "waiting-events", G_TYPE_INT, (gint) waiting,
      "waiting-bytes", G_TYPE_INT64, (gint64) bytes,
      "limit-bytes", G_TYPE_INT, LOG_CLIENT_MAX_BACKLOG,
      "clients", G_TYPE_INT, (gint) app->log_clients->len, NULL);
}

static gboolean
log_client_can_send (BridgeLogClient * client)
{
  return !client->out || g_pollable_output_stream_is_writable (client->out);
}

/* Hands waiting events to libsoup while the socket takes them. libsoup
 * writes a frame as soon as it is queued, so a full socket shows at once. */
static void
log_client_flush (BridgeLogClient * client)
{
  gchar *json;

  /* A failed write closes the connection from inside send_text (). */
  while ((json = g_queue_peek_head (&client->backlog))
      && soup_websocket_connection_get_state (client->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN && log_client_can_send (client)) {
    g_queue_pop_head (&client->backlog);
    client->backlog_bytes -= strlen (json);
    soup_websocket_connection_send_text (client->conn, json);
    g_free (json);
  }
}

static gboolean
on_log_client_writable (GObject * stream, gpointer user_data)
{
  BridgeLogClient *client = user_data;

  if (soup_websocket_connection_get_state (client->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    log_client_flush (client);
    if (!g_queue_is_empty (&client->backlog))
      return G_SOURCE_CONTINUE;
  }
  g_clear_pointer (&client->writable, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
log_client_send (BridgeLogClient * client, const gchar * json)
{
  gsize len = strlen (json);

  if (soup_websocket_connection_get_state (client->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (g_queue_is_empty (&client->backlog) && log_client_can_send (client)) {
    soup_websocket_connection_send_text (client->conn, json);
    return;
  }
  if (client->backlog_bytes + len > LOG_CLIENT_MAX_BACKLOG) {
    log_client_drop (client);
    return;
  }
  g_queue_push_tail (&client->backlog, g_strdup (json));
  client->backlog_bytes += len;
  if (!client->writable) {
    client->writable = g_pollable_output_stream_create_source (client->out,
        NULL);
    g_source_set_callback (client->writable,
        (GSourceFunc) G_CALLBACK (on_log_client_writable), client, NULL);
    g_source_attach (client->writable, NULL);
  }
}

gboolean
bridge_log_clients_accepting (BridgeApp * app)
{
  return app->log_clients->len < MAX_LOG_CLIENTS;
}

void
bridge_log_clients_add (BridgeApp * app, SoupWebsocketConnection * conn,
    const gchar * remote)
{
  BridgeLogClient *client = g_new0 (BridgeLogClient, 1);
  GOutputStream *out =
      g_io_stream_get_output_stream (soup_websocket_connection_get_io_stream
      (conn));

  /* Clients only listen: whatever they send is small or refused. */
  g_object_set (conn, "max-incoming-payload-size",
      (guint64) LOG_CLIENT_MAX_INCOMING, NULL);
  client->app = app;
  client->conn = g_object_ref (conn);
  client->remote = g_strdup (remote);
  g_queue_init (&client->backlog);
  /* libsoup itself requires pollable streams; checked all the same. */
  if (G_IS_POLLABLE_OUTPUT_STREAM (out)
      && g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out)))
    client->out = G_POLLABLE_OUTPUT_STREAM (out);
  g_ptr_array_add (app->log_clients, client);
  g_atomic_int_set (&app->log_client_count, app->log_clients->len);
  client->closed_id = g_signal_connect (conn, "closed",
      G_CALLBACK (on_log_client_closed), client);
  bridge_log_emitv (app->log, "info", NULL, "logs-client-connected",
      "remote", G_TYPE_STRING, client->remote,
      "clients", G_TYPE_INT, (gint) app->log_clients->len, NULL);
}

/* On the main thread. */
static void
send_to_log_clients_now (BridgeApp * app, const gchar * json)
{
  g_autoptr (GPtrArray) clients = NULL;
  guint i;

  if (!app->log_clients || app->log_clients->len == 0)
    return;
  /* A copy: a slow client leaves the list while we walk it. */
  clients = g_ptr_array_copy (app->log_clients, NULL, NULL);
  g_ptr_array_set_free_func (clients, NULL);    /* borrowed */
  for (i = 0; i < clients->len; i++) {
    BridgeLogClient *client = g_ptr_array_index (clients, i);

    if (g_ptr_array_find (app->log_clients, client, NULL))
      log_client_send (client, json);
  }
}

/* On the main thread: the events the call loops left, oldest first. */
static void
flush_fanout_batch (BridgeApp * app)
{
  g_autoptr (GPtrArray) batch = NULL;
  guint i;

  if (!app->fanout_batch)
    return;                     /* the server stopped */
  g_mutex_lock (&app->fanout_lock);
  if (app->fanout_batch->len > 0) {
    batch = app->fanout_batch;
    app->fanout_batch = g_ptr_array_new_with_free_func (g_free);
  }
  app->fanout_scheduled = FALSE;
  g_mutex_unlock (&app->fanout_lock);
  for (i = 0; batch && i < batch->len; i++)
    send_to_log_clients_now (app, g_ptr_array_index (batch, i));
}

static gboolean
on_fanout_batch (gpointer user_data)
{
  BridgeLog *log = ((BridgeApp *) user_data)->log;

  /* Under the log's lock, as every event: no event overtakes the batch. */
  bridge_log_lock (log);
  flush_fanout_batch (user_data);
  bridge_log_unlock (log);
  return G_SOURCE_REMOVE;
}

/* The log's subscriber: any thread, under the log's lock (so events come
 * here in the order they were written). /logs clients belong to the main
 * loop: from a call loop, events wait in a batch that one idle on the main
 * loop sends. */
static void
send_to_log_clients (const gchar * json, gpointer user_data)
{
  BridgeApp *app = user_data;
  gboolean schedule;

  if (g_atomic_int_get (&app->log_client_count) == 0)
    return;                     /* the usual case: nobody listens */
  if (g_thread_self () == app->main_thread) {
    flush_fanout_batch (app);
    send_to_log_clients_now (app, json);
    return;
  }
  g_mutex_lock (&app->fanout_lock);
  g_ptr_array_add (app->fanout_batch, g_strdup (json));
  schedule = !app->fanout_scheduled;
  app->fanout_scheduled = TRUE;
  g_mutex_unlock (&app->fanout_lock);
  if (schedule) {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, on_fanout_batch, app, NULL);
    g_source_attach (idle, NULL);
    g_source_unref (idle);
  }
}

void
bridge_log_clients_start (BridgeApp * app)
{
  app->log_clients =
      g_ptr_array_new_with_free_func ((GDestroyNotify) log_client_free);
  app->fanout_batch = g_ptr_array_new_with_free_func (g_free);
  bridge_log_set_subscriber (app->log, send_to_log_clients, app);
}

void
bridge_log_clients_stop (BridgeApp * app)
{
  guint i;

  bridge_log_set_subscriber (app->log, NULL, NULL);
  if (app->log_clients) {
    for (i = 0; i < app->log_clients->len; i++) {
      BridgeLogClient *client = g_ptr_array_index (app->log_clients, i);

      if (client->closed_id) {
        g_signal_handler_disconnect (client->conn, client->closed_id);
        client->closed_id = 0;
      }
      if (soup_websocket_connection_get_state (client->conn) ==
          SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->conn,
            SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "shutting down");
    }
    g_clear_pointer (&app->log_clients, g_ptr_array_unref);
    g_atomic_int_set (&app->log_client_count, 0);
  }
  g_clear_pointer (&app->fanout_batch, g_ptr_array_unref);
}
