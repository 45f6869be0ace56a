/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher under test, as a child process: spawned with a pipeline
 * preset and the benchmark's model URL, its log lines read (for the port
 * and for failures) on a thread of their own, its cost read from /proc.
 */
#ifndef __BENCH_LAUNCHER_H__
#define __BENCH_LAUNCHER_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BenchLauncher BenchLauncher;

typedef struct
{
  const gchar *program;         /* path of realtime-bridge */
  const gchar *plugin_path;     /* prepended to GST_PLUGIN_PATH, or NULL */
  const gchar *pipeline;        /* preset name or gst-launch template */
  const gchar *realtime_url;
  guint max_calls;
  const gchar *log_path;        /* NULL: the launcher's log is read, not kept */
} BenchLauncherOptions;

/* Starts the launcher and waits (up to @timeout_ms) for its "listening"
 * log line. */
BenchLauncher *bench_launcher_start (const BenchLauncherOptions * options,
    guint timeout_ms, GError ** error);
guint bench_launcher_get_port (BenchLauncher * launcher);
GPid bench_launcher_get_pid (BenchLauncher * launcher);
/* TRUE while the process runs. */
gboolean bench_launcher_is_running (BenchLauncher * launcher);

/* Counts of log events so far (thread-safe). */
typedef struct
{
  guint lines;
  guint errors;                 /* "level":"error" */
  guint warnings;               /* "level":"warning" after start-up */
  guint calls_failed;           /* "call-failed" or call-ended status failed */
  guint calls_refused;
  gchar *first_error;           /* the first error line, or NULL */
} BenchLauncherLog;

void bench_launcher_get_log (BenchLauncher * launcher, BenchLauncherLog * log);
void bench_launcher_log_clear (BenchLauncherLog * log);

/* SIGTERM, then SIGKILL after @timeout_ms; reaps the child and frees. Sets
 * *exit_status (-1 if it had to be killed or died from a signal). */
void bench_launcher_stop (BenchLauncher * launcher, guint timeout_ms,
    gint * exit_status);

/* What /proc says about a process at one instant. */
typedef struct
{
  gint64 at_us;                 /* g_get_monotonic_time () */
  gdouble cpu_s;                /* utime + stime */
  gdouble rss_mb;               /* VmRSS */
  guint threads;
  guint64 ctx_voluntary;        /* bench_proc_sample: summed over live threads */
  guint64 ctx_involuntary;
} BenchProcSample;

gboolean bench_proc_sample (GPid pid, BenchProcSample * sample);
/* Parses /proc/PID/stat and /proc/PID/status text (pure, for the tests). */
gboolean bench_proc_parse (const gchar * stat, const gchar * status,
    glong ticks_per_s, BenchProcSample * sample);

G_END_DECLS

#endif
