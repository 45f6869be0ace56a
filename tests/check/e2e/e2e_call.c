/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A full call through the real launcher with its embedded local model: the
 * simulated caller says the spoken sample, and what the caller heard back
 * is the same utterance (the model is an echo agent), after the caller
 * finished speaking, as long as it was said.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "e2eutil.h"

/* Level above which a 20 ms window counts as speech. espeak-ng's quietest
 * voiced windows are around -40 dBFS; silence is digital zero. */
#define SPEECH_DB -50.0
/* Clearly voiced. */
#define LOUD_DB -30.0
#define SILENCE_BEFORE_MS 500

GST_START_TEST (test_full_call_echo)
{
  const gchar *hello = e2e_sample ("E2E_AUDIO_HELLO");
  const gchar *bridge_args[] = { "--port", "0", NULL };
  gchar *dir = e2e_make_dir ();
  g_autofree gchar *heard_path = g_build_filename (dir, "heard.wav", NULL);
  g_autofree gchar *events_path = g_build_filename (dir, "sim.jsonl", NULL);
  g_autofree gchar *audio_arg = g_strdup_printf ("--audio=%s", hello);
  g_autofree gchar *record_arg = g_strdup_printf ("--record=%s", heard_path);
  g_autofree gchar *events_arg = g_strdup_printf ("--events=%s", events_path);
  g_autofree gchar *before_arg = g_strdup_printf ("--silence-before=%d",
      SILENCE_BEFORE_MS);
  const gchar *sim_args[] = { audio_arg, record_arg, events_arg, before_arg,
    "--expect-audio", "--quiet", NULL
  };
  TestProcess *bridge = e2e_bridge_start (bridge_args, NULL);
  guint port = test_bridge_port (bridge);
  TestProcess *sim;
  g_autoptr (JsonObject) starting = NULL;
  g_autoptr (JsonObject) ended = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GPtrArray) bridge_log = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) said_env = NULL;
  g_autoptr (GArray) heard_env = NULL;
  g_autoptr (GArray) pattern = NULL;
  JsonObject *summary, *transcript;
  E2eWav said, heard;
  guint said_first, said_last, heard_first, heard_last, lag, i;
  guint offset, best_offset = 0, best_lag = 0;
  gdouble best_corr = -2;
  gdouble corr, said_ms, heard_ms, speech_end_ms;
  const gchar *call_sid;
  gboolean echo_labelled = FALSE;

  starting = test_process_wait_event (bridge, "starting", NULL, NULL, 10);
  fail_unless (starting != NULL);
  fail_unless_equals_string (json_object_get_string_member (starting,
          "model-mode"), "local");

  sim = e2e_callsim_start (port, sim_args);
  fail_unless_equals_int (e2e_finish (sim, 0, 120), 0);
  e2e_free (sim);

  /* The simulator's own verdict: connected, no protocol violation, heard
   * the bridge, hung up itself. */
  events = e2e_read_json_lines (events_path);
  summary = e2e_find (events, "event", "summary", 0);
  fail_unless (summary != NULL);
  fail_unless (json_object_get_boolean_member (summary, "ok"));
  fail_unless_equals_int (json_object_get_int_member (summary,
          "violations_total"), 0);
  fail_unless (e2e_double (summary, "first_audio_ms") > 0);
  call_sid = json_object_get_string_member (summary, "call_sid");

  /* The bridge logged the call under the SID the caller sent, and it
   * ended as completed with one answered turn and the echo's transcript. */
  ended = test_process_wait_event (bridge, "call-ended", "callSid",
      call_sid, 30);
  fail_unless (ended != NULL);
  fail_unless_equals_string (json_object_get_string_member (ended, "status"),
      "completed");
  fail_unless (json_object_get_int_member (ended, "turns") >= 1);
  bridge_log = e2e_process_json_lines (bridge);
  for (i = 0; (transcript = e2e_find (bridge_log, "event",
              "realtime-transcript", i)); i++)
    if (json_object_get_boolean_member (transcript, "final")
        && g_str_has_prefix (json_object_get_string_member (transcript,
                "text"), "[echo] "))
      echo_labelled = TRUE;
  fail_unless (echo_labelled, "no final [echo] transcript was logged");

  /* What was said and what was heard, as 20 ms energy envelopes. */
  fail_unless (e2e_wav_read (hello, &said, &error), "%s", error->message);
  fail_unless (e2e_wav_read (heard_path, &heard, &error), "%s", error->message);
  fail_unless_equals_int (heard.rate, 8000);
  said_env = e2e_envelope (&said);
  heard_env = e2e_envelope (&heard);
  fail_unless (e2e_active_span (said_env, SPEECH_DB, &said_first, &said_last));
  pattern = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_array_append_vals (pattern, &g_array_index (said_env, gdouble,
          said_first), said_last - said_first + 1);

  /* The utterance's envelope reappears in what the caller heard: the
   * words' rhythm and loudness survive μ-law, resampling and the model.
   * The echo is not aligned to the 20 ms windows, so the heard envelope is
   * taken again from each 1 ms offset within a window around the best
   * match, and the best alignment is kept. */
  corr = e2e_best_correlation (pattern, heard_env, 0, &lag);
  for (offset = 0; offset < E2E_WINDOW_MS; offset++) {
    g_autoptr (GArray) shifted = e2e_envelope_from (&heard, offset * 8);
    guint shifted_lag;
    gdouble r = e2e_best_correlation (pattern, shifted, lag > 0 ? lag - 1 : 0,
        &shifted_lag);

    if (r > best_corr && shifted_lag <= lag + 1) {
      best_corr = r;
      best_offset = offset;
      best_lag = shifted_lag;
    }
  }
  g_array_unref (heard_env);
  heard_env = e2e_envelope_from (&heard, best_offset * 8);
  g_print ("envelope correlation %.3f at %u ms (%.3f at %u ms on the "
      "grid)\n", best_corr, best_lag * E2E_WINDOW_MS + best_offset, corr,
      lag * E2E_WINDOW_MS);
  fail_unless (best_corr > 0.85, "what the caller heard does not follow "
      "the utterance (best correlation %.3f)", best_corr);
  lag = best_lag;
  corr = best_corr;

  /* ...after the caller stopped speaking (it is an answer, not a loop of
   * the caller's own audio). The stream's time axis starts with
   * SILENCE_BEFORE_MS of silence, then the file. */
  speech_end_ms = SILENCE_BEFORE_MS + (said_last + 1) * E2E_WINDOW_MS;
  fail_unless (lag * E2E_WINDOW_MS + best_offset >= speech_end_ms,
      "the echo began at %u " "ms, before the caller stopped at %.0f ms",
      lag * E2E_WINDOW_MS, speech_end_ms);

  /* ...whole: every clearly voiced window of the utterance (well above
   * the model's VAD threshold of -35 dBFS, so the model must have taken
   * it as speech) is heard at its place in the echo; quiet trailing
   * sounds under that threshold may end the model's turn early, as with
   * the real API. */
  for (i = said_first; i <= said_last; i++) {
    gdouble level = g_array_index (said_env, gdouble, i);
    guint at = lag + (i - said_first);

    if (level < LOUD_DB)
      continue;
    fail_unless (at < heard_env->len, "the echo stops before %u ms of the "
        "utterance", i * E2E_WINDOW_MS);
    if (g_array_index (heard_env, gdouble, at) <= SPEECH_DB)
      g_setenv ("E2E_KEEP", "1", TRUE);
    fail_unless (g_array_index (heard_env, gdouble, at) > SPEECH_DB,
        "%u ms into the utterance (%.0f dBFS) the caller heard silence",
        i * E2E_WINDOW_MS, level);
  }
  /* ...and nothing else: no speech outside the echo's span. */
  fail_unless (e2e_active_span (heard_env, SPEECH_DB, &heard_first,
          &heard_last));
  fail_unless (heard_first + 1 >= lag && heard_last <= lag + (said_last -
          said_first) + 1, "speech heard at %u..%u ms, the echo spans "
      "%u..%u ms", heard_first * E2E_WINDOW_MS, heard_last * E2E_WINDOW_MS,
      lag * E2E_WINDOW_MS, (lag + said_last - said_first) * E2E_WINDOW_MS);
  said_ms = (said_last - said_first + 1) * E2E_WINDOW_MS;
  heard_ms = (heard_last - heard_first + 1) * E2E_WINDOW_MS;
  g_print ("said %.0f ms of speech, heard %.0f ms\n", said_ms, heard_ms);
  /* The simulator counted the same audio as played. */
  fail_unless (e2e_double (summary, "audio_played_ms") >= heard_ms,
      "played %.0f ms < heard speech %.0f ms",
      e2e_double (summary, "audio_played_ms"), heard_ms);

  e2e_wav_clear (&said);
  e2e_wav_clear (&heard);
  fail_unless_equals_int (e2e_stop (bridge, 60), 0);
  e2e_remove_dir (dir);
  g_free (dir);
}

GST_END_TEST;

static Suite *
e2e_call_suite (void)
{
  Suite *s = suite_create ("e2e_call");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_full_call_echo);
  return s;
}

GST_CHECK_MAIN (e2e_call);
