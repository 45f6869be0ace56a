/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local model and the elements must never drift apart: every event the
 * model sends in a full session (handshake, a VAD turn and its echo,
 * barge-in, truncate, a function call, a client cancel, text, bad input,
 * the idle timeout, the session limit) is read back with the plugin's own
 * realtime_server_event_parse (), and none may fail or be UNKNOWN. Also the
 * idle timeout's and the session limit's behaviour in detail.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>

#include "localmodel.h"
#include "realtimeprotocol.h"
#include "testclient.h"

#define WAIT_MS TEST_WAIT_MS

/* Reads every frame @c received with the elements' parser; adds the types
 * seen to @seen. */
static void
check_parses (TestClient * c, GHashTable * seen)
{
  GPtrArray *raw = test_client_raw_history (c);
  guint i;

  fail_unless (raw->len > 0);
  for (i = 0; i < raw->len; i++) {
    const gchar *text = g_ptr_array_index (raw, i);
    GError *error = NULL;
    RealtimeServerEvent *ev = realtime_server_event_parse (text, -1, &error);

    fail_unless (ev != NULL, "the elements cannot parse %s: %s", text,
        error ? error->message : "?");
    fail_unless (ev->type != REALTIME_SERVER_UNKNOWN,
        "the elements do not know %s", text);
    fail_unless (ev->event_id != NULL, "no event_id: %s", text);
    g_hash_table_add (seen, g_strdup (ev->type_name));
    realtime_server_event_free (ev);
  }
}

#define SESSION_UPDATE \
  "{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\"," \
  "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"}," \
  "\"transcription\":{\"model\":\"gpt-4o-transcribe\"}," \
  "\"turn_detection\":{\"type\":\"server_vad\",\"idle_timeout_ms\":5000}}," \
  "\"output\":{\"format\":{\"type\":\"audio/pcmu\"}}}," \
  "\"tools\":[{\"type\":\"function\",\"name\":\"get_time\"," \
  "\"description\":\"The time\",\"parameters\":{\"type\":\"object\"," \
  "\"properties\":{}}}]}}"

GST_START_TEST (test_every_event_parses)
{
  static const gchar *const expected[] = {
    "session.created", "conversation.created", "session.updated",
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed", "input_audio_buffer.cleared",
    "input_audio_buffer.timeout_triggered",
    "conversation.item.added", "conversation.item.done",
    "conversation.item.truncated", "conversation.item.deleted",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "response.created", "rate_limits.updated", "response.output_item.added",
    "response.content_part.added", "response.output_audio_transcript.delta",
    "response.output_audio.delta", "response.output_audio.done",
    "response.output_audio_transcript.done", "response.content_part.done",
    "response.output_item.done", "response.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done", "error", NULL
  };
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *first_turn = test_ulaw_burst (300, 1000, 700, 440);
  GByteArray *second_turn = test_ulaw_burst (0, 800, 700, 660);
  GByteArray *silence = g_byte_array_new ();
  const guint8 binary[] = { 0, 1, 2 };
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  JsonObject *ev;
  gchar *echo_item, *call_id, *text_item;
  guint i;

  local_model_options_init (&opts);
  /* half real time: a barge-in surely finds the answer still streaming */
  opts.audio_pace = 0.5;
  opts.function_call_every = 2;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_client_send (c, SESSION_UPDATE);
  test_client_expect (c, "session.updated", WAIT_MS);

  /* turn 1: VAD, commit, transcription, the echo starts streaming */
  test_client_append (c, first_turn->data, first_turn->len, 160);
  ev = test_client_expect (c, "response.output_audio.delta", WAIT_MS);
  echo_item = g_strdup (test_string_at (ev, "item_id"));

  /* barge-in: the caller speaks again, the echo is cancelled */
  test_client_append (c, second_turn->data, second_turn->len, 160);
  test_client_expect (c, "input_audio_buffer.speech_started", WAIT_MS);
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "cancelled");
  fail_unless_equals_string (test_string_at (ev,
          "response.status_details.reason"), "turn_detected");

  /* turn 2 is a function call (every 2nd turn) */
  ev = test_client_expect (c, "response.function_call_arguments.done", WAIT_MS);
  call_id = g_strdup (test_string_at (ev, "call_id"));
  test_client_expect (c, "response.done", WAIT_MS);
  /* what the caller heard of the cancelled echo */
  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"%s\",\"content_index\":0,\"audio_end_ms\":40}", echo_item);
  test_client_expect (c, "conversation.item.truncated", WAIT_MS);
  test_client_sendf (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"function_call_output\",\"call_id\":\"%s\",\"output\":"
      "\"12:00\"}}", call_id);
  test_client_expect (c, "conversation.item.done", WAIT_MS);
  test_client_send (c, "{\"type\":\"response.create\"}");
  test_client_expect (c, "response.output_audio.delta", WAIT_MS);
  /* the client cancels it */
  test_client_send (c, "{\"type\":\"response.cancel\"}");
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev,
          "response.status_details.reason"), "client_cancelled");

  /* bad input of every kind */
  test_client_send (c, "{\"type\":\"response.cancel\"}");
  test_expect_error (c, "response_cancel_not_active");
  test_client_send (c, "{not json");
  test_expect_error (c, "invalid_json");
  test_client_send (c, "{\"type\":\"no.such.event\"}");
  test_expect_error (c, "invalid_value");
  test_client_send_binary (c, binary, sizeof (binary));
  test_expect_error (c, "invalid_event");
  test_client_send (c, "{\"type\":\"input_audio_buffer.append\","
      "\"audio\":\"not base64!\"}");
  test_expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"item_nope\",\"content_index\":0,\"audio_end_ms\":0}");
  test_expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"input_audio_buffer.clear\"}");
  test_client_expect (c, "input_audio_buffer.cleared", WAIT_MS);
  test_client_send (c, "{\"type\":\"input_audio_buffer.commit\"}");
  test_expect_error (c, "input_audio_buffer_commit_empty");

  /* a text message, answered, then deleted */
  test_client_send (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":"
      "\"input_text\",\"text\":\"hello\"}]}}");
  ev = test_client_expect (c, "conversation.item.done", WAIT_MS);
  text_item = g_strdup (test_string_at (ev, "item.id"));
  test_client_send (c, "{\"type\":\"response.create\"}");
  test_client_expect (c, "response.done", WAIT_MS);
  test_client_sendf (c, "{\"type\":\"conversation.item.delete\","
      "\"item_id\":\"%s\"}", text_item);
  test_client_expect (c, "conversation.item.deleted", WAIT_MS);

  /* 6 s of silence: the idle timeout (5 s) commits it and answers */
  g_byte_array_set_size (silence, 6 * 8000);
  memset (silence->data, 0xff, silence->len);   /* mu-law 0 */
  test_client_append (c, silence->data, silence->len, 160);
  test_client_expect (c, "input_audio_buffer.timeout_triggered", WAIT_MS);
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "completed");

  check_parses (c, seen);
  for (i = 0; expected[i]; i++)
    fail_unless (g_hash_table_contains (seen, expected[i]),
        "the session never sent %s", expected[i]);

  g_free (echo_item);
  g_free (call_id);
  g_free (text_item);
  g_hash_table_unref (seen);
  g_byte_array_unref (first_turn);
  g_byte_array_unref (second_turn);
  g_byte_array_unref (silence);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

/* The idle timeout counts input audio from when the caller has heard the
 * answer, not before, and speech re-arms nothing until the next answer. */
GST_START_TEST (test_idle_timeout)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *speech = test_ulaw_burst (200, 600, 400, 440);
  GByteArray *silence = g_byte_array_new ();
  JsonObject *ev;
  LocalModelStats stats;
  gint64 heard_until, start_ms, end_ms;
  gint n;

  local_model_options_init (&opts);
  opts.audio_pace = 0;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_client_send (c, "{\"type\":\"session.update\",\"session\":{\"type\":"
      "\"realtime\",\"audio\":{\"input\":{\"format\":{\"type\":"
      "\"audio/pcmu\"},\"turn_detection\":{\"type\":\"server_vad\","
      "\"idle_timeout_ms\":5000}},\"output\":{\"format\":{\"type\":"
      "\"audio/pcmu\"}}}}}");
  test_client_expect (c, "session.updated", WAIT_MS);

  /* before any answer, silence triggers nothing */
  g_byte_array_set_size (silence, 7 * 8000);
  memset (silence->data, 0xff, silence->len);
  test_client_append (c, silence->data, silence->len, 160);
  /* one turn: speech ends at 7000 + 800 ms; stopped at +200 ms */
  test_client_append (c, speech->data, speech->len, 160);
  ev = test_client_expect (c, "response.created", WAIT_MS);
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless (test_client_find (c, "input_audio_buffer.timeout_triggered",
          0) < 0);
  /* the answer (padding + speech: 300 + 600 ms) was created at 8000 ms of
   * input: the caller has heard it at 8900 ms */
  heard_until = 7000 + 1000 + 900;

  /* 4 s more silence than the 1.2 s appended so far: nothing yet */
  n = test_client_history (c)->len;
  g_byte_array_set_size (silence, (heard_until + 4900 - 8200) * 8);
  test_client_append (c, silence->data, silence->len, 160);
  /* a marker: once its error is back, every append before it was handled */
  test_client_send (c, "{\"type\":\"response.cancel\"}");
  test_expect_error (c, "response_cancel_not_active");
  fail_unless (test_client_find (c, "input_audio_buffer.timeout_triggered",
          n) < 0);

  /* 200 ms more: 5 s after the caller heard the answer */
  g_byte_array_set_size (silence, 200 * 8);
  test_client_append (c, silence->data, silence->len, 160);
  ev = test_client_expect (c, "input_audio_buffer.timeout_triggered", WAIT_MS);
  start_ms = test_int_at (ev, "audio_start_ms");
  end_ms = test_int_at (ev, "audio_end_ms");
  fail_unless_equals_int (start_ms, heard_until);
  fail_unless (end_ms - start_ms >= 5000 && end_ms - start_ms <= 5020,
      "idle segment %d .. %d", (gint) start_ms, (gint) end_ms);
  /* the silence is committed under the event's item, then answered */
  ev = test_client_expect (c, "input_audio_buffer.committed", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "item_id"),
      test_string_at (g_ptr_array_index (test_client_history (c),
              test_client_find (c, "input_audio_buffer.timeout_triggered",
                  n)), "item_id"));
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "completed");
  fail_unless_equals_string (test_response_transcript (ev),
      "[idle] nothing heard for 5.0 s: are you still there?");
  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.idle_timeouts, 1);
  local_model_stats_clear (&stats);

  g_byte_array_unref (speech);
  g_byte_array_unref (silence);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

/* Whether the model's active sessions come to @n within @timeout_ms. */
static gboolean
wait_sessions_active (LocalModel * model, guint n, guint timeout_ms)
{
  gint64 deadline =
      g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  LocalModelStats stats;
  guint active;

  for (;;) {
    local_model_get_stats (model, &stats);
    active = stats.sessions_active;
    local_model_stats_clear (&stats);
    if (active == n || g_get_monotonic_time () > deadline)
      return active == n;
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  }
}

/* The session limit ends a session the way the real API does. */
GST_START_TEST (test_session_limit)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  JsonObject *ev;
  LocalModelStats stats;
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  gint64 opened_s = g_get_real_time () / G_USEC_PER_SEC;

  local_model_options_init (&opts);
  fail_unless_equals_int (opts.session_limit_ms, 60 * 60 * 1000);
  opts.session_limit_ms = 1500;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  ev = g_ptr_array_index (test_client_history (c), 0);
  fail_unless_equals_string (test_string_at (ev, "type"), "session.created");
  /* expires_at says when, in unix seconds */
  fail_unless (test_int_at (ev, "session.expires_at") >= opened_s + 1);
  fail_unless (test_int_at (ev, "session.expires_at") <= opened_s + 3);

  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "session_expired");
  fail_unless_equals_string (test_string_at (ev, "error.message"),
      "Your session hit the maximum duration of 1.5 seconds.");
  fail_unless_equals_int (test_client_wait_closed (c, WAIT_MS), 1001);
  check_parses (c, seen);
  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.sessions_expired, 1);
  local_model_stats_clear (&stats);
  /* The model drops the session once its side of the closing handshake
   * is done, which may come just after the client saw the close. */
  fail_unless (wait_sessions_active (model, 0, WAIT_MS),
      "the expired session is still active");

  g_hash_table_unref (seen);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

static Suite *
localmodel_wire_suite (void)
{
  Suite *s = suite_create ("localmodel_wire");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, test_net_start, test_net_stop);
  tcase_add_test (tc, test_every_event_parses);
  tcase_add_test (tc, test_idle_timeout);
  tcase_add_test (tc, test_session_limit);
  return s;
}

GST_CHECK_MAIN (localmodel_wire);
