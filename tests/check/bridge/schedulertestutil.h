/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the call scheduler's unit tests (bridge_scheduler.c,
 * bridge_scheduler_lifecycle.c). Every callback records what it saw under
 * one lock (lock_state) and signals one condition (signal_locked); the test
 * thread waits on it with WAIT_LOCKED, whose deadline is for hangs only.
 */
#pragma once

#include <gst/check/gstcheck.h>

#include "bridge-scheduler.h"

G_BEGIN_DECLS

/* ---- the state lock ---------------------------------------------------- */

void lock_state (void);
void unlock_state (void);
/* Checked-fixture teardown: lets go of the state lock when a failed
 * assertion jumped out of a test holding it (no-fork runs, valgrind). */
void release_state_after_failure (void);
/* With the state lock held: wakes every WAIT_LOCKED. */
void signal_locked (void);

/* An absolute monotonic deadline, 5 s from now (30 s under valgrind). */
gint64 wait_deadline (void);
/* With the state lock held: one wait on the condition until @deadline;
 * FALSE once the deadline has passed. */
gboolean wait_locked_until (gint64 deadline);

/* With the state lock held: waits until @expr holds or the deadline passed. */
#define WAIT_LOCKED(expr) G_STMT_START {                                 \
  gint64 _deadline = wait_deadline ();                                   \
  gboolean _in_time = TRUE;                                              \
  while (!(expr) && _in_time)                                            \
    _in_time = wait_locked_until (_deadline);                            \
} G_STMT_END

/* ---- the scheduler ----------------------------------------------------- */

/* bridge_scheduler_new, failing the test on error. */
BridgeScheduler *scheduler_new (void);
/* Polls bridge_scheduler_get_n_contexts until it is @n or the deadline
 * passed; returns the last count. */
guint wait_n_contexts (BridgeScheduler * sched, guint n);

/* ---- sockets ----------------------------------------------------------- */

/* A non-blocking AF_UNIX stream pair, failing the test on error. */
void make_socketpair (gint pair[2]);
void write_byte (gint fd, guint8 byte);
/* Reads all there is; returns the number of bytes. */
gsize drain_fd (gint fd);

/* ---- a watched file descriptor ----------------------------------------- */

typedef struct
{
  GMainContext *context;        /* the context the source is attached to */
  gint fd;
  gboolean remove_after_fire;
  gboolean no_drain;            /* leaves the data for other sources */
  GSource *source;

  /* under the state lock */
  guint fired;
  gsize bytes;
  GIOCondition conditions;
  GThread *thread;
  GMainContext *thread_default;
  gboolean owner;
  gboolean wrong_context;       /* some call had another thread-default */
} FdWatch;

/* A GUnixFDSourceFunc recording the call into the FdWatch @user_data. */
gboolean fd_watch_cb (gint fd, GIOCondition condition, gpointer user_data);
void fd_watch_attach (FdWatch * w, GMainContext * context, gint fd,
    GIOCondition condition);
void fd_watch_clear (FdWatch * w);

/* ---- invoke ------------------------------------------------------------ */

typedef struct
{
  GMainContext *context;
  guint ran;
  GThread *thread;
  GMainContext *thread_default;
  gboolean owner;
} Invoked;

/* A GSourceFunc recording the call into the Invoked @user_data. */
gboolean invoked_cb (gpointer user_data);
/* Runs one invoke on @context and waits for it: every iteration the
 * context had scheduled before has happened when this returns. */
void barrier (GMainContext * context);

/* ---- timeouts ---------------------------------------------------------- */

typedef struct
{
  GMainContext *context;
  guint limit;                  /* fires this many times, then removes */

  /* under the state lock */
  guint fired;
  gint64 last_fired_at;
  gboolean wrong_context;
  GThread *thread;
} Ticker;

/* A GSourceFunc recording the call into the Ticker @user_data. */
gboolean ticker_cb (gpointer user_data);
/* Attaches an @interval_ms timeout to @context that fires @limit times;
 * returns the source (owned). */
GSource *ticker_attach (Ticker * t, GMainContext * context,
    guint interval_ms, guint limit);

G_END_DECLS
