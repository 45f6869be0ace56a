/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HTTP and WebSocket endpoints of the launcher.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-server.h"
#include "bridge-call.h"
#include "bridge-webhook.h"

#include <string.h>

#define MAX_LOG_CLIENTS 32
#define LOG_CLIENT_MAX_INCOMING 4096

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
  return g_hash_table_size (app->calls) >= (guint) app->config->max_calls;
}

static void
twiml_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr (GHashTable) form = NULL;
  GHashTable *params;
  g_autofree gchar *stream_url = NULL;
  g_autofree gchar *twiml = NULL;
  const gchar *call_sid;

  if (g_strcmp0 (method, "GET") != 0 && g_strcmp0 (method, "POST") != 0) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET, POST");
    respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or POST");
    return;
  }
  if (g_str_equal (method, "POST")) {
    SoupMessageBody *body = soup_server_message_get_request_body (msg);
    const gchar *type = soup_message_headers_get_content_type (headers, NULL);
    g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
    gsize size = 0;
    const gchar *data = g_bytes_get_data (bytes, &size);
    g_autofree gchar *text = g_strndup (data ? data : "", size);

    if (type && g_ascii_strcasecmp (type,
            "application/x-www-form-urlencoded") != 0) {
      respond_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
          "expected application/x-www-form-urlencoded");
      return;
    }
    form = soup_form_decode (text);
    params = form;
  } else {
    params = query;
  }
  call_sid = params ? g_hash_table_lookup (params, "CallSid") : NULL;

  if (app->config->twilio_auth_token) {
    GUri *uri = soup_server_message_get_uri (msg);
    const gchar *signature = soup_message_headers_get_one (headers,
        "X-Twilio-Signature");
    g_autofree gchar *signed_url =
        bridge_public_http_url (app->config->public_url, path,
        g_uri_get_query (uri));

    if (!bridge_twilio_signature_valid (app->config->twilio_auth_token,
            signed_url, form, signature)) {
      bridge_metrics_call_refused (app->metrics, "signature");
      log_refusal (app, "webhook-refused", path, "signature",
          signature ? "X-Twilio-Signature does not match the public URL" :
          "X-Twilio-Signature header missing", call_sid, msg);
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "invalid signature");
      return;
    }
  }

  bridge_metrics_webhook (app->metrics);
  if (app->draining || at_capacity (app)) {
    const gchar *reason = app->draining ? "draining" : "max-calls";
    g_autofree gchar *busy =
        bridge_twiml_say_hangup ("Sorry, the assistant is busy. "
        "Please call again later.");

    bridge_metrics_call_refused (app->metrics, reason);
    log_refusal (app, "call-refused", path, reason, app->draining ?
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
    const gchar *pairs[] = {
      "CallSid", call_sid,
      "From", params ? g_hash_table_lookup (params, "From") : NULL,
      "To", params ? g_hash_table_lookup (params, "To") : NULL,
      NULL, NULL
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
        "from", G_TYPE_STRING, pairs[3], "to", G_TYPE_STRING, pairs[5],
        "stream-url", G_TYPE_STRING, stream_url, NULL);
  }
  respond (msg, SOUP_STATUS_OK, "text/xml", twiml);
}

/* ---- /call --------------------------------------------------------------- */

/* Runs before the WebSocket handshake: a status set here refuses it. */
static void
call_precheck_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;

  if (app->config->twilio_auth_token) {
    SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
    const gchar *signature = soup_message_headers_get_one (headers,
        "X-Twilio-Signature");
    /* Twilio signs the <Stream url> it was given, without query. */
    g_autofree gchar *signed_url =
        bridge_public_ws_url (app->config->public_url, path);

    if (!bridge_twilio_signature_valid (app->config->twilio_auth_token,
            signed_url, NULL, signature)) {
      bridge_metrics_call_refused (app->metrics, "signature");
      log_refusal (app, "media-refused", path, "signature",
          signature ? "X-Twilio-Signature does not match the public URL" :
          "X-Twilio-Signature header missing", NULL, msg);
      respond_error (msg, SOUP_STATUS_FORBIDDEN, "invalid signature");
      return;
    }
  }
  if (app->draining || at_capacity (app)) {
    const gchar *reason = app->draining ? "draining" : "max-calls";

    bridge_metrics_call_refused (app->metrics, reason);
    log_refusal (app, "media-refused", path, reason, app->draining ?
        "the bridge is shutting down" :
        "the concurrent call limit (--max-calls) is reached", NULL, msg);
    respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, reason);
  }
}

static void
call_websocket_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, SoupWebsocketConnection * conn, gpointer user_data)
{
  BridgeApp *app = user_data;
  g_autoptr (GError) error = NULL;

  g_object_set (conn, "max-incoming-payload-size",
      (guint64) app->config->max_message_size, NULL);
  /* Two upgrades may pass the precheck before either is registered. */
  if (app->draining || at_capacity (app)) {
    bridge_metrics_call_refused (app->metrics, "max-calls");
    log_refusal (app, "media-refused", path, "max-calls",
        "the concurrent call limit (--max-calls) is reached", NULL, msg);
    soup_websocket_connection_close (conn, 1013 /* try again later */ ,
        "busy");
    return;
  }
  if (!bridge_call_start (app, conn, &error)) {
    bridge_metrics_call_refused (app->metrics, "pipeline");
    bridge_log_emitv (app->log, "error", NULL, "call-failed",
        "message", G_TYPE_STRING, error->message,
        "pipeline", G_TYPE_STRING, app->config->pipeline_name,
        "remote", G_TYPE_STRING, client_address (msg), NULL);
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR,
        "pipeline failed");
  }
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

  json_object_set_string_member (obj, "status",
      app->draining ? "draining" : "ok");
  json_object_set_int_member (obj, "activeCalls",
      g_hash_table_size (app->calls));
  json_object_set_int_member (obj, "maxCalls", app->config->max_calls);
  json_object_set_double_member (obj, "uptimeSeconds", uptime_s (app));
  json_object_set_string_member (obj, "version", VERSION);
  json_object_set_string_member (obj, "model",
      bridge_model_mode_to_string (app->config->model_mode));
  json_object_set_string_member (obj, "pipeline", app->config->pipeline_name);
  json_object_set_boolean_member (obj, "signatureValidation",
      app->config->twilio_auth_token != NULL);
  respond_json (msg, app->draining ? SOUP_STATUS_SERVICE_UNAVAILABLE :
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

/* ---- /logs --------------------------------------------------------------- */

static void
logs_precheck_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  BridgeApp *app = user_data;

  if (!authorized (app, msg, path, query))
    return;
  if (app->log_clients->len >= MAX_LOG_CLIENTS)
    respond_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "too many /logs clients");
}

static gboolean
unref_later (gpointer object)
{
  g_object_unref (object);
  return G_SOURCE_REMOVE;
}

static void
on_log_client_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  BridgeApp *app = user_data;

  /* Not the last unref inside the connection's own signal emission. */
  guint index;

  if (g_ptr_array_find (app->log_clients, conn, &index)) {
    g_ptr_array_steal_index (app->log_clients, index);
    g_idle_add (unref_later, conn);
  }
}

static void
logs_websocket_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, SoupWebsocketConnection * conn, gpointer user_data)
{
  BridgeApp *app = user_data;

  /* Clients only listen: whatever they send is small or refused. */
  g_object_set (conn, "max-incoming-payload-size",
      (guint64) LOG_CLIENT_MAX_INCOMING, NULL);
  g_ptr_array_add (app->log_clients, g_object_ref (conn));
  g_signal_connect (conn, "closed", G_CALLBACK (on_log_client_closed), app);
  bridge_log_emitv (app->log, "info", NULL, "logs-client-connected",
      "remote", G_TYPE_STRING, client_address (msg),
      "clients", G_TYPE_INT, (gint) app->log_clients->len, NULL);
}

static void
send_to_log_clients (const gchar * json, gpointer user_data)
{
  BridgeApp *app = user_data;
  guint i;

  for (i = 0; i < app->log_clients->len; i++) {
    SoupWebsocketConnection *conn = g_ptr_array_index (app->log_clients, i);

    if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text (conn, json);
  }
}

/* ---- everything else ----------------------------------------------------- */

static void
default_handler (SoupServer * server, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  respond_error (msg, SOUP_STATUS_NOT_FOUND,
      "not found; endpoints: /twiml /call /health /metrics /logs");
}

static guint
listening_port (SoupServer * server)
{
  GSList *uris = soup_server_get_uris (server);
  guint port = 0;

  if (uris)
    port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

gboolean
bridge_server_start (BridgeApp * app, GError ** error)
{
  const BridgeConfig *c = app->config;
  gboolean ok;

  app->log_clients = g_ptr_array_new_with_free_func (g_object_unref);
  app->server = soup_server_new ("server-header",
      "realtime-bridge/" VERSION " ", NULL);
  /* Early and normal handlers are matched together by the most specific
   * path: the size cap must be registered on every path. */
  {
    const gchar *paths[] = { "/", "/twiml", "/call", "/health", "/metrics",
      "/logs"
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (paths); i++)
      soup_server_add_early_handler (app->server, paths[i], early_handler,
          app, NULL);
  }
  soup_server_add_handler (app->server, NULL, default_handler, app, NULL);
  soup_server_add_handler (app->server, "/twiml", twiml_handler, app, NULL);
  soup_server_add_handler (app->server, "/call", call_precheck_handler, app,
      NULL);
  soup_server_add_websocket_handler (app->server, "/call", NULL, NULL,
      call_websocket_handler, app, NULL);
  soup_server_add_handler (app->server, "/health", health_handler, app, NULL);
  soup_server_add_handler (app->server, "/metrics", metrics_handler, app, NULL);
  soup_server_add_handler (app->server, "/logs", logs_precheck_handler, app,
      NULL);
  soup_server_add_websocket_handler (app->server, "/logs", NULL, NULL,
      logs_websocket_handler, app, NULL);
  bridge_log_set_subscriber (app->log, send_to_log_clients, app);

  if (c->address) {
    g_autoptr (GSocketAddress) address =
        g_inet_socket_address_new_from_string (c->address, c->port);

    if (!address) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "'%s' is not an IP address to listen on", c->address);
      return FALSE;
    }
    ok = soup_server_listen (app->server, address, 0, error);
  } else {
    ok = soup_server_listen_all (app->server, c->port, 0, error);
  }
  if (!ok)
    return FALSE;
  app->port = listening_port (app->server);
  return TRUE;
}

void
bridge_server_stop (BridgeApp * app)
{
  guint i;

  bridge_log_set_subscriber (app->log, NULL, NULL);
  if (app->log_clients) {
    for (i = 0; i < app->log_clients->len; i++) {
      SoupWebsocketConnection *conn = g_ptr_array_index (app->log_clients, i);

      g_signal_handlers_disconnect_by_func (conn, on_log_client_closed, app);
      if (soup_websocket_connection_get_state (conn) ==
          SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
            "shutting down");
    }
    g_clear_pointer (&app->log_clients, g_ptr_array_unref);
  }
  if (app->server) {
    soup_server_disconnect (app->server);
    g_clear_object (&app->server);
  }
}
