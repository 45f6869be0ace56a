/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a call carries, end to end through the real realtime-bridge with
 * its embedded local model (an echo agent) and the call simulator:
 * --record-dir writes both sides of each call as valid WAV files holding
 * the caller's words and the model's echo of them; the mu-law passthrough
 * preset answers a whole call.
 */
#include <gst/check/gstcheck.h>
#include <string.h>
#include <math.h>
#include <glib/gstdio.h>

#include "bridgetestutil.h"

/* 20 ms frames of 8 kHz audio louder than this RMS (of 32768) count as
 * sound; the simulator's silence and mu-law's idle pattern are far below. */
#define FRAME_SAMPLES 160
#define SOUND_RMS 300.0

typedef struct
{
  guint16 format;
  guint16 channels;
  guint32 rate;
  guint16 bits;
  const gint16 *samples;
  gsize n_samples;
} Wav;

static guint32
le32 (const guint8 * p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
le16 (const guint8 * p)
{
  return p[0] | (p[1] << 8);
}

/* Checks the RIFF structure of a finished file: the sizes in the headers
 * match the file, so the writer saw EOS. */
static void
parse_wav (const gchar * data, gsize size, Wav * wav, const gchar * name)
{
  const guint8 *p = (const guint8 *) data;
  gsize offset = 12;
  gboolean have_fmt = FALSE;

  memset (wav, 0, sizeof (*wav));
  fail_unless (size >= 44, "%s: %" G_GSIZE_FORMAT " bytes", name, size);
  fail_unless (memcmp (p, "RIFF", 4) == 0 && memcmp (p + 8, "WAVE", 4) == 0,
      "%s: not RIFF/WAVE", name);
  fail_unless_equals_int (le32 (p + 4), size - 8);
  while (offset + 8 <= size) {
    guint32 chunk = le32 (p + offset + 4);

    if (memcmp (p + offset, "fmt ", 4) == 0) {
      fail_unless (chunk >= 16 && offset + 8 + chunk <= size);
      wav->format = le16 (p + offset + 8);
      wav->channels = le16 (p + offset + 10);
      wav->rate = le32 (p + offset + 12);
      wav->bits = le16 (p + offset + 22);
      have_fmt = TRUE;
    } else if (memcmp (p + offset, "data", 4) == 0) {
      fail_unless (have_fmt, "%s: data before fmt", name);
      /* The header was rewritten at EOS: the data fits the file. */
      fail_unless (offset + 8 + chunk <= size, "%s: data chunk of %u bytes "
          "at %" G_GSIZE_FORMAT " in %" G_GSIZE_FORMAT " bytes", name, chunk,
          offset, size);
      wav->samples = (const gint16 *) (p + offset + 8);
      wav->n_samples = chunk / 2;
    }
    offset += 8 + chunk + (chunk & 1);
  }
  /* Every chunk, the data and any after it, ends where the file ends. */
  fail_unless_equals_int (offset, size);
  if (wav->samples)
    return;
  fail ("%s: no data chunk", name);
}

/* How many 20 ms frames carry sound. */
static guint
sound_frames (const Wav * wav)
{
  gsize i, j;
  guint n = 0;

  for (i = 0; i + FRAME_SAMPLES <= wav->n_samples; i += FRAME_SAMPLES) {
    gdouble sum = 0;

    for (j = 0; j < FRAME_SAMPLES; j++) {
      gdouble v = GINT16_FROM_LE (wav->samples[i + j]);

      sum += v * v;
    }
    if (sqrt (sum / FRAME_SAMPLES) > SOUND_RMS)
      n++;
  }
  return n;
}

static guint
check_wav_file (const gchar * path)
{
  g_autofree gchar *data = NULL;
  gsize size = 0;
  Wav wav;

  fail_unless (g_file_get_contents (path, &data, &size, NULL), "no %s", path);
  parse_wav (data, size, &wav, path);
  fail_unless_equals_int (wav.format, 1);       /* PCM */
  fail_unless_equals_int (wav.channels, 1);
  fail_unless_equals_int (wav.rate, 8000);
  fail_unless_equals_int (wav.bits, 16);
  return sound_frames (&wav);
}

/* A bridge recording into "recordings" in its directory; the files its
 * first call will write. */
static TestProcess *
start_recording_bridge (guint * port, gchar ** caller, gchar ** assistant)
{
  const gchar *args[] = { "--port", "0", "--record-dir", "recordings",
    NULL
  };
  TestProcess *bridge = test_bridge_start (args, NULL);

  *port = test_bridge_port (bridge);
  *caller = g_build_filename (test_process_dir (bridge), "recordings",
      "call-1-caller.wav", NULL);
  *assistant = g_build_filename (test_process_dir (bridge), "recordings",
      "call-1-assistant.wav", NULL);
  return bridge;
}

GST_START_TEST (test_record_dir)
{
  g_autofree gchar *caller = NULL;
  g_autofree gchar *assistant = NULL;
  guint port = 0;
  TestProcess *bridge = start_recording_bridge (&port, &caller, &assistant);
  const gchar *sim_args[] = { "--quiet", "--expect-audio", NULL };
  TestProcess *sim;
  g_autoptr (JsonObject) ended = NULL;
  guint caller_sound, assistant_sound;

  sim = test_callsim_start (port, sim_args);
  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  ended = test_process_wait_event (bridge, "call-ended", "call", "call-1", 60);
  fail_unless (ended != NULL);
  fail_unless_equals_string (json_object_get_string_member (ended, "status"),
      "completed");
  /* The recordings were finished properly, not cut at a timeout. */
  fail_unless (test_process_count_events (bridge, "eos", "call",
          "call-1") == 1);

  caller_sound = check_wav_file (caller);
  assistant_sound = check_wav_file (assistant);
  /* The caller spoke; the echo agent said the same words back. */
  fail_unless (caller_sound >= 25, "caller: %u frames of sound", caller_sound);
  fail_unless (assistant_sound >= caller_sound / 2,
      "assistant: %u frames of sound, caller %u", assistant_sound,
      caller_sound);
  fail_unless (assistant_sound <= caller_sound * 2,
      "assistant: %u frames of sound, caller %u", assistant_sound,
      caller_sound);

  g_free (test_bridge_stop (bridge));
}

GST_END_TEST;

/* The caller drops mid-answer: EOS still reaches both recordings (the
 * Twilio sink stops waiting for the caller to hear the rest once the socket
 * is gone), so both files are finished WAVs. */
GST_START_TEST (test_record_abrupt_hangup)
{
  g_autofree gchar *caller = NULL;
  g_autofree gchar *assistant = NULL;
  guint port = 0;
  TestProcess *bridge = start_recording_bridge (&port, &caller, &assistant);
  const gchar *sim_args[] = { "--quiet", "--expect-audio",
    "--hangup-at=reply+300", "--abrupt", NULL
  };
  TestProcess *sim;
  g_autoptr (JsonObject) ended = NULL;

  sim = test_callsim_start (port, sim_args);
  test_process_finish (sim, 120);
  test_process_free (sim);
  ended = test_process_wait_event (bridge, "call-ended", "call", "call-1", 60);
  fail_unless (ended != NULL);
  fail_unless_equals_int (test_process_count_events (bridge, "eos", "call",
          "call-1"), 1);
  fail_unless (check_wav_file (caller) >= 25);
  /* Only the start of the answer went out. */
  fail_unless (check_wav_file (assistant) >= 1);
  g_free (test_bridge_stop (bridge));
}

GST_END_TEST;

/* mu-law from Twilio straight to the model and back: the session is G.711
 * both ways and the caller hears the echo. */
GST_START_TEST (test_passthrough)
{
  const gchar *args[] = { "--port", "0", "--pipeline", "passthrough", NULL };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--quiet", "--expect-audio", NULL };
  TestProcess *sim;
  g_autoptr (JsonObject) updated = NULL;
  g_autoptr (JsonObject) ended = NULL;
  g_autofree gchar *output = NULL;

  sim = test_callsim_start (port, sim_args);
  updated = test_process_wait_event (bridge, "realtime-session-updated",
      "call", "call-1", 60);
  fail_unless (updated != NULL);
  fail_unless (strstr (json_object_get_string_member (updated,
              "input-format"), "pcmu") != NULL, "%s",
      json_object_get_string_member (updated, "input-format"));
  fail_unless (strstr (json_object_get_string_member (updated,
              "output-format"), "pcmu") != NULL, "%s",
      json_object_get_string_member (updated, "output-format"));

  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  ended = test_process_wait_event (bridge, "call-ended", "call", "call-1", 60);
  fail_unless (ended != NULL);
  fail_unless_equals_string (json_object_get_string_member (ended, "status"),
      "completed");
  fail_unless (json_object_get_int_member (ended, "turns") >= 1);
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          "call", "call-1") >= 1);
  output = test_bridge_stop (bridge);
  /* libsoup logs debug lines for every frame; unasked, none is printed */
  fail_unless (strstr (output, "libsoup-DEBUG") == NULL);
}

GST_END_TEST;

/* The launcher drops libsoup's debug lines before they are formatted, but
 * only when G_MESSAGES_DEBUG does not ask for them. */
GST_START_TEST (test_libsoup_debug_on_request)
{
  const gchar *args[] = { "--port", "0", "--pipeline", "passthrough", NULL };
  const gchar *env[] = { "G_MESSAGES_DEBUG", "libsoup", NULL };
  TestProcess *bridge = test_bridge_start (args, env);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--quiet", NULL };
  TestProcess *sim;
  g_autofree gchar *output = NULL;

  sim = test_callsim_start (port, sim_args);
  fail_unless (test_process_saw_event (bridge, "realtime-session-updated",
          "call", "call-1", 60));
  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  output = test_bridge_stop (bridge);
  fail_unless (strstr (output, "libsoup-DEBUG") != NULL);
}

GST_END_TEST;

static Suite *
bridge_media_suite (void)
{
  Suite *s = suite_create ("bridge_media");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_record_dir);
  tcase_add_test (tc, test_record_abrupt_hangup);
  tcase_add_test (tc, test_passthrough);
  tcase_add_test (tc, test_libsoup_debug_on_request);
  return s;
}

GST_CHECK_MAIN (bridge_media);
