/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The call scheduler; see bridge-scheduler.h.
 *
 * Why: one GMainContext shared by many calls polls every socket of every
 * call and walks every source on each wake-up, and with calls whose 20 ms
 * frames arrive at unrelated times a wake-up finds one call ready. Here
 * each call has its own small context; the thread keeps one epoll set with
 * every context's file descriptors and iterates only the contexts whose
 * descriptors are ready or whose timeout is due, by hand (prepare, query,
 * check, dispatch: what g_main_context_iteration does for one context).
 *
 * A descriptor polled by several contexts is one epoll entry with the
 * union of their events.
 *
 * GLib signals a context's wake-up whenever a poll is added or removed,
 * and it removes and re-adds a source's polls around each dispatch of it
 * (block_source/unblock_source, for sources that cannot recurse): every
 * dispatch that read a frame from a socket leaves its own context's
 * wake-up readable, which would cost a second, empty round. So the
 * scheduler learns a context's wake-up descriptor when it is added
 * (GLib's GWakeup, an eventfd on Linux: the only descriptor of a context
 * with no socket yet, as a call's is) and, after a dispatch, clears it
 * before the next prepare: what signalled it is seen by that prepare, and
 * a signal after the read stays for epoll.
 *
 * File descriptors are numbers the kernel reuses: a socket closed drops
 * out of the epoll set by itself, and a new one may get the same number
 * (and a new source) before the next query, which then looks unchanged.
 * The process's close () calls are counted (the definition below
 * interposes libc's, for the libraries too); when any happened since a
 * context's last sync, every descriptor of the context (but GLib's
 * wake-up) is re-armed (EPOLL_CTL_MOD, ADD when the kernel forgot it);
 * otherwise only a descriptor that is new to the context or whose events
 * changed. Closes are rare (a call's start and end), so a frame costs no
 * epoll_ctl.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>

#include "bridge-scheduler.h"

#define MAX_EVENTS 256
/* a context's last round when the scheduler stops */
#define FINAL_ROUNDS 64

typedef struct _FdEntry FdEntry;

typedef struct
{
  GMainContext *context;
  GPollFD *fds;                 /* the last query's, with revents to fill */
  gint n_fds, n_alloc;
  gint max_priority;
  gint64 deadline_us;           /* -1: none */
  gint wakeup_fd;               /* GLib's wake-up eventfd; -1: unknown */
  gboolean ready;               /* in the ready list of this round */
  gboolean retiring;
  gint64 retire_by_us;
  GPtrArray *entries;           /* FdEntry this context is a user of */
  GPtrArray *spare_entries;     /* empty; swapped with entries per sync */
  guint closes_seen;            /* fd_closes at the last sync */
} Slot;

struct _FdEntry
{
  gint fd;
  GPtrArray *users;             /* Slot */
  guint32 events;               /* registered in epoll */
};

typedef enum
{
  REQUEST_ADD,
  REQUEST_RETIRE,
} RequestKind;

typedef struct
{
  RequestKind kind;
  GMainContext *context;
  guint grace_ms;
} Request;

struct _BridgeScheduler
{
  GThread *thread;
  gint epoll_fd;
  gint control_fd;              /* eventfd: requests are waiting */

  GMutex lock;                  /* guards requests, stopping */
  GQueue requests;
  gboolean stopping;
  gint n_contexts;              /* atomic */

  /* scheduler thread only */
  GPtrArray *slots;             /* Slot */
  GHashTable *fd_entries;       /* fd -> FdEntry */
  GPtrArray *ready;             /* Slot */
};

static guint32
epoll_events_for (gushort events)
{
  guint32 e = 0;

  if (events & G_IO_IN)
    e |= EPOLLIN;
  if (events & G_IO_OUT)
    e |= EPOLLOUT;
  if (events & G_IO_PRI)
    e |= EPOLLPRI;
  return e;
}

static gushort
poll_events_for (guint32 e)
{
  gushort events = 0;

  if (e & EPOLLIN)
    events |= G_IO_IN;
  if (e & EPOLLOUT)
    events |= G_IO_OUT;
  if (e & EPOLLPRI)
    events |= G_IO_PRI;
  if (e & EPOLLERR)
    events |= G_IO_ERR;
  if (e & EPOLLHUP)
    events |= G_IO_HUP;
  return events;
}

/* ---- descriptor numbers that may stand for another file ----------------- */

static guint fd_closes;         /* atomic */

/* Interposes libc's close () for the whole process (the executable's
 * definition comes first in symbol lookup, for the libraries as well):
 * counts, then closes as libc would, minus the cancellation point that
 * nothing here uses. */
int
close (int fd)
{
  g_atomic_int_inc (&fd_closes);
  return syscall (SYS_close, fd);
}

/* ---- the epoll set ------------------------------------------------------- */

static guint32
entry_wanted_events (FdEntry * entry)
{
  guint32 wanted = 0;
  guint i;
  gint k;

  for (i = 0; i < entry->users->len; i++) {
    Slot *slot = g_ptr_array_index (entry->users, i);

    for (k = 0; k < slot->n_fds; k++)
      if (slot->fds[k].fd == entry->fd)
        wanted |= epoll_events_for (slot->fds[k].events);
  }
  return wanted;
}

/* Makes the kernel's registration of @entry match its users, whether or
 * not the kernel still has one (see the top of the file). */
static void
entry_arm (BridgeScheduler * self, FdEntry * entry)
{
  struct epoll_event ev = { 0, };

  ev.events = entry_wanted_events (entry);
  ev.data.fd = entry->fd;
  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, entry->fd, &ev) == 0
      || (errno == ENOENT
          && epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, entry->fd, &ev) == 0)) {
    entry->events = ev.events;
    return;
  }
  /* EBADF/EPERM: not pollable through epoll (closed already, or a regular
   * file); the users' sources will be destroyed or time out. */
  g_debug ("bridge-scheduler: fd %d cannot be watched: %s", entry->fd,
      g_strerror (errno));
  entry->events = 0;
}

static void
entry_drop_user (BridgeScheduler * self, FdEntry * entry, Slot * slot)
{
  g_ptr_array_remove_fast (entry->users, slot);
  if (entry->users->len > 0) {
    entry_arm (self, entry);
    return;
  }
  /* ENOENT/EBADF when the fd was closed: the kernel dropped it already */
  epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, entry->fd, NULL);
  g_hash_table_remove (self->fd_entries, GINT_TO_POINTER (entry->fd));
}

static void
fd_entry_free (FdEntry * entry)
{
  g_ptr_array_unref (entry->users);
  g_free (entry);
}

/* The entry for @fd among @entries (a context's few), or NULL. */
static FdEntry *
find_entry (GPtrArray * entries, gint fd)
{
  guint i;

  for (i = 0; i < entries->len; i++) {
    FdEntry *entry = g_ptr_array_index (entries, i);

    if (entry->fd == fd)
      return entry;
  }
  return NULL;
}

/* After a query of @slot: its descriptors are the epoll set's. A
 * descriptor new to the context, or whose events changed, is armed; with
 * @rearm (a descriptor was closed since the last sync, so a number
 * may stand for a new socket now) every one but GLib's wake-up is. */
static void
slot_sync_fds (BridgeScheduler * self, Slot * slot, gboolean rearm)
{
  GPtrArray *old = slot->entries;
  GPtrArray *now = slot->spare_entries;
  guint i;
  gint k;

  for (k = 0; k < slot->n_fds; k++) {
    gint fd = slot->fds[k].fd;
    FdEntry *entry;
    gboolean known;

    if (fd < 0 || find_entry (now, fd))
      continue;                 /* the same fd twice in one context */
    entry = find_entry (old, fd);
    known = entry != NULL;
    if (!known)
      entry = g_hash_table_lookup (self->fd_entries, GINT_TO_POINTER (fd));
    if (entry == NULL) {
      entry = g_new0 (FdEntry, 1);
      entry->fd = fd;
      entry->users = g_ptr_array_new ();
      g_hash_table_insert (self->fd_entries, GINT_TO_POINTER (fd), entry);
    }
    g_ptr_array_add (now, entry);
    if (!known) {
      if (!g_ptr_array_find (entry->users, slot, NULL))
        g_ptr_array_add (entry->users, slot);
      entry_arm (self, entry);
    } else if ((rearm && fd != slot->wakeup_fd)
        || entry_wanted_events (entry) != entry->events) {
      entry_arm (self, entry);
    }
  }
  for (i = 0; i < old->len; i++) {
    FdEntry *entry = g_ptr_array_index (old, i);

    if (!find_entry (now, entry->fd))
      entry_drop_user (self, entry, slot);
  }
  g_ptr_array_set_size (old, 0);
  slot->entries = now;
  slot->spare_entries = old;
}

/* ---- a context's wake-up descriptor -------------------------------------- */

/* GLib's wake-up of @context, owned by this thread: the only descriptor a
 * context polls while no source has one, an eventfd; -1 when @context
 * polls more already. */
static gint
find_wakeup_fd (GMainContext * context)
{
  g_autofree gchar *proc = NULL, *target = NULL;
  GPollFD fds[2];
  gint priority, timeout;

  g_main_context_prepare (context, &priority);
  if (g_main_context_query (context, G_MAXINT, &timeout, fds, 2) != 1)
    return -1;
  proc = g_strdup_printf ("/proc/self/fd/%d", fds[0].fd);
  target = g_file_read_link (proc, NULL);
  return g_strcmp0 (target, "anon_inode:[eventfd]") == 0 ? fds[0].fd : -1;
}

/* ---- one context --------------------------------------------------------- */

/* What g_main_context_iteration does after the poll: check and dispatch
 * with the revents epoll gave, then prepare and query for the next round.
 * Returns the query's timeout (ms, -1: none). */
static gint
slot_run (BridgeScheduler * self, Slot * slot, gboolean checked)
{
  gint timeout = -1, n;
  guint closes;

  g_main_context_push_thread_default (slot->context);
  if (checked && g_main_context_check (slot->context, slot->max_priority,
          slot->fds, slot->n_fds)) {
    g_main_context_dispatch (slot->context);
    if (slot->wakeup_fd >= 0) {
      guint64 count;

      /* EAGAIN when nothing signalled it */
      if (read (slot->wakeup_fd, &count, sizeof (count)) < 0 && errno != EAGAIN)
        g_debug ("bridge-scheduler: wake-up read: %s", g_strerror (errno));
    }
  }
  g_main_context_prepare (slot->context, &slot->max_priority);
  while ((n = g_main_context_query (slot->context, slot->max_priority,
              &timeout, slot->fds, slot->n_alloc)) > slot->n_alloc) {
    slot->n_alloc = n;
    slot->fds = g_renew (GPollFD, slot->fds, slot->n_alloc);
  }
  slot->n_fds = n;
  g_main_context_pop_thread_default (slot->context);

  for (n = 0; n < slot->n_fds; n++)
    slot->fds[n].revents = 0;
  slot->deadline_us = timeout < 0 ? -1 :
      g_get_monotonic_time () + (gint64) timeout *1000;
  /* read after the query: a close before it is seen now, one after it at
   * the next sync */
  closes = g_atomic_int_get (&fd_closes);
  slot_sync_fds (self, slot, closes != slot->closes_seen);
  slot->closes_seen = closes;
  return timeout;
}

static Slot *
slot_new (BridgeScheduler * self, GMainContext * context)
{
  Slot *slot = g_new0 (Slot, 1);

  slot->context = context;      /* the request's reference */
  slot->entries = g_ptr_array_new ();
  slot->spare_entries = g_ptr_array_new ();
  slot->n_alloc = 8;
  slot->fds = g_new0 (GPollFD, slot->n_alloc);
  slot->deadline_us = -1;
  slot->wakeup_fd = -1;
  if (!g_main_context_acquire (context))
    g_critical ("bridge-scheduler: the context is owned by another thread");
  else
    slot->wakeup_fd = find_wakeup_fd (context);
  g_ptr_array_add (self->slots, slot);
  /* no check before the first prepare */
  slot_run (self, slot, FALSE);
  return slot;
}

static void
slot_free (BridgeScheduler * self, Slot * slot)
{
  guint i;

  g_assert (!slot->ready);
  for (i = slot->entries->len; i > 0; i--)
    entry_drop_user (self, g_ptr_array_index (slot->entries, i - 1), slot);
  g_ptr_array_unref (slot->entries);
  g_ptr_array_unref (slot->spare_entries);
  g_ptr_array_remove_fast (self->slots, slot);
  g_main_context_release (slot->context);
  g_main_context_unref (slot->context);
  g_free (slot->fds);
  g_free (slot);
  g_atomic_int_add (&self->n_contexts, -1);
}

static Slot *
find_slot (BridgeScheduler * self, GMainContext * context)
{
  guint i;

  for (i = 0; i < self->slots->len; i++) {
    Slot *slot = g_ptr_array_index (self->slots, i);

    if (slot->context == context)
      return slot;
  }
  return NULL;
}

/* Nothing of the context can ever fire again but a cross-thread wake-up:
 * only its wake-up descriptor, no timeout. */
static gboolean
slot_is_idle (Slot * slot)
{
  return slot->deadline_us < 0 && slot->n_fds <= 1;
}

/* ---- the thread ---------------------------------------------------------- */

static void
mark_ready (BridgeScheduler * self, Slot * slot)
{
  if (slot->ready)
    return;
  slot->ready = TRUE;
  g_ptr_array_add (self->ready, slot);
}

static void
take_requests (BridgeScheduler * self)
{
  Request *req;
  guint64 count;

  if (read (self->control_fd, &count, sizeof (count)) < 0 && errno != EAGAIN)
    g_warning ("bridge-scheduler: control read: %s", g_strerror (errno));
  for (;;) {
    Slot *slot;

    g_mutex_lock (&self->lock);
    req = g_queue_pop_head (&self->requests);
    g_mutex_unlock (&self->lock);
    if (req == NULL)
      return;
    if (req->kind == REQUEST_ADD) {
      slot_new (self, req->context);
    } else if ((slot = find_slot (self, req->context))) {
      slot->retiring = TRUE;
      slot->retire_by_us = g_get_monotonic_time () +
          (gint64) req->grace_ms * 1000;
      g_main_context_unref (req->context);
      /* freed after its run in this round if nothing is left: not here,
       * the slot may be in this round's ready list already */
      mark_ready (self, slot);
    } else {
      g_main_context_unref (req->context);
    }
    g_free (req);
  }
}

/* When @slot must run even if none of its descriptors is ready: its
 * timeout, or the end of its retirement's grace; -1: never. */
static gint64
slot_due_us (Slot * slot)
{
  gint64 due = slot->deadline_us;

  if (slot->retiring && (due < 0 || slot->retire_by_us < due))
    due = slot->retire_by_us;
  return due;
}

/* epoll_wait's timeout: until the nearest deadline (rounded up, so that a
 * timeout is never early), -1 when none. A scan: the slots are few per
 * thread and this is an array walk, not a walk over every source. */
static gint
next_timeout_ms (BridgeScheduler * self, gint64 now)
{
  gint64 nearest = -1;
  guint i;

  for (i = 0; i < self->slots->len; i++) {
    gint64 due = slot_due_us (g_ptr_array_index (self->slots, i));

    if (due >= 0 && (nearest < 0 || due < nearest))
      nearest = due;
  }
  if (nearest < 0)
    return -1;
  if (nearest <= now)
    return 0;
  return (gint) MIN ((nearest - now + 999) / 1000, G_MAXINT);
}

static void
run_round (BridgeScheduler * self, struct epoll_event *events)
{
  gint64 now = g_get_monotonic_time ();
  gint n, i;
  guint k;

  n = epoll_wait (self->epoll_fd, events, MAX_EVENTS,
      next_timeout_ms (self, now));
  if (n < 0 && errno != EINTR)
    g_warning ("bridge-scheduler: epoll_wait: %s", g_strerror (errno));
  for (i = 0; i < n; i++) {
    gint fd = events[i].data.fd;
    gushort revents = poll_events_for (events[i].events);
    FdEntry *entry;

    if (fd == self->control_fd) {
      take_requests (self);
      continue;
    }
    entry = g_hash_table_lookup (self->fd_entries, GINT_TO_POINTER (fd));
    if (entry == NULL)
      continue;
    for (k = 0; k < entry->users->len; k++) {
      Slot *slot = g_ptr_array_index (entry->users, k);
      gint j;

      for (j = 0; j < slot->n_fds; j++)
        if (slot->fds[j].fd == fd)
          slot->fds[j].revents |= revents &
              (slot->fds[j].events | G_IO_ERR | G_IO_HUP | G_IO_NVAL);
      mark_ready (self, slot);
    }
  }
  now = g_get_monotonic_time ();
  for (k = 0; k < self->slots->len; k++) {
    Slot *slot = g_ptr_array_index (self->slots, k);
    gint64 due = slot_due_us (slot);

    if (due >= 0 && due <= now)
      mark_ready (self, slot);
  }
  /* a slot freed below leaves the ready list first */
  for (k = 0; k < self->ready->len; k++) {
    Slot *slot = g_ptr_array_index (self->ready, k);

    slot->ready = FALSE;
    slot_run (self, slot, TRUE);
    if (slot->retiring && (slot_is_idle (slot) ||
            slot->retire_by_us <= g_get_monotonic_time ()))
      slot_free (self, slot);
  }
  g_ptr_array_set_size (self->ready, 0);
}

static gpointer
scheduler_thread (gpointer data)
{
  BridgeScheduler *self = data;
  struct epoll_event *events = g_new (struct epoll_event, MAX_EVENTS);
  gboolean stopping = FALSE;

  while (!stopping) {
    run_round (self, events);
    g_mutex_lock (&self->lock);
    stopping = self->stopping;
    g_mutex_unlock (&self->lock);
  }
  /* What is already due gets its rounds, as with g_main_context_iteration
   * (context, FALSE) after g_main_loop_quit; contexts added meanwhile too. */
  for (take_requests (self); self->slots->len > 0; take_requests (self)) {
    Slot *slot = g_ptr_array_index (self->slots, self->slots->len - 1);
    guint rounds = 0, k;

    for (k = 0; k < self->ready->len; k++)
      ((Slot *) g_ptr_array_index (self->ready, k))->ready = FALSE;
    g_ptr_array_set_size (self->ready, 0);

    while (rounds++ < FINAL_ROUNDS) {
      gboolean io = g_poll (slot->fds, slot->n_fds, 0) > 0;

      if (slot_run (self, slot, TRUE) != 0 && !io)
        break;
    }
    slot_free (self, slot);
  }
  g_free (events);
  return NULL;
}

/* ---- API ----------------------------------------------------------------- */

BridgeScheduler *
bridge_scheduler_new (const gchar * thread_name, GError ** error)
{
  BridgeScheduler *self;
  struct epoll_event ev = { 0, };
  gint epoll_fd, control_fd;

  epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "epoll_create1: %s", g_strerror (errno));
    return NULL;
  }
  control_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  ev.events = EPOLLIN;
  ev.data.fd = control_fd;
  if (control_fd < 0
      || epoll_ctl (epoll_fd, EPOLL_CTL_ADD, control_fd, &ev) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "eventfd: %s", g_strerror (errno));
    if (control_fd >= 0)
      close (control_fd);
    close (epoll_fd);
    return NULL;
  }
  self = g_new0 (BridgeScheduler, 1);
  self->epoll_fd = epoll_fd;
  self->control_fd = control_fd;
  g_mutex_init (&self->lock);
  g_queue_init (&self->requests);
  self->slots = g_ptr_array_new ();
  self->ready = g_ptr_array_new ();
  self->fd_entries = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) fd_entry_free);
  self->thread = g_thread_new (thread_name, scheduler_thread, self);
  return self;
}

static void
push_request (BridgeScheduler * self, RequestKind kind,
    GMainContext * context, guint grace_ms)
{
  Request *req = g_new0 (Request, 1);
  guint64 one = 1;

  req->kind = kind;
  req->context = g_main_context_ref (context);
  req->grace_ms = grace_ms;
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->requests, req);
  g_mutex_unlock (&self->lock);
  if (write (self->control_fd, &one, sizeof (one)) < 0 && errno != EAGAIN)
    g_warning ("bridge-scheduler: control write: %s", g_strerror (errno));
}

GMainContext *
bridge_scheduler_context_new (void)
{
  return g_main_context_new_with_flags (G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);
}

void
bridge_scheduler_add (BridgeScheduler * self, GMainContext * context)
{
  g_return_if_fail (self != NULL && context != NULL);
  g_atomic_int_inc (&self->n_contexts);
  push_request (self, REQUEST_ADD, context, 0);
}

void
bridge_scheduler_retire (BridgeScheduler * self, GMainContext * context,
    guint grace_ms)
{
  g_return_if_fail (self != NULL && context != NULL);
  push_request (self, REQUEST_RETIRE, context, grace_ms);
}

guint
bridge_scheduler_get_n_contexts (BridgeScheduler * self)
{
  return (guint) g_atomic_int_get (&self->n_contexts);
}

void
bridge_scheduler_free (BridgeScheduler * self)
{
  guint64 one = 1;

  if (self == NULL)
    return;
  g_return_if_fail (g_thread_self () != self->thread);
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_mutex_unlock (&self->lock);
  if (write (self->control_fd, &one, sizeof (one)) < 0 && errno != EAGAIN)
    g_warning ("bridge-scheduler: control write: %s", g_strerror (errno));
  g_thread_join (self->thread);
  g_assert (self->slots->len == 0);
  g_ptr_array_unref (self->slots);
  g_ptr_array_unref (self->ready);
  g_hash_table_unref (self->fd_entries);
  g_mutex_clear (&self->lock);
  close (self->control_fd);
  close (self->epoll_fd);
  g_free (self);
}
