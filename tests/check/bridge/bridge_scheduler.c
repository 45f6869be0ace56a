/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the call scheduler (tools/bridge/bridge-scheduler.h): one
 * thread running many GMainContexts over one epoll set. This program: how
 * the contexts run (fd readiness, a shared fd, timeouts, invokes, many
 * contexts, attaching across contexts); bridge_scheduler_lifecycle.c: fd
 * number reuse, retire, free. Every callback records what it saw under one
 * lock and signals one condition; the test thread waits on that condition
 * with a generous deadline (schedulertestutil.h).
 */
#include <gst/check/gstcheck.h>
#include <glib-unix.h>
#include <unistd.h>
#include <string.h>

#include "schedulertestutil.h"

/* ---- 1. fd readiness --------------------------------------------------- */

GST_START_TEST (test_fd_readiness)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *context = bridge_scheduler_context_new ();
  FdWatch w = { 0, };
  FdWatch out = { 0, };
  gint pair[2];

  make_socketpair (pair);
  fd_watch_attach (&w, context, pair[0], G_IO_IN);
  bridge_scheduler_add (sched, context);
  fail_unless_equals_int (bridge_scheduler_get_n_contexts (sched), 1);

  /* Nothing to read: the callback must not run. The barrier makes sure the
   * scheduler had the chance to run it wrongly. */
  barrier (context);
  lock_state ();
  fail_unless_equals_int (w.fired, 0);
  unlock_state ();

  write_byte (pair[1], 'a');
  lock_state ();
  WAIT_LOCKED (w.fired >= 1);
  fail_unless_equals_int (w.fired, 1);
  fail_unless_equals_int (w.bytes, 1);
  fail_unless (w.conditions & G_IO_IN);
  fail_unless (w.thread != NULL && w.thread != g_thread_self (),
      "callback ran on the test thread");
  fail_unless (w.thread_default == context,
      "thread-default context during dispatch is %p, not %p",
      w.thread_default, context);
  fail_unless (w.owner, "the scheduler thread does not own the context");
  unlock_state ();

  /* A second write wakes it again (the registration survived). */
  write_byte (pair[1], 'b');
  lock_state ();
  WAIT_LOCKED (w.fired >= 2);
  fail_unless_equals_int (w.fired, 2);
  fail_unless_equals_int (w.bytes, 2);
  unlock_state ();

  /* Writable: G_IO_OUT is reported as such. */
  out.remove_after_fire = TRUE;
  fd_watch_attach (&out, context, pair[1], G_IO_OUT);
  lock_state ();
  WAIT_LOCKED (out.fired >= 1);
  fail_unless_equals_int (out.fired, 1);
  fail_unless (out.conditions & G_IO_OUT);
  fail_unless (out.thread_default == context && out.owner);
  unlock_state ();

  /* The peer hangs up: reported as G_IO_HUP, as poll() would. */
  lock_state ();
  w.remove_after_fire = TRUE;
  unlock_state ();
  close (pair[1]);
  lock_state ();
  WAIT_LOCKED (w.fired >= 3);
  fail_unless_equals_int (w.fired, 3);
  fail_unless (w.conditions & G_IO_HUP, "conditions 0x%x without G_IO_HUP",
      w.conditions);
  unlock_state ();

  bridge_scheduler_free (sched);
  fd_watch_clear (&w);
  fd_watch_clear (&out);
  close (pair[0]);
  g_main_context_unref (context);
}

GST_END_TEST;

/* Two sources on one file descriptor, in one context and in two contexts:
 * an epoll set holds a file descriptor once, GLib allows it many times. */
GST_START_TEST (test_shared_fd)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *a = bridge_scheduler_context_new ();
  GMainContext *b = bridge_scheduler_context_new ();
  FdWatch w1 = { 0, }, w2 = { 0, }, w3 = { 0, };
  FdWatch wa = { 0, }, wb = { 0, };
  gint pair[2], pair2[2];
  guint round;

  make_socketpair (pair);
  make_socketpair (pair2);
  bridge_scheduler_add (sched, a);
  bridge_scheduler_add (sched, b);
  w1.remove_after_fire = w2.remove_after_fire = w3.remove_after_fire = TRUE;
  w1.no_drain = w2.no_drain = w3.no_drain = TRUE;
  /* None of them reads: each sees the byte, then removes itself. */
  w1.source = g_unix_fd_source_new (pair[0], G_IO_IN);
  w2.source = g_unix_fd_source_new (pair[0], G_IO_IN);
  w3.source = g_unix_fd_source_new (pair[0], G_IO_IN);
  w1.context = w2.context = a;
  w3.context = b;
  g_source_set_callback (w1.source, G_SOURCE_FUNC (fd_watch_cb), &w1, NULL);
  g_source_set_callback (w2.source, G_SOURCE_FUNC (fd_watch_cb), &w2, NULL);
  g_source_set_callback (w3.source, G_SOURCE_FUNC (fd_watch_cb), &w3, NULL);
  g_source_attach (w1.source, a);
  g_source_attach (w2.source, a);
  g_source_attach (w3.source, b);

  barrier (a);
  barrier (b);
  write_byte (pair[1], 'x');
  lock_state ();
  WAIT_LOCKED (w1.fired && w2.fired && w3.fired);
  fail_unless_equals_int (w1.fired, 1);
  fail_unless_equals_int (w2.fired, 1);
  fail_unless_equals_int (w3.fired, 1);
  fail_if (w1.wrong_context || w2.wrong_context || w3.wrong_context);
  unlock_state ();

  /* Two contexts keep watching one fd; only B reads. Each byte is seen by
   * both in the round that found it, whichever runs first. */
  fd_watch_attach (&wa, a, pair2[0], G_IO_IN);
  fd_watch_attach (&wb, b, pair2[0], G_IO_IN);
  wa.no_drain = TRUE;
  barrier (a);
  barrier (b);
  for (round = 1; round <= 3; round++) {
    write_byte (pair2[1], 'y');
    lock_state ();
    WAIT_LOCKED (wa.fired >= round && wb.fired >= round);
    unlock_state ();
    barrier (a);
    barrier (b);
    lock_state ();
    fail_unless (wa.fired == round && wb.fired == round,
        "round %u: the shared fd's sources fired %u (A) and %u (B) times",
        round, wa.fired, wb.fired);
    fail_unless_equals_int (wb.bytes, round);
    fail_if (wa.wrong_context || wb.wrong_context);
    unlock_state ();
  }

  bridge_scheduler_free (sched);
  fd_watch_clear (&w1);
  fd_watch_clear (&w2);
  fd_watch_clear (&w3);
  fd_watch_clear (&wa);
  fd_watch_clear (&wb);
  close (pair[0]);
  close (pair[1]);
  close (pair2[0]);
  close (pair2[1]);
  g_main_context_unref (a);
  g_main_context_unref (b);
}

GST_END_TEST;

/* ---- 2. timeouts ------------------------------------------------------- */

GST_START_TEST (test_timeouts)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *far = bridge_scheduler_context_new ();
  GMainContext *once = bridge_scheduler_context_new ();
  GMainContext *repeat = bridge_scheduler_context_new ();
  Ticker far_t = { 0, }, once_t = { 0, }, repeat_t = { 0, };
  GSource *far_s, *once_s, *repeat_s;
  gint64 start;

  /* A context whose only timeout is far away: the scheduler must wait for
   * the nearest timeout of all its contexts, not the first one's. */
  far_s = ticker_attach (&far_t, far, 600000, 1);
  bridge_scheduler_add (sched, far);
  barrier (far);

  start = g_get_monotonic_time ();
  once_s = ticker_attach (&once_t, once, 30, 1);
  bridge_scheduler_add (sched, once);
  lock_state ();
  WAIT_LOCKED (once_t.fired >= 1);
  fail_unless_equals_int (once_t.fired, 1);
  fail_unless (once_t.last_fired_at - start >= 30 * 1000,
      "30 ms timeout fired after %" G_GINT64_FORMAT " us",
      once_t.last_fired_at - start);
  fail_unless (once_t.thread != g_thread_self ());
  fail_if (once_t.wrong_context);
  unlock_state ();

  start = g_get_monotonic_time ();
  repeat_s = ticker_attach (&repeat_t, repeat, 10, 5);
  bridge_scheduler_add (sched, repeat);
  lock_state ();
  WAIT_LOCKED (repeat_t.fired >= 5);
  fail_unless_equals_int (repeat_t.fired, 5);
  fail_unless (repeat_t.last_fired_at - start >= 5 * 10 * 1000,
      "5 x 10 ms timeouts done after %" G_GINT64_FORMAT " us",
      repeat_t.last_fired_at - start);
  fail_if (repeat_t.wrong_context);
  unlock_state ();

  /* Removed after the 5th: no 6th. */
  barrier (repeat);
  lock_state ();
  fail_unless_equals_int (repeat_t.fired, 5);
  fail_unless_equals_int (far_t.fired, 0);
  unlock_state ();
  fail_unless_equals_int (bridge_scheduler_get_n_contexts (sched), 3);

  bridge_scheduler_free (sched);
  g_source_destroy (far_s);
  g_source_unref (far_s);
  g_source_unref (once_s);
  g_source_unref (repeat_s);
  g_main_context_unref (far);
  g_main_context_unref (once);
  g_main_context_unref (repeat);
}

GST_END_TEST;

/* ---- 3. cross-thread wake-up ------------------------------------------- */

typedef struct
{
  BridgeScheduler *sched;
  GMainContext *other;
  gboolean done;
} AddFromCallback;

static gboolean
add_from_callback_cb (gpointer user_data)
{
  AddFromCallback *a = user_data;

  bridge_scheduler_add (a->sched, a->other);
  lock_state ();
  a->done = TRUE;
  signal_locked ();
  unlock_state ();
  return G_SOURCE_REMOVE;
}

GST_START_TEST (test_invoke)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *context = bridge_scheduler_context_new ();
  GMainContext *other = bridge_scheduler_context_new ();
  AddFromCallback add = { sched, other, FALSE };
  GThread *sched_thread = NULL;
  guint i;

  /* The context has no source at all: only its wake-up can get the
   * invoke to run. Several times, so the wake-up is re-armed each time. */
  bridge_scheduler_add (sched, context);
  for (i = 0; i < 3; i++) {
    Invoked inv = { context, 0, NULL, NULL, FALSE };

    g_main_context_invoke (context, invoked_cb, &inv);
    lock_state ();
    WAIT_LOCKED (inv.ran >= 1);
    fail_unless_equals_int (inv.ran, 1);
    fail_unless (inv.thread != NULL && inv.thread != g_thread_self ());
    fail_unless (inv.thread_default == context);
    fail_unless (inv.owner);
    if (sched_thread == NULL)
      sched_thread = inv.thread;
    fail_unless (inv.thread == sched_thread, "invokes ran on two threads");
    unlock_state ();
  }

  /* bridge_scheduler_add is allowed from the scheduler's own thread. */
  g_main_context_invoke (context, add_from_callback_cb, &add);
  lock_state ();
  WAIT_LOCKED (add.done);
  fail_unless (add.done, "bridge_scheduler_add from a callback did not return");
  unlock_state ();
  fail_unless_equals_int (bridge_scheduler_get_n_contexts (sched), 2);
  {
    Invoked inv = { other, 0, NULL, NULL, FALSE };

    g_main_context_invoke (other, invoked_cb, &inv);
    lock_state ();
    WAIT_LOCKED (inv.ran >= 1);
    fail_unless_equals_int (inv.ran, 1);
    fail_unless (inv.thread == sched_thread);
    fail_unless (inv.thread_default == other && inv.owner);
    unlock_state ();
  }

  bridge_scheduler_free (sched);
  g_main_context_unref (context);
  g_main_context_unref (other);
}

GST_END_TEST;

/* ---- 4. many contexts -------------------------------------------------- */

#define N_MANY 50

static gboolean
all_fired_locked (FdWatch * w, guint n, guint times)
{
  guint i;

  for (i = 0; i < n; i++)
    if (w[i].fired < times)
      return FALSE;
  return TRUE;
}

GST_START_TEST (test_many_contexts)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *contexts[N_MANY];
  FdWatch watches[N_MANY];
  gint pairs[N_MANY][2];
  GThread *thread = NULL;
  guint i, round;

  memset (watches, 0, sizeof watches);
  for (i = 0; i < N_MANY; i++) {
    contexts[i] = bridge_scheduler_context_new ();
    make_socketpair (pairs[i]);
    /* Half get their source before they are added, half after: attaching
     * from the test thread must wake the scheduler to register the fd. */
    if (i % 2 == 0)
      fd_watch_attach (&watches[i], contexts[i], pairs[i][0], G_IO_IN);
    bridge_scheduler_add (sched, contexts[i]);
  }
  for (i = 1; i < N_MANY; i += 2)
    fd_watch_attach (&watches[i], contexts[i], pairs[i][0], G_IO_IN);
  fail_unless_equals_int (bridge_scheduler_get_n_contexts (sched), N_MANY);

  for (round = 1; round <= 3; round++) {
    for (i = 0; i < N_MANY; i++)
      write_byte (pairs[i][1], i);
    lock_state ();
    WAIT_LOCKED (all_fired_locked (watches, N_MANY, round));
    unlock_state ();
    for (i = 0; i < N_MANY; i++)
      barrier (contexts[i]);

    lock_state ();
    for (i = 0; i < N_MANY; i++) {
      fail_unless (watches[i].fired == round,
          "round %u: context %u fired %u times", round, i, watches[i].fired);
      fail_unless (watches[i].bytes == round,
          "round %u: context %u read %u bytes", round, i,
          (guint) watches[i].bytes);
      fail_if (watches[i].wrong_context,
          "context %u's callback ran with another thread-default context", i);
      if (thread == NULL)
        thread = watches[i].thread;
      fail_unless (watches[i].thread == thread,
          "context %u ran on another thread", i);
    }
    unlock_state ();
  }
  fail_unless (thread != g_thread_self ());

  bridge_scheduler_free (sched);
  for (i = 0; i < N_MANY; i++) {
    fd_watch_clear (&watches[i]);
    close (pairs[i][0]);
    close (pairs[i][1]);
    g_main_context_unref (contexts[i]);
  }
}

GST_END_TEST;


/* ---- 5. sources without a file descriptor ------------------------------ */

typedef struct
{
  GMainContext *target;
  Ticker timeout_ticker;
  Ticker idle_ticker;
  GSource *timeout;
  GSource *idle;
  gboolean attached;
} CrossAttach;

static gboolean
cross_attach_cb (gpointer user_data)
{
  CrossAttach *c = user_data;

  /* On the scheduler thread, which owns the target too: GLib signals no
   * wake-up for a source without a file descriptor attached by the owner,
   * as the owner prepares every context it runs before it polls. */
  c->timeout_ticker.context = c->target;
  c->timeout_ticker.limit = 1;
  c->timeout = g_timeout_source_new (10);
  g_source_set_callback (c->timeout, ticker_cb, &c->timeout_ticker, NULL);
  g_source_attach (c->timeout, c->target);
  c->idle_ticker.context = c->target;
  c->idle_ticker.limit = 1;
  c->idle = g_idle_source_new ();
  g_source_set_callback (c->idle, ticker_cb, &c->idle_ticker, NULL);
  g_source_attach (c->idle, c->target);

  lock_state ();
  c->attached = TRUE;
  signal_locked ();
  unlock_state ();
  return G_SOURCE_REMOVE;
}

/* A callback of one context attaches a timeout and an idle to another
 * context of the same scheduler: both run, on the other context. */
GST_START_TEST (test_attach_from_other_context)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *a = bridge_scheduler_context_new ();
  GMainContext *b = bridge_scheduler_context_new ();
  CrossAttach c;

  memset (&c, 0, sizeof c);
  c.target = b;
  bridge_scheduler_add (sched, a);
  bridge_scheduler_add (sched, b);
  barrier (a);
  barrier (b);

  g_main_context_invoke (a, cross_attach_cb, &c);
  lock_state ();
  WAIT_LOCKED (c.attached);
  fail_unless (c.attached);
  WAIT_LOCKED (c.timeout_ticker.fired && c.idle_ticker.fired);
  fail_unless (c.idle_ticker.fired == 1,
      "idle attached to context B from a callback of A never ran");
  fail_unless (c.timeout_ticker.fired == 1,
      "10 ms timeout attached to context B from a callback of A never fired");
  fail_if (c.idle_ticker.wrong_context || c.timeout_ticker.wrong_context);
  unlock_state ();

  bridge_scheduler_free (sched);
  g_source_destroy (c.timeout);
  g_source_unref (c.timeout);
  g_source_destroy (c.idle);
  g_source_unref (c.idle);
  g_main_context_unref (a);
  g_main_context_unref (b);
}

GST_END_TEST;
static Suite *
bridge_scheduler_suite (void)
{
  Suite *s = suite_create ("bridge_scheduler");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, release_state_after_failure);
  tcase_add_test (tc, test_fd_readiness);
  tcase_add_test (tc, test_shared_fd);
  tcase_add_test (tc, test_timeouts);
  tcase_add_test (tc, test_invoke);
  tcase_add_test (tc, test_many_contexts);
  tcase_add_test (tc, test_attach_from_other_context);
  return s;
}

GST_CHECK_MAIN (bridge_scheduler);
