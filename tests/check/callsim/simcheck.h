/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the call simulator's tests (simcheck.c).
 */
#ifndef __SIM_CHECK_H__
#define __SIM_CHECK_H__

#include <json-glib/json-glib.h>

#include "fakebridge.h"

G_BEGIN_DECLS

#define FRAME 160
#define MS G_TIME_SPAN_MILLISECOND

typedef struct
{
  gint status;
  gchar *out;
  gchar *err;
  GPtrArray *lines;             /* JsonNode * of each JSON line */
  JsonObject *summary;          /* the last "summary" (one call) */
  JsonObject *aggregate;
} SimRun;

/* A formatted argument for the next run_sim (freed by it). */
const gchar *fmt_arg (const gchar * format, ...) G_GNUC_PRINTF (1, 2);
void sim_run_free (SimRun * run);
/* Runs realtime-bridge-call ($REALTIME_BRIDGE_CALL) with @args (consumed). */
SimRun *run_sim_argv (GPtrArray * args);
/* Runs it with --json, a bounded call length, the bridge's URL (if
 * @bridge) and the NULL-terminated arguments. */
SimRun *run_sim (FakeBridge * bridge, const gchar * first, ...)
    G_GNUC_NULL_TERMINATED;
void assert_exit (SimRun * run, gint status);
gint64 summary_int (SimRun * run, const gchar * name);
gdouble summary_double (SimRun * run, const gchar * name);
gint64 violations_of (SimRun * run, const gchar * kind);
/* Timeline events named @name, in order (the array does not own them). */
GPtrArray *events_named (SimRun * run, const gchar * name);

typedef struct
{
  guint media;
  guint speech_frames;          /* frames that are not all silence */
  guint dtmf;
  gchar *dtmf_digits;
  guint mark_echoes;
  gboolean stopped;
  gint64 first_media_us;
  gint64 last_media_us;
  gint64 first_speech_ts;       /* media.timestamp */
  gint64 last_speech_ts;
  GPtrArray *echo_names;
  GArray *echo_us;
  JsonObject *custom;           /* copy of start.customParameters */
} CallerStream;

void caller_stream_clear (CallerStream * s);
/* Checks everything Twilio's numbering rules say about the frames of
 * @conn and collects what they carried. */
void check_caller_stream (FakeConn * conn, CallerStream * s);
FakeConn *only_connection (FakeBridge * bridge);

/* 1 kHz at half scale, as μ-law: what the fake bridge says. */
guint8 *make_pattern (gsize len);
/* A 16 kHz mono WAV of 440 Hz; runs before the suite (no fail_unless). */
void make_tone_file (const gchar * path, guint ms);
/* The samples of a 16-bit mono 8 kHz WAV written by the simulator. */
gint16 *read_wav (const gchar * path, gsize * n_samples);

G_END_DECLS

#endif
