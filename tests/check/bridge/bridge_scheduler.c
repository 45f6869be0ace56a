/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the call scheduler (tools/bridge/bridge-scheduler.h): one
 * thread running many GMainContexts over one epoll set. Every callback
 * records what it saw under one lock and signals one condition; the test
 * thread waits on that condition with a generous deadline.
 */
#include <gst/check/gstcheck.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>

#include "bridge-scheduler.h"

static GMutex test_lock;
static GCond test_cond;
/* test_lock's holder, so that the teardown can let go of it when a failed
 * assertion jumped out of a test holding it (no-fork runs, valgrind) */
static GThread *test_lock_holder;

static void
lock_state (void)
{
  g_mutex_lock (&test_lock);
  test_lock_holder = g_thread_self ();
}

static void
unlock_state (void)
{
  test_lock_holder = NULL;
  g_mutex_unlock (&test_lock);
}

static void
release_state_after_failure (void)
{
  if (test_lock_holder == g_thread_self ())
    unlock_state ();
}

/* Deadlines are for hangs only: a correct scheduler meets them by orders of
 * magnitude, also under valgrind. */
static gint64
wait_deadline (void)
{
  gint64 seconds = g_getenv ("RUNNING_UNDER_VALGRIND") ? 30 : 5;

  return g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
}

/* With test_lock held: waits until @expr holds or the deadline passed. */
#define WAIT_LOCKED(expr) G_STMT_START {                                 \
  gint64 _deadline = wait_deadline ();                                   \
  gboolean _in_time = TRUE;                                              \
  while (!(expr) && _in_time) {                                          \
    test_lock_holder = NULL;                                             \
    _in_time = g_cond_wait_until (&test_cond, &test_lock, _deadline);    \
    test_lock_holder = g_thread_self ();                                 \
  }                                                                      \
} G_STMT_END

static void
signal_locked (void)
{
  g_cond_broadcast (&test_cond);
}

static BridgeScheduler *
scheduler_new (void)
{
  GError *error = NULL;
  BridgeScheduler *sched = bridge_scheduler_new ("test-sched", &error);

  fail_unless (sched != NULL, "bridge_scheduler_new: %s",
      error ? error->message : "(no error)");
  g_assert_no_error (error);
  return sched;
}

/* The count drops right after the scheduler let go of the context, which
 * is after the context's finalization the tests wait for: poll it. */
static guint
wait_n_contexts (BridgeScheduler * sched, guint n)
{
  gint64 deadline = wait_deadline ();

  while (bridge_scheduler_get_n_contexts (sched) != n
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  return bridge_scheduler_get_n_contexts (sched);
}

static void
make_socketpair (gint pair[2])
{
  fail_unless (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
          0, pair) == 0, "socketpair: %s", g_strerror (errno));
}

static void
write_byte (gint fd, guint8 byte)
{
  fail_unless (write (fd, &byte, 1) == 1, "write to fd %d: %s", fd,
      g_strerror (errno));
}

static gsize
drain_fd (gint fd)
{
  guint8 buf[64];
  gssize n;
  gsize total = 0;

  while ((n = read (fd, buf, sizeof buf)) > 0)
    total += n;
  return total;
}

/* ---- a watched file descriptor ---------------------------------------- */

typedef struct
{
  GMainContext *context;        /* the context the source is attached to */
  gint fd;
  gboolean remove_after_fire;
  gboolean no_drain;            /* leaves the data for other sources */
  GSource *source;

  /* under test_lock */
  guint fired;
  gsize bytes;
  GIOCondition conditions;
  GThread *thread;
  GMainContext *thread_default;
  gboolean owner;
  gboolean wrong_context;       /* some call had another thread-default */
} FdWatch;

static gboolean
fd_watch_cb (gint fd, GIOCondition condition, gpointer user_data)
{
  FdWatch *w = user_data;
  gsize bytes = (condition & G_IO_IN) && !w->no_drain ? drain_fd (fd) : 0;
  GMainContext *thread_default = g_main_context_get_thread_default ();
  gboolean owner = g_main_context_is_owner (w->context);

  lock_state ();
  w->fired++;
  w->bytes += bytes;
  w->conditions |= condition;
  w->thread = g_thread_self ();
  w->thread_default = thread_default;
  w->owner = owner;
  if (thread_default != w->context || !owner)
    w->wrong_context = TRUE;
  signal_locked ();
  unlock_state ();

  return w->remove_after_fire ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
fd_watch_attach (FdWatch * w, GMainContext * context, gint fd,
    GIOCondition condition)
{
  w->context = context;
  w->fd = fd;
  w->source = g_unix_fd_source_new (fd, condition);
  g_source_set_callback (w->source, G_SOURCE_FUNC (fd_watch_cb), w, NULL);
  g_source_attach (w->source, context);
}

static void
fd_watch_clear (FdWatch * w)
{
  if (w->source) {
    g_source_destroy (w->source);
    g_source_unref (w->source);
    w->source = NULL;
  }
}

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

/* ---- invoke ------------------------------------------------------------ */

typedef struct
{
  GMainContext *context;
  guint ran;
  GThread *thread;
  GMainContext *thread_default;
  gboolean owner;
} Invoked;

static gboolean
invoked_cb (gpointer user_data)
{
  Invoked *inv = user_data;
  GMainContext *thread_default = g_main_context_get_thread_default ();
  gboolean owner = g_main_context_is_owner (inv->context);

  lock_state ();
  inv->ran++;
  inv->thread = g_thread_self ();
  inv->thread_default = thread_default;
  inv->owner = owner;
  signal_locked ();
  unlock_state ();
  return G_SOURCE_REMOVE;
}

/* Runs one invoke on @context and waits for it: every iteration the
 * context had scheduled before has happened when this returns. */
static void
barrier (GMainContext * context)
{
  Invoked inv = { context, 0, NULL, NULL, FALSE };

  g_main_context_invoke (context, invoked_cb, &inv);
  lock_state ();
  WAIT_LOCKED (inv.ran == 1);
  fail_unless_equals_int (inv.ran, 1);
  unlock_state ();
}

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

typedef struct
{
  GMainContext *context;
  guint limit;                  /* fires this many times, then removes */

  /* under test_lock */
  guint fired;
  gint64 last_fired_at;
  gboolean wrong_context;
  GThread *thread;
} Ticker;

static gboolean
ticker_cb (gpointer user_data)
{
  Ticker *t = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean wrong = g_main_context_get_thread_default () != t->context ||
      !g_main_context_is_owner (t->context);
  gboolean more;

  lock_state ();
  t->fired++;
  t->last_fired_at = now;
  t->thread = g_thread_self ();
  if (wrong)
    t->wrong_context = TRUE;
  more = t->fired < t->limit;
  signal_locked ();
  unlock_state ();
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static GSource *
ticker_attach (Ticker * t, GMainContext * context, guint interval_ms,
    guint limit)
{
  GSource *source = g_timeout_source_new (interval_ms);

  t->context = context;
  t->limit = limit;
  g_source_set_callback (source, ticker_cb, t, NULL);
  g_source_attach (source, context);
  return source;
}

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

/* ---- 5. file descriptor number reuse ----------------------------------- */

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

  /* under test_lock */
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

/* ---- sources without a file descriptor --------------------------------- */

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

/* ---- 6. retire --------------------------------------------------------- */

typedef struct
{
  BridgeScheduler *sched;
  GMainContext *context;
  gint pair[2];
  GSource *socket_source;
  guint grace_ms;

  /* under test_lock */
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

/* ---- 7. free with contexts attached ------------------------------------ */

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
bridge_scheduler_suite (void)
{
  Suite *s = suite_create ("bridge_scheduler");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, release_state_after_failure);
  tcase_add_test (tc, test_free_empty);
  tcase_add_test (tc, test_fd_readiness);
  tcase_add_test (tc, test_shared_fd);
  tcase_add_test (tc, test_timeouts);
  tcase_add_test (tc, test_invoke);
  tcase_add_test (tc, test_many_contexts);
  tcase_add_test (tc, test_fd_reuse_same_context);
  tcase_add_test (tc, test_fd_reuse_other_context);
  tcase_add_test (tc, test_fd_reuse_late_destroy);
  tcase_add_test (tc, test_retire_when_idle);
  tcase_add_test (tc, test_retire_empty);
  tcase_add_test (tc, test_retire_grace);
  tcase_add_test (tc, test_retire_after_attach);
  tcase_add_test (tc, test_attach_from_other_context);
  tcase_add_test (tc, test_free_releases);
  return s;
}

GST_CHECK_MAIN (bridge_scheduler);
