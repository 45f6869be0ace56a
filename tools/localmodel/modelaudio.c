/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Audio helpers of the local Realtime model; see modelaudio.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelaudio.h"

#include <math.h>
#include <string.h>

#define FRAME_SAMPLES (MODEL_VAD_FRAME_MS * MODEL_AUDIO_SAMPLES_PER_MS)
/* below the 4 kHz Nyquist frequency of 8 kHz, see the transition width */
#define DECIMATION_CUTOFF_HZ 3600.0

/* G.711 as in ITU-T G.711 / the classic Sun reference implementation. */

gint16
model_audio_ulaw_decode (guint8 code)
{
  gint t;

  code = ~code;
  t = ((code & 0x0f) << 3) + 0x84;
  t <<= (code & 0x70) >> 4;
  return (code & 0x80) ? (0x84 - t) : (t - 0x84);
}

guint8
model_audio_ulaw_encode (gint16 sample)
{
  gint pcm = sample;
  gint sign = 0;
  gint exponent = 7;
  gint mask;
  gint mantissa;

  if (pcm < 0) {
    pcm = -pcm;
    sign = 0x80;
  }
  if (pcm > 32635)
    pcm = 32635;
  pcm += 0x84;
  for (mask = 0x4000; !(pcm & mask) && exponent > 0; mask >>= 1)
    exponent--;
  mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa);
}

gint16
model_audio_alaw_decode (guint8 code)
{
  gint t;
  gint seg;

  code ^= 0x55;
  t = (code & 0x0f) << 4;
  seg = (code & 0x70) >> 4;
  switch (seg) {
    case 0:
      t += 8;
      break;
    case 1:
      t += 0x108;
      break;
    default:
      t += 0x108;
      t <<= seg - 1;
      break;
  }
  return (code & 0x80) ? t : -t;
}

guint8
model_audio_alaw_encode (gint16 sample)
{
  static const gint seg_end[8] =
      { 0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff };
  gint pcm = sample >> 3;
  gint mask;
  gint seg;
  guint8 aval;

  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  for (seg = 0; seg < 8 && pcm > seg_end[seg]; seg++);
  if (seg >= 8)
    return 0x7f ^ mask;
  aval = seg << 4;
  if (seg < 2)
    aval |= (pcm >> 1) & 0x0f;
  else
    aval |= (pcm >> seg) & 0x0f;
  return aval ^ mask;
}

static void
append_upsampled (ModelAudioDecoder * dec, gint16 sample, GArray * out)
{
  gint prev = dec->last_sample;
  gint diff = sample - prev;
  gint16 three[3];

  three[0] = prev + diff / 3;
  three[1] = prev + (2 * diff) / 3;
  three[2] = sample;
  g_array_append_vals (out, three, 3);
  dec->last_sample = sample;
}

void
model_audio_decode (ModelAudioDecoder * dec, RealtimeAudioFormat format,
    const guint8 * data, gsize size, GArray * out)
{
  gsize i = 0;

  switch (format) {
    case REALTIME_AUDIO_FORMAT_PCMU:
      for (i = 0; i < size; i++)
        append_upsampled (dec, model_audio_ulaw_decode (data[i]), out);
      break;
    case REALTIME_AUDIO_FORMAT_PCMA:
      for (i = 0; i < size; i++)
        append_upsampled (dec, model_audio_alaw_decode (data[i]), out);
      break;
    case REALTIME_AUDIO_FORMAT_PCM16:
      if (dec->have_odd_byte && size > 0) {
        gint16 s = (gint16) (dec->odd_byte | (data[0] << 8));
        g_array_append_val (out, s);
        dec->have_odd_byte = FALSE;
        i = 1;
      }
      if (i + 1 < size) {
        /* sized once: 50 appends a second per call */
        guint first = out->len, n = (size - i) / 2, k;
        gint16 *samples;

        g_array_set_size (out, first + n);
        samples = &g_array_index (out, gint16, first);
        for (k = 0; k < n; k++, i += 2)
          samples[k] = (gint16) (data[i] | (data[i + 1] << 8));
      }
      if (i < size) {
        dec->odd_byte = data[i];
        dec->have_odd_byte = TRUE;
      }
      break;
    default:
      /* the model only ever sets the three formats above */
      g_warn_if_reached ();
      break;
  }
}

/* Taps of the decimation low-pass, computed once. */
static gsize decimation_taps_init;
static gdouble decimation_taps[MODEL_AUDIO_DECIMATION_TAPS];

static void
decimation_taps_compute (void)
{
  const gdouble cutoff = DECIMATION_CUTOFF_HZ / MODEL_AUDIO_RATE;
  const gint n = MODEL_AUDIO_DECIMATION_TAPS;
  gdouble sum = 0;
  gint i;

  for (i = 0; i < n; i++) {
    gdouble m = i - (n - 1) / 2.0;
    gdouble sinc = m == 0 ? 2 * cutoff : sin (2 * G_PI * cutoff * m) /
        (G_PI * m);
    gdouble blackman = 0.42 - 0.5 * cos (2 * G_PI * i / (n - 1)) +
        0.08 * cos (4 * G_PI * i / (n - 1));

    decimation_taps[i] = sinc * blackman;
    sum += decimation_taps[i];
  }
  /* unity gain at DC */
  for (i = 0; i < n; i++)
    decimation_taps[i] /= sum;
}

void
model_audio_decimate_24k_to_8k (const gint16 * samples, gsize n_samples,
    GArray * out)
{
  const gint half = (MODEL_AUDIO_DECIMATION_TAPS - 1) / 2;
  gsize k;

  if (g_once_init_enter (&decimation_taps_init)) {
    decimation_taps_compute ();
    g_once_init_leave (&decimation_taps_init, 1);
  }
  for (k = 2; k < n_samples; k += 3) {
    gdouble acc = 0;
    gint j;
    gint16 v;

    /* centred on sample k; samples outside the buffer count as silence */
    for (j = -half; j <= half; j++) {
      gint64 at = (gint64) k + j;
      if (at >= 0 && at < (gint64) n_samples)
        acc += decimation_taps[j + half] * samples[at];
    }
    acc = round (acc);
    v = (gint16) CLAMP (acc, G_MININT16, G_MAXINT16);
    g_array_append_val (out, v);
  }
}

void
model_audio_encode (RealtimeAudioFormat format, const gint16 * samples,
    gsize n_samples, gboolean from_8k, GByteArray * out)
{
  GArray *narrow;
  gsize i, first;

  switch (format) {
    case REALTIME_AUDIO_FORMAT_PCMU:
    case REALTIME_AUDIO_FORMAT_PCMA:
      narrow = g_array_sized_new (FALSE, FALSE, sizeof (gint16), n_samples / 3);
      if (from_8k) {
        for (i = 2; i < n_samples; i += 3)
          g_array_append_val (narrow, samples[i]);
      } else {
        model_audio_decimate_24k_to_8k (samples, n_samples, narrow);
      }
      first = out->len;
      g_byte_array_set_size (out, first + narrow->len);
      for (i = 0; i < narrow->len; i++) {
        gint16 v = g_array_index (narrow, gint16, i);

        out->data[first + i] = format == REALTIME_AUDIO_FORMAT_PCMU ?
            model_audio_ulaw_encode (v) : model_audio_alaw_encode (v);
      }
      g_array_unref (narrow);
      break;
    default:
      /* PCM16 (the model never holds another format), little-endian */
      first = out->len;
      g_byte_array_set_size (out, first + 2 * n_samples);
      for (i = 0; i < n_samples; i++) {
        out->data[first + 2 * i] = (guint16) samples[i] & 0xff;
        out->data[first + 2 * i + 1] = ((guint16) samples[i] >> 8) & 0xff;
      }
      break;
  }
}

gdouble
model_audio_level_dbfs (const gint16 * samples, gsize n)
{
  gdouble energy = 0;
  gsize i;

  if (n == 0)
    return -100;
  for (i = 0; i < n; i++)
    energy += (gdouble) samples[i] * samples[i];
  energy /= (gdouble) n *32768.0 * 32768.0;
  if (energy <= 1e-10)
    return -100;
  return 10 * log10 (energy);
}

void
model_audio_append_tone (GArray * out, gdouble freq_hz, gdouble amplitude,
    guint duration_ms)
{
  guint n = duration_ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint fade = 5 * MODEL_AUDIO_SAMPLES_PER_MS;
  guint i;

  for (i = 0; i < n; i++) {
    gdouble gain = amplitude;
    gint16 s;

    if (i < fade)
      gain *= (gdouble) i / fade;
    else if (n - i < fade)
      gain *= (gdouble) (n - i) / fade;
    s = (gint16) (32767 * gain * sin (2 * G_PI * freq_hz * i /
            MODEL_AUDIO_RATE));
    g_array_append_val (out, s);
  }
}

gdouble
model_vad_threshold_dbfs (gdouble threshold)
{
  return -60 + 50 * CLAMP (threshold, 0.0, 1.0);
}

void
model_vad_configure (ModelVad * vad, gdouble threshold,
    guint prefix_padding_ms, guint silence_duration_ms)
{
  vad->threshold_dbfs = model_vad_threshold_dbfs (threshold);
  vad->prefix_padding_ms = prefix_padding_ms;
  vad->silence_duration_ms = silence_duration_ms;
}

void
model_vad_init (ModelVad * vad, gdouble threshold, guint prefix_padding_ms,
    guint silence_duration_ms)
{
  memset (vad, 0, sizeof (*vad));
  model_vad_configure (vad, threshold, prefix_padding_ms, silence_duration_ms);
}

void
model_vad_reset_state (ModelVad * vad)
{
  vad->speaking = FALSE;
  vad->speech_run = 0;
  vad->silence_frames = 0;
}

static void
vad_frame (ModelVad * vad, gboolean speech, GArray * events)
{
  guint64 f = vad->frame_index;

  if (!vad->speaking) {
    if (!speech) {
      vad->speech_run = 0;
      return;
    }
    if (vad->speech_run++ == 0)
      vad->run_start_frame = f;
    if (vad->speech_run >= MODEL_VAD_START_FRAMES) {
      ModelVadEvent ev = { MODEL_VAD_SPEECH_STARTED, 0, 0, 0 };
      guint64 start_ms = vad->run_start_frame * MODEL_VAD_FRAME_MS;

      ev.speech_start_ms = start_ms;
      ev.ms = start_ms > vad->prefix_padding_ms ?
          start_ms - vad->prefix_padding_ms : 0;
      g_array_append_val (events, ev);
      vad->speaking = TRUE;
      vad->silence_frames = 0;
      vad->last_speech_end_frame = f + 1;
    }
    return;
  }

  if (speech) {
    vad->silence_frames = 0;
    vad->last_speech_end_frame = f + 1;
    return;
  }
  vad->silence_frames++;
  if (vad->silence_frames * MODEL_VAD_FRAME_MS >= vad->silence_duration_ms) {
    ModelVadEvent ev = { MODEL_VAD_SPEECH_STOPPED, 0, 0, 0 };

    ev.ms = (f + 1) * MODEL_VAD_FRAME_MS;
    ev.speech_end_ms = vad->last_speech_end_frame * MODEL_VAD_FRAME_MS;
    ev.speech_start_ms = vad->run_start_frame * MODEL_VAD_FRAME_MS;
    g_array_append_val (events, ev);
    model_vad_reset_state (vad);
  }
}

void
model_vad_push (ModelVad * vad, const gint16 * samples, gsize n,
    GArray * events)
{
  gsize i;
  /* energy threshold in the same unit as the accumulated sum of squares */
  gdouble limit = pow (10, vad->threshold_dbfs / 10) * 32768.0 * 32768.0 *
      FRAME_SAMPLES;

  /* Summed as integers: squares of 16-bit samples over a frame stay far
   * below 2^53, so the sum is exactly what summing doubles gave. */
  gint64 energy = 0;

  for (i = 0; i < n; i++) {
    energy += (gint32) samples[i] * samples[i];
    if (++vad->frame_fill == FRAME_SAMPLES) {
      vad->frame_energy += energy;
      energy = 0;
      vad_frame (vad, vad->frame_energy > limit, events);
      vad->frame_index++;
      vad->frame_energy = 0;
      vad->frame_fill = 0;
    }
  }
  vad->frame_energy += energy;
}
