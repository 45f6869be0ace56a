/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The benchmark's signals, pure (no I/O, no clock): what each simulated
 * caller says (a call-identifying code, then tone bursts at known frames),
 * onset detection (the first sample of a sound after silence), decoding the
 * code at the far end, and percentiles. See docs/performance.md.
 */
#ifndef __BENCH_SIGNAL_H__
#define __BENCH_SIGNAL_H__

#include <glib.h>

G_BEGIN_DECLS

/* Twilio's frame: 20 ms of μ-law at 8 kHz. */
#define BENCH_FRAME_MS 20
#define BENCH_FRAME_SAMPLES_8K 160

/* Bits of the call code: call numbers 1 .. 2^BENCH_CODE_BITS - 1. */
#define BENCH_CODE_BITS 12
/* Frames of the code: a marker, the bits (MSB first), an even parity. */
#define BENCH_CODE_FRAMES (1 + BENCH_CODE_BITS + 1)

/* Amplitude of every tone (-12 dBFS), and what counts as sound (-24 dBFS):
 * far above μ-law's and the resamplers' noise, far below the tones. */
#define BENCH_TONE_LEVEL 8192
#define BENCH_SOUND_THRESHOLD 2048

/* Where things are in a caller's audio, in 20 ms frames from the first. */
typedef struct
{
  guint code_frame;             /* the code's marker */
  guint first_burst_frame;
  guint burst_period_frames;
  guint burst_frames;
  guint total_frames;
} BenchCallerLayout;

/* The default layout for @duration_ms of audio: silence, the code at
 * 200 ms, bursts of 200 ms every 2 s from 2 s on. */
void bench_caller_layout_init (BenchCallerLayout * layout, guint duration_ms);

/* The caller's whole audio as μ-law: the code of @call_number and the
 * bursts, silence (0xFF) elsewhere. Each tone frame is a 1 kHz cosine at
 * BENCH_TONE_LEVEL starting at its peak, so the sound starts on the frame's
 * first sample. */
GBytes *bench_caller_audio_new (const BenchCallerLayout * layout,
    guint call_number);

/* Whether frame @frame starts a burst; *index gets its 0-based number. */
gboolean bench_caller_layout_burst_at (const BenchCallerLayout * layout,
    gint64 frame, guint * index);

/* Onset detection on a stream of linear samples at any rate: an onset is
 * the first sample above BENCH_SOUND_THRESHOLD after at least @min_quiet
 * samples at or below it (the stream's beginning counts as quiet). */
typedef struct
{
  guint min_quiet;
  guint64 position;             /* samples seen so far */
  guint64 quiet_run;            /* quiet samples just before position */
} BenchOnsetDetector;

void bench_onset_detector_init (BenchOnsetDetector * d, guint min_quiet);
/* Pushes @n samples; appends the stream position (guint64, samples from the
 * stream's first) of each onset among them to @onsets. Returns how many. */
guint bench_onset_detector_push (BenchOnsetDetector * d,
    const gint16 * samples, guint n, GArray * onsets);

/* Decodes the call code at the far end, at @rate samples per second: fed
 * the stream from its start; the first onset is taken as the marker. */
typedef struct
{
  guint rate;
  BenchOnsetDetector onset;
  gboolean marker_seen;
  guint64 marker_position;
  gdouble energy[BENCH_CODE_FRAMES];    /* mean square, middle of each frame */
  guint counted[BENCH_CODE_FRAMES];
  gboolean done;
  gint call_number;             /* when done: the code, or -1 if invalid */
} BenchCodeDecoder;

void bench_code_decoder_init (BenchCodeDecoder * d, guint rate);
/* Returns TRUE once the code is decoded (call_number set). */
gboolean bench_code_decoder_push (BenchCodeDecoder * d,
    const gint16 * samples, guint n);
/* Stream position, in samples, where the code ends (after done). */
guint64 bench_code_decoder_end (const BenchCodeDecoder * d);

/* Nearest-rank percentile (0 < @p <= 100) of @values (gdouble), which are
 * sorted in place; NAN when empty. */
gdouble bench_percentile (GArray * values, gdouble p);

G_END_DECLS

#endif
