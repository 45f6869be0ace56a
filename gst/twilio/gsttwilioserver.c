/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The standalone server of twiliosrc; see gsttwilioserver.h.
 *
 * Sockets are accepted by a GSocketService and handed to the SoupServer
 * with soup_server_accept_iostream () rather than with
 * soup_server_listen (): libsoup 3.2's own listener keeps one reference too
 * many on every accepted GSocket (its listen_watch () never unrefs what
 * g_socket_accept () returned; fixed in later libsoup), which leaks one
 * GSocket per call. Accepting ourselves also lets us set TCP_NODELAY on the
 * connection, which matters for 20 ms frames.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gio/gnetworking.h>

#include "gsttwilioserver.h"
#include "twilioprotocol.h"

GST_DEBUG_CATEGORY_EXTERN (gst_twilio_stream_debug);
#define GST_CAT_DEFAULT gst_twilio_stream_debug

struct _GstTwilioServer
{
  gchar *address;
  gint port;
  gchar *path;
  gchar *auth_token;
  gchar *public_url;

  GstTwilioServerConnectionFunc on_connection;
  GstTwilioServerRefusedFunc on_refused;
  gpointer user_data;

  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;

  /* loop thread only */
  SoupServer *soup_server;
  GSocketService *service;
  GList *websockets;            /* accepted, not closed yet; ref'd */
  gboolean stopping;
  GSource *close_deadline;

  /* startup handshake with the creating thread */
  GMutex lock;
  GCond cond;
  gboolean ready;
  GError *error;
  gint bound_port;
};

/* ---- WebSockets (loop thread) ----------------------------------------- */

static void
quit_if_all_closed (GstTwilioServer * server)
{
  if (server->stopping && server->websockets == NULL)
    g_main_loop_quit (server->loop);
}

static void
on_websocket_closed (SoupWebsocketConnection * conn, GstTwilioServer * server)
{
  GST_DEBUG ("WebSocket closed (code %u)",
      soup_websocket_connection_get_close_code (conn));
  g_signal_handlers_disconnect_by_data (conn, server);
  server->websockets = g_list_remove (server->websockets, conn);
  g_object_unref (conn);
  quit_if_all_closed (server);
}

static void
websocket_handler (SoupServer * soup_server, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * conn, gpointer user_data)
{
  GstTwilioServer *server = user_data;

  if (server->stopping) {
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        NULL);
    return;
  }
  server->websockets = g_list_prepend (server->websockets, g_object_ref (conn));
  g_signal_connect (conn, "closed", G_CALLBACK (on_websocket_closed), server);
  server->on_connection (conn, server->context, server->user_data);
}

/* ---- signature check before the upgrade (loop thread) ----------------- */

static void
early_handler (SoupServer * soup_server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstTwilioServer *server = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *signature =
      soup_message_headers_get_one (headers, "X-Twilio-Signature");
  g_autofree gchar *url = NULL;
  gchar *details;

  if (server->auth_token == NULL)
    return;
  if (server->public_url) {
    url = g_strdup (server->public_url);
  } else {
    /* No public URL: rebuild what Twilio signed from the Host header. */
    const gchar *host = soup_message_headers_get_one (headers, "Host");

    url = g_strdup_printf ("wss://%s%s", host ? host : "", path);
  }
  if (twilio_signature_validate (server->auth_token, signature, url, NULL, 0))
    return;

  soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
  if (server->stopping)
    return;
  details = g_strdup_printf ("%s X-Twilio-Signature for %s; answered 403",
      signature ? "invalid" : "missing", url);
  server->on_refused (details, server->user_data);
  g_free (details);
}

/* ---- accepting (loop thread) ------------------------------------------ */

static gboolean
on_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source_object, GstTwilioServer * server)
{
  GSocketAddress *local, *remote;
  GError *error = NULL;

  if (server->stopping)
    return TRUE;
  g_socket_set_option (g_socket_connection_get_socket (connection),
      IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  local = g_socket_connection_get_local_address (connection, &error);
  remote = local ? g_socket_connection_get_remote_address (connection,
      &error) : NULL;
  if (remote == NULL) {
    /* The peer is already gone. */
    GST_DEBUG ("dropping an accepted connection: %s", error->message);
    g_clear_error (&error);
    g_clear_object (&local);
    return TRUE;
  }
  if (!soup_server_accept_iostream (server->soup_server,
          G_IO_STREAM (connection), local, remote, &error)) {
    GST_WARNING ("could not serve a connection: %s", error->message);
    g_clear_error (&error);
  }
  g_object_unref (local);
  g_object_unref (remote);
  return TRUE;
}

static gboolean
setup_cb (gpointer user_data)
{
  GstTwilioServer *server = user_data;
  GSocketAddress *address, *effective = NULL;
  GError *error = NULL;
  gint port = 0;

  address = g_inet_socket_address_new_from_string (server->address,
      server->port);
  if (address == NULL) {
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "invalid listen address \"%s\"", server->address);
    goto done;
  }
  server->soup_server = soup_server_new ("server-header",
      "gst-realtime-bridge ", NULL);
  soup_server_add_early_handler (server->soup_server, server->path,
      early_handler, server, NULL);
  soup_server_add_websocket_handler (server->soup_server, server->path, NULL,
      NULL, websocket_handler, server, NULL);

  server->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (server->service),
          address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
          &effective, &error))
    goto done;
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_object_unref (effective);
  g_signal_connect (server->service, "incoming", G_CALLBACK (on_incoming),
      server);
  g_socket_service_start (server->service);

done:
  g_clear_object (&address);
  g_mutex_lock (&server->lock);
  server->error = error;
  server->bound_port = port;
  server->ready = TRUE;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
  return G_SOURCE_REMOVE;
}

/* ---- shutting down (loop thread) -------------------------------------- */

static gboolean
close_deadline_cb (gpointer user_data)
{
  GstTwilioServer *server = user_data;

  GST_WARNING ("%u WebSocket(s) did not finish the close handshake in "
      "%d ms", g_list_length (server->websockets),
      GST_TWILIO_SERVER_CLOSE_TIMEOUT_MS);
  g_main_loop_quit (server->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
shutdown_cb (gpointer user_data)
{
  GstTwilioServer *server = user_data;
  GList *l;

  server->stopping = TRUE;
  if (server->service) {
    g_socket_service_stop (server->service);
    g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  }
  if (server->soup_server)
    soup_server_disconnect (server->soup_server);
  for (l = server->websockets; l; l = l->next) {
    if (soup_websocket_connection_get_state (l->data) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (l->data, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
  }
  if (server->websockets) {
    server->close_deadline =
        g_timeout_source_new (GST_TWILIO_SERVER_CLOSE_TIMEOUT_MS);
    g_source_set_callback (server->close_deadline, close_deadline_cb, server,
        NULL);
    g_source_attach (server->close_deadline, server->context);
  }
  quit_if_all_closed (server);
  return G_SOURCE_REMOVE;
}

static gpointer
loop_thread_func (gpointer user_data)
{
  GstTwilioServer *server = user_data;
  SoupWebsocketConnection *conn;

  g_main_context_push_thread_default (server->context);
  g_main_loop_run (server->loop);

  if (server->close_deadline) {
    g_source_destroy (server->close_deadline);
    g_clear_pointer (&server->close_deadline, g_source_unref);
  }
  /* Peers that did not answer the close: drop them. */
  while (server->websockets) {
    conn = server->websockets->data;
    server->websockets = g_list_delete_link (server->websockets,
        server->websockets);
    g_signal_handlers_disconnect_by_data (conn, server);
    g_object_unref (conn);
  }
  g_clear_object (&server->service);
  g_clear_object (&server->soup_server);
  /* Let cancelled accepts and anything queued before the quit finish,
   * so that nothing is left attached to the context. */
  while (g_main_context_iteration (server->context, FALSE));
  g_main_context_pop_thread_default (server->context);
  return NULL;
}

/* ---- public ----------------------------------------------------------- */

GstTwilioServer *
gst_twilio_server_new (const GstTwilioServerConfig * config,
    GstTwilioServerConnectionFunc on_connection,
    GstTwilioServerRefusedFunc on_refused, gpointer user_data, GError ** error)
{
  GstTwilioServer *server = g_new0 (GstTwilioServer, 1);
  gboolean ok;

  server->address = g_strdup (config->address ? config->address : "0.0.0.0");
  server->port = config->port;
  server->path = g_strdup (config->path && *config->path ? config->path : "/");
  server->auth_token = g_strdup (config->auth_token && *config->auth_token ?
      config->auth_token : NULL);
  server->public_url = g_strdup (config->public_url && *config->public_url ?
      config->public_url : NULL);
  server->on_connection = on_connection;
  server->on_refused = on_refused;
  server->user_data = user_data;
  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  server->context = g_main_context_new ();
  server->loop = g_main_loop_new (server->context, FALSE);
  server->thread = g_thread_new ("twilioserver", loop_thread_func, server);
  g_main_context_invoke (server->context, setup_cb, server);

  /* Bounded: binding does not wait for peers. */
  g_mutex_lock (&server->lock);
  while (!server->ready)
    g_cond_wait (&server->cond, &server->lock);
  ok = server->error == NULL;
  g_mutex_unlock (&server->lock);

  if (!ok) {
    g_propagate_error (error, g_steal_pointer (&server->error));
    gst_twilio_server_free (server);
    return NULL;
  }
  return server;
}

gint
gst_twilio_server_get_port (GstTwilioServer * server)
{
  return server->bound_port;
}

void
gst_twilio_server_free (GstTwilioServer * server)
{
  g_return_if_fail (!g_main_context_is_owner (server->context));

  g_main_context_invoke (server->context, shutdown_cb, server);
  g_thread_join (server->thread);
  g_main_loop_unref (server->loop);
  g_main_context_unref (server->context);
  g_clear_error (&server->error);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
  g_free (server->address);
  g_free (server->path);
  if (server->auth_token)
    memset (server->auth_token, 0, strlen (server->auth_token));
  g_free (server->auth_token);
  g_free (server->public_url);
  g_free (server);
}
