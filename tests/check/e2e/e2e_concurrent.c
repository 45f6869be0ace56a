/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 20 concurrent calls (fewer under sanitizers, see MAX_CALLS) through
 * one real launcher and its embedded local model. Each caller says a tone of its own frequency and must hear its
 * own tone back (no cross-talk), whole (no lost audio), while all 20 calls
 * are up at the same time.
 */
#include <gst/check/gstcheck.h>
#include <math.h>
#include <string.h>

#include "e2eutil.h"

#define MAX_CALLS 20
/* The normal build runs all 20. Under AddressSanitizer the bridge needs
 * several times the CPU, and 20 calls plus 20 simulator processes no longer
 * run in real time on a 2-core machine; tests/check/e2e/meson.build then
 * sets E2E_CONCURRENT_CALLS lower: that build checks the concurrency for
 * memory errors, the normal build checks it in real time. */
static guint n_calls = MAX_CALLS;
/* Continuity (no hole, no stretch) is a real-time property: checked in the
 * normal build; E2E_REALTIME_CHECKS=0 under sanitizers (see meson.build). */
static gboolean realtime_checks = TRUE;
#define TONE_MS 1000
#define TONE_AMPLITUDE 0.5
/* 400, 550, ... 3250 Hz: inside the telephone band that survives μ-law and
 * the 8 -> 24 -> 8 kHz resampling, 150 Hz apart, and no tone's 2nd or 3rd
 * harmonic (μ-law's distortion) falls on another's frequency. */
#define FREQ(i) (400.0 + 150.0 * (i))
/* The echo is the committed audio from its start to the end of the last
 * 10 ms VAD frame with speech, so it holds the whole tone; the resamplers'
 * filters blur the edges by a few ms (EDGE_MS).
 * The last partial 20 ms frame of an answer was once held back in the
 * bridge (test e2e_answer_tail checks that precisely); it is allowed here
 * so that this test checks the rest; one lost frame more fails it. */
#define EDGE_MS 5.0
#define ANSWER_TAIL_HELD_MS 20.0

typedef struct
{
  gdouble freq;
  gchar *audio_path;
  gchar *heard_path;
  gchar *events_path;
  gchar *call_sid;
  TestProcess *sim;
} Call;

/* The most calls the bridge had up at once, from its log: a call is up
 * from its first event (they carry its id in "call") to its call-ended. */
static guint
max_concurrent_calls (GPtrArray * bridge_log)
{
  g_autoptr (GHashTable) up = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) over = g_hash_table_new (g_str_hash, g_str_equal);
  guint i, max = 0;

  for (i = 0; i < bridge_log->len; i++) {
    JsonObject *e = g_ptr_array_index (bridge_log, i);
    const gchar *name = json_object_get_string_member_with_default (e,
        "event", "");
    const gchar *call = json_object_get_string_member_with_default (e,
        "call", NULL);

    if (!call || g_hash_table_contains (over, call))
      continue;
    if (!strcmp (name, "call-ended")) {
      g_hash_table_remove (up, call);
      g_hash_table_add (over, (gpointer) call);
    } else {
      g_hash_table_add (up, (gpointer) call);
      max = MAX (max, g_hash_table_size (up));
    }
  }
  return max;
}

static void
check_heard (Call * call, guint index)
{
  g_autoptr (GError) error = NULL;
  E2eWav heard;
  gdouble own, strongest_other = 0, tone_ms;
  gsize i, tone_first = 0, tone_last = 0;
  guint other, w, holes = 0, tone_windows = 0;

  fail_unless (e2e_wav_read (call->heard_path, &heard, &error), "%s",
      error->message);

  /* Its own tone and nobody else's. */
  own = e2e_tone_power (&heard, 0, heard.n_samples, call->freq);
  for (other = 0; other < n_calls; other++)
    if (other != index)
      strongest_other = MAX (strongest_other, e2e_tone_power (&heard, 0,
              heard.n_samples, FREQ (other)));
  fail_unless (own > 100 * strongest_other, "call %u (%.0f Hz) heard "
      "another call: own tone %.3g, strongest other %.3g", index + 1,
      call->freq, own, strongest_other);

  /* All of it... */
  fail_unless (e2e_tone_span (&heard, TONE_AMPLITUDE, &tone_first,
          &tone_last), "call %u heard no tone", index + 1);
  for (w = tone_first; w + 160 <= tone_last; w += 160) {
    gdouble sum = 0;

    for (i = w; i < w + 160; i++)
      sum += (gdouble) heard.samples[i] * heard.samples[i];
    /* The tone's RMS is 0.35 (-9 dBFS); a 20 ms window 15 dB below it
     * has lost most of its audio. */
    if (sqrt (sum / 160) < TONE_AMPLITUDE * 32767 / sqrt (2) / 5.6)
      holes++;
    else
      tone_windows++;
  }
  /* ...once: neither lost nor repeated (20 ms windows, the last partial) */
  fail_unless (tone_windows * 20 >= TONE_MS - ANSWER_TAIL_HELD_MS - 20
      && tone_windows * 20 <= TONE_MS + 20, "call %u heard %u ms of its %d "
      "ms tone", index + 1, tone_windows * 20, TONE_MS);
  if (!realtime_checks)
    goto done;
  /* ...and in real time: in one piece, without holes. */
  tone_ms = (tone_last - tone_first + 1) / 8.0;
  fail_unless (tone_ms >= TONE_MS - ANSWER_TAIL_HELD_MS - EDGE_MS
      && tone_ms <= TONE_MS + EDGE_MS, "call %u heard its %d ms tone over "
      "%.1f ms", index + 1, TONE_MS, tone_ms);
  fail_unless_equals_int (holes, 0);
done:
  e2e_wav_clear (&heard);
}

GST_START_TEST (test_twenty_concurrent_calls)
{
  const gchar *bridge_args[] = { "--port", "0", "--max-calls", "25", NULL };
  gchar *dir = e2e_make_dir ();
  TestProcess *bridge = e2e_bridge_start (bridge_args, NULL);
  guint port = test_bridge_port (bridge);
  g_autoptr (JsonObject) starting = NULL;
  g_autoptr (JsonObject) stats = NULL;
  g_autoptr (GPtrArray) bridge_log = NULL;
  Call calls[MAX_CALLS];
  guint model_port, i;
  const gchar *calls_env = g_getenv ("E2E_CONCURRENT_CALLS");

  if (calls_env)
    n_calls = CLAMP (g_ascii_strtoull (calls_env, NULL, 10), 2, MAX_CALLS);
  realtime_checks = g_strcmp0 (g_getenv ("E2E_REALTIME_CHECKS"), "0") != 0;

  starting = test_process_wait_event (bridge, "starting", NULL, NULL, 10);
  fail_unless (starting != NULL);
  model_port = e2e_url_port (json_object_get_string_member (starting,
          "realtime-url"));

  for (i = 0; i < n_calls; i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *name = g_strdup_printf ("tone-%u.wav", i + 1);
    g_autofree gchar *heard = g_strdup_printf ("heard-%u.wav", i + 1);
    g_autofree gchar *events = g_strdup_printf ("sim-%u.jsonl", i + 1);

    calls[i].freq = FREQ (i);
    calls[i].audio_path = g_build_filename (dir, name, NULL);
    calls[i].heard_path = g_build_filename (dir, heard, NULL);
    calls[i].events_path = g_build_filename (dir, events, NULL);
    fail_unless (e2e_wav_write_tone (calls[i].audio_path, calls[i].freq,
            TONE_MS, TONE_AMPLITUDE, 0, &error), "%s", error ? error->message :
        "");
  }
  for (i = 0; i < n_calls; i++) {
    g_autofree gchar *audio = g_strdup_printf ("--audio=%s",
        calls[i].audio_path);
    g_autofree gchar *record = g_strdup_printf ("--record=%s",
        calls[i].heard_path);
    g_autofree gchar *events = g_strdup_printf ("--events=%s",
        calls[i].events_path);
    /* The tone starts with the stream, before the model's session is
     * confirmed: that audio must be kept, not dropped. The long wait
     * after the answer keeps every call up until all have started,
     * however slowly 20 processes start on a loaded machine. */
    const gchar *args[] = { audio, record, events, "--silence-before=0",
      "--silence-after=4000", "--expect-audio", "--reply-timeout=60000",
      "--max-duration=120000", "--quiet", NULL
    };

    calls[i].sim = e2e_callsim_start (port, args);
  }

  for (i = 0; i < n_calls; i++) {
    g_autoptr (GPtrArray) events = NULL;
    JsonObject *summary;

    fail_unless_equals_int (e2e_finish (calls[i].sim, 0, 180), 0);
    e2e_free (calls[i].sim);
    events = e2e_read_json_lines (calls[i].events_path);
    summary = e2e_find (events, "event", "summary", 0);
    fail_unless (summary != NULL);
    fail_unless (json_object_get_boolean_member (summary, "ok"));
    fail_unless_equals_int (json_object_get_int_member (summary,
            "violations_total"), 0);
    calls[i].call_sid = g_strdup (json_object_get_string_member (summary,
            "call_sid"));
    g_print ("call %u (%.0f Hz): received %.0f ms, first audio after %.0f "
        "ms\n", i + 1, calls[i].freq, e2e_double (summary,
            "audio_received_ms"), e2e_double (summary, "first_audio_ms"));
    check_heard (&calls[i], i);
  }

  /* The model served 20 sessions and answered each. */
  stats = e2e_get_json (model_port, "/stats");
  fail_unless (stats != NULL);
  fail_unless_equals_int (json_object_get_int_member (stats,
          "sessions_total"), n_calls);
  fail_unless (json_object_get_int_member (stats, "responses_completed") >=
      n_calls);

  /* Every call ended completed at the bridge, under its own SID... */
  for (i = 0; i < n_calls; i++) {
    g_autoptr (JsonObject) ended = test_process_wait_event (bridge,
        "call-ended", "callSid", calls[i].call_sid, 30);

    fail_unless (ended != NULL, "call %u did not end at the bridge", i + 1);
    fail_unless_equals_string (json_object_get_string_member (ended,
            "status"), "completed");
  }
  fail_unless_equals_int (test_process_count_events (bridge, "call-ended",
          NULL, NULL), n_calls);
  /* ...and all 20 were up at once. */
  bridge_log = e2e_process_json_lines (bridge);
  fail_unless_equals_int (max_concurrent_calls (bridge_log), n_calls);

  fail_unless_equals_int (e2e_stop (bridge, 60), 0);
  for (i = 0; i < n_calls; i++) {
    g_free (calls[i].audio_path);
    g_free (calls[i].heard_path);
    g_free (calls[i].events_path);
    g_free (calls[i].call_sid);
  }
  e2e_remove_dir (dir);
  g_free (dir);
}

GST_END_TEST;

static Suite *
e2e_concurrent_suite (void)
{
  Suite *s = suite_create ("e2e_concurrent");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 280);
  tcase_add_test (tc, test_twenty_concurrent_calls);
  return s;
}

GST_CHECK_MAIN (e2e_concurrent);
