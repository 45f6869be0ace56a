/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * twiliosrc and twiliosink against a loopback client playing Twilio.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <string.h>

#include "faketwilio.h"
#include "twilioprotocol.h"
#include "twiliotestutil.h"

static void
check_payload (GstBuffer * buf, gsize offset, gsize len, guint8 value)
{
  GstMapInfo map;
  gsize i;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless (map.size >= offset + len);
  for (i = offset; i < offset + len; i++)
    fail_unless_equals_int (map.data[i], value);
  gst_buffer_unmap (buf, &map);
}

GST_START_TEST (test_src_call)
{
  GstBus *bus = gst_bus_new ();
  gint port;
  GstHarness *h = make_src_harness ("call", bus, &port);
  FakeTwilio *fake = fake_twilio_connect (port, "/call", NULL);
  const GstStructure *s, *params;
  gchar *json;
  GstMessage *msg;
  GstBuffer *buf;
  GstEvent *event;
  const gchar *const *tracks;
  gint rate;

  fail_unless (fake_twilio_is_connected (fake));
  json = twilio_build_connected ();
  fake_twilio_send (fake, json);
  g_free (json);
  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);
  send_media (fake, 2, 1, 155, 0x11, 160);
  send_media (fake, 3, 2, 175, 0x22, 160);
  /* 195 and 215 are missing: 40 ms of silence come first. */
  send_media (fake, 4, 3, 235, 0x33, 160);
  json = twilio_build_dtmf (5, MZ, "7");
  fake_twilio_send (fake, json);
  g_free (json);

  msg = wait_message (bus, "twilio-connected");
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "protocol"), "Call");
  fail_unless_equals_string (gst_structure_get_string (s, "version"), "1.0.0");
  gst_message_unref (msg);

  msg = wait_message (bus, "twilio-start");
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "account-sid"), AC);
  fail_unless_equals_string (gst_structure_get_string (s, "call-sid"), CA);
  fail_unless_equals_string (gst_structure_get_string (s, "stream-sid"), MZ);
  fail_unless_equals_string (gst_structure_get_string (s, "encoding"),
      "audio/x-mulaw");
  fail_unless (gst_structure_get_int (s, "sample-rate", &rate));
  fail_unless_equals_int (rate, 8000);
  tracks = g_value_get_boxed (gst_structure_get_value (s, "tracks"));
  fail_unless_equals_string (tracks[0], "inbound");
  fail_unless (gst_structure_get (s, "custom-parameters", GST_TYPE_STRUCTURE,
          &params, NULL));
  fail_unless (gst_structure_has_name (params, "custom-parameters"));
  fail_unless_equals_string (gst_structure_get_string (params, "token"), "abc");
  fail_unless_equals_string (gst_structure_get_string (params, "caller"),
      "+1555");
  gst_structure_free ((GstStructure *) params);
  gst_message_unref (msg);

  buf = gst_harness_pull (h);
  fail_unless (buf != NULL);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 0);
  check_payload (buf, 0, 160, 0x11);
  if (gst_buffer_get_size (buf) == 160) {
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 20 * GST_MSECOND);
    gst_buffer_unref (buf);
    buf = gst_harness_pull (h);
    fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 20 * GST_MSECOND);
    fail_unless_equals_int (gst_buffer_get_size (buf), 160);
    check_payload (buf, 0, 160, 0x22);
  } else {
    /* Both frames were queued when the streaming thread woke: one buffer. */
    fail_unless_equals_int (gst_buffer_get_size (buf), 320);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 40 * GST_MSECOND);
    check_payload (buf, 160, 160, 0x22);
  }
  gst_buffer_unref (buf);

  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 40 * GST_MSECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 60 * GST_MSECOND);
  fail_unless_equals_int (gst_buffer_get_size (buf), 480);
  check_payload (buf, 0, 320, 0xFF);
  check_payload (buf, 320, 160, 0x33);
  gst_buffer_unref (buf);

  msg = wait_message (bus, "twilio-dtmf");
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "digit"), "7");
  fail_unless_equals_string (gst_structure_get_string (s, "stream-sid"), MZ);
  gst_message_unref (msg);

  /* LATENCY: live, at least one frame. */
  {
    GstQuery *q = gst_query_new_latency ();
    gboolean live;
    GstClockTime min, max;

    fail_unless (gst_element_query (h->element, q));
    gst_query_parse_latency (q, &live, &min, &max);
    fail_unless (live);
    fail_unless (min >= 20 * GST_MSECOND);
    gst_query_unref (q);
  }

  json = twilio_build_stop (6, MZ, AC, CA);
  fake_twilio_send (fake, json);
  g_free (json);
  msg = wait_message (bus, "twilio-stop");
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "call-sid"), CA);
  gst_message_unref (msg);

  while ((event = gst_harness_pull_event (h))) {
    GstEventType type = GST_EVENT_TYPE (event);

    gst_event_unref (event);
    if (type == GST_EVENT_EOS)
      break;
  }
  fail_unless (event != NULL, "no EOS after stop");

  gst_harness_teardown (h);
  /* Stopping the element closes the socket. */
  fail_unless (fake_twilio_wait_closed (fake, DEADLINE));
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

static GstPadProbeReturn
collect_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_async_queue_push (user_data,
      gst_buffer_ref (GST_PAD_PROBE_INFO_BUFFER (info)));
  return GST_PAD_PROBE_OK;
}

static GstBuffer *
pop_collected (GAsyncQueue * collected)
{
  GstBuffer *buf = g_async_queue_timeout_pop (collected,
      DEADLINE * G_TIME_SPAN_SECOND);

  fail_unless (buf != NULL, "no buffer from twiliosrc");
  return buf;
}

/* Media queued while the streaming thread is not pulling (here: before
 * PLAYING) is handed over in one batch, and contiguous frames leave as one
 * buffer of at most 200 ms with the timestamps they would have had one by
 * one; a gap still starts a buffer of its own. */
GST_START_TEST (test_src_merges_queued_media)
{
  GstBus *bus = gst_bus_new ();
  GstElement *pipeline = gst_parse_launch ("twiliosrc name=src port=0 "
      "address=127.0.0.1 stream=merge ! fakesink sync=false", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstPad *srcpad = gst_element_get_static_pad (src, "src");
  GAsyncQueue *collected =
      g_async_queue_new_full ((GDestroyNotify) gst_buffer_unref);
  GstClockTime first_pts;
  GstBuffer *buf;
  FakeTwilio *fake;
  gchar *json;
  gint port;
  guint i;

  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER, collect_buffer,
      g_async_queue_ref (collected), (GDestroyNotify) g_async_queue_unref);
  gst_element_set_bus (pipeline, bus);
  /* Live: PAUSED starts the server but not the streaming thread. */
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  g_object_get (src, "current-port", &port, NULL);
  fail_unless (port > 0);
  fake = fake_twilio_connect (port, "/call", NULL);
  fail_unless (fake_twilio_is_connected (fake));
  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);
  /* 12 contiguous frames (240 ms), then one after a 40 ms gap. */
  for (i = 0; i < 12; i++)
    send_media (fake, 2 + i, 1 + i, 20 * i, 0x10 + i, 160);
  send_media (fake, 14, 13, 20 * 14, 0x77, 160);
  /* Messages are handled in order: once the DTMF is on the bus, every
   * media before it is queued. */
  json = twilio_build_dtmf (15, MZ, "1");
  fake_twilio_send (fake, json);
  g_free (json);
  gst_message_unref (wait_message (bus, "twilio-dtmf"));

  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  buf = pop_collected (collected);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_int (gst_buffer_get_size (buf), 1600);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), 0);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), 1600);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 200 * GST_MSECOND);
  for (i = 0; i < 10; i++)
    check_payload (buf, 160 * i, 160, 0x10 + i);
  first_pts = GST_BUFFER_PTS (buf);
  gst_buffer_unref (buf);

  buf = pop_collected (collected);
  fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_int (gst_buffer_get_size (buf), 320);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), 1600);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), first_pts +
      200 * GST_MSECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 40 * GST_MSECOND);
  check_payload (buf, 0, 160, 0x1a);
  check_payload (buf, 160, 160, 0x1b);
  gst_buffer_unref (buf);

  /* The frame after the gap: filled with silence, in a buffer of its own
   * that starts exactly where the merged ones ended. */
  buf = pop_collected (collected);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), 1920);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), first_pts +
      240 * GST_MSECOND);
  fail_unless_equals_int (gst_buffer_get_size (buf), 480);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 60 * GST_MSECOND);
  check_payload (buf, 0, 320, 0xFF);
  check_payload (buf, 320, 160, 0x77);
  gst_buffer_unref (buf);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless (fake_twilio_wait_closed (fake, DEADLINE));
  fake_twilio_free (fake);
  gst_object_unref (srcpad);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  g_async_queue_unref (collected);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_src_rejects_media_format)
{
  GstBus *bus = gst_bus_new ();
  gint port;
  GstHarness *h = make_src_harness ("format", bus, &port);
  FakeTwilio *fake = fake_twilio_connect (port, "/call", NULL);
  gchar *json = start_json ("audio/x-alaw", 16000);
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  fake_twilio_send (fake, json);
  g_free (json);
  msg = wait_message (bus, NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (g_error_matches (err, GST_STREAM_ERROR,
          GST_STREAM_ERROR_FORMAT));
  fail_unless (strstr (debug, "audio/x-alaw") != NULL, "%s", debug);
  fail_unless (strstr (debug, "16000") != NULL, "%s", debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  gst_harness_teardown (h);
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_src_survives_garbage)
{
  const gchar *garbage[] = {
    "not json at all",
    "{\"event\":\"bogus\",\"streamSid\":\"" MZ "\"}",
    "{\"event\":\"media\",\"media\":{\"payload\":\"%%%%\"}}",
    "{\"event\":\"media\",\"media\":{\"payload\":42}}",
    "[1,2,3]",
    "{\"event\":\"mark\",\"mark\":{\"name\":\"never-sent\"}}",
  };
  GstBus *bus = gst_bus_new ();
  gint port;
  GstHarness *h;
  FakeTwilio *fake;
  GstElement *src = gst_element_factory_make ("twiliosrc", NULL);
  gchar *json, *big;
  guint i, warnings = 0;
  GstBuffer *buf;

  g_object_set (src, "port", 0, "address", "127.0.0.1", "stream", "garbage",
      "max-message-size", 4096, NULL);
  gst_element_set_bus (src, bus);
  h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  gst_harness_play (h);
  g_object_get (h->element, "current-port", &port, NULL);
  fake = fake_twilio_connect (port, "/call", NULL);
  fail_unless (fake_twilio_is_connected (fake));

  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);
  for (i = 0; i < G_N_ELEMENTS (garbage); i++)
    fake_twilio_send (fake, garbage[i]);
  fake_twilio_send_binary (fake, 64);
  big = g_strnfill (10000, 'x');
  fake_twilio_send (fake, big);
  g_free (big);
  send_media (fake, 2, 1, 20, 0x44, 160);

  /* The call goes on: the media after the garbage arrives. */
  buf = gst_harness_pull (h);
  fail_unless (buf != NULL);
  check_payload (buf, 0, 160, 0x44);
  gst_buffer_unref (buf);

  while (warnings < G_N_ELEMENTS (garbage) + 2) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus,
        DEADLINE * GST_SECOND, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
    GError *err = NULL;
    gchar *debug = NULL;

    fail_unless (msg != NULL, "only %u warnings", warnings);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_WARNING);
    gst_message_parse_warning (msg, &err, &debug);
    GST_INFO ("warning: %s (%s)", err->message, debug);
    fail_unless (debug != NULL && *debug);
    if (warnings == G_N_ELEMENTS (garbage))
      fail_unless (strstr (debug, "binary") != NULL, "%s", debug);
    if (warnings == G_N_ELEMENTS (garbage) + 1)
      fail_unless (strstr (debug, "10000") != NULL, "%s", debug);
    g_clear_error (&err);
    g_free (debug);
    gst_message_unref (msg);
    warnings++;
  }

  gst_harness_teardown (h);
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_src_signature)
{
  const gchar *token = "s3cr3t-auth-token";
  const gchar *url = "wss://bridge.example.com/call";
  GstBus *bus = gst_bus_new ();
  GstElement *src = gst_element_factory_make ("twiliosrc", NULL);
  GstHarness *h;
  FakeTwilio *fake;
  gchar *good, *value = NULL;
  gint port;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  g_object_set (src, "port", 0, "address", "127.0.0.1", "stream", "signed",
      "auth-token", token, "public-url", url, NULL);
  /* Write-only: the token cannot be read back. */
  fail_if (g_object_class_find_property (G_OBJECT_GET_CLASS (src),
          "auth-token")->flags & G_PARAM_READABLE);
  gst_element_set_bus (src, bus);
  h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  gst_harness_play (h);
  g_object_get (h->element, "current-port", &port, NULL);

  fake = fake_twilio_connect (port, "/call", NULL);
  fail_if (fake_twilio_is_connected (fake));
  fail_unless_equals_int (fake_twilio_get_status (fake), 403);
  fake_twilio_free (fake);

  fake = fake_twilio_connect (port, "/call", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  fail_if (fake_twilio_is_connected (fake));
  fail_unless_equals_int (fake_twilio_get_status (fake), 403);
  fake_twilio_free (fake);

  msg = gst_bus_timed_pop_filtered (bus, DEADLINE * GST_SECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, &debug);
  fail_unless (strstr (debug, "403") != NULL);
  fail_if (strstr (debug, token) != NULL, "the token leaked: %s", debug);
  fail_if (strstr (err->message, token) != NULL);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  good = twilio_signature_compute (token, url, NULL, 0);
  fake = fake_twilio_connect (port, "/call", good);
  fail_unless (fake_twilio_is_connected (fake));
  fake_twilio_free (fake);
  g_free (good);

  g_object_get (h->element, "public-url", &value, NULL);
  fail_unless_equals_string (value, url);
  g_free (value);

  gst_harness_teardown (h);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_src_eos_on_close)
{
  GstBus *bus = gst_bus_new ();
  gint port, code;
  GstHarness *h = make_src_harness ("close", bus, &port);
  FakeTwilio *fake = fake_twilio_connect (port, "/call", NULL);
  gchar *json = start_json ("audio/x-mulaw", 8000);
  GstMessage *msg;
  GstEvent *event;

  fake_twilio_send (fake, json);
  g_free (json);
  send_media (fake, 2, 1, 20, 0x55, 160);
  fake_twilio_close (fake, 1001);

  msg = wait_message (bus, "twilio-closed");
  fail_unless (gst_structure_get_int (gst_message_get_structure (msg), "code",
          &code));
  fail_unless_equals_int (code, 1001);
  gst_message_unref (msg);

  /* Audio that came before the close is still delivered, then EOS. */
  gst_buffer_unref (gst_harness_pull (h));
  while ((event = gst_harness_pull_event (h))) {
    GstEventType type = GST_EVENT_TYPE (event);

    gst_event_unref (event);
    if (type == GST_EVENT_EOS)
      break;
  }
  fail_unless (event != NULL);

  gst_harness_teardown (h);
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_echo_pipeline)
{
  GstElement *pipeline = gst_parse_launch ("twiliosrc name=src port=0 "
      "address=127.0.0.1 stream=echo ! queue ! twiliosink stream=echo "
      "mark-interval=100", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  FakeTwilio *fake;
  gchar *json;
  gint port;
  guint i, marks = 0;
  gsize media_bytes = 0;
  GstMessage *msg;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  g_object_get (src, "current-port", &port, NULL);
  fail_unless (port > 0);
  fake = fake_twilio_connect (port, "/call", NULL);
  fail_unless (fake_twilio_is_connected (fake));

  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);
  /* 10 x 20 ms frames come back as 160-byte media messages. */
  for (i = 0; i < 10; i++)
    send_media (fake, i + 2, i + 1, 20 * i, 0x60 + i, 160);

  while (media_bytes < 1600) {
    gsize before = media_bytes;
    TwilioMessage *m = pop_until (fake, TWILIO_EVENT_MARK, &media_bytes);

    /* A mark after at most mark-interval (100 ms) of 20 ms frames. */
    fail_unless (media_bytes > before && media_bytes - before <= 800,
        "%" G_GSIZE_FORMAT " bytes before a mark", media_bytes - before);

    /* Twilio plays, then echoes the mark. */
    json = twilio_build_mark_echo (100 + marks, MZ, m->mark_name);
    fake_twilio_send (fake, json);
    g_free (json);
    twilio_message_free (m);
    marks++;
  }
  fail_unless_equals_int (media_bytes, 1600);
  fail_unless (marks >= 2);

  for (i = 0; i < marks; i++) {
    gboolean played = FALSE;

    msg = wait_message (bus, "twilio-mark");
    fail_unless (gst_structure_get_boolean (gst_message_get_structure (msg),
            "played", &played));
    fail_unless (played);
    gst_message_unref (msg);
  }

  json = twilio_build_stop (50, MZ, AC, CA);
  fake_twilio_send (fake, json);
  g_free (json);
  msg = gst_bus_timed_pop_filtered (bus, DEADLINE * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (fake_twilio_wait_closed (fake, DEADLINE));
  fake_twilio_free (fake);
  gst_object_unref (src);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static GstBuffer *
frame_buffer (guint index, gsize size)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, 0x10 + index, size);
  GST_BUFFER_PTS (buf) = index * 20 * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = size * GST_SECOND / 8000;
  return buf;
}

static GstClockTime
query_position (GstElement * sink)
{
  gint64 pos = -1;

  if (!gst_element_query_position (sink, GST_FORMAT_TIME, &pos))
    return GST_CLOCK_TIME_NONE;
  return pos;
}

GST_START_TEST (test_sink_marks_position_clear)
{
  GstBus *bus = gst_bus_new ();
  gint port;
  GstHarness *hsrc = make_src_harness ("barge", bus, &port);
  GstHarness *hsink = gst_harness_new_parse ("twiliosink stream=barge");
  FakeTwilio *fake;
  TwilioMessage *marks[5];
  gchar *json;
  guint i;
  gsize media_bytes = 0;
  GstMessage *msg;
  guint64 played_position;
  gint64 deadline;

  gst_element_set_bus (hsink->element, bus);
  gst_harness_set_src_caps_str (hsink, "audio/x-mulaw, rate=8000, channels=1");

  /* Audio before the call is held. */
  for (i = 0; i < 5; i++)
    fail_unless_equals_int (gst_harness_push (hsink, frame_buffer (i, 160)),
        GST_FLOW_OK);
  /* Nothing sent yet: nothing heard. */
  fail_unless_equals_uint64 (query_position (hsink->element), 0);

  fake = fake_twilio_connect (port, "/call", NULL);
  fail_unless (fake_twilio_is_connected (fake));
  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);

  for (i = 0; i < 5; i++)
    marks[i] = pop_until (fake, TWILIO_EVENT_MARK, &media_bytes);
  fail_unless_equals_int (media_bytes, 800);
  /* Just sent: the caller is hearing the first frame (the position is
   * extrapolated from the start of the audio up to the first mark). */
  fail_unless (query_position (hsink->element) <= 20 * GST_MSECOND);

  /* The caller has heard two frames. */
  for (i = 0; i < 2; i++) {
    json = twilio_build_mark_echo (10 + i, MZ, marks[i]->mark_name);
    fake_twilio_send (fake, json);
    g_free (json);
  }
  for (i = 0; i < 2; i++)
    gst_message_unref (wait_message (bus, "twilio-mark"));
  deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;
  while (query_position (hsink->element) < 40 * GST_MSECOND
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  /* ...and is hearing the third now: at most one frame further. */
  fail_unless (query_position (hsink->element) >= 40 * GST_MSECOND
      && query_position (hsink->element) <= 60 * GST_MSECOND);

  /* Barge-in. */
  fail_unless (gst_harness_push_event (hsink, gst_event_new_flush_start ()));
  {
    TwilioMessage *clear = pop_until (fake, TWILIO_EVENT_CLEAR, NULL);
    twilio_message_free (clear);
  }
  msg = wait_message (bus, "twilio-clear");
  fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
          "played-position", &played_position));
  fail_unless (played_position >= 40 * GST_MSECOND
      && played_position <= 60 * GST_MSECOND);
  gst_message_unref (msg);

  /* Twilio echoes the cleared marks at once: not played. */
  for (i = 2; i < 5; i++) {
    gboolean played = TRUE;

    json = twilio_build_mark_echo (10 + i, MZ, marks[i]->mark_name);
    fake_twilio_send (fake, json);
    g_free (json);
    msg = wait_message (bus, "twilio-mark");
    fail_unless_equals_string (gst_structure_get_string
        (gst_message_get_structure (msg), "name"), marks[i]->mark_name);
    fail_unless (gst_structure_get_boolean (gst_message_get_structure (msg),
            "played", &played));
    fail_if (played);
    gst_message_unref (msg);
  }
  /* After the clear the position stays what it was when it went out. */
  fail_unless_equals_uint64 (query_position (hsink->element), played_position);
  fail_unless (gst_harness_push_event (hsink, gst_event_new_flush_stop (TRUE)));

  for (i = 0; i < 5; i++)
    twilio_message_free (marks[i]);
  gst_harness_teardown (hsink);
  gst_harness_teardown (hsrc);
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

typedef struct
{
  GstHarness *h;
  gboolean done;
  gboolean arrived;
} EosPush;

static GstPadProbeReturn
eos_arrived (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  EosPush *p = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    g_atomic_int_set (&p->arrived, TRUE);
  return GST_PAD_PROBE_OK;
}

static gpointer
push_eos (gpointer user_data)
{
  EosPush *p = user_data;

  gst_harness_push_event (p->h, gst_event_new_eos ());
  g_atomic_int_set (&p->done, TRUE);
  return NULL;
}

/* Blocking waits wake on unlock: a source with no peer, and a sink holding
 * EOS for audio that cannot be played, both go to NULL at once. */
GST_START_TEST (test_state_change_while_blocked)
{
  GstElement *src = gst_element_factory_make ("twiliosrc", NULL);
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstHarness *hsink = gst_harness_new_parse ("twiliosink stream=nobody");
  EosPush p = { hsink, FALSE, FALSE };
  GThread *thread;
  GstPad *sinkpad, *srcpad;
  gint64 deadline;

  g_object_set (src, "port", 0, "address", "127.0.0.1", "stream", "idle", NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  fail_unless (gst_element_link (src, sink));
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  /* Wait until create () is running (and blocked: no peer). */
  srcpad = gst_element_get_static_pad (src, "src");
  deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;
  while (gst_pad_get_task_state (srcpad) != GST_TASK_STARTED
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  fail_unless_equals_int (gst_pad_get_task_state (srcpad), GST_TASK_STARTED);
  gst_object_unref (srcpad);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);

  gst_harness_set_src_caps_str (hsink, "audio/x-mulaw, rate=8000, channels=1");
  fail_unless_equals_int (gst_harness_push (hsink, frame_buffer (0, 100)),
      GST_FLOW_OK);
  sinkpad = gst_element_get_static_pad (hsink->element, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      eos_arrived, &p, NULL);
  gst_object_unref (sinkpad);
  thread = g_thread_new ("eos", push_eos, &p);
  deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;
  while (!g_atomic_int_get (&p.arrived) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  fail_unless (g_atomic_int_get (&p.arrived));
  /* Nobody can ever play the audio: the EOS must not have gone through
   * (whether it is still on its way to the wait or in it). */
  fail_if (g_atomic_int_get (&p.done), "EOS was not held");
  /* The EOS waits for audio nobody can play; stopping releases it. */
  fail_unless_equals_int (gst_element_set_state (hsink->element,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  g_thread_join (thread);
  fail_unless (g_atomic_int_get (&p.done));
  gst_harness_teardown (hsink);
}

GST_END_TEST;

static Suite *
twilio_elements_suite (void)
{
  Suite *s = suite_create ("twilio_elements");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_src_call);
  tcase_add_test (tc, test_src_merges_queued_media);
  tcase_add_test (tc, test_src_rejects_media_format);
  tcase_add_test (tc, test_src_survives_garbage);
  tcase_add_test (tc, test_src_signature);
  tcase_add_test (tc, test_src_eos_on_close);
  tcase_add_test (tc, test_echo_pipeline);
  tcase_add_test (tc, test_sink_marks_position_clear);
  tcase_add_test (tc, test_state_change_while_blocked);
  return s;
}

GST_CHECK_MAIN (twilio_elements);
