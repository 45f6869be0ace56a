/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the call scheduler's unit tests; see
 * schedulertestutil.h.
 */
#include "schedulertestutil.h"

#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>

static GMutex test_lock;
static GCond test_cond;
/* test_lock's holder, so that the teardown can let go of it when a failed
 * assertion jumped out of a test holding it (no-fork runs, valgrind) */
static GThread *test_lock_holder;

void
lock_state (void)
{
  g_mutex_lock (&test_lock);
  test_lock_holder = g_thread_self ();
}

void
unlock_state (void)
{
  test_lock_holder = NULL;
  g_mutex_unlock (&test_lock);
}

void
release_state_after_failure (void)
{
  if (test_lock_holder == g_thread_self ())
    unlock_state ();
}

/* Deadlines are for hangs only: a correct scheduler meets them by orders of
 * magnitude, also under valgrind. */
gint64
wait_deadline (void)
{
  gint64 seconds = g_getenv ("RUNNING_UNDER_VALGRIND") ? 30 : 5;

  return g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
}

gboolean
wait_locked_until (gint64 deadline)
{
  gboolean in_time;

  test_lock_holder = NULL;
  in_time = g_cond_wait_until (&test_cond, &test_lock, deadline);
  test_lock_holder = g_thread_self ();
  return in_time;
}

void
signal_locked (void)
{
  g_cond_broadcast (&test_cond);
}

BridgeScheduler *
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
guint
wait_n_contexts (BridgeScheduler * sched, guint n)
{
  gint64 deadline = wait_deadline ();

  while (bridge_scheduler_get_n_contexts (sched) != n
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  return bridge_scheduler_get_n_contexts (sched);
}

void
make_socketpair (gint pair[2])
{
  fail_unless (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
          0, pair) == 0, "socketpair: %s", g_strerror (errno));
}

void
write_byte (gint fd, guint8 byte)
{
  fail_unless (write (fd, &byte, 1) == 1, "write to fd %d: %s", fd,
      g_strerror (errno));
}

gsize
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

gboolean
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

void
fd_watch_attach (FdWatch * w, GMainContext * context, gint fd,
    GIOCondition condition)
{
  w->context = context;
  w->fd = fd;
  w->source = g_unix_fd_source_new (fd, condition);
  g_source_set_callback (w->source, G_SOURCE_FUNC (fd_watch_cb), w, NULL);
  g_source_attach (w->source, context);
}

void
fd_watch_clear (FdWatch * w)
{
  if (w->source) {
    g_source_destroy (w->source);
    g_source_unref (w->source);
    w->source = NULL;
  }
}

/* ---- invoke ------------------------------------------------------------ */

gboolean
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
void
barrier (GMainContext * context)
{
  Invoked inv = { context, 0, NULL, NULL, FALSE };

  g_main_context_invoke (context, invoked_cb, &inv);
  lock_state ();
  WAIT_LOCKED (inv.ran == 1);
  fail_unless_equals_int (inv.ran, 1);
  unlock_state ();
}

/* ---- timeouts ---------------------------------------------------------- */

gboolean
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

GSource *
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
