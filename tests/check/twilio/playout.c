/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * twiliosink's playout bookkeeping as the rest of a pipeline sees it: EOS
 * held until the caller heard the last audio (wait-for-played), and the
 * POSITION query answered from upstream through mulawenc and audioresample.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <string.h>

#include "faketwilio.h"
#include "twilioprotocol.h"
#include "twiliotestutil.h"

typedef struct
{
  GstHarness *h;
  gint arrived;                 /* EOS reached the sink pad */
  gint done;                    /* the EOS push returned */
  gboolean result;
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

  p->result = gst_harness_push_event (p->h, gst_event_new_eos ());
  g_atomic_int_set (&p->done, TRUE);
  return NULL;
}

static gboolean
wait_flag (gint * flag)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;

  /* The flags are set by other threads without a cond to wait on. */
  while (!g_atomic_int_get (flag) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  return g_atomic_int_get (flag);
}

static GstMessage *
wait_eos_message (GstBus * bus)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, DEADLINE * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (msg != NULL, "no EOS message");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  return msg;
}

static void
echo_mark (FakeTwilio * fake, guint seq, TwilioMessage * mark)
{
  gchar *json = twilio_build_mark_echo (seq, MZ, mark->mark_name);

  fake_twilio_send (fake, json);
  g_free (json);
}

static GstBuffer *
mulaw_buffer (gsize size, guint8 fill, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, fill, size);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (size, GST_SECOND, 8000);
  return buf;
}

/* Connects a fake caller to a standalone twiliosrc on @stream and starts
 * the call. */
static FakeTwilio *
start_call (GstHarness ** hsrc, const gchar * stream, GstBus * bus)
{
  gint port;
  FakeTwilio *fake;
  gchar *json;

  *hsrc = make_src_harness (stream, bus, &port);
  fake = fake_twilio_connect (port, "/call", NULL);
  fail_unless (fake_twilio_is_connected (fake));
  json = start_json ("audio/x-mulaw", 8000);
  fake_twilio_send (fake, json);
  g_free (json);
  gst_message_unref (wait_message (bus, "twilio-start"));
  return fake;
}

static GstHarness *
make_sink_harness (const gchar * description, GstBus * bus)
{
  GstHarness *h = gst_harness_new_parse (description);

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "audio/x-mulaw, rate=8000, channels=1");
  return h;
}

/* EOS is held until the last mark is echoed as played, then goes through;
 * the partial last frame was padded with silence. */
GST_START_TEST (test_wait_for_played_holds_eos)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc, *hsink;
  FakeTwilio *fake = start_call (&hsrc, "wfp", bus);
  EosPush p = { NULL, FALSE, FALSE, FALSE };
  TwilioMessage *marks[3];
  gsize media_bytes = 0;
  GThread *thread;
  GstPad *sinkpad;
  guint i;

  hsink = make_sink_harness ("twiliosink stream=wfp", bus);
  p.h = hsink;
  /* 2.5 frames: the last half frame is padded at EOS. */
  fail_unless_equals_int (gst_harness_push (hsink, mulaw_buffer (400, 0x42,
              0)), GST_FLOW_OK);
  for (i = 0; i < 2; i++)
    marks[i] = pop_until (fake, TWILIO_EVENT_MARK, &media_bytes);
  fail_unless_equals_int (media_bytes, 320);

  sinkpad = gst_element_get_static_pad (hsink->element, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      eos_arrived, &p, NULL);
  gst_object_unref (sinkpad);
  thread = g_thread_new ("eos", push_eos, &p);
  fail_unless (wait_flag (&p.arrived));

  /* The padded last frame goes out at EOS. */
  {
    gchar *text = NULL;
    TwilioMessage *media;
    const guint8 *data;
    gsize size;

    while (TRUE) {
      text = fake_twilio_pop (fake, DEADLINE);
      fail_unless (text != NULL);
      media = twilio_message_parse (text, -1, TWILIO_PARSE_TO_TWILIO, NULL);
      g_free (text);
      fail_unless (media != NULL);
      if (media->event == TWILIO_EVENT_MEDIA)
        break;
      twilio_message_free (media);
    }
    data = g_bytes_get_data (media->payload, &size);
    fail_unless_equals_int (size, 160);
    fail_unless_equals_int (data[0], 0x42);
    fail_unless_equals_int (data[79], 0x42);
    fail_unless_equals_int (data[80], 0xFF);
    fail_unless_equals_int (data[159], 0xFF);
    twilio_message_free (media);
    marks[2] = pop_until (fake, TWILIO_EVENT_MARK, NULL);
  }

  /* The caller hears the first two frames: the EOS is still held, as the
   * third has not been played yet. */
  for (i = 0; i < 2; i++) {
    echo_mark (fake, 10 + i, marks[i]);
    gst_message_unref (wait_message (bus, "twilio-mark"));
  }
  fail_if (g_atomic_int_get (&p.done), "EOS went through before the last "
      "audio was heard");

  /* The last mark comes back: the EOS goes through. */
  echo_mark (fake, 12, marks[2]);
  fail_unless (wait_flag (&p.done));
  g_thread_join (thread);
  fail_unless (p.result);
  gst_message_unref (wait_eos_message (bus));

  for (i = 0; i < 3; i++)
    twilio_message_free (marks[i]);
  gst_harness_teardown (hsink);
  gst_harness_teardown (hsrc);
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

/* With wait-for-played=FALSE the EOS goes through at once, with audio
 * still unheard. */
GST_START_TEST (test_no_wait_for_played)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc, *hsink;
  FakeTwilio *fake = start_call (&hsrc, "nowait", bus);
  TwilioMessage *mark;
  GstMessage *msg;

  hsink = make_sink_harness ("twiliosink stream=nowait wait-for-played=false",
      bus);
  fail_unless_equals_int (gst_harness_push (hsink, mulaw_buffer (160, 0x42,
              0)), GST_FLOW_OK);
  mark = pop_until (fake, TWILIO_EVENT_MARK, NULL);

  /* Synchronous: no echo will ever come, yet the push returns. */
  fail_unless (gst_harness_push_event (hsink, gst_event_new_eos ()));
  msg = wait_eos_message (bus);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (hsink->element));
  gst_message_unref (msg);

  twilio_message_free (mark);
  gst_harness_teardown (hsink);
  gst_harness_teardown (hsrc);
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

#define FRAME_TIME (20 * GST_MSECOND)

static GstClockTime
peer_position (GstPad * pad)
{
  GstQuery *query = gst_query_new_position (GST_FORMAT_TIME);
  gint64 position = -1;
  gboolean ok = gst_pad_peer_query (pad, query);

  if (ok)
    gst_query_parse_position (query, NULL, &position);
  gst_query_unref (query);
  return ok ? (GstClockTime) position : GST_CLOCK_TIME_NONE;
}

/* The custom played-position query, as openairealtimesrc would send it. */
static GstClockTime
peer_played_position (GstPad * pad)
{
  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty ("played-position"));
  guint64 position = GST_CLOCK_TIME_NONE;

  if (!gst_pad_peer_query (pad, query)
      || !gst_structure_get_uint64 (gst_query_get_structure (query),
          "position", &position))
    position = GST_CLOCK_TIME_NONE;
  gst_query_unref (query);
  return position;
}

/* Waits until a downstream played-position query from @pad gives
 * @expected. */
static void
check_peer_position (GstPad * pad, GstClockTime expected)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;
  GstClockTime position;

  /* The sink updates the position on its own thread after the echo; from
   * there it extrapolates while audio is queued, up to the next mark. */
  while (((position = peer_played_position (pad)) == GST_CLOCK_TIME_NONE
          || position < expected) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  fail_unless (position >= expected && position <= expected + FRAME_TIME,
      "position %" GST_TIME_FORMAT " not within one frame after %"
      GST_TIME_FORMAT, GST_TIME_ARGS (position), GST_TIME_ARGS (expected));
}

/* openairealtimesrc asks downstream what the caller has heard; between it
 * and twiliosink sit audioresample and mulawenc. A POSITION query is
 * answered by audioresample itself (GstBaseTransform gives its own segment
 * position), so twiliosink also answers the custom played-position query,
 * which the converters pass on. POSITION asked right at the sink's peer
 * (mulawenc's src pad) reaches the sink. */
GST_START_TEST (test_position_through_converters)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc;
  FakeTwilio *fake = start_call (&hsrc, "pos", bus);
  GstElement *pipeline = gst_parse_launch ("appsrc name=in format=time "
      "caps=audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved "
      "! audioresample ! audio/x-raw,rate=8000 ! mulawenc "
      "! twiliosink name=out stream=pos", NULL);
  GstElement *in = gst_bin_get_by_name (GST_BIN (pipeline), "in");
  GstPad *in_pad = gst_element_get_static_pad (in, "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  GstPad *sink_pad = gst_element_get_static_pad (sink, "sink");
  GstPad *enc_pad = gst_pad_get_peer (sink_pad);
  TwilioMessage *marks[5];
  GstFlowReturn flow = GST_FLOW_ERROR;
  GstBuffer *buf;
  guint i;

  fail_unless (pipeline != NULL);
  gst_element_set_bus (pipeline, bus);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);

  /* 200 ms of 24 kHz audio: at least five 20 ms frames reach the sink
   * (audioresample keeps its filter's worth until EOS). */
  buf = gst_buffer_new_allocate (NULL, 4800 * 2, NULL);
  gst_buffer_memset (buf, 0, 0, 4800 * 2);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 200 * GST_MSECOND;
  g_signal_emit_by_name (in, "push-buffer", buf, &flow);
  gst_buffer_unref (buf);
  fail_unless_equals_int (flow, GST_FLOW_OK);
  for (i = 0; i < 5; i++)
    marks[i] = pop_until (fake, TWILIO_EVENT_MARK, NULL);

  /* Just sent: the caller is hearing the first frame. */
  check_peer_position (in_pad, 0);
  /* The caller heard two frames. */
  for (i = 0; i < 2; i++)
    echo_mark (fake, 10 + i, marks[i]);
  check_peer_position (in_pad, 40 * GST_MSECOND);
  echo_mark (fake, 12, marks[2]);
  check_peer_position (in_pad, 60 * GST_MSECOND);
  fail_unless (peer_position (enc_pad) >= 60 * GST_MSECOND
      && peer_position (enc_pad) <= 60 * GST_MSECOND + FRAME_TIME);
  /* What audioresample answers to POSITION: not what was heard. */
  fail_if (peer_position (in_pad) == 60 * GST_MSECOND);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  for (i = 0; i < 5; i++)
    twilio_message_free (marks[i]);
  gst_object_unref (enc_pad);
  gst_object_unref (sink_pad);
  gst_object_unref (sink);
  gst_object_unref (in_pad);
  gst_object_unref (in);
  gst_object_unref (pipeline);
  gst_harness_teardown (hsrc);
  fake_twilio_free (fake);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

static Suite *
twilio_playout_suite (void)
{
  Suite *s = suite_create ("twilio_playout");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_wait_for_played_holds_eos);
  tcase_add_test (tc, test_no_wait_for_played);
  tcase_add_test (tc, test_position_through_converters);
  return s;
}

GST_CHECK_MAIN (twilio_playout);
