/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One step of the benchmark: a fresh launcher with one pipeline, N
 * simulated calls through it to the embedded local model, and what they
 * cost and added. See docs/performance.md for the method.
 */
#ifndef __BENCH_STEP_H__
#define __BENCH_STEP_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const gchar *launcher;        /* path of realtime-bridge */
  const gchar *plugin_path;     /* for the launcher, or NULL */
  const gchar *pipeline;        /* --pipeline value: preset or template */
  guint calls;
  guint stagger_ms;             /* between call starts */
  guint frame_phases;           /* the calls' frames spread over this many
                                 * phases of 20 ms (a divisor of 20) */
  guint settle_ms;              /* after the last start, before the window */
  guint window_ms;              /* the steady-state window */
  guint baseline_ms;            /* the idle launcher, before any call */
  guint late_ms;                /* a hop above this counts as late */
  const gchar *launcher_log;    /* keep the launcher's log here, or NULL */
  guint harness_threads;        /* loop threads of the model and of the
                                 * callers, each; 0 = bench_step_auto_threads () */
  gboolean harness_poll;        /* the harness's loops poll with poll()
                                 * instead of epoll (benchpoll.h) */
} BenchStepOptions;

/* Latencies in ms (p50/p95/p99/max over n samples; NAN when n = 0). */
typedef struct
{
  guint n;
  gdouble p50, p95, p99, max;
} BenchLatency;

typedef struct
{
  guint calls;
  guint calls_ok;               /* the simulator's verdict */
  guint calls_failed;
  gchar *first_failure;         /* why, for the first failed call */
  guint calls_unmatched;        /* no model session carried its code */
  guint launcher_calls_failed;  /* the launcher's own log */
  guint launcher_errors;
  gchar *launcher_first_error;
  gboolean launcher_died;       /* exited before it was stopped */
  gint launcher_exit_status;

  BenchLatency setup;           /* `start` sent -> session.update received */
  BenchLatency caller_to_model; /* burst's first frame sent -> its onset */
  BenchLatency model_to_caller; /* response's first delta sent -> onset */
  guint bursts_lost;            /* in the window: onsets never seen */
  guint responses_lost;
  guint hops_late;              /* either hop above late_ms */

  /* audio expected vs received over whole calls, ms */
  gdouble caller_sent_ms, model_received_ms;
  gdouble model_sent_ms, caller_received_ms;
  guint calls_short_in;         /* model got > 40 ms less than was sent */
  guint calls_short_out;        /* caller got > 40 ms less than was sent */
  gdouble worst_short_in_ms, worst_short_out_ms;

  /* the launcher over the window, baseline (0 calls) subtracted */
  gdouble window_s;
  gdouble idle_cpu_pct;         /* % of one core */
  gdouble cpu_pct;
  gdouble cpu_pct_per_call;
  gdouble idle_rss_mb;
  gdouble rss_mb;
  gdouble rss_mb_per_call;
  guint idle_threads;
  guint threads;
  gdouble threads_per_call;
  gdouble ctx_switches_per_s;   /* all threads, voluntary + involuntary */
  gdouble ctx_switches_per_call_s;
  gdouble bench_cpu_pct;        /* this program (model + callers) */
  guint harness_threads;        /* loop threads of each, model and callers */
  BenchLatency tick_lag;        /* the callers' 10 ms ticks in the window:
                                 * ms late (the harness keeping real time) */
  gdouble duration_s;
} BenchStepResult;

/* Runs the step; FALSE (with @error) only if it could not run at all (no
 * launcher, no model). Calls that fail are results, not errors. */
gboolean bench_step_run (const BenchStepOptions * options,
    BenchStepResult * result, GError ** error);
void bench_step_result_clear (BenchStepResult * result);

/* The harness's loop threads (each, model and callers) for @calls calls:
 * one per BENCH_CALLS_PER_THREAD calls, at most one per CPU. Fewer
 * threads cost less CPU (each wake-up serves more), more keep up with
 * more calls. */
#define BENCH_CALLS_PER_THREAD 200
guint bench_step_auto_threads (guint calls);

/* The tolerance of calls_short_in/out. */
#define BENCH_SHORT_TOLERANCE_MS 40.0

G_END_DECLS

#endif
