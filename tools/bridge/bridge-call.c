/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One call of the launcher: a pipeline built from the template, every bus
 * message turned into a log event, the call's summary (counted by
 * bridge-call-summary.c) and metrics.
 *
 * A call lives on its call loop (bridge-app.h): the loop's context owns the
 * Twilio WebSocket, the handling of bus messages, the timers, and is handed to the
 * elements as the gst-realtime-bridge.loop GstContext, so that the sources
 * push from that loop and the sinks send inline (docs/design.md), unless
 * --threaded-calls or a sink that syncs to the clock (which would stall the
 * loop) keeps the call threaded.
 *
 * Life of a call (on its loop):
 *   RUNNING --twilio-stop/closed, socket closed--> HANGING_UP (EOS sent,
 *   waits for the pipeline's EOS up to --hangup-timeout)
 *   RUNNING/HANGING_UP --EOS, ERROR, abort--> TEARING_DOWN (set to NULL in
 *   GStreamer's thread pool) --> finished: summary logged, call freed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-call.h"
#include "bridge-call-summary.h"

#include <string.h>

typedef enum
{
  CALL_RUNNING,
  CALL_HANGING_UP,
  CALL_TEARING_DOWN,
} CallState;

/* docs/design.md, "Loop-driven calls"; the plugins define the same strings. */
#define LOOP_CONTEXT_TYPE "gst-realtime-bridge.loop"
#define LOOP_CONTEXT_FIELD "main-context"

typedef struct _BusDispatch BusDispatch;

struct _BridgeCall
{
  BridgeApp *app;
  BridgeCallLoop *loop;
  GMainContext *context;        /* the call's: its loop runs it */
  gchar *id;
  gchar *call_sid;
  gchar *stream_sid;
  CallState state;

  GstElement *pipeline;
  GstBus *bus;
  BusDispatch *dispatch;        /* the bus's messages to the call's loop */
  gboolean start_failed;
  gboolean loop_driven;
  SoupWebsocketConnection *conn;
  gulong closed_handler;
  GSource *hangup_timeout;      /* on the loop's context */

  gint64 started_us;
  guint model_elements;
  gboolean failed;
  gchar *end_reason;

  BridgeCallSummary summary;    /* from the element messages */
};

static void call_teardown (BridgeCall * call, const gchar * reason);

const gchar *
bridge_call_get_id (BridgeCall * call)
{
  return call->id;
}

GMainContext *
bridge_call_get_context (BridgeCall * call)
{
  return call->context;
}

static void
clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

static BridgeLogIds
call_ids (BridgeCall * call)
{
  BridgeLogIds ids = { call->id, call->call_sid, call->stream_sid };

  return ids;
}

static void
call_log (BridgeCall * call, const gchar * level, const gchar * event,
    JsonObject * fields)
{
  BridgeLogIds ids = call_ids (call);

  bridge_log_emit (call->app->log, level, &ids, event, fields);
}

/* ---- configuring the elements -------------------------------------------- */

static gboolean
set_property_from_string (BridgeCall * call, GstElement * element,
    const gchar * name, const gchar * value)
{
  GParamSpec *pspec;

  if (!value)
    return TRUE;
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (element), name);
  if (!pspec || !(pspec->flags & G_PARAM_WRITABLE)) {
    JsonObject *fields = json_object_new ();

    json_object_set_string_member (fields, "element",
        GST_OBJECT_NAME (element));
    json_object_set_string_member (fields, "property", name);
    json_object_set_string_member (fields, "message",
        "the element has no such property; the setting is ignored");
    call_log (call, "warning", "config-ignored", fields);
    return FALSE;
  }
  if (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_STRING)
    g_object_set (element, name, value, NULL);
  else
    gst_util_set_object_arg (G_OBJECT (element), name, value);
  return TRUE;
}

static const gchar *
factory_name (GstElement * element)
{
  GstElementFactory *f = gst_element_get_factory (element);

  return f ? gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (f)) : "";
}

static gboolean
configure_elements (BridgeCall * call, GError ** error)
{
  const BridgeConfig *c = call->app->config;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (call->pipeline));
  GValue item = G_VALUE_INIT;
  gboolean done = FALSE;
  guint twilio_sources = 0;
  guint model_elements = 0;

  while (!done) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK:{
        GstElement *e = g_value_get_object (&item);
        const gchar *factory = factory_name (e);

        /* A live call has no preroll: nothing flows before PLAYING, and a
         * sink waiting for its first buffer holds the call in PAUSED. The
         * GAP events of openairealtimesrc preroll twiliosink, but not the
         * recording branches or whatever sinks a template holds
         * (docs/launcher.md). */
        if (GST_OBJECT_FLAG_IS_SET (e, GST_ELEMENT_FLAG_SINK)
            && g_object_class_find_property (G_OBJECT_GET_CLASS (e), "async"))
          g_object_set (e, "async", FALSE, NULL);

        if (g_str_has_prefix (factory, "twilio")) {
          set_property_from_string (call, e, "stream", call->id);
          if (g_str_equal (factory, "twiliosrc")) {
            twilio_sources++;
            if (!g_object_class_find_property (G_OBJECT_GET_CLASS (e),
                    "connection")) {
              g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                  "twiliosrc has no 'connection' property: this twilio "
                  "plugin cannot take an accepted WebSocket");
              done = TRUE;
            } else {
              /* On the call's loop, as docs/design.md "Threads" requires:
               * the connection's sources live on this context. */
              g_object_set (e, "connection", call->conn, NULL);
            }
          }
        } else if (g_str_has_prefix (factory, "openairealtime")) {
          model_elements++;
          set_property_from_string (call, e, "session", call->id);
          set_property_from_string (call, e, "url", call->app->realtime_url);
          set_property_from_string (call, e, "model", c->model);
          /* The embedded model takes any key; the elements insist on one. */
          set_property_from_string (call, e, "api-key", c->api_key ? c->api_key
              : (c->model_mode == BRIDGE_MODEL_LOCAL ? "local-model" : NULL));
          set_property_from_string (call, e, "instructions", c->instructions);
          set_property_from_string (call, e, "voice", c->voice);
          set_property_from_string (call, e, "greeting", c->greeting);
          set_property_from_string (call, e, "turn-detection",
              c->turn_detection);
          set_property_from_string (call, e, "transcription-model",
              c->transcription_model);
        }
        g_value_reset (&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync (it);
        twilio_sources = model_elements = 0;
        break;
      case GST_ITERATOR_ERROR:
      case GST_ITERATOR_DONE:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);

  if (error && *error)
    return FALSE;
  if (twilio_sources != 1) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "the pipeline has %u twiliosrc elements; exactly one must receive "
        "the call", twilio_sources);
    return FALSE;
  }
  call->model_elements = model_elements;
  if (model_elements == 0) {
    JsonObject *fields = json_object_new ();

    json_object_set_string_member (fields, "message",
        "the pipeline has no openairealtime element: no model in this call");
    call_log (call, "warning", "config-warning", fields);
  }
  return TRUE;
}

/* ---- bus messages -> events ---------------------------------------------- */

static void
on_twilio_start (BridgeCall * call, const GstStructure * s)
{
  const gchar *call_sid = gst_structure_get_string (s, "call-sid");
  const gchar *stream_sid = gst_structure_get_string (s, "stream-sid");

  if (call_sid) {
    g_free (call->call_sid);
    call->call_sid = g_strdup (call_sid);
  }
  if (stream_sid) {
    g_free (call->stream_sid);
    call->stream_sid = g_strdup (stream_sid);
  }
}

static void call_hangup (BridgeCall * call, const gchar * reason);

static void
recalculate_latency_async (GstElement * pipeline, gpointer user_data)
{
  gst_bin_recalculate_latency (GST_BIN (pipeline));
}

static JsonObject *
error_fields (GstMessage * msg, GError * err, const gchar * debug)
{
  JsonObject *fields = json_object_new ();

  json_object_set_string_member (fields, "source",
      GST_MESSAGE_SRC_NAME (msg) ? GST_MESSAGE_SRC_NAME (msg) : "");
  json_object_set_string_member (fields, "message", err->message);
  json_object_set_string_member (fields, "domain",
      g_quark_to_string (err->domain));
  json_object_set_int_member (fields, "code", err->code);
  if (debug)
    json_object_set_string_member (fields, "debug", debug);
  return fields;
}

static void
handle_message (BridgeCall * call, GstMessage * msg)
{
  const gchar *level = bridge_message_log_level (msg);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      call_log (call, "error", "error", error_fields (msg, err, debug));
      if (!call->failed) {
        call->failed = TRUE;
        g_free (call->end_reason);
        call->end_reason = g_strdup_printf ("error from %s: %s",
            GST_MESSAGE_SRC_NAME (msg), err->message);
      }
      call_teardown (call, NULL);
      break;
    }
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_warning (msg, &err, &debug);
      call_log (call, "warning", "warning", error_fields (msg, err, debug));
      break;
    }
    case GST_MESSAGE_INFO:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_info (msg, &err, &debug);
      call_log (call, "info", "info", error_fields (msg, err, debug));
      break;
    }
    case GST_MESSAGE_EOS:
      call_log (call, "info", "eos", NULL);
      call_teardown (call, "pipeline finished (EOS)");
      break;
    case GST_MESSAGE_STATE_CHANGED:{
      GstState old_state, new_state;
      JsonObject *fields;

      if (!bridge_log_enabled (call->app->log, level))
        break;
      fields = json_object_new ();
      gst_message_parse_state_changed (msg, &old_state, &new_state, NULL);
      json_object_set_string_member (fields, "source",
          GST_MESSAGE_SRC_NAME (msg));
      json_object_set_string_member (fields, "old-state",
          gst_element_state_get_name (old_state));
      json_object_set_string_member (fields, "new-state",
          gst_element_state_get_name (new_state));
      call_log (call, level, "state-changed", fields);
      break;
    }
    case GST_MESSAGE_LATENCY:
      /* Live sources joined or changed their latency. This takes the
       * pipeline's state lock: never on the main loop. */
      if (call->state != CALL_TEARING_DOWN)
        gst_element_call_async (call->pipeline, recalculate_latency_async,
            NULL, NULL);
      break;
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      const gchar *name;

      if (!s)
        break;
      name = gst_structure_get_name (s);
      bridge_call_summary_account (&call->summary, call->app->metrics, s);
      /* twilio-start names the call: take the names before logging. */
      if (g_str_equal (name, "twilio-start"))
        on_twilio_start (call, s);
      if (bridge_log_enabled (call->app->log, level)) {
        JsonObject *fields = bridge_structure_to_json (s);

        json_object_set_string_member (fields, "source",
            GST_MESSAGE_SRC_NAME (msg));
        call_log (call, level, name, fields);
      }
      if (g_str_equal (name, "twilio-stop"))
        call_hangup (call, "the caller hung up (twilio stop)");
      else if (g_str_equal (name, "twilio-closed"))
        call_hangup (call, "the Twilio WebSocket closed");
      break;
    }
    default:{
      JsonObject *fields;
      const GstStructure *s = gst_message_get_structure (msg);

      if (!bridge_log_enabled (call->app->log, level))
        break;
      fields = json_object_new ();
      json_object_set_string_member (fields, "type",
          GST_MESSAGE_TYPE_NAME (msg));
      json_object_set_string_member (fields, "source",
          GST_MESSAGE_SRC_NAME (msg) ? GST_MESSAGE_SRC_NAME (msg) : "");
      if (s)
        json_object_set_string_member (fields, "structure",
            gst_structure_get_name (s));
      call_log (call, level, "message", fields);
      break;
    }
  }
}


/* The sync handler moves the messages the call acts on into its own queue
 * and the call's loop handles them with one idle source per batch. A bus
 * watch would do the same but puts the bus's file descriptor and one more
 * source into the loop's poll for the whole call: with hundreds of calls on
 * a loop, that is a third of the file descriptors polled on every wake-up,
 * for a few messages per call per second. The queue is ours, not the bus's,
 * because the loop may run the idle source before the bus has queued a
 * message that the handler passed (the pipeline's final EOS then waited for
 * the hang-up timeout), and because the pipeline flushes its bus on its way
 * to NULL, which would drop what it said while going down. */
struct _BusDispatch
{
  gint ref_count;
  gboolean verbose;
  GMainContext *context;
  GMutex lock;
  GQueue messages;              /* lock: GstMessage, oldest first */
  GSource *pending;             /* lock */
  BridgeCall *call;             /* loop only; NULL once the call is freed */
  gboolean suspended;           /* loop only: tearing down */
};

static BusDispatch *
bus_dispatch_ref (BusDispatch * dispatch)
{
  g_atomic_int_inc (&dispatch->ref_count);
  return dispatch;
}

static void
bus_dispatch_unref (gpointer data)
{
  BusDispatch *dispatch = data;

  if (!g_atomic_int_dec_and_test (&dispatch->ref_count))
    return;
  g_queue_clear_full (&dispatch->messages, (GDestroyNotify) gst_message_unref);
  g_main_context_unref (dispatch->context);
  g_mutex_clear (&dispatch->lock);
  g_free (dispatch);
}

/* Any thread: the oldest message the call has not handled, or NULL. */
static GstMessage *
bus_dispatch_pop (BusDispatch * dispatch)
{
  GstMessage *msg;

  g_mutex_lock (&dispatch->lock);
  msg = g_queue_pop_head (&dispatch->messages);
  g_mutex_unlock (&dispatch->lock);
  return msg;
}

static gboolean
dispatch_messages (gpointer user_data)
{
  BusDispatch *dispatch = user_data;
  BridgeCall *call = dispatch->call;
  GstMessage *msg;

  g_mutex_lock (&dispatch->lock);
  g_clear_pointer (&dispatch->pending, g_source_unref);
  g_mutex_unlock (&dispatch->lock);
  /* tearing down: what is left is handled once the pipeline is down */
  if (call == NULL || dispatch->suspended)
    return G_SOURCE_REMOVE;
  while ((msg = bus_dispatch_pop (dispatch))) {
    handle_message (call, msg);
    gst_message_unref (msg);
    if (dispatch->suspended)
      break;
  }
  return G_SOURCE_REMOVE;
}

/* Any thread: queues the message (taking it) for the call's loop. */
static void
queue_message (BusDispatch * dispatch, GstMessage * msg)
{
  GSource *source = NULL;

  g_mutex_lock (&dispatch->lock);
  g_queue_push_tail (&dispatch->messages, msg);
  if (dispatch->pending == NULL) {
    source = dispatch->pending = g_idle_source_new ();
    g_source_set_name (source, "bridge call messages");
    g_source_set_callback (source, dispatch_messages,
        bus_dispatch_ref (dispatch), bus_dispatch_unref);
    g_source_ref (source);
  }
  g_mutex_unlock (&dispatch->lock);
  if (source) {
    g_source_attach (source, dispatch->context);
    g_source_unref (source);
  }
}

static void
cancel_dispatch (BusDispatch * dispatch)
{
  GSource *source;

  g_mutex_lock (&dispatch->lock);
  source = dispatch->pending;
  dispatch->pending = NULL;
  g_mutex_unlock (&dispatch->lock);
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
  }
}

/* In the posting thread (streaming threads, and the main loop itself for
 * what the Twilio socket brings, e.g. a twilio-mark per mark echo): a
 * message that would only become a debug event, with --verbose off, is
 * dropped here so that it is neither queued nor wakes the main loop.
 * LATENCY logs nothing but is acted on; every other message that
 * handle_message acts on (errors, EOS, twilio-start/stop/closed, realtime-*
 * accounting) is logged above debug, so it passes. */
static GstBusSyncReply
drop_unlogged_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  BusDispatch *dispatch = user_data;

  if (dispatch->verbose || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_LATENCY
      || !g_str_equal (bridge_message_log_level (msg), "debug"))
    queue_message (dispatch, msg);
  else
    gst_message_unref (msg);
  return GST_BUS_DROP;
}

/* ---- ending -------------------------------------------------------------- */

static gboolean
on_hangup_timeout (gpointer user_data)
{
  BridgeCall *call = user_data;

  g_clear_pointer (&call->hangup_timeout, g_source_unref);
  call_teardown (call, NULL);
  return G_SOURCE_REMOVE;
}

static void
send_eos_async (GstElement * pipeline, gpointer user_data)
{
  gst_element_send_event (pipeline, gst_event_new_eos ());
}

/* The caller is gone: let the pipeline drain (recordings get their
 * headers), then tear down. */
static void
call_hangup (BridgeCall * call, const gchar * reason)
{
  if (call->state != CALL_RUNNING)
    return;
  if (!call->end_reason)
    call->end_reason = g_strdup (reason);
  if (!call->app->config->record_dir) {
    /* Nothing to finalise: stop at once. */
    call_teardown (call, NULL);
    return;
  }
  call->state = CALL_HANGING_UP;
  /* Let the recordings get their headers. Sending EOS takes the sources'
   * stream locks: not on the call loop. */
  gst_element_call_async (call->pipeline, send_eos_async, NULL, NULL);
  call->hangup_timeout = g_timeout_source_new_seconds (MAX (1,
          call->app->config->hangup_timeout_s));
  g_source_set_callback (call->hangup_timeout, on_hangup_timeout, call, NULL);
  g_source_attach (call->hangup_timeout, call->context);
}

static void
on_connection_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  BridgeCall *call = user_data;

  call_hangup (call, "the Twilio WebSocket closed");
}

static void
log_summary (BridgeCall * call)
{
  JsonObject *f = json_object_new ();
  gdouble duration_s = (g_get_monotonic_time () - call->started_us) / 1e6;

  if (call->model_elements > 0 && !call->summary.model_connected
      && !call->failed) {
    /* A call that never reached its model did not do its job. */
    call->failed = TRUE;
    g_free (call->end_reason);
    call->end_reason = g_strdup_printf ("the Realtime model was never "
        "connected%s%s", call->summary.model_problem ? ": " : "",
        call->summary.model_problem ? call->summary.model_problem : "");
  }

  json_object_set_string_member (f, "status",
      call->failed ? "failed" : "completed");
  json_object_set_string_member (f, "reason",
      call->end_reason ? call->end_reason : "ended");
  json_object_set_double_member (f, "duration-s", duration_s);
  bridge_call_summary_add_fields (&call->summary, f);
  /* Counted before it is told: whoever reads the event may look at the
   * metrics at once (from another thread). */
  bridge_metrics_call_ended (call->app->metrics, duration_s, call->failed);
  call_log (call, call->failed ? "warning" : "info", "call-ended", f);
}

static gboolean
on_teardown_done (gpointer user_data)
{
  BridgeCall *call = user_data;
  BridgeApp *app = call->app;
  GstMessage *msg;

  /* What the pipeline said on its way down. */
  while ((msg = bus_dispatch_pop (call->dispatch))) {
    handle_message (call, msg);
    gst_message_unref (msg);
  }
  if (call->start_failed && !call->failed) {
    call->failed = TRUE;
    g_free (call->end_reason);
    call->end_reason = g_strdup ("the pipeline could not start");
  }
  if (soup_websocket_connection_get_state (call->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (call->conn,
        call->failed ? SOUP_WEBSOCKET_CLOSE_SERVER_ERROR :
        SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  /* Out of the table before the summary is told, for the same reason. */
  bridge_app_unregister_call (app, call);
  bridge_app_release_loop (call->loop);
  /* from this callback: the scheduler drops the context once what the
   * call left behind (the closing socket) is done */
  bridge_app_loop_retire_call_context (call->loop, call->context);
  log_summary (call);
  bridge_call_free (call);
  bridge_app_call_finished (app);
  return G_SOURCE_REMOVE;
}

static void
set_null_async (GstElement * pipeline, gpointer user_data)
{
  BridgeCall *call = user_data;

  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* From GStreamer's thread pool: scheduled on the call's loop. */
  g_main_context_invoke (call->context, on_teardown_done, call);
}

static void
call_teardown (BridgeCall * call, const gchar * reason)
{
  if (call->state == CALL_TEARING_DOWN)
    return;
  call->state = CALL_TEARING_DOWN;
  if (reason && !call->end_reason)
    call->end_reason = g_strdup (reason);
  clear_source (&call->hangup_timeout);
  if (call->dispatch) {
    call->dispatch->suspended = TRUE;
    cancel_dispatch (call->dispatch);
  }
  if (call->closed_handler) {
    g_signal_handler_disconnect (call->conn, call->closed_handler);
    call->closed_handler = 0;
  }
  gst_element_call_async (call->pipeline, set_null_async, call, NULL);
}

void
bridge_call_abort (BridgeCall * call, const gchar * reason)
{
  call_teardown (call, reason);
}

void
bridge_call_free (BridgeCall * call)
{
  if (!call)
    return;
  clear_source (&call->hangup_timeout);
  if (call->closed_handler)
    g_signal_handler_disconnect (call->conn, call->closed_handler);
  if (call->bus) {
    /* drops the handler's reference to the dispatch */
    gst_bus_set_sync_handler (call->bus, NULL, NULL, NULL);
    gst_object_unref (call->bus);
  }
  if (call->dispatch) {
    cancel_dispatch (call->dispatch);
    call->dispatch->call = NULL;
    bus_dispatch_unref (call->dispatch);
  }
  if (call->pipeline) {
    gst_element_set_state (call->pipeline, GST_STATE_NULL);
    gst_object_unref (call->pipeline);
  }
  g_clear_object (&call->conn);
  g_free (call->id);
  g_free (call->call_sid);
  g_free (call->stream_sid);
  g_free (call->end_reason);
  bridge_call_summary_clear (&call->summary);
  g_clear_pointer (&call->context, g_main_context_unref);
  g_free (call);
}

/* ---- starting ------------------------------------------------------------ */

/* A sink that syncs to the clock waits in render () until its buffer's
 * time: on a call loop that would stall every call on it. Returns the
 * name of the first such sink (owned), or NULL. Bins are looked into;
 * a sink bin that picks its sink later (autoaudiosink) tells by its own
 * "sync" property. */
static gchar *
find_syncing_sink (GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue item = G_VALUE_INIT;
  gchar *found = NULL;
  gboolean done = FALSE;

  while (!done) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK:{
        GstElement *e = g_value_get_object (&item);
        GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS
            (e), "sync");

        if (GST_OBJECT_FLAG_IS_SET (e, GST_ELEMENT_FLAG_SINK) && pspec
            && G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_BOOLEAN
            && (pspec->flags & G_PARAM_READABLE)) {
          gboolean sync = FALSE;

          g_object_get (e, "sync", &sync, NULL);
          if (sync) {
            found = gst_object_get_name (GST_OBJECT (e));
            done = TRUE;
          }
        }
        g_value_reset (&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync (it);
        break;
      case GST_ITERATOR_ERROR:
      case GST_ITERATOR_DONE:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

/* Hands the call's loop to the elements (docs/design.md, "Loop-driven
 * calls"), unless the call must stay threaded; says why once. */
static void
set_loop_context (BridgeCall * call)
{
  g_autofree gchar *syncing = NULL;
  GstContext *context;
  GstStructure *s;

  if (call->app->config->threaded_calls)
    return;
  syncing = find_syncing_sink (call->pipeline);
  if (syncing) {
    JsonObject *fields = json_object_new ();

    json_object_set_string_member (fields, "element", syncing);
    json_object_set_string_member (fields, "message",
        "a sink syncs to the clock (sync=true) and would block the call "
        "loop: this call runs threaded (set sync=false or put a queue "
        "before it to run it on the loop)");
    call_log (call, "warning", "call-threaded", fields);
    return;
  }
  context = gst_context_new (LOOP_CONTEXT_TYPE, TRUE);
  s = gst_context_writable_structure (context);
  gst_structure_set (s, LOOP_CONTEXT_FIELD, G_TYPE_MAIN_CONTEXT,
      call->context, NULL);
  gst_element_set_context (call->pipeline, context);
  gst_context_unref (context);
  call->loop_driven = TRUE;
}

BridgeCall *
bridge_call_start (BridgeApp * app, BridgeCallLoop * loop,
    GMainContext * context, guint number, SoupWebsocketConnection * conn,
    GError ** error)
{
  BridgeCall *call = g_new0 (BridgeCall, 1);
  g_autofree gchar *description = NULL;
  GstElement *pipeline;
  GstStateChangeReturn ret;

  call->app = app;
  call->loop = loop;
  call->context = g_main_context_ref (context);
  call->id = g_strdup_printf ("call-%u", number);
  call->conn = g_object_ref (conn);
  call->started_us = g_get_monotonic_time ();

  description = bridge_config_expand_pipeline (app->config, call->id);
  pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (!pipeline)
    goto failed;
  if (!GST_IS_PIPELINE (pipeline)) {
    /* A single element or a bin: wrap it. */
    GstElement *wrapper = gst_pipeline_new (NULL);

    gst_bin_add (GST_BIN (wrapper), pipeline);
    pipeline = wrapper;
  }
  call->pipeline = gst_object_ref_sink (pipeline);
  gst_object_set_name (GST_OBJECT (call->pipeline), call->id);
  call->bus = gst_element_get_bus (call->pipeline);

  /* Before the connection is handed to twiliosrc: the elements know their
   * loop from the start. */
  set_loop_context (call);
  if (!configure_elements (call, error))
    goto failed;

  bridge_app_register_call (app, call);
  bridge_metrics_call_started (app->metrics);
  {
    JsonObject *fields = json_object_new ();

    json_object_set_string_member (fields, "pipeline",
        app->config->pipeline_name);
    if (app->config->record_dir)
      json_object_set_string_member (fields, "record-dir",
          app->config->record_dir);
    json_object_set_int_member (fields, "active-calls",
        bridge_metrics_active_calls (app->metrics));
    json_object_set_int_member (fields, "loop", loop->index);
    json_object_set_boolean_member (fields, "loop-driven", call->loop_driven);
    call_log (call, "info", "media-connected", fields);
  }

  /* Handled on the call's loop (see BusDispatch); the handler holds its
   * own reference, the call clears its pointer before it is freed. */
  call->dispatch = g_new0 (BusDispatch, 1);
  call->dispatch->ref_count = 2;
  call->dispatch->verbose = bridge_log_enabled (app->log, "debug");
  call->dispatch->context = g_main_context_ref (context);
  g_mutex_init (&call->dispatch->lock);
  call->dispatch->call = call;
  gst_bus_set_sync_handler (call->bus, drop_unlogged_message, call->dispatch,
      bus_dispatch_unref);
  call->closed_handler = g_signal_connect (conn, "closed",
      G_CALLBACK (on_connection_closed), call);

  ret = gst_element_set_state (call->pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    /* The error message on the bus says why; it is logged at teardown. */
    call->start_failed = TRUE;
    call_teardown (call, NULL);
  }
  return call;

failed:
  bridge_app_cancel_reservation (app);
  bridge_call_free (call);
  return NULL;
}
