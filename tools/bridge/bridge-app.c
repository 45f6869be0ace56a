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

static gpointer
call_loop_thread (gpointer user_data)
{
  BridgeCallLoop *loop = user_data;

  /* Everything made here (WebSocket connections, timers, message sources)
   * belongs to this context. */
  g_main_context_push_thread_default (loop->context);
  g_main_loop_run (loop->loop);
  /* What the last calls left behind (closing sockets' callbacks). */
  while (g_main_context_iteration (loop->context, FALSE));
  g_main_context_pop_thread_default (loop->context);
  return NULL;
}

static void
call_loop_free (BridgeCallLoop * loop)
{
  if (loop->loop)
    g_main_loop_unref (loop->loop);
  g_main_context_unref (loop->context);
  g_free (loop);
}

void
bridge_app_start_loops (BridgeApp * app)
{
  guint n = app->config->call_loops > 0 ? (guint) app->config->call_loops :
      (guint) MAX (1, g_get_num_processors ());
  guint i;

  app->call_loops = g_ptr_array_new_with_free_func ((GDestroyNotify)
      call_loop_free);
  if (n == 1) {
    /* One loop: the main loop itself; no thread, no hand-over. */
    BridgeCallLoop *loop = g_new0 (BridgeCallLoop, 1);

    loop->app = app;
    loop->context = g_main_context_ref (g_main_context_default ());
    g_ptr_array_add (app->call_loops, loop);
    return;
  }
  for (i = 0; i < n; i++) {
    BridgeCallLoop *loop = g_new0 (BridgeCallLoop, 1);
    g_autofree gchar *name = g_strdup_printf ("call-loop-%u", i);

    loop->app = app;
    loop->index = i;
    loop->context = g_main_context_new ();
    loop->loop = g_main_loop_new (loop->context, FALSE);
    loop->thread = g_thread_new (name, call_loop_thread, loop);
    g_ptr_array_add (app->call_loops, loop);
  }
}

void
bridge_app_stop_loops (BridgeApp * app)
{
  guint i;

  if (!app->call_loops)
    return;
  for (i = 0; i < app->call_loops->len; i++) {
    BridgeCallLoop *loop = g_ptr_array_index (app->call_loops, i);

    if (loop->thread) {
      g_main_loop_quit (loop->loop);
      g_thread_join (loop->thread);
      loop->thread = NULL;
    }
  }
  g_clear_pointer (&app->call_loops, g_ptr_array_unref);
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
    g_ptr_array_add (requests, bridge_call_get_loop (value)->context);
  }
  g_mutex_unlock (&app->lock);
  /* Outside the lock: on the main loop's own context this runs inline. */
  for (i = 0; i < requests->len; i += 2)
    g_main_context_invoke_full (g_ptr_array_index (requests, i + 1),
        G_PRIORITY_DEFAULT, abort_on_loop, g_ptr_array_index (requests, i),
        abort_request_free);
  g_ptr_array_unref (requests);
}
