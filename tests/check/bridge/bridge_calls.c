/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whole calls: the real realtime-bridge with its embedded local model,
 * driven by the Twilio call simulator realtime-bridge-call
 * ($REALTIME_BRIDGE_CALL): several concurrent calls, signed and refused
 * calls, a model that cannot be reached, SIGTERM with calls in flight.
 */
#include <gst/check/gstcheck.h>
#include <signal.h>
#include <string.h>

#include "bridgetestutil.h"

static TestProcess *
start_callsim (guint port, const gchar * const *extra)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  const gchar *audio = g_getenv ("BRIDGE_TEST_AUDIO");
  g_autoptr (GError) error = NULL;
  TestProcess *p;
  guint i;

  g_ptr_array_add (argv, g_strdup (g_getenv ("REALTIME_BRIDGE_CALL")));
  g_ptr_array_add (argv, g_strdup_printf ("--url=ws://127.0.0.1:%u/call",
          port));
  g_ptr_array_add (argv, g_strdup ("--json"));
  if (audio && g_file_test (audio, G_FILE_TEST_EXISTS))
    g_ptr_array_add (argv, g_strdup_printf ("--audio=%s", audio));
  for (i = 0; extra && extra[i]; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  g_ptr_array_add (argv, NULL);
  p = test_process_start ((const gchar * const *) argv->pdata, NULL, &error);
  fail_unless (p != NULL, "%s", error ? error->message : "");
  return p;
}

static gint
finish (TestProcess * p, gdouble timeout_s)
{
  gint status = test_process_wait_exit (p, timeout_s);

  if (status != 0) {
    g_autofree gchar *out = test_process_output (p);

    g_printerr ("process output:\n%s\n", out);
  }
  return status;
}

static gchar *
stop_bridge (TestProcess * p)
{
  gchar *out;

  test_process_signal (p, SIGTERM);
  fail_unless_equals_int (finish (p, 60), 0);
  out = test_process_output (p);
  test_process_free (p);
  return out;
}

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

GST_START_TEST (test_concurrent_calls)
{
  const gchar *args[] = { "--port", "0", NULL };
  TestProcess *bridge = test_bridge_start (args, NULL);
  guint port = test_bridge_port (bridge);
  const gchar *sim_args[] = { "--calls=3", "--expect-audio", "--quiet",
    NULL
  };
  TestProcess *sim = start_callsim (port, sim_args);
  g_autofree gchar *out = NULL;
  g_autoptr (JsonObject) starting = NULL;

  starting = test_process_wait_event (bridge, "starting", NULL, NULL, 10);
  fail_unless_equals_string (json_object_get_string_member (starting,
          "model-mode"), "local");
  fail_unless (strstr (json_object_get_string_member (starting, "message"),
          "local model") != NULL);

  fail_unless_equals_int (finish (sim, 120), 0);
  test_process_free (sim);
  /* Every call ended on its own, completed, with its own call SID. */
  fail_unless (test_process_wait_event (bridge, "call-ended", "call",
          "call-3", 60) != NULL);
  fail_unless (test_process_wait_event (bridge, "call-ended", "call",
          "call-1", 60) != NULL);
  fail_unless (test_process_wait_event (bridge, "call-ended", "call",
          "call-2", 60) != NULL);
  fail_unless_equals_int (test_process_count_events (bridge, "call-ended",
          "status", "completed"), 3);
  fail_unless_equals_int (test_process_count_events (bridge, "twilio-start",
          NULL, NULL), 3);
  fail_unless (test_process_count_events (bridge, "realtime-first-audio",
          NULL, NULL) >= 3);
  fail_unless (test_process_count_events (bridge, "realtime-session-updated",
          NULL, NULL) >= 3);
  out = stop_bridge (bridge);
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

  sim = start_callsim (port, signed_args);
  fail_unless_equals_int (finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless (test_process_wait_event (bridge, "call-ended", "status",
          "completed", 60) != NULL);

  sim = start_callsim (port, wrong_args);
  fail_unless (finish (sim, 120) != 0);
  test_process_free (sim);
  fail_unless (test_process_wait_event (bridge, "media-refused", "reason",
          "signature", 30) != NULL);
  fail_unless_equals_int (test_process_count_events (bridge,
          "media-connected", NULL, NULL), 1);
  out = stop_bridge (bridge);
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
  TestProcess *sim = start_callsim (port, sim_args);
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
  finish (sim, 120);
  test_process_free (sim);

  g_main_context_push_thread_default (ctx);
  session = soup_session_new ();
  fail_unless_equals_int (test_http (session, "GET", health, NULL, NULL, NULL,
          NULL), 200);
  g_object_unref (session);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);

  out = stop_bridge (bridge);
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
  TestProcess *sim = start_callsim (port, sim_args);
  g_autofree gchar *out = NULL;

  fail_unless (test_process_wait_event (bridge, "twilio-start", NULL, NULL,
          60) != NULL);
  test_process_signal (bridge, SIGTERM);
  fail_unless (test_process_wait_event (bridge, "shutdown", "active-calls",
          "1", 30) != NULL);
  fail_unless_equals_int (finish (sim, 120), 0);
  test_process_free (sim);
  fail_unless_equals_int (finish (bridge, 60), 0);
  fail_unless (test_process_wait_event (bridge, "call-ended", "status",
          "completed", 1) != NULL);
  out = test_process_output (bridge);
  fail_unless (strstr (out, "\"event\":\"stopped\"") != NULL);
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
  tcase_add_test (tc, test_signed_calls);
  tcase_add_test (tc, test_model_unreachable);
  tcase_add_test (tc, test_shutdown_with_call);
  return s;
}

GST_CHECK_MAIN (bridge_calls);
