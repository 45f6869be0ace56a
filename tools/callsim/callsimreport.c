/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Timeline, summaries and aggregate of realtime-bridge-call.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "callsimreport.h"

static const gchar *const violation_names[CALLSIM_N_VIOLATIONS] = {
  "binary-frame", "bad-json", "unknown-event", "missing-field", "wrong-type",
  "bad-base64", "extra-field", "missing-stream-sid", "wrong-stream-sid",
  "frame-size",
};

const gchar *
callsim_violation_name (CallsimViolation violation)
{
  g_return_val_if_fail (violation < CALLSIM_N_VIOLATIONS, "unknown");
  return violation_names[violation];
}

void
callsim_stats_init (CallsimStats * stats, guint index)
{
  memset (stats, 0, sizeof *stats);
  stats->index = index;
  stats->first_audio_ms = -1;
  stats->connect_ms = -1;
  stats->turn_latency_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
  stats->failures = g_ptr_array_new_with_free_func (g_free);
}

void
callsim_stats_clear (CallsimStats * stats)
{
  g_free (stats->account_sid);
  g_free (stats->call_sid);
  g_free (stats->stream_sid);
  g_free (stats->end);
  g_clear_pointer (&stats->turn_latency_ms, g_array_unref);
  g_clear_pointer (&stats->failures, g_ptr_array_unref);
}

guint
callsim_stats_violations_total (const CallsimStats * stats)
{
  guint i, total = 0;

  for (i = 0; i < CALLSIM_N_VIOLATIONS; i++)
    total += stats->violations[i];
  return total;
}

void
callsim_stats_add_failure (CallsimStats * stats, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (stats->failures, g_strdup_vprintf (format, args));
  va_end (args);
}

struct _CallsimReport
{
  FILE *out;
  gboolean json;
  gboolean timeline;
  FILE *events;
  JsonGenerator *generator;
};

CallsimReport *
callsim_report_new (FILE * out, gboolean json, gboolean timeline, FILE * events)
{
  CallsimReport *report = g_new0 (CallsimReport, 1);

  report->out = out;
  report->json = json;
  report->timeline = timeline;
  report->events = events;
  report->generator = json_generator_new ();
  return report;
}

void
callsim_report_free (CallsimReport * report)
{
  if (report == NULL)
    return;
  g_object_unref (report->generator);
  g_free (report);
}

static void
write_json_line (CallsimReport * report, FILE * file, JsonObject * object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gchar *text;

  json_node_set_object (node, object);
  json_generator_set_root (report->generator, node);
  text = json_generator_to_data (report->generator, NULL);
  /* one whole line, even with several reports writing to @file */
  flockfile (file);
  fputs (text, file);
  fputc ('\n', file);
  fflush (file);
  funlockfile (file);
  g_free (text);
  json_node_unref (node);
}

static void
append_value (GString * line, JsonNode * node)
{
  if (JSON_NODE_HOLDS_VALUE (node)) {
    GType type = json_node_get_value_type (node);

    if (type == G_TYPE_STRING) {
      const gchar *s = json_node_get_string (node);

      /* Quote what would not read back as one word. */
      if (*s == '\0' || strpbrk (s, " \t\"=") != NULL)
        g_string_append_printf (line, "\"%s\"", s);
      else
        g_string_append (line, s);
    } else if (type == G_TYPE_BOOLEAN) {
      g_string_append (line, json_node_get_boolean (node) ? "yes" : "no");
    } else if (type == G_TYPE_DOUBLE) {
      g_string_append_printf (line, "%.1f", json_node_get_double (node));
    } else {
      g_string_append_printf (line, "%" G_GINT64_FORMAT,
          json_node_get_int (node));
    }
  } else {
    gchar *text = json_to_string (node, FALSE);

    g_string_append (line, text);
    g_free (text);
  }
}

void
callsim_report_event (CallsimReport * report, guint call, gdouble t_ms,
    const gchar * event, JsonObject * fields)
{
  JsonObject *object;

  if (!report->timeline && report->events == NULL) {
    if (fields)
      json_object_unref (fields);
    return;
  }

  object = json_object_new ();
  json_object_set_int_member (object, "call", call);
  json_object_set_double_member (object, "t_ms", round (t_ms * 10) / 10);
  json_object_set_string_member (object, "event", event);
  if (fields) {
    GList *members = json_object_get_members (fields), *l;

    for (l = members; l; l = l->next)
      json_object_set_member (object, l->data,
          json_object_dup_member (fields, l->data));
    g_list_free (members);
    json_object_unref (fields);
  }

  if (report->events)
    write_json_line (report, report->events, object);
  if (report->timeline && report->json) {
    write_json_line (report, report->out, object);
  } else if (report->timeline) {
    GString *line = g_string_new (NULL);
    GList *members = json_object_get_members (object), *l;

    g_string_append_printf (line, "[call %u] %9.3f s  %-18s", call,
        t_ms / 1000.0, event);
    /* the first three members are call, t_ms and event */
    for (l = g_list_nth (members, 3); l; l = l->next) {
      g_string_append_printf (line, " %s=", (const gchar *) l->data);
      append_value (line, json_object_get_member (object, l->data));
    }
    g_list_free (members);
    g_string_append_c (line, '\n');
    fputs (line->str, report->out);
    fflush (report->out);
    g_string_free (line, TRUE);
  }
  json_object_unref (object);
}

static JsonObject *
summary_object (const CallsimStats * s)
{
  JsonObject *o = json_object_new ();
  JsonObject *violations = json_object_new ();
  JsonArray *turns = json_array_new ();
  JsonArray *failures = json_array_new ();
  guint i;

  json_object_set_string_member (o, "event", "summary");
  json_object_set_int_member (o, "call", s->index);
  json_object_set_boolean_member (o, "ok", s->failures->len == 0);
  json_object_set_string_member (o, "end", s->end ? s->end : "none");
  json_object_set_string_member (o, "account_sid", s->account_sid);
  json_object_set_string_member (o, "call_sid", s->call_sid);
  json_object_set_string_member (o, "stream_sid", s->stream_sid);
  json_object_set_boolean_member (o, "connected", s->connected);
  json_object_set_double_member (o, "connect_ms", round (s->connect_ms));
  if (s->first_audio_ms >= 0)
    json_object_set_double_member (o, "first_audio_ms",
        round (s->first_audio_ms));
  else
    json_object_set_null_member (o, "first_audio_ms");
  for (i = 0; i < s->turn_latency_ms->len; i++) {
    gdouble v = g_array_index (s->turn_latency_ms, gdouble, i);

    if (v >= 0)
      json_array_add_double_element (turns, round (v));
    else
      json_array_add_null_element (turns);
  }
  json_object_set_array_member (o, "turn_latency_ms", turns);
  json_object_set_double_member (o, "audio_sent_ms", s->audio_sent_ms);
  json_object_set_double_member (o, "speech_sent_ms", s->speech_sent_ms);
  json_object_set_double_member (o, "audio_received_ms", s->audio_received_ms);
  json_object_set_double_member (o, "audio_played_ms", s->audio_played_ms);
  json_object_set_double_member (o, "audio_cleared_ms", s->audio_cleared_ms);
  json_object_set_int_member (o, "media_received", s->media_received);
  json_object_set_int_member (o, "marks_received", s->marks_received);
  json_object_set_int_member (o, "marks_echoed",
      s->marks_echoed_played + s->marks_echoed_cleared);
  json_object_set_int_member (o, "marks_echoed_played", s->marks_echoed_played);
  json_object_set_int_member (o, "marks_echoed_cleared",
      s->marks_echoed_cleared);
  json_object_set_int_member (o, "clears", s->clears);
  json_object_set_int_member (o, "dtmf_sent", s->dtmf_sent);
  for (i = 0; i < CALLSIM_N_VIOLATIONS; i++)
    if (s->violations[i])
      json_object_set_int_member (violations, violation_names[i],
          s->violations[i]);
  json_object_set_object_member (o, "violations", violations);
  json_object_set_int_member (o, "violations_total",
      callsim_stats_violations_total (s));
  json_object_set_double_member (o, "duration_ms", round (s->duration_ms));
  for (i = 0; i < s->failures->len; i++)
    json_array_add_string_element (failures, g_ptr_array_index (s->failures,
            i));
  json_object_set_array_member (o, "failures", failures);
  return o;
}

static void
print_summary_text (FILE * out, const CallsimStats * s)
{
  GString *t = g_string_new (NULL);
  guint i, total = callsim_stats_violations_total (s);

  g_string_append_printf (t, "call %u: %s (%s)  callSid=%s streamSid=%s\n",
      s->index, s->failures->len == 0 ? "OK" : "FAILED",
      s->end ? s->end : "none", s->call_sid, s->stream_sid);
  for (i = 0; i < s->failures->len; i++)
    g_string_append_printf (t, "  failure: %s\n",
        (const gchar *) g_ptr_array_index (s->failures, i));
  if (s->first_audio_ms >= 0)
    g_string_append_printf (t, "  time to first audio: %.0f ms\n",
        s->first_audio_ms);
  else
    g_string_append (t, "  time to first audio: no audio\n");
  for (i = 0; i < s->turn_latency_ms->len; i++) {
    gdouble v = g_array_index (s->turn_latency_ms, gdouble, i);

    if (v >= 0)
      g_string_append_printf (t, "  turn %u: answered %.0f ms after the "
          "caller stopped\n", i + 1, v);
    else
      g_string_append_printf (t, "  turn %u: no answer\n", i + 1);
  }
  g_string_append_printf (t, "  audio: sent %.0f ms (speech %.0f ms), "
      "received %.0f ms in %u frames, played %.0f ms, cleared %.0f ms\n",
      s->audio_sent_ms, s->speech_sent_ms, s->audio_received_ms,
      s->media_received, s->audio_played_ms, s->audio_cleared_ms);
  g_string_append_printf (t, "  marks: %u received, %u echoed (%u played, "
      "%u cleared); clears: %u; dtmf sent: %u\n", s->marks_received,
      s->marks_echoed_played + s->marks_echoed_cleared,
      s->marks_echoed_played, s->marks_echoed_cleared, s->clears, s->dtmf_sent);
  g_string_append_printf (t, "  protocol violations: %u", total);
  for (i = 0; i < CALLSIM_N_VIOLATIONS; i++)
    if (s->violations[i])
      g_string_append_printf (t, " %s=%u", violation_names[i],
          s->violations[i]);
  g_string_append_printf (t, "\n  duration: %.0f ms\n", s->duration_ms);
  fputs (t->str, out);
  fflush (out);
  g_string_free (t, TRUE);
}

void
callsim_report_summary (CallsimReport * report, const CallsimStats * stats)
{
  JsonObject *object = summary_object (stats);

  if (report->events)
    write_json_line (report, report->events, object);
  if (report->json)
    write_json_line (report, report->out, object);
  else
    print_summary_text (report->out, stats);
  json_object_unref (object);
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

/* min/median/p95/max of @values (sorted here); NULL when empty. */
static JsonObject *
distribution (GArray * values)
{
  JsonObject *o;
  gdouble *v = (gdouble *) values->data;
  guint n = values->len;

  if (n == 0)
    return NULL;
  g_array_sort (values, compare_doubles);
  o = json_object_new ();
  json_object_set_int_member (o, "count", n);
  json_object_set_double_member (o, "min", round (v[0]));
  json_object_set_double_member (o, "median", round (v[(n - 1) / 2]));
  json_object_set_double_member (o, "p95", round (v[(guint) ceil (0.95 * n)
              - 1]));
  json_object_set_double_member (o, "max", round (v[n - 1]));
  return o;
}

static void
append_distribution_text (GString * t, const gchar * label, JsonObject * d)
{
  if (d == NULL) {
    g_string_append_printf (t, "  %s: none\n", label);
    return;
  }
  g_string_append_printf (t, "  %s: min %.0f / median %.0f / p95 %.0f / "
      "max %.0f ms over %" G_GINT64_FORMAT "\n", label,
      json_object_get_double_member (d, "min"),
      json_object_get_double_member (d, "median"),
      json_object_get_double_member (d, "p95"),
      json_object_get_double_member (d, "max"),
      json_object_get_int_member (d, "count"));
}

guint
callsim_report_aggregate (CallsimReport * report,
    const CallsimStats * const *stats, guint n)
{
  GArray *first = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *turns = g_array_new (FALSE, FALSE, sizeof (gdouble));
  JsonObject *o = json_object_new (), *d_first, *d_turns;
  guint i, j, failed = 0, violations = 0, connected = 0, clears = 0;
  gdouble received = 0, played = 0;

  for (i = 0; i < n; i++) {
    const CallsimStats *s = stats[i];

    failed += s->failures->len > 0;
    connected += s->connected;
    violations += callsim_stats_violations_total (s);
    clears += s->clears;
    received += s->audio_received_ms;
    played += s->audio_played_ms;
    if (s->first_audio_ms >= 0)
      g_array_append_val (first, s->first_audio_ms);
    for (j = 0; j < s->turn_latency_ms->len; j++) {
      gdouble v = g_array_index (s->turn_latency_ms, gdouble, j);

      if (v >= 0)
        g_array_append_val (turns, v);
    }
  }
  d_first = distribution (first);
  d_turns = distribution (turns);

  json_object_set_string_member (o, "event", "aggregate");
  json_object_set_int_member (o, "calls", n);
  json_object_set_int_member (o, "ok", n - failed);
  json_object_set_int_member (o, "failed", failed);
  json_object_set_int_member (o, "connected", connected);
  json_object_set_int_member (o, "violations_total", violations);
  json_object_set_int_member (o, "clears", clears);
  json_object_set_double_member (o, "audio_received_ms", received);
  json_object_set_double_member (o, "audio_played_ms", played);
  if (d_first)
    json_object_set_object_member (o, "first_audio_ms",
        json_object_ref (d_first));
  else
    json_object_set_null_member (o, "first_audio_ms");
  if (d_turns)
    json_object_set_object_member (o, "turn_latency_ms",
        json_object_ref (d_turns));
  else
    json_object_set_null_member (o, "turn_latency_ms");

  if (report->events)
    write_json_line (report, report->events, o);
  if (report->json) {
    write_json_line (report, report->out, o);
  } else {
    GString *t = g_string_new (NULL);

    g_string_append_printf (t, "all calls: %u, ok %u, failed %u, connected "
        "%u, protocol violations %u, clears %u\n", n, n - failed, failed,
        connected, violations, clears);
    append_distribution_text (t, "time to first audio", d_first);
    append_distribution_text (t, "turn latency", d_turns);
    g_string_append_printf (t, "  audio received %.0f ms, played %.0f ms\n",
        received, played);
    fputs (t->str, report->out);
    fflush (report->out);
    g_string_free (t, TRUE);
  }
  if (d_first)
    json_object_unref (d_first);
  if (d_turns)
    json_object_unref (d_turns);
  json_object_unref (o);
  g_array_unref (first);
  g_array_unref (turns);
  return failed;
}
