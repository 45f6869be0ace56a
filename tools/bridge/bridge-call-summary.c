/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A call's summary (bridge-call-summary.h): counted from the element
 * messages that reach the call's loop, told in call-ended.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-call-summary.h"

void
bridge_call_summary_account (BridgeCallSummary * summary,
    BridgeMetrics * metrics, const GstStructure * s)
{
  const gchar *name = gst_structure_get_name (s);

  if (g_str_equal (name, "realtime-first-audio")) {
    gdouble latency_ms;

    if (gst_structure_get_double (s, "latency-ms", &latency_ms)
        && latency_ms >= 0) {
      if (metrics)
        bridge_metrics_turn_latency (metrics, latency_ms / 1000.0);
      if (summary->latency_count == 0 || latency_ms < summary->latency_min_ms)
        summary->latency_min_ms = latency_ms;
      if (summary->latency_count == 0 || latency_ms > summary->latency_max_ms)
        summary->latency_max_ms = latency_ms;
      summary->latency_count++;
      summary->latency_sum_ms += latency_ms;
    }
  } else if (g_str_equal (name, "realtime-response-done")) {
    gint in = 0, out = 0, total = 0;

    summary->responses++;
    gst_structure_get_int (s, "input-tokens", &in);
    gst_structure_get_int (s, "output-tokens", &out);
    gst_structure_get_int (s, "total-tokens", &total);
    summary->input_tokens += MAX (in, 0);
    summary->output_tokens += MAX (out, 0);
    summary->total_tokens += MAX (total, 0);
    if (metrics)
      bridge_metrics_tokens (metrics, in, out);
  } else if (g_str_equal (name, "realtime-speech-stopped")) {
    summary->turn_waiting = TRUE;
  } else if (g_str_equal (name, "realtime-response-created")) {
    /* A greeting or a second response to one turn (after a function call)
     * is not another turn of the caller. */
    if (summary->turn_waiting)
      summary->turns++;
    summary->turn_waiting = FALSE;
  } else if (g_str_equal (name, "realtime-connected")) {
    summary->model_connected = TRUE;
  } else if (g_str_equal (name, "realtime-reconnecting")) {
    g_free (summary->model_problem);
    summary->model_problem = g_strdup (gst_structure_get_string (s, "reason"));
  } else if (g_str_equal (name, "realtime-error")) {
    const gchar *code = gst_structure_get_string (s, "code");

    g_free (summary->model_problem);
    summary->model_problem = g_strdup (gst_structure_get_string (s, "message"));

    if (!code || !*code)
      code = gst_structure_get_string (s, "type");
    if (metrics)
      bridge_metrics_model_error (metrics, code);
  } else if (g_str_equal (name, "realtime-truncated")) {
    summary->truncations++;
  } else if (g_str_equal (name, "realtime-speech-started")) {
    summary->speech_started++;
  } else if (g_str_equal (name, "realtime-transcript")) {
    gboolean final = FALSE;

    if (gst_structure_get_boolean (s, "final", &final) && final)
      summary->transcripts++;
  }
}

void
bridge_call_summary_add_fields (const BridgeCallSummary * summary,
    JsonObject * f)
{
  json_object_set_int_member (f, "turns", summary->turns);
  json_object_set_int_member (f, "responses", summary->responses);
  json_object_set_int_member (f, "transcripts", summary->transcripts);
  json_object_set_int_member (f, "speech-started", summary->speech_started);
  json_object_set_int_member (f, "truncations", summary->truncations);
  json_object_set_int_member (f, "input-tokens", summary->input_tokens);
  json_object_set_int_member (f, "output-tokens", summary->output_tokens);
  json_object_set_int_member (f, "total-tokens", summary->total_tokens);
  if (summary->latency_count > 0) {
    json_object_set_double_member (f, "latency-ms-avg",
        summary->latency_sum_ms / summary->latency_count);
    json_object_set_double_member (f, "latency-ms-min",
        summary->latency_min_ms);
    json_object_set_double_member (f, "latency-ms-max",
        summary->latency_max_ms);
  } else {
    json_object_set_null_member (f, "latency-ms-avg");
  }
}

void
bridge_call_summary_clear (BridgeCallSummary * summary)
{
  g_clear_pointer (&summary->model_problem, g_free);
}
