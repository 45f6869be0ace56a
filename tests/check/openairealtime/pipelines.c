/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * openairealtimesrc/sink in whole pipelines, as the launcher runs them:
 * - pipelines reach PLAYING while the model has said nothing (the sinks
 *   after openairealtimesrc preroll on its silence), and the caller's audio
 *   reaches the model meanwhile;
 * - barge-in through the real phone chain: openairealtimesrc !
 *   audioresample ! mulawenc ! twiliosink with a fake Twilio client
 *   (tests/check/twilio/faketwilio.c) echoing marks, and the truncate's
 *   audio_end_ms equal to what the client echoed as played.
 */
#include <string.h>

#include "testutil.h"
#include "faketwilio.h"
#include "twilioprotocol.h"

#define STREAM_SID "MZ00000000000000000000000000000002"
#define ACCOUNT_SID "AC00000000000000000000000000000001"
#define CALL_SID "CA00000000000000000000000000000003"

static GstElement *
launch (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  fail_unless (pipeline != NULL, "%s: %s", description,
      error ? error->message : "?");
  fail_unless (error == NULL, "%s", error ? error->message : "");
  return pipeline;
}

/* gst_element_get_state () succeeds with PLAYING within the deadline. */
static void
assert_playing (GstElement * element)
{
  GstState state = GST_STATE_VOID_PENDING, pending = GST_STATE_VOID_PENDING;
  GstStateChangeReturn ret = gst_element_get_state (element, &state, &pending,
      WAIT_S * GST_SECOND);

  fail_unless_equals_int (ret, GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (state, GST_STATE_PLAYING);
}

static void
assert_child_playing (GstElement * pipeline, const gchar * name)
{
  GstElement *child = gst_bin_get_by_name (GST_BIN (pipeline), name);

  fail_unless (child != NULL);
  assert_playing (child);
  gst_object_unref (child);
}

typedef struct
{
  gint gap_buffers;
  gint audio_buffers;
} BufferCount;

static GstPadProbeReturn
count_buffers (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  BufferCount *count = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
    g_atomic_int_inc (&count->gap_buffers);
  else
    g_atomic_int_inc (&count->audio_buffers);
  return GST_PAD_PROBE_OK;
}

static void
stop_pipeline (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

/* The desktop shape: the sink after openairealtimesrc synchronises on the
 * clock and must preroll although the model says nothing; until the
 * pipeline is PLAYING, openairealtimesink would hold the microphone's audio
 * in preroll. */
GST_START_TEST (test_playing_while_model_silent)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  const gchar *url = fake_realtime_get_url (server);
  BufferCount count = { 0, 0 };
  gchar *desc = g_strdup_printf ("audiotestsrc is-live=true wave=sine "
      "samplesperbuffer=480 ! audio/x-raw,format=S16LE,rate=24000,channels=1 ! "
      "openairealtimesink name=rsink session=quiet url=%s api-key=" TEST_KEY
      " openairealtimesrc session=quiet url=%s api-key=" TEST_KEY " ! "
      "fakesink name=out sync=true", url, url);
  GstElement *pipeline = launch (desc);
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  GstPad *pad = gst_element_get_static_pad (out, "sink");
  GBytes *audio;

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffers, &count,
      NULL);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  assert_playing (pipeline);
  assert_child_playing (pipeline, "out");
  assert_child_playing (pipeline, "rsink");

  /* the microphone's audio flows to the model: 500 ms of PCM16 24 kHz */
  audio = fake_realtime_wait_audio (server, 24000, WAIT_S);
  fail_unless (g_bytes_get_size (audio) >= 24000,
      "only %" G_GSIZE_FORMAT " bytes appended", g_bytes_get_size (audio));
  g_bytes_unref (audio);
  /* what fakesink prerolled on: silence, no answer */
  fail_unless (g_atomic_int_get (&count.gap_buffers) >= 1);
  fail_unless_equals_int (g_atomic_int_get (&count.audio_buffers), 0);
  fail_unless_equals_int (fake_realtime_count (server,
          "conversation.item.truncate"), 0);

  gst_object_unref (pad);
  gst_object_unref (out);
  stop_pipeline (pipeline);
  g_free (desc);
  fake_realtime_free (server);
}

GST_END_TEST;

/* The phone chain of the launcher, both directions, with a fake caller. */
typedef struct
{
  FakeRealtime *model;
  FakeTwilio *caller;
  GstElement *pipeline;
  GstBus *bus;
  guint seq;
  guint chunk;
} PhoneCall;

static void
caller_send (PhoneCall * call, gchar * json)
{
  fake_twilio_send (call->caller, json);
  g_free (json);
}

static void
caller_speak (PhoneCall * call, guint frames)
{
  guint8 frame[160];
  guint i;

  /* a loud square wave, 20 ms per frame as Twilio sends */
  for (i = 0; i < frames; i++) {
    guint j;

    for (j = 0; j < sizeof (frame); j++)
      frame[j] = (j / 8) % 2 ? 0x80 : 0x00;
    caller_send (call, twilio_build_inbound_media (call->seq++, STREAM_SID,
            "inbound", call->chunk, (guint64) call->chunk * 20, frame,
            sizeof (frame)));
    call->chunk++;
  }
}

static void
phone_call_start (PhoneCall * call, const gchar * name)
{
  const gchar *url;
  gchar *desc;
  GstElement *tsrc;
  gint port = 0;

  memset (call, 0, sizeof (*call));
  call->model = fake_realtime_new (FAKE_REALTIME_NORMAL);
  url = fake_realtime_get_url (call->model);
  desc = g_strdup_printf ("twiliosrc name=tsrc port=0 address=127.0.0.1 "
      "stream=%s ! mulawdec ! audioresample ! audio/x-raw,rate=24000 ! "
      "openairealtimesink name=rsink session=%s url=%s api-key=" TEST_KEY " "
      "openairealtimesrc name=rsrc session=%s url=%s api-key=" TEST_KEY " ! "
      "audioresample ! audio/x-raw,rate=8000 ! mulawenc ! "
      "twiliosink name=tsink stream=%s", name, name, url, name, url, name);
  call->pipeline = launch (desc);
  g_free (desc);
  call->bus = gst_element_get_bus (call->pipeline);
  fail_if (gst_element_set_state (call->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);

  tsrc = gst_bin_get_by_name (GST_BIN (call->pipeline), "tsrc");
  g_object_get (tsrc, "current-port", &port, NULL);
  gst_object_unref (tsrc);
  fail_unless (port > 0);
  call->caller = fake_twilio_connect (port, "/call", NULL);
  fail_unless (fake_twilio_is_connected (call->caller));
  call->seq = 1;
  caller_send (call, twilio_build_connected ());
  caller_send (call, twilio_build_start (call->seq++, ACCOUNT_SID, STREAM_SID,
          CALL_SID, NULL, NULL, NULL));
}

static void
phone_call_end (PhoneCall * call)
{
  stop_pipeline (call->pipeline);
  gst_object_unref (call->bus);
  fake_twilio_free (call->caller);
  fake_realtime_free (call->model);
}

/* The lead's phone pipeline reaches PLAYING before the model said a word,
 * and the caller's audio is appended meanwhile. */
GST_START_TEST (test_phone_chain_playing_while_model_silent)
{
  PhoneCall call;
  GBytes *audio;

  phone_call_start (&call, "phonequiet");
  caller_speak (&call, 50);
  /* 1 s of caller audio at 24 kHz PCM16 is 48000 bytes; half is plenty */
  audio = fake_realtime_wait_audio (call.model, 24000, WAIT_S);
  fail_unless (g_bytes_get_size (audio) >= 24000,
      "only %" G_GSIZE_FORMAT " bytes appended", g_bytes_get_size (audio));
  g_bytes_unref (audio);
  assert_playing (call.pipeline);
  assert_child_playing (call.pipeline, "tsink");
  assert_child_playing (call.pipeline, "rsink");
  phone_call_end (&call);
}

GST_END_TEST;

/* One frame the sink sent, with the mark that follows it. */
typedef struct
{
  gchar *mark;
  gboolean model_audio;         /* not μ-law silence */
} SentFrame;

/* Reads what twiliosink sends until @model_frames frames of model audio
 * (each followed by its mark) arrived; fills @frames in order. */
static void
collect_frames (PhoneCall * call, GArray * frames, guint model_frames)
{
  gboolean pending_model = FALSE, pending = FALSE;
  guint seen = 0;

  while (seen < model_frames) {
    gchar *text = fake_twilio_pop (call->caller, (guint) WAIT_S);
    TwilioMessage *msg;

    fail_unless (text != NULL, "twiliosink sent only %u frames of model "
        "audio", seen);
    msg = twilio_message_parse (text, -1, TWILIO_PARSE_TO_TWILIO, NULL);
    fail_unless (msg != NULL, "unparsable: %s", text);
    g_free (text);
    if (msg->event == TWILIO_EVENT_MEDIA) {
      gsize size, i;
      const guint8 *data = g_bytes_get_data (msg->payload, &size);

      /* mark-interval is 20 ms: one frame per media message */
      fail_unless_equals_int (size, 160);
      fail_if (pending, "two media messages without a mark");
      pending = TRUE;
      pending_model = FALSE;
      for (i = 0; i < size; i++)
        if (data[i] != TWILIO_MULAW_SILENCE)
          pending_model = TRUE;
    } else if (msg->event == TWILIO_EVENT_MARK) {
      SentFrame frame;

      fail_unless (pending, "a mark without media");
      frame.mark = g_strdup (msg->mark_name);
      frame.model_audio = pending_model;
      g_array_append_val (frames, frame);
      if (pending_model)
        seen++;
      pending = FALSE;
    }
    twilio_message_free (msg);
  }
}

/* Echoes marks as Twilio does when it played the audio before them, and
 * waits until twiliosink took the last one into account. */
static void
echo_played (PhoneCall * call, GArray * frames, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    SentFrame *frame = &g_array_index (frames, SentFrame, i);

    caller_send (call, twilio_build_mark_echo (call->seq++, STREAM_SID,
            frame->mark));
  }
  for (;;) {
    GstStructure *s = wait_message (call->bus, "twilio-mark", WAIT_S);
    gboolean last;

    fail_unless (s != NULL, "twiliosink did not report the echo of %s",
        g_array_index (frames, SentFrame, n - 1).mark);
    last = g_strcmp0 (gst_structure_get_string (s, "name"),
        g_array_index (frames, SentFrame, n - 1).mark) == 0;
    gst_structure_free (s);
    if (last)
      break;
  }
}

static void
sent_frames_free (GArray * frames)
{
  guint i;

  for (i = 0; i < frames->len; i++)
    g_free (g_array_index (frames, SentFrame, i).mark);
  g_array_free (frames, TRUE);
}

static gboolean
caller_wait_clear (PhoneCall * call)
{
  for (;;) {
    gchar *text = fake_twilio_pop (call->caller, (guint) WAIT_S);
    TwilioMessage *msg;
    gboolean clear;

    if (text == NULL)
      return FALSE;
    msg = twilio_message_parse (text, -1, TWILIO_PARSE_TO_TWILIO, NULL);
    g_free (text);
    clear = msg && msg->event == TWILIO_EVENT_CLEAR;
    if (msg)
      twilio_message_free (msg);
    if (clear)
      return TRUE;
  }
}

/* Barge-in through audioresample and mulawenc: openairealtimesrc learns
 * what the caller heard from twiliosink's played-position answer (a
 * POSITION query would be answered by audioresample), so the truncate
 * says exactly what the client echoed as played, to one mark (20 ms). */
GST_START_TEST (test_phone_chain_barge_in)
{
  PhoneCall call;
  GArray *frames = g_array_new (FALSE, FALSE, sizeof (SentFrame));
  RealtimeClientEvent *truncate;
  GstStructure *s;
  GBytes *audio;
  guint8 *answer;
  guint i, heard = 0, echoed;
  const guint heard_model_frames = 23;
  gint64 expected_ms;

  phone_call_start (&call, "phonebarge");
  caller_speak (&call, 25);
  audio = fake_realtime_wait_audio (call.model, 12000, WAIT_S);
  fail_unless (g_bytes_get_size (audio) >= 12000);
  g_bytes_unref (audio);
  assert_playing (call.pipeline);

  /* the model answers: 1 s of PCM16 24 kHz, a loud square wave */
  answer = g_malloc (4800);
  for (i = 0; i < 2400; i++)
    GST_WRITE_UINT16_LE (answer + 2 * i, (i / 12) % 2 ? 12000 : 0xd120);
  fake_realtime_send (call.model, realtime_build_speech_stopped (500, "u1"));
  fake_realtime_send (call.model, realtime_build_response_created ("resp_A"));
  for (i = 0; i < 10; i++)
    fake_realtime_send (call.model,
        realtime_build_output_audio_delta ("resp_A", "item_A", answer, 4800));
  g_free (answer);

  /* the caller heard the preroll silence and 23 frames of the answer */
  collect_frames (&call, frames, 30);
  for (echoed = 0; echoed < frames->len && heard < heard_model_frames; echoed++)
    if (g_array_index (frames, SentFrame, echoed).model_audio)
      heard++;
  fail_unless_equals_int (heard, heard_model_frames);
  echo_played (&call, frames, echoed);
  expected_ms = heard_model_frames * 20;

  /* ... and speaks */
  fake_realtime_send (call.model, realtime_build_speech_started (1500, "u2"));
  fail_unless (caller_wait_clear (&call), "no clear");
  truncate = fake_realtime_wait_event (call.model,
      "conversation.item.truncate", 0, WAIT_S);
  fail_unless (truncate != NULL, "no truncate");
  fail_unless_equals_string (truncate->item_id, "item_A");
  GST_INFO ("truncate at %" G_GINT64_FORMAT " ms, the caller heard %"
      G_GINT64_FORMAT " ms", truncate->audio_end_ms, expected_ms);
  fail_unless (ABS (truncate->audio_end_ms - expected_ms) <= 20,
      "truncated at %" G_GINT64_FORMAT " ms, the caller heard %"
      G_GINT64_FORMAT " ms", truncate->audio_end_ms, expected_ms);
  realtime_client_event_free (truncate);

  s = wait_message (call.bus, "realtime-truncated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  /* after the flush the pipeline prerolls again and is PLAYING */
  assert_playing (call.pipeline);
  assert_child_playing (call.pipeline, "tsink");

  sent_frames_free (frames);
  phone_call_end (&call);
}

GST_END_TEST;

static Suite *
openairealtime_pipelines_suite (void)
{
  Suite *s = suite_create ("openairealtime_pipelines");
  TCase *tc = tcase_create ("general");

  /* Loopback only (see elements.c). */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_playing_while_model_silent);
  tcase_add_test (tc, test_phone_chain_playing_while_model_silent);
  tcase_add_test (tc, test_phone_chain_barge_in);
  return s;
}

GST_CHECK_MAIN (openairealtime_pipelines);
