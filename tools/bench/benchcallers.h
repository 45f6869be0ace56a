/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The benchmark's callers: N calls of the call simulator library on K
 * loop threads, each with its own GMainContext, each saying its code and bursts
 * (benchsignal.h), and what the measurement hooks saw, per call.
 */
#ifndef __BENCH_CALLERS_H__
#define __BENCH_CALLERS_H__

#include <glib.h>

#include "benchsignal.h"

G_BEGIN_DECLS

/* Written on its call's loop thread only; read after bench_callers_stop (). */
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

/* Starts the threads and the calls (one every @stagger_ms) to @url: call
 * i (0-based) runs on loop thread i % @n_threads, each thread with its own
 * GMainContext (polled with @poll_func, NULL: GLib's) and SoupSession, all
 * on one start grid. Call i's 20 ms frames fall at phase i % @frame_phases
 * of the 20 ms period cut into @frame_phases (a divisor of 20; 1: every
 * call's frames at once). @summaries: where the simulator's per-call JSON
 * summaries go (NULL: not kept). */
BenchCallers *bench_callers_start (const gchar * url, guint n_calls,
    guint stagger_ms, guint frame_phases, const BenchCallerLayout * layout,
    guint n_threads, GPollFunc poll_func, const gchar * summaries);
/* Monotonic time of the first call's start. */
gint64 bench_callers_get_origin (BenchCallers * callers);
/* Waits until every call has finished, at most until @deadline_us;
 * returns whether they did. */
gboolean bench_callers_wait (BenchCallers * callers, gint64 deadline_us);
guint bench_callers_get_n (BenchCallers * callers);
BenchCaller *bench_callers_get (BenchCallers * callers, guint index);
/* Hangs up what is still going (at most a few seconds) and stops the
 * threads; the BenchCaller data stays readable. */
void bench_callers_stop (BenchCallers * callers);
/* After bench_callers_stop (): appends to @lags_ms (gdouble) how late each
 * tick of every thread ran (ms after it was due), for the ticks due
 * in [@from_us, @to_us). A harness that keeps real time runs them within a
 * tick. */
void bench_callers_get_tick_lags (BenchCallers * callers, gint64 from_us,
    gint64 to_us, GArray * lags_ms);
/* Stops (if needed) and frees everything. */
void bench_callers_free (BenchCallers * callers);

G_END_DECLS

#endif
