/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GPollFunc on epoll for the harness's loop threads. GLib's poll() looks
 * at every socket of the context on every wake-up, so a loop serving a few
 * hundred WebSockets spends more time polling than handling messages;
 * epoll keeps the set in the kernel and reports only what is ready.
 *
 * Set it with g_main_context_set_poll_func () on a context that only one
 * thread iterates; the epoll set is per thread (freed when the thread
 * exits). A file descriptor closed and reused between two polls keeps a
 * stale registration: every BENCH_POLL_SWEEP_US the set is re-checked, so
 * such a socket is late by at most that long (the harness opens its
 * sockets before measuring).
 */
#ifndef __BENCH_POLL_H__
#define __BENCH_POLL_H__

#include <glib.h>

G_BEGIN_DECLS

#define BENCH_POLL_SWEEP_US (250 * G_TIME_SPAN_MILLISECOND)

gint bench_epoll_poll (GPollFD * fds, guint n_fds, gint timeout_ms);

G_END_DECLS

#endif
