/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a call's element messages add up to: the counters of its call-ended
 * event (docs/launcher.md, "Log events") and whether its model was ever
 * connected. Pure: no I/O, no threads of its own; the owner (the call, on
 * its loop) serialises the calls.
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "bridge-metrics.h"

G_BEGIN_DECLS

typedef struct
{
  guint turns;                  /* caller turns the model answered */
  gboolean turn_waiting;        /* speech stopped, no response yet */
  guint responses;
  guint transcripts;
  guint truncations;
  guint speech_started;
  gint64 input_tokens;
  gint64 output_tokens;
  gint64 total_tokens;
  guint latency_count;
  gdouble latency_sum_ms;
  gdouble latency_min_ms;
  gdouble latency_max_ms;

  gboolean model_connected;
  gchar *model_problem;         /* the last error or reconnect reason */
} BridgeCallSummary;

/* Counts one element message's structure (realtime-*; others are ignored)
 * and feeds the process-wide @metrics (may be NULL) with it. */
void bridge_call_summary_account (BridgeCallSummary * summary,
    BridgeMetrics * metrics, const GstStructure * s);

/* Appends the counters to the call-ended fields: turns, responses,
 * transcripts, speech-started, truncations, the tokens, latency-ms-*. */
void bridge_call_summary_add_fields (const BridgeCallSummary * summary,
    JsonObject * fields);

/* Frees what the summary holds (not the summary itself). */
void bridge_call_summary_clear (BridgeCallSummary * summary);

G_END_DECLS
