/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The end of an answer must reach the caller when the answer ends, not
 * when the next one starts. The caller says a 1 s tone; the local model
 * echoes exactly that tone (its echo is the committed audio, which holds
 * the whole tone), so the caller must hear all 1000 ms of it.
 *
 * This failed (the caller heard 980 ms) while the transcode pipeline held
 * the last partial 20 ms frame of each answer back until the next answer:
 * audioresample's filter delay leaves an answer a little short of a whole
 * number of frames at twiliosink, which sends only whole frames.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "e2eutil.h"

#define TONE_MS 1000
#define TONE_AMPLITUDE 0.5
/* The resamplers' filters blur a tone's edges by a few ms. */
#define EDGE_MS 5.0

GST_START_TEST (test_whole_answer_heard)
{
  const gchar *bridge_args[] = { "--port", "0", NULL };
  gchar *dir = e2e_make_dir ();
  g_autofree gchar *tone_path = g_build_filename (dir, "tone.wav", NULL);
  g_autofree gchar *heard_path = g_build_filename (dir, "heard.wav", NULL);
  g_autofree gchar *audio_arg = g_strdup_printf ("--audio=%s", tone_path);
  g_autofree gchar *record_arg = g_strdup_printf ("--record=%s", heard_path);
  const gchar *sim_args[] = { audio_arg, record_arg, "--expect-audio",
    "--quiet", NULL
  };
  TestProcess *bridge = e2e_bridge_start (bridge_args, NULL);
  guint port = test_bridge_port (bridge);
  g_autoptr (GError) error = NULL;
  TestProcess *sim;
  E2eWav heard;
  gsize tone_first = 0, tone_last = 0;
  gdouble tone_ms;

  fail_unless (e2e_wav_write_tone (tone_path, 1000, TONE_MS, TONE_AMPLITUDE,
          0, &error), "%s", error ? error->message : "");
  sim = e2e_callsim_start (port, sim_args);
  fail_unless_equals_int (e2e_finish (sim, 0, 120), 0);
  e2e_free (sim);
  fail_unless_equals_int (e2e_stop (bridge, 60), 0);

  fail_unless (e2e_wav_read (heard_path, &heard, &error), "%s", error->message);
  fail_unless (e2e_tone_span (&heard, TONE_AMPLITUDE, &tone_first, &tone_last));
  tone_ms = (tone_last - tone_first + 1) / 8.0;
  g_print ("heard %.1f ms of the %d ms tone\n", tone_ms, TONE_MS);
  e2e_wav_clear (&heard);
  e2e_remove_dir (dir);
  g_free (dir);
  fail_unless (tone_ms >= TONE_MS - EDGE_MS, "the caller heard %.1f ms of "
      "the %d ms answer", tone_ms, TONE_MS);
  fail_unless (tone_ms <= TONE_MS + EDGE_MS);
}

GST_END_TEST;

static Suite *
e2e_answer_tail_suite (void)
{
  Suite *s = suite_create ("e2e_answer_tail");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_whole_answer_heard);
  return s;
}

GST_CHECK_MAIN (e2e_answer_tail);
