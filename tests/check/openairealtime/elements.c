/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * openairealtimesrc / openairealtimesink against a fake Realtime server on
 * loopback (fakerealtime.c) that checks what the client sends.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <string.h>

#include "fakerealtime.h"

#define TEST_KEY "sk-test-0123456789abcdef"
#define PCM_CAPS "audio/x-raw, format=S16LE, layout=interleaved, rate=24000, channels=1"
#define WAIT_S 10.0

static GstElement *
make_element (const gchar * factory, FakeRealtime * server,
    const gchar * session)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  fail_unless (element != NULL);
  g_object_set (element, "url", fake_realtime_get_url (server),
      "api-key", TEST_KEY, "session", session, NULL);
  return element;
}

/* A sink harness fed with @caps; the element posts to @bus. */
static GstHarness *
sink_harness (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus)
{
  GstElement *sink = make_element ("openairealtimesink", server, session);
  GstHarness *h;

  gst_element_set_bus (sink, bus);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_harness_set_src_caps_str (h, caps);
  gst_object_unref (sink);
  return h;
}

static GstHarness *
src_harness (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus)
{
  GstElement *src = make_element ("openairealtimesrc", server, session);
  GstHarness *h;

  gst_element_set_bus (src, bus);
  h = gst_harness_new_with_element (src, NULL, "src");
  gst_harness_set_sink_caps_str (h, caps);
  gst_harness_play (h);
  gst_object_unref (src);
  return h;
}

static void
push_pattern (GstHarness * h, guint n, gsize size, guint8 * counter)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
    GstMapInfo map;
    gsize j;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (j = 0; j < size; j++)
      map.data[j] = (*counter)++;
    gst_buffer_unmap (buf, &map);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
}

/* Waits for an element message named @name; returns a copy of its
 * structure or NULL. Other messages are skipped. */
static GstStructure *
wait_message (GstBus * bus, const gchar * name, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;
    GstStructure *s = NULL;

    if (left <= 0)
      return NULL;
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_ELEMENT);
    if (msg == NULL)
      return NULL;
    if (gst_message_has_name (msg, name))
      s = gst_structure_copy (gst_message_get_structure (msg));
    gst_message_unref (msg);
    if (s)
      return s;
  }
}

static GError *
wait_error (GstBus * bus, gdouble timeout_s, gchar ** debug)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus,
      timeout_s * GST_SECOND, GST_MESSAGE_ERROR);
  GError *error = NULL;

  if (msg == NULL)
    return NULL;
  gst_message_parse_error (msg, &error, debug);
  gst_message_unref (msg);
  return error;
}

static void
release_harness (GstHarness * h)
{
  gst_harness_teardown (h);
}

/* Messages left on the bus hold their source element, which holds the bus. */
static void
release_bus (GstBus * bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* session.update comes first; audio before session.updated is held and
 * then delivered complete and in order; the key is only in the header. */
GST_START_TEST (test_session_update_before_audio_no_loss)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_HOLD_UPDATED);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness (server, "noloss", PCM_CAPS, bus);
  RealtimeClientEvent *update;
  guint8 counter = 0, expect = 0;
  GBytes *audio;
  gchar **types;
  gchar *auth;
  gsize i, size;
  const guint8 *data;
  gint64 deadline;

  /* 40 x 20 ms, sent while the server holds back session.updated */
  push_pattern (h, 20, 960, &counter);
  update = fake_realtime_wait_event (server, "session.update", 0, WAIT_S);
  fail_unless (update != NULL, "no session.update");
  fail_unless_equals_string (update->session_type, "realtime");
  fail_unless_equals_int (update->session->input_format,
      REALTIME_AUDIO_FORMAT_PCM16);
  realtime_client_event_free (update);
  push_pattern (h, 20, 960, &counter);
  fail_unless_equals_int (fake_realtime_count (server,
          "input_audio_buffer.append"), 0);

  fake_realtime_release_updated (server);
  deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  do {
    audio = fake_realtime_get_audio (server);
    size = g_bytes_get_size (audio);
    if (size >= 40 * 960)
      break;
    g_bytes_unref (audio);
    audio = NULL;
    g_usleep (10000);
  } while (g_get_monotonic_time () < deadline);
  fail_unless (audio != NULL, "audio did not arrive");
  fail_unless_equals_int (size, 40 * 960);
  data = g_bytes_get_data (audio, NULL);
  for (i = 0; i < size; i++)
    fail_unless (data[i] == expect++, "byte %" G_GSIZE_FORMAT " differs", i);
  g_bytes_unref (audio);

  types = fake_realtime_get_types (server);
  fail_unless_equals_string (types[0], "session.update");
  g_strfreev (types);

  auth = fake_realtime_get_authorization (server);
  fail_unless_equals_string (auth, "Bearer " TEST_KEY);
  g_free (auth);

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

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

static GstPadProbeReturn
position_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);

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

static GstBuffer *
pull_buffer (GstHarness * h)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  GstBuffer *buf = NULL;

  while (buf == NULL && g_get_monotonic_time () < deadline) {
    buf = gst_harness_try_pull (h);
    if (buf == NULL)
      g_usleep (5000);
  }
  return buf;
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
  GstClockTime last_end = 0;

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
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), i * 100 * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 100 * GST_MSECOND);
    last_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
    gst_buffer_unref (buf);
  }

  answered_position = 400 * GST_MSECOND;
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

  buf = pull_buffer (hsrc);
  fail_unless (buf != NULL);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  fail_unless_equals_int (map.size, 2400);
  fail_unless_equals_int (map.data[0], 0x22);
  gst_buffer_unmap (buf, &map);
  /* the timeline continues after the flush */
  fail_unless (GST_BUFFER_PTS (buf) >= last_end);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
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

/* An abrupt close: reconnect, configuration again, conversation replayed,
 * caller audio of the gap delivered. */
GST_START_TEST (test_reconnect_replays_context)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness (server, "reconnect", PCM_CAPS, bus);
  RealtimeClientEvent *ev;
  GstStructure *s;
  guint8 counter = 0;
  gboolean user_seen = FALSE, assistant_seen = FALSE;
  guint i;
  GBytes *audio;
  gint64 deadline;

  g_object_set (h->element, "transcription-model", "gpt-4o-mini-transcribe",
      NULL);
  push_pattern (h, 5, 960, &counter);
  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);

  fake_realtime_send (server,
      realtime_build_transcription_completed ("item_u1", "What time is it?"));
  fake_realtime_send (server,
      realtime_build_output_audio_transcript_done ("resp_1", "item_a1",
          "It is noon."));
  s = wait_message (bus, "realtime-transcript", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  s = wait_message (bus, "realtime-transcript", WAIT_S);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "role"), "assistant");
  gst_structure_free (s);

  fake_realtime_drop (server);
  s = wait_message (bus, "realtime-reconnecting", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  /* audio of the gap is kept */
  push_pattern (h, 5, 960, &counter);

  fail_unless (fake_realtime_wait_connections (server, 2, WAIT_S));
  ev = fake_realtime_wait_event (server, "session.update", 1, WAIT_S);
  fail_unless (ev != NULL, "configuration not re-sent");
  realtime_client_event_free (ev);
  for (i = 0; i < 2; i++) {
    ev = fake_realtime_wait_event (server, "conversation.item.create", i,
        WAIT_S);
    fail_unless (ev != NULL, "conversation not replayed");
    if (g_strcmp0 (ev->item.role, "user") == 0)
      user_seen = g_strcmp0 (ev->item.text, "What time is it?") == 0;
    if (g_strcmp0 (ev->item.role, "assistant") == 0)
      assistant_seen = g_strcmp0 (ev->item.text, "It is noon.") == 0;
    realtime_client_event_free (ev);
  }
  fail_unless (user_seen && assistant_seen);

  deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  do {
    audio = fake_realtime_get_audio (server);
    if (g_bytes_get_size (audio) >= 10 * 960)
      break;
    g_bytes_unref (audio);
    audio = NULL;
    g_usleep (10000);
  } while (g_get_monotonic_time () < deadline);
  fail_unless (audio != NULL);
  fail_unless_equals_int (g_bytes_get_size (audio), 10 * 960);
  g_bytes_unref (audio);

  release_harness (h);
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
          gst_buffer_new_allocate (NULL, 960, NULL)), GST_FLOW_ERROR);

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
          gst_buffer_new_allocate (NULL, 960, NULL)), GST_FLOW_OK);

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

static Suite *
openairealtime_suite (void)
{
  Suite *s = suite_create ("openairealtime");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_session_update_before_audio_no_loss);
  tcase_add_test (tc, test_formats_from_caps);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_function_call_round_trip);
  tcase_add_test (tc, test_reconnect_replays_context);
  tcase_add_test (tc, test_error_events);
  tcase_add_test (tc, test_malformed_server_events);
  tcase_add_test (tc, test_missing_or_malformed_key);
  tcase_add_test (tc, test_unauthorized);
  tcase_add_test (tc, test_state_changes_connected);
  return s;
}

GST_CHECK_MAIN (openairealtime);
