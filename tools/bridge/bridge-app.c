/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The call loops and the calls table shared by the main thread and the
 * call loops.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-app.h"
#include "bridge-call.h"

/* ---- call loops ---------------------------------------------------------- */

/* Idle then: the calls' contexts were retired when the calls ended, and
 * the scheduler gives what is left its last rounds. */
static void
call_loop_free (BridgeCallLoop * loop)
{
  bridge_scheduler_free (loop->scheduler);
  if (loop->main_context)
    g_main_context_unref (loop->main_context);
  g_free (loop);
}

/* One loop: the main loop itself; no thread, no hand-over. */
static void
add_main_loop (BridgeApp * app)
{
  BridgeCallLoop *loop = g_new0 (BridgeCallLoop, 1);

  loop->app = app;
  loop->main_context = g_main_context_ref (g_main_context_default ());
  g_ptr_array_add (app->call_loops, loop);
}

void
bridge_app_start_loops (BridgeApp * app)
{
  guint n = app->config->call_loops > 0 ? (guint) app->config->call_loops :
      (guint) MAX (1, g_get_num_processors ());
  guint i;

  app->call_loops = g_ptr_array_new_with_free_func ((GDestroyNotify)
      call_loop_free);
  for (i = 0; n > 1 && i < n; i++) {
    BridgeCallLoop *loop = g_new0 (BridgeCallLoop, 1);
    g_autofree gchar *name = g_strdup_printf ("call-loop-%u", i);
    g_autoptr (GError) error = NULL;

    loop->app = app;
    loop->index = i;
    loop->scheduler = bridge_scheduler_new (name, &error);
    if (loop->scheduler == NULL) {
      /* out of file descriptors at start: the loops made so far serve,
       * or the main loop */
      g_warning ("realtime-bridge: %s: %s; calls run on %u call loops",
          name, error->message, MAX (app->call_loops->len, 1));
      g_free (loop);
      break;
    }
    g_ptr_array_add (app->call_loops, loop);
  }
  if (app->call_loops->len == 0)
    add_main_loop (app);
}

void
bridge_app_stop_loops (BridgeApp * app)
{
  g_clear_pointer (&app->call_loops, g_ptr_array_unref);
}

GMainContext *
bridge_app_loop_new_call_context (BridgeCallLoop * loop)
{
  GMainContext *context;

  if (loop->scheduler == NULL)
    return g_main_context_ref (loop->main_context);
  context = bridge_scheduler_context_new ();
  bridge_scheduler_add (loop->scheduler, context);
  return context;
}

void
bridge_app_attach_call_work (GMainContext * context, GSourceFunc func,
    gpointer data, GDestroyNotify notify)
{
  GSource *source = g_idle_source_new ();

  /* what g_main_context_invoke_full (G_PRIORITY_DEFAULT) would queue */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_attach (source, context);
  g_source_unref (source);
}

/* Long enough for a WebSocket closing handshake and its timeouts. */
#define RETIRE_GRACE_MS 30000

void
bridge_app_loop_retire_call_context (BridgeCallLoop * loop,
    GMainContext * context)
{
  if (loop->scheduler)
    bridge_scheduler_retire (loop->scheduler, context, RETIRE_GRACE_MS);
}

BridgeCallLoop *
bridge_app_pick_loop (BridgeApp * app)
{
  BridgeCallLoop *best = NULL;
  guint i;

  /* Picks happen on the main thread only, so the counts cannot grow under
   * us; they only shrink when calls end. */
  for (i = 0; i < app->call_loops->len; i++) {
    BridgeCallLoop *loop = g_ptr_array_index (app->call_loops, i);

    if (!best || g_atomic_int_get (&loop->calls) <
        g_atomic_int_get (&best->calls))
      best = loop;
  }
  g_atomic_int_inc (&best->calls);
  return best;
}

void
bridge_app_release_loop (BridgeCallLoop * loop)
{
  g_atomic_int_add (&loop->calls, -1);
}

/* ---- calls table --------------------------------------------------------- */

gboolean
bridge_app_reserve_call (BridgeApp * app, guint * number, const gchar ** reason)
{
  gboolean ok = FALSE;

  g_mutex_lock (&app->lock);
  if (g_atomic_int_get (&app->draining)) {
    *reason = "draining";
  } else if (g_hash_table_size (app->calls) + app->reserved >=
      (guint) app->config->max_calls) {
    *reason = "max-calls";
  } else {
    app->reserved++;
    *number = ++app->next_call_number;
    ok = TRUE;
  }
  g_mutex_unlock (&app->lock);
  return ok;
}

void
bridge_app_cancel_reservation (BridgeApp * app)
{
  g_mutex_lock (&app->lock);
  g_assert (app->reserved > 0);
  app->reserved--;
  g_mutex_unlock (&app->lock);
  /* A drain may have waited for it. */
  bridge_app_call_finished (app);
}

void
bridge_app_register_call (BridgeApp * app, BridgeCall * call)
{
  g_mutex_lock (&app->lock);
  g_assert (app->reserved > 0);
  app->reserved--;
  g_hash_table_insert (app->calls, (gpointer) bridge_call_get_id (call), call);
  g_mutex_unlock (&app->lock);
}

void
bridge_app_unregister_call (BridgeApp * app, BridgeCall * call)
{
  g_mutex_lock (&app->lock);
  g_hash_table_steal (app->calls, bridge_call_get_id (call));
  g_mutex_unlock (&app->lock);
}

guint
bridge_app_active_calls (BridgeApp * app)
{
  guint n;

  g_mutex_lock (&app->lock);
  n = g_hash_table_size (app->calls) + app->reserved;
  g_mutex_unlock (&app->lock);
  return n;
}

gboolean
bridge_app_is_draining (BridgeApp * app)
{
  return g_atomic_int_get (&app->draining);
}

typedef struct
{
  BridgeApp *app;
  gchar *id;
  gchar *reason;
} AbortRequest;

static void
abort_request_free (gpointer data)
{
  AbortRequest *req = data;

  g_free (req->id);
  g_free (req->reason);
  g_free (req);
}

/* On the call's loop, the only thread that frees its calls: a call found
 * here stays valid until this returns. */
static gboolean
abort_on_loop (gpointer data)
{
  AbortRequest *req = data;
  BridgeCall *call;

  g_mutex_lock (&req->app->lock);
  call = g_hash_table_lookup (req->app->calls, req->id);
  g_mutex_unlock (&req->app->lock);
  if (call)
    bridge_call_abort (call, req->reason);
  return G_SOURCE_REMOVE;
}

void
bridge_app_abort_all_calls (BridgeApp * app, const gchar * reason)
{
  GPtrArray *requests = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  guint i;

  g_mutex_lock (&app->lock);
  g_hash_table_iter_init (&iter, app->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    AbortRequest *req = g_new0 (AbortRequest, 1);

    req->app = app;
    req->id = g_strdup (bridge_call_get_id (value));
    req->reason = g_strdup (reason);
    g_ptr_array_add (requests, req);
    g_ptr_array_add (requests,
        g_main_context_ref (bridge_call_get_context (value)));
  }
  g_mutex_unlock (&app->lock);
  /* Outside the lock, as sources: a call that ended meanwhile may have
   * had its context dropped by the scheduler, and invoke would then run
   * here. */
  for (i = 0; i < requests->len; i += 2) {
    GMainContext *context = g_ptr_array_index (requests, i + 1);

    bridge_app_attach_call_work (context, abort_on_loop,
        g_ptr_array_index (requests, i), abort_request_free);
    g_main_context_unref (context);
  }
  g_ptr_array_unref (requests);
}
