/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Audio for the local Realtime model: G.711 codecs, 8 <-> 24 kHz
 * conversion, an energy-based voice activity detector and a tone
 * generator. Pure code, no I/O.
 *
 * The common representation is signed 16-bit mono at 24 kHz (the Realtime
 * API's PCM rate). 8 kHz input is upsampled by linear interpolation so that
 * every third 24 kHz sample (index 3n + 2) is the original 8 kHz sample n;
 * downsampling audio that came in at 8 kHz picks exactly those samples, so
 * G.711 in, G.711 out echoes the caller's samples bit-exactly. Audio born
 * at 24 kHz (PCM16 input, tones) is low-passed before it is decimated.
 */
#ifndef __MODEL_AUDIO_H__
#define __MODEL_AUDIO_H__

#include <glib.h>

#include "realtimeprotocol.h"

G_BEGIN_DECLS

#define MODEL_AUDIO_RATE 24000
#define MODEL_AUDIO_SAMPLES_PER_MS 24


gint16 model_audio_ulaw_decode (guint8 code);
guint8 model_audio_ulaw_encode (gint16 sample);
gint16 model_audio_alaw_decode (guint8 code);
guint8 model_audio_alaw_encode (gint16 sample);

/* Decoder state: remembers the last 8 kHz sample for interpolation and an
 * odd trailing byte of PCM16 split across appends. */
typedef struct
{
  gint16 last_sample;
  gboolean have_odd_byte;
  guint8 odd_byte;
} ModelAudioDecoder;

/* Decodes @size bytes of @format and appends 24 kHz samples to @out
 * (a GArray of gint16). */
void model_audio_decode (ModelAudioDecoder * dec, RealtimeAudioFormat format,
    const guint8 * data, gsize size, GArray * out);

/* Encodes @n_samples 24 kHz samples into @format, appending to @out.
 * For G.711 @n_samples should be a multiple of 3 (whole 8 kHz samples).
 * @from_8k: the samples were decoded from 8 kHz input (already band
 * limited), so sample 3k + 2 of each group is taken as is and G.711 in,
 * G.711 out stays sample-exact; otherwise they are low-passed first
 * (model_audio_decimate_24k_to_8k ()). */
void model_audio_encode (RealtimeAudioFormat format, const gint16 * samples,
    gsize n_samples, gboolean from_8k, GByteArray * out);

/* 24 kHz -> 8 kHz: a windowed-sinc low-pass FIR (Blackman window,
 * MODEL_AUDIO_DECIMATION_TAPS taps, cut-off 3.6 kHz; more than 70 dB
 * down from 4.5 kHz on) evaluated at sample 3k + 2 only, without delay
 * (the filter is centred). Appends @n_samples / 3 gint16 to @out. */
#define MODEL_AUDIO_DECIMATION_TAPS 97
void model_audio_decimate_24k_to_8k (const gint16 * samples, gsize n_samples,
    GArray * out);

/* RMS level of @n samples in dB full scale (-100 for digital silence). */
gdouble model_audio_level_dbfs (const gint16 * samples, gsize n);

/* Appends @duration_ms of a sine at @freq_hz, @amplitude 0..1, with 5 ms
 * fades, to @out (24 kHz). */
void model_audio_append_tone (GArray * out, gdouble freq_hz,
    gdouble amplitude, guint duration_ms);

/* ---- voice activity detection ----------------------------------------
 * 10 ms frames. A frame is speech when its RMS level is above
 * model_vad_threshold_dbfs (threshold): -60 dBFS at threshold 0, -35 dBFS
 * at the default 0.5, -10 dBFS at 1. Speech starts after two consecutive
 * speech frames; audio_start_ms is the start of the first of them minus
 * prefix_padding_ms (clamped to 0), like the real API, whose value
 * includes the padding. Speech stops once silence_duration_ms of
 * non-speech frames followed; audio_end_ms is the end of that silence. */

#define MODEL_VAD_FRAME_MS 10
#define MODEL_VAD_START_FRAMES 2

typedef enum
{
  MODEL_VAD_SPEECH_STARTED,
  MODEL_VAD_SPEECH_STOPPED,
} ModelVadEventType;

typedef struct
{
  ModelVadEventType type;
  guint64 ms;                   /* audio_start_ms or audio_end_ms */
  guint64 speech_start_ms;      /* first speech frame (without padding) */
  guint64 speech_end_ms;        /* STOPPED: end of the last speech frame */
} ModelVadEvent;

typedef struct
{
  gdouble threshold_dbfs;
  guint prefix_padding_ms;
  guint silence_duration_ms;

  guint64 frame_index;          /* frames fully analysed */
  gdouble frame_energy;
  guint frame_fill;
  gboolean speaking;
  guint speech_run;
  guint64 run_start_frame;
  guint64 last_speech_end_frame;
  guint silence_frames;
} ModelVad;

gdouble model_vad_threshold_dbfs (gdouble threshold);
void model_vad_init (ModelVad * vad, gdouble threshold,
    guint prefix_padding_ms, guint silence_duration_ms);
/* Changes the parameters without losing the position. */
void model_vad_configure (ModelVad * vad, gdouble threshold,
    guint prefix_padding_ms, guint silence_duration_ms);
/* Analyses @n 24 kHz samples; appends ModelVadEvent to @events. */
void model_vad_push (ModelVad * vad, const gint16 * samples, gsize n,
    GArray * events);
/* Forgets an utterance in progress (after input_audio_buffer.clear). */
void model_vad_reset_state (ModelVad * vad);

G_END_DECLS

#endif
