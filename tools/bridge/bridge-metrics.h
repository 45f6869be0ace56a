/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher's counters and histograms, rendered as Prometheus text.
 * Pure; thread-safe (one lock): the call loops update, the main loop reads.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BridgeMetrics BridgeMetrics;

BridgeMetrics *bridge_metrics_new (void);
void bridge_metrics_free (BridgeMetrics * metrics);

void bridge_metrics_webhook (BridgeMetrics * m);
void bridge_metrics_call_started (BridgeMetrics * m);
/* @failed: the call ended in an error. */
void bridge_metrics_call_ended (BridgeMetrics * m, gdouble duration_s,
    gboolean failed);
/* @reason: e.g. "max-calls", "signature", "draining". */
void bridge_metrics_call_refused (BridgeMetrics * m, const gchar * reason);
void bridge_metrics_turn_latency (BridgeMetrics * m, gdouble latency_s);
void bridge_metrics_model_error (BridgeMetrics * m, const gchar * code);
void bridge_metrics_tokens (BridgeMetrics * m, gint64 input, gint64 output);

guint bridge_metrics_active_calls (BridgeMetrics * m);

gchar *bridge_metrics_render (BridgeMetrics * m, gdouble uptime_s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BridgeMetrics, bridge_metrics_free);

G_END_DECLS
