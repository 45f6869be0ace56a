/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Callers who hang up while the bridge is answering, one politely (stop,
 * then a close frame) and one abruptly (the TCP connection dropped), at the
 * same time. Nothing may stay behind: the bridge logs both calls' summaries,
 * /health shows no active call, the embedded model no open session, and on
 * SIGTERM the bridge exits 0 (under the sanitizer build: with no leak and
 * no error report).
 */
#include <gst/check/gstcheck.h>
#include <signal.h>
#include <string.h>

#include "e2eutil.h"

typedef struct
{
  const gchar *label;
  gboolean abrupt;
  gchar *events_path;
  TestProcess *sim;
} Caller;

GST_START_TEST (test_hangup_mid_answer_leaves_nothing)
{
  const gchar *hello = e2e_sample ("E2E_AUDIO_HELLO");
  const gchar *bridge_args[] = { "--port", "0", NULL };
  gchar *dir = e2e_make_dir ();
  TestProcess *bridge = e2e_bridge_start (bridge_args, NULL);
  guint port = test_bridge_port (bridge);
  g_autofree gchar *audio_arg = g_strdup_printf ("--audio=%s", hello);
  g_autoptr (JsonObject) starting = NULL;
  g_autoptr (JsonObject) stopped = NULL;
  Caller callers[2] = { {"polite", FALSE}, {"abrupt", TRUE} };
  guint model_port, i;

  starting = test_process_wait_event (bridge, "starting", NULL, NULL, 10);
  fail_unless (starting != NULL);
  model_port = e2e_url_port (json_object_get_string_member (starting,
          "realtime-url"));

  for (i = 0; i < G_N_ELEMENTS (callers); i++) {
    g_autofree gchar *name = g_strdup_printf ("%s.jsonl", callers[i].label);
    g_autofree gchar *events_arg = NULL;
    const gchar *args[] = { audio_arg, NULL, "--hangup-at=reply+500",
      "--expect-audio", "--quiet", NULL, NULL
    };

    callers[i].events_path = g_build_filename (dir, name, NULL);
    events_arg = g_strdup_printf ("--events=%s", callers[i].events_path);
    args[1] = events_arg;
    if (callers[i].abrupt)
      args[5] = "--abrupt";
    callers[i].sim = e2e_callsim_start (port, args);
  }

  for (i = 0; i < G_N_ELEMENTS (callers); i++) {
    g_autoptr (GPtrArray) events = NULL;
    g_autoptr (JsonObject) ended = NULL;
    JsonObject *summary, *hangup;

    fail_unless_equals_int (e2e_finish (callers[i].sim, 0, 120), 0);
    e2e_free (callers[i].sim);
    events = e2e_read_json_lines (callers[i].events_path);
    summary = e2e_find (events, "event", "summary", 0);
    fail_unless (summary != NULL);
    fail_unless (json_object_get_boolean_member (summary, "ok"));
    hangup = e2e_find (events, "event", "hangup", 0);
    fail_unless (hangup != NULL);
    fail_unless (json_object_get_boolean_member (hangup, "abrupt") ==
        callers[i].abrupt);
    /* Mid-answer: the echo of the 3.4 s utterance was far from over. */
    fail_unless (e2e_double (summary, "audio_played_ms") < 1500,
        "%s caller heard %.0f ms before hanging up", callers[i].label,
        e2e_double (summary, "audio_played_ms"));
    fail_unless (e2e_double (summary, "audio_played_ms") > 0);

    /* The bridge ended the call and logged its summary. */
    ended = test_process_wait_event (bridge, "call-ended", "callSid",
        json_object_get_string_member (summary, "call_sid"), 30);
    fail_unless (ended != NULL, "no call-ended for the %s caller",
        callers[i].label);
    fail_unless (json_object_has_member (ended, "status"));
    fail_unless (json_object_has_member (ended, "duration-s"));
    fail_unless (json_object_get_int_member (ended, "speech-started") >= 1);
    g_free (callers[i].events_path);
  }

  /* Nothing left running: no active call, no model session. */
  fail_unless_equals_int (e2e_wait_json_int (port, "/health", "activeCalls",
          0, 10), 0);
  fail_unless_equals_int (e2e_wait_json_int (model_port, "/stats",
          "sessions_active", 0, 10), 0);

  /* And the process ends clean: no call to abandon, exit 0, no leak or
   * sanitizer report. */
  test_process_signal (bridge, SIGTERM);
  stopped = test_process_wait_event (bridge, "stopped", NULL, NULL, 60);
  fail_unless (stopped != NULL);
  fail_unless_equals_int (json_object_get_int_member (stopped,
          "abandoned-calls"), 0);
  fail_unless_equals_int (e2e_reap (bridge, 60), 0);
  e2e_remove_dir (dir);
  g_free (dir);
}

GST_END_TEST;

static Suite *
e2e_hangup_suite (void)
{
  Suite *s = suite_create ("e2e_hangup");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_hangup_mid_answer_leaves_nothing);
  return s;
}

GST_CHECK_MAIN (e2e_hangup);
