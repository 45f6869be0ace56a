/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the call simulator's pure parts: Twilio's playout/mark/clear
 * model, the option syntax, SIDs, μ-law and the WAV writer.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "callsimaudio.h"
#include "callsimplayout.h"
#include "callsimscript.h"

#define FRAME 160

static GPtrArray *
names (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

static gsize
tick (CallsimPlayout * p, GPtrArray * echoed, guint8 * out)
{
  return callsim_playout_tick (p, out, FRAME, echoed);
}

GST_START_TEST (test_playout_plays_in_order_and_pads)
{
  CallsimPlayout *p = callsim_playout_new ();
  GPtrArray *echoed = names ();
  guint8 audio[FRAME + 40], out[FRAME];
  guint i;

  for (i = 0; i < sizeof audio; i++)
    audio[i] = i & 0x7F;
  /* arrives in two pieces; plays as one stream */
  callsim_playout_push_audio (p, audio, 100);
  callsim_playout_push_audio (p, audio + 100, sizeof audio - 100);
  fail_unless_equals_int (callsim_playout_get_queued (p), sizeof audio);
  fail_unless_equals_int (tick (p, echoed, out), FRAME);
  fail_unless (memcmp (out, audio, FRAME) == 0);
  /* 40 bytes left: played, then μ-law silence */
  fail_unless_equals_int (tick (p, echoed, out), 40);
  fail_unless (memcmp (out, audio + FRAME, 40) == 0);
  for (i = 40; i < FRAME; i++)
    fail_unless_equals_int (out[i], 0xFF);
  fail_unless_equals_int (tick (p, echoed, out), 0);
  fail_unless_equals_int (out[0], 0xFF);
  fail_unless_equals_int (echoed->len, 0);
  fail_if (callsim_playout_is_busy (p));

  g_ptr_array_unref (echoed);
  callsim_playout_free (p);
}

GST_END_TEST;

GST_START_TEST (test_playout_mark_echo)
{
  CallsimPlayout *p = callsim_playout_new ();
  GPtrArray *echoed = names ();
  guint8 audio[2 * FRAME], out[FRAME];

  memset (audio, 0x10, sizeof audio);
  /* nothing queued or sounding: echo at once */
  fail_unless (callsim_playout_push_mark (p, "idle"));

  callsim_playout_push_audio (p, audio, sizeof audio);
  fail_if (callsim_playout_push_mark (p, "end"));
  fail_unless_equals_int (callsim_playout_get_pending_marks (p), 1);
  tick (p, echoed, out);
  fail_unless_equals_int (echoed->len, 0);
  /* the last frame is played by this tick; it sounds until the next one */
  tick (p, echoed, out);
  fail_unless_equals_int (echoed->len, 0);
  /* a mark while the last audio is still sounding waits for its end too */
  fail_if (callsim_playout_push_mark (p, "while-sounding"));
  fail_unless_equals_int (tick (p, echoed, out), 0);
  fail_unless_equals_int (echoed->len, 2);
  fail_unless_equals_string (g_ptr_array_index (echoed, 0), "end");
  fail_unless_equals_string (g_ptr_array_index (echoed, 1), "while-sounding");
  fail_unless_equals_int (callsim_playout_get_pending_marks (p), 0);
  fail_unless (callsim_playout_push_mark (p, "idle-again"));

  g_ptr_array_unref (echoed);
  callsim_playout_free (p);
}

GST_END_TEST;

GST_START_TEST (test_playout_marks_between_audio)
{
  CallsimPlayout *p = callsim_playout_new ();
  GPtrArray *echoed = names ();
  guint8 audio[FRAME], out[FRAME];

  memset (audio, 0x20, sizeof audio);
  /* a: after 80 bytes; b: after 160 + 80 */
  callsim_playout_push_audio (p, audio, 80);
  callsim_playout_push_mark (p, "a");
  callsim_playout_push_audio (p, audio, FRAME);
  callsim_playout_push_mark (p, "b");
  callsim_playout_push_audio (p, audio, 80);
  fail_unless_equals_int (tick (p, echoed, out), FRAME);
  fail_unless_equals_int (echoed->len, 0);
  fail_unless_equals_int (tick (p, echoed, out), FRAME);
  /* "a" was passed in the first tick */
  fail_unless_equals_int (echoed->len, 1);
  fail_unless_equals_string (g_ptr_array_index (echoed, 0), "a");
  fail_unless_equals_int (tick (p, echoed, out), 0);
  fail_unless_equals_int (echoed->len, 2);
  fail_unless_equals_string (g_ptr_array_index (echoed, 1), "b");

  g_ptr_array_unref (echoed);
  callsim_playout_free (p);
}

GST_END_TEST;

GST_START_TEST (test_playout_clear)
{
  CallsimPlayout *p = callsim_playout_new ();
  GPtrArray *echoed = names ();
  guint8 audio[10 * FRAME], out[FRAME];

  memset (audio, 0x30, sizeof audio);
  callsim_playout_push_audio (p, audio, 5 * FRAME);
  callsim_playout_push_mark (p, "first");
  callsim_playout_push_audio (p, audio, 5 * FRAME);
  callsim_playout_push_mark (p, "second");
  tick (p, echoed, out);
  fail_unless_equals_int (callsim_playout_clear (p, echoed), 9 * FRAME);
  /* every pending mark at once, in queue order */
  fail_unless_equals_int (echoed->len, 2);
  fail_unless_equals_string (g_ptr_array_index (echoed, 0), "first");
  fail_unless_equals_string (g_ptr_array_index (echoed, 1), "second");
  fail_unless_equals_int (callsim_playout_get_queued (p), 0);
  fail_unless_equals_int (callsim_playout_get_pending_marks (p), 0);
  g_ptr_array_set_size (echoed, 0);
  fail_unless_equals_int (tick (p, echoed, out), 0);
  fail_unless_equals_int (echoed->len, 0);
  /* a clear with nothing queued echoes nothing */
  fail_unless_equals_int (callsim_playout_clear (p, echoed), 0);
  fail_unless_equals_int (echoed->len, 0);

  g_ptr_array_unref (echoed);
  callsim_playout_free (p);
}

GST_END_TEST;

GST_START_TEST (test_time_specs)
{
  CallsimTimeSpec spec;
  CallsimDtmf dtmf;
  GError *error = NULL;
  gchar *name, *value, buf[64];

  fail_unless (callsim_time_spec_parse ("1500", &spec, NULL));
  fail_unless_equals_int (spec.base, CALLSIM_TIME_STREAM);
  fail_unless_equals_int64 (spec.ms, 1500);
  fail_unless (callsim_time_spec_parse ("reply+250", &spec, NULL));
  fail_unless_equals_int (spec.base, CALLSIM_TIME_REPLY);
  fail_unless_equals_int64 (spec.ms, 250);
  fail_unless_equals_string (callsim_time_spec_to_string (&spec, buf,
          sizeof buf), "reply+250");
  fail_if (callsim_time_spec_parse ("-5", &spec, &error));
  fail_unless (g_error_matches (error, CALLSIM_SCRIPT_ERROR,
          CALLSIM_SCRIPT_ERROR_INVALID));
  fail_unless (strstr (error->message, "-5") != NULL);
  g_clear_error (&error);
  fail_if (callsim_time_spec_parse ("", &spec, NULL));
  fail_if (callsim_time_spec_parse ("12ms", &spec, NULL));
  fail_if (callsim_time_spec_parse ("reply+", &spec, NULL));
  fail_if (callsim_time_spec_parse ("reply-5", &spec, NULL));

  fail_unless (callsim_dtmf_parse ("#@reply+10", &dtmf, NULL));
  fail_unless_equals_string (dtmf.digit, "#");
  fail_unless_equals_int (dtmf.at.base, CALLSIM_TIME_REPLY);
  fail_unless (callsim_dtmf_parse ("7@0", &dtmf, NULL));
  fail_unless_equals_string (dtmf.digit, "7");
  fail_if (callsim_dtmf_parse ("x@100", &dtmf, NULL));
  fail_if (callsim_dtmf_parse ("12@100", &dtmf, NULL));
  fail_if (callsim_dtmf_parse ("@100", &dtmf, NULL));
  fail_if (callsim_dtmf_parse ("5", &dtmf, NULL));
  fail_if (callsim_dtmf_parse ("5@soon", &dtmf, NULL));

  fail_unless (callsim_param_parse ("a=b=c", &name, &value, NULL));
  fail_unless_equals_string (name, "a");
  fail_unless_equals_string (value, "b=c");
  g_free (name);
  g_free (value);
  fail_unless (callsim_param_parse ("empty=", &name, &value, NULL));
  fail_unless_equals_string (value, "");
  g_free (name);
  g_free (value);
  fail_if (callsim_param_parse ("=x", &name, &value, NULL));
  fail_if (callsim_param_parse ("novalue", &name, &value, NULL));
}

GST_END_TEST;

GST_START_TEST (test_sids_and_paths)
{
  gchar *a = callsim_make_sid ("MZ"), *b = callsim_make_sid ("MZ"), *p;

  fail_unless (g_regex_match_simple ("^MZ[0-9a-f]{32}$", a, 0, 0), "%s", a);
  fail_unless (strcmp (a, b) != 0);
  g_free (a);
  g_free (b);
  p = callsim_path_for_call ("out/heard.wav", 3);
  fail_unless_equals_string (p, "out/heard-3.wav");
  g_free (p);
  p = callsim_path_for_call ("a.dir/heard", 2);
  fail_unless_equals_string (p, "a.dir/heard-2");
  g_free (p);
}

GST_END_TEST;

GST_START_TEST (test_mulaw)
{
  gint v;

  /* G.711 reference points */
  fail_unless_equals_int (callsim_mulaw_to_linear (0xFF), 0);
  fail_unless_equals_int (callsim_mulaw_to_linear (0x7F), 0);
  fail_unless_equals_int (callsim_mulaw_to_linear (0x00), -32124);
  fail_unless_equals_int (callsim_mulaw_to_linear (0x80), 32124);
  fail_unless_equals_int (callsim_linear_to_mulaw (0), 0xFF);
  fail_unless_equals_int (callsim_linear_to_mulaw (32767), 0x80);
  fail_unless_equals_int (callsim_linear_to_mulaw (-32768), 0x00);
  /* every code survives decode + encode (0x7F is -0, encoded as +0) */
  for (v = 0; v < 256; v++) {
    if (v == 0x7F)
      continue;
    fail_unless_equals_int (callsim_linear_to_mulaw (callsim_mulaw_to_linear
            (v)), v);
  }
}

GST_END_TEST;

GST_START_TEST (test_wav_writer)
{
  gchar *dir = g_dir_make_tmp ("callsim-wav-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "t.wav", NULL);
  CallsimWavWriter *w;
  guint8 mulaw[3] = { 0xFF, 0x80, 0x00 };
  gchar *data;
  gsize len;
  GError *error = NULL;

  w = callsim_wav_writer_new (path, NULL);
  fail_unless (w != NULL);
  fail_unless (callsim_wav_writer_write_mulaw (w, mulaw, 3, NULL));
  fail_unless (callsim_wav_writer_close (w, NULL));
  fail_unless (g_file_get_contents (path, &data, &len, NULL));
  fail_unless_equals_int (len, 44 + 6);
  fail_unless (memcmp (data, "RIFF", 4) == 0);
  fail_unless_equals_int (GST_READ_UINT32_LE (data + 4), 36 + 6);
  fail_unless_equals_int (GST_READ_UINT32_LE (data + 40), 6);
  fail_unless_equals_int (GST_READ_UINT32_LE (data + 24), 8000);
  fail_unless_equals_int ((gint16) GST_READ_UINT16_LE (data + 44), 0);
  fail_unless_equals_int ((gint16) GST_READ_UINT16_LE (data + 46), 32124);
  fail_unless_equals_int ((gint16) GST_READ_UINT16_LE (data + 48), -32124);
  g_free (data);
  g_unlink (path);
  g_rmdir (dir);

  /* an unwritable place is an error, not a crash */
  fail_unless (callsim_wav_writer_new ("/nonexistent-dir/x.wav",
          &error) == NULL);
  fail_unless (strstr (error->message, "/nonexistent-dir/x.wav") != NULL);
  g_clear_error (&error);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_decode)
{
  gchar *dir = g_dir_make_tmp ("callsim-dec-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "in.wav", NULL);
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=10 "
      "samplesperbuffer=4410 ! audio/x-raw,rate=44100,channels=2 ! wavenc ! "
      "filesink location=\"%s\"", path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstMessage *msg;
  GBytes *bytes;
  GError *error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  /* 1 s of 44.1 kHz stereo -> 8000 bytes of μ-law, give or take the
   * resampler's edges */
  bytes = callsim_audio_decode (path, &error);
  fail_unless (bytes != NULL, "%s", error ? error->message : "");
  fail_unless (g_bytes_get_size (bytes) >= 7900
      && g_bytes_get_size (bytes) <= 8100, "%" G_GSIZE_FORMAT,
      g_bytes_get_size (bytes));
  g_bytes_unref (bytes);

  /* not audio: a clear error */
  g_file_set_contents (path, "definitely not audio", -1, NULL);
  fail_unless (callsim_audio_decode (path, &error) == NULL);
  fail_unless (error != NULL);
  g_clear_error (&error);
  fail_unless (callsim_audio_decode ("/nonexistent/x.wav", &error) == NULL);
  fail_unless (strstr (error->message, "x.wav") != NULL, "%s", error->message);
  g_clear_error (&error);

  g_unlink (path);
  g_rmdir (dir);
  g_free (desc);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

static Suite *
callsim_units_suite (void)
{
  Suite *s = suite_create ("callsim_units");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_playout_plays_in_order_and_pads);
  tcase_add_test (tc, test_playout_mark_echo);
  tcase_add_test (tc, test_playout_marks_between_audio);
  tcase_add_test (tc, test_playout_clear);
  tcase_add_test (tc, test_time_specs);
  tcase_add_test (tc, test_sids_and_paths);
  tcase_add_test (tc, test_mulaw);
  tcase_add_test (tc, test_wav_writer);
  tcase_add_test (tc, test_decode);
  return s;
}

GST_CHECK_MAIN (callsim_units);
