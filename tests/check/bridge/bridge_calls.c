/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whole calls: the real realtime-bridge with its embedded local model,
 * driven by the Twilio call simulator realtime-bridge-call
 * ($REALTIME_BRIDGE_CALL): several concurrent calls, signed and refused
 * calls, a model that cannot be reached, SIGTERM with calls in flight, one
 * call failing next to a healthy one, a caller who drops mid-answer.
 */
#include <gst/check/gstcheck.h>
#include <signal.h>
#include <string.h>

#include "bridgetestutil.h"
#include "localmodel.h"

static guint
closed_port (void)
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  fail_unless (g_socket_bind (s, any, TRUE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  /* Bound but not listening: connections are refused. */
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

#define GATED_KEY "sk-test-gated-model"

/* ---- a gate in front of the local model ---------------------------------- */

/* A TCP relay on its own thread and context in front of a local model
 * running in this process: while open it splices each connection to the
 * model; once closed it drops new connections at once, so a call that
 * starts then cannot reach its model while earlier calls keep theirs. */
typedef struct
{
  LocalModel *model;
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  GSocketService *service;
  GSocketClient *client;
  guint port;
  gint closed;                  /* atomic */
  gint dropped;                 /* atomic */
} ModelGate;

static void
on_spliced (GObject * source, GAsyncResult * result, gpointer user_data)
{
  g_io_stream_splice_finish (result, NULL);
}

static void
on_upstream (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GSocketConnection *downstream = user_data;
  GSocketConnection *upstream =
      g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source),
      result, NULL);

  if (upstream) {
    g_io_stream_splice_async (G_IO_STREAM (downstream),
        G_IO_STREAM (upstream), G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
        G_IO_STREAM_SPLICE_CLOSE_STREAM2 | G_IO_STREAM_SPLICE_WAIT_FOR_BOTH,
        G_PRIORITY_DEFAULT, NULL, on_spliced, NULL);
    g_object_unref (upstream);
  } else {
    g_io_stream_close (G_IO_STREAM (downstream), NULL, NULL);
  }
  g_object_unref (downstream);
}

static gboolean
on_gate_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source_object, gpointer user_data)
{
  ModelGate *gate = user_data;
  g_autofree gchar *target = NULL;

  if (g_atomic_int_get (&gate->closed)) {
    g_atomic_int_inc (&gate->dropped);
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    return TRUE;
  }
  target = g_strdup_printf ("127.0.0.1:%u", local_model_get_port (gate->model));
  g_socket_client_connect_to_host_async (gate->client, target, 0, NULL,
      on_upstream, g_object_ref (connection));
  return TRUE;
}

static gpointer
gate_thread (gpointer user_data)
{
  ModelGate *gate = user_data;

  g_main_context_push_thread_default (gate->ctx);
  g_main_loop_run (gate->loop);
  g_main_context_pop_thread_default (gate->ctx);
  return NULL;
}

static ModelGate *
model_gate_new (void)
{
  ModelGate *gate = g_new0 (ModelGate, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  gate->model = local_model_new (NULL, &error);
  fail_unless (gate->model != NULL, "%s", error ? error->message : "");
  gate->ctx = g_main_context_new ();
  gate->loop = g_main_loop_new (gate->ctx, FALSE);
  /* Sources of the service and the client belong to the gate's context. */
  g_main_context_push_thread_default (gate->ctx);
  gate->service = g_socket_service_new ();
  gate->client = g_socket_client_new ();
  fail_unless (g_socket_listener_add_address (G_SOCKET_LISTENER
          (gate->service), any, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
          NULL, &bound, &error), "%s", error ? error->message : "");
  gate->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (gate->service, "incoming", G_CALLBACK (on_gate_incoming),
      gate);
  g_socket_service_start (gate->service);
  g_main_context_pop_thread_default (gate->ctx);
  gate->thread = g_thread_new ("model-gate", gate_thread, gate);
  return gate;
}

static gchar *
model_gate_url (ModelGate * gate)
{
  return g_strdup_printf ("ws://127.0.0.1:%u/v1/realtime", gate->port);
}

static gboolean
quit_gate (gpointer user_data)
{
  ModelGate *gate = user_data;

  g_socket_service_stop (gate->service);
  g_socket_listener_close (G_SOCKET_LISTENER (gate->service));
  g_main_loop_quit (gate->loop);
  return G_SOURCE_REMOVE;
}

static void
model_gate_free (ModelGate * gate)
{
  g_main_context_invoke (gate->ctx, quit_gate, gate);
  g_thread_join (gate->thread);
  g_object_unref (gate->service);
  g_object_unref (gate->client);
  /* Finished splices release their streams here. */
  while (g_main_context_iteration (gate->ctx, FALSE));
  g_main_loop_unref (gate->loop);
  g_main_context_unref (gate->ctx);
  local_model_free (gate->model);
  g_free (gate);
}

static guint
model_sessions_active (ModelGate * gate)
{
  LocalModelStats stats;
  guint active;

  local_model_get_stats (gate->model, &stats);
  active = stats.sessions_active;
  local_model_stats_clear (&stats);
  return active;
}

/* Waits until the model has no session open any more. */
static gboolean
model_sessions_closed (ModelGate * gate, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;

  while (model_sessions_active (gate) > 0) {
    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    g_usleep (20 * 1000);       /* the model offers no event to wait on */
  }
  return TRUE;
}

/* A bridge whose model is @gate's, with an API key (never to be logged). */
static TestProcess *
start_gated_bridge (ModelGate * gate, guint * port)
{
  g_autofree gchar *model_url = model_gate_url (gate);
  const gchar *args[] = { "--port", "0", "--realtime-url", model_url, NULL };
  const gchar *env[] = { "OPENAI_API_KEY", GATED_KEY, NULL };
  TestProcess *bridge = test_bridge_start (args, env);

  *port = test_bridge_port (bridge);
  return bridge;
}

static guint
health_active_calls (guint port)
{
  g_autofree gchar *health = g_strdup_printf ("http://127.0.0.1:%u/health",
      port);
  g_autofree gchar *body = NULL;
  GMainContext *ctx = g_main_context_new ();
  SoupSession *session;
  g_autoptr (JsonParser) parser = json_parser_new ();
  guint active;

  g_main_context_push_thread_default (ctx);
  session = soup_session_new ();
  fail_unless_equals_int (test_http (session, "GET", health, NULL, NULL, NULL,
          &body), 200);
  g_object_unref (session);
  while (g_main_context_iteration (ctx, FALSE));
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  fail_unless (json_parser_load_from_data (parser, body, -1, NULL), "%s", body);
  active = json_object_get_int_member (json_node_get_object
      (json_parser_get_root (parser)), "activeCalls");
  return active;
}

GST_START_TEST (test_concurrent_calls)
{
  const gchar *args[] = { "--port", "0", NULL };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--calls=3", "--expect-audio", "--quiet",
    NULL
  };
  TestProcess *sim = test_callsim_start (port, sim_args);
  g_autofree gchar *out = NULL;
  g_autoptr (JsonObject) starting = NULL;

  starting = test_process_wait_event (bridge, "starting", NULL, NULL, 10);
  fail_unless_equals_string (json_object_get_string_member (starting,
          "model-mode"), "local");
  fail_unless (strstr (json_object_get_string_member (starting, "message"),
          "local model") != NULL);

  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  /* Every call ended on its own, completed, with its own call SID. */
  fail_unless (test_process_saw_event (bridge, "call-ended", "call",
          "call-3", 60));
  fail_unless (test_process_saw_event (bridge, "call-ended", "call",
          "call-1", 60));
  fail_unless (test_process_saw_event (bridge, "call-ended", "call",
          "call-2", 60));
  fail_unless_equals_int (test_process_count_events (bridge, "call-ended",
          "status", "completed"), 3);
  fail_unless_equals_int (test_process_count_events (bridge, "twilio-start",
          NULL, NULL), 3);
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          NULL, NULL) >= 3);
  fail_unless (test_process_count_events (bridge, "realtime-session-updated",
          NULL, NULL) >= 3);
  /* Milestones are logged; debug-only bus messages (a twilio-mark per mark
   * echo, the elements' state changes) are dropped before the main loop
   * without --verbose. */
  fail_unless (test_process_count_events (bridge, "state-changed", "source",
          "call-1") >= 1);
  fail_unless (test_process_count_events (bridge, "realtime-response-done",
          NULL, NULL) >= 3);
  fail_unless_equals_int (test_process_count_events (bridge, "twilio-mark",
          NULL, NULL), 0);
  fail_unless_equals_int (test_process_count_events (bridge, "state-changed",
          "level", "debug"), 0);
  out = test_bridge_stop (bridge);
}

GST_END_TEST;

/* --verbose: the bus messages the quiet launcher drops are debug events. */
GST_START_TEST (test_verbose_events)
{
  const gchar *args[] = { "--port", "0", "--verbose", NULL };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--expect-audio", "--quiet", NULL };
  TestProcess *sim = test_callsim_start (port, sim_args);
  g_autofree gchar *out = NULL;

  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless (test_process_saw_event (bridge, "call-ended", "status",
          "completed", 60));
  fail_unless (test_process_count_events (bridge, "twilio-mark", "level",
          "debug") > 0);
  fail_unless (test_process_count_events (bridge, "state-changed", "level",
          "debug") > 0);
  fail_unless (test_process_count_events (bridge, "state-changed", "source",
          "call-1") >= 1);
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          NULL, NULL) >= 1);
  out = test_bridge_stop (bridge);
}

GST_END_TEST;

GST_START_TEST (test_signed_calls)
{
  const gchar *token = "tok-call-0123456789";
  const gchar *args[] = { "--port", "0", NULL };
  const gchar *env[] = { "TWILIO_AUTH_TOKEN", token, "PUBLIC_URL",
    "https://bridge.example.com", NULL
  };
  TestProcess *bridge = test_bridge_start (args, env);
  guint port = test_bridge_port (bridge);
  g_autofree gchar *good_token = g_strdup_printf ("--auth-token=%s", token);
  const gchar *signed_args[] = { good_token,
    "--public-url=wss://bridge.example.com/call", "--quiet", NULL
  };
  const gchar *wrong_args[] = { "--auth-token=not-the-token",
    "--public-url=wss://bridge.example.com/call", "--quiet", NULL
  };
  TestProcess *sim;
  g_autofree gchar *out = NULL;

  sim = test_callsim_start (port, signed_args);
  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless (test_process_saw_event (bridge, "call-ended", "status",
          "completed", 60));

  sim = test_callsim_start (port, wrong_args);
  fail_unless (test_process_finish (sim, 120) != 0);
  test_process_free (sim);
  fail_unless (test_process_saw_event (bridge, "media-refused", "reason",
          "signature", 30));
  fail_unless_equals_int (test_process_count_events (bridge,
          "media-connected", NULL, NULL), 1);
  out = test_bridge_stop (bridge);
  fail_unless (strstr (out, token) == NULL);
}

GST_END_TEST;

/* The model cannot be reached: the call fails with the reason, the key is
 * never printed, and the bridge keeps serving. */
GST_START_TEST (test_model_unreachable)
{
  const gchar *key = "sk-test-not-a-real-key-31337";
  g_autofree gchar *model_url =
      g_strdup_printf ("ws://127.0.0.1:%u/v1/realtime", closed_port ());
  const gchar *args[] = { "--port", "0", "--realtime-url", model_url, NULL };
  const gchar *env[] = { "OPENAI_API_KEY", key, NULL };
  TestProcess *bridge = test_bridge_start (args, env);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--quiet", "--max-duration=20000", NULL };
  TestProcess *sim = test_callsim_start (port, sim_args);
  g_autoptr (JsonObject) ended = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *health = g_strdup_printf ("http://127.0.0.1:%u/health",
      port);
  GMainContext *ctx = g_main_context_new ();
  SoupSession *session;

  ended = test_process_wait_event (bridge, "call-ended", NULL, NULL, 120);
  fail_unless (ended != NULL);
  fail_unless_equals_string (json_object_get_string_member (ended, "status"),
      "failed");
  fail_unless (strstr (json_object_get_string_member (ended, "reason"),
          "model") != NULL, "%s", json_object_get_string_member (ended,
          "reason"));
  /* What went wrong was reported while it happened. */
  fail_unless (test_process_count_events (bridge, "error", NULL, NULL) +
      test_process_count_events (bridge, "realtime-error", NULL, NULL) +
      test_process_count_events (bridge, "realtime-reconnecting", NULL,
          NULL) > 0);
  fail_unless (test_process_count_events (bridge, "realtime-connected", NULL,
          NULL) == 0);
  test_process_finish (sim, 120);
  test_process_free (sim);

  g_main_context_push_thread_default (ctx);
  session = soup_session_new ();
  fail_unless_equals_int (test_http (session, "GET", health, NULL, NULL, NULL,
          NULL), 200);
  g_object_unref (session);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);

  out = test_bridge_stop (bridge);
  fail_unless (strstr (out, key) == NULL, "the API key was logged");
}

GST_END_TEST;

/* SIGTERM while a call talks: the call finishes, then the bridge exits 0. */
GST_START_TEST (test_shutdown_with_call)
{
  const gchar *args[] = { "--port", "0", NULL };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--quiet", "--silence-after=2000", NULL };
  TestProcess *sim = test_callsim_start (port, sim_args);
  g_autofree gchar *out = NULL;

  fail_unless (test_process_saw_event (bridge, "twilio-start", NULL, NULL, 60));
  test_process_signal (bridge, SIGTERM);
  fail_unless (test_process_saw_event (bridge, "shutdown", "active-calls",
          "1", 30));
  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless_equals_int (test_process_finish (bridge, 60), 0);
  fail_unless (test_process_saw_event (bridge, "call-ended", "status",
          "completed", 1));
  out = test_process_output (bridge);
  fail_unless (strstr (out, "\"event\":\"stopped\"") != NULL);
  test_process_free (bridge);
}

GST_END_TEST;

/* Two calls at the same time in one bridge: the second cannot reach its
 * model and fails; the first, already talking, completes with its echo.
 * Afterwards nothing of either call is left: no active call, no model
 * session, and (under ASan or valgrind) no leak at exit. */
GST_START_TEST (test_isolation)
{
  ModelGate *gate = model_gate_new ();
  guint port = 0;
  TestProcess *bridge = start_gated_bridge (gate, &port);
  const gchar *healthy_args[] = { "--quiet", "--expect-audio",
    "--silence-after=3000", NULL
  };
  const gchar *failing_args[] = { "--quiet", "--max-duration=60000", NULL };
  TestProcess *healthy, *failing;
  g_autoptr (JsonObject) failed = NULL;
  g_autoptr (JsonObject) completed = NULL;
  g_autofree gchar *out = NULL;

  healthy = test_callsim_start (port, healthy_args);
  fail_unless (test_process_saw_event (bridge, "realtime-session-updated",
          "call", "call-1", 60));

  /* From now on no new model connection gets through. */
  g_atomic_int_set (&gate->closed, TRUE);
  failing = test_callsim_start (port, failing_args);
  fail_unless (test_process_saw_event (bridge, "media-connected", "call",
          "call-2", 60));
  /* The calls overlap: the first is still on. */
  fail_unless_equals_int (test_process_count_events (bridge, "call-ended",
          "call", "call-1"), 0);

  failed = test_process_wait_event (bridge, "call-ended", "call", "call-2",
      120);
  fail_unless (failed != NULL);
  fail_unless_equals_string (json_object_get_string_member (failed, "status"),
      "failed");
  fail_unless (strstr (json_object_get_string_member (failed, "reason"),
          "model") != NULL, "%s", json_object_get_string_member (failed,
          "reason"));
  fail_unless (g_atomic_int_get (&gate->dropped) > 0);
  /* The simulator sees the bridge end that call. */
  test_process_finish (failing, 120);
  test_process_free (failing);

  /* The healthy call heard its echo and ended normally. */
  fail_unless_equals_int (test_process_finish (healthy, 120), 0);
  test_process_free (healthy);
  completed = test_process_wait_event (bridge, "call-ended", "call", "call-1",
      60);
  fail_unless (completed != NULL);
  fail_unless_equals_string (json_object_get_string_member (completed,
          "status"), "completed");
  fail_unless (json_object_get_int_member (completed, "turns") >= 1);
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          "call", "call-1") >= 1);
  fail_unless_equals_int (test_process_count_events (bridge,
          "realtime-connected", "call", "call-2"), 0);

  fail_unless_equals_int (health_active_calls (port), 0);
  fail_unless (model_sessions_closed (gate, 30));
  out = test_bridge_stop (bridge);
  fail_unless (strstr (out, GATED_KEY) == NULL, "the API key was logged");
  model_gate_free (gate);
}

GST_END_TEST;

/* The caller drops the connection (no stop, no close frame) while the
 * answer plays: the call ends with its summary, its model session closes,
 * and the bridge takes the next call. */
GST_START_TEST (test_abrupt_hangup)
{
  ModelGate *gate = model_gate_new ();
  guint port = 0;
  TestProcess *bridge = start_gated_bridge (gate, &port);
  const gchar *drop_args[] = { "--quiet", "--expect-audio",
    "--hangup-at=reply+300", "--abrupt", NULL
  };
  const gchar *next_args[] = { "--quiet", "--expect-audio", NULL };
  TestProcess *sim;
  g_autoptr (JsonObject) ended = NULL;
  g_autofree gchar *out = NULL;

  sim = test_callsim_start (port, drop_args);
  test_process_finish (sim, 120);
  test_process_free (sim);
  ended = test_process_wait_event (bridge, "call-ended", "call", "call-1", 60);
  fail_unless (ended != NULL);
  /* Mid-answer: the turn was answered, its audio had started. */
  fail_unless_equals_int (json_object_get_int_member (ended, "turns"), 1);
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          "call", "call-1") >= 1);
  fail_unless (strstr (json_object_get_string_member (ended, "reason"),
          "closed") != NULL, "%s", json_object_get_string_member (ended,
          "reason"));
  fail_unless (test_process_count_events (bridge, "twilio-stop", "call",
          "call-1") == 0);
  fail_unless_equals_int (health_active_calls (port), 0);
  fail_unless (model_sessions_closed (gate, 30));

  sim = test_callsim_start (port, next_args);
  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless (test_process_saw_event (bridge, "call-ended", "call",
          "call-2", 60));
  fail_unless_equals_int (test_process_count_events (bridge, "call-ended",
          "status", "completed"), 2);
  out = test_bridge_stop (bridge);
  model_gate_free (gate);
}

GST_END_TEST;

/* --loops 2: two calls at once land on different call loops (the least
 * loaded), each loop-driven, and both work end to end. */
GST_START_TEST (test_call_loops)
{
  const gchar *args[] = { "--port", "0", "--loops", "2", NULL };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--calls=2", "--expect-audio", "--quiet",
    NULL
  };
  TestProcess *sim;
  g_autoptr (JsonObject) listening = NULL;
  g_autoptr (JsonObject) call1 = NULL;
  g_autoptr (JsonObject) call2 = NULL;
  g_autofree gchar *out = NULL;

  g_autofree gchar *logs_url = g_strdup_printf ("ws://127.0.0.1:%u/logs",
      port);
  GMainContext *ctx = g_main_context_new ();
  SoupSession *session;
  SoupWebsocketConnection *logs;
  GPtrArray *messages;
  gchar *ended_1, *ended_2;
  guint i, connected_at = G_MAXUINT, ended_at = G_MAXUINT;

  listening = test_process_wait_event (bridge, "listening", NULL, NULL, 10);
  fail_unless_equals_int (json_object_get_int_member (listening,
          "call-loops"), 2);
  /* A /logs client on the main loop gets the events of both call loops. */
  g_main_context_push_thread_default (ctx);
  session = soup_session_new ();
  logs = test_ws_connect (session, logs_url, NULL, NULL, 30);
  fail_unless (logs != NULL);
  messages = test_ws_collect (logs);
  sim = test_callsim_start (port, sim_args);
  call1 = test_process_wait_event (bridge, "media-connected", "call",
      "call-1", 60);
  call2 = test_process_wait_event (bridge, "media-connected", "call",
      "call-2", 60);
  fail_unless (call1 != NULL && call2 != NULL);
  /* The second arrived while the first was on: the other loop. */
  fail_unless_equals_int (json_object_get_int_member (call1, "loop") +
      json_object_get_int_member (call2, "loop"), 1);
  fail_unless (json_object_get_boolean_member (call1, "loop-driven"));
  fail_unless (json_object_get_boolean_member (call2, "loop-driven"));
  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless (test_process_wait_count (bridge, "call-ended", "status",
          "completed", 2, 60));
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          "call", "call-1") >= 1);
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          "call", "call-2") >= 1);
  fail_unless_equals_int (test_process_count_events (bridge, "call-threaded",
          NULL, NULL), 0);
  fail_unless_equals_int (health_active_calls (port), 0);

  ended_1 = g_strdup ("\"call\":\"call-1\",\"event\":\"call-ended\"");
  ended_2 = g_strdup ("\"call\":\"call-2\",\"event\":\"call-ended\"");
  fail_unless (test_ws_wait_message (messages, ended_1, 30));
  fail_unless (test_ws_wait_message (messages, ended_2, 30));
  /* In the order they were logged. */
  for (i = 0; i < messages->len; i++) {
    const gchar *m = g_ptr_array_index (messages, i);

    if (connected_at == G_MAXUINT && strstr (m, "\"call\":\"call-1\"")
        && strstr (m, "\"event\":\"media-connected\""))
      connected_at = i;
    if (ended_at == G_MAXUINT && strstr (m, ended_1))
      ended_at = i;
  }
  fail_unless (connected_at < ended_at);
  g_free (ended_1);
  g_free (ended_2);
  soup_websocket_connection_close (logs, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (logs);
  g_object_unref (session);
  while (g_main_context_iteration (ctx, FALSE));
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  g_ptr_array_unref (messages);
  out = test_bridge_stop (bridge);
}

GST_END_TEST;

/* A template with a sink that syncs to the clock would stall its call
 * loop: that call runs threaded, says so once, and works; --threaded-calls
 * runs the presets threaded without a warning. */
GST_START_TEST (test_syncing_sink_threaded)
{
  const gchar *template =
      "twiliosrc ! tee name=caller ! mulawdec ! audioresample ! "
      "audio/x-raw,rate=24000 ! openairealtimesink  "
      "caller. ! queue ! fakesink name=clocked sync=true  "
      "openairealtimesrc ! audioresample ! audio/x-raw,rate=8000 ! mulawenc ! "
      "twiliosink";
  const gchar *args[] = { "--port", "0", "--loops", "2", "--pipeline",
    template, NULL
  };
  const gchar *threaded_args[] = { "--port", "0", "--threaded-calls", NULL };
  const gchar *sim_args[] = { "--expect-audio", "--quiet", NULL };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  TestProcess *sim = test_callsim_start (port, sim_args);
  g_autoptr (JsonObject) warning = NULL;
  g_autoptr (JsonObject) connected = NULL;
  g_autoptr (JsonObject) ended = NULL;
  gchar *out;

  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  warning = test_process_wait_event (bridge, "call-threaded", "call",
      "call-1", 30);
  fail_unless (warning != NULL);
  fail_unless_equals_string (json_object_get_string_member (warning,
          "level"), "warning");
  fail_unless_equals_string (json_object_get_string_member (warning,
          "element"), "clocked");
  fail_unless_equals_int (test_process_count_events (bridge, "call-threaded",
          NULL, NULL), 1);
  connected = test_process_wait_event (bridge, "media-connected", "call",
      "call-1", 30);
  fail_unless (!json_object_get_boolean_member (connected, "loop-driven"));
  ended = test_process_wait_event (bridge, "call-ended", "call", "call-1", 60);
  fail_unless (ended != NULL);
  fail_unless_equals_string (json_object_get_string_member (ended, "status"),
      "completed");
  g_free (test_bridge_stop (bridge));

  bridge = test_bridge_start (threaded_args, NULL);
  port = test_bridge_port (bridge);
  sim = test_callsim_start (port, sim_args);
  fail_unless_equals_int (test_process_finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless (test_process_saw_event (bridge, "call-ended", "status",
          "completed", 60));
  g_clear_pointer (&connected, json_object_unref);
  connected = test_process_wait_event (bridge, "media-connected", "call",
      "call-1", 30);
  fail_unless (!json_object_get_boolean_member (connected, "loop-driven"));
  fail_unless_equals_int (test_process_count_events (bridge, "call-threaded",
          NULL, NULL), 0);
  out = test_bridge_stop (bridge);
  g_free (out);
}

GST_END_TEST;

/* SIGTERM with calls on two loops: with no time to drain, each call is
 * ended on its own loop; every loop is stopped and joined, and the bridge
 * exits 0 (under ASan or valgrind: without a leak). */
GST_START_TEST (test_shutdown_loops)
{
  const gchar *args[] = { "--port", "0", "--loops", "2",
    "--shutdown-timeout", "0", NULL
  };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--calls=2", "--quiet", "--silence-after=30000",
    "--max-duration=60000", NULL
  };
  TestProcess *sim = test_callsim_start (port, sim_args);
  g_autofree gchar *out = NULL;

  fail_unless (test_process_wait_count (bridge, "twilio-start", NULL, NULL,
          2, 60));
  /* Both calls reached their model (else the summary's reason says so). */
  fail_unless (test_process_saw_event (bridge, "realtime-connected", "call",
          "call-1", 60));
  fail_unless (test_process_saw_event (bridge, "realtime-connected", "call",
          "call-2", 60));
  fail_unless (test_process_saw_event (bridge, "media-connected", "loop",
          "0", 1));
  fail_unless (test_process_saw_event (bridge, "media-connected", "loop",
          "1", 1));
  test_process_signal (bridge, SIGTERM);
  fail_unless (test_process_saw_event (bridge, "shutdown", "active-calls",
          "2", 30));
  fail_unless_equals_int (test_process_finish (bridge, 60), 0);
  fail_unless_equals_int (test_process_count_events (bridge, "call-ended",
          "reason", "the bridge shut down (timeout)"), 2);
  fail_unless (test_process_saw_event (bridge, "stopped", "abandoned-calls",
          "0", 1));
  test_process_finish (sim, 120);
  test_process_free (sim);
  test_process_free (bridge);
}

GST_END_TEST;

static Suite *
bridge_calls_suite (void)
{
  Suite *s = suite_create ("bridge_calls");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_concurrent_calls);
  tcase_add_test (tc, test_verbose_events);
  tcase_add_test (tc, test_signed_calls);
  tcase_add_test (tc, test_model_unreachable);
  tcase_add_test (tc, test_shutdown_with_call);
  tcase_add_test (tc, test_isolation);
  tcase_add_test (tc, test_abrupt_hangup);
  tcase_add_test (tc, test_call_loops);
  tcase_add_test (tc, test_syncing_sink_threaded);
  tcase_add_test (tc, test_shutdown_loops);
  return s;
}

GST_CHECK_MAIN (bridge_calls);
