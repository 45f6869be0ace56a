/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session's lifecycle through openairealtimesink against a
 * fake Realtime server (fakerealtime.c): caller audio held until
 * session.updated and its bound, reconnect after an abrupt close and
 * planned renewal with the conversation replayed, the response timeout,
 * and the commit at EOS without turn detection.
 */
#include <string.h>

#include "testutil.h"
#include "gstopenairealtimeloop.h"

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
  audio = fake_realtime_wait_audio (server, 40 * 960, WAIT_S);
  size = g_bytes_get_size (audio);
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

/* An abrupt close: reconnect, configuration again, conversation replayed,
 * caller audio of the gap delivered. */
GST_START_TEST (test_reconnect_replays_context)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness_with (server, "reconnect", PCM_CAPS, bus,
      "transcription-model", "gpt-4o-mini-transcribe", NULL);
  RealtimeClientEvent *ev;
  GstStructure *s;
  guint8 counter = 0;
  gboolean user_seen = FALSE, assistant_seen = FALSE;
  guint i;
  GBytes *audio;

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

  audio = fake_realtime_wait_audio (server, 10 * 960, WAIT_S);
  fail_unless_equals_int (g_bytes_get_size (audio), 10 * 960);
  g_bytes_unref (audio);

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* renew-interval: a planned reconnect (attempt 0) at a quiet moment, with
 * the configuration re-sent and the conversation replayed. */
GST_START_TEST (test_session_renewal)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness_with (server, "renewal", PCM_CAPS, bus,
      "renew-interval", 1, "transcription-model", "gpt-4o-mini-transcribe",
      NULL);
  RealtimeClientEvent *ev;
  GstStructure *s;
  guint8 counter = 0;
  gint attempt = -1;
  gint first_replay;

  push_pattern (h, 1, 960, &counter);
  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);

  /* an active response holds the renewal back until response.done, so the
   * transcripts are in the history whenever the 1 s timer fires */
  fake_realtime_send (server, realtime_build_response_created ("resp_1"));
  fake_realtime_send (server,
      realtime_build_transcription_completed ("item_u1", "Book a table."));
  fake_realtime_send (server,
      realtime_build_output_audio_transcript_done ("resp_1", "item_a1",
          "For how many?"));
  s = wait_message (bus, "realtime-transcript", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  s = wait_message (bus, "realtime-transcript", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  fake_realtime_send (server, realtime_build_response_done ("resp_1",
          "completed", NULL, 1, 2));

  s = wait_message (bus, "realtime-reconnecting", WAIT_S);
  fail_unless (s != NULL, "no renewal");
  fail_unless (gst_structure_get_int (s, "attempt", &attempt));
  fail_unless_equals_int (attempt, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "reason"),
      "session renewal");
  gst_structure_free (s);

  fail_unless (fake_realtime_wait_connections (server, 2, WAIT_S));
  ev = fake_realtime_wait_event (server, "session.update", 1, WAIT_S);
  fail_unless (ev != NULL, "configuration not re-sent on renewal");
  fail_unless_equals_string (ev->session->transcription_model,
      "gpt-4o-mini-transcribe");
  realtime_client_event_free (ev);

  ev = fake_realtime_wait_event (server, "conversation.item.create", 0, WAIT_S);
  fail_unless (ev != NULL, "conversation not replayed on renewal");
  fail_unless_equals_string (ev->item.role, "user");
  fail_unless_equals_string (ev->item.text, "Book a table.");
  realtime_client_event_free (ev);
  ev = fake_realtime_wait_event (server, "conversation.item.create", 1, WAIT_S);
  fail_unless (ev != NULL);
  fail_unless_equals_string (ev->item.role, "assistant");
  fail_unless_equals_string (ev->item.text, "For how many?");
  realtime_client_event_free (ev);
  /* replayed on the new connection, after its session.update */
  first_replay = fake_realtime_index_of (server, "conversation.item.create", 0);
  fail_unless (first_replay > fake_realtime_index_of (server,
          "session.update", 1));

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* A response.create that the server never answers with response.created
 * is reported, and the session goes on. */
GST_START_TEST (test_response_timeout)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness_with (server, "resptimeout", PCM_CAPS, bus,
      "greeting", "Greet the caller.", "response-timeout", 300, NULL);
  RealtimeClientEvent *ev;
  GstStructure *s;
  guint8 counter = 0;
  gboolean fatal = TRUE;
  GBytes *audio;

  push_pattern (h, 1, 960, &counter);

  ev = fake_realtime_wait_event (server, "response.create", 0, WAIT_S);
  fail_unless (ev != NULL, "no greeting response.create");
  fail_unless_equals_string (ev->instructions, "Greet the caller.");
  realtime_client_event_free (ev);

  s = wait_message (bus, "realtime-error", WAIT_S);
  fail_unless (s != NULL, "response timeout not reported");
  fail_unless_equals_string (gst_structure_get_string (s, "code"),
      "response_timeout");
  fail_unless (strstr (gst_structure_get_string (s, "message"),
          "300 ms") != NULL);
  fail_unless (gst_structure_get_boolean (s, "fatal", &fatal));
  fail_if (fatal);
  gst_structure_free (s);

  /* not fatal: audio still flows */
  push_pattern (h, 1, 960, &counter);
  audio = fake_realtime_wait_audio (server, 2 * 960, WAIT_S);
  fail_unless_equals_int (g_bytes_get_size (audio), 2 * 960);
  g_bytes_unref (audio);

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* Past max-buffered-ms before session.updated, the oldest audio goes and a
 * realtime-error says how many bytes; the newest arrives intact. */
GST_START_TEST (test_input_buffer_bound)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_HOLD_UPDATED);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness_with (server, "bound",
      "audio/x-mulaw, rate=8000, channels=1", bus, "max-buffered-ms", 1000,
      NULL);
  RealtimeClientEvent *update;
  GstStructure *s;
  GBytes *audio;
  const guint8 *data;
  guint8 counter = 0;
  gsize i, size;
  gboolean fatal = TRUE;

  /* 1 s of mu-law is 8000 bytes; send 2 s (100 x 20 ms) while held */
  push_pattern (h, 100, 160, &counter);
  update = fake_realtime_wait_event (server, "session.update", 0, WAIT_S);
  fail_unless (update != NULL);
  realtime_client_event_free (update);
  fail_unless_equals_int (fake_realtime_count (server,
          "input_audio_buffer.append"), 0);
  fake_realtime_release_updated (server);

  s = wait_message (bus, "realtime-error", WAIT_S);
  fail_unless (s != NULL, "dropped audio not reported");
  fail_unless_equals_string (gst_structure_get_string (s, "code"),
      "input_dropped");
  fail_unless (strstr (gst_structure_get_string (s, "message"),
          "8000 bytes") != NULL, "message does not say how much: %s",
      gst_structure_get_string (s, "message"));
  fail_unless (gst_structure_get_boolean (s, "fatal", &fatal));
  fail_if (fatal);
  gst_structure_free (s);

  audio = fake_realtime_wait_audio (server, 8000, WAIT_S);
  data = g_bytes_get_data (audio, &size);
  fail_unless_equals_int (size, 8000);
  /* the newest second: bytes 8000..15999 of the pattern */
  for (i = 0; i < size; i++)
    fail_unless (data[i] == (guint8) (8000 + i), "byte %" G_GSIZE_FORMAT
        " differs", i);
  g_bytes_unref (audio);

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* turn-detection=none: no server VAD, and EOS commits the input and asks
 * for a response, after all audio. */
GST_START_TEST (test_commit_at_eos_without_vad)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h = sink_harness_with (server, "eoscommit", PCM_CAPS, bus,
      "turn-detection", REALTIME_TURN_DETECTION_NONE, NULL);
  RealtimeClientEvent *ev;
  GstStructure *s;
  guint8 counter = 0;
  gint commit, last_append;
  GBytes *audio;

  push_pattern (h, 5, 960, &counter);
  ev = fake_realtime_wait_event (server, "session.update", 0, WAIT_S);
  fail_unless (ev != NULL);
  fail_unless_equals_int (ev->session->turn_detection,
      REALTIME_TURN_DETECTION_NONE);
  realtime_client_event_free (ev);
  s = wait_message (bus, "realtime-session-updated", WAIT_S);
  fail_unless (s != NULL);
  gst_structure_free (s);
  fail_unless_equals_int (fake_realtime_count (server,
          "input_audio_buffer.commit"), 0);

  push_pattern (h, 5, 960, &counter);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  ev = fake_realtime_wait_event (server, "response.create", 0, WAIT_S);
  fail_unless (ev != NULL, "no response.create at EOS");
  realtime_client_event_free (ev);

  audio = fake_realtime_wait_audio (server, 10 * 960, WAIT_S);
  fail_unless_equals_int (g_bytes_get_size (audio), 10 * 960);
  g_bytes_unref (audio);
  commit = fake_realtime_index_of (server, "input_audio_buffer.commit", 0);
  fail_unless (commit >= 0, "no input_audio_buffer.commit at EOS");
  last_append = fake_realtime_index_of (server, "input_audio_buffer.append",
      fake_realtime_count (server, "input_audio_buffer.append") - 1);
  fail_unless (last_append < commit, "audio sent after the commit");
  fail_unless (commit < fake_realtime_index_of (server, "response.create", 0));
  fail_unless_equals_int (fake_realtime_count (server,
          "input_audio_buffer.commit"), 1);

  release_harness (h);
  release_bus (bus);
  fake_realtime_free (server);
}

GST_END_TEST;

/* Threads of this process whose name starts with prefix. */
static guint
count_threads (const gchar * prefix)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;
  guint n = 0;

  fail_unless (dir != NULL);
  while ((tid = g_dir_read_name (dir))) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL)
        && g_str_has_prefix (comm, prefix))
      n++;
    g_free (comm);
    g_free (path);
  }
  g_dir_close (dir);
  return n;
}

#define N_POOL_SESSIONS 5

/* Sessions share the pool's loop threads (2 here), each works, and the
 * threads end with the last session. */
GST_START_TEST (test_sessions_share_loop_threads)
{
  FakeRealtime *servers[N_POOL_SESSIONS];
  GstHarness *harnesses[N_POOL_SESSIONS];
  GstBus *bus = gst_bus_new ();
  guint i;

  g_setenv (GST_OPENAI_REALTIME_LOOPS_ENV, "2", TRUE);
  fail_unless_equals_int (count_threads ("rt-loop"), 0);
  for (i = 0; i < N_POOL_SESSIONS; i++) {
    gchar *name = g_strdup_printf ("pool%u", i);

    servers[i] = fake_realtime_new (FAKE_REALTIME_NORMAL);
    harnesses[i] = sink_harness (servers[i], name, PCM_CAPS, bus);
    g_free (name);
  }
  for (i = 0; i < N_POOL_SESSIONS; i++) {
    guint8 counter = 0;
    GBytes *audio;

    push_pattern (harnesses[i], 5, 960, &counter);
    audio = fake_realtime_wait_audio (servers[i], 5 * 960, WAIT_S);
    fail_unless_equals_int (g_bytes_get_size (audio), 5 * 960);
    g_bytes_unref (audio);
  }
  fail_unless_equals_int (count_threads ("rt-loop"), 2);
  fail_unless_equals_int (count_threads ("rt:"), 0);

  for (i = 0; i < N_POOL_SESSIONS; i++) {
    release_harness (harnesses[i]);
    fake_realtime_free (servers[i]);
  }
  /* a release joins the loop's thread when it was the last session on it */
  fail_unless_equals_int (count_threads ("rt-loop"), 0);
  release_bus (bus);
  g_unsetenv (GST_OPENAI_REALTIME_LOOPS_ENV);
}

GST_END_TEST;

/* Upstream can only give PCM16 (a decoder that negotiates on its first
 * output): session.update goes out before any audio. */
GST_START_TEST (test_session_update_before_first_buffer)
{
  FakeRealtime *server = fake_realtime_new (FAKE_REALTIME_NORMAL);
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("appsrc", NULL);
  GstElement *dec = gst_element_factory_make ("mulawdec", NULL);
  GstElement *resample = gst_element_factory_make ("audioresample", NULL);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  GstElement *sink = make_element ("openairealtimesink", server, "early");
  GstCaps *caps;
  RealtimeClientEvent *update;

  fail_unless (src && dec && resample && filter && sink);
  caps = gst_caps_from_string ("audio/x-mulaw, rate=8000, channels=1");
  g_object_set (src, "caps", caps, "is-live", TRUE, "format",
      GST_FORMAT_TIME, NULL);
  gst_caps_unref (caps);
  caps = gst_caps_from_string ("audio/x-raw, rate=24000");
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add_many (GST_BIN (pipeline), src, dec, resample, filter, sink, NULL);
  fail_unless (gst_element_link_many (src, dec, resample, filter, sink, NULL));
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);

  update = fake_realtime_wait_event (server, "session.update", 0, WAIT_S);
  fail_unless (update != NULL, "no session.update before the first buffer");
  fail_unless_equals_int (update->session->input_format,
      REALTIME_AUDIO_FORMAT_PCM16);
  realtime_client_event_free (update);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
  fake_realtime_free (server);
}

GST_END_TEST;

static Suite *
openairealtime_session_suite (void)
{
  Suite *s = suite_create ("openairealtime_session");
  TCase *tc = tcase_create ("general");

  /* Loopback only: GIO's libproxy resolver would run libproxy (C++
   * exceptions in a worker thread, which valgrind misreads) for every
   * connect. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_session_update_before_audio_no_loss);
  tcase_add_test (tc, test_reconnect_replays_context);
  tcase_add_test (tc, test_session_renewal);
  tcase_add_test (tc, test_response_timeout);
  tcase_add_test (tc, test_input_buffer_bound);
  tcase_add_test (tc, test_commit_at_eos_without_vad);
  tcase_add_test (tc, test_sessions_share_loop_threads);
  tcase_add_test (tc, test_session_update_before_first_buffer);
  return s;
}

GST_CHECK_MAIN (openairealtime_session);
