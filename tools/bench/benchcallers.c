/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The benchmark's callers; see benchcallers.h. Like realtime-bridge-call,
 * one ticker on an absolute grid (10 ms, finer when the calls' frames are
 * spread over several phases) drives every call of a loop thread
 * (a shard), whose GMainContext is pushed before any libsoup object is
 * made; the shards share nothing but the start grid and the results.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include <libsoup/soup.h>

#include "benchcallers.h"
#include "callsimaudio.h"
#include "callsimcall.h"
#include "callsimscript.h"

#define MS G_TIME_SPAN_MILLISECOND
/* silence before a sound for it to count as an onset (8 kHz samples) */
#define HEARD_MIN_QUIET (100 * 8)
#define HEARD_GAP_US (100 * MS)
/* how long the callers may take to hang up once asked to */
#define HANG_UP_TIMEOUT_US (10 * G_TIME_SPAN_SECOND)

/* A share of the calls (call i on shard i % n_shards), on its own loop
 * thread with its own GMainContext, SoupSession and ticker. */
typedef struct
{
  BenchCallers *owner;
  guint id;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupSession *session;
  GSource *ticker;
  CallsimReport *report;        /* its generator is not thread-safe */
  GPtrArray *calls;             /* CallsimCall, calls id, id + n_shards, ... */
  guint n_started;
  gint64 next_tick_us;          /* when the next tick is due */
  GArray *ticks;                /* TickLag: how late each tick ran */
} CallerShard;

typedef struct
{
  gint64 due_us;
  gint64 lag_us;
} TickLag;

struct _BenchCallers
{
  guint n;
  gint64 stagger_us;
  gint64 tick_us;               /* the tickers' period */
  BenchCallerLayout layout;
  gchar *url;
  gchar *account_sid;
  gchar **no_params;
  FILE *summaries;

  CallsimProbe probe;
  CallsimConfig *configs;       /* one per call: each says its own code */
  BenchCaller *callers;
  CallerShard *shards;
  guint n_shards;
  gboolean running;

  GMutex lock;
  GCond cond;
  guint n_ready;
  gboolean go;
  gint64 origin_us;
  guint n_finished;
};

/* ---- measurement hooks (callers' thread) --------------------------- */

static void
on_started (guint index, gint64 sent_us, gpointer user_data)
{
  BenchCallers *self = user_data;

  self->callers[index - 1].start_sent_us = sent_us;
}

static void
on_media_sent (guint index, gint64 frame, const guint8 * mulaw,
    gint64 sent_us, gpointer user_data)
{
  BenchCallers *self = user_data;
  BenchCaller *c = &self->callers[index - 1];
  guint burst;

  c->frames_sent = MAX (c->frames_sent, frame + 1);
  if (bench_caller_layout_burst_at (&self->layout, frame, &burst)
      && burst < c->burst_sent_us->len)
    g_array_index (c->burst_sent_us, gint64, burst) = sent_us;
}

static void
on_media_received (guint index, const guint8 * mulaw, gsize len,
    gint64 arrival_us, gpointer user_data)
{
  BenchCallers *self = user_data;
  BenchCaller *c = &self->callers[index - 1];
  gint16 linear[BENCH_FRAME_SAMPLES_8K];
  gsize done = 0;

  /* the bridge sends nothing between answers: a pause in arrivals is
   * silence the caller hears */
  if (c->last_arrival_us > 0 && arrival_us - c->last_arrival_us >= HEARD_GAP_US)
    c->heard_onset.quiet_run = MAX (c->heard_onset.quiet_run, HEARD_MIN_QUIET);
  c->last_arrival_us = arrival_us;
  while (done < len) {
    guint n = MIN (len - done, G_N_ELEMENTS (linear)), i, found;

    for (i = 0; i < n; i++)
      linear[i] = callsim_mulaw_to_linear (mulaw[done + i]);
    found = bench_onset_detector_push (&c->heard_onset, linear, n, NULL);
    /* every onset in one message arrived at the same time */
    for (i = 0; i < found; i++)
      g_array_append_val (c->heard_onsets_us, arrival_us);
    done += n;
  }
  c->heard_samples += len;
}

/* ---- the loop -------------------------------------------------------- */

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_call_finished (CallsimCall * call, gpointer user_data)
{
  BenchCallers *self = user_data;
  const CallsimStats *stats = callsim_call_get_stats (call);
  BenchCaller *c = &self->callers[stats->index - 1];

  c->finished = TRUE;
  c->ok = stats->failures->len == 0;
  if (!c->ok)
    c->failure = g_strdup (g_ptr_array_index (stats->failures, 0));
  g_mutex_lock (&self->lock);
  self->n_finished++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
start_due_calls (CallerShard * shard, gint64 now)
{
  BenchCallers *self = shard->owner;

  while (shard->n_started < shard->calls->len) {
    guint number = shard->n_started * self->n_shards + shard->id;
    CallsimCall *call;

    if (now < self->origin_us + number * self->stagger_us)
      break;
    call = g_ptr_array_index (shard->calls, shard->n_started);
    shard->n_started++;
    callsim_call_start (call, shard->session, self->origin_us);
  }
}

/* One wake-up per tick serves every call of the shard that is due. */
static gboolean
on_tick (gpointer user_data)
{
  CallerShard *shard = user_data;
  gint64 origin = shard->owner->origin_us;
  gint64 now = g_get_monotonic_time ();
  TickLag lag = { shard->next_tick_us, now - shard->next_tick_us };
  guint i;

  /* whether the harness keeps real time: a tick runs late when the
   * thread is busy (or starved) */
  g_array_append_val (shard->ticks, lag);
  start_due_calls (shard, now);
  for (i = 0; i < shard->n_started; i++)
    callsim_call_tick (g_ptr_array_index (shard->calls, i), now);
  /* absolute schedule: a late tick does not push the next ones back */
  shard->next_tick_us = origin +
      ((now - origin) / shard->owner->tick_us + 1) * shard->owner->tick_us;
  g_source_set_ready_time (shard->ticker, shard->next_tick_us);
  return G_SOURCE_CONTINUE;
}

static gboolean
ticker_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs ticker_funcs = {
  NULL, NULL, ticker_dispatch, NULL, NULL, NULL,
};

static gboolean
hang_up_all (gpointer user_data)
{
  CallerShard *shard = user_data;
  guint i;

  shard->n_started = shard->calls->len;
  for (i = 0; i < shard->calls->len; i++) {
    CallsimCall *call = g_ptr_array_index (shard->calls, i);

    if (!callsim_call_is_finished (call))
      callsim_call_hang_up (call);
  }
  return G_SOURCE_REMOVE;
}

static gpointer
run_shard (gpointer user_data)
{
  CallerShard *shard = user_data;
  BenchCallers *self = shard->owner;
  guint i, n_calls = (self->n - shard->id + self->n_shards - 1) /
      self->n_shards;

  g_main_context_push_thread_default (shard->context);
  shard->session = soup_session_new_with_options ("user-agent",
      "Twilio.TmeWs/1.0", "max-conns", n_calls + 8, "max-conns-per-host",
      n_calls + 8, "timeout", 0, NULL);
  /* Twilio offers no permessage-deflate */
  soup_session_remove_feature_by_type (shard->session,
      SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);
  shard->calls = g_ptr_array_new_with_free_func ((GDestroyNotify)
      callsim_call_free);
  for (i = shard->id; i < self->n; i += self->n_shards)
    g_ptr_array_add (shard->calls, callsim_call_new (&self->configs[i],
            i + 1, NULL, shard->report, on_call_finished, self));

  /* every shard counts from the same origin, set once all are ready */
  g_mutex_lock (&self->lock);
  self->n_ready++;
  g_cond_broadcast (&self->cond);
  while (!self->go)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  shard->ticker = g_source_new (&ticker_funcs, sizeof (GSource));
  g_source_set_priority (shard->ticker, G_PRIORITY_HIGH);
  g_source_set_callback (shard->ticker, on_tick, shard, NULL);
  shard->next_tick_us = self->origin_us;
  g_source_set_ready_time (shard->ticker, self->origin_us);
  g_source_attach (shard->ticker, shard->context);
  g_main_loop_run (shard->loop);

  g_source_destroy (shard->ticker);
  g_source_unref (shard->ticker);
  g_ptr_array_unref (shard->calls);
  shard->calls = NULL;
  soup_session_abort (shard->session);
  g_object_unref (shard->session);
  while (g_main_context_iteration (shard->context, FALSE));
  g_main_context_pop_thread_default (shard->context);
  return NULL;
}

BenchCallers *
bench_callers_start (const gchar * url, guint n_calls, guint stagger_ms,
    guint frame_phases, const BenchCallerLayout * layout, guint n_threads,
    GPollFunc poll_func, const gchar * summaries)
{
  gint64 phase_us;

  BenchCallers *self = g_new0 (BenchCallers, 1);
  guint i, n_bursts;

  self->n = n_calls;
  self->stagger_us = stagger_ms * MS;
  g_return_val_if_fail (frame_phases > 0
      && BENCH_FRAME_MS % frame_phases == 0, NULL);
  phase_us = BENCH_FRAME_MS * MS / frame_phases;
  self->tick_us = MIN (CALLSIM_TICK_US, phase_us);
  self->layout = *layout;
  self->url = g_strdup (url);
  self->account_sid = callsim_make_sid ("AC");
  self->no_params = g_new0 (gchar *, 1);
  self->summaries = fopen (summaries ? summaries : "/dev/null", "w");
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);

  self->probe.started = on_started;
  self->probe.media_sent = on_media_sent;
  self->probe.media_received = on_media_received;
  self->probe.user_data = self;

  n_bursts = layout->total_frames > layout->first_burst_frame ?
      (layout->total_frames - layout->first_burst_frame +
      layout->burst_period_frames - 1) / layout->burst_period_frames : 0;
  self->configs = g_new0 (CallsimConfig, n_calls);
  self->callers = g_new0 (BenchCaller, n_calls);
  for (i = 0; i < n_calls; i++) {
    CallsimConfig *c = &self->configs[i];
    BenchCaller *b = &self->callers[i];
    gint64 duration_ms = (gint64) layout->total_frames * BENCH_FRAME_MS;

    c->url = self->url;
    c->signed_url = self->url;
    c->account_sid = self->account_sid;
    c->param_names = self->no_params;
    c->param_values = self->no_params;
    c->utterance = bench_caller_audio_new (layout, i + 1);
    c->silence_before_ms = 0;
    c->silence_after_ms = 500;
    c->first_timestamp_ms = 150;
    c->reply_timeout_ms = 10000;
    c->connect_timeout_ms = 30000;
    c->max_duration_ms = duration_ms + 60000;
    c->expect_audio = TRUE;
    c->probe = &self->probe;
    c->frame_phase_us = (i % frame_phases) * phase_us;

    b->number = i + 1;
    b->burst_sent_us = g_array_new (FALSE, TRUE, sizeof (gint64));
    g_array_set_size (b->burst_sent_us, n_bursts);
    bench_onset_detector_init (&b->heard_onset, HEARD_MIN_QUIET);
    b->heard_onsets_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  }

  /* no idle shard: at least one call each */
  self->n_shards = CLAMP (n_threads, 1, MAX (n_calls, 1));
  self->shards = g_new0 (CallerShard, self->n_shards);
  for (i = 0; i < self->n_shards; i++) {
    CallerShard *shard = &self->shards[i];
    gchar *name = g_strdup_printf ("bench-callers%u", i);

    shard->owner = self;
    shard->id = i;
    shard->ticks = g_array_new (FALSE, FALSE, sizeof (TickLag));
    shard->report = callsim_report_new (self->summaries ? self->summaries :
        stderr, TRUE, FALSE, NULL);
    shard->context = g_main_context_new ();
    if (poll_func)
      g_main_context_set_poll_func (shard->context, poll_func);
    shard->loop = g_main_loop_new (shard->context, FALSE);
    shard->thread = g_thread_new (name, run_shard, shard);
    g_free (name);
  }
  g_mutex_lock (&self->lock);
  while (self->n_ready < self->n_shards)
    g_cond_wait (&self->cond, &self->lock);
  self->origin_us = g_get_monotonic_time ();
  self->go = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  self->running = TRUE;
  return self;
}

gint64
bench_callers_get_origin (BenchCallers * self)
{
  return self->origin_us;
}

gboolean
bench_callers_wait (BenchCallers * self, gint64 deadline_us)
{
  gboolean all;

  g_mutex_lock (&self->lock);
  while (self->n_finished < self->n)
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline_us))
      break;
  all = self->n_finished >= self->n;
  g_mutex_unlock (&self->lock);
  return all;
}

guint
bench_callers_get_n (BenchCallers * self)
{
  return self->n;
}

BenchCaller *
bench_callers_get (BenchCallers * self, guint index)
{
  g_return_val_if_fail (index < self->n, NULL);
  return &self->callers[index];
}

void
bench_callers_get_tick_lags (BenchCallers * self, gint64 from_us,
    gint64 to_us, GArray * lags_ms)
{
  guint i, k;

  g_return_if_fail (!self->running);
  for (i = 0; i < self->n_shards; i++) {
    GArray *ticks = self->shards[i].ticks;

    for (k = 0; k < ticks->len; k++) {
      TickLag *t = &g_array_index (ticks, TickLag, k);
      gdouble ms = t->lag_us / 1000.0;

      if (t->due_us >= from_us && t->due_us < to_us)
        g_array_append_val (lags_ms, ms);
    }
  }
}

void
bench_callers_stop (BenchCallers * self)
{
  guint i;

  if (!self->running)
    return;
  if (!bench_callers_wait (self, g_get_monotonic_time ())) {
    for (i = 0; i < self->n_shards; i++)
      g_main_context_invoke (self->shards[i].context, hang_up_all,
          &self->shards[i]);
    bench_callers_wait (self, g_get_monotonic_time () + HANG_UP_TIMEOUT_US);
  }
  for (i = 0; i < self->n_shards; i++) {
    g_main_context_invoke (self->shards[i].context, quit_loop,
        self->shards[i].loop);
    g_thread_join (self->shards[i].thread);
    self->shards[i].thread = NULL;
  }
  self->running = FALSE;
}

void
bench_callers_free (BenchCallers * self)
{
  guint i;

  bench_callers_stop (self);
  for (i = 0; i < self->n_shards; i++) {
    g_main_loop_unref (self->shards[i].loop);
    g_main_context_unref (self->shards[i].context);
    callsim_report_free (self->shards[i].report);
    g_array_unref (self->shards[i].ticks);
  }
  g_free (self->shards);
  if (self->summaries)
    fclose (self->summaries);
  for (i = 0; i < self->n; i++) {
    g_bytes_unref (self->configs[i].utterance);
    g_array_unref (self->callers[i].burst_sent_us);
    g_array_unref (self->callers[i].heard_onsets_us);
    g_free (self->callers[i].failure);
  }
  g_free (self->configs);
  g_free (self->callers);
  g_free (self->no_params);
  g_free (self->account_sid);
  g_free (self->url);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}
