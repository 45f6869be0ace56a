/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * twiliosrc's `connection` property, used the way the launcher uses it: the
 * application runs its own server on its own thread's main context, accepts
 * the WebSocket there and hands it to twiliosrc from that thread (`stream`
 * first, then `connection`). All I/O of the call then runs on that
 * context, so this test iterates it while it waits.
 */
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <string.h>

#include "faketwilio.h"
#include "twilioprotocol.h"
#include "twiliotestutil.h"

typedef struct
{
  GMainContext *context;
  SoupServer *server;
  GSocketService *service;
  gint port;
  SoupWebsocketConnection *accepted;
  GQueue messages;              /* bus messages, from the bus watch */
  GSource *tick;
} App;

static void
on_websocket (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  App *app = user_data;

  fail_unless (app->accepted == NULL);
  app->accepted = g_object_ref (conn);
}

static gboolean
on_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source, App * app)
{
  GSocketAddress *local = g_socket_connection_get_local_address (connection,
      NULL);
  GSocketAddress *remote = g_socket_connection_get_remote_address (connection,
      NULL);

  if (local && remote)
    soup_server_accept_iostream (app->server, G_IO_STREAM (connection), local,
        remote, NULL);
  g_clear_object (&local);
  g_clear_object (&remote);
  return TRUE;
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  App *app = user_data;

  g_queue_push_tail (&app->messages, gst_message_ref (msg));
  return G_SOURCE_CONTINUE;
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* The application's server on this thread's context (a GSocketService
 * feeding the SoupServer, as gsttwilioserver.c does). */
static void
app_start (App * app)
{
  GSocketAddress *address = g_inet_socket_address_new_from_string
      ("127.0.0.1", 0), *effective = NULL;

  app->context = g_main_context_new ();
  g_main_context_push_thread_default (app->context);
  g_queue_init (&app->messages);
  app->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (app->server, "/call", NULL, NULL,
      on_websocket, app, NULL);
  app->service = g_socket_service_new ();
  fail_unless (g_socket_listener_add_address (G_SOCKET_LISTENER
          (app->service), address, G_SOCKET_TYPE_STREAM,
          G_SOCKET_PROTOCOL_TCP, NULL, &effective, NULL));
  app->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (effective));
  g_signal_connect (app->service, "incoming", G_CALLBACK (on_incoming), app);
  g_socket_service_start (app->service);
  g_object_unref (address);
  g_object_unref (effective);
  /* Wakes the loop below regularly: the fake caller's messages arrive on
   * its own thread, not as sources of this context. */
  app->tick = g_timeout_source_new (5);
  g_source_set_callback (app->tick, tick_cb, NULL, NULL);
  g_source_attach (app->tick, app->context);
}

static void
app_stop (App * app)
{
  g_source_destroy (app->tick);
  g_source_unref (app->tick);
  g_clear_object (&app->accepted);
  g_socket_service_stop (app->service);
  g_socket_listener_close (G_SOCKET_LISTENER (app->service));
  g_object_unref (app->service);
  soup_server_disconnect (app->server);
  g_object_unref (app->server);
  g_queue_clear_full (&app->messages, (GDestroyNotify) gst_message_unref);
  while (g_main_context_iteration (app->context, FALSE));
  g_main_context_pop_thread_default (app->context);
  g_main_context_unref (app->context);
}

typedef gboolean (*Condition) (App * app, gpointer data);

/* Runs the application's context until @condition holds. */
static void
iterate_until (App * app, Condition condition, gpointer data,
    const gchar * what)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;

  while (!condition (app, data)) {
    fail_unless (g_get_monotonic_time () < deadline, "timed out waiting for "
        "%s", what);
    g_main_context_iteration (app->context, TRUE);
  }
}

static gboolean
has_accepted (App * app, gpointer data)
{
  return app->accepted != NULL;
}

static gboolean
connect_done (App * app, gpointer data)
{
  return g_atomic_pointer_get ((gpointer *) data) != NULL;
}

typedef struct
{
  gint port;
  FakeTwilio *fake;
} Connecting;

/* fake_twilio_connect () blocks until the upgrade is done, which needs the
 * application's context to run: it is called from another thread. */
static gpointer
connect_thread (gpointer user_data)
{
  Connecting *c = user_data;

  g_atomic_pointer_set (&c->fake, fake_twilio_connect (c->port, "/call", NULL));
  return NULL;
}

/* Pops bus messages (collected by the watch) until one named @name, or of
 * type @type when @name is NULL; errors fail the test. */
typedef struct
{
  const gchar *name;
  GstMessageType type;
  GstMessage *found;
} Wanted;

static gboolean
has_message (App * app, gpointer data)
{
  Wanted *w = data;
  GstMessage *msg;

  while (w->found == NULL && (msg = g_queue_pop_head (&app->messages))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      fail ("error: %s", err->message);
    }
    if ((w->name && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
            && gst_message_has_name (msg, w->name))
        || (!w->name && GST_MESSAGE_TYPE (msg) == w->type))
      w->found = msg;
    else
      gst_message_unref (msg);
  }
  return w->found != NULL;
}

static GstMessage *
app_wait_message (App * app, const gchar * name, GstMessageType type)
{
  Wanted w = { name, type, NULL };

  iterate_until (app, has_message, &w, name ? name : "a bus message");
  return w.found;
}

/* What the sink sent back, read while the application's context runs (it
 * carries the sink's messages). */
typedef struct
{
  FakeTwilio *fake;
  gsize media_bytes;
  GPtrArray *marks;             /* mark names */
  guint wanted_marks;
} Received;

static gboolean
has_marks (App * app, gpointer data)
{
  Received *r = data;
  gchar *text;

  while (r->marks->len < r->wanted_marks
      && (text = fake_twilio_pop (r->fake, 0))) {
    TwilioMessage *m = twilio_message_parse (text, -1,
        TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT, NULL);

    fail_unless (m != NULL, "invalid message from the sink: %s", text);
    fail_unless_equals_string (m->stream_sid, MZ);
    if (m->event == TWILIO_EVENT_MEDIA)
      r->media_bytes += g_bytes_get_size (m->payload);
    else if (m->event == TWILIO_EVENT_MARK)
      g_ptr_array_add (r->marks, g_strdup (m->mark_name));
    twilio_message_free (m);
    g_free (text);
  }
  return r->marks->len >= r->wanted_marks;
}

static gboolean
server_side_closed (App * app, gpointer data)
{
  return soup_websocket_connection_get_state (app->accepted) ==
      SOUP_WEBSOCKET_STATE_CLOSED;
}

GST_START_TEST (test_handed_connection)
{
  App app = { NULL, };
  Connecting connecting = { 0, NULL };
  FakeTwilio *fake = NULL;
  GThread *thread;
  GstElement *pipeline, *src;
  GstBus *bus;
  GSource *watch;
  GstMessage *msg;
  Received received = { NULL, 0, NULL, 3 };
  const GstStructure *s;
  gchar *json;
  gint current_port = -1;
  guint i;

  app_start (&app);

  /* Twilio connects; the application accepts on its own context. */
  connecting.port = app.port;
  thread = g_thread_new ("connect", connect_thread, &connecting);
  iterate_until (&app, has_accepted, NULL, "the upgrade");
  iterate_until (&app, connect_done, &connecting.fake, "the caller's side");
  g_thread_join (thread);
  fake = connecting.fake;
  fail_unless (fake_twilio_is_connected (fake));

  pipeline = gst_parse_launch ("twiliosrc name=src ! queue ! "
      "twiliosink stream=handed", NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  bus = gst_element_get_bus (pipeline);
  watch = gst_bus_create_watch (bus);
  g_source_set_callback (watch, (GSourceFunc) on_bus_message, &app, NULL);
  g_source_attach (watch, app.context);

  /* As the launcher does: in the pipeline first, stream, then connection,
   * from the thread whose context serves the connection. */
  g_object_set (src, "stream", "handed", NULL);
  g_object_set (src, "connection", app.accepted, NULL);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  g_object_get (src, "current-port", &current_port, NULL);
  fail_unless_equals_int (current_port, 0);     /* no server of its own */

  json = twilio_build_connected ();
  fake_twilio_send (fake, json);
  g_free (json);
  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);
  for (i = 0; i < 3; i++)
    send_media (fake, i + 2, i + 1, 20 * i, 0x30 + i, 160);

  msg = app_wait_message (&app, "twilio-connected", 0);
  gst_message_unref (msg);
  msg = app_wait_message (&app, "twilio-start", 0);
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "call-sid"), CA);
  fail_unless_equals_string (gst_structure_get_string (s, "stream-sid"), MZ);
  gst_message_unref (msg);

  /* The caller's audio comes back (echo), in frames, each with a mark. */
  received.fake = fake;
  received.marks = g_ptr_array_new_with_free_func (g_free);
  iterate_until (&app, has_marks, &received, "the echoed audio");
  fail_unless_equals_int (received.media_bytes, 480);
  for (i = 0; i < received.marks->len; i++) {
    gboolean played = FALSE;

    json = twilio_build_mark_echo (10 + i, MZ,
        g_ptr_array_index (received.marks, i));
    fake_twilio_send (fake, json);
    g_free (json);
    msg = app_wait_message (&app, "twilio-mark", 0);
    s = gst_message_get_structure (msg);
    fail_unless_equals_string (gst_structure_get_string (s, "name"),
        g_ptr_array_index (received.marks, i));
    fail_unless (gst_structure_get_boolean (s, "played", &played));
    fail_unless (played);
    gst_message_unref (msg);
  }

  /* Twilio's stop ends the stream. */
  json = twilio_build_stop (20, MZ, AC, CA);
  fake_twilio_send (fake, json);
  g_free (json);
  gst_message_unref (app_wait_message (&app, "twilio-stop", 0));
  gst_message_unref (app_wait_message (&app, NULL, GST_MESSAGE_EOS));

  /* Clean shutdown: the socket is closed on the application's context,
   * close handshake included. */
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_source_destroy (watch);
  g_source_unref (watch);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  iterate_until (&app, server_side_closed, NULL, "the close handshake");
  fail_unless_equals_int (soup_websocket_connection_get_close_code
      (app.accepted), SOUP_WEBSOCKET_CLOSE_NORMAL);
  fail_unless (fake_twilio_wait_closed (fake, DEADLINE));

  g_ptr_array_unref (received.marks);
  fake_twilio_free (fake);
  app_stop (&app);
}

GST_END_TEST;

static Suite *
twilio_connection_suite (void)
{
  Suite *s = suite_create ("twilio_connection");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_handed_connection);
  return s;
}

GST_CHECK_MAIN (twilio_connection);
