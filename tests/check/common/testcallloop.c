/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>

#include "testcallloop.h"

struct _TestCallLoop
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GSourceFunc setup;
  gpointer setup_data;
  GMutex lock;
  GCond cond;
  gboolean running;
};

static gboolean
loop_started_cb (gpointer data)
{
  TestCallLoop *loop = data;

  g_mutex_lock (&loop->lock);
  loop->running = TRUE;
  g_cond_broadcast (&loop->cond);
  g_mutex_unlock (&loop->lock);
  return G_SOURCE_REMOVE;
}

static gpointer
call_loop_thread (gpointer data)
{
  TestCallLoop *loop = data;
  GSource *idle = g_idle_source_new ();

  /* as the launcher does: the context is this thread's for its lifetime */
  g_main_context_push_thread_default (loop->context);
  if (loop->setup)
    loop->setup (loop->setup_data);
  g_source_set_callback (idle, loop_started_cb, loop, NULL);
  g_source_attach (idle, loop->context);
  g_source_unref (idle);
  g_main_loop_run (loop->loop);
  /* what libsoup and the elements left (closing sockets) finishes here */
  while (g_main_context_pending (loop->context))
    g_main_context_iteration (loop->context, FALSE);
  g_main_context_pop_thread_default (loop->context);
  return NULL;
}

TestCallLoop *
test_call_loop_start (GSourceFunc setup, gpointer data)
{
  TestCallLoop *loop = g_new0 (TestCallLoop, 1);

  loop->context = g_main_context_new ();
  loop->loop = g_main_loop_new (loop->context, FALSE);
  loop->setup = setup;
  loop->setup_data = data;
  g_mutex_init (&loop->lock);
  g_cond_init (&loop->cond);
  loop->thread = g_thread_new ("call-loop", call_loop_thread, loop);
  g_mutex_lock (&loop->lock);
  while (!loop->running)
    g_cond_wait (&loop->cond, &loop->lock);
  g_mutex_unlock (&loop->lock);
  return loop;
}

void
test_call_loop_stop (TestCallLoop * loop, GSourceFunc teardown, gpointer data)
{
  if (teardown)
    test_call_loop_run (loop, teardown, data, 10.0);
  g_main_loop_quit (loop->loop);
  g_thread_join (loop->thread);
  g_main_loop_unref (loop->loop);
  g_main_context_unref (loop->context);
  g_mutex_clear (&loop->lock);
  g_cond_clear (&loop->cond);
  g_free (loop);
}

GMainContext *
test_call_loop_get_context (TestCallLoop * loop)
{
  return loop->context;
}

GThread *
test_call_loop_get_thread (TestCallLoop * loop)
{
  return loop->thread;
}

typedef struct
{
  TestCallLoop *loop;
  GSourceFunc func;
  gpointer data;
  gboolean done;
} LoopCall;

static gboolean
loop_call_cb (gpointer data)
{
  LoopCall *call = data;

  fail_unless (g_main_context_is_owner (call->loop->context));
  call->func (call->data);
  g_mutex_lock (&call->loop->lock);
  call->done = TRUE;
  g_cond_broadcast (&call->loop->cond);
  g_mutex_unlock (&call->loop->lock);
  return G_SOURCE_REMOVE;
}

void
test_call_loop_run (TestCallLoop * loop, GSourceFunc func, gpointer data,
    gdouble timeout_s)
{
  LoopCall call = { loop, func, data, FALSE };
  gint64 deadline = g_get_monotonic_time () +
      (gint64) (timeout_s * G_TIME_SPAN_SECOND);
  gboolean in_time = TRUE;

  g_main_context_invoke (loop->context, loop_call_cb, &call);
  g_mutex_lock (&loop->lock);
  while (!call.done && in_time)
    in_time = g_cond_wait_until (&loop->cond, &loop->lock, deadline);
  g_mutex_unlock (&loop->lock);
  fail_unless (call.done, "the call loop did not run the call (deadlock?)");
}

void
test_call_loop_set_context (TestCallLoop * loop, GstElement * element)
{
  GstContext *context = gst_context_new (TEST_LOOP_CONTEXT_TYPE, TRUE);

  gst_structure_set (gst_context_writable_structure (context), "main-context",
      G_TYPE_MAIN_CONTEXT, loop->context, NULL);
  gst_element_set_context (element, context);
  gst_context_unref (context);
}
