/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pool of loop threads the Realtime sessions share. One thread per
 * session cost a thread and a wake-up per frame per call; sessions on a
 * shared loop are served in the same poll round when they are busy at the
 * same time.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif


#include "gstopenairealtimeloop.h"

#define MAX_LOOPS 64

struct _GstOpenAIRealtimeLoop
{
  guint index;
  guint n_sessions;             /* pool lock */
  GThread *thread;
  GMainContext *context;
  GMainLoop *main_loop;
  GMutex start_lock;
  GCond start_cond;
  gboolean started;
};

static GMutex pool_lock;
static GstOpenAIRealtimeLoop *pool[MAX_LOOPS];

static guint
pool_size (void)
{
  const gchar *env = g_getenv (GST_OPENAI_REALTIME_LOOPS_ENV);
  guint n = g_get_num_processors ();

  if (env && *env) {
    gint64 v = g_ascii_strtoll (env, NULL, 10);
    if (v > 0)
      n = (guint) v;
  }
  return CLAMP (n, 1, MAX_LOOPS);
}

static gboolean
loop_started_cb (gpointer data)
{
  GstOpenAIRealtimeLoop *loop = data;

  g_mutex_lock (&loop->start_lock);
  loop->started = TRUE;
  g_cond_broadcast (&loop->start_cond);
  g_mutex_unlock (&loop->start_lock);
  return G_SOURCE_REMOVE;
}

static void
loop_free (GstOpenAIRealtimeLoop * loop)
{
  g_main_loop_unref (loop->main_loop);
  g_main_context_unref (loop->context);
  g_mutex_clear (&loop->start_lock);
  g_cond_clear (&loop->start_cond);
  g_free (loop);
}

static gpointer
loop_thread (gpointer data)
{
  GstOpenAIRealtimeLoop *loop = data;
  GSource *idle;
  gboolean detached;

  g_main_context_push_thread_default (loop->context);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, loop_started_cb, loop, NULL);
  g_source_attach (idle, loop->context);
  g_source_unref (idle);

  g_main_loop_run (loop->main_loop);

  /* what sessions left behind (libsoup's closing sockets) finishes here */
  while (g_main_context_pending (loop->context))
    g_main_context_iteration (loop->context, FALSE);
  g_main_context_pop_thread_default (loop->context);

  g_mutex_lock (&pool_lock);
  detached = loop->thread == NULL;
  g_mutex_unlock (&pool_lock);
  /* released from this very thread: nobody joins, so clean up here */
  if (detached)
    loop_free (loop);
  return NULL;
}

static GstOpenAIRealtimeLoop *
loop_new (guint index)
{
  GstOpenAIRealtimeLoop *loop = g_new0 (GstOpenAIRealtimeLoop, 1);
  gchar *name = g_strdup_printf ("rt-loop:%u", index);

  loop->index = index;
  loop->context = g_main_context_new ();
  loop->main_loop = g_main_loop_new (loop->context, FALSE);
  g_mutex_init (&loop->start_lock);
  g_cond_init (&loop->start_cond);
  loop->thread = g_thread_new (name, loop_thread, loop);
  g_free (name);
  /* sessions may invoke on the context at once: it must be owned by the
   * running loop by then, or GLib would run their calls in place */
  g_mutex_lock (&loop->start_lock);
  while (!loop->started)
    g_cond_wait (&loop->start_cond, &loop->start_lock);
  g_mutex_unlock (&loop->start_lock);
  return loop;
}

GstOpenAIRealtimeLoop *
gst_openai_realtime_loop_acquire (void)
{
  GstOpenAIRealtimeLoop *loop;
  guint i, n = pool_size (), best = 0;

  g_mutex_lock (&pool_lock);
  for (i = 0; i < n; i++) {
    guint load = pool[i] ? pool[i]->n_sessions : 0;
    guint best_load = pool[best] ? pool[best]->n_sessions : 0;
    if (load < best_load)
      best = i;
  }
  /* started under the pool lock: a concurrent release cannot end it */
  if (pool[best] == NULL)
    pool[best] = loop_new (best);
  loop = pool[best];
  loop->n_sessions++;
  g_mutex_unlock (&pool_lock);
  return loop;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
gst_openai_realtime_loop_release (GstOpenAIRealtimeLoop * loop)
{
  GThread *thread = NULL;
  gboolean last;

  g_mutex_lock (&pool_lock);
  last = (--loop->n_sessions == 0);
  if (last) {
    pool[loop->index] = NULL;
    thread = loop->thread;
    if (thread == g_thread_self ())
      loop->thread = NULL;
  }
  g_mutex_unlock (&pool_lock);
  if (!last)
    return;

  g_main_context_invoke (loop->context, quit_cb, loop->main_loop);
  if (thread == g_thread_self ()) {
    g_thread_unref (thread);
    return;
  }
  g_thread_join (thread);
  loop_free (loop);
}

GMainContext *
gst_openai_realtime_loop_get_context (GstOpenAIRealtimeLoop * loop)
{
  return loop->context;
}

GThread *
gst_openai_realtime_loop_get_thread (GstOpenAIRealtimeLoop * loop)
{
  return loop->thread;
}
