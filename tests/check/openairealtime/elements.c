/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * openairealtimesrc / openairealtimesink against a fake Realtime server on
 * loopback (fakerealtime.c) that checks what the client sends: formats,
 * barge-in, function calls, errors, bad input and state changes. The
 * session's lifecycle (buffering, reconnect, renewal, timeouts) is tested
 * in sessionlife.c.
 */
#include <string.h>

#include "testutil.h"

/* The negotiated caps of both elements choose the formats. */
GST_START_TEST (test_formats_from_caps)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hsink = sink_harness (server, "formats",
      "audio/x-mulaw, rate=8000, channels=1", bus);
  GstHarness *hsrc = src_harness (server, "formats",
      "audio/x-alaw, rate=8000, channels=1", bus);
  RealtimeClientEvent *update;
  GstStructure *s;
  guint8 counter = 0;

  push_pattern (hsink, 1, 160, &counter);
  update = fake_realtime_wait_event (server, "session.update", 0, WAIT_S);
  fail_unless (update != NULL);
  fail_unless_equals_int (update->session->input_format,
      REALTIME_AUDIO_FORMAT_PCMU);
  fail_unless_equals_int (update->session->output_format,
      REALTIME_AUDIO_FORMAT_PCMA);
  realtime_client_event_free (update);

  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "input-format"),
      "audio/pcmu");
  fail_unless_equals_string (gst_structure_get_string (s, "output-format"),
      "audio/pcma");
  gst_structure_free (s);

  release_harness (hsrc);
  release_harness (hsink);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

static gint64 answered_position = -1;
static gint64 answered_played_position = -1;

static GstPadProbeReturn
position_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);

  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM
      && answered_played_position >= 0
      && gst_structure_has_name (gst_query_get_structure (query),
          "played-position")) {
    /* twiliosink's answer, which converters pass on */
    gst_structure_set (gst_query_writable_structure (query), "position",
        G_TYPE_UINT64, (guint64) answered_played_position, NULL);
    return GST_PAD_PROBE_HANDLED;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_POSITION) {
    /* what twiliosink answers: the end of what the caller heard */
    gst_query_set_position (query, GST_FORMAT_TIME, answered_position);
    return GST_PAD_PROBE_HANDLED;
  }
  return GST_PAD_PROBE_OK;
}

static void
send_audio (FakeRealtime * server, const gchar * response_id,
    const gchar * item_id, gsize size, guint8 value)
{
  guint8 *data = g_malloc (size);

  memset (data, value, size);
  fake_realtime_send (server, realtime_build_output_audio_delta (response_id,
          item_id, data, size));
  g_free (data);
}


/* speech_started while the model speaks: flush downstream, truncate at the
 * position downstream heard, drop the interrupted response's late audio. */
GST_START_TEST (test_barge_in)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc = src_harness (server, "bargein", PCM_CAPS, bus);
  RealtimeClientEvent *truncate;
  GstStructure *s;
  GstBuffer *buf;
  GstMapInfo map;
  GstEvent *event;
  guint i, flush_start = 0, flush_stop = 0, segments = 0;
  GstClockTime first_pts = GST_CLOCK_TIME_NONE, last_end = 0;

  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  gst_pad_add_probe (hsrc->sinkpad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      position_probe, NULL, NULL);

  fake_realtime_send (server, realtime_build_speech_stopped (900, "u1"));
  fake_realtime_send (server, realtime_build_response_created ("resp_A"));
  /* 10 x 100 ms of PCM16 24 kHz */
  for (i = 0; i < 10; i++)
    send_audio (server, "resp_A", "item_A", 4800, 0x11);
  s = wait_message (bus, "realtime-first-audio", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "response-id"),
      "resp_A");
  gst_structure_free (s);
  for (i = 0; i < 10; i++) {
    buf = pull_buffer (hsrc);
    fail_unless (buf != NULL);
    /* the timeline starts after the preroll silence */
    if (i == 0)
      first_pts = GST_BUFFER_PTS (buf);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
        first_pts + i * 100 * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 100 * GST_MSECOND);
    last_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
    gst_buffer_unref (buf);
  }

  answered_position = first_pts + 400 * GST_MSECOND;
  fake_realtime_send (server, realtime_build_speech_started (1500, "u2"));
  /* late audio of the interrupted response, then the next answer */
  send_audio (server, "resp_A", "item_A", 4800, 0x11);
  fake_realtime_send (server, realtime_build_response_done ("resp_A",
          "cancelled", "turn_detected", 5, 6));
  fake_realtime_send (server, realtime_build_response_created ("resp_B"));
  send_audio (server, "resp_B", "item_B", 2400, 0x22);

  truncate = fake_realtime_wait_event (server, "conversation.item.truncate",
      0, WAIT_S);
  fail_unless (truncate != NULL, "no truncate");
  fail_unless_equals_string (truncate->item_id, "item_A");
  fail_unless_equals_int (truncate->content_index, 0);
  fail_unless_equals_int64 (truncate->audio_end_ms, 400);
  realtime_client_event_free (truncate);

  s = wait_message (bus, "realtime-truncated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);

  /* the first buffer after the flush is DISCONT: the next answer, or the
   * silence the sinks preroll on again (the flush lost their preroll) */
  buf = gst_harness_pull (hsrc);
  fail_unless (buf != NULL);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  /* the timeline continues after the flush */
  fail_unless (GST_BUFFER_PTS (buf) >= last_end);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    gst_buffer_unref (buf);
    buf = pull_buffer (hsrc);
    fail_unless (buf != NULL);
  }
  gst_buffer_map (buf, &map, GST_MAP_READ);
  fail_unless_equals_int (map.size, 2400);
  fail_unless_equals_int (map.data[0], 0x22);
  gst_buffer_unmap (buf, &map);
  fail_unless (GST_BUFFER_PTS (buf) >= last_end);
  gst_buffer_unref (buf);

  while ((event = gst_harness_try_pull_event (hsrc))) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START)
      flush_start++;
    else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
      flush_stop++;
    else if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT && flush_stop > 0)
      segments++;
    gst_event_unref (event);
  }
  fail_unless_equals_int (flush_start, 1);
  fail_unless_equals_int (flush_stop, 1);
  fail_unless_equals_int (segments, 1);

  /* nothing heard of the next item: no truncate at all */
  answered_position = 0;
  fake_realtime_send (server, realtime_build_speech_started (3000, "u3"));
  send_audio (server, "resp_C", "item_C", 480, 0x33);
  buf = pull_buffer (hsrc);
  fail_unless (buf != NULL);
  gst_buffer_unref (buf);
  fail_unless_equals_int (fake_realtime_count (server,
          "conversation.item.truncate"), 1);

  release_harness (hsrc);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* The custom played-position query (what twiliosink answers through
 * audioresample and mulawenc) wins over POSITION (what a converter in
 * between may answer with its own position). */
GST_START_TEST (test_barge_in_played_position_query)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc = src_harness (server, "playedpos", PCM_CAPS, bus);
  RealtimeClientEvent *truncate;
  GstClockTime first_pts = GST_CLOCK_TIME_NONE;
  GstStructure *s;
  guint i;

  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  gst_pad_add_probe (hsrc->sinkpad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      position_probe, NULL, NULL);

  fake_realtime_send (server, realtime_build_response_created ("resp_Q"));
  for (i = 0; i < 10; i++)
    send_audio (server, "resp_Q", "item_Q", 4800, 0x11);
  for (i = 0; i < 10; i++) {
    GstBuffer *buf = pull_buffer (hsrc);

    fail_unless (buf != NULL);
    if (i == 0)
      first_pts = GST_BUFFER_PTS (buf);
    gst_buffer_unref (buf);
  }

  answered_played_position = first_pts + 300 * GST_MSECOND;
  answered_position = first_pts + 700 * GST_MSECOND;
  fake_realtime_send (server, realtime_build_speech_started (1200, "u9"));
  truncate = fake_realtime_wait_event (server, "conversation.item.truncate",
      0, WAIT_S);
  answered_played_position = -1;
  fail_unless (truncate != NULL, "no truncate");
  fail_unless_equals_string (truncate->item_id, "item_Q");
  fail_unless_equals_int64 (truncate->audio_end_ms, 300);
  realtime_client_event_free (truncate);

  release_harness (hsrc);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* realtime-function-call, the action signal, function_call_output, then
 * response.create only once the active response is done. */
GST_START_TEST (test_function_call_round_trip)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc = src_harness (server, "fcall", PCM_CAPS, bus);
  RealtimeClientEvent *ev;
  GstStructure *s;
  gboolean ok = FALSE;

  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);

  fake_realtime_send (server, realtime_build_response_created ("resp_F"));
  fake_realtime_send (server,
      realtime_build_function_call_arguments_done ("resp_F", "fc_1",
          "call_42", "get_weather", "{\"city\":\"Paris\"}"));
  s = wait_message (bus, "realtime-function-call", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "name"),
      "get_weather");
  fail_unless_equals_string (gst_structure_get_string (s, "call-id"),
      "call_42");
  fail_unless_equals_string (gst_structure_get_string (s, "arguments"),
      "{\"city\":\"Paris\"}");
  gst_structure_free (s);

  g_signal_emit_by_name (hsrc->element, "function-call-output", "call_42",
      "{\"temp\":21}", &ok);
  fail_unless (ok);
  ev = fake_realtime_wait_event (server, "conversation.item.create", 0, WAIT_S);
  fail_unless (ev != NULL);
  fail_unless_equals_int (ev->item.type, REALTIME_ITEM_FUNCTION_CALL_OUTPUT);
  fail_unless_equals_string (ev->item.call_id, "call_42");
  fail_unless_equals_string (ev->item.output, "{\"temp\":21}");
  realtime_client_event_free (ev);
  /* resp_F is still active: one response at a time */
  fail_unless_equals_int (fake_realtime_count (server, "response.create"), 0);

  fake_realtime_send (server, realtime_build_response_done ("resp_F",
          "completed", NULL, 10, 20));
  s = wait_message (bus, "realtime-response-done", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "status"),
      "completed");
  gst_structure_free (s);
  ev = fake_realtime_wait_event (server, "response.create", 0, WAIT_S);
  fail_unless (ev != NULL, "no response.create after response.done");
  realtime_client_event_free (ev);

  /* an empty call id is refused */
  g_signal_emit_by_name (hsrc->element, "function-call-output", "", "x", &ok);
  fail_if (ok);

  release_harness (hsrc);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* error events become realtime-error; fatal codes fail the pipeline. */
GST_START_TEST (test_error_events)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness (server, "errors", PCM_CAPS, bus);
  GstStructure *s;
  GError *error;
  gchar *debug = NULL;
  gboolean fatal = TRUE;
  guint8 counter = 0;

  push_pattern (h, 1, 960, &counter);
  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);

  fake_realtime_send (server, realtime_build_error ("invalid_request_error",
          "unknown_parameter", "Unknown parameter: 'session.foo'.",
          "session.foo", NULL));
  s = wait_message (bus, "realtime-error", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "type"),
      "invalid_request_error");
  fail_unless_equals_string (gst_structure_get_string (s, "code"),
      "unknown_parameter");
  fail_unless_equals_string (gst_structure_get_string (s, "message"),
      "Unknown parameter: 'session.foo'.");
  fail_unless (gst_structure_get_boolean (s, "fatal", &fatal));
  fail_if (fatal);
  gst_structure_free (s);

  fake_realtime_send (server, realtime_build_error ("insufficient_quota",
          "insufficient_quota", "You exceeded your current quota.", NULL,
          NULL));
  s = wait_message (bus, "realtime-error", WAIT_S);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_boolean (s, "fatal", &fatal));
  fail_unless (fatal);
  gst_structure_free (s);
  error = wait_error (bus, WAIT_S, &debug);
  fail_unless (error != NULL);
  fail_unless (strstr (error->message, "quota") != NULL);
  fail_unless (strstr (error->message, TEST_KEY) == NULL);
  fail_unless (debug == NULL || strstr (debug, TEST_KEY) == NULL);
  g_error_free (error);
  g_free (debug);
  /* the sink refuses more data */
  fail_unless_equals_int (gst_harness_push (h,
          silence_buffer (960)), GST_FLOW_ERROR);

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* Garbage from the server is reported and survived. */
GST_START_TEST (test_malformed_server_events)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness (server, "garbage", PCM_CAPS, bus);
  GstStructure *s;
  guint8 counter = 0;
  guint i;

  push_pattern (h, 1, 960, &counter);
  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);

  fake_realtime_send (server, g_strdup ("{\"type\":\"response.created\","));
  fake_realtime_send (server, g_strdup ("[1,2,3]"));
  fake_realtime_send (server, g_strdup ("{\"type\":"
          "\"response.output_audio.delta\",\"response_id\":\"r\","
          "\"item_id\":\"i\",\"delta\":\"%%%%\"}"));
  fake_realtime_send (server, g_strdup ("{\"type\":"
          "\"input_audio_buffer.speech_started\",\"audio_start_ms\":\"x\","
          "\"item_id\":\"i\"}"));
  for (i = 0; i < 4; i++) {
    s = wait_message (bus, "realtime-error", WAIT_S);
    fail_unless (s != NULL, "malformed event %u not reported", i);
    fail_unless_equals_string (gst_structure_get_string (s, "code"),
        "malformed_event");
    gst_structure_free (s);
  }
  fake_realtime_send (server, g_strdup ("{\"type\":\"brand.new_event\","
          "\"event_id\":\"e1\"}"));
  s = wait_message (bus, "realtime-event", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "type"),
      "brand.new_event");
  gst_structure_free (s);

  /* still alive */
  fake_realtime_send (server, realtime_build_response_created ("resp_ok"));
  s = wait_message (bus, "realtime-response-created", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "response-id"),
      "resp_ok");
  gst_structure_free (s);
  fail_unless_equals_int (gst_harness_push (h,
          silence_buffer (960)), GST_FLOW_OK);

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* No key, a malformed key: a clear error and nothing connects. */
GST_START_TEST (test_missing_or_malformed_key)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstElement *sink;
  GError *error;
  GParamSpec *pspec;

  g_unsetenv ("OPENAI_API_KEY");
  sink = gst_element_factory_make ("openairealtimesink", NULL);
  g_object_set (sink, "url", fake_realtime_get_url (server), NULL);
  gst_element_set_bus (sink, bus);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  error = wait_error (bus, WAIT_S, NULL);
  fail_unless (error != NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS));
  fail_unless (strstr (error->message, "api-key") != NULL);
  g_error_free (error);
  /* drop what else the failed state change posted */
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);

  g_object_set (sink, "api-key", "sk-bad key with spaces", NULL);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  error = wait_error (bus, WAIT_S, NULL);
  fail_unless (error != NULL);
  fail_unless (strstr (error->message, "malformed") != NULL);
  fail_unless (strstr (error->message, "sk-bad") == NULL);
  g_error_free (error);
  gst_element_set_state (sink, GST_STATE_NULL);

  /* the key cannot be read back */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "api-key");
  fail_unless (pspec != NULL);
  fail_if (pspec->flags & G_PARAM_READABLE);

  fail_if (fake_realtime_wait_connections (server, 1, 0.3));
  gst_object_unref (sink);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* HTTP 401 on the upgrade is fatal, with a message without the key. */
GST_START_TEST (test_unauthorized)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_REJECT_401);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness (server, "unauthorized", PCM_CAPS, bus);
  GError *error;
  gchar *debug = NULL;

  error = wait_error (bus, WAIT_S, &debug);
  fail_unless (error != NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED));
  fail_unless (strstr (error->message, "401") != NULL);
  fail_unless (strstr (error->message, TEST_KEY) == NULL);
  fail_unless (debug == NULL || strstr (debug, TEST_KEY) == NULL);
  g_error_free (error);
  g_free (debug);
  /* no reconnect loop on a rejected key */
  fail_if (fake_realtime_wait_connections (server, 2, 0.5));

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* State changes with a live connection and a src blocked in create never
 * hang. */
GST_START_TEST (test_state_changes_connected)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  gchar *desc;
  GstElement *pipeline;
  guint round;

  desc = g_strdup_printf ("audiotestsrc is-live=true ! "
      "audio/x-raw,format=S16LE,rate=24000,channels=1 ! "
      "openairealtimesink session=st url=%s api-key=" TEST_KEY " "
      "openairealtimesrc session=st url=%s api-key=" TEST_KEY " ! fakesink",
      fake_realtime_get_url (server), fake_realtime_get_url (server));
  pipeline = gst_parse_launch (desc, NULL);
  fail_unless (pipeline != NULL);
  g_free (desc);
  for (round = 0; round < 4; round++) {
    fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    fail_unless (fake_realtime_wait_connections (server, round + 1, WAIT_S));
    fail_if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
        GST_STATE_CHANGE_FAILURE);
    fail_if (gst_element_set_state (pipeline, GST_STATE_NULL) ==
        GST_STATE_CHANGE_FAILURE);
  }
  fail_unless (fake_realtime_wait_connections (server, 4, WAIT_S));
  gst_object_unref (pipeline);
  fake_realtime_free (server);
}

GST_END_TEST;

/* Before the model says anything, downstream gets a short silence flagged
 * GAP to preroll on (sinks after an encoder never see a GAP event), and
 * nothing more while the model stays silent. */
GST_START_TEST (test_preroll_silence)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc = src_harness (server, "preroll",
      "audio/x-mulaw, rate=8000, channels=1", bus);
  GstStructure *s;
  GstBuffer *buf;
  GstMapInfo map;
  gsize i;

  buf = gst_harness_pull (hsrc);
  fail_unless (buf != NULL);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 20 * GST_MSECOND);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  fail_unless_equals_int (map.size, 160);
  for (i = 0; i < map.size; i++)
    fail_unless_equals_int (map.data[i], 0xff);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);

  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  /* no more silence while the model says nothing */
  fail_unless (gst_harness_try_pull (hsrc) == NULL);

  fake_realtime_send (server, realtime_build_response_created ("resp_P"));
  send_audio (server, "resp_P", "item_P", 800, 0x42);
  buf = gst_harness_pull (hsrc);
  fail_unless (buf != NULL);
  fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
  fail_unless_equals_int (gst_buffer_get_size (buf), 800);
  gst_buffer_unref (buf);

  release_harness (hsrc);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* An EOS sent to the source (e.g. to the pipeline at hang-up) comes out of
 * it downstream, from its streaming thread. */
GST_START_TEST (test_eos_sent_to_source)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc = src_harness (server, "eossent",
      "audio/x-mulaw, rate=8000, channels=1", bus);
  GstStructure *s;
  GstEvent *event;
  gboolean eos = FALSE;

  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  fail_unless (gst_element_send_event (hsrc->element, gst_event_new_eos ()));
  while (!eos && (event = gst_harness_pull_event (hsrc))) {
    eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;
    gst_event_unref (event);
  }
  fail_unless (eos);

  release_harness (hsrc);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* PCM16 deltas of odd sizes: the source only ever pushes whole samples,
 * and no byte is lost or reordered. */
GST_START_TEST (test_pcm16_odd_deltas)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *hsrc = src_harness (server, "odd", PCM_CAPS, bus);
  const guint8 audio[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  const gsize pieces[] = { 3, 5, 2 }, expected_sizes[] = { 2, 6, 2 };
  GstStructure *s;
  GByteArray *received = g_byte_array_new ();
  gsize offset = 0;
  guint i;

  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  fake_realtime_send (server, realtime_build_response_created ("resp_O"));
  for (i = 0; i < G_N_ELEMENTS (pieces); i++) {
    fake_realtime_send (server, realtime_build_output_audio_delta ("resp_O",
            "item_O", audio + offset, pieces[i]));
    offset += pieces[i];
  }
  for (i = 0; i < G_N_ELEMENTS (expected_sizes); i++) {
    GstBuffer *buf = pull_buffer (hsrc);
    GstMapInfo map;

    fail_unless (buf != NULL);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    fail_unless_equals_int (map.size, expected_sizes[i]);
    g_byte_array_append (received, map.data, map.size);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (received->len, sizeof (audio));
  fail_unless (memcmp (received->data, audio, sizeof (audio)) == 0);
  g_byte_array_unref (received);

  release_harness (hsrc);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

static Suite *
openairealtime_suite (void)
{
  Suite *s = suite_create ("openairealtime");
  TCase *tc = tcase_create ("general");

  /* Loopback only: GIO's libproxy resolver would run libproxy (C++
   * exceptions in a worker thread, which valgrind misreads) for every
   * connect. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_formats_from_caps);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_barge_in_played_position_query);
  tcase_add_test (tc, test_function_call_round_trip);
  tcase_add_test (tc, test_error_events);
  tcase_add_test (tc, test_malformed_server_events);
  tcase_add_test (tc, test_missing_or_malformed_key);
  tcase_add_test (tc, test_unauthorized);
  tcase_add_test (tc, test_state_changes_connected);
  tcase_add_test (tc, test_pcm16_odd_deltas);
  tcase_add_test (tc, test_preroll_silence);
  tcase_add_test (tc, test_eos_sent_to_source);
  return s;
}

GST_CHECK_MAIN (openairealtime);
