/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the call scheduler (tools/bridge/bridge-scheduler.h), the
 * lives of its contexts and file descriptors: a file descriptor number
 * reused under a live registration, retiring contexts (when idle, empty,
 * right after an attach, after the grace) and freeing the scheduler with
 * contexts attached. How the contexts run is in bridge_scheduler.c; the
 * shared helpers are in schedulertestutil.h.
 */
#include <gst/check/gstcheck.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>
#include <string.h>

#include "schedulertestutil.h"

/* ---- a context's finalization ------------------------------------------ */

/* A source that can never fire, holds no file descriptor and no timeout: it
 * does not keep a retiring context alive, and its callback data is dropped
 * when the context is finalized, which tells the test that the last
 * reference went. */
static gboolean
sentinel_prepare (GSource * source, gint * timeout)
{
  *timeout = -1;
  return FALSE;
}

static gboolean
sentinel_check (GSource * source)
{
  return FALSE;
}

static gboolean
sentinel_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs sentinel_funcs = {
  .prepare = sentinel_prepare,
  .check = sentinel_check,
  .dispatch = sentinel_dispatch,
};

static gboolean
sentinel_never_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
sentinel_notify (gpointer user_data)
{
  gboolean *finalized = user_data;

  lock_state ();
  *finalized = TRUE;
  signal_locked ();
  unlock_state ();
}

static void
attach_sentinel (GMainContext * context, gboolean * finalized)
{
  GSource *source = g_source_new (&sentinel_funcs, sizeof (GSource));

  g_source_set_callback (source, sentinel_never_cb, finalized, sentinel_notify);
  g_source_attach (source, context);
  g_source_unref (source);
}

/* ---- 1. file descriptor number reuse ----------------------------------- */

typedef enum
{
  REUSE_SAME_CONTEXT,           /* A's callback moves to a new fd X on A */
  REUSE_OTHER_CONTEXT,          /* ... on B */
  /* A third context's callback closes X under A's source, attaches the
   * new X to B, and only then destroys A's source: B's next query sees X
   * while A still has it. */
  REUSE_LATE_DESTROY,
} ReuseMode;

typedef struct
{
  GMainContext *new_context;    /* the new source's */
  gint pair[2];
  GSource *old_source;
  FdWatch new_watch;

  /* under the state lock */
  gboolean reopened;
  gint old_fd, new_fd;
  gboolean callback_error;
} FdReuse;

static void
fd_reuse_swap (FdReuse * r, gboolean destroy_first)
{
  gint old_fd = r->pair[0];
  gint new_pair[2];
  gboolean ok;

  /* Both ends of the old pair are closed, so that the next socketpair()
   * gets the same (lowest free) numbers. */
  if (destroy_first)
    g_source_destroy (r->old_source);
  close (r->pair[0]);
  close (r->pair[1]);
  ok = socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
      new_pair) == 0;
  if (ok)
    fd_watch_attach (&r->new_watch, r->new_context, new_pair[0], G_IO_IN);
  if (!destroy_first)
    g_source_destroy (r->old_source);

  lock_state ();
  r->callback_error = !ok;
  r->old_fd = old_fd;
  if (ok) {
    r->pair[0] = new_pair[0];
    r->pair[1] = new_pair[1];
    r->new_fd = new_pair[0];
  } else {
    r->pair[0] = r->pair[1] = -1;
  }
  r->reopened = TRUE;
  signal_locked ();
  unlock_state ();
}

static gboolean
fd_reuse_cb (gint fd, GIOCondition condition, gpointer user_data)
{
  fd_reuse_swap (user_data, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
fd_reuse_late_destroy_cb (gpointer user_data)
{
  fd_reuse_swap (user_data, FALSE);
  return G_SOURCE_REMOVE;
}

static void
run_fd_reuse (ReuseMode mode)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *a = bridge_scheduler_context_new ();
  GMainContext *b = bridge_scheduler_context_new ();
  GMainContext *c = bridge_scheduler_context_new ();
  FdReuse r;

  memset (&r, 0, sizeof r);
  r.new_context = mode == REUSE_SAME_CONTEXT ? a : b;
  make_socketpair (r.pair);
  r.old_source = g_unix_fd_source_new (r.pair[0], G_IO_IN);
  g_source_set_callback (r.old_source, G_SOURCE_FUNC (fd_reuse_cb), &r, NULL);
  g_source_attach (r.old_source, a);
  bridge_scheduler_add (sched, a);
  bridge_scheduler_add (sched, b);
  bridge_scheduler_add (sched, c);
  /* The contexts have been through the scheduler once, so the old fd is
   * registered in the epoll set. */
  barrier (a);
  barrier (b);
  barrier (c);

  if (mode == REUSE_LATE_DESTROY)
    g_main_context_invoke (c, fd_reuse_late_destroy_cb, &r);
  else
    write_byte (r.pair[1], 'o');
  lock_state ();
  WAIT_LOCKED (r.reopened);
  fail_unless (r.reopened, "the fd was not swapped");
  fail_if (r.callback_error, "socketpair failed in the callback");
  if (r.new_fd == r.old_fd)
    GST_INFO ("the new socket reuses fd %d", r.new_fd);
  else
    /* Another thread took the number in between; the check below still
     * runs, it just does not exercise the reuse. */
    g_printerr ("fd reuse not exercised: old fd %d, new fd %d\n", r.old_fd,
        r.new_fd);
  unlock_state ();

  write_byte (r.pair[1], 'n');
  lock_state ();
  WAIT_LOCKED (r.new_watch.fired >= 1);
  fail_unless (r.new_watch.fired == 1,
      "the new source on reused fd %d (old fd %d, mode %d) fired %u times",
      r.new_fd, r.old_fd, mode, r.new_watch.fired);
  fail_unless_equals_int (r.new_watch.bytes, 1);
  fail_unless (r.new_watch.thread_default == r.new_context);
  fail_unless (r.new_watch.owner);
  unlock_state ();

  /* And once more, so the new registration is a lasting one. */
  write_byte (r.pair[1], 'm');
  lock_state ();
  WAIT_LOCKED (r.new_watch.fired >= 2);
  fail_unless_equals_int (r.new_watch.fired, 2);
  unlock_state ();

  bridge_scheduler_free (sched);
  g_source_unref (r.old_source);
  fd_watch_clear (&r.new_watch);
  close (r.pair[0]);
  close (r.pair[1]);
  g_main_context_unref (a);
  g_main_context_unref (b);
  g_main_context_unref (c);
}

GST_START_TEST (test_fd_reuse_same_context)
{
  run_fd_reuse (REUSE_SAME_CONTEXT);
}

GST_END_TEST;

GST_START_TEST (test_fd_reuse_other_context)
{
  run_fd_reuse (REUSE_OTHER_CONTEXT);
}

GST_END_TEST;

GST_START_TEST (test_fd_reuse_late_destroy)
{
  run_fd_reuse (REUSE_LATE_DESTROY);
}

GST_END_TEST;

/* ---- 2. retire --------------------------------------------------------- */

typedef struct
{
  BridgeScheduler *sched;
  GMainContext *context;
  gint pair[2];
  GSource *socket_source;
  guint grace_ms;

  /* under the state lock */
  gboolean retired;
  gboolean timeout_fired;
  guint n_contexts_in_timeout;
  gboolean finalized;
  gboolean finalized_before_timeout;
  gint64 finalized_at;
} Retiring;

static gboolean
retiring_socket_cb (gint fd, GIOCondition condition, gpointer user_data)
{
  Retiring *r = user_data;

  drain_fd (fd);
  /* From inside one of the context's own callbacks. */
  bridge_scheduler_retire (r->sched, r->context, r->grace_ms);
  lock_state ();
  r->retired = TRUE;
  signal_locked ();
  unlock_state ();
  return G_SOURCE_CONTINUE;
}

static gboolean
retiring_timeout_cb (gpointer user_data)
{
  Retiring *r = user_data;
  guint n_contexts = bridge_scheduler_get_n_contexts (r->sched);

  /* What a call does when its sockets have closed: the last source goes. */
  g_source_destroy (r->socket_source);
  lock_state ();
  r->timeout_fired = TRUE;
  r->n_contexts_in_timeout = n_contexts;
  signal_locked ();
  unlock_state ();
  return G_SOURCE_REMOVE;
}

static void
retiring_notify (gpointer user_data)
{
  Retiring *r = user_data;
  gint64 now = g_get_monotonic_time ();

  lock_state ();
  r->finalized = TRUE;
  r->finalized_before_timeout = !r->timeout_fired;
  r->finalized_at = now;
  signal_locked ();
  unlock_state ();
}

static void
retiring_attach_finalize_watch (Retiring * r)
{
  GSource *source = g_source_new (&sentinel_funcs, sizeof (GSource));

  g_source_set_callback (source, sentinel_never_cb, r, retiring_notify);
  g_source_attach (source, r->context);
  g_source_unref (source);
}

GST_START_TEST (test_retire_when_idle)
{
  BridgeScheduler *sched = scheduler_new ();
  Retiring r;
  GSource *timeout;

  memset (&r, 0, sizeof r);
  r.sched = sched;
  /* A grace far beyond the test's deadline: the context can only go
   * because nothing is left in it, not because the grace ran out. */
  r.grace_ms = 600000;
  r.context = bridge_scheduler_context_new ();
  make_socketpair (r.pair);
  r.socket_source = g_unix_fd_source_new (r.pair[0], G_IO_IN);
  g_source_set_callback (r.socket_source, G_SOURCE_FUNC (retiring_socket_cb),
      &r, NULL);
  g_source_attach (r.socket_source, r.context);
  timeout = g_timeout_source_new (200);
  g_source_set_callback (timeout, retiring_timeout_cb, &r, NULL);
  g_source_attach (timeout, r.context);
  g_source_unref (timeout);
  retiring_attach_finalize_watch (&r);

  /* The scheduler's reference is the only one from here on. */
  bridge_scheduler_add (sched, r.context);
  g_main_context_unref (r.context);

  write_byte (r.pair[1], 'r');
  lock_state ();
  WAIT_LOCKED (r.retired);
  fail_unless (r.retired);
  WAIT_LOCKED (r.finalized);
  fail_unless (r.finalized,
      "retired context not finalized once nothing was left in it");
  /* Retired while its socket and timeout were still there: it had to run
   * until the timeout had fired and destroyed the socket's source. */
  fail_if (r.finalized_before_timeout,
      "retired context finalized before its timeout fired");
  fail_unless (r.timeout_fired);
  fail_unless_equals_int (r.n_contexts_in_timeout, 1);
  unlock_state ();
  fail_unless_equals_int (wait_n_contexts (sched, 0), 0);

  /* The scheduler keeps working after a context went. */
  {
    GMainContext *next = bridge_scheduler_context_new ();
    Invoked inv = { next, 0, NULL, NULL, FALSE };

    bridge_scheduler_add (sched, next);
    g_main_context_invoke (next, invoked_cb, &inv);
    lock_state ();
    WAIT_LOCKED (inv.ran >= 1);
    fail_unless_equals_int (inv.ran, 1);
    fail_unless (inv.thread_default == next && inv.owner);
    unlock_state ();
    bridge_scheduler_free (sched);
    g_main_context_unref (next);
  }

  g_source_unref (r.socket_source);
  close (r.pair[0]);
  close (r.pair[1]);
}

GST_END_TEST;

/* A retired context with nothing at all in it goes right away. */
GST_START_TEST (test_retire_empty)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *context = bridge_scheduler_context_new ();
  gboolean finalized = FALSE;

  attach_sentinel (context, &finalized);
  bridge_scheduler_add (sched, context);
  fail_unless_equals_int (bridge_scheduler_get_n_contexts (sched), 1);
  bridge_scheduler_retire (sched, context, 600000);
  g_main_context_unref (context);
  lock_state ();
  WAIT_LOCKED (finalized);
  fail_unless (finalized, "empty retired context not finalized");
  unlock_state ();
  fail_unless_equals_int (wait_n_contexts (sched, 0), 0);
  bridge_scheduler_free (sched);
}

GST_END_TEST;

/* Holds the scheduler thread in a callback until the test lets it go, so
 * that the test can queue work that the next round finds all at once. */
typedef struct
{
  gboolean entered;
  gboolean go;
} Blocker;

static gboolean
blocker_cb (gpointer user_data)
{
  Blocker *b = user_data;

  lock_state ();
  b->entered = TRUE;
  signal_locked ();
  WAIT_LOCKED (b->go);
  unlock_state ();
  return G_SOURCE_REMOVE;
}

/* Retired right after another thread attached a timeout to an idle
 * context: the timeout is work the context has, so it fires before the
 * context goes. The scheduler is held busy meanwhile, so that its next
 * round sees the context's wake-up and the retire together. */
GST_START_TEST (test_retire_after_attach)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *busy = bridge_scheduler_context_new ();
  Retiring r;
  Ticker ticker = { 0, };
  Blocker blocker = { FALSE, FALSE };
  GSource *timeout;

  memset (&r, 0, sizeof r);
  r.sched = sched;
  r.context = bridge_scheduler_context_new ();
  retiring_attach_finalize_watch (&r);
  bridge_scheduler_add (sched, busy);
  bridge_scheduler_add (sched, r.context);
  barrier (r.context);

  g_main_context_invoke (busy, blocker_cb, &blocker);
  lock_state ();
  WAIT_LOCKED (blocker.entered);
  fail_unless (blocker.entered);
  unlock_state ();

  timeout = g_timeout_source_new (30);
  ticker.context = r.context;
  ticker.limit = 1;
  g_source_set_callback (timeout, ticker_cb, &ticker, NULL);
  g_source_attach (timeout, r.context);
  g_source_unref (timeout);
  bridge_scheduler_retire (sched, r.context, 600000);
  g_main_context_unref (r.context);

  lock_state ();
  blocker.go = TRUE;
  signal_locked ();
  WAIT_LOCKED (r.finalized);
  fail_unless (r.finalized, "retired context not finalized");
  fail_unless (ticker.fired == 1,
      "retired context finalized before the timeout attached to it fired");
  unlock_state ();
  fail_unless_equals_int (wait_n_contexts (sched, 1), 1);

  bridge_scheduler_free (sched);
  g_main_context_unref (busy);
}

GST_END_TEST;

/* A context that would run forever goes once its grace has passed. */
GST_START_TEST (test_retire_grace)
{
  BridgeScheduler *sched = scheduler_new ();
  Retiring r;
  FdWatch forever = { 0, };
  Ticker ticker = { 0, };
  GSource *ticking;
  gint64 retired_at;

  memset (&r, 0, sizeof r);
  r.sched = sched;
  r.context = bridge_scheduler_context_new ();
  make_socketpair (r.pair);
  /* A socket that never gets data and a timeout that never ends. */
  fd_watch_attach (&forever, r.context, r.pair[0], G_IO_IN);
  ticking = ticker_attach (&ticker, r.context, 20, G_MAXUINT);
  retiring_attach_finalize_watch (&r);
  bridge_scheduler_add (sched, r.context);
  g_main_context_unref (r.context);
  lock_state ();
  WAIT_LOCKED (ticker.fired >= 1);
  fail_unless (ticker.fired >= 1);
  unlock_state ();

  retired_at = g_get_monotonic_time ();
  bridge_scheduler_retire (sched, r.context, 100);
  lock_state ();
  WAIT_LOCKED (r.finalized);
  fail_unless (r.finalized, "context not finalized after its grace");
  fail_unless (r.finalized_at - retired_at >= 100 * 1000,
      "context with live sources finalized %" G_GINT64_FORMAT
      " us after a retire with 100 ms grace", r.finalized_at - retired_at);
  fail_if (ticker.wrong_context);
  unlock_state ();
  fail_unless_equals_int (wait_n_contexts (sched, 0), 0);

  bridge_scheduler_free (sched);
  /* The context's finalization destroyed the sources. */
  fail_unless (g_source_is_destroyed (forever.source));
  fail_unless (g_source_is_destroyed (ticking));
  g_source_unref (ticking);
  g_source_unref (forever.source);
  close (r.pair[0]);
  close (r.pair[1]);
}

GST_END_TEST;

/* ---- 3. free with contexts attached ------------------------------------ */

#define N_FREE 3

GST_START_TEST (test_free_releases)
{
  BridgeScheduler *sched = scheduler_new ();
  GMainContext *contexts[N_FREE];
  FdWatch watches[N_FREE];
  Ticker tickers[N_FREE];
  GSource *ticking[N_FREE];
  gint pairs[N_FREE][2];
  GMainContext *unowned = bridge_scheduler_context_new ();
  gboolean unowned_finalized = FALSE;
  guint i;

  memset (watches, 0, sizeof watches);
  memset (tickers, 0, sizeof tickers);
  for (i = 0; i < N_FREE; i++) {
    contexts[i] = bridge_scheduler_context_new ();
    make_socketpair (pairs[i]);
    fd_watch_attach (&watches[i], contexts[i], pairs[i][0], G_IO_IN);
    ticking[i] = ticker_attach (&tickers[i], contexts[i], 10, G_MAXUINT);
    bridge_scheduler_add (sched, contexts[i]);
  }
  /* One whose only reference is the scheduler's: free must drop it. */
  attach_sentinel (unowned, &unowned_finalized);
  bridge_scheduler_add (sched, unowned);
  g_main_context_unref (unowned);
  /* Retiring ones, too. */
  bridge_scheduler_retire (sched, contexts[0], 600000);
  fail_unless_equals_int (bridge_scheduler_get_n_contexts (sched), N_FREE + 1);

  lock_state ();
  for (i = 0; i < N_FREE; i++) {
    WAIT_LOCKED (tickers[i].fired >= 1);
    fail_unless (tickers[i].fired >= 1, "context %u is not running", i);
    fail_unless (tickers[i].thread != g_thread_self ());
  }
  unlock_state ();

  bridge_scheduler_free (sched);
  lock_state ();
  fail_unless (unowned_finalized,
      "bridge_scheduler_free left a context referenced");
  unlock_state ();

  /* Released: the test thread can own and run them now. */
  for (i = 0; i < N_FREE; i++) {
    gint64 deadline = wait_deadline ();
    guint fired_before;

    fail_unless (g_main_context_acquire (contexts[i]),
        "context %u still owned after bridge_scheduler_free", i);
    lock_state ();
    fired_before = watches[i].fired;
    unlock_state ();
    write_byte (pairs[i][1], 'f');
    while (g_get_monotonic_time () < deadline) {
      gboolean done;

      /* The 10 ms ticker bounds each blocking iteration. */
      g_main_context_iteration (contexts[i], TRUE);
      lock_state ();
      done = watches[i].fired > fired_before;
      unlock_state ();
      if (done)
        break;
    }
    lock_state ();
    fail_unless (watches[i].fired == fired_before + 1,
        "context %u: iterating on the test thread did not dispatch", i);
    fail_unless (watches[i].thread == g_thread_self ());
    unlock_state ();
    g_main_context_release (contexts[i]);
  }

  for (i = 0; i < N_FREE; i++) {
    fd_watch_clear (&watches[i]);
    g_source_destroy (ticking[i]);
    g_source_unref (ticking[i]);
    close (pairs[i][0]);
    close (pairs[i][1]);
    g_main_context_unref (contexts[i]);
  }
}

GST_END_TEST;

/* An idle scheduler (no context at all) starts and stops. */
GST_START_TEST (test_free_empty)
{
  BridgeScheduler *sched = scheduler_new ();

  fail_unless_equals_int (wait_n_contexts (sched, 0), 0);
  bridge_scheduler_free (sched);
}

GST_END_TEST;

static Suite *
bridge_scheduler_lifecycle_suite (void)
{
  Suite *s = suite_create ("bridge_scheduler_lifecycle");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, release_state_after_failure);
  tcase_add_test (tc, test_free_empty);
  tcase_add_test (tc, test_fd_reuse_same_context);
  tcase_add_test (tc, test_fd_reuse_other_context);
  tcase_add_test (tc, test_fd_reuse_late_destroy);
  tcase_add_test (tc, test_retire_when_idle);
  tcase_add_test (tc, test_retire_empty);
  tcase_add_test (tc, test_retire_grace);
  tcase_add_test (tc, test_retire_after_attach);
  tcase_add_test (tc, test_free_releases);
  return s;
}

GST_CHECK_MAIN (bridge_scheduler_lifecycle);
