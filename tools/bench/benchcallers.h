/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The benchmark's callers: N calls of the call simulator library on one
 * loop thread with its own GMainContext, each saying its code and bursts
 * (benchsignal.h), and what the measurement hooks saw, per call.
 */
#ifndef __BENCH_CALLERS_H__
#define __BENCH_CALLERS_H__

#include <glib.h>

#include "benchsignal.h"

G_BEGIN_DECLS

/* Written on the callers' thread only; read after bench_callers_stop (). */
typedef struct
{
  guint number;                 /* 1-based, also the call's code */
  gint64 start_sent_us;         /* 0: `start` never sent */
  GArray *burst_sent_us;        /* gint64 per burst (0: not sent) */
  gint64 frames_sent;
  BenchOnsetDetector heard_onset;       /* on what the caller received */
  GArray *heard_onsets_us;      /* gint64: arrival of each onset */
  guint64 heard_samples;        /* 8 kHz */
  gint64 last_arrival_us;
  gboolean finished;
  gboolean ok;
  gchar *failure;               /* the simulator's first reason, or NULL */
} BenchCaller;

typedef struct _BenchCallers BenchCallers;

/* Starts the thread and the calls (one every @stagger_ms) to @url.
 * @summaries: where the simulator's per-call JSON summaries go (NULL: not
 * kept). */
BenchCallers *bench_callers_start (const gchar * url, guint n_calls,
    guint stagger_ms, const BenchCallerLayout * layout,
    const gchar * summaries);
/* Monotonic time of the first call's start. */
gint64 bench_callers_get_origin (BenchCallers * callers);
/* Waits until every call has finished, at most until @deadline_us;
 * returns whether they did. */
gboolean bench_callers_wait (BenchCallers * callers, gint64 deadline_us);
guint bench_callers_get_n (BenchCallers * callers);
BenchCaller *bench_callers_get (BenchCallers * callers, guint index);
/* Hangs up what is still going (at most a few seconds) and stops the
 * thread; the BenchCaller data stays readable. */
void bench_callers_stop (BenchCallers * callers);
/* Stops (if needed) and frees everything. */
void bench_callers_free (BenchCallers * callers);

G_END_DECLS

#endif
