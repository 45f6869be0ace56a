/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-call against a fake bridge (fakebridge.c): what it sends
 * (order, numbering, 160-byte frames, pacing, signature), how it plays the
 * bridge's audio (mark echoes, clear, barge-in, the recorded WAV), what it
 * reports (summary, violations) and its exit status.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "callsimaudio.h"
#include "fakebridge.h"
#include "simcheck.h"


static gchar *tmp_dir;
static gchar *tone_path;        /* 0.5 s of 440 Hz at 16 kHz */

/* ---- a call that says nothing back ----------------------------------- */

GST_START_TEST (test_caller_messages)
{
  FakeBridge *bridge = fake_bridge_new (NULL);
  gchar *url = fake_bridge_get_url (bridge);
  const gchar *public_url = "wss://bridge.example.com/call";
  gchar *events_path = g_build_filename (tmp_dir, "events.jsonl", NULL);
  gchar *events_text = NULL, *expected_signature;
  SimRun *run;
  FakeConn *conn;
  CallerStream s;
  gint64 span_ms;

  fake_bridge_require_signature (bridge, "s3cret-token", public_url);
  run = run_sim (bridge, "--auth-token=s3cret-token",
      "--public-url=wss://bridge.example.com/call", "--param=FirstName=Jane",
      "--param=Note=a=b c", "--dtmf=7@300", "--dtmf=#@reply+0",
      "--silence-before=200", "--silence-after=300", "--reply-timeout=400",
      fmt_arg ("--audio=%s", tone_path),
      fmt_arg ("--events=%s", events_path), NULL);

  /* No reply came, so the reply+0 DTMF never went: not as asked. */
  assert_exit (run, 1);
  conn = only_connection (bridge);
  expected_signature = fake_signature ("s3cret-token", public_url);
  fail_unless_equals_string (conn->signature, expected_signature);
  fail_unless_equals_string (conn->user_agent, "Twilio.TmeWs/1.0");
  fail_if (conn->has_extensions);
  fail_if (conn->has_protocol);

  check_caller_stream (conn, &s);
  fail_unless (s.stopped);
  fail_unless_equals_int (s.dtmf, 1);
  fail_unless_equals_string (s.dtmf_digits, "7");
  fail_unless_equals_string (json_object_get_string_member (s.custom,
          "FirstName"), "Jane");
  fail_unless_equals_string (json_object_get_string_member (s.custom,
          "Note"), "a=b c");
  fail_unless_equals_int (json_object_get_size (s.custom), 2);
  /* 0.5 s of tone after 200 ms of silence: frames 10..34 */
  fail_unless (s.speech_frames >= 24 && s.speech_frames <= 26, "%u",
      s.speech_frames);
  fail_unless (s.first_speech_ts >= 150 + 200 && s.first_speech_ts <= 150 +
      220, "%" G_GINT64_FORMAT, s.first_speech_ts);
  /* Paced on a real clock: never faster than 20 ms a frame on average (the
   * schedule is absolute), and not wildly slower. */
  span_ms = (s.last_media_us - s.first_media_us) / MS;
  fail_unless (span_ms >= (s.media - 1) * 20 - 30, "%u frames in %"
      G_GINT64_FORMAT " ms", s.media, span_ms);
  fail_unless (span_ms <= (s.media - 1) * 20 * 2 + 500, "%u frames in %"
      G_GINT64_FORMAT " ms", s.media, span_ms);

  fail_unless_equals_int (summary_int (run, "dtmf_sent"), 1);
  fail_unless_equals_int (summary_int (run, "violations_total"), 0);
  fail_unless_equals_int (summary_double (run, "audio_sent_ms"), s.media * 20);
  fail_unless_equals_int (summary_double (run, "speech_sent_ms"), 500);
  fail_unless_equals_string (json_object_get_string_member (run->summary,
          "stream_sid"), conn->stream_sid);
  fail_if (json_object_get_boolean_member (run->summary, "ok"));
  /* the secret never shows */
  fail_unless (strstr (run->out, "s3cret") == NULL);
  fail_unless (strstr (run->err, "s3cret") == NULL);
  fail_unless (g_file_get_contents (events_path, &events_text, NULL, NULL));
  fail_unless (strstr (events_text, "\"event\":\"summary\"") != NULL);
  fail_unless (strstr (events_text, "\"event\":\"dtmf\"") != NULL);
  fail_unless (strstr (events_text, "s3cret") == NULL);

  caller_stream_clear (&s);
  g_free (events_text);
  g_free (events_path);
  g_free (expected_signature);
  sim_run_free (run);
  g_free (url);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* ---- first audio is audible audio ---------------------------------- */

#define SILENT_LEAD_MS 300

static void
send_audible_double_frame (FakeConn * conn)
{
  guint8 *pattern = make_pattern (2 * FRAME);

  /* 40 ms in one message: Twilio accepts whole multiples of 20 ms */
  fake_conn_send_media (conn, pattern, 2 * FRAME);
  g_free (pattern);
}

static void
script_silence_then_audio (FakeConn * conn, const gchar * event,
    JsonObject * message)
{
  guint8 silence[FRAME];

  if (g_strcmp0 (event, "start") != 0)
    return;
  /* a frame of μ-law silence at once, as a prerolling pipeline sends */
  memset (silence, 0xff, sizeof (silence));
  fake_conn_send_media (conn, silence, FRAME);
  fake_conn_after (conn, SILENT_LEAD_MS, send_audible_double_frame);
}

GST_START_TEST (test_first_audio_is_audible)
{
  FakeBridge *bridge = fake_bridge_new (script_silence_then_audio);
  SimRun *run;

  run = run_sim (bridge, "--silence-before=0", "--silence-after=200",
      "--expect-audio", fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 0);
  /* the silent frame does not count as the bridge's first audio */
  fail_unless (summary_double (run, "first_audio_ms") >= SILENT_LEAD_MS - 20,
      "first audio after %.1f ms", summary_double (run, "first_audio_ms"));
  /* both messages were received and played; neither is a violation */
  fail_unless_equals_int (summary_int (run, "media_received"), 2);
  fail_unless_equals_int (summary_double (run, "audio_received_ms"), 60);
  fail_unless_equals_int (summary_int (run, "violations_total"), 0);
  sim_run_free (run);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* ---- marks and playout ----------------------------------------------- */

#define REPLY_FRAMES 25         /* 500 ms */

static void
script_reply_with_marks (FakeConn * conn, const gchar * event,
    JsonObject * message)
{
  guint8 *pattern;
  guint i;

  if (g_strcmp0 (event, "start") != 0)
    return;
  /* nothing queued: echoed at once */
  fake_conn_send_mark (conn, "before-audio");
  pattern = make_pattern (REPLY_FRAMES * FRAME);
  for (i = 0; i < REPLY_FRAMES; i++)
    fake_conn_send_media (conn, pattern + i * FRAME, FRAME);
  fake_conn_send_mark (conn, "after-audio");
  g_free (pattern);
}

GST_START_TEST (test_marks_and_recording)
{
  FakeBridge *bridge = fake_bridge_new (script_reply_with_marks);
  gchar *wav = g_build_filename (tmp_dir, "heard.wav", NULL);
  SimRun *run;
  FakeConn *conn;
  CallerStream s;
  gint16 *samples;
  gsize n, i, onset = 0;
  guint8 *pattern;
  gint64 after_sent;

  run = run_sim (bridge, "--silence-before=0", "--silence-after=200",
      "--expect-audio", fmt_arg ("--record=%s", wav),
      fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 0);
  conn = only_connection (bridge);
  check_caller_stream (conn, &s);

  fail_unless_equals_int (s.mark_echoes, 2);
  fail_unless_equals_string (g_ptr_array_index (s.echo_names, 0),
      "before-audio");
  fail_unless_equals_string (g_ptr_array_index (s.echo_names, 1),
      "after-audio");
  /* "after-audio" comes back only once its 500 ms have been played in real
   * time (one 20 ms tick of slack for where playout starts). */
  after_sent = fake_conn_mark_sent_us (conn, "after-audio");
  fail_unless (after_sent > 0);
  fail_unless (g_array_index (s.echo_us, gint64, 1) - after_sent >=
      (REPLY_FRAMES * 20 - 20) * MS, "echoed after %" G_GINT64_FORMAT " us",
      g_array_index (s.echo_us, gint64, 1) - after_sent);

  fail_unless_equals_int (summary_int (run, "marks_received"), 2);
  fail_unless_equals_int (summary_int (run, "marks_echoed_played"), 2);
  fail_unless_equals_int (summary_int (run, "marks_echoed_cleared"), 0);
  fail_unless_equals_int (summary_int (run, "media_received"), REPLY_FRAMES);
  fail_unless_equals_int (summary_double (run, "audio_received_ms"), 500);
  fail_unless_equals_int (summary_double (run, "audio_played_ms"), 500);
  fail_unless (summary_double (run, "first_audio_ms") >= 0);
  fail_unless (json_object_get_boolean_member (run->summary, "ok"));

  /* The WAV holds exactly what was played, in real time from stream start:
   * silence, then the bridge's 4000 samples, then silence. */
  samples = read_wav (wav, &n);
  fail_unless (n >= REPLY_FRAMES * FRAME);
  fail_unless_equals_int (n % FRAME, 0);
  while (onset < n && samples[onset] == 0)
    onset++;
  fail_unless (onset < n, "the recording is all silence");
  fail_unless (onset + REPLY_FRAMES * FRAME <= n);
  fail_unless_equals_int (onset % FRAME, 0);
  pattern = make_pattern (REPLY_FRAMES * FRAME);
  for (i = 0; i < REPLY_FRAMES * FRAME; i++)
    fail_unless_equals_int (samples[onset + i],
        callsim_mulaw_to_linear (pattern[i]));
  for (i = onset + REPLY_FRAMES * FRAME; i < n; i++)
    fail_unless_equals_int (samples[i], 0);
  /* the recording spans the call: about one sample per 1/8000 s */
  fail_unless (n / 8 >= (gsize) s.media * 20 - 200, "%" G_GSIZE_FORMAT
      " samples for %u frames", n, s.media);

  g_free (pattern);
  g_free (samples);
  caller_stream_clear (&s);
  sim_run_free (run);
  g_free (wav);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* ---- clear ----------------------------------------------------------- */

#define LONG_FRAMES 150         /* 3 s */

static void
send_clear_and_mark (FakeConn * conn)
{
  gint64 *clear_us = conn->script_data;

  *clear_us = g_get_monotonic_time ();
  fake_conn_send_clear (conn);
}

static void
script_clear (FakeConn * conn, const gchar * event, JsonObject * message)
{
  guint8 *pattern;
  guint i;

  if (g_strcmp0 (event, "start") != 0)
    return;
  conn->script_data = g_new0 (gint64, 1);
  pattern = make_pattern (LONG_FRAMES * FRAME);
  for (i = 0; i < LONG_FRAMES; i++)
    fake_conn_send_media (conn, pattern + i * FRAME, FRAME);
  fake_conn_send_mark (conn, "long");
  g_free (pattern);
  fake_conn_after (conn, 600, send_clear_and_mark);
}

GST_START_TEST (test_clear)
{
  FakeBridge *bridge = fake_bridge_new (script_clear);
  gchar *wav = g_build_filename (tmp_dir, "cleared.wav", NULL);
  SimRun *run;
  FakeConn *conn;
  CallerStream s;
  gint64 clear_us, echo_us;
  gdouble played, cleared;
  gint16 *samples;
  gsize n, i, heard = 0;

  run = run_sim (bridge, "--silence-before=0", "--silence-after=200",
      fmt_arg ("--record=%s", wav), fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 0);
  conn = only_connection (bridge);
  check_caller_stream (conn, &s);
  clear_us = *(gint64 *) conn->script_data;
  fail_unless (clear_us > 0);

  /* the pending mark comes back at once, not after its 3 s of audio */
  fail_unless_equals_int (s.mark_echoes, 1);
  fail_unless_equals_string (g_ptr_array_index (s.echo_names, 0), "long");
  echo_us = g_array_index (s.echo_us, gint64, 0);
  fail_unless (echo_us >= clear_us);
  fail_unless (echo_us - clear_us < 1000 * MS, "echo %" G_GINT64_FORMAT
      " us after clear", echo_us - clear_us);
  fail_unless (echo_us - fake_conn_mark_sent_us (conn, "long") <
      (LONG_FRAMES * 20 - 1000) * MS);

  fail_unless_equals_int (summary_int (run, "clears"), 1);
  fail_unless_equals_int (summary_int (run, "marks_echoed_cleared"), 1);
  fail_unless_equals_int (summary_int (run, "marks_echoed_played"), 0);
  played = summary_double (run, "audio_played_ms");
  cleared = summary_double (run, "audio_cleared_ms");
  fail_unless_equals_int (played + cleared, LONG_FRAMES * 20);
  fail_unless (played >= 300 && played < LONG_FRAMES * 20 - 1000,
      "played %f", played);

  /* the recording has the played part and nothing of the dropped one */
  samples = read_wav (wav, &n);
  for (i = 0; i < n; i++)
    heard += samples[i] != 0;
  fail_unless (heard <= played * 8 && heard >= played * 8 * 0.9,
      "%" G_GSIZE_FORMAT " non-zero samples for %f ms", heard, played);

  g_free (samples);
  caller_stream_clear (&s);
  sim_run_free (run);
  g_free (wav);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* ---- a misbehaving bridge -------------------------------------------- */

static void
script_violations (FakeConn * conn, const gchar * event, JsonObject * message)
{
  guint8 frame[FRAME];
  gchar *text;

  if (g_strcmp0 (event, "start") != 0)
    return;
  memset (frame, 0x55, sizeof frame);
  soup_websocket_connection_send_binary (conn->ws, frame, sizeof frame);
  fake_conn_send_text (conn, "this is not json");
  text = g_strdup_printf ("{\"event\":\"playAudio\",\"streamSid\":\"%s\"}",
      conn->stream_sid);
  fake_conn_send_text (conn, text);
  g_free (text);
  fake_conn_send_text (conn, "{\"event\":\"media\",\"media\":{\"payload\":"
      "\"VVVV\"}}");
  fake_conn_send_text (conn, "{\"event\":\"media\",\"streamSid\":"
      "\"MZ00000000000000000000000000000000\",\"media\":{\"payload\":"
      "\"VVVV\"}}");
  text = g_strdup_printf ("{\"event\":\"media\",\"streamSid\":\"%s\","
      "\"media\":{\"payload\":\"!!not base64!!\"}}", conn->stream_sid);
  fake_conn_send_text (conn, text);
  g_free (text);
  text = g_strdup_printf ("{\"event\":\"mark\",\"streamSid\":\"%s\","
      "\"mark\":{}}", conn->stream_sid);
  fake_conn_send_text (conn, text);
  g_free (text);
  text = g_strdup_printf ("{\"event\":\"clear\",\"streamSid\":\"%s\","
      "\"extra\":1}", conn->stream_sid);
  fake_conn_send_text (conn, text);
  g_free (text);
  /* 100 bytes: valid, but not a 20 ms frame */
  fake_conn_send_media (conn, frame, 100);
  fake_conn_send_text (conn, "[1,2,3]");
}

GST_START_TEST (test_violations)
{
  FakeBridge *bridge = fake_bridge_new (script_violations);
  SimRun *run;
  GPtrArray *events;
  CallerStream s;

  run = run_sim (bridge, "--silence-before=0", "--silence-after=200",
      fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 1);
  fail_unless_equals_int (violations_of (run, "binary-frame"), 1);
  fail_unless_equals_int (violations_of (run, "bad-json"), 2);
  fail_unless_equals_int (violations_of (run, "unknown-event"), 1);
  fail_unless_equals_int (violations_of (run, "missing-stream-sid"), 1);
  fail_unless_equals_int (violations_of (run, "wrong-stream-sid"), 1);
  fail_unless_equals_int (violations_of (run, "bad-base64"), 1);
  fail_unless_equals_int (violations_of (run, "missing-field"), 1);
  fail_unless_equals_int (violations_of (run, "extra-field"), 1);
  fail_unless_equals_int (violations_of (run, "frame-size"), 1);
  fail_unless_equals_int (summary_int (run, "violations_total"), 10);
  /* the odd-sized frame is still played, like Twilio does */
  fail_unless_equals_int (summary_int (run, "media_received"), 1);
  fail_unless_equals_int (summary_int (run, "clears"), 0);
  fail_if (json_object_get_boolean_member (run->summary, "ok"));
  events = events_named (run, "violation");
  fail_unless_equals_int (events->len, 10);
  g_ptr_array_unref (events);
  /* the call itself went on to a normal end */
  check_caller_stream (only_connection (bridge), &s);
  fail_unless (s.stopped);
  caller_stream_clear (&s);
  sim_run_free (run);
  fake_bridge_free (bridge);
}

GST_END_TEST;

static void
script_close_at_once (FakeConn * conn, const gchar * event,
    JsonObject * message)
{
  if (g_strcmp0 (event, "start") == 0)
    soup_websocket_connection_close (conn->ws, 1011, "going away");
}

GST_START_TEST (test_bridge_closes_early)
{
  FakeBridge *bridge = fake_bridge_new (script_close_at_once);
  SimRun *run;
  JsonArray *failures;

  run = run_sim (bridge, fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 1);
  fail_unless_equals_string (json_object_get_string_member (run->summary,
          "end"), "bridge-closed");
  failures = json_object_get_array_member (run->summary, "failures");
  fail_unless (json_array_get_length (failures) >= 1);
  fail_unless (strstr (json_array_get_string_element (failures, 0),
          "1011") != NULL);
  sim_run_free (run);
  fake_bridge_free (bridge);
}

GST_END_TEST;

GST_START_TEST (test_no_reply_with_expect_audio)
{
  FakeBridge *bridge = fake_bridge_new (NULL);
  SimRun *run;

  run = run_sim (bridge, "--expect-audio", "--reply-timeout=300",
      "--silence-before=0", fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 1);
  fail_unless (json_object_get_null_member (run->summary, "first_audio_ms"));
  fail_unless (strstr (run->out, "no audio from the bridge") != NULL);
  fail_unless (only_connection (bridge)->frames->len > 2);
  sim_run_free (run);
  fake_bridge_free (bridge);
}

GST_END_TEST;

GST_START_TEST (test_bad_signature_refused)
{
  FakeBridge *bridge = fake_bridge_new (NULL);
  SimRun *run;

  fake_bridge_require_signature (bridge, "right", "ws://x/call");
  run = run_sim (bridge, "--auth-token=wrong", "--public-url=ws://x/call",
      NULL);
  assert_exit (run, 1);
  fail_unless_equals_int (fake_bridge_get_rejected (bridge), 1);
  fail_unless_equals_int (fake_bridge_get_connections (bridge)->len, 0);
  fail_unless (strstr (run->out, "HTTP 403") != NULL, "%s", run->out);
  fail_if (json_object_get_boolean_member (run->summary, "connected"));
  sim_run_free (run);
  fake_bridge_free (bridge);
}

GST_END_TEST;

GST_START_TEST (test_connection_refused_and_bad_options)
{
  SimRun *run;
  GPtrArray *args;

  /* a port nobody listens on: bind one and close it again */
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  guint port;

  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (sock, NULL);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);

  run = run_sim (NULL, fmt_arg ("--url=ws://127.0.0.1:%u/call", port), NULL);
  assert_exit (run, 1);
  fail_unless_equals_string (json_object_get_string_member (run->summary,
          "end"), "connect-failed");
  sim_run_free (run);

  args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (args, g_strdup ("--url=ws://127.0.0.1:1/call"));
  g_ptr_array_add (args, g_strdup ("--audio=/nonexistent/none.wav"));
  run = run_sim_argv (args);
  assert_exit (run, 2);
  fail_unless (strstr (run->err, "none.wav") != NULL, "%s", run->err);
  sim_run_free (run);

  args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (args, g_strdup ("--url=ws://127.0.0.1:1/call"));
  g_ptr_array_add (args, g_strdup ("--dtmf=X@100"));
  run = run_sim_argv (args);
  assert_exit (run, 2);
  fail_unless (strstr (run->err, "X@100") != NULL, "%s", run->err);
  sim_run_free (run);

  args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (args, g_strdup ("--help"));
  run = run_sim_argv (args);
  assert_exit (run, 0);
  fail_unless (strstr (run->out, "Exit status") != NULL);
  fail_unless (strstr (run->out, "--barge-in-at") != NULL);
  sim_run_free (run);
}

GST_END_TEST;

/* ---- hanging up ------------------------------------------------------ */

GST_START_TEST (test_hangup)
{
  FakeBridge *bridge = fake_bridge_new (NULL);
  SimRun *run;
  FakeConn *conn;
  CallerStream s;

  run = run_sim (bridge, "--hangup-at=400", NULL);
  assert_exit (run, 0);
  conn = only_connection (bridge);
  check_caller_stream (conn, &s);
  fail_unless (s.stopped);
  /* media due at 170, 190, ... 390 ms: 12 frames before the hang-up */
  fail_unless (s.media >= 11 && s.media <= 13, "%u", s.media);
  fail_unless_equals_string (json_object_get_string_member (run->summary,
          "end"), "stop");
  caller_stream_clear (&s);
  sim_run_free (run);
  fake_bridge_free (bridge);

  /* abrupt: no stop, no close frame */
  bridge = fake_bridge_new (NULL);
  run = run_sim (bridge, "--hangup-at=400", "--abrupt", NULL);
  assert_exit (run, 0);
  fail_unless_equals_string (json_object_get_string_member (run->summary,
          "end"), "abrupt");
  conn = only_connection (bridge);
  check_caller_stream (conn, &s);
  fail_if (s.stopped);
  caller_stream_clear (&s);
  sim_run_free (run);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* ---- barge-in -------------------------------------------------------- */

typedef struct
{
  gboolean heard_speech;
  gboolean replied;
  gboolean cleared;
  gint64 reply_ts;              /* caller's timestamp when the reply went */
  gint64 barge_in_ts;           /* caller's timestamp of the new speech */
} BargeState;

/* A tiny bridge: answers 200 ms after the caller stops speaking with 3 s of
 * audio, and clears it when the caller speaks again. */
static void
script_barge_in (FakeConn * conn, const gchar * event, JsonObject * message)
{
  BargeState *st;
  JsonObject *media;
  gsize len, i;
  guchar *payload;
  gboolean speech = FALSE;
  gint64 ts;

  if (g_strcmp0 (event, "start") == 0)
    conn->script_data = g_new0 (BargeState, 1);
  if (g_strcmp0 (event, "media") != 0)
    return;
  st = conn->script_data;
  media = json_object_get_object_member (message, "media");
  ts = g_ascii_strtoll (json_object_get_string_member (media, "timestamp"),
      NULL, 10);
  payload = g_base64_decode (json_object_get_string_member (media, "payload"),
      &len);
  for (i = 0; i < len; i++)
    speech |= payload[i] != 0xFF;
  g_free (payload);

  if (speech && !st->replied) {
    st->heard_speech = TRUE;
    st->reply_ts = ts + 200;
  } else if (!speech && st->heard_speech && !st->replied && ts >= st->reply_ts) {
    guint8 *pattern = make_pattern (LONG_FRAMES * FRAME);

    for (i = 0; i < LONG_FRAMES; i++)
      fake_conn_send_media (conn, pattern + i * FRAME, FRAME);
    fake_conn_send_mark (conn, "reply");
    g_free (pattern);
    st->replied = TRUE;
  } else if (speech && st->replied && !st->cleared) {
    st->barge_in_ts = ts;
    fake_conn_send_clear (conn);
    st->cleared = TRUE;
  }
}

GST_START_TEST (test_barge_in)
{
  FakeBridge *bridge = fake_bridge_new (script_barge_in);
  gchar *wav = g_build_filename (tmp_dir, "barge.wav", NULL);
  SimRun *run;
  FakeConn *conn;
  BargeState *st;
  CallerStream s;
  JsonArray *turns;
  GPtrArray *heard;
  gint64 reply_ms, speech_ts;

  run = run_sim (bridge, "--silence-before=100", "--silence-after=300",
      "--barge-in-at=reply+400", "--expect-audio",
      fmt_arg ("--record=%s", wav), fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 0);
  conn = only_connection (bridge);
  st = conn->script_data;
  fail_unless (st->replied && st->cleared);
  check_caller_stream (conn, &s);
  /* two utterances of 0.5 s each */
  fail_unless (s.speech_frames >= 48 && s.speech_frames <= 52, "%u",
      s.speech_frames);

  /* the caller spoke again 400 ms (of stream time) after the reply began to
   * play, while the bridge was still talking */
  heard = events_named (run, "reply-heard");
  fail_unless_equals_int (heard->len, 1);
  reply_ms = json_object_get_int_member (g_ptr_array_index (heard, 0),
      "stream_ms");
  g_ptr_array_unref (heard);
  speech_ts = st->barge_in_ts;
  fail_unless (speech_ts >= reply_ms + 400 && speech_ts <= reply_ms + 440,
      "reply heard at %" G_GINT64_FORMAT ", barge-in at %" G_GINT64_FORMAT,
      reply_ms, speech_ts);

  fail_unless_equals_int (summary_int (run, "clears"), 1);
  fail_unless_equals_int (summary_int (run, "marks_echoed_cleared"), 1);
  fail_unless (summary_double (run, "audio_cleared_ms") > 1000);
  turns = json_object_get_array_member (run->summary, "turn_latency_ms");
  fail_unless_equals_int (json_array_get_length (turns), 2);
  /* the reply went 200 ms of caller time after the first utterance */
  fail_unless (json_array_get_double_element (turns, 0) >= 150);
  /* no answer to the barge-in in this script */
  fail_unless (JSON_NODE_HOLDS_NULL (json_array_get_element (turns, 1)));

  caller_stream_clear (&s);
  sim_run_free (run);
  g_free (wav);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* ---- many calls ------------------------------------------------------ */

static void
script_short_reply (FakeConn * conn, const gchar * event, JsonObject * message)
{
  guint8 *pattern;
  guint i;
  gchar *name;

  if (g_strcmp0 (event, "start") != 0)
    return;
  pattern = make_pattern (10 * FRAME);
  for (i = 0; i < 10; i++)
    fake_conn_send_media (conn, pattern + i * FRAME, FRAME);
  /* named after the stream, to catch cross-talk */
  name = g_strdup_printf ("end-%s", conn->stream_sid);
  fake_conn_send_mark (conn, name);
  g_free (name);
  g_free (pattern);
}

GST_START_TEST (test_many_calls)
{
  FakeBridge *bridge = fake_bridge_new (script_short_reply);
  gchar *wav = g_build_filename (tmp_dir, "many.wav", NULL);
  GHashTable *sids = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *conns, *summaries;
  SimRun *run;
  guint i;

  run = run_sim (bridge, "--calls=5", "--quiet", "--silence-before=0",
      "--silence-after=200", "--expect-audio",
      fmt_arg ("--record=%s", wav), fmt_arg ("--audio=%s", tone_path), NULL);
  assert_exit (run, 0);
  fail_unless (run->aggregate != NULL);
  fail_unless_equals_int (json_object_get_int_member (run->aggregate,
          "calls"), 5);
  fail_unless_equals_int (json_object_get_int_member (run->aggregate, "ok"), 5);
  summaries = events_named (run, "summary");
  fail_unless_equals_int (summaries->len, 5);
  g_ptr_array_unref (summaries);
  /* --quiet: no timeline */
  summaries = events_named (run, "start");
  fail_unless_equals_int (summaries->len, 0);
  g_ptr_array_unref (summaries);

  conns = fake_bridge_get_connections (bridge);
  fail_unless_equals_int (conns->len, 5);
  for (i = 0; i < conns->len; i++) {
    FakeConn *conn = g_ptr_array_index (conns, i);
    CallerStream s;
    gchar *expected = g_strdup_printf ("end-%s", conn->stream_sid);
    gchar *path = g_strdup_printf ("%s/many-%u.wav", tmp_dir, i + 1);

    check_caller_stream (conn, &s);
    fail_unless (s.stopped);
    fail_unless_equals_int (s.mark_echoes, 1);
    fail_unless_equals_string (g_ptr_array_index (s.echo_names, 0), expected);
    fail_if (g_hash_table_contains (sids, conn->stream_sid));
    g_hash_table_add (sids, conn->stream_sid);
    fail_unless (g_file_test (path, G_FILE_TEST_EXISTS), "%s", path);
    caller_stream_clear (&s);
    g_free (expected);
    g_free (path);
  }

  g_hash_table_unref (sids);
  sim_run_free (run);
  g_free (wav);
  fake_bridge_free (bridge);
}

GST_END_TEST;

static Suite *
callsim_suite (void)
{
  Suite *s = suite_create ("callsim");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caller_messages);
  tcase_add_test (tc, test_marks_and_recording);
  tcase_add_test (tc, test_clear);
  tcase_add_test (tc, test_violations);
  tcase_add_test (tc, test_bridge_closes_early);
  tcase_add_test (tc, test_no_reply_with_expect_audio);
  tcase_add_test (tc, test_bad_signature_refused);
  tcase_add_test (tc, test_connection_refused_and_bad_options);
  tcase_add_test (tc, test_hangup);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_many_calls);
  tcase_add_test (tc, test_first_audio_is_audible);
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;
  int result;

  gst_check_init (&argc, &argv);
  tmp_dir = g_dir_make_tmp ("callsim-XXXXXX", NULL);
  tone_path = g_build_filename (tmp_dir, "tone.wav", NULL);
  make_tone_file (tone_path, 500);
  /* Each test runs in a forked child: the pipeline's pooled streaming
   * threads must be gone before, or the child waits for them forever. */
  gst_task_cleanup_all ();
  s = callsim_suite ();
  result = gst_check_run_suite (s, "callsim", __FILE__);
  {
    GDir *dir = g_dir_open (tmp_dir, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      gchar *path = g_build_filename (tmp_dir, name, NULL);

      g_unlink (path);
      g_free (path);
    }
    if (dir)
      g_dir_close (dir);
    g_rmdir (tmp_dir);
  }
  g_free (tone_path);
  g_free (tmp_dir);
  return result;
}
