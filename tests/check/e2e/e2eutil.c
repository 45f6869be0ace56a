/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the end-to-end tests.
 */
#include "e2eutil.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* ---- processes ----------------------------------------------------------- */

/* Processes started and not yet freed. A failed check leaves the test
 * function at once (CK_FORK=no), so at exit whatever is left is killed
 * rather than left running. */
static GPtrArray *live_processes;

static void
kill_live_processes (void)
{
  guint i;

  for (i = 0; live_processes && i < live_processes->len; i++)
    test_process_signal (g_ptr_array_index (live_processes, i), SIGKILL);
}

static TestProcess *
track (TestProcess * p)
{
  if (!live_processes) {
    live_processes = g_ptr_array_new ();
    atexit (kill_live_processes);
  }
  g_ptr_array_add (live_processes, p);
  return p;
}

void
e2e_free (TestProcess * p)
{
  if (live_processes)
    g_ptr_array_remove_fast (live_processes, p);
  test_process_free (p);
}

TestProcess *
e2e_bridge_start (const gchar * const *args, const gchar * const *env)
{
  return track (test_bridge_start (args, env));
}

gchar *
e2e_make_dir (void)
{
  g_autoptr (GError) error = NULL;
  gchar *dir = g_dir_make_tmp ("e2e-XXXXXX", &error);

  fail_unless (dir != NULL, "%s", error ? error->message : "");
  return dir;
}

void
e2e_remove_dir (const gchar * path)
{
  GDir *dir;
  const gchar *name;

  if (!path)
    return;
  if (g_getenv ("E2E_KEEP")) {
    g_printerr ("E2E_KEEP: kept %s\n", path);
    return;
  }
  dir = g_dir_open (path, 0, NULL);
  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        e2e_remove_dir (child);
      else
        g_unlink (child);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

static TestProcess *
start_program (const gchar * env_name, const gchar * const *prefix,
    const gchar * const *args)
{
  const gchar *program = g_getenv (env_name);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  TestProcess *p;
  guint i;

  fail_unless (program != NULL, "%s is not set", env_name);
  g_ptr_array_add (argv, (gpointer) program);
  for (i = 0; prefix && prefix[i]; i++)
    g_ptr_array_add (argv, (gpointer) prefix[i]);
  for (i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  p = test_process_start ((const gchar * const *) argv->pdata, NULL, &error);
  fail_unless (p != NULL, "cannot start %s: %s", program,
      error ? error->message : "");
  return track (p);
}

TestProcess *
e2e_model_start (const gchar * const *args, gchar ** url)
{
  const gchar *prefix[] = { "--port=0", NULL };
  TestProcess *p = start_program ("REALTIME_BRIDGE_MODEL", prefix, args);
  g_autofree gchar *out = NULL;
  g_auto (GStrv) lines = NULL;
  guint i;

  if (!test_process_wait_line (p, "ws://", 60)) {
    out = test_process_output (p);
    fail ("realtime-bridge-model did not print its URL:\n%s", out);
  }
  out = test_process_output (p);
  lines = g_strsplit (out, "\n", -1);
  for (i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "ws://")) {
      *url = g_strdup (g_strstrip (lines[i]));
      break;
    }
  fail_unless (*url != NULL);
  return p;
}

TestProcess *
e2e_callsim_start (guint port, const gchar * const *args)
{
  g_autofree gchar *url = g_strdup_printf ("--url=ws://127.0.0.1:%u/call",
      port);
  const gchar *prefix[] = { url, "--json", NULL };

  return start_program ("REALTIME_BRIDGE_CALL", prefix, args);
}

gint
e2e_finish (TestProcess * p, gint expected, gdouble timeout_s)
{
  gint status = test_process_wait_exit (p, timeout_s);

  if (status != expected) {
    g_autofree gchar *out = test_process_output (p);

    g_printerr ("process exited with %d (expected %d), its output:\n%s\n",
        status, expected, out);
  }
  return status;
}

gint
e2e_stop (TestProcess * p, gdouble timeout_s)
{
  test_process_signal (p, SIGTERM);
  return e2e_reap (p, timeout_s);
}

gint
e2e_reap (TestProcess * p, gdouble timeout_s)
{
  g_autofree gchar *out = NULL;
  gint status;

  status = e2e_finish (p, 0, timeout_s);
  out = test_process_output (p);
  fail_if (strstr (out, "LeakSanitizer") != NULL, "leaks:\n%s", out);
  fail_if (strstr (out, "AddressSanitizer") != NULL, "ASan:\n%s", out);
  fail_if (strstr (out, "runtime error:") != NULL, "UBSan:\n%s", out);
  e2e_free (p);
  return status;
}

const gchar *
e2e_sample (const gchar * env_name)
{
  const gchar *path = g_getenv (env_name);

  fail_unless (path != NULL && g_file_test (path, G_FILE_TEST_EXISTS),
      "the sample %s (%s) was not built (espeak-ng missing?)", env_name,
      path ? path : "unset");
  return path;
}

/* ---- HTTP ------------------------------------------------------------------ */

JsonObject *
e2e_get_json (guint port, const gchar * path)
{
  GMainContext *ctx = g_main_context_new ();
  g_autofree gchar *url = g_strdup_printf ("http://127.0.0.1:%u%s", port,
      path);
  g_autofree gchar *body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = NULL;
  SoupSession *session;
  guint status;

  g_main_context_push_thread_default (ctx);
  session = soup_session_new ();
  status = test_http (session, "GET", url, NULL, NULL, NULL, &body);
  g_object_unref (session);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);

  if (status == 200 && json_parser_load_from_data (parser, body, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    obj = json_object_ref (json_node_get_object (json_parser_get_root
            (parser)));
  return obj;
}

guint
e2e_url_port (const gchar * url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  fail_unless (uri != NULL, "bad URL %s", url);
  return g_uri_get_port (uri);
}

gint64
e2e_wait_json_int (guint port, const gchar * path, const gchar * member,
    gint64 value, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  gint64 seen = -1;

  while (TRUE) {
    g_autoptr (JsonObject) obj = e2e_get_json (port, path);

    if (obj && json_object_has_member (obj, member))
      seen = json_object_get_int_member (obj, member);
    if (seen == value || g_get_monotonic_time () > deadline)
      return seen;
    /* The server has no push notification for this; poll it. */
    g_usleep (50 * 1000);
  }
}

/* ---- JSON lines -------------------------------------------------------- */

static void
add_json_lines (GPtrArray * objects, const gchar * text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint i;

  for (i = 0; lines[i]; i++) {
    g_autoptr (JsonParser) parser = NULL;
    JsonNode *root;

    if (lines[i][0] != '{')
      continue;
    parser = json_parser_new ();
    if (!json_parser_load_from_data (parser, lines[i], -1, NULL))
      continue;
    root = json_parser_get_root (parser);
    if (JSON_NODE_HOLDS_OBJECT (root))
      g_ptr_array_add (objects, json_object_ref (json_node_get_object (root)));
  }
}

GPtrArray *
e2e_read_json_lines (const gchar * path)
{
  GPtrArray *objects =
      g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree gchar *text = NULL;
  g_autoptr (GError) error = NULL;

  fail_unless (g_file_get_contents (path, &text, NULL, &error), "%s",
      error ? error->message : "");
  add_json_lines (objects, text);
  return objects;
}

GPtrArray *
e2e_process_json_lines (TestProcess * p)
{
  GPtrArray *objects =
      g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree gchar *text = test_process_output (p);

  add_json_lines (objects, text);
  return objects;
}

static gboolean
member_is (JsonObject * obj, const gchar * key, const gchar * value)
{
  JsonNode *node = json_object_get_member (obj, key);

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  return g_strcmp0 (json_node_get_string (node), value) == 0;
}

JsonObject *
e2e_find (GPtrArray * objects, const gchar * key, const gchar * value, guint n)
{
  guint i;

  for (i = 0; i < objects->len; i++)
    if (member_is (g_ptr_array_index (objects, i), key, value) && n-- == 0)
      return g_ptr_array_index (objects, i);
  return NULL;
}

guint
e2e_count (GPtrArray * objects, const gchar * key, const gchar * value)
{
  guint i, n = 0;

  for (i = 0; i < objects->len; i++)
    if (member_is (g_ptr_array_index (objects, i), key, value))
      n++;
  return n;
}

gint
e2e_index_of (GPtrArray * objects, JsonObject * obj)
{
  guint i;

  for (i = 0; i < objects->len; i++)
    if (g_ptr_array_index (objects, i) == obj)
      return i;
  return -1;
}

gdouble
e2e_double (JsonObject * obj, const gchar * member)
{
  JsonNode *node;

  fail_unless (obj != NULL);
  node = json_object_get_member (obj, member);
  fail_unless (node != NULL && JSON_NODE_HOLDS_VALUE (node),
      "no number %s", member);
  return json_node_get_double (node);
}

/* ---- audio --------------------------------------------------------------- */

static guint32
le32 (const guint8 * p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
le16 (const guint8 * p)
{
  return p[0] | (p[1] << 8);
}

gboolean
e2e_wav_read (const gchar * path, E2eWav * wav, GError ** error)
{
  g_autofree gchar *contents = NULL;
  const guint8 *data;
  gsize len, pos = 12;
  gboolean have_format = FALSE;

  memset (wav, 0, sizeof *wav);
  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  data = (const guint8 *) contents;
  if (len < 12 || memcmp (data, "RIFF", 4) || memcmp (data + 8, "WAVE", 4))
    goto bad;
  while (pos + 8 <= len) {
    guint32 size = le32 (data + pos + 4);
    const guint8 *body = data + pos + 8;
    gsize avail = len - pos - 8;

    if (!memcmp (data + pos, "fmt ", 4) && size >= 16 && avail >= 16) {
      /* PCM, mono, 16 bit. */
      if (le16 (body) != 1 || le16 (body + 2) != 1 || le16 (body + 14) != 16)
        goto bad;
      wav->rate = le32 (body + 4);
      have_format = TRUE;
    } else if (!memcmp (data + pos, "data", 4) && have_format) {
      gsize bytes = MIN (size, avail);
      gsize i;

      wav->n_samples = bytes / 2;
      wav->samples = g_new (gint16, wav->n_samples + 1);
      for (i = 0; i < wav->n_samples; i++)
        wav->samples[i] = (gint16) le16 (body + 2 * i);
      return TRUE;
    }
    pos += 8 + size + (size & 1);
  }
bad:
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
      "%s is not a 16-bit mono PCM WAV file", path);
  return FALSE;
}

void
e2e_wav_clear (E2eWav * wav)
{
  g_clear_pointer (&wav->samples, g_free);
  wav->n_samples = 0;
}

static void
put_le32 (GByteArray * a, guint32 v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (a, b, 4);
}

static void
put_le16 (GByteArray * a, guint16 v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (a, b, 2);
}

gboolean
e2e_wav_write_tone (const gchar * path, gdouble freq, guint tone_ms,
    gdouble amplitude, guint silence_ms, GError ** error)
{
  const guint rate = 8000;
  guint silence = silence_ms * rate / 1000, tone = tone_ms * rate / 1000;
  guint n = 2 * silence + tone, i;
  g_autoptr (GByteArray) a = g_byte_array_new ();

  g_byte_array_append (a, (const guint8 *) "RIFF", 4);
  put_le32 (a, 36 + 2 * n);
  g_byte_array_append (a, (const guint8 *) "WAVEfmt ", 8);
  put_le32 (a, 16);
  put_le16 (a, 1);
  put_le16 (a, 1);
  put_le32 (a, rate);
  put_le32 (a, rate * 2);
  put_le16 (a, 2);
  put_le16 (a, 16);
  g_byte_array_append (a, (const guint8 *) "data", 4);
  put_le32 (a, 2 * n);
  for (i = 0; i < n; i++) {
    gdouble v = 0;

    if (i >= silence && i < silence + tone)
      v = amplitude * sin (2 * G_PI * freq * (i - silence) / rate);
    put_le16 (a, (guint16) (gint16) lrint (v * 32767));
  }
  return g_file_set_contents (path, (const gchar *) a->data, a->len, error);
}

GArray *
e2e_envelope (const E2eWav * wav)
{
  return e2e_envelope_from (wav, 0);
}

GArray *
e2e_envelope_from (const E2eWav * wav, gsize start)
{
  gsize window = wav->rate * E2E_WINDOW_MS / 1000, i, j;
  GArray *env = g_array_new (FALSE, FALSE, sizeof (gdouble));

  for (i = start; window > 0 && i + window <= wav->n_samples; i += window) {
    gdouble sum = 0, db;

    for (j = i; j < i + window; j++)
      sum += (gdouble) wav->samples[j] * wav->samples[j];
    db = MAX (E2E_FLOOR_DB, 10 * log10 (sum / window / (32768.0 * 32768.0)
            + 1e-10));
    g_array_append_val (env, db);
  }
  return env;
}

gboolean
e2e_active_span (GArray * envelope, gdouble threshold_db, guint * first,
    guint * last)
{
  gboolean found = FALSE;
  guint i;

  for (i = 0; i < envelope->len; i++)
    if (g_array_index (envelope, gdouble, i) > threshold_db) {
      if (!found)
        *first = i;
      *last = i;
      found = TRUE;
    }
  return found;
}

guint
e2e_active_windows (GArray * envelope, gdouble threshold_db)
{
  guint i, n = 0;

  for (i = 0; i < envelope->len; i++)
    if (g_array_index (envelope, gdouble, i) > threshold_db)
      n++;
  return n;
}

gdouble
e2e_best_correlation (GArray * pattern, GArray * signal, guint min_lag,
    guint * lag)
{
  const gdouble *p = (const gdouble *) pattern->data;
  const gdouble *s = (const gdouble *) signal->data;
  guint n = pattern->len, l, i;
  gdouble best = -2, mean_p = 0, var_p = 0;

  *lag = 0;
  if (n < 2 || signal->len < n)
    return best;
  for (i = 0; i < n; i++)
    mean_p += p[i] / n;
  for (i = 0; i < n; i++)
    var_p += (p[i] - mean_p) * (p[i] - mean_p);
  for (l = min_lag; l + n <= signal->len; l++) {
    gdouble mean_s = 0, var_s = 0, cov = 0, r;

    for (i = 0; i < n; i++)
      mean_s += s[l + i] / n;
    for (i = 0; i < n; i++) {
      var_s += (s[l + i] - mean_s) * (s[l + i] - mean_s);
      cov += (p[i] - mean_p) * (s[l + i] - mean_s);
    }
    if (var_s <= 0 || var_p <= 0)
      continue;
    r = cov / sqrt (var_p * var_s);
    if (r > best) {
      best = r;
      *lag = l;
    }
  }
  return best;
}

gdouble
e2e_tone_power (const E2eWav * wav, gsize start, gsize end, gdouble freq)
{
  gdouble coeff = 2 * cos (2 * G_PI * freq / wav->rate);
  gdouble s0, s1 = 0, s2 = 0;
  gsize i;

  end = MIN (end, wav->n_samples);
  if (end <= start)
    return 0;
  for (i = start; i < end; i++) {
    s0 = wav->samples[i] / 32768.0 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (end - start);
}

gboolean
e2e_tone_span (const E2eWav * wav, gdouble amplitude, gsize * first,
    gsize * last)
{
  gdouble edge = amplitude * 32767 / 2;
  gboolean found = FALSE;
  gsize i;

  for (i = 0; i < wav->n_samples; i++)
    if (ABS (wav->samples[i]) > edge) {
      if (!found)
        *first = i;
      *last = i;
      found = TRUE;
    }
  return found;
}
