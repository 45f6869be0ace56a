/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prometheus metrics of the launcher (text exposition format 0.0.4).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-metrics.h"

#include <string.h>

static const gdouble duration_bounds[] =
    { 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600 };
static const gdouble latency_bounds[] =
    { 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10 };

typedef struct
{
  const gdouble *bounds;
  guint n_bounds;
  guint64 *counts;              /* per bucket, not cumulative */
  guint64 count;
  gdouble sum;
} Histogram;

struct _BridgeMetrics
{
  guint64 webhooks;
  guint64 calls_started;
  guint64 calls_failed;
  guint calls_active;
  GHashTable *refused;          /* reason -> guint64* */
  GHashTable *model_errors;     /* code -> guint64* */
  guint64 tokens_input;
  guint64 tokens_output;
  Histogram duration;
  Histogram latency;
  /* Updated by the call loops, read by the main loop. */
  GMutex lock;
};

static void
histogram_init (Histogram * h, const gdouble * bounds, guint n)
{
  h->bounds = bounds;
  h->n_bounds = n;
  h->counts = g_new0 (guint64, n + 1);
  h->count = 0;
  h->sum = 0;
}

static void
histogram_observe (Histogram * h, gdouble v)
{
  guint i;

  for (i = 0; i < h->n_bounds && v > h->bounds[i]; i++);
  h->counts[i]++;
  h->count++;
  h->sum += v;
}

BridgeMetrics *
bridge_metrics_new (void)
{
  BridgeMetrics *m = g_new0 (BridgeMetrics, 1);

  m->refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  m->model_errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  histogram_init (&m->duration, duration_bounds,
      G_N_ELEMENTS (duration_bounds));
  histogram_init (&m->latency, latency_bounds, G_N_ELEMENTS (latency_bounds));
  g_mutex_init (&m->lock);
  return m;
}

void
bridge_metrics_free (BridgeMetrics * m)
{
  if (!m)
    return;
  g_hash_table_unref (m->refused);
  g_hash_table_unref (m->model_errors);
  g_free (m->duration.counts);
  g_free (m->latency.counts);
  g_mutex_clear (&m->lock);
  g_free (m);
}

static void
count_label (GHashTable * table, const gchar * label)
{
  guint64 *n = g_hash_table_lookup (table, label);

  if (!n) {
    n = g_new0 (guint64, 1);
    g_hash_table_insert (table, g_strdup (label), n);
  }
  (*n)++;
}

void
bridge_metrics_webhook (BridgeMetrics * m)
{
  g_mutex_lock (&m->lock);
  m->webhooks++;
  g_mutex_unlock (&m->lock);
}

void
bridge_metrics_call_started (BridgeMetrics * m)
{
  g_mutex_lock (&m->lock);
  m->calls_started++;
  m->calls_active++;
  g_mutex_unlock (&m->lock);
}

void
bridge_metrics_call_ended (BridgeMetrics * m, gdouble duration_s,
    gboolean failed)
{
  g_mutex_lock (&m->lock);
  if (m->calls_active > 0)
    m->calls_active--;
  else
    g_warning ("a call ended that was never counted as started");
  if (failed)
    m->calls_failed++;
  histogram_observe (&m->duration, MAX (duration_s, 0));
  g_mutex_unlock (&m->lock);
}

void
bridge_metrics_call_refused (BridgeMetrics * m, const gchar * reason)
{
  g_mutex_lock (&m->lock);
  count_label (m->refused, reason);
  g_mutex_unlock (&m->lock);
}

void
bridge_metrics_turn_latency (BridgeMetrics * m, gdouble latency_s)
{
  g_mutex_lock (&m->lock);
  histogram_observe (&m->latency, MAX (latency_s, 0));
  g_mutex_unlock (&m->lock);
}

void
bridge_metrics_model_error (BridgeMetrics * m, const gchar * code)
{
  g_mutex_lock (&m->lock);
  count_label (m->model_errors, code && *code ? code : "unknown");
  g_mutex_unlock (&m->lock);
}

void
bridge_metrics_tokens (BridgeMetrics * m, gint64 input, gint64 output)
{
  g_mutex_lock (&m->lock);
  if (input > 0)
    m->tokens_input += input;
  if (output > 0)
    m->tokens_output += output;
  g_mutex_unlock (&m->lock);
}

guint
bridge_metrics_active_calls (BridgeMetrics * m)
{
  guint n;

  g_mutex_lock (&m->lock);
  n = m->calls_active;
  g_mutex_unlock (&m->lock);
  return n;
}

/* Label values escape backslash, double quote and newline. */
static void
append_label_value (GString * out, const gchar * v)
{
  for (; *v; v++) {
    if (*v == '\\')
      g_string_append (out, "\\\\");
    else if (*v == '"')
      g_string_append (out, "\\\"");
    else if (*v == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *v);
  }
}

static void
append_number (GString * out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof (buf), "%.9g", v));
}

static void
render_labelled (GString * out, const gchar * name, const gchar * help,
    const gchar * label, GHashTable * table)
{
  g_autoptr (GList) keys = g_hash_table_get_keys (table);
  GList *l;

  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s counter\n", name,
      help, name);
  keys = g_list_sort (keys, (GCompareFunc) strcmp);
  for (l = keys; l; l = l->next) {
    guint64 *n = g_hash_table_lookup (table, l->data);

    g_string_append_printf (out, "%s{%s=\"", name, label);
    append_label_value (out, l->data);
    g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", *n);
  }
}

static void
render_histogram (GString * out, const gchar * name, const gchar * help,
    const Histogram * h)
{
  guint64 cumulative = 0;
  guint i;

  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s histogram\n", name,
      help, name);
  for (i = 0; i < h->n_bounds; i++) {
    cumulative += h->counts[i];
    g_string_append_printf (out, "%s_bucket{le=\"", name);
    append_number (out, h->bounds[i]);
    g_string_append_printf (out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
  }
  g_string_append_printf (out, "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT
      "\n%s_sum ", name, h->count, name);
  append_number (out, h->sum);
  g_string_append_printf (out, "\n%s_count %" G_GUINT64_FORMAT "\n", name,
      h->count);
}

gchar *
bridge_metrics_render (BridgeMetrics * m, gdouble uptime_s)
{
  GString *out = g_string_new (NULL);

  g_mutex_lock (&m->lock);
  g_string_append (out, "# HELP bridge_uptime_seconds Seconds since start.\n"
      "# TYPE bridge_uptime_seconds gauge\nbridge_uptime_seconds ");
  append_number (out, uptime_s);
  g_string_append_printf (out, "\n"
      "# HELP bridge_webhooks_total Voice webhook requests answered.\n"
      "# TYPE bridge_webhooks_total counter\n"
      "bridge_webhooks_total %" G_GUINT64_FORMAT "\n"
      "# HELP bridge_calls_started_total Media streams accepted.\n"
      "# TYPE bridge_calls_started_total counter\n"
      "bridge_calls_started_total %" G_GUINT64_FORMAT "\n"
      "# HELP bridge_calls_active Calls in progress.\n"
      "# TYPE bridge_calls_active gauge\n"
      "bridge_calls_active %u\n"
      "# HELP bridge_calls_failed_total Calls that ended in an error.\n"
      "# TYPE bridge_calls_failed_total counter\n"
      "bridge_calls_failed_total %" G_GUINT64_FORMAT "\n",
      m->webhooks, m->calls_started, m->calls_active, m->calls_failed);
  render_labelled (out, "bridge_calls_refused_total",
      "Webhooks or media streams refused, by reason.", "reason", m->refused);
  render_histogram (out, "bridge_call_duration_seconds",
      "Duration of ended calls.", &m->duration);
  render_histogram (out, "bridge_turn_latency_seconds",
      "From the end of the caller's speech to the first audio of the answer.",
      &m->latency);
  render_labelled (out, "bridge_model_errors_total",
      "Errors reported by the Realtime model, by code.", "code",
      m->model_errors);
  g_string_append_printf (out,
      "# HELP bridge_tokens_total Tokens used, by direction.\n"
      "# TYPE bridge_tokens_total counter\n"
      "bridge_tokens_total{direction=\"input\"} %" G_GUINT64_FORMAT "\n"
      "bridge_tokens_total{direction=\"output\"} %" G_GUINT64_FORMAT "\n",
      m->tokens_input, m->tokens_output);
  g_mutex_unlock (&m->lock);
  return g_string_free (out, FALSE);
}
