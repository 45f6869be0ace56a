/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher under test as a child process; see benchlauncher.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "benchlauncher.h"

struct _BenchLauncher
{
  GSubprocess *process;
  GThread *reader;
  FILE *log_file;

  GMutex lock;
  GCond cond;
  guint port;
  gboolean eof;
  BenchLauncherLog log;
};

/* The listening line's port; 0 if the line is not that event. */
static guint
parse_listening (const gchar * line)
{
  JsonParser *parser;
  guint port = 0;

  if (strstr (line, "\"event\":\"listening\"") == NULL)
    return 0;
  parser = json_parser_new ();
  if (json_parser_load_from_data (parser, line, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    JsonObject *o = json_node_get_object (json_parser_get_root (parser));

    if (json_object_has_member (o, "port"))
      port = json_object_get_int_member (o, "port");
  }
  g_object_unref (parser);
  return port;
}

/* Only substring checks per line: at hundreds of calls the launcher logs
 * thousands of lines a second, and this thread shares the machine. */
static void
account_line (BenchLauncher * self, const gchar * line)
{
  gboolean failed_call = strstr (line, "\"event\":\"call-failed\"") != NULL
      || (strstr (line, "\"event\":\"call-ended\"") != NULL
      && strstr (line, "\"status\":\"failed\"") != NULL);

  self->log.lines++;
  if (strstr (line, "\"level\":\"error\"")) {
    self->log.errors++;
    if (self->log.first_error == NULL)
      self->log.first_error = g_strndup (line, 2000);
  }
  if (self->port != 0 && strstr (line, "\"level\":\"warning\""))
    self->log.warnings++;
  if (failed_call) {
    self->log.calls_failed++;
    if (self->log.first_error == NULL)
      self->log.first_error = g_strndup (line, 2000);
  }
  if (strstr (line, "\"event\":\"call-refused\"")
      || strstr (line, "\"event\":\"media-refused\""))
    self->log.calls_refused++;
}

static gpointer
read_log (gpointer user_data)
{
  BenchLauncher *self = user_data;
  GInputStream *out = g_subprocess_get_stdout_pipe (self->process);
  GDataInputStream *lines = g_data_input_stream_new (out);
  gchar *line;

  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, NULL))) {
    guint port = parse_listening (line);

    if (self->log_file)
      fprintf (self->log_file, "%s\n", line);
    g_mutex_lock (&self->lock);
    if (port != 0 && self->port == 0) {
      self->port = port;
      g_cond_broadcast (&self->cond);
    }
    account_line (self, line);
    g_mutex_unlock (&self->lock);
    g_free (line);
  }
  g_mutex_lock (&self->lock);
  self->eof = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_object_unref (lines);
  return NULL;
}

static void
free_launcher (BenchLauncher * self)
{
  if (self->reader)
    g_thread_join (self->reader);
  g_clear_object (&self->process);
  if (self->log_file)
    fclose (self->log_file);
  bench_launcher_log_clear (&self->log);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

BenchLauncher *
bench_launcher_start (const BenchLauncherOptions * o, guint timeout_ms,
    GError ** error)
{
  BenchLauncher *self = g_new0 (BenchLauncher, 1);
  GSubprocessLauncher *spawner;
  gchar *max_calls = g_strdup_printf ("%u", MAX (o->max_calls, 1));
  gint64 deadline;
  gboolean listening;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  if (o->log_path && !(self->log_file = fopen (o->log_path, "w"))) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "cannot write %s: %s", o->log_path, g_strerror (errno));
    g_free (max_calls);
    free_launcher (self);
    return NULL;
  }

  spawner = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* the model is ours: it takes any key (the elements insist on one); no
   * real secret reaches the child, no other endpoint, no .env */
  g_subprocess_launcher_setenv (spawner, "OPENAI_API_KEY", "bench-local-model",
      TRUE);
  g_subprocess_launcher_unsetenv (spawner, "OPENAI_BASE_URL");
  g_subprocess_launcher_unsetenv (spawner, "TWILIO_AUTH_TOKEN");
  g_subprocess_launcher_unsetenv (spawner, "BRIDGE_ACCESS_TOKEN");
  g_subprocess_launcher_unsetenv (spawner, "PUBLIC_URL");
  if (o->plugin_path) {
    const gchar *old = g_getenv ("GST_PLUGIN_PATH");
    gchar *path = old && *old ? g_strconcat (o->plugin_path, ":", old,
        NULL) : g_strdup (o->plugin_path);

    g_subprocess_launcher_setenv (spawner, "GST_PLUGIN_PATH", path, TRUE);
    g_free (path);
  }
  self->process = g_subprocess_launcher_spawn (spawner, error, o->program,
      "--address", "127.0.0.1", "--port", "0", "--realtime-url",
      o->realtime_url, "--pipeline", o->pipeline, "--max-calls", max_calls,
      "--log-format", "json", "--env-file", "/dev/null", NULL);
  g_object_unref (spawner);
  g_free (max_calls);
  if (self->process == NULL) {
    g_prefix_error (error, "cannot start %s: ", o->program);
    free_launcher (self);
    return NULL;
  }
  self->reader = g_thread_new ("bench-launcher-log", read_log, self);

  deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&self->lock);
  while (self->port == 0 && !self->eof)
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
      break;
  listening = self->port != 0;
  g_mutex_unlock (&self->lock);
  if (!listening) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "%s did not say it was listening within %u ms%s", o->program,
        timeout_ms, self->eof ? " (it exited)" : "");
    bench_launcher_stop (self, 2000, NULL);
    return NULL;
  }
  return self;
}

guint
bench_launcher_get_port (BenchLauncher * self)
{
  return self->port;
}

GPid
bench_launcher_get_pid (BenchLauncher * self)
{
  const gchar *id = g_subprocess_get_identifier (self->process);

  return id ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

gboolean
bench_launcher_is_running (BenchLauncher * self)
{
  return g_subprocess_get_identifier (self->process) != NULL;
}

void
bench_launcher_get_log (BenchLauncher * self, BenchLauncherLog * log)
{
  g_mutex_lock (&self->lock);
  *log = self->log;
  log->first_error = g_strdup (self->log.first_error);
  g_mutex_unlock (&self->lock);
}

void
bench_launcher_log_clear (BenchLauncherLog * log)
{
  g_clear_pointer (&log->first_error, g_free);
}

typedef struct
{
  GMainLoop *loop;
  gboolean done;
} WaitState;

static void
on_exited (GObject * source, GAsyncResult * result, gpointer user_data)
{
  WaitState *state = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  state->done = TRUE;
  g_main_loop_quit (state->loop);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* Waits for the child to exit, at most @timeout_ms, then kills it. */
static void
wait_exit (GSubprocess * process, guint timeout_ms)
{
  GMainContext *context = g_main_context_new ();
  WaitState state = { g_main_loop_new (context, FALSE), FALSE };
  GSource *timeout = g_timeout_source_new (timeout_ms);

  g_main_context_push_thread_default (context);
  g_source_set_callback (timeout, on_wait_timeout, state.loop, NULL);
  g_source_attach (timeout, context);
  g_subprocess_wait_async (process, NULL, on_exited, &state);
  g_main_loop_run (state.loop);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  if (!state.done) {
    /* the pending wait must finish before its state goes away */
    g_subprocess_force_exit (process);
    while (!state.done)
      g_main_context_iteration (context, TRUE);
  }
  g_main_context_pop_thread_default (context);
  g_main_loop_unref (state.loop);
  g_main_context_unref (context);
}

void
bench_launcher_stop (BenchLauncher * self, guint timeout_ms, gint * exit_status)
{
  gint status = -1;

  if (bench_launcher_is_running (self)) {
    g_subprocess_send_signal (self->process, SIGTERM);
    wait_exit (self->process, timeout_ms);
  }
  if (g_subprocess_get_if_exited (self->process))
    status = g_subprocess_get_exit_status (self->process);
  if (exit_status)
    *exit_status = status;
  free_launcher (self);
}

gboolean
bench_proc_parse (const gchar * stat, const gchar * status,
    glong ticks_per_s, BenchProcSample * sample)
{
  const gchar *after_comm = strrchr (stat, ')');
  gchar **fields, **lines;
  guint i;
  gboolean ok;

  if (after_comm == NULL || ticks_per_s <= 0)
    return FALSE;
  /* after "pid (comm)": field 3 is state; utime and stime are fields 14
   * and 15 (proc(5)), i.e. the 12th and 13th after the state */
  fields = g_strsplit (after_comm + 2, " ", 0);
  ok = g_strv_length (fields) > 12;
  if (ok)
    sample->cpu_s = (g_ascii_strtod (fields[11], NULL) +
        g_ascii_strtod (fields[12], NULL)) / ticks_per_s;
  g_strfreev (fields);
  if (!ok)
    return FALSE;

  sample->rss_mb = 0;
  sample->threads = 0;
  sample->ctx_voluntary = sample->ctx_involuntary = 0;
  lines = g_strsplit (status, "\n", 0);
  for (i = 0; lines[i]; i++) {
    const gchar *l = lines[i];

    if (g_str_has_prefix (l, "VmRSS:"))
      sample->rss_mb = g_ascii_strtod (l + 6, NULL) / 1024.0;
    else if (g_str_has_prefix (l, "Threads:"))
      sample->threads = g_ascii_strtoull (l + 8, NULL, 10);
    else if (g_str_has_prefix (l, "voluntary_ctxt_switches:"))
      sample->ctx_voluntary = g_ascii_strtoull (l + 24, NULL, 10);
    else if (g_str_has_prefix (l, "nonvoluntary_ctxt_switches:"))
      sample->ctx_involuntary = g_ascii_strtoull (l + 27, NULL, 10);
  }
  g_strfreev (lines);
  return TRUE;
}

/* /proc/PID/status counts the switches of the main thread only: add up
 * every live thread's. */
static void
sum_thread_switches (GPid pid, BenchProcSample * sample)
{
  gchar *dir_path = g_strdup_printf ("/proc/%d/task", (gint) pid);
  GDir *dir = g_dir_open (dir_path, 0, NULL);
  const gchar *name;
  guint64 voluntary = 0, involuntary = 0;

  while (dir && (name = g_dir_read_name (dir))) {
    gchar *path = g_build_filename (dir_path, name, "status", NULL);
    gchar *status = NULL;
    BenchProcSample thread = { 0, };

    if (g_file_get_contents (path, &status, NULL, NULL)
        && bench_proc_parse ("0 (t) S 0 0 0 0 0 0 0 0 0 0 0 0", status, 1,
            &thread)) {
      voluntary += thread.ctx_voluntary;
      involuntary += thread.ctx_involuntary;
    }
    g_free (status);
    g_free (path);
  }
  if (dir) {
    g_dir_close (dir);
    sample->ctx_voluntary = voluntary;
    sample->ctx_involuntary = involuntary;
  }
  g_free (dir_path);
}

gboolean
bench_proc_sample (GPid pid, BenchProcSample * sample)
{
  gchar *stat_path = g_strdup_printf ("/proc/%d/stat", (gint) pid);
  gchar *status_path = g_strdup_printf ("/proc/%d/status", (gint) pid);
  gchar *stat = NULL, *status = NULL;
  gboolean ok;

  sample->at_us = g_get_monotonic_time ();
  ok = g_file_get_contents (stat_path, &stat, NULL, NULL)
      && g_file_get_contents (status_path, &status, NULL, NULL)
      && bench_proc_parse (stat, status, sysconf (_SC_CLK_TCK), sample);
  if (ok)
    sum_thread_switches (pid, sample);
  g_free (stat_path);
  g_free (status_path);
  g_free (stat);
  g_free (status);
  return ok;
}
