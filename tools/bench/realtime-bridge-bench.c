/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-bench: what the bridge costs and adds, as the number of
 * calls grows. Runs the real launcher (a child process) between simulated
 * Twilio calls and the local model, both in this process on one clock.
 * See `realtime-bridge-bench --help` and docs/performance.md.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "benchreport.h"
#include "benchstep.h"

#define EXIT_OK 0
#define EXIT_STEP_FAILED 1
#define EXIT_USAGE 2

#define DESCRIPTION \
"Starts the launcher (realtime-bridge) once per step, with --realtime-url\n" \
"pointing at a local model embedded in this program, and places N\n" \
"simulated Twilio calls through it from this program. Each caller says a\n" \
"code that names its call, then a 200 ms tone burst every 2 s; the model\n" \
"answers each burst with a 200 ms tone. The model and the callers each run\n" \
"on --harness-threads loop threads (the model's share one port). The\n" \
"callers' 20 ms frames are spread over --frame-phases phases of the 20 ms\n" \
"period, as the frames of calls that started at unrelated times are.\n" \
"On one clock:\n" \
"  setup  Twilio `start` sent -> the model received session.update\n" \
"  in     a burst's first frame sent by the caller -> the model decoded the\n" \
"         append holding its first sample (caller -> model hop)\n" \
"  out    the model sent a response's first delta -> the caller received the\n" \
"         media message holding its first sample (model -> caller hop)\n" \
"Latencies are p50/p95/p99 in ms over the bursts and answers of the\n" \
"steady-state window (every call started and settled). The launcher's\n" \
"CPU (utime+stime), RSS, threads and context switches are read from\n" \
"/proc over that window; the idle launcher (0 calls) is subtracted before\n" \
"dividing by N. lost = bursts or answers never seen at the far end;\n" \
"late = hops above --late-ms. A step fails when a call fails, audio is\n" \
"lost or short by more than 40 ms, or the launcher dies; each pipeline's\n" \
"sequence stops at its first failed step.\n" \
"\n" \
"Pipelines: transcode, passthrough (the launcher's presets) and\n" \
"transcode-qN (the transcode preset with audioresample quality=N).\n" \
"\n" \
"Exit status: 0 all steps passed, 1 a step failed (the table says which),\n" \
"2 bad options or the benchmark could not run.\n"

typedef struct
{
  gchar *pipelines, *steps, *json, *launcher, *keep_logs;
  gint max, step_increment, stagger, settle, window, baseline, late;
  gint harness_threads, frame_phases;
  gboolean harness_poll;
} Options;

/* --pipeline value and audioresample quality (-1: none) of a name. */
static gchar *
pipeline_for (const gchar * name, gint default_quality, gint * quality,
    GError ** error)
{
  if (g_str_equal (name, "transcode")) {
    *quality = default_quality;
    return g_strdup ("transcode");
  }
  if (g_str_equal (name, "passthrough")) {
    *quality = -1;
    return g_strdup ("passthrough");
  }
  if (g_str_has_prefix (name, "transcode-q")) {
    gchar *end = NULL;
    gint64 q = g_ascii_strtoll (name + strlen ("transcode-q"), &end, 10);

    if (end && *end == '\0' && end != name + strlen ("transcode-q")
        && q >= 0 && q <= 10) {
      *quality = q;
      /* the transcode preset with the quality set on both resamplers */
      return g_strdup_printf ("twiliosrc ! mulawdec ! audioresample "
          "quality=%d ! audio/x-raw,rate=24000 ! openairealtimesink  "
          "openairealtimesrc ! audioresample quality=%d ! "
          "audio/x-raw,rate=8000 ! mulawenc ! twiliosink", (gint) q, (gint) q);
    }
  }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "unknown pipeline \"%s\" (transcode, passthrough, transcode-q0 .. "
      "transcode-q10)", name);
  return NULL;
}

static gboolean
parse_steps (const gchar * text, GArray * steps, GError ** error)
{
  gchar **parts = g_strsplit (text, ",", 0);
  guint i;

  for (i = 0; parts[i]; i++) {
    gchar *end = NULL;
    guint64 n = g_ascii_strtoull (g_strstrip (parts[i]), &end, 10);
    guint v = n;

    if (end == parts[i] || *end != '\0' || n < 1 || n > 4095) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--steps: \"%s\" is not a number of calls from 1 to 4095", parts[i]);
      g_strfreev (parts);
      return FALSE;
    }
    if (steps->len > 0 && v <= g_array_index (steps, guint, steps->len - 1)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--steps must increase");
      g_strfreev (parts);
      return FALSE;
    }
    g_array_append_val (steps, v);
  }
  g_strfreev (parts);
  if (steps->len == 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--steps is empty");
    return FALSE;
  }
  return TRUE;
}

static gchar *
cpu_model (void)
{
  gchar *text = NULL, *model = NULL;
  gchar **lines;
  guint i;

  if (!g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    return g_strdup ("unknown");
  lines = g_strsplit (text, "\n", 0);
  for (i = 0; lines[i] && !model; i++)
    if (g_str_has_prefix (lines[i], "model name")) {
      const gchar *colon = strchr (lines[i], ':');
      model = g_strstrip (g_strdup (colon ? colon + 1 : lines[i]));
    }
  g_strfreev (lines);
  g_free (text);
  return model ? model : g_strdup ("unknown");
}

static JsonObject *
machine_json (gint default_quality)
{
  JsonObject *o = json_object_new ();
  struct utsname u;
  gchar *model = cpu_model (), *v;

  json_object_set_int_member (o, "nproc", g_get_num_processors ());
  json_object_set_string_member (o, "cpu", model);
  if (uname (&u) == 0) {
    v = g_strdup_printf ("%s %s %s", u.sysname, u.release, u.machine);
    json_object_set_string_member (o, "kernel", v);
    g_free (v);
  }
  v = gst_version_string ();
  json_object_set_string_member (o, "gstreamer", v);
  g_free (v);
  v = g_strdup_printf ("%u.%u.%u", glib_major_version, glib_minor_version,
      glib_micro_version);
  json_object_set_string_member (o, "glib", v);
  g_free (v);
  v = g_strdup_printf ("%u.%u.%u", soup_get_major_version (),
      soup_get_minor_version (), soup_get_micro_version ());
  json_object_set_string_member (o, "libsoup", v);
  g_free (v);
  json_object_set_string_member (o, "json_glib", JSON_VERSION_S);
  json_object_set_string_member (o, "bridge", VERSION);
  json_object_set_int_member (o, "audioresample_default_quality",
      default_quality);
  g_free (model);
  return o;
}

/* audioresample's default quality: what the transcode preset uses. */
static gint
default_resample_quality (void)
{
  GstElement *e = gst_element_factory_make ("audioresample", NULL);
  gint quality = -1;

  if (e) {
    g_object_get (e, "quality", &quality, NULL);
    gst_object_unref (e);
  }
  return quality;
}

static gchar *
find_launcher (const gchar * given, gchar ** plugin_path)
{
  *plugin_path = NULL;
  if (given)
    return g_strdup (given);
#ifdef BENCH_BUILD_LAUNCHER
  /* run from the build tree: that build's launcher and plugins */
  if (g_file_test (BENCH_BUILD_LAUNCHER, G_FILE_TEST_IS_EXECUTABLE)) {
    *plugin_path = g_strdup (BENCH_BUILD_PLUGIN_PATH);
    return g_strdup (BENCH_BUILD_LAUNCHER);
  }
#endif
  return g_find_program_in_path ("realtime-bridge");
}

static gboolean
write_json (const gchar * path, JsonNode * root, GError ** error)
{
  JsonGenerator *gen = json_generator_new ();
  gboolean ok;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  ok = json_generator_to_file (gen, path, error);
  g_object_unref (gen);
  return ok;
}

static JsonObject *
parameters_json (const Options * o, GArray * steps)
{
  JsonObject *p = json_object_new ();
  JsonArray *a = json_array_new ();
  guint i;

  json_object_set_string_member (p, "pipelines", o->pipelines);
  for (i = 0; i < steps->len; i++)
    json_array_add_int_element (a, g_array_index (steps, guint, i));
  json_object_set_array_member (p, "steps", a);
  json_object_set_int_member (p, "max", o->max);
  json_object_set_int_member (p, "step_increment", o->step_increment);
  json_object_set_int_member (p, "stagger_ms", o->stagger);
  json_object_set_int_member (p, "frame_phases", o->frame_phases);
  json_object_set_int_member (p, "settle_ms", o->settle);
  json_object_set_int_member (p, "window_ms", o->window);
  json_object_set_int_member (p, "baseline_ms", o->baseline);
  json_object_set_int_member (p, "late_ms", o->late);
  json_object_set_int_member (p, "harness_threads", o->harness_threads);
  json_object_set_string_member (p, "harness_poll", o->harness_poll ?
      "poll" : "epoll");
  json_object_set_int_member (p, "burst_ms", 200);
  json_object_set_int_member (p, "burst_period_ms", 2000);
  json_object_set_int_member (p, "answer_ms", 200);
  return p;
}

/* Runs @steps (then, up to --max, more by --step-increment) for one
 * pipeline, appending rows; stops at the first failed step. */
static gboolean
run_pipeline (const Options * o, const gchar * name, gint default_quality,
    GArray * steps, const gchar * launcher, const gchar * plugin_path,
    GArray * rows, GError ** error)
{
  gint quality;
  gchar *pipeline = pipeline_for (name, default_quality, &quality, error);
  guint i = 0, n = 0;
  gboolean all_ok = TRUE;

  if (pipeline == NULL)
    return FALSE;
  while (TRUE) {
    BenchStepOptions so = { 0, };
    BenchRow row = { name, quality, };
    gchar *log = NULL;

    if (i < steps->len)
      n = g_array_index (steps, guint, i++);
    else if ((gint) n < o->max)
      n = MIN (n + o->step_increment, (guint) o->max);
    else
      break;
    if (o->keep_logs)
      log = g_strdup_printf ("%s/launcher-%s-%u.log", o->keep_logs, name, n);
    so.launcher = launcher;
    so.plugin_path = plugin_path;
    so.pipeline = pipeline;
    so.calls = n;
    so.stagger_ms = o->stagger;
    so.frame_phases = o->frame_phases;
    so.settle_ms = o->settle;
    so.window_ms = o->window;
    so.baseline_ms = o->baseline;
    so.late_ms = o->late;
    so.launcher_log = log;
    so.harness_threads = o->harness_threads;
    so.harness_poll = o->harness_poll;
    if (!bench_step_run (&so, &row.result, error)) {
      g_free (log);
      g_free (pipeline);
      return FALSE;
    }
    g_free (log);
    bench_report_table_row (stdout, &row);
    g_array_append_val (rows, row);
    if (!bench_row_ok (&row)) {
      all_ok = FALSE;
      if (row.result.first_failure)
        g_print ("  first failure: %s\n", row.result.first_failure);
      if (row.result.launcher_first_error)
        g_print ("  launcher: %.300s\n", row.result.launcher_first_error);
      break;
    }
  }
  g_free (pipeline);
  if (!all_ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed", name);
  return all_ok;
}

/* The embedded model's per-session notes (sockets closing at the end of a
 * step, ...) are not results; its warnings still show. */
static void
drop_model_notes (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
}

int
main (int argc, char **argv)
{
  Options o = {
    .max = 0,.step_increment = 250,.stagger = 20,.settle = 2000,
    .window = 10000,.baseline = 2000,.late = 100,.frame_phases = 20,
  };
  GOptionEntry entries[] = {
    {"pipelines", 'p', 0, G_OPTION_ARG_STRING, &o.pipelines,
        "Comma-separated pipelines (default transcode,passthrough)", "LIST"},
    {"steps", 's', 0, G_OPTION_ARG_STRING, &o.steps,
          "Comma-separated numbers of concurrent calls (default 1,10,100,500)",
        "N,N,..."},
    {"max", 'm', 0, G_OPTION_ARG_INT, &o.max,
        "After the steps, go on by --step-increment up to N calls or the "
          "first failure (default: no further)", "N"},
    {"step-increment", 0, 0, G_OPTION_ARG_INT, &o.step_increment,
        "Calls added per step beyond --steps (default 250)", "N"},
    {"stagger", 0, 0, G_OPTION_ARG_INT, &o.stagger,
        "Between call starts (default 20)", "MS"},
    {"frame-phases", 0, 0, G_OPTION_ARG_INT, &o.frame_phases,
        "Spread the calls' 20 ms frames over N phases, 20/N ms apart, as "
          "independent calls are; 1 sends every call's frame at once "
          "(default 20)", "N"},
    {"settle", 0, 0, G_OPTION_ARG_INT, &o.settle,
          "After the last call started, before the window (default 2000)",
        "MS"},
    {"window", 'w', 0, G_OPTION_ARG_INT, &o.window,
        "The steady-state window (default 10000)", "MS"},
    {"baseline", 0, 0, G_OPTION_ARG_INT, &o.baseline,
        "The idle launcher's measurement (default 2000)", "MS"},
    {"late-ms", 0, 0, G_OPTION_ARG_INT, &o.late,
        "A hop above this counts as late (default 100)", "MS"},
    {"json", 'j', 0, G_OPTION_ARG_FILENAME, &o.json,
        "Write the results as JSON to FILE", "FILE"},
    {"launcher", 0, 0, G_OPTION_ARG_FILENAME, &o.launcher,
          "The realtime-bridge program (default: this build's, else PATH)",
        "PATH"},
    {"keep-logs", 0, 0, G_OPTION_ARG_FILENAME, &o.keep_logs,
        "Keep each step's launcher log in DIR", "DIR"},
    {"harness-threads", 0, 0, G_OPTION_ARG_INT, &o.harness_threads,
        "Loop threads of the local model and of the callers, each "
          "(default: one per 200 calls, at most one per CPU)", "K"},
    {"harness-poll", 0, 0, G_OPTION_ARG_NONE, &o.harness_poll,
        "The harness's loops poll with poll() instead of epoll", NULL},
    {NULL}
  };
  GOptionContext *context;
  GError *error = NULL;
  GArray *steps = g_array_new (FALSE, FALSE, sizeof (guint));
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (BenchRow));
  gchar **names = NULL, *launcher = NULL, *plugin_path = NULL;
  JsonObject *machine = NULL, *parameters = NULL;
  gint status = EXIT_OK, quality;
  guint i;

  setvbuf (stdout, NULL, _IOLBF, 0);
  g_log_set_handler ("localmodel", G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO |
      G_LOG_LEVEL_DEBUG, drop_model_notes, NULL);
  context = g_option_context_new ("- benchmark the bridge: latency per hop, "
      "CPU and memory per call");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_option_context_set_description (context, DESCRIPTION);
  if (!g_option_context_parse (context, &argc, &argv, &error)
      || !parse_steps (o.steps ? o.steps : "1,10,100,500", steps, &error)) {
    g_printerr ("realtime-bridge-bench: %s\n(see --help)\n", error->message);
    status = EXIT_USAGE;
    goto out;
  }
  if (o.stagger < 0 || o.settle < 0 || o.window < 1000 || o.baseline < 500
      || o.late < 1 || o.step_increment < 1 || o.max < 0 || o.max > 4095
      || o.harness_threads < 0 || o.harness_threads > 64
      || o.frame_phases < 1 || 20 % o.frame_phases != 0) {
    g_printerr ("realtime-bridge-bench: invalid option value (see --help)\n");
    status = EXIT_USAGE;
    goto out;
  }
  if (o.pipelines == NULL)
    o.pipelines = g_strdup ("transcode,passthrough");
  launcher = find_launcher (o.launcher, &plugin_path);
  if (launcher == NULL) {
    g_printerr ("realtime-bridge-bench: realtime-bridge not found; give "
        "--launcher\n");
    status = EXIT_USAGE;
    goto out;
  }

  quality = default_resample_quality ();
  machine = machine_json (quality);
  parameters = parameters_json (&o, steps);
  g_print ("realtime-bridge-bench: %s; %u CPUs (%s); audioresample default "
      "quality %d\n", launcher, g_get_num_processors (),
      json_object_get_string_member (machine, "cpu"), quality);
  g_print ("latencies in ms; in = caller->model, out = model->caller; "
      "cpu%%/c = %% of one core per call; cs/s/c = context switches per "
      "second per call\n");
  bench_report_table_header (stdout);

  names = g_strsplit (o.pipelines, ",", 0);
  for (i = 0; names[i]; i++) {
    if (!run_pipeline (&o, g_strstrip (names[i]), quality, steps, launcher,
            plugin_path, rows, &error)) {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED)) {
        g_printerr ("realtime-bridge-bench: %s\n", error->message);
        status = EXIT_USAGE;
        g_clear_error (&error);
        break;
      }
      status = EXIT_STEP_FAILED;
      g_clear_error (&error);
    }
  }

  if (o.json) {
    JsonNode *root = bench_report_json (machine, parameters,
        (const BenchRow *) rows->data, rows->len);

    if (!write_json (o.json, root, &error)) {
      g_printerr ("realtime-bridge-bench: cannot write %s: %s\n", o.json,
          error->message);
      status = EXIT_USAGE;
    }
    json_node_unref (root);
  }

out:
  g_clear_error (&error);
  for (i = 0; i < rows->len; i++)
    bench_step_result_clear (&g_array_index (rows, BenchRow, i).result);
  g_array_unref (rows);
  g_array_unref (steps);
  g_strfreev (names);
  if (machine)
    json_object_unref (machine);
  if (parameters)
    json_object_unref (parameters);
  g_free (launcher);
  g_free (plugin_path);
  g_free (o.pipelines);
  g_free (o.steps);
  g_free (o.json);
  g_free (o.launcher);
  g_free (o.keep_logs);
  g_option_context_free (context);
  gst_deinit ();
  return status;
}
