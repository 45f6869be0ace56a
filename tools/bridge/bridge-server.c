/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HTTP and WebSocket endpoints of the launcher, on the main loop. A media
 * WebSocket is upgraded here and then handed over: its stream goes to the
 * call loop with the fewest calls, which makes the SoupWebsocketConnection
 * on its own context and starts the call there (bridge-app.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-server.h"
#include "bridge-call.h"
#include "bridge-log-clients.h"
#include "bridge-webhook.h"

#include <string.h>
#include <gio/gnetworking.h>

static void
respond (SoupServerMessage * msg, guint status, const gchar * content_type,
    const gchar * body)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
        body, strlen (body));
}

static void
respond_json (SoupServerMessage * msg, guint status, JsonObject * obj)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  g_autofree gchar *body = json_to_string (node, FALSE);

  respond (msg, status, "application/json", body);
}

static void
respond_error (SoupServerMessage * msg, guint status, const gchar * message)
{
  g_autoptr (JsonObject) obj = json_object_new ();

  json_object_set_string_member (obj, "error", message);
  respond_json (msg, status, obj);
}

static const gchar *
client_address (SoupServerMessage * msg)
{
  const gchar *host = soup_server_message_get_remote_host (msg);

  return host ? host : "";
}

static void
log_refusal (BridgeApp * app, const gchar * event, const gchar * path,
    const gchar * reason, const gchar * message, const gchar * call_sid,
    SoupServerMessage * msg)
{
  BridgeLogIds ids = { NULL, call_sid, NULL };

  bridge_log_emitv (app->log, "warning", &ids, event,
      "path", G_TYPE_STRING, path, "reason", G_TYPE_STRING, reason,
      "message", G_TYPE_STRING, message,
      "remote", G_TYPE_STRING, client_address (msg), NULL);
}

/* ---- request size cap ---------------------------------------------------- */

static void
early_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (encoding == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) >
      (goffset) app->config->max_message_size) {
    log_refusal (app, "request-refused", path, "too-large",
        "the request body is larger than --max-message-size", NULL, msg);
    respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "request body too large");
  } else if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF) {
    /* A body of unknown size could grow without bound. */
    log_refusal (app, "request-refused", path, "length-required",
        "request bodies must have a Content-Length", NULL, msg);
    respond_error (msg, SOUP_STATUS_LENGTH_REQUIRED, "Content-Length required");
  }
}

/* ---- /twiml -------------------------------------------------------------- */

static gboolean
at_capacity (BridgeApp * app)
{
  return bridge_app_active_calls (app) >= (guint) app->config->max_calls;
}

/* TRUE when the request carries a valid X-Twilio-Signature over
 * @signed_url (and @form), or no auth token is configured; otherwise answers
 * 403 and logs @refused_event. */
static gboolean
signature_accepted (BridgeApp * app, SoupServerMessage * msg,
    const gchar * path, const gchar * signed_url, GArray * form,
    const gchar * refused_event, const gchar * call_sid)
{
  SoupMessageHeaders *headers;
  const gchar *signature;

  if (!app->config->twilio_auth_token)
    return TRUE;
  headers = soup_server_message_get_request_headers (msg);
  signature = soup_message_headers_get_one (headers, "X-Twilio-Signature");
  if (bridge_webhook_signature_valid (app->config->twilio_auth_token,
          signature, signed_url, form))
    return TRUE;
  bridge_metrics_call_refused (app->metrics, "signature");
  log_refusal (app, refused_event, path, "signature",
      signature ? "X-Twilio-Signature does not match the public URL" :
      "X-Twilio-Signature header missing", call_sid, msg);
  respond_error (msg, SOUP_STATUS_FORBIDDEN, "invalid signature");
  return FALSE;
}

/* A GET's parameters come from the query (Twilio signs them as part of the
 * URL); a POST's from the form body, every pair kept for the signature. */
static GArray *
webhook_params (SoupServerMessage * msg, const gchar * method, GError ** error)
{
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree gchar *text = NULL;
  gsize size = 0;
  const gchar *data;

  if (g_str_equal (method, "GET"))
    return bridge_form_decode (g_uri_get_query (uri), error);
  bytes = soup_message_body_flatten (soup_server_message_get_request_body
      (msg));
  data = g_bytes_get_data (bytes, &size);
  text = g_strndup (data ? data : "", size);
  return bridge_form_decode (text, error);
}

static void
twiml_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr (GArray) params = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *stream_url = NULL;
  g_autofree gchar *twiml = NULL;
  g_autofree gchar *signed_url = NULL;
  const gchar *call_sid;
  gboolean is_post;

  if (g_strcmp0 (method, "GET") != 0 && g_strcmp0 (method, "POST") != 0) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET, POST");
    respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or POST");
    return;
  }
  is_post = g_str_equal (method, "POST");
  if (is_post) {
    const gchar *type = soup_message_headers_get_content_type (headers, NULL);

    if (type && g_ascii_strcasecmp (type,
            "application/x-www-form-urlencoded") != 0) {
      respond_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
          "expected application/x-www-form-urlencoded");
      return;
    }
  }
  params = webhook_params (msg, method, &error);
  if (!params) {
    log_refusal (app, "request-refused", path, "malformed", error->message,
        NULL, msg);
    respond_error (msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  call_sid = bridge_form_lookup (params, "CallSid");

  signed_url = app->config->public_url ?
      bridge_public_http_url (app->config->public_url, path,
      g_uri_get_query (soup_server_message_get_uri (msg))) : NULL;
  if (!signature_accepted (app, msg, path, signed_url,
          is_post ? params : NULL, "webhook-refused", call_sid))
    return;

  bridge_metrics_webhook (app->metrics);
  if (bridge_app_is_draining (app) || at_capacity (app)) {
    gboolean draining = bridge_app_is_draining (app);
    const gchar *reason = draining ? "draining" : "max-calls";
    g_autofree gchar *busy =
        bridge_twiml_say_hangup ("Sorry, the assistant is busy. "
        "Please call again later.");

    bridge_metrics_call_refused (app->metrics, reason);
    log_refusal (app, "call-refused", path, reason, draining ?
        "the bridge is shutting down" :
        "the concurrent call limit (--max-calls) is reached", call_sid, msg);
    respond (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/xml", busy);
    return;
  }

  if (app->config->public_url) {
    stream_url = bridge_public_ws_url (app->config->public_url, "/call");
  } else {
    const gchar *host = soup_message_headers_get_one (headers, "Host");

    stream_url = g_strdup_printf ("wss://%s/call", host ? host : "localhost");
  }
  {
    const gchar *from = bridge_form_lookup (params, "From");
    const gchar *to = bridge_form_lookup (params, "To");
    const gchar *pairs[] = {
      "CallSid", call_sid, "From", from, "To", to, NULL, NULL
    };
    BridgeLogIds ids = { NULL, call_sid, NULL };

    /* A missing value ends the list early: compact the pairs. */
    const gchar *compact[G_N_ELEMENTS (pairs)] = { NULL };
    guint i, n = 0;

    for (i = 0; pairs[i]; i += 2) {
      if (pairs[i + 1]) {
        compact[n++] = pairs[i];
        compact[n++] = pairs[i + 1];
      }
    }
    twiml = bridge_twiml_connect_stream (stream_url, compact);
    bridge_log_emitv (app->log, "info", &ids, "webhook",
        "method", G_TYPE_STRING, method,
        "from", G_TYPE_STRING, from, "to", G_TYPE_STRING, to,
        "stream-url", G_TYPE_STRING, stream_url, NULL);
  }
  respond (msg, SOUP_STATUS_OK, "text/xml", twiml);
}

/* ---- /call --------------------------------------------------------------- */

/* An upgraded media WebSocket on its way to a call loop. */
typedef struct
{
  BridgeApp *app;
  BridgeCallLoop *loop;
  GMainContext *context;        /* the call's, on that loop */
  guint number;                 /* the reserved call number */
  gboolean handed_over;         /* the reservation went with the stream */
  GList *extensions;            /* SoupWebsocketExtension, negotiated */
  GIOStream *stream;
  GUri *uri;
  gchar *origin;
  gchar *protocol;
  gchar *remote;
} MediaUpgrade;

static void
media_upgrade_free (gpointer data)
{
  MediaUpgrade *up = data;

  /* The client left before the upgrade completed: free the place. */
  if (!up->handed_over)
    bridge_app_cancel_reservation (up->app);
  g_list_free_full (up->extensions, g_object_unref);
  g_clear_pointer (&up->context, g_main_context_unref);
  g_clear_object (&up->stream);
  g_clear_pointer (&up->uri, g_uri_unref);
  g_free (up->origin);
  g_free (up->protocol);
  g_free (up->remote);
  g_free (up);
}

/* On the call's context, thread-default: the connection's sources, and
 * everything the call makes, belong to it. */
static gboolean
start_call_on_loop (gpointer data)
{
  MediaUpgrade *up = data;
  BridgeApp *app = up->app;
  SoupWebsocketConnection *conn;
  g_autoptr (GError) error = NULL;

  conn = soup_websocket_connection_new (up->stream, up->uri,
      SOUP_WEBSOCKET_CONNECTION_SERVER, up->origin, up->protocol,
      g_steal_pointer (&up->extensions));
  g_object_set (conn, "max-incoming-payload-size",
      (guint64) app->config->max_message_size, NULL);
  if (bridge_app_is_draining (app)) {
    /* SIGTERM came while the upgrade was on its way. */
    bridge_app_cancel_reservation (app);
    bridge_app_release_loop (up->loop);
    bridge_app_loop_retire_call_context (up->loop, up->context);
    bridge_metrics_call_refused (app->metrics, "draining");
    bridge_log_emitv (app->log, "warning", NULL, "media-refused",
        "path", G_TYPE_STRING, "/call", "reason", G_TYPE_STRING, "draining",
        "message", G_TYPE_STRING, "the bridge is shutting down",
        "remote", G_TYPE_STRING, up->remote, NULL);
    soup_websocket_connection_close (conn, 1013 /* try again later */ ,
        "busy");
  } else if (!bridge_call_start (app, up->loop, up->context, up->number, conn,
          &error)) {
    bridge_app_release_loop (up->loop);
    bridge_app_loop_retire_call_context (up->loop, up->context);
    bridge_metrics_call_refused (app->metrics, "pipeline");
    bridge_log_emitv (app->log, "error", NULL, "call-failed",
        "message", G_TYPE_STRING, error->message,
        "pipeline", G_TYPE_STRING, app->config->pipeline_name,
        "remote", G_TYPE_STRING, up->remote, NULL);
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR,
        "pipeline failed");
  }
  g_object_unref (conn);
  return G_SOURCE_REMOVE;
}

/* The 101 is out: take the stream from libsoup (as its own WebSocket
 * handler does) and give it to a new call context on a call loop. */
static void
on_upgrade_written (SoupServerMessage * msg, gpointer user_data)
{
  MediaUpgrade *up = user_data;
  MediaUpgrade *moved;

  if (up->handed_over
      || soup_server_message_get_status (msg) !=
      SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;
  moved = g_new0 (MediaUpgrade, 1);
  moved->app = up->app;
  moved->number = up->number;
  moved->handed_over = TRUE;
  moved->extensions = g_steal_pointer (&up->extensions);
  moved->uri = g_uri_ref (soup_server_message_get_uri (msg));
  moved->origin = g_strdup (soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Origin"));
  moved->protocol = g_strdup (soup_message_headers_get_one
      (soup_server_message_get_response_headers (msg),
          "Sec-WebSocket-Protocol"));
  moved->remote = g_strdup (up->remote);
  moved->stream = soup_server_message_steal_connection (msg);
  up->handed_over = TRUE;
  moved->loop = bridge_app_pick_loop (up->app);
  moved->context = bridge_app_loop_new_call_context (moved->loop);
  /* A source, not g_main_context_invoke: the scheduler may not own the
   * new context yet, and invoke would run it here. */
  bridge_app_attach_call_work (moved->context, start_call_on_loop, moved,
      media_upgrade_free);
}

static void
call_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;
  /* Twilio signs the <Stream url> it was given, without query. */
  g_autofree gchar *signed_url = app->config->public_url ?
      bridge_public_ws_url (app->config->public_url, path) : NULL;
  g_autoptr (GError) error = NULL;
  const gchar *reason = NULL;
  MediaUpgrade *up;
  guint number = 0;

  if (!signature_accepted (app, msg, path, signed_url, NULL, "media-refused",
          NULL))
    return;
  if (!soup_websocket_server_check_handshake (msg, NULL, NULL,
          app->websocket_extension_types, &error)) {
    log_refusal (app, "request-refused", path, "not-websocket",
        error->message, NULL, msg);
    /* Sets the 400 (or 426) answer and its reason. */
    soup_websocket_server_process_handshake (msg, NULL, NULL,
        app->websocket_extension_types, NULL);
    return;
  }
  /* Counts the call from now on: two upgrades cannot both take the last
   * place. */
  if (!bridge_app_reserve_call (app, &number, &reason)) {
    gboolean draining = g_str_equal (reason, "draining");

    bridge_metrics_call_refused (app->metrics, reason);
    log_refusal (app, "media-refused", path, reason, draining ?
        "the bridge is shutting down" :
        "the concurrent call limit (--max-calls) is reached", NULL, msg);
    respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, reason);
    return;
  }
  up = g_new0 (MediaUpgrade, 1);
  up->app = app;
  up->number = number;
  up->remote = g_strdup (client_address (msg));
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL,
          app->websocket_extension_types, &up->extensions)) {
    media_upgrade_free (up);
    return;
  }
  /* Freed with the message: an upgrade never written frees its place. */
  g_signal_connect_data (msg, "wrote-informational",
      G_CALLBACK (on_upgrade_written), up,
      (GClosureNotify) G_CALLBACK (media_upgrade_free), 0);
}

/* ---- /health, /metrics --------------------------------------------------- */

static gdouble
uptime_s (BridgeApp * app)
{
  return (g_get_monotonic_time () - app->started_us) / 1e6;
}

static void
health_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;
  JsonObject *obj = json_object_new ();

  gboolean draining = bridge_app_is_draining (app);

  json_object_set_string_member (obj, "status", draining ? "draining" : "ok");
  json_object_set_int_member (obj, "activeCalls",
      bridge_app_active_calls (app));
  json_object_set_int_member (obj, "callLoops", app->call_loops->len);
  json_object_set_int_member (obj, "maxCalls", app->config->max_calls);
  json_object_set_double_member (obj, "uptimeSeconds", uptime_s (app));
  json_object_set_string_member (obj, "version", VERSION);
  json_object_set_string_member (obj, "model",
      bridge_model_mode_to_string (app->config->model_mode));
  json_object_set_string_member (obj, "pipeline", app->config->pipeline_name);
  json_object_set_boolean_member (obj, "signatureValidation",
      app->config->twilio_auth_token != NULL);
  respond_json (msg, draining ? SOUP_STATUS_SERVICE_UNAVAILABLE :
      SOUP_STATUS_OK, obj);
  json_object_unref (obj);
}

static gboolean
authorized (BridgeApp * app, SoupServerMessage * msg, const gchar * path,
    GHashTable * query)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (bridge_bearer_token_valid (app->config->access_token,
          soup_message_headers_get_one (headers, "Authorization"),
          query ? g_hash_table_lookup (query, "token") : NULL))
    return TRUE;
  log_refusal (app, "request-refused", path, "unauthorized",
      "missing or wrong bearer token", NULL, msg);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "WWW-Authenticate", "Bearer realm=\"realtime-bridge\"");
  respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "bearer token required");
  return FALSE;
}

static void
metrics_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;
  g_autofree gchar *text = NULL;

  if (!authorized (app, msg, path, query))
    return;
  text = bridge_metrics_render (app->metrics, uptime_s (app));
  respond (msg, SOUP_STATUS_OK, "text/plain; version=0.0.4", text);
}

/* ---- /logs (the clients: bridge-log-clients.c) ------------------------- */

static void
logs_precheck_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;

  if (!authorized (app, msg, path, query))
    return;
  if (!bridge_log_clients_accepting (app))
    respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "too many /logs clients");
}

static void
logs_websocket_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, SoupWebsocketConnection * conn, gpointer user_data)
{
  bridge_log_clients_add (user_data, conn, client_address (msg));
}

/* ---- everything else ----------------------------------------------------- */

static void
default_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  respond_error (msg, SOUP_STATUS_NOT_FOUND,
      "not found; endpoints: /twiml /call /health /metrics /logs");
}

/* The launcher accepts connections itself and hands them to libsoup:
 * libsoup 3.2's own listener leaks the GSocket of every accepted
 * connection, which a server that runs for months cannot afford. */
static gboolean
on_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source_object, gpointer user_data)
{
  BridgeApp *app = user_data;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocketAddress) remote = NULL;
  g_autoptr (GError) error = NULL;

  /* Media frames are small and periodic: no Nagle delay. */
  g_socket_set_option (g_socket_connection_get_socket (connection),
      IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  local = g_socket_connection_get_local_address (connection, &error);
  if (local)
    remote = g_socket_connection_get_remote_address (connection, &error);
  if (!remote)
    return TRUE;                /* the peer is already gone */
  if (!soup_server_accept_iostream (app->server, G_IO_STREAM (connection),
          local, remote, &error))
    bridge_log_emitv (app->log, "warning", NULL, "accept-failed",
        "message", G_TYPE_STRING, error->message, NULL);
  return TRUE;
}

#define LISTEN_BACKLOG 1024

static gboolean
listen_on (BridgeApp * app, GError ** error)
{
  const BridgeConfig *c = app->config;
  GSocketListener *listener;
  guint16 port = 0;

  app->service = g_socket_service_new ();
  listener = G_SOCKET_LISTENER (app->service);
  /* GLib's default of 10 pending connections drops the SYNs of a burst
   * of calls while the main loop is busy, and each dropped one costs the
   * caller a 1 s, then 3 s, 7 s... retransmission (the kernel caps this
   * at net.core.somaxconn) */
  g_socket_listener_set_backlog (listener, LISTEN_BACKLOG);
  if (c->address) {
    g_autoptr (GSocketAddress) address =
        g_inet_socket_address_new_from_string (c->address, c->port);
    g_autoptr (GSocketAddress) effective = NULL;

    if (!address) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "'%s' is not an IP address to listen on", c->address);
      return FALSE;
    }
    if (!g_socket_listener_add_address (listener, address,
            G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
            error))
      return FALSE;
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  } else if (c->port == 0) {
    port = g_socket_listener_add_any_inet_port (listener, NULL, error);
    if (port == 0)
      return FALSE;
  } else {
    if (!g_socket_listener_add_inet_port (listener, c->port, NULL, error))
      return FALSE;
    port = c->port;
  }
  g_signal_connect (app->service, "incoming", G_CALLBACK (on_incoming), app);
  g_socket_service_start (app->service);
  app->port = port;
  return TRUE;
}

gboolean
bridge_server_start (BridgeApp * app, GError ** error)
{
  const gchar *paths[] = { "/", "/twiml", "/call", "/health", "/metrics",
    "/logs"
  };
  guint i;

  bridge_log_clients_start (app);
  /* What libsoup's own WebSocket handlers negotiate: permessage-deflate. */
  app->websocket_extension_types = g_ptr_array_new_with_free_func
      ((GDestroyNotify) g_type_class_unref);
  g_ptr_array_add (app->websocket_extension_types,
      g_type_class_ref (SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE));
  app->server = soup_server_new ("server-header",
      "realtime-bridge/" VERSION " ", NULL);
  /* Early and normal handlers are matched together by the most specific
   * path: the size cap must be registered on every path. */
  for (i = 0; i < G_N_ELEMENTS (paths); i++)
    soup_server_add_early_handler (app->server, paths[i], early_handler,
        app, NULL);
  soup_server_add_handler (app->server, NULL, default_handler, app, NULL);
  soup_server_add_handler (app->server, "/twiml", twiml_handler, app, NULL);
  soup_server_add_handler (app->server, "/call", call_handler, app, NULL);
  soup_server_add_handler (app->server, "/health", health_handler, app, NULL);
  soup_server_add_handler (app->server, "/metrics", metrics_handler, app, NULL);
  soup_server_add_handler (app->server, "/logs", logs_precheck_handler, app,
      NULL);
  soup_server_add_websocket_handler (app->server, "/logs", NULL, NULL,
      logs_websocket_handler, app, NULL);

  return listen_on (app, error);
}

void
bridge_server_stop (BridgeApp * app)
{
  bridge_log_clients_stop (app);
  if (app->service) {
    g_socket_service_stop (app->service);
    g_socket_listener_close (G_SOCKET_LISTENER (app->service));
    g_signal_handlers_disconnect_by_func (app->service, on_incoming, app);
    g_clear_object (&app->service);
  }
  g_clear_pointer (&app->websocket_extension_types, g_ptr_array_unref);
  if (app->server) {
    soup_server_disconnect (app->server);
    g_clear_object (&app->server);
  }
}
