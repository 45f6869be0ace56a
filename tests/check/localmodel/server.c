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

#define WAIT_MS 10000

static LocalModel *
start_model (LocalModelOptions * opts)
{
  GError *error = NULL;
  LocalModel *model = local_model_new (opts, &error);

  fail_unless (model != NULL, "local model did not start: %s",
      error ? error->message : "?");
  return model;
}

static TestClient *
connect_ok (LocalModel * model)
{
  gchar *url = local_model_get_url (model);
  guint status = 0;
  TestClient *c = test_client_connect (url, "sk-test", FALSE, &status);

  fail_unless (c != NULL, "upgrade failed with HTTP %u", status);
  g_free (url);
  test_client_expect (c, "session.created", WAIT_MS);
  test_client_expect (c, "conversation.created", WAIT_MS);
  return c;
}

static const gchar *
str_at (JsonObject * obj, const gchar * path)
{
  JsonNode *node = json_object_get_member (obj, path);
  return node ? json_node_get_string (node) : NULL;
}

/* obj.a.b.c via a dotted path */
static JsonNode *
node_at (JsonObject * obj, const gchar * dotted)
{
  gchar **parts = g_strsplit (dotted, ".", -1);
  JsonNode *node = NULL;
  guint i;

  for (i = 0; parts[i]; i++) {
    node = obj ? json_object_get_member (obj, parts[i]) : NULL;
    obj = node && JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
  }
  g_strfreev (parts);
  return node;
}

static gint64
int_at (JsonObject * obj, const gchar * dotted)
{
  JsonNode *node = node_at (obj, dotted);
  fail_unless (node != NULL, "missing %s", dotted);
  return json_node_get_int (node);
}

static const gchar *
string_at (JsonObject * obj, const gchar * dotted)
{
  JsonNode *node = node_at (obj, dotted);
  return node && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) :
      NULL;
}

/* silence, a sine burst, silence: 8 kHz samples */
static GArray *
burst_8k (guint lead_ms, guint tone_ms, guint tail_ms, gdouble freq)
{
  GArray *s = g_array_new (FALSE, TRUE, sizeof (gint16));
  guint n_lead = lead_ms * 8, n_tone = tone_ms * 8, n_tail = tail_ms * 8;
  guint i;

  g_array_set_size (s, n_lead);
  for (i = 0; i < n_tone; i++) {
    gint16 v = (gint16) (0.3 * 32767 * sin (2 * G_PI * freq * i / 8000.0));
    g_array_append_val (s, v);
  }
  g_array_set_size (s, n_lead + n_tone + n_tail);
  return s;
}

static GByteArray *
encode_8k (GArray * samples, gboolean alaw)
{
  GByteArray *out = g_byte_array_new ();
  guint i;

  for (i = 0; i < samples->len; i++) {
    gint16 v = g_array_index (samples, gint16, i);
    guint8 code = alaw ? model_audio_alaw_encode (v) :
        model_audio_ulaw_encode (v);
    g_byte_array_append (out, &code, 1);
  }
  return out;
}

/* response.output[0].content[0].transcript of response.done */
static const gchar *
response_transcript (JsonObject * done)
{
  JsonArray *output = json_node_get_array (node_at (done, "response.output"));
  JsonObject *item = json_array_get_object_element (output, 0);
  JsonObject *part = json_array_get_object_element
      (json_object_get_array_member (item, "content"), 0);

  return json_object_get_string_member (part, "transcript");
}

/* Collects the response's audio deltas up to response.done (returned). */
static JsonObject *
collect_response (TestClient * c, GByteArray * audio)
{
  while (TRUE) {
    JsonObject *ev = test_client_next (c, WAIT_MS);
    const gchar *type;

    fail_unless (ev != NULL, "no response.done");
    type = str_at (ev, "type");
    if (strcmp (type, "response.output_audio.delta") == 0) {
      gsize n;
      guchar *data = g_base64_decode (str_at (ev, "delta"), &n);
      g_byte_array_append (audio, data, n);
      g_free (data);
    } else if (strcmp (type, "response.done") == 0) {
      return ev;
    }
  }
}

static void
send_session_update (TestClient * c, const gchar * format_json,
    const gchar * extra)
{
  test_client_sendf (c, "{\"type\":\"session.update\",\"session\":{"
      "\"type\":\"realtime\",\"audio\":{\"input\":{\"format\":%s},"
      "\"output\":{\"format\":%s}}%s}}", format_json, format_json,
      extra ? extra : "");
  test_client_expect (c, "session.updated", WAIT_MS);
}

GST_START_TEST (test_handshake_defaults)
{
  LocalModel *model = start_model (NULL);
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
  fail_unless_equals_string (string_at (ev, "session.type"), "realtime");
  fail_unless_equals_string (string_at (ev, "session.model"), "gpt-realtime");
  fail_unless (g_str_has_prefix (string_at (ev, "session.id"), "sess_"));
  fail_unless_equals_string (string_at (ev,
          "session.audio.input.format.type"), "audio/pcm");
  fail_unless_equals_int (int_at (ev, "session.audio.input.format.rate"),
      24000);
  fail_unless_equals_string (string_at (ev,
          "session.audio.input.turn_detection.type"), "server_vad");
  fail_unless_equals_int (int_at (ev,
          "session.audio.input.turn_detection.prefix_padding_ms"), 300);
  fail_unless_equals_int (int_at (ev,
          "session.audio.input.turn_detection.silence_duration_ms"), 200);
  fail_unless_equals_string (string_at (ev, "session.audio.output.voice"),
      "marin");
  test_client_expect (c, "conversation.created", WAIT_MS);

  test_client_send (c, "{\"type\":\"session.update\",\"event_id\":\"ev1\","
      "\"session\":{\"type\":\"realtime\",\"instructions\":\"Be brief\","
      "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"},"
      "\"turn_detection\":{\"type\":\"server_vad\",\"silence_duration_ms\":"
      "500}},\"output\":{\"format\":{\"type\":\"audio/pcma\"},"
      "\"voice\":\"cedar\"}}}}");
  ev = test_client_expect (c, "session.updated", WAIT_MS);
  fail_unless_equals_string (string_at (ev,
          "session.audio.input.format.type"), "audio/pcmu");
  fail_unless (node_at (ev, "session.audio.input.format.rate") == NULL);
  fail_unless_equals_string (string_at (ev,
          "session.audio.output.format.type"), "audio/pcma");
  fail_unless_equals_string (string_at (ev, "session.audio.output.voice"),
      "cedar");
  fail_unless_equals_string (string_at (ev, "session.instructions"),
      "Be brief");
  /* a partial turn_detection keeps the server's defaults for the rest */
  fail_unless_equals_int (int_at (ev,
          "session.audio.input.turn_detection.silence_duration_ms"), 500);
  fail_unless_equals_int (int_at (ev,
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
  fail_unless_equals_string (string_at (ev, "error.type"),
      "invalid_request_error");
  fail_unless_equals_string (string_at (ev, "error.code"), code);
  fail_unless_equals_string (string_at (ev, "error.param"), param);
  fail_unless_equals_string (string_at (ev, "error.event_id"), "upd");
  fail_unless (string_at (ev, "error.message") != NULL);
}

GST_START_TEST (test_session_update_strict)
{
  LocalModel *model = start_model (NULL);
  TestClient *c = connect_ok (model);
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
  fail_unless_equals_string (string_at (ev,
          "session.audio.input.format.type"), "audio/pcm");
  fail_unless_equals_string (string_at (ev,
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
  GArray *pcm8 = burst_8k (1000, 1000, 1500, 440);
  GByteArray *wire;
  GByteArray *echo = g_byte_array_new ();
  JsonObject *ev;
  gint started, stopped, committed, added, created, first_delta, done;
  guint i;

  local_model_options_init (&opts);
  opts.audio_pace = 0;          /* all at once: the test is not about pace */
  model = start_model (&opts);
  c = connect_ok (model);
  send_session_update (c, format_json, NULL);

  if (g711) {
    wire = encode_8k (pcm8, alaw);
  } else {
    /* the same signal at 24 kHz, PCM16 LE */
    GArray *pcm24 = g_array_new (FALSE, FALSE, sizeof (gint16));
    ModelAudioDecoder dec = { 0, };
    GByteArray *u = encode_8k (pcm8, FALSE);

    model_audio_decode (&dec, MODEL_AUDIO_PCMU, u->data, u->len, pcm24);
    wire = g_byte_array_new ();
    model_audio_encode (MODEL_AUDIO_PCM16, (gint16 *) pcm24->data,
        pcm24->len, wire);
    g_array_unref (pcm24);
    g_byte_array_unref (u);
  }
  /* 20 ms per append, like Twilio */
  test_client_append (c, wire->data, wire->len, g711 ? 160 : 960);

  ev = test_client_expect (c, "input_audio_buffer.speech_started", WAIT_MS);
  /* tone at 1000 ms, minus 300 ms prefix padding; +- one 10 ms frame */
  fail_unless (ABS (int_at (ev, "audio_start_ms") - 700) <= 10,
      "audio_start_ms %d", (gint) int_at (ev, "audio_start_ms"));
  ev = test_client_expect (c, "input_audio_buffer.speech_stopped", WAIT_MS);
  /* tone ends at 2000 ms, plus 200 ms of silence */
  fail_unless (ABS (int_at (ev, "audio_end_ms") - 2200) <= 10,
      "audio_end_ms %d", (gint) int_at (ev, "audio_end_ms"));
  ev = collect_response (c, echo);
  fail_unless_equals_string (string_at (ev, "response.status"), "completed");
  fail_unless_equals_string (response_transcript (ev),
      "[echo] 1.0 s of your speech");
  /* usage from durations: 1.5 s input item -> 15, 1.3 s output -> 26 */
  fail_unless_equals_int (int_at (ev,
          "response.usage.input_token_details.audio_tokens"), 15);
  fail_unless_equals_int (int_at (ev,
          "response.usage.output_token_details.audio_tokens"), 26);
  fail_unless (int_at (ev, "response.usage.total_tokens") ==
      int_at (ev, "response.usage.input_tokens") +
      int_at (ev, "response.usage.output_tokens"));

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

static GByteArray *
ulaw_burst (guint lead_ms, guint tone_ms, guint tail_ms, gdouble freq)
{
  GArray *pcm = burst_8k (lead_ms, tone_ms, tail_ms, freq);
  GByteArray *wire = encode_8k (pcm, FALSE);

  g_array_unref (pcm);
  return wire;
}

GST_START_TEST (test_barge_in_and_truncate)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *first_burst = ulaw_burst (200, 1000, 400, 440);
  GByteArray *second_burst = ulaw_burst (0, 400, 400, 880);
  JsonObject *ev;
  gchar *item_id;
  gchar *response_id;
  LocalModelStats stats;

  local_model_options_init (&opts);
  opts.audio_pace = 1.0;        /* real time: the answer is still playing */
  model = start_model (&opts);
  c = connect_ok (model);
  send_session_update (c, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_append (c, first_burst->data, first_burst->len, 160);
  ev = test_client_expect (c, "response.output_item.added", WAIT_MS);
  item_id = g_strdup (string_at (ev, "item.id"));
  response_id = g_strdup (str_at (ev, "response_id"));
  test_client_expect (c, "response.output_audio.delta", WAIT_MS);

  /* the caller speaks again while the 1.3 s answer streams */
  test_client_append (c, second_burst->data, second_burst->len, 160);
  test_client_expect (c, "input_audio_buffer.speech_started", WAIT_MS);
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "response.id"), response_id);
  fail_unless_equals_string (string_at (ev, "response.status"), "cancelled");
  fail_unless_equals_string (string_at (ev, "response.status_details.reason"),
      "turn_detected");
  fail_unless (test_client_find (c, "response.output_audio.done", 0) >= 0);

  /* more than was generated: the real API's error */
  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"event_id\":\"t1\",\"item_id\":\"%s\",\"content_index\":0,"
      "\"audio_end_ms\":60000}", item_id);
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.code"), "invalid_value");
  fail_unless (strstr (string_at (ev, "error.message"), "already shorter"));
  fail_unless_equals_string (string_at (ev, "error.event_id"), "t1");

  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"%s\",\"content_index\":0,\"audio_end_ms\":50}", item_id);
  ev = test_client_expect (c, "conversation.item.truncated", WAIT_MS);
  fail_unless_equals_string (str_at (ev, "item_id"), item_id);
  fail_unless_equals_int (int_at (ev, "audio_end_ms"), 50);

  /* user items cannot be truncated */
  ev = g_ptr_array_index (test_client_history (c),
      test_client_find (c, "input_audio_buffer.committed", 0));
  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"%s\",\"content_index\":0,\"audio_end_ms\":0}",
      str_at (ev, "item_id"));
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.code"),
      "unsupported_content_type");

  /* the interruption is answered in turn */
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "response.status"), "completed");

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
  GByteArray *speech = ulaw_burst (0, 500, 0, 300);
  GByteArray *echo = g_byte_array_new ();
  JsonObject *ev;
  LocalModelStats stats;

  local_model_options_init (&opts);
  opts.audio_pace = 1.0;
  model = start_model (&opts);
  c = connect_ok (model);
  send_session_update (c, "{\"type\":\"audio/pcmu\"}",
      ",\"output_modalities\":[\"audio\"],"
      "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"},"
      "\"turn_detection\":null}}");

  test_client_send (c, "{\"type\":\"input_audio_buffer.commit\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.code"),
      "input_audio_buffer_commit_empty");

  test_client_append (c, speech->data, speech->len, 160);
  test_client_send (c, "{\"type\":\"input_audio_buffer.commit\"}");
  test_client_expect (c, "input_audio_buffer.committed", WAIT_MS);
  ev = test_client_expect (c, "conversation.item.done", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "item.role"), "user");
  /* no VAD, no automatic response */
  fail_unless (test_client_find (c, "input_audio_buffer.speech_started",
          0) < 0);

  test_client_send (c, "{\"type\":\"response.cancel\",\"event_id\":\"c0\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.code"),
      "response_cancel_not_active");

  test_client_send (c, "{\"type\":\"response.create\"}");
  test_client_expect (c, "response.created", WAIT_MS);
  test_client_send (c, "{\"type\":\"response.create\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.code"),
      "conversation_already_has_active_response");
  test_client_send (c, "{\"type\":\"response.cancel\"}");
  ev = collect_response (c, echo);
  fail_unless_equals_string (string_at (ev, "response.status"), "cancelled");
  fail_unless_equals_string (string_at (ev, "response.status_details.reason"),
      "client_cancelled");
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
  GByteArray *speech = ulaw_burst (100, 600, 400, 500);
  JsonObject *ev;
  gchar *call_id;
  gint n;

  local_model_options_init (&opts);
  opts.audio_pace = 0;
  opts.function_call_every = 1;
  model = start_model (&opts);
  c = connect_ok (model);
  send_session_update (c, "{\"type\":\"audio/pcmu\"}",
      ",\"tools\":[{\"type\":\"function\",\"name\":\"get_time\","
      "\"description\":\"The time\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{}}}]");
  test_client_append (c, speech->data, speech->len, 160);

  ev = test_client_expect (c, "response.function_call_arguments.done", WAIT_MS);
  fail_unless_equals_string (str_at (ev, "name"), "get_time");
  fail_unless_equals_string (str_at (ev, "arguments"), "{}");
  call_id = g_strdup (str_at (ev, "call_id"));
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "response.status"), "completed");
  fail_unless_equals_string (string_at (json_array_get_object_element
          (json_node_get_array (node_at (ev, "response.output")), 0),
          "type"), "function_call");
  /* the model waits for the output: no audio so far */
  fail_unless (test_client_find (c, "response.output_audio.delta", 0) < 0);

  test_client_sendf (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"function_call_output\",\"call_id\":\"%s\",\"output\":"
      "\"12:00\"}}", call_id);
  ev = test_client_expect (c, "conversation.item.added", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "item.type"),
      "function_call_output");
  n = test_client_history (c)->len;
  test_client_send (c, "{\"type\":\"response.create\"}");
  ev = test_client_expect (c, "response.done", WAIT_MS);
  fail_unless (test_client_find (c, "response.output_audio.delta", n) > 0);
  fail_unless (strstr (response_transcript (ev), "get_time returned: 12:00"),
      "%s", response_transcript (ev));

  g_free (call_id);
  g_byte_array_unref (speech);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

static void
expect_error (TestClient * c, const gchar * code)
{
  JsonObject *ev = test_client_expect (c, "error", WAIT_MS);

  fail_unless_equals_string (string_at (ev, "error.code"), code);
}

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
  model = start_model (&opts);
  c = connect_ok (model);

  test_client_send (c, "this is not json");
  expect_error (c, "invalid_json");
  test_client_send (c, "[1,2]");
  expect_error (c, "invalid_event");
  test_client_send (c, "{\"audio\":\"AAAA\"}");
  expect_error (c, "invalid_event");
  test_client_send (c, "{\"type\":5}");
  expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"response.dance\",\"event_id\":\"x1\"}");
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.code"), "invalid_value");
  fail_unless_equals_string (string_at (ev, "error.param"), "type");
  fail_unless_equals_string (string_at (ev, "error.event_id"), "x1");
  test_client_send (c, "{\"type\":\"input_audio_buffer.append\","
      "\"audio\":\"not base64!\"}");
  expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"input_audio_buffer.append\"}");
  expect_error (c, "missing_required_parameter");
  test_client_send (c, "{\"type\":\"input_audio_buffer.append\","
      "\"audio\":17}");
  expect_error (c, "invalid_type");
  test_client_send_binary (c, binary, sizeof (binary));
  expect_error (c, "invalid_event");
  test_client_send (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"item_nope\",\"content_index\":0,\"audio_end_ms\":1}");
  expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"item_nope\",\"content_index\":0,\"audio_end_ms\":\"1\"}");
  expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"message\",\"role\":\"robot\",\"content\":[]}}");
  expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"response.create\",\"response\":"
      "{\"temperature\":1}}");
  expect_error (c, "unknown_parameter");
  test_client_send (c, "{\"type\":\"output_audio_buffer.clear\"}");
  expect_error (c, "invalid_value");
  test_client_send (c, "{\"type\":\"conversation.item.truncate\","
      "\"event_id\":{},\"item_id\":[],\"content_index\":{},"
      "\"audio_end_ms\":null}");
  expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"conversation.item.create\","
      "\"item\":[]}");
  expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"response.create\",\"response\":7}");
  expect_error (c, "invalid_type");
  test_client_send (c, "{\"type\":\"session.update\",\"session\":[]}");
  expect_error (c, "invalid_type");

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
  model = start_model (&opts);
  c = connect_ok (model);
  send_session_update (c, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_send (c, "{\"type\":\"response.create\",\"response\":"
      "{\"instructions\":\"Greet the caller\"}}");
  ev = collect_response (c, audio);
  fail_unless_equals_string (string_at (ev, "response.status"), "completed");
  fail_unless (g_str_has_prefix (response_transcript (ev), "[greeting]"));
  fail_unless (strstr (response_transcript (ev), "Greet the caller"));
  /* a 0.6 s tone, audible */
  fail_unless_equals_int (audio->len, 600 * 8);
  fail_unless (model_audio_ulaw_decode (audio->data[100]) != 0
      || model_audio_ulaw_decode (audio->data[101]) != 0);

  test_client_send (c, "{\"type\":\"conversation.item.create\",\"item\":"
      "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":"
      "\"input_text\",\"text\":\"hello model\"}]}}");
  ev = test_client_expect (c, "conversation.item.done", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "item.role"), "user");
  test_client_send (c, "{\"type\":\"response.create\"}");
  g_byte_array_set_size (audio, 0);
  ev = collect_response (c, audio);
  fail_unless_equals_string (response_transcript (ev),
      "[echo] you wrote: hello model");

  g_byte_array_unref (audio);
  test_client_free (c);
  local_model_free (model);
}

GST_END_TEST;

static guint
connect_status (LocalModel * model, const gchar * key, gboolean beta,
    TestClient ** client)
{
  gchar *url = local_model_get_url (model);
  guint status = 0;
  TestClient *c = test_client_connect (url, key, beta, &status);

  g_free (url);
  if (client)
    *client = c;
  else if (c)
    test_client_free (c);
  return status;
}

/* A plain HTTP request to the endpoint: the refusal's JSON body. */
static gchar *
http_body (LocalModel * model, const gchar * key, guint * status)
{
  SoupSession *session = soup_session_new_with_options ("proxy-resolver",
      NULL, NULL);
  gchar *url = g_strdup_printf ("http://127.0.0.1:%u/v1/realtime?model=m",
      local_model_get_port (model));
  SoupMessage *msg = soup_message_new ("GET", url);
  GBytes *body;
  gchar *text;

  if (key) {
    gchar *auth = g_strdup_printf ("Bearer %s", key);
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", auth);
    g_free (auth);
  }
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  *status = soup_message_get_status (msg);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_bytes_unref (body);
  g_object_unref (msg);
  g_object_unref (session);
  g_free (url);
  return text;
}

GST_START_TEST (test_upgrade_faults)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c = NULL;
  guint status;
  gchar *body;
  JsonObject *ev;

  local_model_options_init (&opts);
  opts.upgrade_failures = 2;
  opts.reject_key = "sk-revoked-123";
  model = start_model (&opts);

  fail_unless_equals_int (connect_status (model, "sk-ok", FALSE, NULL), 503);
  fail_unless_equals_int (connect_status (model, "sk-ok", FALSE, NULL), 503);
  fail_unless_equals_int (connect_status (model, NULL, FALSE, NULL), 401);
  fail_unless_equals_int (connect_status (model, "sk-revoked-123", FALSE,
          NULL), 401);
  body = http_body (model, "sk-revoked-123", &status);
  fail_unless_equals_int (status, 401);
  fail_unless (strstr (body, "\"invalid_api_key\"") != NULL, "%s", body);
  fail_unless (strstr (body, "revoked") == NULL, "key leaked: %s", body);
  g_free (body);

  fail_unless_equals_int (connect_status (model, "sk-ok", FALSE, &c), 101);
  fail_unless (c != NULL);
  test_client_free (c);

  /* the live API refuses the beta protocol after the upgrade */
  connect_status (model, "sk-ok", TRUE, &c);
  fail_unless (c != NULL);
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.code"),
      "beta_api_shape_disabled");
  fail_unless (test_client_wait_closed (c, WAIT_MS) > 0);
  test_client_free (c);

  local_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_session_faults)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *a, *b;
  GByteArray *silence = g_byte_array_new ();
  JsonObject *ev;
  LocalModelStats stats;
  gint code;

  g_byte_array_set_size (silence, 160 * 10);
  memset (silence->data, 0xff, silence->len);

  /* abrupt close after 5 appends, first session only; an error every 3 */
  local_model_options_init (&opts);
  opts.close_after_appends = 5;
  opts.close_sessions = 1;
  opts.error_every_appends = 3;
  model = start_model (&opts);
  a = connect_ok (model);
  b = connect_ok (model);
  send_session_update (a, "{\"type\":\"audio/pcmu\"}", NULL);
  send_session_update (b, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_append (a, silence->data, silence->len, 160);
  ev = test_client_expect (a, "error", WAIT_MS);
  fail_unless_equals_string (string_at (ev, "error.type"), "server_error");
  fail_unless_equals_string (string_at (ev, "error.code"), "injected_fault");
  code = test_client_wait_closed (a, WAIT_MS);
  fail_unless_equals_int (code, SOUP_WEBSOCKET_CLOSE_ABNORMAL);

  test_client_append (b, silence->data, silence->len, 160);
  test_client_expect (b, "error", WAIT_MS);
  test_client_expect (b, "error", WAIT_MS);
  test_client_send (b, "{\"type\":\"input_audio_buffer.clear\"}");
  test_client_expect (b, "input_audio_buffer.cleared", WAIT_MS);
  fail_unless_equals_int (test_client_wait_closed (b, 100), -1);

  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.faults_closed, 1);
  fail_unless_equals_int (stats.appends, 15);
  fail_unless_equals_int (stats.audio_bytes_received, 15 * 160);
  fail_unless_equals_int (stats.sessions_total, 2);
  local_model_stats_clear (&stats);
  test_client_free (a);
  test_client_free (b);
  local_model_free (model);

  /* a timed close with a close frame and code */
  local_model_options_init (&opts);
  opts.close_after_ms = 200;
  opts.close_code = 1011;
  model = start_model (&opts);
  a = connect_ok (model);
  fail_unless_equals_int (test_client_wait_closed (a, WAIT_MS), 1011);
  test_client_free (a);
  local_model_free (model);

  g_byte_array_unref (silence);
}

GST_END_TEST;

GST_START_TEST (test_response_delay_and_log)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *speech = ulaw_burst (100, 500, 400, 700);
  gchar *log_path;
  gchar *log_text;
  gint fd;
  gint64 stopped_us;
  gchar **lines;
  guint i, appends = 0;

  fd = g_file_open_tmp ("localmodel-events-XXXXXX.jsonl", &log_path, NULL);
  fail_unless (fd >= 0);
  close (fd);
  local_model_options_init (&opts);
  opts.audio_pace = 0;
  opts.response_delay_ms = 300;
  opts.events_log = log_path;
  model = start_model (&opts);
  c = connect_ok (model);
  send_session_update (c, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_append (c, speech->data, speech->len, 160);
  test_client_expect (c, "input_audio_buffer.speech_stopped", WAIT_MS);
  stopped_us = g_get_monotonic_time ();
  test_client_expect (c, "response.created", WAIT_MS);
  /* a lower bound only: the delay is at least what was asked */
  fail_unless (g_get_monotonic_time () - stopped_us >= 250 * 1000);
  test_client_expect (c, "response.done", WAIT_MS);
  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"%s\",\"content_index\":0,\"audio_end_ms\":10}",
      string_at (g_ptr_array_index (test_client_history (c),
              test_client_find (c, "response.output_item.added", 0)),
          "item.id"));
  test_client_expect (c, "conversation.item.truncated", WAIT_MS);
  test_client_free (c);
  local_model_free (model);

  fail_unless (g_file_get_contents (log_path, &log_text, NULL, NULL));
  lines = g_strsplit (log_text, "\n", -1);
  for (i = 0; lines[i] && *lines[i]; i++) {
    JsonParser *p = json_parser_new ();
    JsonObject *o;

    fail_unless (json_parser_load_from_data (p, lines[i], -1, NULL));
    o = json_node_get_object (json_parser_get_root (p));
    fail_unless (json_object_has_member (o, "t_ms"));
    fail_unless (json_object_has_member (o, "session"));
    if (g_strcmp0 (json_object_get_string_member (o, "type"),
            "input_audio_buffer.append") == 0) {
      fail_unless_equals_int (json_object_get_int_member (o, "bytes"), 160);
      appends++;
    }
    if (g_strcmp0 (json_object_get_string_member (o, "type"),
            "conversation.item.truncate") == 0)
      fail_unless_equals_int (json_object_get_int_member (o, "audio_end_ms"),
          10);
    g_object_unref (p);
  }
  fail_unless_equals_int (appends, speech->len / 160);
  /* never audio, never the key */
  fail_unless (strstr (log_text, "\"audio\"") == NULL);
  fail_unless (strstr (log_text, "sk-test") == NULL);
  fail_unless (strstr (log_text, "ws.open") != NULL);

  g_strfreev (lines);
  g_free (log_text);
  g_unlink (log_path);
  g_free (log_path);
  g_byte_array_unref (speech);
}

GST_END_TEST;

/* Many concurrent sessions on the one model thread, each gets its own
 * utterance back (distinct tone lengths and frequencies). */
GST_START_TEST (test_many_sessions)
{
  LocalModelOptions opts;
  LocalModel *model;
  const guint n = g_getenv ("RUNNING_UNDER_VALGRIND") ? 8 : 60;
  TestClient **clients = g_new0 (TestClient *, n);
  GByteArray **inputs = g_new0 (GByteArray *, n);
  guint i, j;
  LocalModelStats stats;

  local_model_options_init (&opts);
  opts.audio_pace = 4.0;
  model = start_model (&opts);
  for (i = 0; i < n; i++) {
    clients[i] = connect_ok (model);
    send_session_update (clients[i], "{\"type\":\"audio/pcmu\"}", NULL);
    /* 300..890 ms of tone */
    inputs[i] = ulaw_burst (0, 300 + 10 * i, 400, 300 + 37 * i);
  }
  for (i = 0; i < n; i++)
    test_client_append (clients[i], inputs[i]->data, inputs[i]->len, 160);
  for (i = 0; i < n; i++) {
    GByteArray *echo = g_byte_array_new ();
    guint speech_bytes = (300 + 10 * i) * 8;

    collect_response (clients[i], echo);
    /* the echo is this caller's tone (no prefix: it starts at 0) */
    fail_unless_equals_int (echo->len, speech_bytes);
    for (j = 0; j < echo->len; j++)
      fail_unless (model_audio_ulaw_decode (echo->data[j]) ==
          model_audio_ulaw_decode (inputs[i]->data[j]),
          "session %u sample %u", i, j);
    g_byte_array_unref (echo);
  }
  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.sessions_active, n);
  fail_unless_equals_int (stats.responses_completed, n);
  local_model_stats_clear (&stats);
  for (i = 0; i < n; i++) {
    test_client_free (clients[i]);
    g_byte_array_unref (inputs[i]);
  }
  g_free (clients);
  g_free (inputs);
  local_model_free (model);
}

GST_END_TEST;

/* The program: URL on the first line, serves, counters on SIGTERM. */
GST_START_TEST (test_program)
{
  gchar *path = g_build_filename (g_getenv ("BUILD_ROOT"), "tools",
      "localmodel", "realtime-bridge-model", NULL);
  GError *error = NULL;
  GSubprocess *proc;
  GDataInputStream *out;
  gchar *url, *stats;
  guint status;
  TestClient *c;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, path,
      "--port", "0", "--reject-key", "sk-bad", "--function-call-every", "0",
      NULL);
  fail_unless (proc != NULL, "cannot run %s: %s", path,
      error ? error->message : "");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  url = g_data_input_stream_read_line (out, NULL, NULL, &error);
  fail_unless (url != NULL);
  fail_unless (g_str_has_prefix (url, "ws://127.0.0.1:"), "%s", url);
  fail_unless (g_str_has_suffix (url, "/v1/realtime"), "%s", url);

  c = test_client_connect (url, "sk-bad", FALSE, &status);
  fail_unless (c == NULL);
  fail_unless_equals_int (status, 401);
  c = test_client_connect (url, "sk-good", FALSE, &status);
  fail_unless (c != NULL);
  test_client_expect (c, "session.created", WAIT_MS);
  test_client_send (c, "{\"type\":\"session.update\",\"session\":"
      "{\"type\":\"realtime\"}}");
  test_client_expect (c, "session.updated", WAIT_MS);
  test_client_free (c);

  g_subprocess_send_signal (proc, SIGTERM);
  stats = g_data_input_stream_read_line (out, NULL, NULL, &error);
  fail_unless (stats != NULL);
  fail_unless (strstr (stats, "\"sessions_total\":1") != NULL, "%s", stats);
  fail_unless (strstr (stats, "\"session_updates\":1") != NULL, "%s", stats);
  fail_unless (strstr (stats, "\"upgrades_rejected\":1") != NULL, "%s", stats);
  fail_unless (g_subprocess_wait_check (proc, NULL, &error));

  g_free (stats);
  g_free (url);
  g_object_unref (out);
  g_object_unref (proc);
  g_free (path);
}

GST_END_TEST;

static void
net_setup (void)
{
  /* a critical anywhere (json-glib, libsoup, GLib) fails the test */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  test_net_start ();
}

static void
net_teardown (void)
{
  test_net_stop ();
}

static Suite *
localmodel_server_suite (void)
{
  Suite *s = suite_create ("localmodel_server");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, net_setup, net_teardown);
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
  tcase_add_test (tc, test_upgrade_faults);
  tcase_add_test (tc, test_session_faults);
  tcase_add_test (tc, test_response_delay_and_log);
  tcase_add_test (tc, test_many_sessions);
  tcase_add_test (tc, test_program);
  return s;
}

GST_CHECK_MAIN (localmodel_server);
