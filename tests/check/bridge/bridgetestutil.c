/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers for the tests that run the real realtime-bridge.
 */
#include "bridgetestutil.h"

#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <glib/gstdio.h>

struct _TestProcess
{
  GSubprocess *proc;
  GThread *reader;
  gchar *dir;

  GMutex lock;
  GCond cond;
  GPtrArray *lines;
  gboolean exited;
  gint exit_status;
};

/* Settings of the bridge the test environment must not leak into it. */
static const gchar *bridge_settings[] = {
  "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_REALTIME_URL",
  "OPENAI_REALTIME_MODEL", "TWILIO_AUTH_TOKEN", "BRIDGE_ACCESS_TOKEN",
  "PUBLIC_URL", "PORT", "BRIDGE_ADDRESS", "VOICE", "INSTRUCTIONS",
  "INSTRUCTIONS_FILE", "GREETING", "TURN_DETECTION", "TRANSCRIPTION_MODEL",
  "BRIDGE_PIPELINE", "RECORD_DIR", "MAX_CALLS", "SHUTDOWN_TIMEOUT",
  "HANGUP_TIMEOUT", "MAX_MESSAGE_SIZE", "LOG_FORMAT", "VERBOSE", "CALL_LOOPS",
  "THREADED_CALLS", NULL
};

/* A test that aborts must not leave a bridge running. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gpointer
reader_thread (gpointer user_data)
{
  TestProcess *p = user_data;
  g_autoptr (GDataInputStream) in =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (p->proc));
  gchar *line;

  while ((line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, NULL))) {
    if (g_getenv ("BRIDGE_TEST_ECHO"))
      g_printerr ("| %s\n", line);
    if (g_str_has_prefix (line, "==") && strstr (line + 2, "== ")) {
      /* valgrind's report on the bridge: into the test log, not among the
       * bridge's own lines. */
      g_printerr ("%s\n", line);
      g_free (line);
      continue;
    }
    g_mutex_lock (&p->lock);
    g_ptr_array_add (p->lines, line);
    g_cond_broadcast (&p->cond);
    g_mutex_unlock (&p->lock);
  }
  g_subprocess_wait (p->proc, NULL, NULL);
  g_mutex_lock (&p->lock);
  p->exited = TRUE;
  p->exit_status = g_subprocess_get_if_exited (p->proc) ?
      g_subprocess_get_exit_status (p->proc) : 128 +
      g_subprocess_get_term_sig (p->proc);
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
  return NULL;
}

TestProcess *
test_process_start (const gchar * const *argv, const gchar * const *env,
    GError ** error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_MERGE);
  TestProcess *p = g_new0 (TestProcess, 1);
  guint i;

  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  p->lines = g_ptr_array_new_with_free_func (g_free);
  p->dir = g_dir_make_tmp ("bridge-test-XXXXXX", error);
  if (!p->dir)
    goto failed;
  g_subprocess_launcher_set_cwd (launcher, p->dir);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  for (i = 0; bridge_settings[i]; i++)
    g_subprocess_launcher_unsetenv (launcher, bridge_settings[i]);
  for (i = 0; env && env[i]; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  p->proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (!p->proc)
    goto failed;
  p->reader = g_thread_new ("bridge-stdout", reader_thread, p);
  return p;

failed:
  test_process_free (p);
  return NULL;
}

/* valgrind as `meson test --setup valgrind` runs the test programs. */
static void
add_valgrind (GPtrArray * argv)
{
  const gchar *source_root = g_getenv ("SOURCE_ROOT");

  g_ptr_array_add (argv, g_strdup ("valgrind"));
  g_ptr_array_add (argv, g_strdup ("--tool=memcheck"));
  g_ptr_array_add (argv, g_strdup ("--leak-check=full"));
  g_ptr_array_add (argv, g_strdup ("--errors-for-leak-kinds=definite"));
  g_ptr_array_add (argv, g_strdup ("--show-leak-kinds=definite"));
  g_ptr_array_add (argv, g_strdup ("--show-possibly-lost=no"));
  g_ptr_array_add (argv, g_strdup ("--num-callers=30"));
  g_ptr_array_add (argv, g_strdup ("--error-exitcode=1"));
  g_ptr_array_add (argv,
      g_strdup ("--suppressions=/usr/share/glib-2.0/valgrind/glib.supp"));
  if (source_root)
    g_ptr_array_add (argv, g_strdup_printf ("--suppressions=%s/tests/check/"
            "gst-realtime-bridge.supp", source_root));
}

TestProcess *
test_bridge_start (const gchar * const *args, const gchar * const *env)
{
  const gchar *program = g_getenv ("REALTIME_BRIDGE");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  TestProcess *p;
  guint i;

  g_assert (program != NULL);
  if (g_getenv ("RUNNING_UNDER_VALGRIND"))
    add_valgrind (argv);
  g_ptr_array_add (argv, g_strdup (program));
  for (i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  p = test_process_start ((const gchar * const *) argv->pdata, env, &error);
  if (!p)
    g_error ("cannot start %s: %s", program, error->message);
  return p;
}

gchar *
test_bridge_stop (TestProcess * p)
{
  gchar *out;
  gint status;

  test_process_signal (p, SIGTERM);
  status = test_process_finish (p, 120);
  out = test_process_output (p);
  test_process_free (p);
  if (status != 0)
    g_error ("realtime-bridge exited with %d", status);
  if (!strstr (out, "\"event\":\"stopped\""))
    g_error ("realtime-bridge did not log \"stopped\":\n%s", out);
  return out;
}

TestProcess *
test_callsim_start (guint port, const gchar * const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  const gchar *program = g_getenv ("REALTIME_BRIDGE_CALL");
  const gchar *audio = g_getenv ("BRIDGE_TEST_AUDIO");
  g_autoptr (GError) error = NULL;
  TestProcess *p;
  guint i;

  g_assert (program != NULL);
  g_ptr_array_add (argv, g_strdup (program));
  g_ptr_array_add (argv, g_strdup_printf ("--url=ws://127.0.0.1:%u/call",
          port));
  g_ptr_array_add (argv, g_strdup ("--json"));
  if (audio && g_file_test (audio, G_FILE_TEST_EXISTS))
    g_ptr_array_add (argv, g_strdup_printf ("--audio=%s", audio));
  for (i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  p = test_process_start ((const gchar * const *) argv->pdata, NULL, &error);
  if (!p)
    g_error ("cannot start %s: %s", program, error->message);
  return p;
}

const gchar *
test_process_dir (TestProcess * p)
{
  return p->dir;
}

static gboolean
line_matches (const gchar * line, const gchar * event, const gchar * field,
    const gchar * value, JsonObject ** out)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;
  JsonObject *obj;
  JsonNode *member;

  if (line[0] != '{')
    return FALSE;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, line, -1, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  obj = json_node_get_object (root);
  if (g_strcmp0 (json_object_get_string_member_with_default (obj, "event",
              NULL), event) != 0)
    return FALSE;
  if (field) {
    g_autofree gchar *text = NULL;

    member = json_object_get_member (obj, field);
    if (!member)
      return FALSE;
    if (JSON_NODE_HOLDS_VALUE (member)
        && json_node_get_value_type (member) == G_TYPE_STRING)
      text = g_strdup (json_node_get_string (member));
    else
      text = json_to_string (member, FALSE);
    if (g_strcmp0 (text, value) != 0)
      return FALSE;
  }
  if (out)
    *out = json_object_ref (obj);
  return TRUE;
}

JsonObject *
test_process_wait_event (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  JsonObject *found = NULL;
  guint next = 0;

  g_mutex_lock (&p->lock);
  while (!found) {
    for (; next < p->lines->len && !found; next++)
      line_matches (g_ptr_array_index (p->lines, next), event, field, value,
          &found);
    if (found || p->exited)
      break;
    if (!g_cond_wait_until (&p->cond, &p->lock, deadline))
      break;
  }
  /* Lines that arrived with the exit. */
  for (; next < p->lines->len && !found; next++)
    line_matches (g_ptr_array_index (p->lines, next), event, field, value,
        &found);
  g_mutex_unlock (&p->lock);
  return found;
}

gboolean
test_process_saw_event (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value, gdouble timeout_s)
{
  JsonObject *found = test_process_wait_event (p, event, field, value,
      timeout_s);

  if (!found)
    return FALSE;
  json_object_unref (found);
  return TRUE;
}

guint
test_process_count_events (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value)
{
  guint i, n = 0;

  g_mutex_lock (&p->lock);
  for (i = 0; i < p->lines->len; i++)
    if (line_matches (g_ptr_array_index (p->lines, i), event, field, value,
            NULL))
      n++;
  g_mutex_unlock (&p->lock);
  return n;
}

gboolean
test_process_wait_line (TestProcess * p, const gchar * needle,
    gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  gboolean found = FALSE;
  guint next = 0;

  g_mutex_lock (&p->lock);
  while (TRUE) {
    for (; next < p->lines->len && !found; next++)
      found = strstr (g_ptr_array_index (p->lines, next), needle) != NULL;
    if (found || p->exited)
      break;
    if (!g_cond_wait_until (&p->cond, &p->lock, deadline))
      break;
  }
  for (; next < p->lines->len && !found; next++)
    found = strstr (g_ptr_array_index (p->lines, next), needle) != NULL;
  g_mutex_unlock (&p->lock);
  return found;
}

gchar *
test_process_output (TestProcess * p)
{
  GString *s = g_string_new (NULL);
  guint i;

  g_mutex_lock (&p->lock);
  for (i = 0; i < p->lines->len; i++) {
    g_string_append (s, g_ptr_array_index (p->lines, i));
    g_string_append_c (s, '\n');
  }
  g_mutex_unlock (&p->lock);
  return g_string_free (s, FALSE);
}

guint
test_bridge_port (TestProcess * p)
{
  g_autoptr (JsonObject) listening =
      test_process_wait_event (p, "listening", NULL, NULL, 60);

  if (!listening) {
    g_autofree gchar *out = test_process_output (p);

    g_error ("realtime-bridge did not start listening:\n%s", out);
  }
  return json_object_get_int_member (listening, "port");
}

gboolean
test_process_wait_count (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value, guint count, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  guint i, n = 0, next = 0;

  g_mutex_lock (&p->lock);
  while (TRUE) {
    for (i = next; i < p->lines->len; i++)
      if (line_matches (g_ptr_array_index (p->lines, i), event, field, value,
              NULL))
        n++;
    next = p->lines->len;
    if (n >= count || p->exited
        || !g_cond_wait_until (&p->cond, &p->lock, deadline))
      break;
  }
  for (i = next; i < p->lines->len; i++)
    if (line_matches (g_ptr_array_index (p->lines, i), event, field, value,
            NULL))
      n++;
  g_mutex_unlock (&p->lock);
  return n == count;
}

void
test_process_signal (TestProcess * p, gint signum)
{
  g_subprocess_send_signal (p->proc, signum);
}

gint
test_process_wait_exit (TestProcess * p, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  gint status = -1;

  g_mutex_lock (&p->lock);
  while (!p->exited)
    if (!g_cond_wait_until (&p->cond, &p->lock, deadline))
      break;
  if (p->exited)
    status = p->exit_status;
  g_mutex_unlock (&p->lock);
  return status;
}

gint
test_process_finish (TestProcess * p, gdouble timeout_s)
{
  gint status = test_process_wait_exit (p, timeout_s);

  if (status != 0) {
    g_autofree gchar *out = test_process_output (p);

    g_printerr ("process output (exit %d):\n%s\n", status, out);
  }
  return status;
}

static void
remove_dir (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_dir (child);
      else
        g_unlink (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

void
test_process_free (TestProcess * p)
{
  if (!p)
    return;
  if (p->proc) {
    g_mutex_lock (&p->lock);
    if (!p->exited)
      g_subprocess_force_exit (p->proc);
    g_mutex_unlock (&p->lock);
  }
  if (p->reader)
    g_thread_join (p->reader);
  g_clear_object (&p->proc);
  if (p->dir)
    remove_dir (p->dir);
  g_free (p->dir);
  g_ptr_array_unref (p->lines);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  g_free (p);
}

/* ---- HTTP and WebSocket -------------------------------------------------- */

guint
test_http (SoupSession * session, const gchar * method, const gchar * url,
    const gchar * const *headers, const gchar * content_type,
    const gchar * request_body, gchar ** body)
{
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  guint i;

  g_assert (msg != NULL);
  for (i = 0; headers && headers[i]; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        headers[i], headers[i + 1]);
  if (request_body) {
    g_autoptr (GBytes) req = g_bytes_new (request_body, strlen (request_body));

    soup_message_set_request_body_from_bytes (msg, content_type, req);
  }
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  if (!bytes)
    g_error ("HTTP %s %s failed: %s", method, url, error->message);
  if (body)
    *body = g_strndup (g_bytes_get_data (bytes, NULL),
        g_bytes_get_size (bytes));
  return soup_message_get_status (msg);
}

typedef struct
{
  gboolean done;
  SoupWebsocketConnection *conn;
} ConnectData;

static void
on_ws_connected (GObject * source, GAsyncResult * result, gpointer user_data)
{
  ConnectData *data = user_data;

  data->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      result, NULL);
  data->done = TRUE;
}

SoupWebsocketConnection *
test_ws_connect (SoupSession * session, const gchar * url,
    const gchar * const *headers, guint * status, gdouble timeout_s)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  ConnectData data = { FALSE, NULL };
  guint i;

  for (i = 0; headers && headers[i]; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        headers[i], headers[i + 1]);
  soup_session_websocket_connect_async (session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_ws_connected, &data);
  if (!test_iterate_until (&data.done, timeout_s))
    g_error ("WebSocket connect to %s did not finish", url);
  if (status)
    *status = soup_message_get_status (msg);
  return data.conn;
}

static gboolean
on_deadline (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
test_iterate_until (volatile gboolean * flag, gdouble timeout_s)
{
  GMainContext *ctx = g_main_context_get_thread_default ();
  gboolean timed_out = FALSE;
  GSource *timeout = g_timeout_source_new ((guint) (timeout_s * 1000));

  g_source_set_callback (timeout, on_deadline, &timed_out, NULL);
  g_source_attach (timeout, ctx);
  while (!*flag && !timed_out)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  return *flag;
}

static void
on_ws_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  GPtrArray *messages = user_data;

  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    g_ptr_array_add (messages, g_strndup (g_bytes_get_data (message, NULL),
            g_bytes_get_size (message)));
}

GPtrArray *
test_ws_collect (SoupWebsocketConnection * conn)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), messages);
  return messages;
}

typedef struct
{
  GPtrArray *messages;
  const gchar *needle;
  gboolean found;
} WaitMessage;

static gboolean
check_messages (gpointer user_data)
{
  WaitMessage *w = user_data;
  guint i;

  for (i = 0; i < w->messages->len && !w->found; i++)
    w->found = strstr (g_ptr_array_index (w->messages, i), w->needle) != NULL;
  return w->found ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

gboolean
test_ws_wait_message (GPtrArray * messages, const gchar * needle,
    gdouble timeout_s)
{
  WaitMessage w = { messages, needle, FALSE };
  GSource *poll = g_timeout_source_new (20);

  /* Re-checked after each batch of messages the context delivers. */
  g_source_set_callback (poll, check_messages, &w, NULL);
  g_source_attach (poll, g_main_context_get_thread_default ());
  check_messages (&w);
  test_iterate_until (&w.found, timeout_s);
  g_source_destroy (poll);
  g_source_unref (poll);
  return w.found;
}

gchar *
test_twilio_signature (const gchar * token, const gchar * url,
    const gchar * const *sorted_params)
{
  g_autoptr (GHmac) h = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) token,
      strlen (token));
  guint8 digest[20];
  gsize len = sizeof (digest);
  guint i;

  g_hmac_update (h, (const guchar *) url, strlen (url));
  for (i = 0; sorted_params && sorted_params[i]; i++)
    g_hmac_update (h, (const guchar *) sorted_params[i],
        strlen (sorted_params[i]));
  g_hmac_get_digest (h, digest, &len);
  return g_base64_encode (digest, len);
}
