/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local model's fault options (refused upgrades, closes, injected
 * errors, response delay), its events log, many sessions at once and the
 * realtime-bridge-model program.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include "localmodel.h"
#include "modelaudio.h"
#include "testclient.h"

#define WAIT_MS TEST_WAIT_MS

static guint
connect_status (LocalModel * model, const gchar * key, gboolean beta,
    TestClient ** client)
{
  gchar *url = local_model_get_url (model);
  guint status = 0;
  TestClient *c = test_client_connect (url, key, beta, &status);

  g_free (url);
  if (client)
    *client = c;
  else if (c)
    test_client_free (c);
  return status;
}

/* A plain HTTP request to the endpoint: the refusal's JSON body. */
static gchar *
http_body (LocalModel * model, const gchar * key, guint * status)
{
  SoupSession *session = soup_session_new_with_options ("proxy-resolver",
      NULL, NULL);
  gchar *url = g_strdup_printf ("http://127.0.0.1:%u/v1/realtime?model=m",
      local_model_get_port (model));
  SoupMessage *msg = soup_message_new ("GET", url);
  GBytes *body;
  gchar *text;

  if (key) {
    gchar *auth = g_strdup_printf ("Bearer %s", key);
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", auth);
    g_free (auth);
  }
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  *status = soup_message_get_status (msg);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_bytes_unref (body);
  g_object_unref (msg);
  g_object_unref (session);
  g_free (url);
  return text;
}

GST_START_TEST (test_upgrade_faults)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c = NULL;
  guint status;
  gchar *body;
  JsonObject *ev;

  local_model_options_init (&opts);
  opts.upgrade_failures = 2;
  opts.reject_key = "sk-revoked-123";
  model = test_model_start (&opts);

  fail_unless_equals_int (connect_status (model, "sk-ok", FALSE, NULL), 503);
  fail_unless_equals_int (connect_status (model, "sk-ok", FALSE, NULL), 503);
  fail_unless_equals_int (connect_status (model, NULL, FALSE, NULL), 401);
  fail_unless_equals_int (connect_status (model, "sk-revoked-123", FALSE,
          NULL), 401);
  body = http_body (model, "sk-revoked-123", &status);
  fail_unless_equals_int (status, 401);
  fail_unless (strstr (body, "\"invalid_api_key\"") != NULL, "%s", body);
  fail_unless (strstr (body, "revoked") == NULL, "key leaked: %s", body);
  g_free (body);

  fail_unless_equals_int (connect_status (model, "sk-ok", FALSE, &c), 101);
  fail_unless (c != NULL);
  test_client_free (c);

  /* the live API refuses the beta protocol after the upgrade */
  connect_status (model, "sk-ok", TRUE, &c);
  fail_unless (c != NULL);
  ev = test_client_expect (c, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "beta_api_shape_disabled");
  fail_unless (test_client_wait_closed (c, WAIT_MS) > 0);
  test_client_free (c);

  local_model_free (model);
}

GST_END_TEST;

GST_START_TEST (test_session_faults)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *a, *b;
  GByteArray *silence = g_byte_array_new ();
  JsonObject *ev;
  LocalModelStats stats;
  gint code;

  g_byte_array_set_size (silence, 160 * 10);
  memset (silence->data, 0xff, silence->len);

  /* abrupt close after 5 appends, first session only; an error every 3 */
  local_model_options_init (&opts);
  opts.close_after_appends = 5;
  opts.close_sessions = 1;
  opts.error_every_appends = 3;
  model = test_model_start (&opts);
  a = test_model_connect (model);
  b = test_model_connect (model);
  test_session_update (a, "{\"type\":\"audio/pcmu\"}", NULL);
  test_session_update (b, "{\"type\":\"audio/pcmu\"}", NULL);
  /* Exactly the appends before the close: had the client more to send, its
   * next write could fail on the closed socket and end the connection
   * before it read the error event already waiting for it. */
  test_client_append (a, silence->data, 5 * 160, 160);
  ev = test_client_expect (a, "error", WAIT_MS);
  fail_unless_equals_string (test_string_at (ev, "error.type"), "server_error");
  fail_unless_equals_string (test_string_at (ev, "error.code"),
      "injected_fault");
  code = test_client_wait_closed (a, WAIT_MS);
  fail_unless_equals_int (code, SOUP_WEBSOCKET_CLOSE_ABNORMAL);

  test_client_append (b, silence->data, silence->len, 160);
  test_client_expect (b, "error", WAIT_MS);
  test_client_expect (b, "error", WAIT_MS);
  test_client_send (b, "{\"type\":\"input_audio_buffer.clear\"}");
  test_client_expect (b, "input_audio_buffer.cleared", WAIT_MS);
  fail_unless_equals_int (test_client_wait_closed (b, 100), -1);

  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.faults_closed, 1);
  fail_unless_equals_int (stats.appends, 15);
  fail_unless_equals_int (stats.audio_bytes_received, 15 * 160);
  fail_unless_equals_int (stats.sessions_total, 2);
  local_model_stats_clear (&stats);
  test_client_free (a);
  test_client_free (b);
  local_model_free (model);

  /* a timed close with a close frame and code */
  local_model_options_init (&opts);
  opts.close_after_ms = 200;
  opts.close_code = 1011;
  model = test_model_start (&opts);
  a = test_model_connect (model);
  fail_unless_equals_int (test_client_wait_closed (a, WAIT_MS), 1011);
  test_client_free (a);
  local_model_free (model);

  g_byte_array_unref (silence);
}

GST_END_TEST;

GST_START_TEST (test_response_delay_and_log)
{
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  GByteArray *speech = test_ulaw_burst (100, 500, 400, 700);
  gchar *log_path;
  gchar *log_text;
  gint fd;
  gint64 stopped_us;
  gchar **lines;
  guint i, appends = 0;

  fd = g_file_open_tmp ("localmodel-events-XXXXXX.jsonl", &log_path, NULL);
  fail_unless (fd >= 0);
  close (fd);
  local_model_options_init (&opts);
  opts.audio_pace = 0;
  opts.response_delay_ms = 300;
  opts.events_log = log_path;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  test_session_update (c, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_append (c, speech->data, speech->len, 160);
  test_client_expect (c, "input_audio_buffer.speech_stopped", WAIT_MS);
  stopped_us = g_get_monotonic_time ();
  test_client_expect (c, "response.created", WAIT_MS);
  /* a lower bound only: the delay is at least what was asked */
  fail_unless (g_get_monotonic_time () - stopped_us >= 250 * 1000);
  test_client_expect (c, "response.done", WAIT_MS);
  test_client_sendf (c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"%s\",\"content_index\":0,\"audio_end_ms\":10}",
      test_string_at (g_ptr_array_index (test_client_history (c),
              test_client_find (c, "response.output_item.added", 0)),
          "item.id"));
  test_client_expect (c, "conversation.item.truncated", WAIT_MS);
  test_client_free (c);
  local_model_free (model);

  fail_unless (g_file_get_contents (log_path, &log_text, NULL, NULL));
  lines = g_strsplit (log_text, "\n", -1);
  for (i = 0; lines[i] && *lines[i]; i++) {
    JsonParser *p = json_parser_new ();
    JsonObject *o;

    fail_unless (json_parser_load_from_data (p, lines[i], -1, NULL));
    o = json_node_get_object (json_parser_get_root (p));
    fail_unless (json_object_has_member (o, "t_ms"));
    fail_unless (json_object_has_member (o, "session"));
    if (g_strcmp0 (json_object_get_string_member (o, "type"),
            "input_audio_buffer.append") == 0) {
      fail_unless_equals_int (json_object_get_int_member (o, "bytes"), 160);
      appends++;
    }
    if (g_strcmp0 (json_object_get_string_member (o, "type"),
            "conversation.item.truncate") == 0)
      fail_unless_equals_int (json_object_get_int_member (o, "audio_end_ms"),
          10);
    g_object_unref (p);
  }
  fail_unless_equals_int (appends, speech->len / 160);
  /* never audio, never the key */
  fail_unless (strstr (log_text, "\"audio\"") == NULL);
  fail_unless (strstr (log_text, "sk-test") == NULL);
  fail_unless (strstr (log_text, "ws.open") != NULL);

  g_strfreev (lines);
  g_free (log_text);
  g_unlink (log_path);
  g_free (log_path);
  g_byte_array_unref (speech);
}

GST_END_TEST;

/* Many concurrent sessions on the one model thread, each gets its own
 * utterance back (distinct tone lengths and frequencies). */
GST_START_TEST (test_many_sessions)
{
  LocalModelOptions opts;
  LocalModel *model;
  const guint n = g_getenv ("RUNNING_UNDER_VALGRIND") ? 8 : 60;
  TestClient **clients = g_new0 (TestClient *, n);
  GByteArray **inputs = g_new0 (GByteArray *, n);
  guint i, j;
  LocalModelStats stats;

  local_model_options_init (&opts);
  opts.audio_pace = 4.0;
  model = test_model_start (&opts);
  for (i = 0; i < n; i++) {
    clients[i] = test_model_connect (model);
    test_session_update (clients[i], "{\"type\":\"audio/pcmu\"}", NULL);
    /* 300..890 ms of tone */
    inputs[i] = test_ulaw_burst (0, 300 + 10 * i, 400, 300 + 37 * i);
  }
  for (i = 0; i < n; i++)
    test_client_append (clients[i], inputs[i]->data, inputs[i]->len, 160);
  for (i = 0; i < n; i++) {
    GByteArray *echo = g_byte_array_new ();
    guint speech_bytes = (300 + 10 * i) * 8;

    test_collect_response (clients[i], echo);
    /* the echo is this caller's tone (no prefix: it starts at 0) */
    fail_unless_equals_int (echo->len, speech_bytes);
    for (j = 0; j < echo->len; j++)
      fail_unless (model_audio_ulaw_decode (echo->data[j]) ==
          model_audio_ulaw_decode (inputs[i]->data[j]),
          "session %u sample %u", i, j);
    g_byte_array_unref (echo);
  }
  local_model_get_stats (model, &stats);
  fail_unless_equals_int (stats.sessions_active, n);
  fail_unless_equals_int (stats.responses_completed, n);
  local_model_stats_clear (&stats);
  for (i = 0; i < n; i++) {
    test_client_free (clients[i]);
    g_byte_array_unref (inputs[i]);
  }
  g_free (clients);
  g_free (inputs);
  local_model_free (model);
}

GST_END_TEST;

/* The program: URL on the first line, serves, counters on SIGTERM. */
GST_START_TEST (test_program)
{
  gchar *path = g_build_filename (g_getenv ("BUILD_ROOT"), "tools",
      "localmodel", "realtime-bridge-model", NULL);
  GError *error = NULL;
  GSubprocess *proc;
  GDataInputStream *out;
  gchar *url, *stats;
  guint status;
  TestClient *c;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, path,
      "--port", "0", "--reject-key", "sk-bad", "--function-call-every", "0",
      NULL);
  fail_unless (proc != NULL, "cannot run %s: %s", path,
      error ? error->message : "");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  url = g_data_input_stream_read_line (out, NULL, NULL, &error);
  fail_unless (url != NULL);
  fail_unless (g_str_has_prefix (url, "ws://127.0.0.1:"), "%s", url);
  fail_unless (g_str_has_suffix (url, "/v1/realtime"), "%s", url);

  c = test_client_connect (url, "sk-bad", FALSE, &status);
  fail_unless (c == NULL);
  fail_unless_equals_int (status, 401);
  c = test_client_connect (url, "sk-good", FALSE, &status);
  fail_unless (c != NULL);
  test_client_expect (c, "session.created", WAIT_MS);
  test_client_send (c, "{\"type\":\"session.update\",\"session\":"
      "{\"type\":\"realtime\"}}");
  test_client_expect (c, "session.updated", WAIT_MS);
  test_client_free (c);

  g_subprocess_send_signal (proc, SIGTERM);
  stats = g_data_input_stream_read_line (out, NULL, NULL, &error);
  fail_unless (stats != NULL);
  fail_unless (strstr (stats, "\"sessions_total\":1") != NULL, "%s", stats);
  fail_unless (strstr (stats, "\"session_updates\":1") != NULL, "%s", stats);
  fail_unless (strstr (stats, "\"upgrades_rejected\":1") != NULL, "%s", stats);
  fail_unless (g_subprocess_wait_check (proc, NULL, &error));

  g_free (stats);
  g_free (url);
  g_object_unref (out);
  g_object_unref (proc);
  g_free (path);
}

GST_END_TEST;

static Suite *
localmodel_faults_suite (void)
{
  Suite *s = suite_create ("localmodel_faults");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, test_net_start, test_net_stop);
  tcase_add_test (tc, test_upgrade_faults);
  tcase_add_test (tc, test_session_faults);
  tcase_add_test (tc, test_response_delay_and_log);
  tcase_add_test (tc, test_many_sessions);
  tcase_add_test (tc, test_program);
  return s;
}

GST_CHECK_MAIN (localmodel_faults);
