/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loop-driven calls (docs/design.md "Loop-driven calls"): the application
 * runs a call loop (a GMainContext iterated by a GMainLoop on its own
 * thread), accepts Twilio's WebSocket there, hands it to twiliosrc from
 * that thread and gives the pipeline the `gst-realtime-bridge.loop`
 * context. twiliosrc then has no streaming thread: it pushes from the call
 * loop; twiliosink called there sends inline.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <libsoup/soup.h>
#include <string.h>

#include "faketwilio.h"
#include "twilioprotocol.h"
#include "twiliotestutil.h"
#include "../common/testcallloop.h"


/* ---- the application's call loop ------------------------------------ */

typedef struct
{
  TestCallLoop *loop;
  GMutex lock;
  GCond cond;
  gint port;

  /* call loop only */
  SoupServer *server;
  GSocketService *service;

  /* lock */
  SoupWebsocketConnection *accepted;
} CallLoop;

static void
on_websocket (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  CallLoop *cl = user_data;

  g_mutex_lock (&cl->lock);
  fail_unless (cl->accepted == NULL);
  cl->accepted = g_object_ref (conn);
  g_cond_broadcast (&cl->cond);
  g_mutex_unlock (&cl->lock);
}

static gboolean
on_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source, CallLoop * cl)
{
  GSocketAddress *local = g_socket_connection_get_local_address (connection,
      NULL);
  GSocketAddress *remote = g_socket_connection_get_remote_address (connection,
      NULL);

  if (local && remote)
    soup_server_accept_iostream (cl->server, G_IO_STREAM (connection), local,
        remote, NULL);
  g_clear_object (&local);
  g_clear_object (&remote);
  return TRUE;
}

/* On the call loop, before it runs: a WebSocket server on its context, as
 * the launcher's call loops serve the Twilio sockets they were given. */
static gboolean
serve_cb (gpointer user_data)
{
  CallLoop *cl = user_data;
  GSocketAddress *address = g_inet_socket_address_new_from_string
      ("127.0.0.1", 0), *effective = NULL;

  cl->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (cl->server, "/call", NULL, NULL,
      on_websocket, cl, NULL);
  cl->service = g_socket_service_new ();
  fail_unless (g_socket_listener_add_address (G_SOCKET_LISTENER
          (cl->service), address, G_SOCKET_TYPE_STREAM,
          G_SOCKET_PROTOCOL_TCP, NULL, &effective, NULL));
  g_signal_connect (cl->service, "incoming", G_CALLBACK (on_incoming), cl);
  g_socket_service_start (cl->service);
  cl->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_object_unref (address);
  g_object_unref (effective);
  return G_SOURCE_REMOVE;
}

static gboolean
unserve_cb (gpointer user_data)
{
  CallLoop *cl = user_data;

  g_mutex_lock (&cl->lock);
  g_clear_object (&cl->accepted);
  g_mutex_unlock (&cl->lock);
  g_socket_service_stop (cl->service);
  g_socket_listener_close (G_SOCKET_LISTENER (cl->service));
  g_clear_object (&cl->service);
  soup_server_disconnect (cl->server);
  g_clear_object (&cl->server);
  return G_SOURCE_REMOVE;
}

static CallLoop *
call_loop_start (void)
{
  CallLoop *cl = g_new0 (CallLoop, 1);

  g_mutex_init (&cl->lock);
  g_cond_init (&cl->cond);
  cl->loop = test_call_loop_start (serve_cb, cl);
  return cl;
}

/* Runs @func (@data) on the call loop and waits for it. */
static void
run_on_loop (CallLoop * cl, GSourceFunc func, gpointer data)
{
  test_call_loop_run (cl->loop, func, data, DEADLINE);
}

static void
call_loop_stop (CallLoop * cl)
{
  test_call_loop_stop (cl->loop, unserve_cb, cl);
  g_mutex_clear (&cl->lock);
  g_cond_clear (&cl->cond);
  g_free (cl);
}

/* Twilio connects to the call loop's server. */
static FakeTwilio *
call_loop_connect (CallLoop * cl)
{
  FakeTwilio *fake = fake_twilio_connect (cl->port, "/call", NULL);
  gint64 deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;

  fail_unless (fake_twilio_is_connected (fake));
  g_mutex_lock (&cl->lock);
  while (cl->accepted == NULL)
    fail_unless (g_cond_wait_until (&cl->cond, &cl->lock, deadline));
  g_mutex_unlock (&cl->lock);
  return fake;
}

typedef struct
{
  CallLoop *cl;
  GstElement *src;
  const gchar *stream;
} Handover;

/* As the launcher does: on the connection's thread, stream first. */
static gboolean
hand_over_cb (gpointer data)
{
  Handover *h = data;

  g_object_set (h->src, "stream", h->stream, NULL);
  g_mutex_lock (&h->cl->lock);
  g_object_set (h->src, "connection", h->cl->accepted, NULL);
  g_mutex_unlock (&h->cl->lock);
  return G_SOURCE_REMOVE;
}

static void
hand_over (CallLoop * cl, GstElement * src, const gchar * stream)
{
  Handover h = { cl, src, stream };

  run_on_loop (cl, hand_over_cb, &h);
}

static void
set_loop_context (GstElement * element, CallLoop * cl)
{
  test_call_loop_set_context (cl->loop, element);
}

/* ---- what twiliosrc pushed ------------------------------------------ */

typedef struct
{
  GMutex lock;
  GByteArray *data;
  guint buffers;
  guint calls;                  /* buffers and events */
  guint wrong_thread;           /* buffers/events not pushed on the loop */
  gboolean eos;
  GstClockTime first_pts;
  GThread *loop_thread;
} Pushed;

static GstPadProbeReturn
record_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Pushed *p = user_data;

  g_mutex_lock (&p->lock);
  p->calls++;
  if (g_thread_self () != p->loop_thread)
    p->wrong_thread++;
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstMapInfo map;

    if (p->buffers++ == 0)
      p->first_pts = GST_BUFFER_PTS (buf);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    g_byte_array_append (p->data, map.data, map.size);
    gst_buffer_unmap (buf, &map);
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    p->eos = TRUE;
  }
  g_mutex_unlock (&p->lock);
  return GST_PAD_PROBE_OK;
}

static void
pushed_init (Pushed * p, GstElement * src, CallLoop * cl)
{
  GstPad *pad = gst_element_get_static_pad (src, "src");

  memset (p, 0, sizeof (*p));
  g_mutex_init (&p->lock);
  p->data = g_byte_array_new ();
  p->first_pts = GST_CLOCK_TIME_NONE;
  p->loop_thread = NULL;
  /* The loop thread is known once it runs something for us. */
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, record_probe, p, NULL);
  gst_object_unref (pad);
}

static void
pushed_clear (Pushed * p)
{
  g_byte_array_unref (p->data);
  g_mutex_clear (&p->lock);
}

static guint
pushed_bytes (Pushed * p)
{
  guint n;

  g_mutex_lock (&p->lock);
  n = p->data->len;
  g_mutex_unlock (&p->lock);
  return n;
}

static gboolean
record_loop_thread (gpointer data)
{
  Pushed *p = data;

  g_mutex_lock (&p->lock);
  p->loop_thread = g_thread_self ();
  g_mutex_unlock (&p->lock);
  return G_SOURCE_REMOVE;
}

/* Waits (bounded) until twiliosrc pushed at least @bytes. */
static void
wait_bytes (Pushed * p, guint bytes)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;

  while (pushed_bytes (p) < bytes) {
    fail_unless (g_get_monotonic_time () < deadline,
        "only %u of %u bytes pushed", pushed_bytes (p), bytes);
    g_usleep (1000);
  }
}

/* ---- a call in loop mode ---------------------------------------------- */

typedef struct
{
  CallLoop *cl;
  FakeTwilio *fake;
  GstElement *pipeline;
  GstElement *src;
  GstBus *bus;
  Pushed pushed;
} LoopCall;

static void
loop_call_start (LoopCall * c, const gchar * desc, const gchar * stream)
{
  c->cl = call_loop_start ();
  c->fake = call_loop_connect (c->cl);
  c->pipeline = gst_parse_launch (desc, NULL);
  fail_unless (c->pipeline != NULL);
  c->src = gst_bin_get_by_name (GST_BIN (c->pipeline), "src");
  c->bus = gst_element_get_bus (c->pipeline);
  set_loop_context (c->pipeline, c->cl);
  pushed_init (&c->pushed, c->src, c->cl);
  run_on_loop (c->cl, record_loop_thread, &c->pushed);
  hand_over (c->cl, c->src, stream);
}

static void
loop_call_finish (LoopCall * c)
{
  gst_object_unref (c->bus);
  gst_object_unref (c->src);
  gst_object_unref (c->pipeline);
  /* The stream closed the socket (1000) on the call loop. */
  fail_unless (fake_twilio_wait_closed (c->fake, DEADLINE));
  fake_twilio_free (c->fake);
  call_loop_stop (c->cl);
  pushed_clear (&c->pushed);
}

static void
send_call_start (FakeTwilio * fake)
{
  gchar *json = twilio_build_connected ();

  fake_twilio_send (fake, json);
  g_free (json);
  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);
}

/* A dtmf: once its bus message is there, everything sent
 * before it has been received by the stream. */
static void
sync_with_stream (LoopCall * c, guint seq)
{
  gchar *json = twilio_build_dtmf (seq, MZ, "5");

  fake_twilio_send (c->fake, json);
  g_free (json);
  gst_message_unref (wait_message (c->bus, "twilio-dtmf"));
}

GST_START_TEST (test_src_pushes_from_the_loop)
{
  LoopCall c = { NULL, };
  GstStateChangeReturn ret;
  GstMessage *msg;
  gchar *json;
  guint i;

  loop_call_start (&c, "twiliosrc name=src ! fakesink sync=false", "loop-src");

  /* Live: no preroll. The call starts while the pipeline is PAUSED. */
  ret = gst_element_set_state (c.pipeline, GST_STATE_PAUSED);
  fail_unless_equals_int (ret, GST_STATE_CHANGE_NO_PREROLL);
  send_call_start (c.fake);
  for (i = 0; i < 5; i++)
    send_media (c.fake, i + 2, i + 1, 20 * i, 0x10 + i, 160);
  sync_with_stream (&c, 7);
  /* Held while not PLAYING... */
  fail_unless_equals_int (pushed_bytes (&c.pushed), 0);

  /* ...and pushed, in order, once PLAYING; then the rest as it comes. */
  ret = gst_element_set_state (c.pipeline, GST_STATE_PLAYING);
  fail_if (ret == GST_STATE_CHANGE_FAILURE);
  wait_bytes (&c.pushed, 5 * 160);
  for (i = 5; i < 10; i++)
    send_media (c.fake, i + 3, i + 1, 20 * i, 0x10 + i, 160);
  json = twilio_build_stop (20, MZ, AC, CA);
  fake_twilio_send (c.fake, json);
  g_free (json);
  msg = wait_message (c.bus, NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);

  g_mutex_lock (&c.pushed.lock);
  fail_unless_equals_int (c.pushed.data->len, 10 * 160);
  for (i = 0; i < 10 * 160; i++)
    fail_unless_equals_int (c.pushed.data->data[i], 0x10 + i / 160);
  fail_unless (c.pushed.eos);
  fail_unless (c.pushed.loop_thread != NULL);
  fail_unless_equals_int (c.pushed.wrong_thread, 0);
  /* The held frames went out together (one push for the backlog). */
  fail_unless (c.pushed.buffers >= 2 && c.pushed.buffers <= 6,
      "%u buffers", c.pushed.buffers);
  fail_unless (GST_CLOCK_TIME_IS_VALID (c.pushed.first_pts));
  g_mutex_unlock (&c.pushed.lock);

  fail_unless_equals_int (gst_element_set_state (c.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  loop_call_finish (&c);
}

GST_END_TEST;

/* The caller keeps talking (one frame per millisecond) until stopped. */
typedef struct
{
  FakeTwilio *fake;
  gint stop;
  guint sent;
} Talker;

static gpointer
talker_thread (gpointer data)
{
  Talker *t = data;

  while (!g_atomic_int_get (&t->stop) && t->sent < 20000) {
    send_media (t->fake, t->sent + 2, t->sent + 1, 20 * t->sent,
        (guint8) t->sent, 160);
    t->sent++;
    g_usleep (1000);
  }
  return NULL;
}

static gboolean
set_null_cb (gpointer data)
{
  GstElement *pipeline = data;

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  return G_SOURCE_REMOVE;
}

/* Stops a call while audio flows, from the test thread or from the call
 * loop itself: no deadlock, nothing pushed after, no leak (sanitizers). */
static void
stop_while_flowing (gboolean from_loop)
{
  LoopCall c = { NULL, };
  Talker talker = { NULL, 0, 0 };
  GThread *thread;
  guint pushed_at_null;

  loop_call_start (&c, "twiliosrc name=src ! queue ! fakesink sync=false",
      "loop-stop");
  fail_if (gst_element_set_state (c.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  send_call_start (c.fake);
  talker.fake = c.fake;
  thread = g_thread_new ("talker", talker_thread, &talker);
  wait_bytes (&c.pushed, 30 * 160);

  if (from_loop)
    run_on_loop (c.cl, set_null_cb, c.pipeline);
  else
    set_null_cb (c.pipeline);

  g_mutex_lock (&c.pushed.lock);
  pushed_at_null = c.pushed.buffers;
  fail_unless_equals_int (c.pushed.wrong_thread, 0);
  g_mutex_unlock (&c.pushed.lock);
  /* The socket is closed by then; nothing is pushed after NULL. */
  g_atomic_int_set (&talker.stop, 1);
  g_thread_join (thread);
  fail_unless (fake_twilio_wait_closed (c.fake, DEADLINE));
  g_mutex_lock (&c.pushed.lock);
  fail_unless_equals_int (c.pushed.buffers, pushed_at_null);
  g_mutex_unlock (&c.pushed.lock);
  loop_call_finish (&c);
}

GST_START_TEST (test_stop_while_flowing_from_other_thread)
{
  stop_while_flowing (FALSE);
}

GST_END_TEST;

GST_START_TEST (test_stop_while_flowing_from_loop)
{
  stop_while_flowing (TRUE);
}

GST_END_TEST;

/* Without the context, the same handed-over connection is served by the
 * threaded default: buffers come from the element's own streaming thread. */
GST_START_TEST (test_threaded_without_context)
{
  CallLoop *cl = call_loop_start ();
  FakeTwilio *fake = call_loop_connect (cl);
  GstElement *pipeline = gst_parse_launch ("twiliosrc name=src ! fakesink "
      "sync=false", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstBus *bus = gst_element_get_bus (pipeline);
  Pushed pushed;
  GstMessage *msg;
  gchar *json;
  guint i;

  pushed_init (&pushed, src, cl);
  run_on_loop (cl, record_loop_thread, &pushed);
  hand_over (cl, src, "loop-threaded");
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  send_call_start (fake);
  for (i = 0; i < 4; i++)
    send_media (fake, i + 2, i + 1, 20 * i, 0x40 + i, 160);
  json = twilio_build_stop (20, MZ, AC, CA);
  fake_twilio_send (fake, json);
  g_free (json);
  msg = wait_message (bus, NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);

  g_mutex_lock (&pushed.lock);
  fail_unless_equals_int (pushed.data->len, 4 * 160);
  /* Every buffer and event came from the streaming thread. */
  fail_unless (pushed.calls > pushed.buffers);
  fail_unless_equals_int (pushed.wrong_thread, pushed.calls);
  g_mutex_unlock (&pushed.lock);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  fail_unless (fake_twilio_wait_closed (fake, DEADLINE));
  fake_twilio_free (fake);
  call_loop_stop (cl);
  pushed_clear (&pushed);
}

GST_END_TEST;

/* ---- twiliosink on the call loop ------------------------------------ */

static GstPadProbeReturn
sink_thread_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Pushed *p = user_data;

  g_mutex_lock (&p->lock);
  if (g_thread_self () != p->loop_thread)
    p->wrong_thread++;
  p->buffers++;
  g_mutex_unlock (&p->lock);
  return GST_PAD_PROBE_OK;
}

/* An echo: the caller's audio comes back through twiliosink, which is
 * called on the call loop and sends from there. */
GST_START_TEST (test_echo_on_the_loop)
{
  LoopCall c = { NULL, };
  GstElement *sink;
  GstPad *pad;
  Pushed at_sink;
  TwilioMessage *m;
  gsize media_bytes = 0;
  GstMessage *msg;
  gchar *json;
  guint i;

  loop_call_start (&c, "twiliosrc name=src ! twiliosink name=sink",
      "loop-echo");
  sink = gst_bin_get_by_name (GST_BIN (c.pipeline), "sink");
  g_object_set (sink, "stream", "loop-echo", NULL);
  memset (&at_sink, 0, sizeof (at_sink));
  g_mutex_init (&at_sink.lock);
  at_sink.loop_thread = c.pushed.loop_thread;
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sink_thread_probe,
      &at_sink, NULL);
  gst_object_unref (pad);

  fail_if (gst_element_set_state (c.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  send_call_start (c.fake);
  for (i = 0; i < 3; i++) {
    send_media (c.fake, i + 2, i + 1, 20 * i, 0x30 + i, 160);
    /* Each frame comes back as media + mark, in order. */
    m = pop_until (c.fake, TWILIO_EVENT_MARK, &media_bytes);
    fail_unless_equals_int (media_bytes, (i + 1) * 160);
    json = twilio_build_mark_echo (10 + i, MZ, m->mark_name);
    fake_twilio_send (c.fake, json);
    g_free (json);
    twilio_message_free (m);
    msg = wait_message (c.bus, "twilio-mark");
    gst_message_unref (msg);
  }

  g_mutex_lock (&at_sink.lock);
  fail_unless (at_sink.buffers >= 3);
  fail_unless_equals_int (at_sink.wrong_thread, 0);
  g_mutex_unlock (&at_sink.lock);

  fail_unless_equals_int (gst_element_set_state (c.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_mutex_clear (&at_sink.lock);
  gst_object_unref (sink);
  loop_call_finish (&c);
}

GST_END_TEST;

typedef struct
{
  GstHarness *h;
  FakeTwilio *fake;
  gchar *received;              /* what Twilio got while the loop was busy */
} InlineSend;

/* On the call loop: render a frame, then, without returning to the loop
 * (so no idle source could run), wait for Twilio to receive it. */
static gboolean
render_and_wait_cb (gpointer data)
{
  InlineSend *s = data;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 160, NULL);

  gst_buffer_memset (buf, 0, 0x55, 160);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 20 * GST_MSECOND;
  fail_unless_equals_int (gst_harness_push (s->h, buf), GST_FLOW_OK);
  s->received = fake_twilio_pop (s->fake, DEADLINE);
  return G_SOURCE_REMOVE;
}

GST_START_TEST (test_sink_sends_inline_on_the_loop)
{
  CallLoop *cl = call_loop_start ();
  FakeTwilio *fake = call_loop_connect (cl);
  GstElement *src = gst_element_factory_make ("twiliosrc", NULL);
  GstElement *sink = gst_element_factory_make ("twiliosink", NULL);
  GstBus *bus = gst_bus_new ();
  InlineSend s = { NULL, fake, NULL };
  TwilioMessage *m;

  gst_element_set_bus (src, bus);
  hand_over (cl, src, "loop-inline");
  g_object_set (sink, "stream", "loop-inline", NULL);
  set_loop_context (sink, cl);
  s.h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_harness_set_src_caps_str (s.h, "audio/x-mulaw, rate=8000, channels=1");
  send_call_start (fake);
  gst_message_unref (wait_message (bus, "twilio-start"));

  run_on_loop (cl, render_and_wait_cb, &s);
  fail_unless (s.received != NULL, "the sink did not send on the loop");
  m = twilio_message_parse (s.received, -1, TWILIO_PARSE_TO_TWILIO, NULL);
  fail_unless (m != NULL && m->event == TWILIO_EVENT_MEDIA);
  fail_unless_equals_int (g_bytes_get_size (m->payload), 160);
  twilio_message_free (m);
  m = pop_until (fake, TWILIO_EVENT_MARK, NULL);
  twilio_message_free (m);
  g_free (s.received);

  gst_harness_teardown (s.h);
  gst_object_unref (sink);
  gst_element_set_bus (src, NULL);
  gst_object_unref (src);
  gst_object_unref (bus);
  fail_unless (fake_twilio_wait_closed (fake, DEADLINE));
  fake_twilio_free (fake);
  call_loop_stop (cl);
}

GST_END_TEST;

static Suite *
twilio_loop_suite (void)
{
  Suite *s = suite_create ("twilio_loop");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_src_pushes_from_the_loop);
  tcase_add_test (tc, test_stop_while_flowing_from_other_thread);
  tcase_add_test (tc, test_stop_while_flowing_from_loop);
  tcase_add_test (tc, test_threaded_without_context);
  tcase_add_test (tc, test_echo_on_the_loop);
  tcase_add_test (tc, test_sink_sends_inline_on_the_loop);
  return s;
}

GST_CHECK_MAIN (twilio_loop);
