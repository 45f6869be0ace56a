/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The benchmark's signals; see benchsignal.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "benchsignal.h"
#include "callsimaudio.h"

#define MULAW_SILENCE 0xFF

void
bench_caller_layout_init (BenchCallerLayout * layout, guint duration_ms)
{
  layout->code_frame = 200 / BENCH_FRAME_MS;
  layout->first_burst_frame = 2000 / BENCH_FRAME_MS;
  layout->burst_period_frames = 2000 / BENCH_FRAME_MS;
  layout->burst_frames = 200 / BENCH_FRAME_MS;
  layout->total_frames = duration_ms / BENCH_FRAME_MS;
}

static void
write_tone_frame (guint8 * out)
{
  guint i;

  /* 1 kHz at 8 kHz: the cosine starts at its peak, so the very first
   * sample of the frame is already sound */
  for (i = 0; i < BENCH_FRAME_SAMPLES_8K; i++)
    out[i] = callsim_linear_to_mulaw ((gint16) (BENCH_TONE_LEVEL *
            cos (2 * G_PI * 1000.0 * i / 8000.0)));
}

GBytes *
bench_caller_audio_new (const BenchCallerLayout * layout, guint call_number)
{
  gsize size = (gsize) layout->total_frames * BENCH_FRAME_SAMPLES_8K;
  guint8 *audio = g_malloc (size);
  guint8 tone[BENCH_FRAME_SAMPLES_8K];
  gboolean frames[BENCH_CODE_FRAMES];
  guint parity = 0, i, f;

  memset (audio, MULAW_SILENCE, size);
  write_tone_frame (tone);

  frames[0] = TRUE;
  for (i = 0; i < BENCH_CODE_BITS; i++) {
    frames[1 + i] = (call_number >> (BENCH_CODE_BITS - 1 - i)) & 1;
    parity ^= frames[1 + i];
  }
  frames[BENCH_CODE_FRAMES - 1] = parity;
  for (i = 0; i < BENCH_CODE_FRAMES; i++) {
    f = layout->code_frame + i;
    if (frames[i] && f < layout->total_frames)
      memcpy (audio + (gsize) f * BENCH_FRAME_SAMPLES_8K, tone, sizeof tone);
  }

  for (f = layout->first_burst_frame; f < layout->total_frames;
      f += layout->burst_period_frames) {
    for (i = 0; i < layout->burst_frames && f + i < layout->total_frames; i++)
      memcpy (audio + (gsize) (f + i) * BENCH_FRAME_SAMPLES_8K, tone,
          sizeof tone);
  }
  return g_bytes_new_take (audio, size);
}

gboolean
bench_caller_layout_burst_at (const BenchCallerLayout * layout, gint64 frame,
    guint * index)
{
  if (frame < layout->first_burst_frame || frame >= layout->total_frames
      || (frame - layout->first_burst_frame) % layout->burst_period_frames != 0)
    return FALSE;
  *index = (frame - layout->first_burst_frame) / layout->burst_period_frames;
  return TRUE;
}

void
bench_onset_detector_init (BenchOnsetDetector * d, guint min_quiet)
{
  d->min_quiet = min_quiet;
  d->position = 0;
  /* the stream's beginning counts as quiet */
  d->quiet_run = min_quiet;
}

guint
bench_onset_detector_push (BenchOnsetDetector * d, const gint16 * samples,
    guint n, GArray * onsets)
{
  guint found = 0, i;
  /* in locals: every sample of every call goes through here */
  guint64 position = d->position, quiet_run = d->quiet_run;

  for (i = 0; i < n; i++, position++) {
    if (ABS ((gint) samples[i]) <= BENCH_SOUND_THRESHOLD) {
      quiet_run++;
      continue;
    }
    if (quiet_run >= d->min_quiet) {
      guint64 at = position;

      if (onsets)
        g_array_append_val (onsets, at);
      found++;
    }
    quiet_run = 0;
  }
  d->position = position;
  d->quiet_run = quiet_run;
  return found;
}

void
bench_code_decoder_init (BenchCodeDecoder * d, guint rate)
{
  memset (d, 0, sizeof (*d));
  d->rate = rate;
  /* the code is preceded by at least 100 ms of silence */
  bench_onset_detector_init (&d->onset, rate / 10);
  d->call_number = -1;
}

static guint
frame_samples (const BenchCodeDecoder * d)
{
  return d->rate * BENCH_FRAME_MS / 1000;
}

guint64
bench_code_decoder_end (const BenchCodeDecoder * d)
{
  return d->marker_position + (guint64) BENCH_CODE_FRAMES *frame_samples (d);
}

static void
decode (BenchCodeDecoder * d)
{
  gint number = 0;
  guint parity = 0, i;
  /* half the tone's mean square: a frame of tone is far above, a frame of
   * silence (or a resampler's ringing at its edge) far below */
  gdouble limit = 0.25 * BENCH_TONE_LEVEL * BENCH_TONE_LEVEL;

  d->done = TRUE;
  if (d->energy[0] <= limit)
    return;
  for (i = 0; i < BENCH_CODE_BITS; i++) {
    guint bit = d->energy[1 + i] > limit;

    number = (number << 1) | bit;
    parity ^= bit;
  }
  if ((d->energy[BENCH_CODE_FRAMES - 1] > limit) != parity || number == 0)
    return;
  d->call_number = number;
}

gboolean
bench_code_decoder_push (BenchCodeDecoder * d, const gint16 * samples, guint n)
{
  guint fs = frame_samples (d), i = 0;
  guint64 start = d->onset.position;    /* stream position of samples[0] */

  if (d->done)
    return TRUE;
  if (!d->marker_seen) {
    GArray *onsets = g_array_new (FALSE, FALSE, sizeof (guint64));

    bench_onset_detector_push (&d->onset, samples, n, onsets);
    if (onsets->len > 0) {
      d->marker_seen = TRUE;
      d->marker_position = g_array_index (onsets, guint64, 0);
      i = d->marker_position - start;
    }
    g_array_unref (onsets);
    if (!d->marker_seen)
      return FALSE;
  } else {
    d->onset.position += n;
  }
  /* the middle half of each frame: clear of edges that a resampler
   * smears by a sample or two */
  for (; i < n; i++) {
    guint64 offset = start + i - d->marker_position;
    guint frame = offset / fs, within = offset % fs;
    gdouble v = samples[i];

    if (frame >= BENCH_CODE_FRAMES) {
      decode (d);
      return TRUE;
    }
    if (within >= fs / 4 && within < 3 * fs / 4) {
      d->energy[frame] += (v * v - d->energy[frame]) / ++d->counted[frame];
    }
  }
  return FALSE;
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

gdouble
bench_percentile (GArray * values, gdouble p)
{
  guint rank;

  if (values->len == 0)
    return NAN;
  g_array_sort (values, compare_doubles);
  rank = (guint) ceil (p / 100.0 * values->len);
  rank = CLAMP (rank, 1, values->len);
  return g_array_index (values, gdouble, rank - 1);
}
