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

/* The append fast path takes exactly the elements' shape and gives the
 * same audio as the full parser; everything else is left to that parser. */
GST_START_TEST (test_append_fast_path)
{
  static const gchar *const refused[] = {
    /* another key order, extra keys, whitespace, another type */
    "{\"audio\":\"AAEC\",\"type\":\"input_audio_buffer.append\"}",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\",\"x\":1}",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\" }",
    "{\"type\":\"input_audio_buffer.commit\",\"audio\":\"AAEC\"}",
    /* bad base64: length, stray padding, escapes, unterminated */
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAE\"}",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"A=EC\"}",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AA\\/C\"}",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\"",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\"}}",
    /* an event id with an escape, or not a string */
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\","
        "\"event_id\":\"a\\\"b\"}",
    "{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAEC\","
        "\"event_id\":7}",
  };
  const guint8 pcm[] = { 0x00, 0x01, 0x02, 0xff, 0x7f };
  gchar *b64 = g_base64_encode (pcm, sizeof pcm);
  gchar *text = g_strdup_printf ("{\"type\":\"input_audio_buffer.append\","
      "\"audio\":\"%s\"}", b64);
  gchar *with_id = g_strdup_printf ("{\"type\":\"input_audio_buffer.append\","
      "\"audio\":\"%s\",\"event_id\":\"evt_1 x\"}", b64);
  RealtimeClientEvent *full;
  gchar *event_id = NULL;
  GBytes *audio;
  guint i;

  audio = model_protocol_parse_append_fast (text, strlen (text), &event_id);
  fail_unless (audio != NULL);
  fail_unless (event_id == NULL);
  full = realtime_client_event_parse (text, -1, NULL);
  fail_unless (full != NULL && full->audio != NULL);
  fail_unless (g_bytes_equal (audio, full->audio));
  fail_unless_equals_int (g_bytes_get_size (audio), sizeof pcm);
  realtime_client_event_free (full);
  g_bytes_unref (audio);

  audio = model_protocol_parse_append_fast (with_id, strlen (with_id),
      &event_id);
  fail_unless (audio != NULL);
  fail_unless_equals_string (event_id, "evt_1 x");
  fail_unless_equals_int (g_bytes_get_size (audio), sizeof pcm);
  g_bytes_unref (audio);
  g_free (event_id);

  /* the whole message is needed: no prefix of it passes */
  for (i = 0; i < strlen (text); i++) {
    audio = model_protocol_parse_append_fast (text, i, &event_id);
    fail_unless (audio == NULL, "prefix of %u bytes accepted", i);
    fail_unless (event_id == NULL);
  }
  for (i = 0; i < G_N_ELEMENTS (refused); i++) {
    audio = model_protocol_parse_append_fast (refused[i],
        strlen (refused[i]), &event_id);
    fail_unless (audio == NULL, "accepted: %s", refused[i]);
    fail_unless (event_id == NULL);
  }
  g_free (text);
  g_free (with_id);
  g_free (b64);
}

GST_END_TEST;

static GList *
member_names (const gchar * text)
{
  JsonParser *parser = json_parser_new ();
  GList *names, *l;

  fail_unless (json_parser_load_from_data (parser, text, -1, NULL));
  names = json_object_get_members (json_node_get_object
      (json_parser_get_root (parser)));
  /* the object's own strings: copied before the parser goes */
  for (l = names; l; l = l->next)
    l->data = g_strdup (l->data);
  g_object_unref (parser);
  return names;
}

/* The directly written delta is the elements' delta: same members in the
 * same order, and the elements' parser reads back the ids and the audio. */
GST_START_TEST (test_audio_delta_builder)
{
  guint8 audio[4801];
  gchar *fast, *reference;
  RealtimeServerEvent *ev;
  GList *a, *b, *l, *m;
  guint i;

  for (i = 0; i < sizeof audio; i++)
    audio[i] = (guint8) (i * 7 + 3);
  fast = model_protocol_build_audio_delta ("resp_A1", "item_B2", audio,
      sizeof audio);
  reference = realtime_build_output_audio_delta ("resp_A1", "item_B2", audio,
      sizeof audio);

  ev = realtime_server_event_parse (fast, -1, NULL);
  fail_unless (ev != NULL);
  fail_unless_equals_int (ev->type, REALTIME_SERVER_OUTPUT_AUDIO_DELTA);
  fail_unless_equals_string (ev->response_id, "resp_A1");
  fail_unless_equals_string (ev->item_id, "item_B2");
  fail_unless_equals_int (ev->output_index, 0);
  fail_unless_equals_int (ev->content_index, 0);
  fail_unless (ev->audio != NULL);
  fail_unless_equals_int (g_bytes_get_size (ev->audio), sizeof audio);
  fail_unless (memcmp (g_bytes_get_data (ev->audio, NULL), audio,
          sizeof audio) == 0);
  realtime_server_event_free (ev);

  a = member_names (fast);
  b = member_names (reference);
  fail_unless_equals_int (g_list_length (a), g_list_length (b));
  for (l = a, m = b; l && m; l = l->next, m = m->next)
    fail_unless_equals_string (l->data, m->data);
  g_list_free_full (a, g_free);
  g_list_free_full (b, g_free);
  fail_unless (g_str_has_prefix (fast, "{\"event_id\":\"event_"));
  g_free (fast);
  g_free (reference);
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
  tcase_add_test (tc, test_append_fast_path);
  tcase_add_test (tc, test_audio_delta_builder);
  return s;
}

GST_CHECK_MAIN (localmodel_unit);
