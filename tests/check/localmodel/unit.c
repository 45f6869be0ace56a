/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure parts of the local model: G.711, 8 <-> 24 kHz, the VAD, ids and
 * error events.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "modelaudio.h"
#include "modelprotocol.h"

GST_START_TEST (test_g711)
{
  guint c;

  /* reference points of G.711 */
  fail_unless_equals_int (model_audio_ulaw_decode (0x00), -32124);
  fail_unless_equals_int (model_audio_ulaw_decode (0x80), 32124);
  fail_unless_equals_int (model_audio_ulaw_decode (0xff), 0);
  fail_unless_equals_int (model_audio_ulaw_encode (0), 0xff);
  fail_unless_equals_int (model_audio_alaw_decode (0xd5), 8);
  fail_unless_equals_int (model_audio_alaw_decode (0x55), -8);
  fail_unless_equals_int (model_audio_alaw_encode (0), 0xd5);
  /* every code survives decode + encode */
  for (c = 0; c < 256; c++) {
    gint16 u = model_audio_ulaw_decode (c);
    gint16 a = model_audio_alaw_decode (c);
    fail_unless_equals_int (model_audio_ulaw_decode (model_audio_ulaw_encode
            (u)), u);
    fail_unless_equals_int (model_audio_alaw_encode (a), c);
  }
}

GST_END_TEST;

GST_START_TEST (test_resample_round_trip)
{
  ModelAudioDecoder dec = { 0, };
  GArray *pcm = g_array_new (FALSE, FALSE, sizeof (gint16));
  GByteArray *out = g_byte_array_new ();
  guint8 in[200];
  guint i;

  for (i = 0; i < sizeof (in); i++)
    in[i] = (i * 37) & 0xff;
  /* split across two appends: the decoder keeps its state */
  model_audio_decode (&dec, REALTIME_AUDIO_FORMAT_PCMU, in, 77, pcm);
  model_audio_decode (&dec, REALTIME_AUDIO_FORMAT_PCMU, in + 77,
      sizeof (in) - 77, pcm);
  fail_unless_equals_int (pcm->len, 3 * sizeof (in));
  model_audio_encode (REALTIME_AUDIO_FORMAT_PCMU, (gint16 *) pcm->data,
      pcm->len, TRUE, out);
  fail_unless_equals_int (out->len, sizeof (in));
  for (i = 0; i < sizeof (in); i++)
    fail_unless_equals_int (model_audio_ulaw_decode (out->data[i]),
        model_audio_ulaw_decode (in[i]));

  /* PCM16 with an odd split keeps the byte */
  g_array_set_size (pcm, 0);
  {
    guint8 le[4] = { 0x34, 0x12, 0xff, 0x7f };
    model_audio_decode (&dec, REALTIME_AUDIO_FORMAT_PCM16, le, 3, pcm);
    model_audio_decode (&dec, REALTIME_AUDIO_FORMAT_PCM16, le + 3, 1, pcm);
  }
  fail_unless_equals_int (pcm->len, 2);
  fail_unless_equals_int (g_array_index (pcm, gint16, 0), 0x1234);
  fail_unless_equals_int (g_array_index (pcm, gint16, 1), 0x7fff);
  g_array_unref (pcm);
  g_byte_array_unref (out);
}

GST_END_TEST;

static void
push_ms (ModelVad * vad, guint ms, gdouble amplitude, GArray * events)
{
  GArray *s = g_array_new (FALSE, TRUE, sizeof (gint16));
  guint n = ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint i;

  for (i = 0; i < n; i++) {
    gint16 v = (gint16) (amplitude * 32767 * sin (2 * G_PI * 440 * i /
            MODEL_AUDIO_RATE));
    g_array_append_val (s, v);
  }
  /* odd-sized pieces: frames span pushes */
  for (i = 0; i < n; i += 333)
    model_vad_push (vad, &g_array_index (s, gint16, i), MIN (333, n - i),
        events);
  g_array_unref (s);
}

GST_START_TEST (test_vad)
{
  ModelVad vad;
  GArray *events = g_array_new (FALSE, FALSE, sizeof (ModelVadEvent));
  ModelVadEvent *e;

  model_vad_init (&vad, 0.5, 300, 500);
  push_ms (&vad, 1230, 0, events);
  /* -40 dBFS is below the 0.5 threshold (-35 dBFS) */
  push_ms (&vad, 500, 0.01 * sqrt (2), events);
  fail_unless_equals_int (events->len, 0);
  push_ms (&vad, 800, 0.3, events);     /* speech from 1730 ms */
  fail_unless_equals_int (events->len, 1);
  e = &g_array_index (events, ModelVadEvent, 0);
  fail_unless_equals_int (e->type, MODEL_VAD_SPEECH_STARTED);
  fail_unless_equals_int (e->speech_start_ms, 1730);
  fail_unless_equals_int (e->ms, 1430);
  push_ms (&vad, 400, 0, events);       /* shorter than silence_duration */
  push_ms (&vad, 100, 0.3, events);
  fail_unless_equals_int (events->len, 1);
  push_ms (&vad, 700, 0, events);
  fail_unless_equals_int (events->len, 2);
  e = &g_array_index (events, ModelVadEvent, 1);
  fail_unless_equals_int (e->type, MODEL_VAD_SPEECH_STOPPED);
  fail_unless_equals_int (e->speech_end_ms, 3030);
  fail_unless_equals_int (e->ms, 3530);
  /* a lower threshold hears the quiet tone */
  model_vad_configure (&vad, 0.2, 0, 200);
  push_ms (&vad, 300, 0.01 * sqrt (2), events);
  fail_unless_equals_int (events->len, 3);
  g_array_unref (events);
}

GST_END_TEST;

GST_START_TEST (test_protocol)
{
  ModelError err = { 0, };
  gchar *id = model_protocol_new_id ("item");
  gchar *text;
  const gchar *type;
  gchar *event_id;
  JsonObject *ev;
  RealtimeServerEvent *parsed;

  fail_unless_equals_int (strlen (id), 5 + 21);
  fail_unless (g_str_has_prefix (id, "item_"));
  g_free (id);

  ev = model_protocol_parse_client ("{\"type\":\"nope\",\"event_id\":\"e\"}",
      -1 + sizeof ("{\"type\":\"nope\",\"event_id\":\"e\"}"), &type,
      &event_id, &err);
  fail_unless (ev == NULL);
  fail_unless_equals_string (err.code, "invalid_value");
  fail_unless_equals_string (event_id, "e");
  /* the error event is the shared builder's */
  text = realtime_build_error (err.type, err.code, err.message, err.param,
      event_id);
  parsed = realtime_server_event_parse (text, -1, NULL);
  fail_unless (parsed != NULL);
  fail_unless_equals_int (parsed->type, REALTIME_SERVER_ERROR);
  fail_unless_equals_string (parsed->error_param, "type");
  fail_unless_equals_string (parsed->error_event_id, "e");
  fail_unless (strstr (parsed->error_message, "'nope'") != NULL);
  realtime_server_event_free (parsed);
  g_free (text);
  g_free (event_id);
  model_error_clear (&err);
}

GST_END_TEST;

/* @n samples of a sine at @freq_hz, 24 kHz */
static GArray *
sine_24k (gdouble freq_hz, gdouble amplitude, guint n)
{
  GArray *s = g_array_sized_new (FALSE, FALSE, sizeof (gint16), n);
  guint i;

  for (i = 0; i < n; i++) {
    gint16 v = (gint16) (amplitude * 32767 * sin (2 * G_PI * freq_hz * i /
            MODEL_AUDIO_RATE));
    g_array_append_val (s, v);
  }
  return s;
}

/* RMS level of the 8 kHz output, without the filter's edges */
static gdouble
inner_level (GArray * narrow)
{
  const guint edge = MODEL_AUDIO_DECIMATION_TAPS;

  fail_unless (narrow->len > 2 * edge);
  return model_audio_level_dbfs (&g_array_index (narrow, gint16, edge),
      narrow->len - 2 * edge);
}

GST_START_TEST (test_decimation_lowpass)
{
  GArray *tone6k = sine_24k (6000, 0.5, 24000);
  GArray *tone1k = sine_24k (1000, 0.5, 24000);
  GArray *narrow = g_array_new (FALSE, FALSE, sizeof (gint16));
  GByteArray *ulaw = g_byte_array_new ();
  gdouble in_level = model_audio_level_dbfs ((gint16 *) tone6k->data,
      tone6k->len);
  gdouble level;
  guint i;

  /* without the low-pass, 6 kHz folds to 2 kHz at full level */
  for (i = 2; i < tone6k->len; i += 3)
    g_array_append_val (narrow, g_array_index (tone6k, gint16, i));
  fail_unless (inner_level (narrow) > in_level - 1);

  /* with it, at least 60 dB down */
  g_array_set_size (narrow, 0);
  model_audio_decimate_24k_to_8k ((gint16 *) tone6k->data, tone6k->len, narrow);
  fail_unless_equals_int (narrow->len, 8000);
  level = inner_level (narrow);
  fail_unless (level < in_level - 60, "6 kHz only %.1f dB down",
      in_level - level);

  /* the telephone band passes: 1 kHz within 0.5 dB */
  g_array_set_size (narrow, 0);
  model_audio_decimate_24k_to_8k ((gint16 *) tone1k->data, tone1k->len, narrow);
  level = inner_level (narrow);
  fail_unless (ABS (level - model_audio_level_dbfs ((gint16 *) tone1k->data,
              tone1k->len)) < 0.5, "1 kHz at %.2f dBFS", level);

  /* and the G.711 encoder uses it for audio born at 24 kHz */
  model_audio_encode (REALTIME_AUDIO_FORMAT_PCMU, (gint16 *) tone6k->data,
      tone6k->len, FALSE, ulaw);
  fail_unless_equals_int (ulaw->len, 8000);
  g_array_set_size (narrow, 0);
  for (i = 0; i < ulaw->len; i++) {
    gint16 v = model_audio_ulaw_decode (ulaw->data[i]);
    g_array_append_val (narrow, v);
  }
  level = inner_level (narrow);
  fail_unless (level < in_level - 50, "6 kHz in mu-law only %.1f dB down",
      in_level - level);

  g_byte_array_unref (ulaw);
  g_array_unref (narrow);
  g_array_unref (tone1k);
  g_array_unref (tone6k);
}

GST_END_TEST;

static Suite *
localmodel_unit_suite (void)
{
  Suite *s = suite_create ("localmodel_unit");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_g711);
  tcase_add_test (tc, test_resample_round_trip);
  tcase_add_test (tc, test_vad);
  tcase_add_test (tc, test_protocol);
  tcase_add_test (tc, test_decimation_lowpass);
  return s;
}

GST_CHECK_MAIN (localmodel_unit);
