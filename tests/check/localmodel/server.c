/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local Realtime model driven over real WebSockets on loopback:
 * handshake, strict session.update, server VAD timing, the echo's audio,
 * barge-in, truncate/cancel, a function call round trip, bad input and
 * the fault options.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include "localmodel.h"
#include "modelaudio.h"
#include "testclient.h"

#define WAIT_MS TEST_WAIT_MS

static const gchar *
str_at (JsonObject * obj, const gchar * path)
{
  JsonNode *node = json_object_get_member (obj, path);
  return node ? json_node_get_string (node) : NULL;
}

GST_START_TEST (test_handshake_defaults)
{
  LocalModel *model = test_model_start (NULL);
  gchar *url = local_model_get_url (model);
  guint status;
  TestClient *c = test_client_connect (url, "sk-anything", FALSE, &status);
  JsonObject *ev;
  GPtrArray *h;

  fail_unless (g_str_has_prefix (url, "ws://127.0.0.1:"));
  fail_unless (g_str_has_suffix (url, "/v1/realtime"));
  fail_unless (c != NULL);
  ev = test_client_expect (c, "session.created", WAIT_MS);
  h = test_client_history (c);
  fail_unless_equals_int (h->len, 1);   /* the first event */
  fail_unless_equals_string (test_string_at (ev, "session.type"), "realtime");
  fail_unless_equals_string (test_string_at (ev, "session.model"),
      "gpt-realtime");
  fail_unless (g_str_has_prefix (test_string_at (ev, "session.id"), "sess_"));
  fail_unless_equals_string (test_string_at (ev,
          "session.audio.input.format.type"), "audio/pcm");
  fail_unless_equals_int (test_int_at (ev, "session.audio.input.format.rate"),
      24000);
  fail_unless_equals_string (test_string_at (ev,
          "session.audio.input.turn_detection.type"), "server_vad");
  fail_unless_equals_int (test_int_at (ev,
          "session.audio.input.turn_detection.prefix_padding_ms"), 300);
  fail_unless_equals_int (test_int_at (ev,
          "session.audio.input.turn_detection.silence_duration_ms"), 200);
  fail_unless_equals_string (test_string_at (ev, "session.audio.output.voice"),
      "marin");
  test_client_expect (c, "conversation.created", WAIT_MS);

  test_client_send (c, "{\"type\":\"session.update\",\"event_id\":\"ev1\","
      "\"session\":{\"type\":\"realtime\",\"instructions\":\"Be brief\","
      "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"},"
      "\"turn_detection\":{\"type\":\"server_vad\",\"silence_duration_ms\":"
      "500}},\"output\":{\"format\":{\"type\":\"audio/pcma\"},"
      "\"voice\":\"cedar\"}}}}");
  ev = test_client_expect (c, "session.updated", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev,
          "session.audio.input.format.type"), "audio/pcmu");
  fail_unless (test_node_at (ev, "session.audio.input.format.rate") == NULL);
  fail_unless_equals_string (test_string_at (ev,
          "session.audio.output.format.type"), "audio/pcma");
  fail_unless_equals_string (test_string_at (ev, "session.audio.output.voice"),
      "cedar");
  fail_unless_equals_string (test_string_at (ev, "session.instructions"),
      "Be brief");
  /* a partial turn_detection keeps the server's defaults for the rest */
  fail_unless_equals_int (test_int_at (ev,
          "session.audio.input.turn_detection.silence_duration_ms"), 500);
  fail_unless_equals_int (test_int_at (ev,
          "session.audio.input.turn_detection.prefix_padding_ms"), 300);

  test_client_free (c);
  g_free (url);
  local_model_free (model);
}

GST_END_TEST;

static void
expect_update_error (TestClient * c, const gchar * session_json,
    const gchar * code, const gchar * param)
{
  JsonObject *ev;

  test_client_sendf (c, "{\"type\":\"session.update\",\"event_id\":\"upd\","
      "\"session\":%s}", session_json);
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.type"),
      "invalid_request_error");
  fail_unless_equals_string (test_string_at (ev, "error.code"), code);
  fail_unless_equals_string (test_string_at (ev, "error.param"), param);
  fail_unless_equals_string (test_string_at (ev, "error.event_id"), "upd");
  fail_unless (test_string_at (ev, "error.message") != NULL);
}

GST_START_TEST (test_session_update_strict)
{
  LocalModel *model = test_model_start (NULL);
  TestClient *c = test_model_connect (model);
  JsonObject *ev;

  expect_update_error (c, "{\"type\":\"realtime\",\"temperature\":0.8}",
      "unknown_parameter", "session.temperature");
  /* beta-era fields are unknown to GA */
  expect_update_error (c, "{\"type\":\"realtime\","
      "\"input_audio_format\":\"g711_ulaw\"}", "unknown_parameter",
      "session.input_audio_format");
  expect_update_error (c, "{\"type\":\"realtime\",\"audio\":{\"input\":"
      "{\"turn_detection\":{\"type\":\"server_vad\",\"eagerness\":\"low\"}}}}",
      "unknown_parameter", "session.audio.input.turn_detection.eagerness");
  expect_update_error (c, "{\"instructions\":\"x\"}",
      "missing_required_parameter", "session.type");
  expect_update_error (c, "{\"type\":\"realtime\",\"audio\":{\"output\":"
      "{\"format\":{\"type\":\"audio/pcm\"}}}}",
      "missing_required_parameter", "session.audio.output.format.rate");
  expect_update_error (c, "{\"type\":\"realtime\",\"audio\":{\"input\":"
      "{\"format\":{\"type\":\"pcm16\"}}}}", "invalid_value",
      "session.audio.input.format.type");
  expect_update_error (c, "{\"type\":\"realtime\",\"audio\":{\"input\":"
      "{\"format\":{\"type\":\"audio/pcm\",\"rate\":16000}}}}",
      "invalid_value", "session.audio.input.format.rate");
  expect_update_error (c, "{\"type\":\"realtime\",\"instructions\":5}",
      "invalid_type", "session.instructions");
  expect_update_error (c, "{\"type\":\"realtime\",\"audio\":{\"input\":"
      "{\"turn_detection\":{\"type\":\"server_vad\",\"threshold\":2}}}}",
      "decimal_above_max_value",
      "session.audio.input.turn_detection.threshold");
  expect_update_error (c, "{\"type\":\"realtime\",\"output_modalities\":"
      "[\"audio\",\"text\"]}", "invalid_value", "session.output_modalities");
  expect_update_error (c, "{\"type\":\"realtime\",\"tools\":[{\"type\":"
      "\"function\",\"name\":\"f\",\"strict\":true}]}", "unknown_parameter",
      "session.tools[0].strict");

  /* none of the rejected updates changed anything */
  test_client_send (c, "{\"type\":\"session.update\",\"session\":"
      "{\"type\":\"realtime\"}}");
  ev = test_client_expect (c, "session.updated", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev,
          "session.audio.input.format.type"), "audio/pcm");
  fail_unless_equals_string (test_string_at (ev,
          "session.audio.input.turn_detection.type"), "server_vad");

  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

/* 1 s of tone between silences: VAD events at the right offsets, and the
 * echo is the caller's audio from audio_start_ms to the end of speech. */
static void
run_vad_echo (const gchar * format_json, gboolean g711, gboolean alaw)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GArray *pcm8 = test_burst_8k (1000, 1000, 1500, 440);
  GByteArray *wire;
  GByteArray *echo = g_byte_array_new ();
  JsonObject *ev;
  gint started, stopped, committed, added, created, first_delta, done;
  guint i;

  local_model_options_init (&opts);
  opts.audio_pace = 0;          /* all at once: the test is not about pace */
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_session_update (c, format_json, NULL);

  if (g711) {
    wire = test_encode_8k (pcm8, alaw);
  } else {
    /* the same signal at 24 kHz, PCM16 LE */
    GArray *pcm24 = g_array_new (FALSE, FALSE, sizeof (gint16));
    ModelAudioDecoder dec = { 0, };
    GByteArray *u = test_encode_8k (pcm8, FALSE);

    model_audio_decode (&dec, REALTIME_AUDIO_FORMAT_PCMU, u->data, u->len,
        pcm24);
    wire = g_byte_array_new ();
    model_audio_encode (REALTIME_AUDIO_FORMAT_PCM16, (gint16 *) pcm24->data,
        pcm24->len, FALSE, wire);
    g_array_unref (pcm24);
    g_byte_array_unref (u);
  }
  /* 20 ms per append, like Twilio */
  test_client_append (c, wire->data, wire->len, g711 ? 160 : 960);

  ev = test_client_expect (c, "input_audio_buffer.speech_started", WAIT_MS);
  /* tone at 1000 ms, minus 300 ms prefix padding; +- one 10 ms frame */
  fail_unless (ABS (test_int_at (ev, "audio_start_ms") - 700) <= 10,
      "audio_start_ms %d", (gint) test_int_at (ev, "audio_start_ms"));
  ev = test_client_expect (c, "input_audio_buffer.speech_stopped", WAIT_MS);
  /* tone ends at 2000 ms, plus 200 ms of silence */
  fail_unless (ABS (test_int_at (ev, "audio_end_ms") - 2200) <= 10,
      "audio_end_ms %d", (gint) test_int_at (ev, "audio_end_ms"));
  ev = test_collect_response (c, echo);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "completed");
  fail_unless_equals_string (test_response_transcript (ev),
      "[echo] 1.0 s of your speech");
  /* usage from durations: 1.5 s input item -> 15, 1.3 s output -> 26 */
  fail_unless_equals_int (test_int_at (ev,
          "response.usage.input_token_details.audio_tokens"), 15);
  fail_unless_equals_int (test_int_at (ev,
          "response.usage.output_token_details.audio_tokens"), 26);
  fail_unless (test_int_at (ev, "response.usage.total_tokens") ==
      test_int_at (ev, "response.usage.input_tokens") +
      test_int_at (ev, "response.usage.output_tokens"));

  /* order of a server-VAD turn */
  started = test_client_find (c, "input_audio_buffer.speech_started", 0);
  stopped = test_client_find (c, "input_audio_buffer.speech_stopped", 0);
  committed = test_client_find (c, "input_audio_buffer.committed", 0);
  added = test_client_find (c, "conversation.item.added", 0);
  created = test_client_find (c, "response.created", 0);
  first_delta = test_client_find (c, "response.output_audio.delta", 0);
  done = test_client_find (c, "response.output_audio.done", 0);
  fail_unless (started < stopped && stopped < committed && committed < added
      && added < created && created < first_delta && first_delta < done,
      "order %d %d %d %d %d %d %d", started, stopped, committed, added,
      created, first_delta, done);
  fail_unless (test_client_find (c, "response.output_audio_transcript.done",
          0) > first_delta);

  /* the echo: 700 ms .. 2000 ms of the input, sample for sample */
  if (g711) {
    fail_unless_equals_int (echo->len, 1300 * 8);
    for (i = 0; i < echo->len; i++) {
      gint16 got = alaw ? model_audio_alaw_decode (echo->data[i]) :
          model_audio_ulaw_decode (echo->data[i]);
      gint16 want = alaw ? model_audio_alaw_decode (wire->data[5600 + i]) :
          model_audio_ulaw_decode (wire->data[5600 + i]);
      fail_unless (got == want, "sample %u: %d != %d", i, got, want);
    }
  } else {
    fail_unless_equals_int (echo->len, 1300 * 48);
    fail_unless (memcmp (echo->data, wire->data + 700 * 48, echo->len) == 0);
  }

  g_byte_array_unref (echo);
  g_byte_array_unref (wire);
  g_array_unref (pcm8);
  test_client_free (c);
  local_model_free (model);
}

GST_START_TEST (test_vad_echo_pcmu)
{
  run_vad_echo ("{\"type\":\"audio/pcmu\"}", TRUE, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_vad_echo_pcma)
{
  run_vad_echo ("{\"type\":\"audio/pcma\"}", TRUE, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_vad_echo_pcm16)
{
  run_vad_echo ("{\"type\":\"audio/pcm\",\"rate\":24000}", FALSE, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_barge_in_and_truncate)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *first_burst = test_ulaw_burst (200, 1000, 400, 440);
  GByteArray *second_burst = test_ulaw_burst (0, 400, 400, 880);
  JsonObject *ev;
  gchar *item_id;
  gchar *response_id;
  LocalModelStats stats;

  local_model_options_init (&opts);
  opts.audio_pace = 1.0;        /* real time: the answer is still playing */
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_session_update (c, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_append (c, first_burst->data, first_burst->len, 160);
  ev = test_client_expect (c, "response.output_item.added", WAIT_MS);
  item_id = g_strdup (test_string_at (ev, "item.id"));
  response_id = g_strdup (str_at (ev, "response_id"));
  test_client_expect (c, "response.output_audio.delta", WAIT_MS);

  /* the caller speaks again while the 1.3 s answer streams */
  test_client_append (c, second_burst->data, second_burst->len, 160);
  test_client_expect (c, "input_audio_buffer.speech_started", WAIT_MS);
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "response.id"), response_id);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "cancelled");
  fail_unless_equals_string (test_string_at (ev,
          "response.status_details.reason"), "turn_detected");
  fail_unless (test_client_find (c, "response.output_audio.done", 0) >= 0);

  /* more than was generated: the real API's error */
  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"event_id\":\"t1\",\"item_id\":\"%s\",\"content_index\":0,"
      "\"audio_end_ms\":60000}", item_id);
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "invalid_value");
  fail_unless (strstr (test_string_at (ev, "error.message"),
          "already shorter"));
  fail_unless_equals_string (test_string_at (ev, "error.event_id"), "t1");

  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"%s\",\"content_index\":0,\"audio_end_ms\":50}", item_id);
  ev = test_client_expect (c, "conversation.item.truncated", WAIT_MS);
  fail_unless_equals_string (str_at (ev, "item_id"), item_id);
  fail_unless_equals_int (test_int_at (ev, "audio_end_ms"), 50);

  /* user items cannot be truncated */
  ev = g_ptr_array_index (test_client_history (c),
      test_client_find (c, "input_audio_buffer.committed", 0));
  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"%s\",\"content_index\":0,\"audio_end_ms\":0}",
      str_at (ev, "item_id"));
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "unsupported_content_type");

  /* the interruption is answered in turn */
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "completed");

  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.truncates, 1);
  fail_unless_equals_int (g_array_index (stats.truncate_audio_end_ms, gint64,
          0), 50);
  fail_unless_equals_int (stats.responses_cancelled, 1);
  fail_unless_equals_int (stats.speech_started, 2);
  local_model_stats_clear (&stats);

  g_free (item_id);
  g_free (response_id);
  g_byte_array_unref (first_burst);
  g_byte_array_unref (second_burst);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_manual_turns_and_cancel)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *speech = test_ulaw_burst (0, 500, 0, 300);
  GByteArray *echo = g_byte_array_new ();
  JsonObject *ev;
  LocalModelStats stats;

  local_model_options_init (&opts);
  opts.audio_pace = 1.0;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_session_update (c, "{\"type\":\"audio/pcmu\"}",
      ",\"output_modalities\":[\"audio\"],"
      "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"},"
      "\"turn_detection\":null}}");

  test_client_send (c, "{\"type\":\"input_audio_buffer.commit\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "input_audio_buffer_commit_empty");

  test_client_append (c, speech->data, speech->len, 160);
  test_client_send (c, "{\"type\":\"input_audio_buffer.commit\"}");
  test_client_expect (c, "input_audio_buffer.committed", WAIT_MS);
  ev = test_client_expect (c, "conversation.item.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "item.role"), "user");
  /* no VAD, no automatic response */
  fail_unless (test_client_find (c, "input_audio_buffer.speech_started",
          0) < 0);

  test_client_send (c, "{\"type\":\"response.cancel\",\"event_id\":\"c0\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "response_cancel_not_active");

  test_client_send (c, "{\"type\":\"response.create\"}");
  test_client_expect (c, "response.created", WAIT_MS);
  test_client_send (c, "{\"type\":\"response.create\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "conversation_already_has_active_response");
  test_client_send (c, "{\"type\":\"response.cancel\"}");
  ev = test_collect_response (c, echo);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "cancelled");
  fail_unless_equals_string (test_string_at (ev,
          "response.status_details.reason"), "client_cancelled");
  /* paced in real time, cancelled right away: only part of 500 ms went out */
  fail_unless (echo->len < 500 * 8);

  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.cancels, 2);
  fail_unless_equals_int (stats.responses_cancelled, 1);
  local_model_stats_clear (&stats);

  g_byte_array_unref (speech);
  g_byte_array_unref (echo);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_function_call)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *speech = test_ulaw_burst (100, 600, 400, 500);
  JsonObject *ev;
  gchar *call_id;
  gint n;

  local_model_options_init (&opts);
  opts.audio_pace = 0;
  opts.function_call_every = 1;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_session_update (c, "{\"type\":\"audio/pcmu\"}",
      ",\"tools\":[{\"type\":\"function\",\"name\":\"get_time\","
      "\"description\":\"The time\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{}}}]");
  test_client_append (c, speech->data, speech->len, 160);

  ev = test_client_expect (c, "response.function_call_arguments.done", WAIT_MS);
  fail_unless_equals_string (str_at (ev, "name"), "get_time");
  fail_unless_equals_string (str_at (ev, "arguments"), "{}");
  call_id = g_strdup (str_at (ev, "call_id"));
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "completed");
  fail_unless_equals_string (test_string_at (json_array_get_object_element
          (json_node_get_array (test_node_at (ev, "response.output")), 0),
          "type"), "function_call");
  /* the model waits for the output: no audio so far */
  fail_unless (test_client_find (c, "response.output_audio.delta", 0) < 0);

  test_client_sendf (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"function_call_output\",\"call_id\":\"%s\",\"output\":"
      "\"12:00\"}}", call_id);
  ev = test_client_expect (c, "conversation.item.added", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "item.type"),
      "function_call_output");
  n = test_client_history (c)->len;
  test_client_send (c, "{\"type\":\"response.create\"}");
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless (test_client_find (c, "response.output_audio.delta", n) > 0);
  fail_unless (strstr (test_response_transcript (ev),
          "get_time returned: 12:00"), "%s", test_response_transcript (ev));

  g_free (call_id);
  g_byte_array_unref (speech);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_bad_input)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  JsonObject *ev;
  const guint8 binary[] = { 1, 2, 3 };
  gchar *log_path;
  gint fd = g_file_open_tmp ("localmodel-bad-XXXXXX.jsonl", &log_path, NULL);

  /* with the events log on, so that its field picking sees garbage too */
  close (fd);
  local_model_options_init (&opts);
  opts.events_log = log_path;
  model = test_model_start (&opts);
  c = test_model_connect (model);

  test_client_send (c, "this is not json");
  test_expect_error (c, "invalid_json");
  test_client_send (c, "[1,2]");
  test_expect_error (c, "invalid_event");
  test_client_send (c, "{\"audio\":\"AAAA\"}");
  test_expect_error (c, "invalid_event");
  test_client_send (c, "{\"type\":5}");
  test_expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"response.dance\",\"event_id\":\"x1\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "invalid_value");
  fail_unless_equals_string (test_string_at (ev, "error.param"), "type");
  fail_unless_equals_string (test_string_at (ev, "error.event_id"), "x1");
  test_client_send (c, "{\"type\":\"input_audio_buffer.append\","
      "\"audio\":\"not base64!\"}");
  test_expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"input_audio_buffer.append\"}");
  test_expect_error (c, "missing_required_parameter");
  test_client_send (c, "{\"type\":\"input_audio_buffer.append\","
      "\"audio\":17}");
  test_expect_error (c, "invalid_type");
  test_client_send_binary (c, binary, sizeof (binary));
  test_expect_error (c, "invalid_event");
  test_client_send (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"item_nope\",\"content_index\":0,\"audio_end_ms\":1}");
  test_expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"item_nope\",\"content_index\":0,\"audio_end_ms\":\"1\"}");
  test_expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"message\",\"role\":\"robot\",\"content\":[]}}");
  test_expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"response.create\",\"response\":"
      "{\"temperature\":1}}");
  test_expect_error (c, "unknown_parameter");
  test_client_send (c, "{\"type\":\"output_audio_buffer.clear\"}");
  test_expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"conversation.item.truncate\","
      "\"event_id\":{},\"item_id\":[],\"content_index\":{},"
      "\"audio_end_ms\":null}");
  test_expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"conversation.item.create\","
      "\"item\":[]}");
  test_expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"response.create\",\"response\":7}");
  test_expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"session.update\",\"session\":[]}");
  test_expect_error (c, "invalid_type");

  /* still serving */
  test_client_send (c, "{\"type\":\"input_audio_buffer.clear\"}");
  test_client_expect (c, "input_audio_buffer.cleared", WAIT_MS);

  test_client_free (c);
  local_model_free (model);
  g_unlink (log_path);
  g_free (log_path);
}

GST_END_TEST;

GST_START_TEST (test_greeting_and_text)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *audio = g_byte_array_new ();
  JsonObject *ev;

  local_model_options_init (&opts);
  opts.audio_pace = 0;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_session_update (c, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_send (c, "{\"type\":\"response.create\",\"response\":"
      "{\"instructions\":\"Greet the caller\"}}");
  ev = test_collect_response (c, audio);
  fail_unless_equals_string (test_string_at (ev, "response.status"),
      "completed");
  fail_unless (g_str_has_prefix (test_response_transcript (ev), "[greeting]"));
  fail_unless (strstr (test_response_transcript (ev), "Greet the caller"));
  /* a 0.6 s tone, audible */
  fail_unless_equals_int (audio->len, 600 * 8);
  fail_unless (model_audio_ulaw_decode (audio->data[100]) != 0
      || model_audio_ulaw_decode (audio->data[101]) != 0);

  test_client_send (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":"
      "\"input_text\",\"text\":\"hello model\"}]}}");
  ev = test_client_expect (c, "conversation.item.done", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "item.role"), "user");
  test_client_send (c, "{\"type\":\"response.create\"}");
  g_byte_array_set_size (audio, 0);
  ev = test_collect_response (c, audio);
  fail_unless_equals_string (test_response_transcript (ev),
      "[echo] you wrote: hello model");

  g_byte_array_unref (audio);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

static Suite *
localmodel_server_suite (void)
{
  Suite *s = suite_create ("localmodel_server");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, test_net_start, test_net_stop);
  tcase_add_test (tc, test_handshake_defaults);
  tcase_add_test (tc, test_session_update_strict);
  tcase_add_test (tc, test_vad_echo_pcmu);
  tcase_add_test (tc, test_vad_echo_pcma);
  tcase_add_test (tc, test_vad_echo_pcm16);
  tcase_add_test (tc, test_barge_in_and_truncate);
  tcase_add_test (tc, test_manual_turns_and_cancel);
  tcase_add_test (tc, test_function_call);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_greeting_and_text);
  return s;
}

GST_CHECK_MAIN (localmodel_server);
