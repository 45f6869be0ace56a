/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local Realtime model's server: one thread owning a GMainContext (made
 * thread-default before the SoupServer exists) serves the WebSocket
 * endpoint /v1/realtime for every session, plus GET /stats. Upgrade
 * requests are checked the way the real API does (Authorization: Bearer,
 * ?model=, no OpenAI-Beta) and can be refused on purpose (faults).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "localmodel.h"
#include "modelsession.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <glib/gstdio.h>

#define REALTIME_PATH "/v1/realtime"

struct _LocalModel
{
  ModelServer server;
  GThread *thread;
  GMainLoop *loop;
  SoupServer *soup;
  guint port;
  gchar *url;
  guint upgrade_failures_done;  /* loop thread only */

  GMutex start_lock;
  GCond start_cond;
  gboolean started;
  GError *start_error;
};

void
local_model_options_init (LocalModelOptions * opts)
{
  memset (opts, 0, sizeof (*opts));
  opts->address = "127.0.0.1";
  opts->audio_pace = 2.0;
  opts->chunk_ms = 100;
  opts->function_call_every = 3;
  opts->session_limit_ms = 60 * 60 * 1000;
  opts->upgrade_failure_status = 503;
}

/* ---- upgrade checks --------------------------------------------------- */

static void
set_json_error (SoupServerMessage * msg, guint status, const gchar * type,
    const gchar * code, const gchar * message)
{
  JsonObject *body = json_object_new ();
  JsonObject *err = json_object_new ();
  JsonNode *root;
  gchar *text;

  json_object_set_string_member (err, "message", message);
  json_object_set_string_member (err, "type", type);
  json_object_set_null_member (err, "param");
  if (code)
    json_object_set_string_member (err, "code", code);
  else
    json_object_set_null_member (err, "code");
  json_object_set_object_member (body, "error", err);
  root = json_node_init_object (json_node_alloc (), body);
  text = json_to_string (root, TRUE);
  json_node_unref (root);
  json_object_unref (body);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, text, strlen (text));
}

static void
reject (LocalModel * self, SoupServerMessage * msg, guint status,
    const gchar * type, const gchar * code, const gchar * message)
{
  JsonObject *f = json_object_new ();

  set_json_error (msg, status, type, code, message);
  MODEL_STAT_ADD (&self->server, upgrades_rejected, 1);
  json_object_set_string_member (f, "type", "upgrade.rejected");
  json_object_set_int_member (f, "status", status);
  if (code)
    json_object_set_string_member (f, "code", code);
  model_server_log (&self->server, "-", f);
}

/* Runs before the WebSocket handshake; a status set here refuses it. */
static void
realtime_http_handler (SoupServer * soup, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  LocalModel *self = user_data;
  LocalModelOptions *o = &self->server.opts;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *auth = soup_message_headers_get_one (headers, "Authorization");
  const gchar *model = query ? g_hash_table_lookup (query, "model") : NULL;

  if (self->upgrade_failures_done < o->upgrade_failures) {
    self->upgrade_failures_done++;
    {
      reject (self, msg, o->upgrade_failure_status, "server_error", NULL,
          "The server is temporarily unable to handle the request "
          "(injected fault).");
      return;
    }
  }
  if (auth == NULL || !g_str_has_prefix (auth, "Bearer ")
      || auth[strlen ("Bearer ")] == '\0') {
    reject (self, msg, SOUP_STATUS_UNAUTHORIZED, "invalid_request_error",
        NULL, "You didn't provide an API key. You need to provide your API "
        "key in an Authorization header using Bearer auth (i.e. "
        "Authorization: Bearer YOUR_KEY).");
    return;
  }
  if (o->reject_key && strcmp (auth + strlen ("Bearer "), o->reject_key) == 0) {
    /* the real message shows a redacted key; this one shows none of it */
    reject (self, msg, SOUP_STATUS_UNAUTHORIZED, "invalid_request_error",
        "invalid_api_key", "Incorrect API key provided. You can find your "
        "API key at https://platform.openai.com/account/api-keys.");
    return;
  }
  if (model == NULL || *model == '\0') {
    reject (self, msg, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
        "missing_model", "Missing required parameter: 'model'.");
    return;
  }
  if (soup_message_headers_get_one (headers, "Upgrade") == NULL) {
    reject (self, msg, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
        NULL, "This endpoint expects a WebSocket upgrade.");
    return;
  }
  /* no status: libsoup goes on with the handshake */
}

static void
realtime_ws_handler (SoupServer * soup, SoupServerMessage * msg,
    const gchar * path, SoupWebsocketConnection * conn, gpointer user_data)
{
  LocalModel *self = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  GHashTable *query = g_uri_get_query (uri) ?
      soup_form_decode (g_uri_get_query (uri)) : NULL;
  const gchar *model = query ? g_hash_table_lookup (query, "model") : NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  ModelSession *session;

  session = model_session_new (&self->server, conn,
      model ? model : "gpt-realtime");
  g_hash_table_add (self->server.sessions, session);

  if (soup_message_headers_get_one (headers, "OpenAI-Beta")) {
    /* the live API accepts the upgrade, says why and closes */
    ModelError err = { 0, };
    model_error_set (&err, "invalid_request_error", "beta_api_shape_disabled",
        NULL, "The Realtime Beta API is no longer supported. Please use "
        "/v1/realtime for the GA API.");
    model_session_send_error (session, &err, NULL);
    model_error_clear (&err);
    soup_websocket_connection_close (conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "beta_api_shape_disabled");
  }
  if (query)
    g_hash_table_unref (query);
}

/* ---- stats ------------------------------------------------------------ */

static gchar *
stats_to_json (const LocalModelStats * st)
{
  JsonObject *o = json_object_new ();
  JsonArray *truncates = json_array_new ();
  JsonNode *root;
  gchar *text;
  guint i;

  json_object_set_int_member (o, "sessions_total", st->sessions_total);
  json_object_set_int_member (o, "sessions_active", st->sessions_active);
  json_object_set_int_member (o, "upgrades_rejected", st->upgrades_rejected);
  json_object_set_int_member (o, "appends", st->appends);
  json_object_set_int_member (o, "audio_bytes_received",
      st->audio_bytes_received);
  json_object_set_int_member (o, "session_updates", st->session_updates);
  json_object_set_int_member (o, "speech_started", st->speech_started);
  json_object_set_int_member (o, "responses", st->responses);
  json_object_set_int_member (o, "responses_completed",
      st->responses_completed);
  json_object_set_int_member (o, "responses_cancelled",
      st->responses_cancelled);
  json_object_set_int_member (o, "cancels", st->cancels);
  json_object_set_int_member (o, "truncates", st->truncates);
  for (i = 0; st->truncate_audio_end_ms && i < st->truncate_audio_end_ms->len;
      i++)
    json_array_add_int_element (truncates,
        g_array_index (st->truncate_audio_end_ms, gint64, i));
  json_object_set_array_member (o, "truncate_audio_end_ms", truncates);
  json_object_set_int_member (o, "function_calls", st->function_calls);
  json_object_set_int_member (o, "function_outputs", st->function_outputs);
  json_object_set_int_member (o, "errors_sent", st->errors_sent);
  json_object_set_int_member (o, "faults_closed", st->faults_closed);
  json_object_set_int_member (o, "sessions_expired", st->sessions_expired);
  json_object_set_int_member (o, "idle_timeouts", st->idle_timeouts);
  root = json_node_init_object (json_node_alloc (), o);
  text = json_to_string (root, FALSE);
  json_node_unref (root);
  json_object_unref (o);
  return text;
}

void
local_model_get_stats (LocalModel * self, LocalModelStats * stats)
{
  g_mutex_lock (&self->server.lock);
  *stats = self->server.stats;
  stats->truncate_audio_end_ms = g_array_copy
      (self->server.stats.truncate_audio_end_ms);
  g_mutex_unlock (&self->server.lock);
}

void
local_model_stats_clear (LocalModelStats * stats)
{
  g_clear_pointer (&stats->truncate_audio_end_ms, g_array_unref);
}

gchar *
local_model_get_stats_json (LocalModel * self)
{
  LocalModelStats st;
  gchar *text;

  local_model_get_stats (self, &st);
  text = stats_to_json (&st);
  local_model_stats_clear (&st);
  return text;
}

static void
stats_handler (SoupServer * soup, SoupServerMessage * msg,
    const gchar * path, GHashTable * query, gpointer user_data)
{
  gchar *text = local_model_get_stats_json (user_data);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, text, strlen (text));
}

/* ---- thread ----------------------------------------------------------- */

static gboolean
signal_started (gpointer user_data)
{
  LocalModel *self = user_data;

  g_mutex_lock (&self->start_lock);
  self->started = TRUE;
  g_cond_signal (&self->start_cond);
  g_mutex_unlock (&self->start_lock);
  return G_SOURCE_REMOVE;
}

/* A listening socket with SO_REUSEPORT, so that several models (each on
 * its own thread) share one port and the kernel spreads the connections
 * over them. */
static gboolean
listen_reuse_port (SoupServer * soup, GSocketAddress * sockaddr,
    GError ** error)
{
  GSocket *socket = g_socket_new (g_socket_address_get_family (sockaddr),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  struct sockaddr_storage native;
  gboolean ok;

  if (socket == NULL)
    return FALSE;
  g_socket_set_listen_backlog (socket, 256);
  /* not g_socket_bind (): it clears SO_REUSEPORT on stream sockets */
  ok = g_socket_set_option (socket, SOL_SOCKET, SO_REUSEPORT, 1, error)
      && g_socket_address_to_native (sockaddr, &native, sizeof native, error);
  if (ok && bind (g_socket_get_fd (socket), (struct sockaddr *) &native,
          g_socket_address_get_native_size (sockaddr)) != 0) {
    int saved = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
        "Cannot bind to the model's port: %s", g_strerror (saved));
    ok = FALSE;
  }
  ok = ok && g_socket_listen (socket, error)
      && soup_server_listen_socket (soup, socket, 0, error);
  g_object_unref (socket);
  return ok;
}

static gboolean
start_server (LocalModel * self, GError ** error)
{
  LocalModelOptions *o = &self->server.opts;
  GInetAddress *addr = g_inet_address_new_from_string (o->address);
  GSocketAddress *sockaddr;
  GSList *listeners;
  gboolean ok;

  if (addr == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "Invalid listen address '%s'", o->address);
    return FALSE;
  }
  self->soup = soup_server_new ("server-header", "realtime-bridge-model ",
      NULL);
  soup_server_add_handler (self->soup, REALTIME_PATH, realtime_http_handler,
      self, NULL);
  soup_server_add_websocket_handler (self->soup, REALTIME_PATH, NULL, NULL,
      realtime_ws_handler, self, NULL);
  soup_server_add_handler (self->soup, "/stats", stats_handler, self, NULL);

  sockaddr = g_inet_socket_address_new (addr, o->port);
  if (o->reuse_port)
    ok = listen_reuse_port (self->soup, sockaddr, error);
  else
    ok = soup_server_listen (self->soup, sockaddr, 0, error);
  g_object_unref (sockaddr);
  g_object_unref (addr);
  if (!ok)
    return FALSE;

  /* not soup_server_get_uris (): it leaks an address in libsoup 3.2 */
  listeners = soup_server_get_listeners (self->soup);
  if (listeners) {
    GSocketAddress *local = g_socket_get_local_address (listeners->data,
        NULL);
    if (local) {
      self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
          (local));
      g_object_unref (local);
    }
    g_slist_free (listeners);
  }
  if (strchr (o->address, ':'))
    self->url = g_strdup_printf ("ws://[%s]:%u" REALTIME_PATH, o->address,
        self->port);
  else
    self->url = g_strdup_printf ("ws://%s:%u" REALTIME_PATH, o->address,
        self->port);
  return TRUE;
}

static gpointer
server_thread (gpointer user_data)
{
  LocalModel *self = user_data;
  GMainContext *ctx = self->server.context;
  GSource *idle;

  g_main_context_push_thread_default (ctx);
  if (!start_server (self, &self->start_error)) {
    g_clear_object (&self->soup);
    g_mutex_lock (&self->start_lock);
    self->started = TRUE;
    g_cond_signal (&self->start_cond);
    g_mutex_unlock (&self->start_lock);
    g_main_context_pop_thread_default (ctx);
    return NULL;
  }
  idle = g_idle_source_new ();
  g_source_set_callback (idle, signal_started, self, NULL);
  g_source_attach (idle, ctx);
  g_source_unref (idle);
  g_main_loop_run (self->loop);

  /* shutdown: say goodbye to every session, let the frames go out */
  {
    GHashTableIter iter;
    gpointer key;
    gint64 deadline = g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND;

    g_hash_table_iter_init (&iter, self->server.sessions);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      model_session_shutdown (key);
    while (g_main_context_pending (ctx)
        && g_get_monotonic_time () < deadline)
      g_main_context_iteration (ctx, FALSE);
  }
  g_hash_table_remove_all (self->server.sessions);
  soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  /* bounded: a socket at EOF can keep a source ready forever */
  {
    guint n;
    for (n = 0; n < 100 && g_main_context_pending (ctx); n++)
      g_main_context_iteration (ctx, FALSE);
  }
  g_main_context_pop_thread_default (ctx);
  return NULL;
}

LocalModel *
local_model_new (const LocalModelOptions * opts, GError ** error)
{
  LocalModel *self = g_new0 (LocalModel, 1);
  LocalModelOptions defaults;
  LocalModelOptions *o = &self->server.opts;

  if (opts == NULL) {
    local_model_options_init (&defaults);
    opts = &defaults;
  }
  *o = *opts;
  o->address = g_strdup (opts->address ? opts->address : "127.0.0.1");
  o->reject_key = g_strdup (opts->reject_key);
  o->events_log = g_strdup (opts->events_log);
  if (o->upgrade_failure_status == 0)
    o->upgrade_failure_status = 503;

  g_mutex_init (&self->server.lock);
  self->server.stats.truncate_audio_end_ms =
      g_array_new (FALSE, FALSE, sizeof (gint64));
  self->server.start_us = g_get_monotonic_time ();
  self->server.sessions = g_hash_table_new_full (NULL, NULL,
      (GDestroyNotify) model_session_free, NULL);
  if (o->events_log) {
    self->server.events_log = g_fopen (o->events_log, "a");
    if (self->server.events_log == NULL) {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
          "Cannot open events log '%s': %s", o->events_log, g_strerror (saved));
      local_model_free (self);
      return NULL;
    }
  }

  /* GLib 2.74 can deadlock when two threads initialise the same GIO
   * types for the first time (type lock vs. class init); do it here. */
  g_type_class_unref (g_type_class_ref (G_TYPE_INET_SOCKET_ADDRESS));
  g_type_class_unref (g_type_class_ref (G_TYPE_SOCKET));
  g_type_class_unref (g_type_class_ref (SOUP_TYPE_SERVER));
  g_type_class_unref (g_type_class_ref (SOUP_TYPE_WEBSOCKET_CONNECTION));

  self->server.context = g_main_context_new ();
  if (o->poll_func)
    g_main_context_set_poll_func (self->server.context, o->poll_func);
  self->loop = g_main_loop_new (self->server.context, FALSE);
  g_mutex_init (&self->start_lock);
  g_cond_init (&self->start_cond);
  self->thread = g_thread_new ("localmodel", server_thread, self);
  g_mutex_lock (&self->start_lock);
  while (!self->started)
    g_cond_wait (&self->start_cond, &self->start_lock);
  g_mutex_unlock (&self->start_lock);

  if (self->start_error) {
    g_propagate_error (error, self->start_error);
    self->start_error = NULL;
    local_model_free (self);
    return NULL;
  }
  return self;
}

gchar *
local_model_get_url (LocalModel * self)
{
  return g_strdup (self->url);
}

guint
local_model_get_port (LocalModel * self)
{
  return self->port;
}

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
local_model_free (LocalModel * self)
{
  if (self == NULL)
    return;
  if (self->thread) {
    if (self->soup || g_main_loop_is_running (self->loop) || self->started)
      g_main_context_invoke (self->server.context, quit_loop, self->loop);
    g_thread_join (self->thread);
  }
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->server.context, g_main_context_unref);
  g_clear_pointer (&self->server.sessions, g_hash_table_unref);
  if (self->server.events_log)
    fclose (self->server.events_log);
  g_clear_pointer (&self->server.stats.truncate_audio_end_ms, g_array_unref);
  g_mutex_clear (&self->server.lock);
  g_mutex_clear (&self->start_lock);
  g_cond_clear (&self->start_cond);
  g_free ((gchar *) self->server.opts.address);
  g_free ((gchar *) self->server.opts.reject_key);
  g_free ((gchar *) self->server.opts.events_log);
  g_free (self->url);
  g_free (self);
}
