/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-bench's table and JSON; see benchreport.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "benchreport.h"

gboolean
bench_row_ok (const BenchRow * row)
{
  const BenchStepResult *r = &row->result;

  return r->calls_failed == 0 && r->calls_unmatched == 0
      && r->bursts_lost == 0 && r->responses_lost == 0
      && r->calls_short_in == 0 && r->calls_short_out == 0
      && !r->launcher_died && r->launcher_calls_failed == 0;
}

void
bench_report_table_header (FILE * out)
{
  fprintf (out, "%-14s %5s %5s %5s | %-15s | %-20s | %-20s | %5s %5s | "
      "%8s %8s %6s %7s | %6s %6s\n",
      "pipeline", "calls", "ok", "fail", "setup p50/p95", "in p50/p95/p99",
      "out p50/p95/p99", "lost", "late", "cpu%/c", "MB/call", "thr/c",
      "cs/s/c", "cpu%", "bench%");
}

static void
format_latency (gchar * buf, gsize size, const BenchLatency * l, gboolean p99)
{
  if (l->n == 0)
    g_snprintf (buf, size, "-");
  else if (p99)
    g_snprintf (buf, size, "%.1f/%.1f/%.1f", l->p50, l->p95, l->p99);
  else
    g_snprintf (buf, size, "%.0f/%.0f", l->p50, l->p95);
}

void
bench_report_table_row (FILE * out, const BenchRow * row)
{
  const BenchStepResult *r = &row->result;
  gchar setup[32], in[32], out_l[32];

  format_latency (setup, sizeof setup, &r->setup, FALSE);
  format_latency (in, sizeof in, &r->caller_to_model, TRUE);
  format_latency (out_l, sizeof out_l, &r->model_to_caller, TRUE);
  fprintf (out, "%-14s %5u %5u %5u | %-15s | %-20s | %-20s | %5u %5u | "
      "%8.4f %8.3f %6.1f %7.0f | %6.1f %6.1f%s\n",
      row->pipeline_name, r->calls, r->calls_ok, r->calls_failed, setup, in,
      out_l, r->bursts_lost + r->responses_lost, r->hops_late,
      r->cpu_pct_per_call, r->rss_mb_per_call, r->threads_per_call,
      r->ctx_switches_per_call_s, r->cpu_pct, r->bench_cpu_pct,
      bench_row_ok (row) ? "" : "  FAILED");
  if (r->tick_lag.n > 0)
    fprintf (out, "  harness: %u+%u loop threads (model+callers), callers' "
        "ticks late p50/p99/max %.1f/%.1f/%.1f ms\n", r->harness_threads,
        r->harness_threads, r->tick_lag.p50, r->tick_lag.p99, r->tick_lag.max);
  fflush (out);
}

static void
set_number (JsonObject * o, const gchar * name, gdouble v)
{
  if (isnan (v) || isinf (v))
    json_object_set_null_member (o, name);
  else
    json_object_set_double_member (o, name, v);
}

static JsonObject *
latency_to_json (const BenchLatency * l)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "n", l->n);
  set_number (o, "p50_ms", l->n ? l->p50 : NAN);
  set_number (o, "p95_ms", l->n ? l->p95 : NAN);
  set_number (o, "p99_ms", l->n ? l->p99 : NAN);
  set_number (o, "max_ms", l->n ? l->max : NAN);
  return o;
}

JsonObject *
bench_row_to_json (const BenchRow * row)
{
  const BenchStepResult *r = &row->result;
  JsonObject *o = json_object_new ();
  JsonObject *calls = json_object_new ();
  JsonObject *launcher = json_object_new ();
  JsonObject *audio = json_object_new ();
  JsonObject *c = json_object_new ();

  json_object_set_string_member (o, "pipeline", row->pipeline_name);
  if (row->resample_quality >= 0)
    json_object_set_int_member (o, "resample_quality", row->resample_quality);
  else
    json_object_set_null_member (o, "resample_quality");
  json_object_set_int_member (o, "calls", r->calls);
  json_object_set_boolean_member (o, "ok", bench_row_ok (row));

  json_object_set_int_member (calls, "ok", r->calls_ok);
  json_object_set_int_member (calls, "failed", r->calls_failed);
  json_object_set_int_member (calls, "unmatched", r->calls_unmatched);
  if (r->first_failure)
    json_object_set_string_member (calls, "first_failure", r->first_failure);
  json_object_set_object_member (o, "calls_result", calls);

  json_object_set_object_member (o, "setup", latency_to_json (&r->setup));
  json_object_set_object_member (o, "caller_to_model",
      latency_to_json (&r->caller_to_model));
  json_object_set_object_member (o, "model_to_caller",
      latency_to_json (&r->model_to_caller));
  json_object_set_int_member (o, "bursts_lost", r->bursts_lost);
  json_object_set_int_member (o, "responses_lost", r->responses_lost);
  json_object_set_int_member (o, "hops_late", r->hops_late);

  set_number (audio, "caller_sent_ms", r->caller_sent_ms);
  set_number (audio, "model_received_ms", r->model_received_ms);
  set_number (audio, "model_sent_ms", r->model_sent_ms);
  set_number (audio, "caller_received_ms", r->caller_received_ms);
  json_object_set_int_member (audio, "calls_short_in", r->calls_short_in);
  json_object_set_int_member (audio, "calls_short_out", r->calls_short_out);
  set_number (audio, "worst_short_in_ms", r->worst_short_in_ms);
  set_number (audio, "worst_short_out_ms", r->worst_short_out_ms);
  set_number (audio, "short_tolerance_ms", BENCH_SHORT_TOLERANCE_MS);
  json_object_set_object_member (o, "audio", audio);

  set_number (c, "window_s", r->window_s);
  set_number (c, "idle_cpu_pct", r->idle_cpu_pct);
  set_number (c, "cpu_pct", r->cpu_pct);
  set_number (c, "cpu_pct_per_call", r->cpu_pct_per_call);
  set_number (c, "idle_rss_mb", r->idle_rss_mb);
  set_number (c, "rss_mb", r->rss_mb);
  set_number (c, "rss_mb_per_call", r->rss_mb_per_call);
  json_object_set_int_member (c, "idle_threads", r->idle_threads);
  json_object_set_int_member (c, "threads", r->threads);
  set_number (c, "threads_per_call", r->threads_per_call);
  set_number (c, "ctx_switches_per_s", r->ctx_switches_per_s);
  set_number (c, "ctx_switches_per_call_s", r->ctx_switches_per_call_s);
  set_number (c, "bench_cpu_pct", r->bench_cpu_pct);
  json_object_set_int_member (c, "harness_threads", r->harness_threads);
  json_object_set_object_member (c, "harness_tick_lag",
      latency_to_json (&r->tick_lag));
  json_object_set_object_member (o, "launcher_cost", c);

  json_object_set_boolean_member (launcher, "died", r->launcher_died);
  json_object_set_int_member (launcher, "exit_status", r->launcher_exit_status);
  json_object_set_int_member (launcher, "calls_failed",
      r->launcher_calls_failed);
  json_object_set_int_member (launcher, "errors", r->launcher_errors);
  if (r->launcher_first_error)
    json_object_set_string_member (launcher, "first_error",
        r->launcher_first_error);
  json_object_set_object_member (o, "launcher", launcher);
  set_number (o, "step_duration_s", r->duration_s);
  return o;
}

JsonNode *
bench_report_json (JsonObject * machine, JsonObject * parameters,
    const BenchRow * rows, guint n_rows)
{
  JsonObject *root = json_object_new ();
  JsonArray *steps = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  guint i;

  json_object_set_string_member (root, "benchmark", "realtime-bridge-bench");
  json_object_set_object_member (root, "machine", json_object_ref (machine));
  json_object_set_object_member (root, "parameters",
      json_object_ref (parameters));
  for (i = 0; i < n_rows; i++)
    json_array_add_object_element (steps, bench_row_to_json (&rows[i]));
  json_object_set_array_member (root, "steps", steps);
  json_node_take_object (node, root);
  return node;
}
