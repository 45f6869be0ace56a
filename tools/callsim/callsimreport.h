/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What realtime-bridge-call prints: the timeline of each call (human
 * readable or JSON lines), each call's summary and the aggregate over all
 * calls. The numbers themselves are collected by the calls (CallsimStats).
 */
#ifndef __CALLSIM_REPORT_H__
#define __CALLSIM_REPORT_H__

#include <stdio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* What the bridge can do wrong, as Twilio would see it (warnings 31950 and
 * 31951), plus this project's rule that outbound frames are 160 bytes. */
typedef enum
{
  CALLSIM_VIOLATION_BINARY_FRAME,
  CALLSIM_VIOLATION_BAD_JSON,
  CALLSIM_VIOLATION_UNKNOWN_EVENT,
  CALLSIM_VIOLATION_MISSING_FIELD,
  CALLSIM_VIOLATION_WRONG_TYPE,
  CALLSIM_VIOLATION_BAD_BASE64,
  CALLSIM_VIOLATION_EXTRA_FIELD,
  CALLSIM_VIOLATION_MISSING_STREAM_SID,
  CALLSIM_VIOLATION_WRONG_STREAM_SID,
  CALLSIM_VIOLATION_FRAME_SIZE,
  CALLSIM_N_VIOLATIONS
} CallsimViolation;

const gchar *callsim_violation_name (CallsimViolation violation);

typedef struct
{
  guint index;                  /* 1-based */
  gchar *account_sid;
  gchar *call_sid;
  gchar *stream_sid;
  gboolean connected;           /* the WebSocket opened */
  gdouble connect_ms;           /* connect attempt -> WebSocket open */
  gdouble first_audio_ms;       /* `start` sent -> first bridge media; < 0 none */
  GArray *turn_latency_ms;      /* gdouble per caller utterance; < 0 = no answer */
  gdouble audio_sent_ms;        /* all media sent, silence included */
  gdouble speech_sent_ms;       /* the caller's utterances */
  gdouble audio_received_ms;
  gdouble audio_played_ms;
  gdouble audio_cleared_ms;     /* received but dropped by `clear` */
  guint media_received;
  guint marks_received;
  guint marks_echoed_played;
  guint marks_echoed_cleared;
  guint clears;
  guint dtmf_sent;
  guint violations[CALLSIM_N_VIOLATIONS];
  gdouble duration_ms;          /* connect attempt -> socket closed */
  gchar *end;                   /* how it ended: "stop", "abrupt", "bridge-closed", ... */
  GPtrArray *failures;          /* gchar *: why the call did not go as asked */
} CallsimStats;

void callsim_stats_init (CallsimStats * stats, guint index);
void callsim_stats_clear (CallsimStats * stats);
guint callsim_stats_violations_total (const CallsimStats * stats);
void callsim_stats_add_failure (CallsimStats * stats, const gchar * format,
    ...) G_GNUC_PRINTF (2, 3);

typedef struct _CallsimReport CallsimReport;

/* @out: where the timeline (if @timeline) and summaries go; @json: JSON
 * lines instead of text; @events: optional second stream that gets every
 * event and summary as JSON lines regardless of the other settings. */
CallsimReport *callsim_report_new (FILE * out, gboolean json,
    gboolean timeline, FILE * events);
void callsim_report_free (CallsimReport * report);

/* One timeline event of call @call at @t_ms (ms since that call began
 * connecting). Takes ownership of @fields (may be NULL). */
void callsim_report_event (CallsimReport * report, guint call, gdouble t_ms,
    const gchar * event, JsonObject * fields);

void callsim_report_summary (CallsimReport * report,
    const CallsimStats * stats);
/* The aggregate over @n calls; returns the number of failed calls. */
guint callsim_report_aggregate (CallsimReport * report,
    const CallsimStats * const *stats, guint n);

G_END_DECLS

#endif
