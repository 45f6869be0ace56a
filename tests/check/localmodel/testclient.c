/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * WebSocket test client for the local model; see testclient.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testclient.h"
#include "modelaudio.h"
#include "localmodel.h"

#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

static GThread *net_thread;
static GMainContext *net_context;
static GMainLoop *net_loop;
static SoupSession *net_session;

struct _TestClient
{
  GMutex lock;
  GCond cond;
  SoupWebsocketConnection *conn;
  gboolean connect_done;
  guint status;
  gboolean closed;
  gint close_code;
  GAsyncQueue *queue;           /* gchar* texts; "" marks the close */
  GPtrArray *history;           /* JsonObject* */
  GPtrArray *raw_history;       /* gchar*, the frames of history */
};

static gpointer
net_thread_func (gpointer data)
{
  g_main_context_push_thread_default (net_context);
  /* loopback only; no proxy lookup (libproxy is noisy under valgrind) */
  net_session = soup_session_new_with_options ("proxy-resolver", NULL, NULL);
  g_main_loop_run (net_loop);
  soup_session_abort (net_session);
  g_clear_object (&net_session);
  /* bounded: a socket at EOF can keep a source ready forever */
  {
    guint n;
    for (n = 0; n < 100 && g_main_context_pending (net_context); n++)
      g_main_context_iteration (net_context, FALSE);
  }
  g_main_context_pop_thread_default (net_context);
  return NULL;
}

void
test_net_start (void)
{
  /* first-time GIO/libsoup type initialisation in two threads at once can
   * deadlock in GLib 2.74: do it before the threads exist */
  g_type_class_unref (g_type_class_ref (SOUP_TYPE_SESSION));
  g_type_class_unref (g_type_class_ref (G_TYPE_INET_SOCKET_ADDRESS));
  g_type_class_unref (g_type_class_ref (SOUP_TYPE_WEBSOCKET_CONNECTION));
  net_context = g_main_context_new ();
  net_loop = g_main_loop_new (net_context, FALSE);
  net_thread = g_thread_new ("test-net", net_thread_func, NULL);
}

static gboolean
quit_idle (gpointer data)
{
  g_main_loop_quit (net_loop);
  return G_SOURCE_REMOVE;
}

void
test_net_stop (void)
{
  g_main_context_invoke (net_context, quit_idle, NULL);
  g_thread_join (net_thread);
  g_main_loop_unref (net_loop);
  g_main_context_unref (net_context);
}

/* Runs @func (@data) on the client thread and waits for it. */
typedef struct
{
  GSourceFunc func;
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} SyncCall;

static gboolean
sync_call_run (gpointer user_data)
{
  SyncCall *call = user_data;

  call->func (call->data);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

static void
run_on_net (GSourceFunc func, gpointer data)
{
  SyncCall call = { func, data };

  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  g_main_context_invoke (net_context, sync_call_run, &call);
  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    TestClient * c)
{
  gsize size;
  const gchar *data = g_bytes_get_data (message, &size);

  g_async_queue_push (c->queue, g_strndup (data, size));
}

static void
on_closed (SoupWebsocketConnection * conn, TestClient * c)
{
  g_mutex_lock (&c->lock);
  c->closed = TRUE;
  c->close_code = soup_websocket_connection_get_close_code (conn);
  if (c->close_code == 0)
    c->close_code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  g_async_queue_push (c->queue, g_strdup (""));
}

typedef struct
{
  TestClient *client;
  SoupMessage *msg;
} ConnectOp;

static void
connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  ConnectOp *op = user_data;
  TestClient *c = op->client;
  GError *error = NULL;
  SoupWebsocketConnection *conn =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &error);

  g_mutex_lock (&c->lock);
  c->status = soup_message_get_status (op->msg);
  if (conn) {
    c->conn = conn;
    g_signal_connect (conn, "message", G_CALLBACK (on_message), c);
    g_signal_connect (conn, "closed", G_CALLBACK (on_closed), c);
  } else {
    g_error_free (error);
  }
  c->connect_done = TRUE;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

typedef struct
{
  TestClient *client;
  gchar *url;
  const gchar *key;
  gboolean beta;
  ConnectOp *op;
} StartArgs;

static gboolean
start_connect (gpointer user_data)
{
  StartArgs *args = user_data;
  ConnectOp *op = g_new0 (ConnectOp, 1);
  SoupMessageHeaders *h;

  op->client = args->client;
  op->msg = soup_message_new ("GET", args->url);
  h = soup_message_get_request_headers (op->msg);
  if (args->key) {
    gchar *auth = g_strdup_printf ("Bearer %s", args->key);
    soup_message_headers_replace (h, "Authorization", auth);
    g_free (auth);
  }
  if (args->beta)
    soup_message_headers_replace (h, "OpenAI-Beta", "realtime=v1");
  args->op = op;
  soup_session_websocket_connect_async (net_session, op->msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, connected, op);
  return G_SOURCE_REMOVE;
}

TestClient *
test_client_connect (const gchar * url, const gchar * key, gboolean beta,
    guint * status)
{
  TestClient *c = g_new0 (TestClient, 1);
  StartArgs args = { c, NULL, key, beta, NULL };
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->queue = g_async_queue_new_full (g_free);
  c->history = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_object_unref);
  c->raw_history = g_ptr_array_new_with_free_func (g_free);
  args.url = g_strdup_printf ("%s?model=gpt-realtime", url);
  run_on_net (start_connect, &args);
  g_mutex_lock (&c->lock);
  while (!c->connect_done)
    if (!g_cond_wait_until (&c->cond, &c->lock, deadline))
      break;
  g_mutex_unlock (&c->lock);
  fail_unless (c->connect_done, "connect timed out");
  if (status)
    *status = c->status;
  g_free (args.url);
  g_object_unref (args.op->msg);
  g_free (args.op);
  if (c->conn == NULL) {
    test_client_free (c);
    return NULL;
  }
  return c;
}

static gboolean
close_and_release (gpointer user_data)
{
  TestClient *c = user_data;

  if (c->conn) {
    g_signal_handlers_disconnect_by_data (c->conn, c);
    if (soup_websocket_connection_get_state (c->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    g_clear_object (&c->conn);
  }
  return G_SOURCE_REMOVE;
}

void
test_client_free (TestClient * c)
{
  run_on_net (close_and_release, c);
  g_async_queue_unref (c->queue);
  g_ptr_array_unref (c->history);
  g_ptr_array_unref (c->raw_history);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

typedef struct
{
  TestClient *client;
  GBytes *data;
  gboolean binary;
} SendOp;

static gboolean
send_on_net (gpointer user_data)
{
  SendOp *op = user_data;
  TestClient *c = op->client;

  if (c->conn && soup_websocket_connection_get_state (c->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    if (op->binary)
      soup_websocket_connection_send_message (c->conn,
          SOUP_WEBSOCKET_DATA_BINARY, op->data);
    else
      soup_websocket_connection_send_text (c->conn,
          g_bytes_get_data (op->data, NULL));
  }
  return G_SOURCE_REMOVE;
}

static void
send_op_free (SendOp * op)
{
  g_bytes_unref (op->data);
  g_free (op);
}

static void
queue_send (TestClient * c, GBytes * data, gboolean binary)
{
  SendOp *op = g_new0 (SendOp, 1);

  op->client = c;
  op->data = data;
  op->binary = binary;
  /* ordered: invocations from one thread run in order on the context */
  g_main_context_invoke_full (net_context, G_PRIORITY_DEFAULT, send_on_net,
      op, (GDestroyNotify) send_op_free);
}

void
test_client_send (TestClient * c, const gchar * text)
{
  queue_send (c, g_bytes_new (text, strlen (text) + 1), FALSE);
}

void
test_client_send_binary (TestClient * c, const guint8 * data, gsize size)
{
  queue_send (c, g_bytes_new (data, size), TRUE);
}

void
test_client_sendf (TestClient * c, const gchar * format, ...)
{
  va_list args;
  gchar *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  queue_send (c, g_bytes_new_take (text, strlen (text) + 1), FALSE);
}

void
test_client_append (TestClient * c, const guint8 * data, gsize size,
    gsize chunk)
{
  gsize off;

  for (off = 0; off < size; off += chunk) {
    gchar *b64 = g_base64_encode (data + off, MIN (chunk, size - off));
    test_client_sendf (c, "{\"type\":\"input_audio_buffer.append\","
        "\"audio\":\"%s\"}", b64);
    g_free (b64);
  }
}

JsonObject *
test_client_next (TestClient * c, guint timeout_ms)
{
  gchar *text = g_async_queue_timeout_pop (c->queue,
      (guint64) timeout_ms * 1000);
  JsonParser *parser;
  JsonObject *obj = NULL;

  if (text == NULL)
    return NULL;
  if (*text == '\0') {
    /* closed: keep the marker for later callers */
    g_async_queue_push_front (c->queue, text);
    return NULL;
  }
  parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (parser, text, -1, NULL),
      "server sent invalid JSON: %s", text);
  fail_unless (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  obj = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  g_object_unref (parser);
  g_ptr_array_add (c->raw_history, text);
  /* every server event has a type and an event_id */
  fail_unless (json_object_get_string_member_with_default (obj, "type",
          NULL) != NULL);
  fail_unless (json_object_get_string_member_with_default (obj, "event_id",
          NULL) != NULL);
  g_ptr_array_add (c->history, obj);
  return obj;
}

JsonObject *
test_client_expect (TestClient * c, const gchar * type, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (TRUE) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    JsonObject *ev;

    fail_unless (left > 0, "timed out waiting for %s", type);
    ev = test_client_next (c, left);
    fail_unless (ev != NULL, "no %s (timeout or closed)", type);
    if (strcmp (json_object_get_string_member (ev, "type"), type) == 0)
      return ev;
  }
}

GPtrArray *
test_client_history (TestClient * c)
{
  return c->history;
}

GPtrArray *
test_client_raw_history (TestClient * c)
{
  return c->raw_history;
}

gint
test_client_find (TestClient * c, const gchar * type, guint from)
{
  guint i;

  for (i = from; i < c->history->len; i++) {
    JsonObject *ev = g_ptr_array_index (c->history, i);
    if (strcmp (json_object_get_string_member (ev, "type"), type) == 0)
      return i;
  }
  return -1;
}

gint
test_client_wait_closed (TestClient * c, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gint code = -1;

  g_mutex_lock (&c->lock);
  while (!c->closed)
    if (!g_cond_wait_until (&c->cond, &c->lock, deadline))
      break;
  if (c->closed)
    code = c->close_code;
  g_mutex_unlock (&c->lock);
  return code;
}

/* ---- helpers ---------------------------------------------------------- */

JsonNode *
test_node_at (JsonObject * obj, const gchar * dotted)
{
  gchar **parts = g_strsplit (dotted, ".", -1);
  JsonNode *node = NULL;
  guint i;

  for (i = 0; parts[i]; i++) {
    node = obj ? json_object_get_member (obj, parts[i]) : NULL;
    obj = node && JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
  }
  g_strfreev (parts);
  return node;
}

gint64
test_int_at (JsonObject * obj, const gchar * dotted)
{
  JsonNode *node = test_node_at (obj, dotted);

  fail_unless (node != NULL, "missing %s", dotted);
  return json_node_get_int (node);
}

const gchar *
test_string_at (JsonObject * obj, const gchar * dotted)
{
  JsonNode *node = test_node_at (obj, dotted);

  return node && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) :
      NULL;
}

GArray *
test_burst_8k (guint lead_ms, guint tone_ms, guint tail_ms, gdouble freq)
{
  GArray *s = g_array_new (FALSE, TRUE, sizeof (gint16));
  guint n_lead = lead_ms * 8, n_tone = tone_ms * 8, n_tail = tail_ms * 8;
  guint i;

  g_array_set_size (s, n_lead);
  for (i = 0; i < n_tone; i++) {
    gint16 v = (gint16) (0.3 * 32767 * sin (2 * G_PI * freq * i / 8000.0));
    g_array_append_val (s, v);
  }
  g_array_set_size (s, n_lead + n_tone + n_tail);
  return s;
}

GByteArray *
test_encode_8k (GArray * samples, gboolean alaw)
{
  GByteArray *out = g_byte_array_new ();
  guint i;

  for (i = 0; i < samples->len; i++) {
    gint16 v = g_array_index (samples, gint16, i);
    guint8 code = alaw ? model_audio_alaw_encode (v) :
        model_audio_ulaw_encode (v);
    g_byte_array_append (out, &code, 1);
  }
  return out;
}

GByteArray *
test_ulaw_burst (guint lead_ms, guint tone_ms, guint tail_ms, gdouble freq)
{
  GArray *pcm = test_burst_8k (lead_ms, tone_ms, tail_ms, freq);
  GByteArray *wire = test_encode_8k (pcm, FALSE);

  g_array_unref (pcm);
  return wire;
}

const gchar *
test_response_transcript (JsonObject * done)
{
  JsonArray *output =
      json_node_get_array (test_node_at (done, "response.output"));
  JsonObject *item = json_array_get_object_element (output, 0);
  JsonObject *part = json_array_get_object_element
      (json_object_get_array_member (item, "content"), 0);

  return json_object_get_string_member (part, "transcript");
}

/* ---- the model ---- */

LocalModel *
test_model_start (LocalModelOptions * opts)
{
  GError *error = NULL;
  LocalModel *model = local_model_new (opts, &error);

  fail_unless (model != NULL, "local model did not start: %s",
      error ? error->message : "?");
  return model;
}

TestClient *
test_model_connect (LocalModel * model)
{
  gchar *url = local_model_get_url (model);
  guint status = 0;
  TestClient *c = test_client_connect (url, "sk-test", FALSE, &status);

  fail_unless (c != NULL, "upgrade failed with HTTP %u", status);
  g_free (url);
  test_client_expect (c, "session.created", TEST_WAIT_MS);
  test_client_expect (c, "conversation.created", TEST_WAIT_MS);
  return c;
}

/* Collects the response's audio deltas up to response.done (returned). */
JsonObject *
test_collect_response (TestClient * c, GByteArray * audio)
{
  while (TRUE) {
    JsonObject *ev = test_client_next (c, TEST_WAIT_MS);
    const gchar *type;

    fail_unless (ev != NULL, "no response.done");
    type = test_string_at (ev, "type");
    if (strcmp (type, "response.output_audio.delta") == 0) {
      gsize n;
      guchar *data = g_base64_decode (test_string_at (ev, "delta"), &n);
      g_byte_array_append (audio, data, n);
      g_free (data);
    } else if (strcmp (type, "response.done") == 0) {
      return ev;
    }
  }
}

void
test_session_update (TestClient * c, const gchar * format_json,
    const gchar * extra)
{
  test_client_sendf (c, "{\"type\":\"session.update\",\"session\":{"
      "\"type\":\"realtime\",\"audio\":{\"input\":{\"format\":%s},"
      "\"output\":{\"format\":%s}}%s}}", format_json, format_json,
      extra ? extra : "");
  test_client_expect (c, "session.updated", TEST_WAIT_MS);
}

void
test_expect_error (TestClient * c, const gchar * code)
{
  JsonObject *ev = test_client_expect (c, "error", TEST_WAIT_MS);

  fail_unless_equals_string (test_string_at (ev, "error.code"), code);
}
