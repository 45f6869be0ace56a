/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A call scheduler: one thread that runs many small GMainContexts (one per
 * call) over one epoll set, so that a wake-up costs what the ready call
 * has, not what every call on the thread has.
 */
#ifndef __BRIDGE_SCHEDULER_H__
#define __BRIDGE_SCHEDULER_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BridgeScheduler BridgeScheduler;

/* Starts the thread. NULL (with @error) when the kernel refuses an epoll
 * set or an eventfd. */
BridgeScheduler *bridge_scheduler_new (const gchar * thread_name,
    GError ** error);

/* Any thread but the scheduler's: stops the thread. The contexts still
 * attached get one last round for what is already due, then are
 * released and unreferenced. */
void bridge_scheduler_free (BridgeScheduler * self);

/* A context for a scheduler (G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING):
 * every source attached to it wakes it, also one attached from another
 * context's callback on the scheduler's own thread, which GLib would not
 * wake for a context that thread owns. */
GMainContext *bridge_scheduler_context_new (void);

/* Any thread: from now on the scheduler's thread owns @context (made by
 * bridge_scheduler_context_new (), not owned by another thread) and runs
 * it, with @context as the thread-default context while its sources
 * dispatch. Takes a reference. Since that thread owns every context it
 * runs, g_main_context_invoke () on one of them from a callback of
 * another runs the function at once, inside that callback. */
void bridge_scheduler_add (BridgeScheduler * self, GMainContext * context);

/* Any thread, also from one of @context's own callbacks: @context has no
 * more work to start. The scheduler runs it until nothing that could ever
 * fire is left (no file descriptor but its own wake-up and no timeout,
 * e.g. once closing sockets are closed), or @grace_ms have passed, then
 * releases and unreferences it. */
void bridge_scheduler_retire (BridgeScheduler * self, GMainContext * context,
    guint grace_ms);

/* Any thread: the contexts attached, retiring ones included. */
guint bridge_scheduler_get_n_contexts (BridgeScheduler * self);

G_END_DECLS

#endif
