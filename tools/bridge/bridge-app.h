/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher's shared state. The main thread (the default GMainContext)
 * runs the HTTP server (webhook, /health, /metrics, /logs), accepts every
 * connection and handles signals. Each call lives on one call loop: a
 * thread with a GMainContext of its own (or the main loop itself with
 * --loops 1) that owns the call's Twilio WebSocket, its bus messages, its
 * timers and its teardown, and whose context the call's elements get as
 * the gst-realtime-bridge.loop GstContext (docs/design.md).
 *
 * Shared between threads: the calls table, the call numbering and the
 * reservations (under @lock), @draining (atomic), the metrics and the log
 * (each locks itself).
 */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include "bridge-config.h"
#include "bridge-log.h"
#include "bridge-metrics.h"
#include "bridge-scheduler.h"

G_BEGIN_DECLS

typedef struct _BridgeCall BridgeCall;
typedef struct _BridgeLogClient BridgeLogClient;
typedef struct _BridgeApp BridgeApp;

/* A call loop: a scheduler thread running one context per call
 * (bridge-scheduler.h), or the main loop itself (--loops 1). */
typedef struct
{
  BridgeApp *app;
  guint index;
  BridgeScheduler *scheduler;   /* NULL: the main loop */
  GMainContext *main_context;   /* with no scheduler */
  gint calls;                   /* atomic: calls placed here, for the pick */
} BridgeCallLoop;

struct _BridgeApp
{
  BridgeConfig *config;
  BridgeLog *log;
  BridgeMetrics *metrics;
  GMainLoop *loop;
  GThread *main_thread;
  SoupServer *server;
  GSocketService *service;      /* accepts for the server (see bridge-server.c) */
  GPtrArray *websocket_extension_types; /* what /call negotiates */
  guint port;

  /* The model endpoint the calls use (the local model's in local mode). */
  gchar *realtime_url;

  GPtrArray *call_loops;        /* BridgeCallLoop, fixed after start */

  GMutex lock;                  /* guards calls, reserved, next_call_number */
  GHashTable *calls;            /* id -> BridgeCall (owned) */
  guint reserved;               /* upgrades accepted, call not yet registered */
  guint next_call_number;

  /* /logs: clients live on the main thread; events from the call loops
   * reach them in batches (bridge-log-clients.c). */
  GPtrArray *log_clients;       /* BridgeLogClient */
  gint log_client_count;        /* atomic mirror of log_clients->len */
  GMutex fanout_lock;
  GPtrArray *fanout_batch;      /* gchar *, events waiting for the main loop */
  gboolean fanout_scheduled;

  gint64 started_us;            /* monotonic */
  gint draining;                /* atomic */
  guint drain_timeout_id;
  guint force_timeout_id;
};

/* ---- call loops (bridge-app.c) ------------------------------------------- */

/* Starts config->call_loops loops (0 = one per processor; 1 = the main
 * loop, no thread). */
void bridge_app_start_loops (BridgeApp * app);
/* Quits and joins every loop thread; their calls must have ended. */
void bridge_app_stop_loops (BridgeApp * app);
/* The loop with the fewest calls; counts one more call on it. */
BridgeCallLoop *bridge_app_pick_loop (BridgeApp * app);
void bridge_app_release_loop (BridgeCallLoop * loop);
/* Any thread: a context for one call on @loop (a new one its scheduler
 * runs, or the main context), with a reference for the caller. Work for it
 * is attached as sources, never g_main_context_invoke'd: the scheduler
 * may not own it yet. */
GMainContext *bridge_app_loop_new_call_context (BridgeCallLoop * loop);
/* Any thread: runs @func on @context's loop, as a source (see above). */
void bridge_app_attach_call_work (GMainContext * context, GSourceFunc func,
    gpointer data, GDestroyNotify notify);
/* The call on @context is over (also from one of its callbacks): what it
 * left behind (closing sockets) finishes, then the scheduler drops the
 * context. The caller's reference stays the caller's. */
void bridge_app_loop_retire_call_context (BridgeCallLoop * loop,
    GMainContext * context);

/* ---- the calls table (bridge-app.c), any thread -------------------------- */

/* Reserves a place for a call unless draining or at --max-calls (calls and
 * reservations counted); sets @number. FALSE: refused, @reason set. */
gboolean bridge_app_reserve_call (BridgeApp * app, guint * number,
    const gchar ** reason);
void bridge_app_cancel_reservation (BridgeApp * app);
/* Turns a reservation into a registered call. */
void bridge_app_register_call (BridgeApp * app, BridgeCall * call);
/* Removes the call from the table without freeing it. */
void bridge_app_unregister_call (BridgeApp * app, BridgeCall * call);
/* Calls plus reservations. */
guint bridge_app_active_calls (BridgeApp * app);
gboolean bridge_app_is_draining (BridgeApp * app);
/* Ends every call, each on its own loop. */
void bridge_app_abort_all_calls (BridgeApp * app, const gchar * reason);

/* Called by a call (on its loop) when it has fully ended and been removed;
 * the main loop looks whether a drain is complete. */
void bridge_app_call_finished (BridgeApp * app);

G_END_DECLS
