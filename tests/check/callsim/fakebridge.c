/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A fake bridge for the call simulator's tests; see fakebridge.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "fakebridge.h"

struct _FakeBridge
{
  FakeScriptFunc script;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  guint port;
  GMutex lock;
  GCond cond;
  gboolean ready;
  gchar *token;
  gchar *signed_url;
  guint rejected;
  GPtrArray *connections;
};

gchar *
fake_signature (const gchar * token, const gchar * url)
{
  GHmac *hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) token,
      strlen (token));
  guint8 digest[20];
  gsize len = sizeof digest;
  gchar *b64;

  g_hmac_update (hmac, (const guchar *) url, strlen (url));
  g_hmac_get_digest (hmac, digest, &len);
  g_hmac_unref (hmac);
  b64 = g_base64_encode (digest, len);
  return b64;
}

static void
frame_free (FakeFrame * frame)
{
  g_free (frame->text);
  g_free (frame);
}

static void
conn_free (FakeConn * conn)
{
  if (conn->ws) {
    g_signal_handlers_disconnect_by_data (conn->ws, conn);
    g_object_unref (conn->ws);
  }
  g_free (conn->user_agent);
  g_free (conn->signature);
  g_free (conn->stream_sid);
  g_ptr_array_unref (conn->frames);
  g_hash_table_unref (conn->marks_sent);
  g_free (conn->script_data);
  g_free (conn);
}

static void
on_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer user_data)
{
  FakeConn *conn = user_data;
  FakeBridge *bridge = conn->bridge;
  FakeFrame *frame = g_new0 (FakeFrame, 1);
  JsonParser *parser = NULL;
  JsonObject *object = NULL;
  const gchar *event = NULL;

  frame->arrival_us = g_get_monotonic_time ();
  if (type == SOUP_WEBSOCKET_DATA_TEXT) {
    gsize len;
    const gchar *data = g_bytes_get_data (message, &len);

    frame->text = g_strndup (data, len);
    parser = json_parser_new ();
    if (json_parser_load_from_data (parser, frame->text, -1, NULL)
        && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
      object = json_node_get_object (json_parser_get_root (parser));
      event = json_object_get_string_member_with_default (object, "event",
          NULL);
    }
  }
  g_mutex_lock (&bridge->lock);
  g_ptr_array_add (conn->frames, frame);
  if (g_strcmp0 (event, "start") == 0 && conn->stream_sid == NULL)
    conn->stream_sid =
        g_strdup (json_object_get_string_member_with_default (object,
            "streamSid", ""));
  g_mutex_unlock (&bridge->lock);
  if (bridge->script)
    bridge->script (conn, event, object);
  if (parser)
    g_object_unref (parser);
}

static void
on_closed (SoupWebsocketConnection * ws, gpointer user_data)
{
  FakeConn *conn = user_data;

  g_mutex_lock (&conn->bridge->lock);
  conn->closed = TRUE;
  conn->close_code = soup_websocket_connection_get_close_code (ws);
  g_mutex_unlock (&conn->bridge->lock);
}

static void
on_websocket (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * ws, gpointer user_data)
{
  FakeBridge *bridge = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  FakeConn *conn = g_new0 (FakeConn, 1);

  conn->bridge = bridge;
  conn->ws = g_object_ref (ws);
  conn->user_agent =
      g_strdup (soup_message_headers_get_one (headers, "User-Agent"));
  conn->signature =
      g_strdup (soup_message_headers_get_one (headers, "X-Twilio-Signature"));
  conn->has_extensions =
      soup_message_headers_get_one (headers,
      "Sec-WebSocket-Extensions") != NULL;
  conn->has_protocol =
      soup_message_headers_get_one (headers, "Sec-WebSocket-Protocol") != NULL;
  conn->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  conn->marks_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  g_signal_connect (ws, "message", G_CALLBACK (on_message), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (on_closed), conn);
  g_mutex_lock (&bridge->lock);
  g_ptr_array_add (bridge->connections, conn);
  g_mutex_unlock (&bridge->lock);
}

/* Runs before the handshake is answered: a bad signature gets 403. */
static void
on_early (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  FakeBridge *bridge = user_data;
  const gchar *signature;
  gchar *expected;

  if (bridge->token == NULL)
    return;
  signature =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "X-Twilio-Signature");
  expected = fake_signature (bridge->token, bridge->signed_url);
  if (g_strcmp0 (signature, expected) != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
    g_mutex_lock (&bridge->lock);
    bridge->rejected++;
    g_mutex_unlock (&bridge->lock);
  }
  g_free (expected);
}

static gboolean
signal_ready (gpointer user_data)
{
  FakeBridge *bridge = user_data;

  g_mutex_lock (&bridge->lock);
  bridge->ready = TRUE;
  g_cond_broadcast (&bridge->cond);
  g_mutex_unlock (&bridge->lock);
  return G_SOURCE_REMOVE;
}

static gpointer
server_thread (gpointer user_data)
{
  FakeBridge *bridge = user_data;
  GError *error = NULL;
  GSList *uris;
  GSource *idle;

  g_main_context_push_thread_default (bridge->context);
  bridge->server = soup_server_new (NULL, NULL);
  soup_server_add_early_handler (bridge->server, "/call", on_early, bridge,
      NULL);
  soup_server_add_websocket_handler (bridge->server, "/call", NULL, NULL,
      on_websocket, bridge, NULL);
  if (!soup_server_listen_local (bridge->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("fake bridge cannot listen: %s", error->message);
  uris = soup_server_get_uris (bridge->server);
  bridge->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  idle = g_idle_source_new ();
  g_source_set_callback (idle, signal_ready, bridge, NULL);
  g_source_attach (idle, bridge->context);
  g_source_unref (idle);
  g_main_loop_run (bridge->loop);

  g_ptr_array_set_size (bridge->connections, 0);
  soup_server_disconnect (bridge->server);
  g_clear_object (&bridge->server);
  while (g_main_context_iteration (bridge->context, FALSE));
  g_main_context_pop_thread_default (bridge->context);
  return NULL;
}

FakeBridge *
fake_bridge_new (FakeScriptFunc script)
{
  FakeBridge *bridge = g_new0 (FakeBridge, 1);

  bridge->script = script;
  g_mutex_init (&bridge->lock);
  g_cond_init (&bridge->cond);
  bridge->connections =
      g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  bridge->context = g_main_context_new ();
  bridge->loop = g_main_loop_new (bridge->context, FALSE);
  bridge->thread = g_thread_new ("fake-bridge", server_thread, bridge);
  g_mutex_lock (&bridge->lock);
  while (!bridge->ready)
    g_cond_wait (&bridge->cond, &bridge->lock);
  g_mutex_unlock (&bridge->lock);
  return bridge;
}

void
fake_bridge_require_signature (FakeBridge * bridge, const gchar * token,
    const gchar * signed_url)
{
  g_mutex_lock (&bridge->lock);
  g_free (bridge->token);
  g_free (bridge->signed_url);
  bridge->token = g_strdup (token);
  bridge->signed_url = g_strdup (signed_url);
  g_mutex_unlock (&bridge->lock);
}

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
fake_bridge_free (FakeBridge * bridge)
{
  g_main_context_invoke (bridge->context, quit_loop, bridge->loop);
  g_thread_join (bridge->thread);
  g_ptr_array_unref (bridge->connections);
  g_main_loop_unref (bridge->loop);
  g_main_context_unref (bridge->context);
  g_mutex_clear (&bridge->lock);
  g_cond_clear (&bridge->cond);
  g_free (bridge->token);
  g_free (bridge->signed_url);
  g_free (bridge);
}

guint
fake_bridge_get_port (FakeBridge * bridge)
{
  return bridge->port;
}

gchar *
fake_bridge_get_url (FakeBridge * bridge)
{
  return g_strdup_printf ("ws://127.0.0.1:%u/call", bridge->port);
}

GPtrArray *
fake_bridge_get_connections (FakeBridge * bridge)
{
  return bridge->connections;
}

guint
fake_bridge_get_rejected (FakeBridge * bridge)
{
  guint rejected;

  g_mutex_lock (&bridge->lock);
  rejected = bridge->rejected;
  g_mutex_unlock (&bridge->lock);
  return rejected;
}

void
fake_conn_send_text (FakeConn * conn, const gchar * text)
{
  if (soup_websocket_connection_get_state (conn->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn->ws, text);
}

void
fake_conn_send_media (FakeConn * conn, const guint8 * mulaw, gsize len)
{
  gchar *b64 = g_base64_encode (mulaw, len);
  gchar *text = g_strdup_printf ("{\"event\":\"media\",\"streamSid\":\"%s\","
      "\"media\":{\"payload\":\"%s\"}}", conn->stream_sid, b64);

  fake_conn_send_text (conn, text);
  g_free (text);
  g_free (b64);
}

void
fake_conn_send_mark (FakeConn * conn, const gchar * name)
{
  gchar *text = g_strdup_printf ("{\"event\":\"mark\",\"streamSid\":\"%s\","
      "\"mark\":{\"name\":\"%s\"}}", conn->stream_sid, name);
  gint64 *now = g_new (gint64, 1);

  *now = g_get_monotonic_time ();
  g_mutex_lock (&conn->bridge->lock);
  g_hash_table_replace (conn->marks_sent, g_strdup (name), now);
  g_mutex_unlock (&conn->bridge->lock);
  fake_conn_send_text (conn, text);
  g_free (text);
}

void
fake_conn_send_clear (FakeConn * conn)
{
  gchar *text = g_strdup_printf ("{\"event\":\"clear\",\"streamSid\":\"%s\"}",
      conn->stream_sid);

  fake_conn_send_text (conn, text);
  g_free (text);
}

gint64
fake_conn_mark_sent_us (FakeConn * conn, const gchar * name)
{
  gint64 *t;
  gint64 result;

  g_mutex_lock (&conn->bridge->lock);
  t = g_hash_table_lookup (conn->marks_sent, name);
  result = t ? *t : 0;
  g_mutex_unlock (&conn->bridge->lock);
  return result;
}

typedef struct
{
  FakeConn *conn;
  void (*func) (FakeConn *);
} Later;

static gboolean
run_later (gpointer user_data)
{
  Later *later = user_data;

  later->func (later->conn);
  return G_SOURCE_REMOVE;
}

void
fake_conn_after (FakeConn * conn, guint ms, void (*func) (FakeConn *))
{
  Later *later = g_new (Later, 1);
  GSource *source = g_timeout_source_new (ms);

  later->conn = conn;
  later->func = func;
  g_source_set_callback (source, run_later, later, g_free);
  g_source_attach (source, conn->bridge->context);
  g_source_unref (source);
}
