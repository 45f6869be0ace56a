/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Barge-in through the real launcher: a standalone local model speaking in
 * real time (--pace 1, --events-log), the simulated caller interrupting the
 * answer 800 ms after it began to hear it. The caller must get a Twilio
 * `clear`, and the model a conversation.item.truncate whose audio_end_ms is
 * within 20 ms of what the caller had heard of that item when the clear
 * reached it.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "e2eutil.h"

/* How far the truncation may be from what was heard (the bound). */
#define TRUNCATE_TOLERANCE_MS 20.0

/* What the caller heard of the first answer when the first `clear` arrived,
 * from the simulator's timeline. The answer's segments are those that
 * began after the caller began its first utterance (before it, the bridge
 * may send a frame of silence that is part of no answer). Playout segments carry stream times on
 * the caller's 20 ms tick grid (a segment [start, end) played whole frames;
 * the frame sounding when the clear came was heard only up to that
 * instant). The clear carries only the time since connecting (t_ms), so
 * its stream time is t_ms minus the offset between the two clocks, which
 * is the smallest t_ms - stream_ms of any tick event (tick events are
 * logged right after their tick). */
static gdouble
heard_before_clear (GPtrArray * events, gdouble * clear_stream_out)
{
  JsonObject *clear = e2e_find (events, "event", "clear", 0);
  gint clear_index = e2e_index_of (events, clear);
  gint speech_index = e2e_index_of (events, e2e_find (events, "event",
          "caller-speech-start", 0));
  gdouble offset = G_MAXDOUBLE, clear_stream, heard = 0, start = -1;
  guint i;

  fail_unless (clear != NULL, "the caller never got a clear");
  fail_unless (speech_index >= 0);
  for (i = 0; i < events->len; i++) {
    JsonObject *e = g_ptr_array_index (events, i);
    const gchar *name = json_object_get_string_member_with_default (e,
        "event", "");

    if (!strcmp (name, "playout-start") || !strcmp (name, "playout-end"))
      offset = MIN (offset, e2e_double (e, "t_ms") - e2e_double (e,
              "stream_ms"));
  }
  fail_unless (offset < G_MAXDOUBLE);
  clear_stream = e2e_double (clear, "t_ms") - offset;

  for (i = 0; i < events->len; i++) {
    JsonObject *e = g_ptr_array_index (events, i);
    const gchar *name = json_object_get_string_member_with_default (e,
        "event", "");

    if ((gint) i < speech_index)
      continue;
    if (!strcmp (name, "playout-start")) {
      if ((gint) i > clear_index)
        break;
      start = e2e_double (e, "stream_ms");
    } else if (!strcmp (name, "playout-end") && start >= 0) {
      heard += MIN (e2e_double (e, "stream_ms"), clear_stream) - start;
      start = -1;
    }
  }
  fail_unless (start < 0, "a playout segment never ended");
  *clear_stream_out = clear_stream;
  return heard;
}

GST_START_TEST (test_barge_in_truncates_what_was_heard)
{
  const gchar *hello = e2e_sample ("E2E_AUDIO_HELLO");
  const gchar *interrupt = e2e_sample ("E2E_AUDIO_INTERRUPT");
  gchar *dir = e2e_make_dir ();
  g_autofree gchar *model_log = g_build_filename (dir, "model.jsonl", NULL);
  g_autofree gchar *events_path = g_build_filename (dir, "sim.jsonl", NULL);
  g_autofree gchar *heard_path = g_build_filename (dir, "heard.wav", NULL);
  g_autofree gchar *model_log_arg = g_strdup_printf ("--events-log=%s",
      model_log);
  const gchar *model_args[] = { "--pace=1", model_log_arg, NULL };
  g_autofree gchar *model_url = NULL;
  TestProcess *model = e2e_model_start (model_args, &model_url);
  const gchar *bridge_args[] = { "--port", "0", "--realtime-url", model_url,
    NULL
  };
  const gchar *bridge_env[] = { "OPENAI_API_KEY", E2E_FAKE_API_KEY, NULL };
  TestProcess *bridge = e2e_bridge_start (bridge_args, bridge_env);
  guint port = test_bridge_port (bridge);
  g_autofree gchar *audio_arg = g_strdup_printf ("--audio=%s", hello);
  g_autofree gchar *barge_arg = g_strdup_printf ("--barge-in-audio=%s",
      interrupt);
  g_autofree gchar *events_arg = g_strdup_printf ("--events=%s", events_path);
  g_autofree gchar *record_arg = g_strdup_printf ("--record=%s", heard_path);
  const gchar *sim_args[] = { audio_arg, barge_arg, events_arg, record_arg,
    "--barge-in-at=reply+800", "--expect-audio", "--quiet", NULL
  };
  TestProcess *sim;
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GPtrArray) model_events = NULL;
  g_autoptr (GPtrArray) bridge_log = NULL;
  g_autoptr (JsonObject) stats = NULL;
  JsonObject *summary, *truncate, *truncated, *barge_speech, *clear;
  const gchar *item_id;
  gdouble heard, audio_end_ms, clear_stream;

  sim = e2e_callsim_start (port, sim_args);
  fail_unless_equals_int (e2e_finish (sim, 0, 120), 0);
  e2e_free (sim);

  events = e2e_read_json_lines (events_path);
  summary = e2e_find (events, "event", "summary", 0);
  fail_unless (summary != NULL);
  fail_unless (json_object_get_boolean_member (summary, "ok"));
  fail_unless_equals_int (json_object_get_int_member (summary,
          "violations_total"), 0);
  fail_unless (json_object_get_int_member (summary, "clears") >= 1);

  /* The clear answered the interruption: it came after the caller began
   * to speak again (turn 2). */
  barge_speech = e2e_find (events, "event", "caller-speech-start", 1);
  clear = e2e_find (events, "event", "clear", 0);
  fail_unless (barge_speech != NULL && clear != NULL);
  fail_unless (e2e_index_of (events, clear) > e2e_index_of (events,
          barge_speech), "the bridge cleared before the caller interrupted");
  heard = heard_before_clear (events, &clear_stream);
  g_print ("caller heard %.1f ms of the answer before the clear at %.1f ms\n",
      heard, clear_stream);
  /* The interruption came 800 ms into the reply, so most of that was
   * heard (the reply may have paused while the model streamed it). */
  fail_unless (heard >= 400, "only %.1f ms of the answer were heard", heard);

  /* The model got the truncation of the answer's item... */
  stats = e2e_get_json (e2e_url_port (model_url), "/stats");
  fail_unless (stats != NULL);
  fail_unless (json_object_get_int_member (stats, "truncates") >= 1);
  fail_unless (json_object_get_int_member (stats, "responses_cancelled") >= 1);
  /* ...and accepted it: the model answers a bad truncate with an error. */
  fail_unless_equals_int (json_object_get_int_member (stats, "errors_sent"), 0);
  model_events = e2e_read_json_lines (model_log);
  truncate = e2e_find (model_events, "type", "conversation.item.truncate", 0);
  fail_unless (truncate != NULL);
  audio_end_ms = e2e_double (truncate, "audio_end_ms");
  item_id = json_object_get_string_member (truncate, "item_id");

  /* The heart of it: truncated where the caller stopped hearing. */
  g_print ("truncated at %.0f ms, heard %.1f ms\n", audio_end_ms, heard);
  fail_unless (ABS (audio_end_ms - heard) <= TRUNCATE_TOLERANCE_MS,
      "truncated at %.0f ms, the caller heard %.1f ms", audio_end_ms, heard);

  /* The bridge reported the same truncation for the answer's item. */
  bridge_log = e2e_process_json_lines (bridge);
  truncated = e2e_find (bridge_log, "event", "realtime-truncated", 0);
  fail_unless (truncated != NULL);
  fail_unless_equals_string (json_object_get_string_member (truncated,
          "item-id"), item_id);
  fail_unless_equals_int (json_object_get_int_member (truncated,
          "audio-end-ms"), (gint) audio_end_ms);
  fail_unless (e2e_find (bridge_log, "event", "twilio-clear", 0) != NULL);

  fail_unless_equals_int (e2e_stop (bridge, 60), 0);
  fail_unless_equals_int (e2e_stop (model, 30), 0);
  e2e_remove_dir (dir);
  g_free (dir);
}

GST_END_TEST;

static Suite *
e2e_bargein_suite (void)
{
  Suite *s = suite_create ("e2e_bargein");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_barge_in_truncates_what_was_heard);
  return s;
}

GST_CHECK_MAIN (e2e_bargein);
