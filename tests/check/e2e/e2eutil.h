/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the end-to-end tests: run the real tools (realtime-bridge,
 * realtime-bridge-call, realtime-bridge-model) through bridgetestutil,
 * read what they wrote (JSON lines, WAV files) and measure audio
 * (energy envelopes, tone power).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "bridgetestutil.h"

G_BEGIN_DECLS

/* A key the openairealtime elements accept as well formed; the local model
 * takes any key. Used when the launcher is pointed at a standalone model. */
#define E2E_FAKE_API_KEY "sk-e2e-local-model-not-a-secret-0123456789"

/* ---- processes ----------------------------------------------------------- */

/* A private temporary directory for the files of one test. */
gchar *e2e_make_dir (void);
void e2e_remove_dir (const gchar * path);

/* test_bridge_start (), and the process is killed at exit if the test
 * fails before e2e_free () / e2e_stop (). The other starters here do the
 * same. */
TestProcess *e2e_bridge_start (const gchar * const *args,
    const gchar * const *env);
void e2e_free (TestProcess * p);

/* realtime-bridge-model ($REALTIME_BRIDGE_MODEL) with @args; *@url gets
 * the ws:// URL it prints first. */
TestProcess *e2e_model_start (const gchar * const *args, gchar ** url);

/* realtime-bridge-call ($REALTIME_BRIDGE_CALL) against ws://127.0.0.1:
 * @port/call with --json and @args. */
TestProcess *e2e_callsim_start (guint port, const gchar * const *args);

/* Waits for the exit; prints the output when the status is not @expected.
 * Returns the status (-1 at the deadline). */
gint e2e_finish (TestProcess * p, gint expected, gdouble timeout_s);

/* SIGTERM, waits for the exit (status returned), fails the test when the
 * output shows a sanitizer report. Frees @p. */
gint e2e_stop (TestProcess * p, gdouble timeout_s);
/* The same without the signal, for a process already told to stop. */
gint e2e_reap (TestProcess * p, gdouble timeout_s);

/* The sample utterances built by tools/demo ($E2E_AUDIO_HELLO,
 * $E2E_AUDIO_INTERRUPT). */
const gchar *e2e_sample (const gchar * env_name);

/* ---- HTTP ------------------------------------------------------------------ */

/* GET http://127.0.0.1:@port@path on a private context; the parsed JSON
 * object (owned) or NULL. */
JsonObject *e2e_get_json (guint port, const gchar * path);
/* The port of a ws://127.0.0.1:PORT/... URL. */
guint e2e_url_port (const gchar * url);
/* Polls GET @path until the integer @member equals @value or the deadline;
 * returns the last value seen (-1 when never read). */
gint64 e2e_wait_json_int (guint port, const gchar * path,
    const gchar * member, gint64 value, gdouble timeout_s);

/* ---- JSON lines -------------------------------------------------------- */

/* Every line of @path that parses as a JSON object, in order. */
GPtrArray *e2e_read_json_lines (const gchar * path);
/* The same from the collected output of a process. */
GPtrArray *e2e_process_json_lines (TestProcess * p);
/* The @n-th (from 0) object whose @key is @value, or NULL (not owned). */
JsonObject *e2e_find (GPtrArray * objects, const gchar * key,
    const gchar * value, guint n);
guint e2e_count (GPtrArray * objects, const gchar * key, const gchar * value);
/* The index of an object in the array, or -1. */
gint e2e_index_of (GPtrArray * objects, JsonObject * obj);
gdouble e2e_double (JsonObject * obj, const gchar * member);

/* ---- audio --------------------------------------------------------------- */

typedef struct
{
  guint rate;
  gsize n_samples;
  gint16 *samples;
} E2eWav;

/* 16-bit PCM mono WAV files. */
gboolean e2e_wav_read (const gchar * path, E2eWav * wav, GError ** error);
void e2e_wav_clear (E2eWav * wav);
/* Writes @silence_ms of silence, a sine of @freq Hz and @tone_ms at
 * @amplitude (0..1), then @silence_ms again, at 8 kHz. */
gboolean e2e_wav_write_tone (const gchar * path, gdouble freq,
    guint tone_ms, gdouble amplitude, guint silence_ms, GError ** error);

#define E2E_WINDOW_MS 20
/* Quieter is silence: keeps digital silence (-inf) and μ-law's quietest
 * steps from dominating correlations. */
#define E2E_FLOOR_DB -60.0
/* RMS level of each E2E_WINDOW_MS window in dBFS (at least E2E_FLOOR_DB). */
GArray *e2e_envelope (const E2eWav * wav);
/* The same with windows from sample @start on. */
GArray *e2e_envelope_from (const E2eWav * wav, gsize start);
/* First and last window above @threshold_db; FALSE when none. */
gboolean e2e_active_span (GArray * envelope, gdouble threshold_db,
    guint * first, guint * last);
/* Windows above @threshold_db. */
guint e2e_active_windows (GArray * envelope, gdouble threshold_db);
/* Best Pearson correlation of @pattern against @signal over every lag
 * from @min_lag; *@lag gets the window where it matched. */
gdouble e2e_best_correlation (GArray * pattern, GArray * signal,
    guint min_lag, guint * lag);
/* Power of @freq in samples [@start, @end) (Goertzel), normalised by the
 * number of samples. */
gdouble e2e_tone_power (const E2eWav * wav, gsize start, gsize end,
    gdouble freq);

/* The first and last sample above half of a tone's @amplitude (0..1): the
 * tone reaches it every period, so they mark the tone's edges to within
 * half a period. FALSE when there is none. */
gboolean e2e_tone_span (const E2eWav * wav, gdouble amplitude,
    gsize * first, gsize * last);

G_END_DECLS
