/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The harness's epoll-based GPollFunc; see benchpoll.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "benchpoll.h"

/* On Linux G_IO_IN/PRI/OUT/ERR/HUP are the poll() bits, and EPOLLIN/PRI/
 * OUT/ERR/HUP have the same values. */
G_STATIC_ASSERT ((gint) G_IO_IN == (gint) EPOLLIN
    && (gint) G_IO_PRI == (gint) EPOLLPRI && (gint) G_IO_OUT == (gint) EPOLLOUT
    && (gint) G_IO_ERR == (gint) EPOLLERR
    && (gint) G_IO_HUP == (gint) EPOLLHUP);

#define ALWAYS_REPORTED (G_IO_ERR | G_IO_HUP | G_IO_NVAL)

typedef struct
{
  guint16 registered;           /* events in the epoll set, 0 = none */
  guint16 wanted;               /* this poll's events (all entries of @fd) */
  guint16 ready;                /* what epoll reported this poll */
  guint16 invalid;              /* EBADF: reported as G_IO_NVAL */
  guint64 seen;                 /* the poll this fd was last asked for */
  guint64 ready_in;             /* the poll @ready is from */
} FdState;

typedef struct
{
  gint epfd;
  guint64 generation;
  GArray *fds;                  /* FdState, indexed by fd */
  GArray *registered;           /* gint: fds in the epoll set */
  struct epoll_event *events;
  guint n_events;
  gint64 last_sweep_us;
} EpollState;

static void
epoll_state_free (gpointer data)
{
  EpollState *st = data;

  if (st->epfd >= 0)
    close (st->epfd);
  g_array_unref (st->fds);
  g_array_unref (st->registered);
  g_free (st->events);
  g_free (st);
}

static GPrivate epoll_state_key = G_PRIVATE_INIT (epoll_state_free);

static EpollState *
epoll_state_get (void)
{
  EpollState *st = g_private_get (&epoll_state_key);

  if (st == NULL) {
    st = g_new0 (EpollState, 1);
    st->epfd = epoll_create1 (EPOLL_CLOEXEC);
    st->fds = g_array_new (FALSE, TRUE, sizeof (FdState));
    st->registered = g_array_new (FALSE, FALSE, sizeof (gint));
    st->last_sweep_us = g_get_monotonic_time ();
    g_private_set (&epoll_state_key, st);
  }
  return st;
}

static FdState *
fd_state (EpollState * st, gint fd)
{
  if ((guint) fd >= st->fds->len)
    g_array_set_size (st->fds, MAX ((guint) fd + 1, st->fds->len * 2));
  return &g_array_index (st->fds, FdState, fd);
}

static gint
epoll_set (EpollState * st, gint op, gint fd, guint16 events)
{
  struct epoll_event ev = { 0, };

  ev.events = events & (G_IO_IN | G_IO_PRI | G_IO_OUT);
  ev.data.fd = fd;
  return epoll_ctl (st->epfd, op, fd, &ev) == 0 ? 0 : errno;
}

/* Brings @fd's registration to @f->wanted. */
static void
update_fd (EpollState * st, gint fd, FdState * f)
{
  gint err;

  f->invalid = FALSE;
  if (f->registered) {
    err = epoll_set (st, EPOLL_CTL_MOD, fd, f->wanted);
    /* the file was closed (which left the set) and the number reused */
    if (err == ENOENT)
      err = epoll_set (st, EPOLL_CTL_ADD, fd, f->wanted);
  } else {
    err = epoll_set (st, EPOLL_CTL_ADD, fd, f->wanted);
    g_array_append_val (st->registered, fd);
    if (err == EEXIST)
      err = epoll_set (st, EPOLL_CTL_MOD, fd, f->wanted);
  }
  if (err == EBADF)
    f->invalid = TRUE;
  /* 0 in the set still means "registered": epoll reports ERR/HUP */
  f->registered = f->wanted | 0x8000;
}

/* Drops what this poll did not ask for; every BENCH_POLL_SWEEP_US also
 * re-registers everything, which repairs a stale registration. */
static void
drop_unwanted (EpollState * st, gboolean sweep)
{
  guint i = 0;

  while (i < st->registered->len) {
    gint fd = g_array_index (st->registered, gint, i);
    FdState *f = &g_array_index (st->fds, FdState, fd);

    if (f->seen != st->generation) {
      epoll_ctl (st->epfd, EPOLL_CTL_DEL, fd, NULL);
      f->registered = 0;
      g_array_remove_index_fast (st->registered, i);
      continue;
    }
    if (sweep)
      update_fd (st, fd, f);
    i++;
  }
}

gint
bench_epoll_poll (GPollFD * fds, guint n_fds, gint timeout_ms)
{
  EpollState *st = epoll_state_get ();
  gboolean sweep = FALSE;
  gint n_ready, n, i;
  gint64 now;
  guint k;

  if (st->epfd < 0)
    return g_poll (fds, n_fds, timeout_ms);
  st->generation++;
  /* what is asked for now: all entries of one fd together */
  for (k = 0; k < n_fds; k++) {
    FdState *f;

    fds[k].revents = 0;
    if (fds[k].fd < 0)
      continue;
    f = fd_state (st, fds[k].fd);
    if (f->seen != st->generation) {
      f->seen = st->generation;
      f->wanted = 0;
    }
    f->wanted |= fds[k].events & (G_IO_IN | G_IO_PRI | G_IO_OUT);
  }
  for (k = 0; k < n_fds; k++) {
    FdState *f;

    if (fds[k].fd < 0)
      continue;
    f = &g_array_index (st->fds, FdState, fds[k].fd);
    if (f->registered != (f->wanted | 0x8000))
      update_fd (st, fds[k].fd, f);
  }
  now = g_get_monotonic_time ();
  if (now - st->last_sweep_us >= BENCH_POLL_SWEEP_US) {
    sweep = TRUE;
    st->last_sweep_us = now;
  }
  drop_unwanted (st, sweep);

  if (st->n_events < st->registered->len + 1) {
    st->n_events = st->registered->len + 16;
    st->events = g_renew (struct epoll_event, st->events, st->n_events);
  }
  n = epoll_wait (st->epfd, st->events, st->n_events, timeout_ms);
  if (n < 0)
    return -1;
  for (i = 0; i < n; i++) {
    FdState *f = &g_array_index (st->fds, FdState, st->events[i].data.fd);

    f->ready = st->events[i].events;
    f->ready_in = st->generation;
  }
  n_ready = 0;
  for (k = 0; k < n_fds; k++) {
    FdState *f;

    if (fds[k].fd < 0)
      continue;
    f = &g_array_index (st->fds, FdState, fds[k].fd);
    if (f->invalid)
      fds[k].revents = G_IO_NVAL;
    else if (f->ready_in == st->generation)
      fds[k].revents = f->ready & (fds[k].events | ALWAYS_REPORTED);
    if (fds[k].revents)
      n_ready++;
  }
  return n_ready;
}
