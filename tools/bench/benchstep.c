/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One step of the benchmark; see benchstep.h and docs/performance.md.
 *
 * Three parts share g_get_monotonic_time (): the local model (its own
 * thread, in this process), the callers (their own thread, in this
 * process) and the launcher (a child process) between them. The model's
 * hooks decode each session's call code and time onsets of what it
 * receives and the first delta of what it sends; the callers' hooks time
 * the bursts they send and the onsets of what they hear.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "benchcallers.h"
#include "benchpoll.h"
#include "benchlauncher.h"
#include "benchsignal.h"
#include "benchstep.h"
#include "localmodel.h"

#define MS G_TIME_SPAN_MILLISECOND
/* the model's rate of decoded input */
#define MODEL_RATE 24000
/* silence before a sound for it to count as an onset: 100 ms */
#define MODEL_MIN_QUIET (MODEL_RATE / 10)
/* what the model says back to each burst */
#define ANSWER_TONE_MS 200
/* an onset later than this after its burst or response is not its own */
#define MATCH_LIMIT_US (1500 * MS)

/* One model session, written on the model's thread only; read after the
 * model is freed. */
typedef struct
{
  gint64 updated_us;            /* first session.update */
  BenchCodeDecoder code;
  gboolean code_done;
  BenchOnsetDetector onset;     /* after the code */
  guint64 position;             /* input samples so far */
  GArray *onsets_us;            /* gint64: arrival of each onset */
  GArray *response_starts_us;   /* gint64: first delta of each response */
  gint64 output_us;             /* response audio sent */
} ModelSide;

typedef struct
{
  GHashTable *sessions;         /* id -> ModelSide */
} ModelProbeState;

static void
model_side_free (ModelSide * m)
{
  g_array_unref (m->onsets_us);
  g_array_unref (m->response_starts_us);
  g_free (m);
}

static ModelSide *
model_side (ModelProbeState * state, const gchar * id)
{
  ModelSide *m = g_hash_table_lookup (state->sessions, id);

  if (m == NULL) {
    m = g_new0 (ModelSide, 1);
    bench_code_decoder_init (&m->code, MODEL_RATE);
    m->onsets_us = g_array_new (FALSE, FALSE, sizeof (gint64));
    m->response_starts_us = g_array_new (FALSE, FALSE, sizeof (gint64));
    g_hash_table_insert (state->sessions, g_strdup (id), m);
  }
  return m;
}

static void
on_session_updated (const gchar * id, gint64 now_us, gpointer user_data)
{
  ModelSide *m = model_side (user_data, id);

  if (m->updated_us == 0)
    m->updated_us = now_us;
}

static void
on_input_audio (const gchar * id, const gint16 * samples, guint n,
    gint64 arrival_us, gpointer user_data)
{
  ModelSide *m = model_side (user_data, id);
  guint64 start = m->position;
  guint i, found;

  m->position += n;
  if (!m->code_done) {
    guint64 end;

    if (!bench_code_decoder_push (&m->code, samples, n))
      return;
    m->code_done = TRUE;
    /* bursts are looked for from the end of the code on, after silence */
    end = bench_code_decoder_end (&m->code);
    bench_onset_detector_init (&m->onset, MODEL_MIN_QUIET);
    m->onset.quiet_run = 0;
    if (end >= m->position)
      return;
    m->onset.position = MAX (end, start);
    samples += m->onset.position - start;
    n = m->position - m->onset.position;
  }
  found = bench_onset_detector_push (&m->onset, samples, n, NULL);
  /* the whole append arrived at once */
  for (i = 0; i < found; i++)
    g_array_append_val (m->onsets_us, arrival_us);
}

static void
on_output_audio (const gchar * id, const gchar * response_id,
    gint64 offset_us, gint64 duration_us, gint64 sent_us, gpointer user_data)
{
  ModelSide *m = model_side (user_data, id);

  m->output_us += duration_us;
  if (offset_us == 0)
    g_array_append_val (m->response_starts_us, sent_us);
}

/* ---- results --------------------------------------------------------- */

static void
latency_from (BenchLatency * l, GArray * values_ms)
{
  l->n = values_ms->len;
  l->p50 = bench_percentile (values_ms, 50);
  l->p95 = bench_percentile (values_ms, 95);
  l->p99 = bench_percentile (values_ms, 99);
  l->max = bench_percentile (values_ms, 100);
}

/* The first time in @times (ascending) in [from, until), or 0. */
static gint64
first_in (GArray * times, gint64 from, gint64 until)
{
  guint i;

  for (i = 0; i < times->len; i++) {
    gint64 t = g_array_index (times, gint64, i);

    if (t >= from && t < until)
      return t;
  }
  return 0;
}

typedef struct
{
  GArray *setup, *in, *out;     /* gdouble ms */
} Samples;

static void
measure_call (const BenchStepOptions * o, BenchCaller * c, ModelSide * m,
    gint64 window_start, gint64 window_end, Samples * s, BenchStepResult * r)
{
  guint i;
  gdouble sent_in = c->frames_sent * (gdouble) BENCH_FRAME_MS;
  gdouble got_in = m ? m->position / (MODEL_RATE / 1000.0) : 0;
  gdouble sent_out = m ? m->output_us / 1000.0 : 0;
  gdouble got_out = c->heard_samples / 8.0;

  r->caller_sent_ms += sent_in;
  r->model_received_ms += got_in;
  r->model_sent_ms += sent_out;
  r->caller_received_ms += got_out;
  if (sent_in - got_in > BENCH_SHORT_TOLERANCE_MS)
    r->calls_short_in++;
  if (sent_out - got_out > BENCH_SHORT_TOLERANCE_MS)
    r->calls_short_out++;
  r->worst_short_in_ms = MAX (r->worst_short_in_ms, sent_in - got_in);
  r->worst_short_out_ms = MAX (r->worst_short_out_ms, sent_out - got_out);
  if (m == NULL)
    return;

  if (c->start_sent_us > 0 && m->updated_us > 0) {
    gdouble v = (m->updated_us - c->start_sent_us) / 1000.0;
    g_array_append_val (s->setup, v);
  }

  /* caller -> model: each burst sent in the window, to the first onset
   * the model saw after it */
  for (i = 0; i < c->burst_sent_us->len; i++) {
    gint64 sent = g_array_index (c->burst_sent_us, gint64, i);
    gint64 seen;
    gdouble v;

    if (sent < window_start || sent >= window_end)
      continue;
    seen = first_in (m->onsets_us, sent, sent + MATCH_LIMIT_US);
    if (seen == 0) {
      r->bursts_lost++;
      continue;
    }
    v = (seen - sent) / 1000.0;
    if (v > o->late_ms)
      r->hops_late++;
    g_array_append_val (s->in, v);
  }

  /* model -> caller: each response begun in the window, to the first onset
   * the caller heard after it */
  for (i = 0; i < m->response_starts_us->len; i++) {
    gint64 sent = g_array_index (m->response_starts_us, gint64, i);
    gint64 until = sent + MATCH_LIMIT_US, seen;
    gdouble v;

    if (sent < window_start || sent >= window_end)
      continue;
    if (i + 1 < m->response_starts_us->len)
      until = MIN (until, g_array_index (m->response_starts_us, gint64, i + 1));
    seen = first_in (c->heard_onsets_us, sent, until);
    if (seen == 0) {
      r->responses_lost++;
      continue;
    }
    v = (seen - sent) / 1000.0;
    if (v > o->late_ms)
      r->hops_late++;
    g_array_append_val (s->out, v);
  }
}

static void
measure (const BenchStepOptions * o, BenchCallers * callers,
    ModelProbeState * state, gint64 window_start, gint64 window_end,
    BenchStepResult * r)
{
  guint n = bench_callers_get_n (callers), i;
  ModelSide **by_call = g_new0 (ModelSide *, n);
  Samples s = {
    g_array_new (FALSE, FALSE, sizeof (gdouble)),
    g_array_new (FALSE, FALSE, sizeof (gdouble)),
    g_array_new (FALSE, FALSE, sizeof (gdouble)),
  };
  GHashTableIter iter;
  ModelSide *m;

  /* each session says which call it carries by the code it heard */
  g_hash_table_iter_init (&iter, state->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & m)) {
    gint number = m->code.call_number;

    if (number >= 1 && (guint) number <= n && by_call[number - 1] == NULL)
      by_call[number - 1] = m;
  }

  for (i = 0; i < n; i++) {
    BenchCaller *c = bench_callers_get (callers, i);

    if (c->ok)
      r->calls_ok++;
    else {
      r->calls_failed++;
      if (r->first_failure == NULL)
        r->first_failure = g_strdup_printf ("call %u: %s", c->number,
            c->failure ? c->failure : "did not finish");
    }
    if (by_call[i] == NULL)
      r->calls_unmatched++;
    measure_call (o, c, by_call[i], window_start, window_end, &s, r);
  }
  latency_from (&r->setup, s.setup);
  latency_from (&r->caller_to_model, s.in);
  latency_from (&r->model_to_caller, s.out);
  g_array_set_size (s.in, 0);
  bench_callers_get_tick_lags (callers, window_start, window_end, s.in);
  latency_from (&r->tick_lag, s.in);
  g_array_unref (s.setup);
  g_array_unref (s.in);
  g_array_unref (s.out);
  g_free (by_call);
}

/* ---- running --------------------------------------------------------- */

static void
sleep_until (gint64 deadline_us)
{
  gint64 now;

  /* a measurement window, not a wait for an event */
  while ((now = g_get_monotonic_time ()) < deadline_us)
    g_usleep (MIN (deadline_us - now, G_USEC_PER_SEC));
}

static void
cost (const BenchStepOptions * o, const BenchProcSample * idle0,
    const BenchProcSample * idle1, const BenchProcSample * w0,
    const BenchProcSample * w1, BenchStepResult * r)
{
  gdouble idle_s = (idle1->at_us - idle0->at_us) / 1e6;
  gdouble n = MAX (o->calls, 1);

  r->window_s = (w1->at_us - w0->at_us) / 1e6;
  r->idle_cpu_pct = idle_s > 0 ? 100 * (idle1->cpu_s - idle0->cpu_s) /
      idle_s : 0;
  r->cpu_pct = r->window_s > 0 ? 100 * (w1->cpu_s - w0->cpu_s) /
      r->window_s : 0;
  r->cpu_pct_per_call = (r->cpu_pct - r->idle_cpu_pct) / n;
  r->idle_rss_mb = idle1->rss_mb;
  r->rss_mb = w1->rss_mb;
  r->rss_mb_per_call = (r->rss_mb - r->idle_rss_mb) / n;
  r->idle_threads = idle1->threads;
  r->threads = w1->threads;
  r->threads_per_call = ((gdouble) r->threads - r->idle_threads) / n;
  r->ctx_switches_per_s = r->window_s > 0 ?
      ((gdouble) (w1->ctx_voluntary + w1->ctx_involuntary) -
      (gdouble) (w0->ctx_voluntary + w0->ctx_involuntary)) / r->window_s : 0;
  r->ctx_switches_per_call_s = r->ctx_switches_per_s / n;
}

/* The local model on @n threads: @n models sharing one port (the kernel
 * spreads the launcher's connections over them), each with its own probe
 * state, so that no hook needs a lock. */
typedef struct
{
  guint n;
  LocalModel **models;
  ModelProbeState *states;
  LocalModelProbe *probes;
} ModelShards;

static gboolean
model_shards_start (ModelShards * shards, guint n, GPollFunc poll_func,
    GError ** error)
{
  LocalModelOptions model_options;
  guint i;

  shards->n = n;
  shards->models = g_new0 (LocalModel *, n);
  shards->states = g_new0 (ModelProbeState, n);
  shards->probes = g_new0 (LocalModelProbe, n);
  local_model_options_init (&model_options);
  model_options.answer_tone_ms = ANSWER_TONE_MS;
  /* the benchmark's calls are not function-calling turns */
  model_options.function_call_every = 0;
  /* nor hour-long: no per-session limit timer in every loop iteration */
  model_options.session_limit_ms = 0;
  model_options.reuse_port = n > 1;
  model_options.poll_func = poll_func;
  for (i = 0; i < n; i++) {
    shards->states[i].sessions = g_hash_table_new_full (g_str_hash,
        g_str_equal, g_free, (GDestroyNotify) model_side_free);
    shards->probes[i].session_updated = on_session_updated;
    shards->probes[i].input_audio = on_input_audio;
    shards->probes[i].output_audio = on_output_audio;
    shards->probes[i].user_data = &shards->states[i];
    model_options.probe = &shards->probes[i];
    shards->models[i] = local_model_new (&model_options, error);
    if (shards->models[i] == NULL)
      return FALSE;
    /* the others join the first one's port */
    model_options.port = local_model_get_port (shards->models[0]);
  }
  return TRUE;
}

/* Stops every model (joining their threads) and moves every session into
 * @state. */
static void
model_shards_stop (ModelShards * shards, ModelProbeState * state)
{
  guint i;

  for (i = 0; i < shards->n; i++)
    g_clear_pointer (&shards->models[i], local_model_free);
  for (i = 0; i < shards->n; i++) {
    GHashTable *sessions = shards->states[i].sessions;
    GHashTableIter iter;
    gpointer id, side;

    if (sessions == NULL)
      continue;
    g_hash_table_iter_init (&iter, sessions);
    while (g_hash_table_iter_next (&iter, &id, &side)) {
      g_hash_table_iter_steal (&iter);
      g_hash_table_insert (state->sessions, id, side);
    }
    g_hash_table_unref (sessions);
  }
  g_free (shards->models);
  g_free (shards->states);
  g_free (shards->probes);
  memset (shards, 0, sizeof (*shards));
}

guint
bench_step_auto_threads (guint calls)
{
  guint n = (calls + BENCH_CALLS_PER_THREAD - 1) / BENCH_CALLS_PER_THREAD;

  return CLAMP (n, 1, g_get_num_processors ());
}

gboolean
bench_step_run (const BenchStepOptions * o, BenchStepResult * r,
    GError ** error)
{
  ModelProbeState state;
  ModelShards shards;
  BenchLauncherOptions launcher_options = { 0, };
  BenchLauncher *launcher;
  BenchCallers *callers;
  BenchCallerLayout layout;
  BenchProcSample idle0, idle1, w0, w1, self0 = { 0, }, self1 = { 0, };
  BenchLauncherLog log;
  gchar *model_url, *call_url;
  gint64 origin, window_start, window_end, started_us;
  guint duration_ms;
  GPid pid;
  gboolean sampled;
  guint n_threads;

  memset (r, 0, sizeof (*r));
  r->calls = o->calls;
  n_threads = o->harness_threads > 0 ? o->harness_threads :
      bench_step_auto_threads (o->calls);
  r->harness_threads = n_threads;
  started_us = g_get_monotonic_time ();
  state.sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) model_side_free);

  if (!model_shards_start (&shards, n_threads,
          o->harness_poll ? NULL : bench_epoll_poll, error)) {
    model_shards_stop (&shards, &state);
    g_hash_table_unref (state.sessions);
    return FALSE;
  }
  model_url = local_model_get_url (shards.models[0]);

  launcher_options.program = o->launcher;
  launcher_options.plugin_path = o->plugin_path;
  launcher_options.pipeline = o->pipeline;
  launcher_options.realtime_url = model_url;
  launcher_options.max_calls = o->calls;
  launcher_options.log_path = o->launcher_log;
  launcher = bench_launcher_start (&launcher_options, 20000, error);
  g_free (model_url);
  if (launcher == NULL) {
    model_shards_stop (&shards, &state);
    g_hash_table_unref (state.sessions);
    return FALSE;
  }
  pid = bench_launcher_get_pid (launcher);

  /* the idle launcher: what 0 calls cost */
  sleep_until (g_get_monotonic_time () + o->baseline_ms / 2 * MS);
  sampled = bench_proc_sample (pid, &idle0);
  sleep_until (idle0.at_us + o->baseline_ms * MS);
  sampled = sampled && bench_proc_sample (pid, &idle1);

  /* every call's audio covers the ramp, the settling and the window */
  duration_ms = o->calls * o->stagger_ms + o->settle_ms + o->window_ms + 1500;
  bench_caller_layout_init (&layout, duration_ms);
  call_url = g_strdup_printf ("ws://127.0.0.1:%u/call",
      bench_launcher_get_port (launcher));
  callers = bench_callers_start (call_url, o->calls, o->stagger_ms,
      o->frame_phases, &layout, n_threads,
      o->harness_poll ? NULL : bench_epoll_poll, NULL);
  g_free (call_url);
  origin = bench_callers_get_origin (callers);
  window_start = origin + (gint64) (o->calls * o->stagger_ms + o->settle_ms) *
      MS;
  window_end = window_start + (gint64) o->window_ms * MS;

  sleep_until (window_start);
  sampled = sampled && bench_proc_sample (pid, &w0);
  bench_proc_sample (getpid (), &self0);
  sleep_until (window_end);
  sampled = sampled && bench_proc_sample (pid, &w1);
  bench_proc_sample (getpid (), &self1);
  if (sampled)
    cost (o, &idle0, &idle1, &w0, &w1, r);
  if (self1.at_us > self0.at_us)
    r->bench_cpu_pct = 100 * (self1.cpu_s - self0.cpu_s) /
        ((self1.at_us - self0.at_us) / 1e6);

  bench_callers_wait (callers, origin + (duration_ms + 60000) * MS);
  bench_callers_stop (callers);

  r->launcher_died = !bench_launcher_is_running (launcher);
  bench_launcher_get_log (launcher, &log);
  r->launcher_calls_failed = log.calls_failed;
  r->launcher_errors = log.errors;
  r->launcher_first_error = g_steal_pointer (&log.first_error);
  bench_launcher_log_clear (&log);
  bench_launcher_stop (launcher, 20000, &r->launcher_exit_status);
  /* joins the models' threads: their hooks' data is ours from here on */
  model_shards_stop (&shards, &state);

  measure (o, callers, &state, window_start, window_end, r);
  bench_callers_free (callers);
  g_hash_table_unref (state.sessions);
  r->duration_s = (g_get_monotonic_time () - started_us) / 1e6;
  return TRUE;
}

void
bench_step_result_clear (BenchStepResult * r)
{
  g_clear_pointer (&r->first_failure, g_free);
  g_clear_pointer (&r->launcher_first_error, g_free);
}
