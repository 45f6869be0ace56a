/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Starts the real realtime-bridge on a loopback port and drives its
 * endpoints: --help, configuration errors and precedence, /health,
 * /metrics, /twiml, signatures, bearer tokens, /logs (and a /logs client
 * that stops reading), max calls, signals.
 * The media WebSocket is driven by hand here (Twilio JSON written by the
 * test); whole calls with the simulator and the local model are in
 * bridge_calls.c.
 */
#include <gst/check/gstcheck.h>
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gnetworking.h>

#include "bridgetestutil.h"

#define CLOSED_MODEL_URL "ws://127.0.0.1:9/v1/realtime"
#define START_MESSAGE \
  "{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":{" \
  "\"accountSid\":\"AC00000000000000000000000000000000\"," \
  "\"streamSid\":\"MZ11111111111111111111111111111111\"," \
  "\"callSid\":\"CA22222222222222222222222222222222\"," \
  "\"tracks\":[\"inbound\"],\"customParameters\":{}," \
  "\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000," \
  "\"channels\":1}},\"streamSid\":\"MZ11111111111111111111111111111111\"}"
#define STOP_MESSAGE \
  "{\"event\":\"stop\",\"sequenceNumber\":\"2\",\"stop\":{" \
  "\"accountSid\":\"AC00000000000000000000000000000000\"," \
  "\"callSid\":\"CA22222222222222222222222222222222\"}," \
  "\"streamSid\":\"MZ11111111111111111111111111111111\"}"

typedef struct
{
  GMainContext *ctx;
  SoupSession *session;
} Client;

static void
client_init (Client * c)
{
  c->ctx = g_main_context_new ();
  g_main_context_push_thread_default (c->ctx);
  c->session = soup_session_new ();
}

static void
client_clear (Client * c)
{
  g_clear_object (&c->session);
  while (g_main_context_iteration (c->ctx, FALSE));
  g_main_context_pop_thread_default (c->ctx);
  g_main_context_unref (c->ctx);
}

static gchar *
url (guint port, const gchar * path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
}

static gchar *
ws_url (guint port, const gchar * path)
{
  return g_strdup_printf ("ws://127.0.0.1:%u%s", port, path);
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* Closes from the client side and waits for the close handshake. */
static void
close_ws (SoupWebsocketConnection * conn)
{
  gboolean closed = FALSE;

  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN) {
    g_signal_connect (conn, "closed", G_CALLBACK (on_closed), &closed);
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    fail_unless (test_iterate_until (&closed, 30));
    g_signal_handlers_disconnect_by_func (conn, on_closed, &closed);
  }
  g_object_unref (conn);
}

/* ---- command line -------------------------------------------------------- */

GST_START_TEST (test_help)
{
  const gchar *args[] = { "--help", NULL };
  TestProcess *p = test_bridge_start (args, NULL);
  g_autofree gchar *out = NULL;
  const gchar *expected[] = { "--port", "--public-url", "--realtime-url",
    "--model", "--voice", "--instructions", "--instructions-file",
    "--greeting", "--turn-detection", "--pipeline", "--record-dir",
    "--max-calls", "--log-format", "--shutdown-timeout", "OPENAI_API_KEY",
    "OPENAI_BASE_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_URL", "PORT",
    "passthrough", "/twiml", "/metrics", "/logs", "SIGTERM", NULL
  };
  guint i;

  fail_unless_equals_int (test_process_wait_exit (p, 60), 0);
  out = test_process_output (p);
  for (i = 0; expected[i]; i++)
    fail_unless (strstr (out, expected[i]) != NULL, "--help lacks %s:\n%s",
        expected[i], out);
  test_process_free (p);
}

GST_END_TEST;

GST_START_TEST (test_config_errors)
{
  const gchar *bad_port[] = { "PORT", "eighty", NULL };
  const gchar *token_only[] = { "TWILIO_AUTH_TOKEN", "tok-never-print-me",
    NULL
  };
  const gchar *bad_pipeline[] = { "--pipeline", "fakesrc ! ! fakesink",
    "--realtime-url", CLOSED_MODEL_URL, NULL
  };
  TestProcess *p;
  g_autofree gchar *out1 = NULL;
  g_autofree gchar *out2 = NULL;

  p = test_bridge_start (NULL, bad_port);
  fail_unless_equals_int (test_process_wait_exit (p, 60), 1);
  out1 = test_process_output (p);
  fail_unless (strstr (out1, "PORT='eighty' is not a number") != NULL, "%s",
      out1);
  test_process_free (p);

  p = test_bridge_start (NULL, token_only);
  fail_unless_equals_int (test_process_wait_exit (p, 60), 1);
  out2 = test_process_output (p);
  fail_unless (strstr (out2, "PUBLIC_URL") != NULL, "%s", out2);
  fail_unless (strstr (out2, "tok-never-print-me") == NULL, "%s", out2);
  test_process_free (p);

  p = test_bridge_start (bad_pipeline, NULL);
  fail_unless_equals_int (test_process_wait_exit (p, 60), 1);
  fail_unless (test_process_wait_line (p, "twiliosrc", 1));
  test_process_free (p);
}

GST_END_TEST;

GST_START_TEST (test_config_precedence)
{
  g_autofree gchar *dir = g_dir_make_tmp ("bridge-env-XXXXXX", NULL);
  g_autofree gchar *env_file = g_build_filename (dir, "bridge.env", NULL);
  const gchar *dotenv = "OPENAI_REALTIME_MODEL=dotenv-model\n"
      "OPENAI_REALTIME_URL=" CLOSED_MODEL_URL "\nMAX_CALLS=4\n"
      "PUBLIC_URL=https://from-dotenv.example.com\n";
  const gchar *env[] = { "OPENAI_REALTIME_MODEL", "env-model", "MAX_CALLS",
    "5", NULL
  };
  const gchar *args[] = { "--port", "0", "--env-file", env_file,
    "--max-calls", "6", NULL
  };
  TestProcess *p;
  g_autoptr (JsonObject) starting = NULL;
  g_autoptr (JsonObject) listening = NULL;
  g_autofree gchar *out = NULL;
  gchar *line_end;

  fail_unless (g_file_set_contents (env_file, dotenv, -1, NULL));
  p = test_bridge_start (args, env);
  starting = test_process_wait_event (p, "starting", NULL, NULL, 60);
  fail_unless (starting != NULL);
  /* The first log line says which model endpoint is used. */
  out = test_process_output (p);
  line_end = strchr (out, '\n');
  fail_unless (line_end != NULL);
  *line_end = '\0';
  fail_unless (strstr (out, "\"event\":\"starting\"") != NULL, "%s", out);
  fail_unless (strstr (out, CLOSED_MODEL_URL) != NULL, "%s", out);
  /* environment beats .env; the command line beats both */
  fail_unless_equals_string (json_object_get_string_member (starting, "model"),
      "env-model");
  fail_unless_equals_int (json_object_get_int_member (starting, "max-calls"),
      6);
  fail_unless_equals_string (json_object_get_string_member (starting,
          "model-mode"), "custom-url");
  listening = test_process_wait_event (p, "listening", NULL, NULL, 60);
  fail_unless_equals_string (json_object_get_string_member (listening,
          "webhook-url"), "https://from-dotenv.example.com/twiml");
  g_free (test_bridge_stop (p));
  g_unlink (env_file);
  g_rmdir (dir);
}

GST_END_TEST;

/* ---- endpoints ----------------------------------------------------------- */

GST_START_TEST (test_endpoints)
{
  const gchar *args[] = { "--port", "0", "--realtime-url", CLOSED_MODEL_URL,
    "--max-message-size", "2048", NULL
  };
  const gchar *env[] = { "PUBLIC_URL", "https://bridge.example.com/prefix/",
    NULL
  };
  TestProcess *p = test_bridge_start (args, env);
  guint port = test_bridge_port (p);
  Client c;
  g_autofree gchar *health = url (port, "/health");
  g_autofree gchar *metrics = url (port, "/metrics");
  g_autofree gchar *twiml = url (port, "/twiml");
  g_autofree gchar *twiml_get =
      url (port, "/twiml?CallSid=CAget&From=%2B1%3C2%3E&To=%2B3");
  g_autofree gchar *nowhere = url (port, "/nowhere");
  gchar *body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  g_autofree gchar *big = g_strnfill (4096, 'x');
  g_autoptr (JsonObject) webhook = NULL;

  client_init (&c);

  fail_unless_equals_int (test_http (c.session, "GET", health, NULL, NULL,
          NULL, &body), 200);
  fail_unless (json_parser_load_from_data (parser, body, -1, NULL));
  obj = json_node_get_object (json_parser_get_root (parser));
  fail_unless_equals_string (json_object_get_string_member (obj, "status"),
      "ok");
  fail_unless_equals_int (json_object_get_int_member (obj, "activeCalls"), 0);
  fail_unless (json_object_has_member (obj, "uptimeSeconds"));
  g_free (body);

  fail_unless_equals_int (test_http (c.session, "GET", metrics, NULL, NULL,
          NULL, &body), 200);
  fail_unless (strstr (body, "bridge_calls_active 0\n") != NULL);
  fail_unless (strstr (body, "# TYPE bridge_turn_latency_seconds histogram")
      != NULL);
  g_free (body);

  fail_unless_equals_int (test_http (c.session, "GET", nowhere, NULL, NULL,
          NULL, NULL), 404);
  fail_unless_equals_int (test_http (c.session, "PUT", twiml, NULL,
          "text/plain", "x", NULL), 405);
  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/x-www-form-urlencoded", big, NULL), 413);
  fail_unless (test_process_saw_event (p, "request-refused", "reason",
          "too-large", 30));
  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/json", "{}", NULL), 415);

  /* POST: the caller's numbers go back escaped as <Parameter>s. */
  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/x-www-form-urlencoded",
          "CallSid=CA123&From=%2B1555%26%3C%22&To=%2B1666&AccountSid=AC1",
          &body), 200);
  fail_unless_equals_string (body,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>"
      "<Stream url=\"wss://bridge.example.com/prefix/call\">"
      "<Parameter name=\"CallSid\" value=\"CA123\"/>"
      "<Parameter name=\"From\" value=\"+1555&amp;&lt;&quot;\"/>"
      "<Parameter name=\"To\" value=\"+1666\"/>"
      "</Stream></Connect></Response>");
  g_free (body);
  webhook = test_process_wait_event (p, "webhook", "callSid", "CA123", 30);
  fail_unless (webhook != NULL);
  fail_unless_equals_string (json_object_get_string_member (webhook, "from"),
      "+1555&<\"");

  fail_unless_equals_int (test_http (c.session, "GET", twiml_get, NULL, NULL,
          NULL, &body), 200);
  fail_unless (strstr (body, "<Parameter name=\"From\" value=\"+1&lt;2&gt;\"/>")
      != NULL, "%s", body);
  g_free (body);

  fail_unless_equals_int (test_http (c.session, "GET", metrics, NULL, NULL,
          NULL, &body), 200);
  fail_unless (strstr (body, "bridge_webhooks_total 2\n") != NULL, "%s", body);
  g_free (body);

  client_clear (&c);
  g_free (test_bridge_stop (p));
}

GST_END_TEST;

GST_START_TEST (test_signatures)
{
  const gchar *token = "tok-0123456789abcdef";
  const gchar *args[] = { "--port", "0",
    NULL
  };
  const gchar *env[] = { "TWILIO_AUTH_TOKEN", token,
    "PUBLIC_URL", "https://bridge.example.com", NULL
  };
  TestProcess *p = test_bridge_start (args, env);
  guint port = test_bridge_port (p);
  Client c;
  g_autofree gchar *twiml = url (port, "/twiml");
  g_autofree gchar *twiml_get = url (port, "/twiml?CallSid=CAg&From=%2B1");
  g_autofree gchar *call = ws_url (port, "/call");
  const gchar *form = "To=%2B1666&CallSid=CAsig&From=%2B1555";
  const gchar *sorted[] = { "CallSid", "CAsig", "From", "+1555", "To",
    "+1666", NULL
  };
  g_autofree gchar *good = test_twilio_signature (token,
      "https://bridge.example.com/twiml", sorted);
  g_autofree gchar *good_get = test_twilio_signature (token,
      "https://bridge.example.com/twiml?CallSid=CAg&From=%2B1", NULL);
  g_autofree gchar *good_ws = test_twilio_signature (token,
      "wss://bridge.example.com/call", NULL);
  g_autofree gchar *wrong = test_twilio_signature ("another-token",
      "https://bridge.example.com/twiml", sorted);
  const gchar *h_good[] = { "X-Twilio-Signature", good, NULL };
  const gchar *h_good_get[] = { "X-Twilio-Signature", good_get, NULL };
  const gchar *h_wrong[] = { "X-Twilio-Signature", wrong, NULL };
  const gchar *h_ws[] = { "X-Twilio-Signature", good_ws, NULL };
  const gchar *h_ws_wrong[] = { "X-Twilio-Signature", good, NULL };
  SoupWebsocketConnection *conn;
  guint status = 0;
  g_autofree gchar *out = NULL;

  client_init (&c);
  fail_unless_equals_int (test_http (c.session, "POST", twiml, h_good,
          "application/x-www-form-urlencoded", form, NULL), 200);
  fail_unless_equals_int (test_http (c.session, "GET", twiml_get, h_good_get,
          NULL, NULL, NULL), 200);
  fail_unless_equals_int (test_http (c.session, "POST", twiml, h_wrong,
          "application/x-www-form-urlencoded", form, NULL), 403);
  fail_unless (test_process_saw_event (p, "webhook-refused", "callSid",
          "CAsig", 30));
  /* A tampered parameter breaks the signature. */
  fail_unless_equals_int (test_http (c.session, "POST", twiml, h_good,
          "application/x-www-form-urlencoded",
          "To=%2B1667&CallSid=CAsig&From=%2B1555", NULL), 403);
  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/x-www-form-urlencoded", form, NULL), 403);
  fail_unless (test_process_wait_line (p,
          "X-Twilio-Signature header missing", 30));

  /* The media upgrade: refused before the handshake without a valid
   * signature over the public wss URL. */
  conn = test_ws_connect (c.session, call, NULL, &status, 30);
  fail_unless (conn == NULL);
  fail_unless_equals_int (status, 403);
  conn = test_ws_connect (c.session, call, h_ws_wrong, &status, 30);
  fail_unless (conn == NULL);
  fail_unless_equals_int (status, 403);
  fail_unless (test_process_wait_count (p, "media-refused", "reason",
          "signature", 2, 30));
  conn = test_ws_connect (c.session, call, h_ws, &status, 30);
  fail_unless (conn != NULL, "status %u", status);
  fail_unless_equals_int (status, 101);
  fail_unless (test_process_saw_event (p, "media-connected", NULL, NULL, 30));
  close_ws (conn);
  fail_unless (test_process_saw_event (p, "call-ended", NULL, NULL, 60));

  client_clear (&c);
  out = test_bridge_stop (p);
  fail_unless (strstr (out, token) == NULL, "the auth token was logged");
}

GST_END_TEST;

GST_START_TEST (test_bearer_and_logs)
{
  const gchar *access = "acc-token-4242";
  const gchar *args[] = { "--port", "0", "--realtime-url", CLOSED_MODEL_URL,
    NULL
  };
  const gchar *env[] = { "BRIDGE_ACCESS_TOKEN", access, NULL };
  TestProcess *p = test_bridge_start (args, env);
  guint port = test_bridge_port (p);
  Client c;
  g_autofree gchar *metrics = url (port, "/metrics");
  g_autofree gchar *health = url (port, "/health");
  g_autofree gchar *twiml = url (port, "/twiml");
  g_autofree gchar *logs = ws_url (port, "/logs");
  g_autofree gchar *logs_token = g_strdup_printf ("%s?token=%s", logs,
      access);
  g_autofree gchar *bearer = g_strdup_printf ("Bearer %s", access);
  const gchar *h_bearer[] = { "Authorization", bearer, NULL };
  const gchar *h_wrong[] = { "Authorization", "Bearer acc-token-4243", NULL };
  SoupWebsocketConnection *conn, *conn2;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GPtrArray) messages2 = NULL;
  guint status = 0;
  g_autofree gchar *out = NULL;

  client_init (&c);
  fail_unless_equals_int (test_http (c.session, "GET", metrics, NULL, NULL,
          NULL, NULL), 401);
  fail_unless_equals_int (test_http (c.session, "GET", metrics, h_wrong, NULL,
          NULL, NULL), 401);
  fail_unless_equals_int (test_http (c.session, "GET", metrics, h_bearer,
          NULL, NULL, NULL), 200);
  /* /health stays open for load balancers. */
  fail_unless_equals_int (test_http (c.session, "GET", health, NULL, NULL,
          NULL, NULL), 200);

  conn = test_ws_connect (c.session, logs, NULL, &status, 30);
  fail_unless (conn == NULL);
  fail_unless_equals_int (status, 401);
  conn = test_ws_connect (c.session, logs, h_bearer, &status, 30);
  fail_unless (conn != NULL, "status %u", status);
  conn2 = test_ws_connect (c.session, logs_token, NULL, &status, 30);
  fail_unless (conn2 != NULL, "status %u", status);
  messages = test_ws_collect (conn);
  messages2 = test_ws_collect (conn2);

  /* Events of calls stream live to every /logs client. */
  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/x-www-form-urlencoded", "CallSid=CAlive&From=%2B1",
          NULL), 200);
  fail_unless (test_ws_wait_message (messages, "\"callSid\":\"CAlive\"", 30));
  fail_unless (test_ws_wait_message (messages2, "\"event\":\"webhook\"", 30));
  close_ws (conn);
  close_ws (conn2);

  client_clear (&c);
  out = test_bridge_stop (p);
  fail_unless (strstr (out, access) == NULL, "the access token was logged");
}

GST_END_TEST;

static gboolean
send_text (SoupWebsocketConnection * conn, const gchar * text)
{
  if (soup_websocket_connection_get_state (conn) != SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;
  soup_websocket_connection_send_text (conn, text);
  return TRUE;
}

/* One call held open by hand, a second refused; the first ends with a
 * Twilio stop and the bridge accepts calls again. */
GST_START_TEST (test_max_calls)
{
  const gchar *args[] = { "--port", "0",
    "--max-calls", "1", "--hangup-timeout", "2", NULL
  };
  TestProcess *p = test_bridge_start (args, NULL);
  guint port = test_bridge_port (p);
  Client c;
  g_autofree gchar *call = ws_url (port, "/call");
  g_autofree gchar *twiml = url (port, "/twiml");
  g_autofree gchar *metrics = url (port, "/metrics");
  SoupWebsocketConnection *held, *refused;
  guint status = 0;
  gchar *body = NULL;
  g_autoptr (JsonObject) ended = NULL;

  client_init (&c);
  held = test_ws_connect (c.session, call, NULL, &status, 30);
  fail_unless (held != NULL, "status %u", status);
  fail_unless (test_process_saw_event (p, "media-connected", NULL, NULL, 30));

  refused = test_ws_connect (c.session, call, NULL, &status, 30);
  fail_unless (refused == NULL);
  fail_unless_equals_int (status, 503);
  fail_unless (test_process_saw_event (p, "media-refused", "reason",
          "max-calls", 30));
  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/x-www-form-urlencoded", "CallSid=CAbusy", &body), 503);
  fail_unless (strstr (body, "<Hangup/>") != NULL, "%s", body);
  g_free (body);
  fail_unless (test_process_saw_event (p, "call-refused", "callSid",
          "CAbusy", 30));

  /* The Twilio side names the call, then hangs up. */
  fail_unless (send_text (held, START_MESSAGE));
  fail_unless (test_process_saw_event (p, "twilio-start", "callSid",
          "CA22222222222222222222222222222222", 30));
  fail_unless (send_text (held, STOP_MESSAGE));
  ended = test_process_wait_event (p, "call-ended", NULL, NULL, 60);
  fail_unless (ended != NULL);
  fail_unless_equals_string (json_object_get_string_member (ended,
          "callSid"), "CA22222222222222222222222222222222");
  fail_unless_equals_string (json_object_get_string_member (ended,
          "streamSid"), "MZ11111111111111111111111111111111");
  fail_unless (json_object_has_member (ended, "duration-s"));
  fail_unless (json_object_has_member (ended, "turns"));
  g_object_unref (held);

  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/x-www-form-urlencoded", "CallSid=CAagain", NULL), 200);
  fail_unless_equals_int (test_http (c.session, "GET", metrics, NULL, NULL,
          NULL, &body), 200);
  fail_unless (strstr (body, "bridge_calls_started_total 1\n") != NULL, "%s",
      body);
  fail_unless (strstr (body, "bridge_calls_active 0\n") != NULL, "%s", body);
  fail_unless (strstr (body,
          "bridge_calls_refused_total{reason=\"max-calls\"} 2\n") != NULL,
      "%s", body);
  g_free (body);

  client_clear (&c);
  g_free (test_bridge_stop (p));
}

GST_END_TEST;

/* A bridge with @args and one call opened by hand, then SIGTERM. */
static TestProcess *
call_then_sigterm (const gchar * const *args, Client * c, guint * port,
    SoupWebsocketConnection ** conn)
{
  TestProcess *p = test_bridge_start (args, NULL);
  g_autofree gchar *call = NULL;
  guint status = 0;

  *port = test_bridge_port (p);
  call = ws_url (*port, "/call");
  client_init (c);
  *conn = test_ws_connect (c->session, call, NULL, &status, 30);
  fail_unless (*conn != NULL, "status %u", status);
  fail_unless (test_process_saw_event (p, "media-connected", NULL, NULL, 30));
  test_process_signal (p, SIGTERM);
  return p;
}

/* SIGTERM with a call in flight: no new calls, the call may finish, then
 * exit 0. */
GST_START_TEST (test_sigterm_drains)
{
  const gchar *args[] = { "--port", "0",
    "--hangup-timeout", "2", NULL
  };
  Client c;
  guint port = 0, status = 0;
  SoupWebsocketConnection *conn, *late;
  TestProcess *p = call_then_sigterm (args, &c, &port, &conn);
  g_autofree gchar *call = ws_url (port, "/call");
  g_autofree gchar *health = url (port, "/health");
  gchar *body = NULL;

  fail_unless (test_process_saw_event (p, "shutdown", "active-calls", "1", 30));
  fail_unless_equals_int (test_http (c.session, "GET", health, NULL, NULL,
          NULL, &body), 503);
  fail_unless (strstr (body, "\"status\":\"draining\"") != NULL, "%s", body);
  g_free (body);
  late = test_ws_connect (c.session, call, NULL, &status, 30);
  fail_unless (late == NULL);
  fail_unless_equals_int (status, 503);
  /* Still running while the call lasts. */
  fail_unless_equals_int (test_process_wait_exit (p, 0.5), -1);

  close_ws (conn);
  fail_unless (test_process_saw_event (p, "call-ended", NULL, NULL, 60));
  fail_unless_equals_int (test_process_wait_exit (p, 60), 0);
  client_clear (&c);
  test_process_free (p);
}

GST_END_TEST;

/* A call that does not end is ended at the shutdown timeout; exit 0. */
GST_START_TEST (test_sigterm_timeout)
{
  const gchar *args[] = { "--port", "0",
    "--shutdown-timeout", "1", NULL
  };
  Client c;
  guint port = 0;
  SoupWebsocketConnection *conn;
  TestProcess *p = call_then_sigterm (args, &c, &port, &conn);
  g_autoptr (JsonObject) ended = NULL;

  fail_unless (test_process_saw_event (p, "shutdown-timeout", NULL, NULL, 60));
  ended = test_process_wait_event (p, "call-ended", NULL, NULL, 60);
  fail_unless (ended != NULL);
  fail_unless (strstr (json_object_get_string_member (ended, "reason"),
          "shut down") != NULL);
  fail_unless_equals_int (test_process_wait_exit (p, 60), 0);
  g_object_unref (conn);
  client_clear (&c);
  test_process_free (p);
}

GST_END_TEST;

/* A /logs client that connects and never reads. */
static GSocket *
stalled_logs_client (guint port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (lo, port);
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  g_autofree gchar *request = g_strdup_printf ("GET /logs HTTP/1.1\r\n"
      "Host: 127.0.0.1:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", port);
  GString *head = g_string_new (NULL);
  gchar c;

  fail_unless (s != NULL, "%s", error ? error->message : "");
  /* A small window, so that the bridge's side fills up soon. */
  g_socket_set_option (s, SOL_SOCKET, SO_RCVBUF, 4096, NULL);
  g_socket_set_timeout (s, 30);
  fail_unless (g_socket_connect (s, address, NULL, &error), "%s",
      error ? error->message : "");
  fail_unless_equals_int (g_socket_send (s, request, strlen (request), NULL,
          NULL), strlen (request));
  /* The 101 answer, byte by byte so that nothing after it is read. */
  while (!g_str_has_suffix (head->str, "\r\n\r\n")
      && g_socket_receive (s, &c, 1, NULL, NULL) == 1)
    g_string_append_c (head, c);
  fail_unless (g_str_has_prefix (head->str, "HTTP/1.1 101"), "%s", head->str);
  g_string_free (head, TRUE);
  return s;
}

/* Reads until the bridge closes the connection; FALSE at the deadline. */
static gboolean
read_until_closed (GSocket * s, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  gchar buf[16384];
  gssize n;

  g_socket_set_timeout (s, 1);
  while (g_get_monotonic_time () < deadline) {
    g_autoptr (GError) error = NULL;

    n = g_socket_receive (s, buf, sizeof (buf), NULL, &error);
    if (n == 0 || (n < 0 && !g_error_matches (error, G_IO_ERROR,
                G_IO_ERROR_TIMED_OUT)))
      return TRUE;
  }
  return FALSE;
}

/* A /logs client that stops reading is disconnected once its backlog passes
 * the bound, with an event; a client that reads keeps getting events. */
GST_START_TEST (test_logs_slow_client)
{
  const gchar *args[] = { "--port", "0", NULL };
  TestProcess *p = test_bridge_start (args, NULL);
  guint port = test_bridge_port (p);
  Client c;
  g_autofree gchar *twiml = url (port, "/twiml");
  g_autofree gchar *logs = ws_url (port, "/logs");
  g_autofree gchar *big = g_strnfill (60000, 'x');
  g_autofree gchar *form = g_strdup_printf ("CallSid=CAflood&From=%s", big);
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (JsonObject) dropped = NULL;
  SoupWebsocketConnection *reader;
  GSocket *stalled;
  guint status = 0, posts = 0;

  client_init (&c);
  reader = test_ws_connect (c.session, logs, NULL, &status, 30);
  fail_unless (reader != NULL, "status %u", status);
  messages = test_ws_collect (reader);
  stalled = stalled_logs_client (port);
  fail_unless (test_process_saw_event (p, "logs-client-connected",
          "clients", "2", 30));

  /* Each webhook is a 60 kB event. Kernel buffers take a few MB before the
   * bridge has to hold anything; the bound is 1 MiB after that. */
  while (test_process_count_events (p, "logs-client-dropped", NULL,
          NULL) == 0 && posts < 2000) {
    fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
            "application/x-www-form-urlencoded", form, NULL), 200);
    posts++;
    /* The reading client reads. */
    while (g_main_context_iteration (c.ctx, FALSE));
  }
  dropped = test_process_wait_event (p, "logs-client-dropped", NULL, NULL, 30);
  fail_unless (dropped != NULL, "no drop after %u events", posts);
  fail_unless_equals_int (json_object_get_int_member (dropped, "clients"), 1);
  fail_unless (json_object_get_int_member (dropped, "waiting-bytes") +
      60000 > 1024 * 1024);
  fail_unless (json_object_get_int_member (dropped, "waiting-bytes") <=
      1024 * 1024);

  /* The stalled client is really gone; the reader heard about it and keeps
   * receiving. */
  fail_unless (read_until_closed (stalled, 60));
  g_object_unref (stalled);
  fail_unless (test_ws_wait_message (messages, "logs-client-dropped", 30));
  fail_unless_equals_int (test_http (c.session, "POST", twiml, NULL,
          "application/x-www-form-urlencoded", "CallSid=CAafter", NULL), 200);
  fail_unless (test_ws_wait_message (messages, "CAafter", 30));
  close_ws (reader);
  client_clear (&c);
  g_free (test_bridge_stop (p));
}

GST_END_TEST;

static Suite *
bridge_server_suite (void)
{
  Suite *s = suite_create ("bridge_server");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_help);
  tcase_add_test (tc, test_config_errors);
  tcase_add_test (tc, test_config_precedence);
  tcase_add_test (tc, test_endpoints);
  tcase_add_test (tc, test_signatures);
  tcase_add_test (tc, test_bearer_and_logs);
  tcase_add_test (tc, test_logs_slow_client);
  tcase_add_test (tc, test_max_calls);
  tcase_add_test (tc, test_sigterm_drains);
  tcase_add_test (tc, test_sigterm_timeout);
  return s;
}

GST_CHECK_MAIN (bridge_server);
