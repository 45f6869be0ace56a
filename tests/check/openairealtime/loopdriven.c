/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * openairealtimesrc/sink driven by an application's call loop: the
 * `gst-realtime-bridge.loop` GstContext (docs/design.md) set on a pipeline
 *   [feeder pad] ! openairealtimesink   openairealtimesrc ! fakesink
 * whose feeder pushes the caller's audio from the call loop. Checked
 * against the fake Realtime server: the caller's audio arrives complete and
 * in order; model audio that arrived before PLAYING is held and then comes
 * out complete and in order; every buffer and the barge-in flush are pushed
 * on the call loop thread; the barge-in truncates at the played position;
 * the pipeline goes to NULL cleanly while audio flows, from another thread
 * and from the call loop itself.
 */
#include <string.h>

#include "testutil.h"
#include "../common/testcallloop.h"

#define DELTA_BYTES 4800        /* 100 ms of PCM16 24 kHz */
#define FRAME_BYTES 960         /* 20 ms of PCM16 24 kHz */

/* ---- the caller's side: a pad pushing from the call loop -------------------- */

typedef struct
{
  GstPad *pad;
  TestCallLoop *call_loop;
  GSource *timer;
  guint8 counter;
  guint pushed;
  guint frames;                 /* 0: until stopped */
  gboolean started;
  gint wrong_thread;
} Feeder;

static gboolean
feeder_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    GstCaps *caps = gst_caps_from_string (PCM_CAPS);

    gst_query_set_caps_result (query, caps);
    gst_caps_unref (caps);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
feed_cb (gpointer data)
{
  Feeder *feeder = data;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, FRAME_BYTES, NULL);
  GstMapInfo map;
  gsize i;

  if (g_thread_self () != test_call_loop_get_thread (feeder->call_loop))
    g_atomic_int_inc (&feeder->wrong_thread);
  if (!feeder->started) {
    GstSegment segment;
    GstCaps *caps = gst_caps_from_string (PCM_CAPS);

    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (feeder->pad, gst_event_new_stream_start ("feeder"));
    gst_pad_push_event (feeder->pad, gst_event_new_caps (caps));
    gst_pad_push_event (feeder->pad, gst_event_new_segment (&segment));
    gst_caps_unref (caps);
    feeder->started = TRUE;
  }
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++)
    map.data[i] = feeder->counter++;
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = feeder->pushed * 20 * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = 20 * GST_MSECOND;
  /* openairealtimesink sends it right here, on the call loop */
  if (gst_pad_push (feeder->pad, buf) != GST_FLOW_OK)
    return G_SOURCE_CONTINUE;
  feeder->pushed++;
  return feeder->frames == 0 || feeder->pushed < feeder->frames ?
      G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
feeder_start_cb (gpointer data)
{
  Feeder *feeder = data;

  feeder->timer = g_timeout_source_new (5);
  g_source_set_callback (feeder->timer, feed_cb, feeder, NULL);
  g_source_attach (feeder->timer,
      test_call_loop_get_context (feeder->call_loop));
  return G_SOURCE_REMOVE;
}

static gboolean
feeder_stop_cb (gpointer data)
{
  Feeder *feeder = data;

  if (feeder->timer) {
    g_source_destroy (feeder->timer);
    g_source_unref (feeder->timer);
    feeder->timer = NULL;
  }
  return G_SOURCE_REMOVE;
}

static void
feeder_init (Feeder * feeder, TestCallLoop * call_loop, GstElement * sink,
    guint frames)
{
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");

  memset (feeder, 0, sizeof (*feeder));
  feeder->call_loop = call_loop;
  feeder->frames = frames;
  feeder->pad = gst_pad_new ("feeder", GST_PAD_SRC);
  gst_pad_set_query_function (feeder->pad, feeder_query);
  gst_pad_set_active (feeder->pad, TRUE);
  fail_unless_equals_int (gst_pad_link (feeder->pad, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
}

static void
feeder_clear (Feeder * feeder)
{
  GstPad *peer;

  test_call_loop_run (feeder->call_loop, feeder_stop_cb, feeder, WAIT_S);
  peer = gst_pad_get_peer (feeder->pad);
  if (peer) {
    gst_pad_unlink (feeder->pad, peer);
    gst_object_unref (peer);
  }
  gst_pad_set_active (feeder->pad, FALSE);
  gst_object_unref (feeder->pad);
}

/* ---- the model's side: what openairealtimesrc pushes ------------------------ */

typedef struct
{
  GMutex lock;
  GThread *loop_thread;
  GByteArray *audio;            /* model audio, GAP silence excluded */
  GArray *pts;                  /* GstClockTime of each audio buffer */
  GArray *offsets;              /* gsize: where each buffer starts in audio */
  gint gap_buffers;
  gint flush_starts;
  gint eos_events;
  gint wrong_thread;
  gint64 answer_played;         /* the played-position to answer, -1 none */
} Output;

static GstPadProbeReturn
output_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Output *out = data;

  gboolean pushed_data = (info->type & GST_PAD_PROBE_TYPE_BUFFER)
      || ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
      && GST_EVENT_IS_SERIALIZED (GST_PAD_PROBE_INFO_EVENT (info))
      && GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) !=
      GST_EVENT_STREAM_START
      && GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_CAPS
      && GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_SEGMENT)
      || GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
      GST_EVENT_FLUSH_START;

  g_mutex_lock (&out->lock);
  /* buffers and the barge-in's flush come from the call loop; the stream's
   * first sticky events come from the thread that set PAUSED, where the
   * source negotiates (so that the session knows its format early) */
  if (pushed_data && g_thread_self () != out->loop_thread)
    out->wrong_thread++;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
      out->gap_buffers++;
    } else {
      GstMapInfo map;
      GstClockTime pts = GST_BUFFER_PTS (buf);
      gsize offset = out->audio->len;

      gst_buffer_map (buf, &map, GST_MAP_READ);
      g_byte_array_append (out->audio, map.data, map.size);
      gst_buffer_unmap (buf, &map);
      g_array_append_val (out->pts, pts);
      g_array_append_val (out->offsets, offset);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_BOTH) {
    if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
        GST_EVENT_FLUSH_START)
      out->flush_starts++;
    else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
      out->eos_events++;
  }
  g_mutex_unlock (&out->lock);
  return GST_PAD_PROBE_OK;
}

/* What twiliosink answers: the end of what the caller heard. */
static GstPadProbeReturn
played_position_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Output *out = data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  gint64 played;

  g_mutex_lock (&out->lock);
  played = out->answer_played;
  g_mutex_unlock (&out->lock);
  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM && played >= 0
      && gst_structure_has_name (gst_query_get_structure (query),
          "played-position")) {
    gst_structure_set (gst_query_writable_structure (query), "position",
        G_TYPE_UINT64, (guint64) played, NULL);
    return GST_PAD_PROBE_HANDLED;
  }
  return GST_PAD_PROBE_OK;
}

static gsize
output_audio_size (Output * out)
{
  gsize size;

  g_mutex_lock (&out->lock);
  size = out->audio->len;
  g_mutex_unlock (&out->lock);
  return size;
}

/* Waits until at least @size bytes of model audio came out. */
static gboolean
wait_output (Output * out, gsize size)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  /* polled: the probe runs on the call loop, the test must not block it */
  while (output_audio_size (out) < size) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (2000);
  }
  return TRUE;
}

/* Waits until at least @n preroll silences came out. */
static gboolean
wait_gaps (Output * out, gint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  gint gaps = 0;

  while (gaps < n && g_get_monotonic_time () < deadline) {
    g_mutex_lock (&out->lock);
    gaps = out->gap_buffers;
    g_mutex_unlock (&out->lock);
    if (gaps < n)
      g_usleep (2000);
  }
  return gaps >= n;
}

static gboolean
wait_eos (Output * out)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  gint eos = 0;

  while (eos == 0 && g_get_monotonic_time () < deadline) {
    g_mutex_lock (&out->lock);
    eos = out->eos_events;
    g_mutex_unlock (&out->lock);
    if (eos == 0)
      g_usleep (2000);
  }
  return eos > 0;
}

/* ---- the call --------------------------------------------------------------- */

typedef struct
{
  FakeRealtime *server;
  TestCallLoop *call_loop;
  GstElement *pipeline;
  GstElement *rsink;
  GstBus *bus;
  Feeder feeder;
  Output out;
} LoopCallTest;

static void
loop_call_setup (LoopCallTest * t, const gchar * session, guint frames)
{
  const gchar *url;
  gchar *desc;
  GstElement *fakesink;
  GstPad *pad;
  GError *error = NULL;

  memset (t, 0, sizeof (*t));
  t->server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  t->call_loop = test_call_loop_start (NULL, NULL);
  url = fake_realtime_get_url (t->server);
  /* as the launcher does: no sink waits for the clock or in preroll, which
   * would block the call loop */
  desc = g_strdup_printf ("openairealtimesink name=rsink session=%s url=%s "
      "api-key=" TEST_KEY " async=false openairealtimesrc session=%s url=%s "
      "api-key=" TEST_KEY " ! fakesink name=out sync=false async=false",
      session, url, session, url);
  t->pipeline = gst_parse_launch (desc, &error);
  fail_unless (t->pipeline != NULL && error == NULL, "%s",
      error ? error->message : "");
  g_free (desc);
  t->bus = gst_element_get_bus (t->pipeline);
  t->rsink = gst_bin_get_by_name (GST_BIN (t->pipeline), "rsink");

  g_mutex_init (&t->out.lock);
  t->out.loop_thread = test_call_loop_get_thread (t->call_loop);
  t->out.audio = g_byte_array_new ();
  t->out.pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  t->out.offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  t->out.answer_played = -1;
  fakesink = gst_bin_get_by_name (GST_BIN (t->pipeline), "out");
  pad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_BOTH | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      output_probe, &t->out, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      played_position_probe, &t->out, NULL);
  gst_object_unref (pad);
  gst_object_unref (fakesink);

  feeder_init (&t->feeder, t->call_loop, t->rsink, frames);
  test_call_loop_set_context (t->call_loop, t->pipeline);
}

static void
loop_call_teardown (LoopCallTest * t)
{
  feeder_clear (&t->feeder);
  gst_object_unref (t->rsink);
  gst_bus_set_flushing (t->bus, TRUE);
  gst_object_unref (t->bus);
  gst_object_unref (t->pipeline);
  test_call_loop_stop (t->call_loop, NULL, NULL);
  fake_realtime_free (t->server);
  g_byte_array_unref (t->out.audio);
  g_array_unref (t->out.pts);
  g_array_unref (t->out.offsets);
  g_mutex_clear (&t->out.lock);
}

static void
send_delta (FakeRealtime * server, const gchar * response_id,
    const gchar * item_id, guint8 * counter)
{
  guint8 data[DELTA_BYTES];
  gsize i;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (*counter)++;
  fake_realtime_send (server, realtime_build_output_audio_delta (response_id,
          item_id, data, sizeof (data)));
}

static void
assert_counter_pattern (const guint8 * data, gsize size, guint8 first)
{
  gsize i;

  for (i = 0; i < size; i++) {
    if (data[i] != (guint8) (first + i))
      fail ("byte %" G_GSIZE_FORMAT " is %u, expected %u: lost, duplicated "
          "or reordered audio", i, data[i], (guint8) (first + i));
  }
}

/* The whole call on the loop: audio both ways, audio held until PLAYING,
 * barge-in, and NULL from another thread while audio flows. */
GST_START_TEST (test_loop_driven_call)
{
  LoopCallTest t;
  GstStructure *s;
  GBytes *appended;
  RealtimeClientEvent *truncate;
  guint8 model_counter = 0, second_counter = 0x40;
  GstClockTime item_b_start = GST_CLOCK_TIME_NONE;
  gsize item_a_bytes = 10 * DELTA_BYTES, size;
  guint i;

  loop_call_setup (&t, "loopcall", 50);

  /* PAUSED: the session is set up (the source negotiated in PAUSED, the
   * sink learnt its format from upstream), the source pushes nothing */
  fail_if (gst_element_set_state (t.pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  s = wait_message (t.bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL, "no session.updated while PAUSED");
  fail_unless_equals_string (gst_structure_get_string (s, "output-format"),
      "audio/pcm");
  gst_structure_free (s);

  /* (c) an answer arrives before PLAYING: it is held, not lost */
  fake_realtime_send (t.server, realtime_build_speech_stopped (900, "u1"));
  fake_realtime_send (t.server, realtime_build_response_created ("resp_A"));
  for (i = 0; i < 10; i++)
    send_delta (t.server, "resp_A", "item_A", &model_counter);
  fake_realtime_send (t.server, realtime_build_response_done ("resp_A",
          "completed", NULL, 1, 2));
  s = wait_message (t.bus, "realtime-response-done", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  fail_unless_equals_int (output_audio_size (&t.out), 0);

  fail_if (gst_element_set_state (t.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  test_call_loop_run (t.call_loop, feeder_start_cb, &t.feeder, WAIT_S);

  /* (a) the held answer comes out complete and in order */
  fail_unless (wait_output (&t.out, item_a_bytes), "only %" G_GSIZE_FORMAT
      " bytes of model audio came out", output_audio_size (&t.out));
  /* the caller's 50 frames reach the model complete and in order */
  appended = fake_realtime_wait_audio (t.server, 50 * FRAME_BYTES, WAIT_S);
  fail_unless_equals_int (g_bytes_get_size (appended), 50 * FRAME_BYTES);
  assert_counter_pattern (g_bytes_get_data (appended, NULL),
      g_bytes_get_size (appended), 0);
  g_bytes_unref (appended);

  /* barge-in while the next answer plays (3 s of audio, pushed at once) */
  fake_realtime_send (t.server, realtime_build_response_created ("resp_B"));
  for (i = 0; i < 30; i++)
    send_delta (t.server, "resp_B", "item_B", &model_counter);
  fail_unless (wait_output (&t.out, item_a_bytes + 30 * DELTA_BYTES));
  g_mutex_lock (&t.out.lock);
  for (i = 0; i < t.out.offsets->len; i++) {
    if (g_array_index (t.out.offsets, gsize, i) == item_a_bytes)
      item_b_start = g_array_index (t.out.pts, GstClockTime, i);
  }
  fail_unless (GST_CLOCK_TIME_IS_VALID (item_b_start));
  t.out.answer_played = item_b_start + 700 * GST_MSECOND;
  g_mutex_unlock (&t.out.lock);
  fake_realtime_send (t.server, realtime_build_speech_started (4000, "u2"));
  truncate = fake_realtime_wait_event (t.server, "conversation.item.truncate",
      0, WAIT_S);
  fail_unless (truncate != NULL, "no truncate after the barge-in");
  fail_unless_equals_string (truncate->item_id, "item_B");
  fail_unless_equals_int64 (truncate->audio_end_ms, 700);
  realtime_client_event_free (truncate);
  s = wait_message (t.bus, "realtime-truncated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);

  /* the flush lost the sinks' preroll: silence again, from the loop */
  fail_unless (wait_gaps (&t.out, 1));

  g_mutex_lock (&t.out.lock);
  fail_unless_equals_int (t.out.gap_buffers, 1);
  size = t.out.audio->len;
  fail_unless_equals_int (size, item_a_bytes + 30 * DELTA_BYTES);
  assert_counter_pattern (t.out.audio->data, size, 0);
  fail_unless_equals_int (t.out.flush_starts, 1);
  /* (b) everything downstream of the source happened on the call loop */
  fail_unless_equals_int (t.out.wrong_thread, 0);
  g_mutex_unlock (&t.out.lock);
  fail_unless_equals_int (g_atomic_int_get (&t.feeder.wrong_thread), 0);

  /* (d) NULL from this thread while both directions flow */
  test_call_loop_run (t.call_loop, feeder_stop_cb, &t.feeder, WAIT_S);
  t.feeder.frames = 0;
  test_call_loop_run (t.call_loop, feeder_start_cb, &t.feeder, WAIT_S);
  fake_realtime_send (t.server, realtime_build_response_created ("resp_C"));
  for (i = 0; i < 20; i++)
    send_delta (t.server, "resp_C", "item_C", &second_counter);
  fail_unless_equals_int (gst_element_set_state (t.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_mutex_lock (&t.out.lock);
  fail_unless_equals_int (t.out.wrong_thread, 0);
  g_mutex_unlock (&t.out.lock);

  loop_call_teardown (&t);
}

GST_END_TEST;

/* At PLAYING with nothing to play, the source pushes the preroll silence
 * from the loop. */
GST_START_TEST (test_loop_driven_preroll)
{
  LoopCallTest t;
  GstState state, pending;
  gint gaps;

  loop_call_setup (&t, "looppreroll", 5);
  fail_if (gst_element_set_state (t.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  test_call_loop_run (t.call_loop, feeder_start_cb, &t.feeder, WAIT_S);
  /* both sinks prerolled: the pipeline is PLAYING */
  fail_unless_equals_int (gst_element_get_state (t.pipeline, &state,
          &pending, WAIT_S * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (state, GST_STATE_PLAYING);
  fail_unless (wait_gaps (&t.out, 1));
  g_mutex_lock (&t.out.lock);
  gaps = t.out.gap_buffers;
  fail_unless_equals_int (t.out.wrong_thread, 0);
  fail_unless_equals_int (t.out.audio->len, 0);
  g_mutex_unlock (&t.out.lock);
  fail_unless_equals_int (gaps, 1);

  fail_unless_equals_int (gst_element_set_state (t.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  loop_call_teardown (&t);
}

GST_END_TEST;

/* An EOS sent to the pipeline (what the launcher does at hang-up) leaves
 * the source from the call loop, once. */
GST_START_TEST (test_loop_driven_eos_sent)
{
  LoopCallTest t;

  loop_call_setup (&t, "loopeos", 5);
  fail_if (gst_element_set_state (t.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_unless (wait_gaps (&t.out, 1));
  fail_unless (gst_element_send_event (t.pipeline, gst_event_new_eos ()));
  fail_unless (wait_eos (&t.out));
  g_mutex_lock (&t.out.lock);
  fail_unless_equals_int (t.out.eos_events, 1);
  fail_unless_equals_int (t.out.wrong_thread, 0);
  g_mutex_unlock (&t.out.lock);

  fail_unless_equals_int (gst_element_set_state (t.pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  loop_call_teardown (&t);
}

GST_END_TEST;

typedef struct
{
  GstElement *pipeline;
  Feeder *feeder;
  GstStateChangeReturn ret;
} StopOnLoop;

/* What an application does when the call ends on its loop. */
static gboolean
stop_on_loop_cb (gpointer data)
{
  StopOnLoop *stop = data;

  stop->ret = gst_element_set_state (stop->pipeline, GST_STATE_NULL);
  feeder_stop_cb (stop->feeder);
  return G_SOURCE_REMOVE;
}

/* NULL from the call loop itself while audio flows both ways: nothing on
 * the loop may wait for the loop. */
GST_START_TEST (test_loop_driven_stop_on_loop)
{
  LoopCallTest t;
  StopOnLoop stop;
  GstStructure *s;
  guint8 counter = 0;
  GBytes *appended;
  guint i;

  loop_call_setup (&t, "loopstop", 0);
  fail_if (gst_element_set_state (t.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  s = wait_message (t.bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  test_call_loop_run (t.call_loop, feeder_start_cb, &t.feeder, WAIT_S);
  fake_realtime_send (t.server, realtime_build_response_created ("resp_S"));
  for (i = 0; i < 5; i++)
    send_delta (t.server, "resp_S", "item_S", &counter);
  fail_unless (wait_output (&t.out, 5 * DELTA_BYTES));
  appended = fake_realtime_wait_audio (t.server, 10 * FRAME_BYTES, WAIT_S);
  fail_unless (g_bytes_get_size (appended) >= 10 * FRAME_BYTES);
  g_bytes_unref (appended);
  for (i = 0; i < 20; i++)
    send_delta (t.server, "resp_S", "item_S", &counter);

  stop.pipeline = t.pipeline;
  stop.feeder = &t.feeder;
  stop.ret = GST_STATE_CHANGE_FAILURE;
  test_call_loop_run (t.call_loop, stop_on_loop_cb, &stop, WAIT_S);
  fail_unless_equals_int (stop.ret, GST_STATE_CHANGE_SUCCESS);
  g_mutex_lock (&t.out.lock);
  fail_unless_equals_int (t.out.wrong_thread, 0);
  assert_counter_pattern (t.out.audio->data, t.out.audio->len, 0);
  g_mutex_unlock (&t.out.lock);

  /* and it starts again on the same loop */
  fail_if (gst_element_set_state (t.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_unless (fake_realtime_wait_connections (t.server, 2, WAIT_S));
  s = wait_message (t.bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  test_call_loop_run (t.call_loop, stop_on_loop_cb, &stop, WAIT_S);
  fail_unless_equals_int (stop.ret, GST_STATE_CHANGE_SUCCESS);

  loop_call_teardown (&t);
}

GST_END_TEST;

static Suite *
openairealtime_loopdriven_suite (void)
{
  Suite *s = suite_create ("openairealtime_loopdriven");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_loop_driven_call);
  tcase_add_test (tc, test_loop_driven_preroll);
  tcase_add_test (tc, test_loop_driven_stop_on_loop);
  tcase_add_test (tc, test_loop_driven_eos_sent);
  return s;
}

GST_CHECK_MAIN (openairealtime_loopdriven);
