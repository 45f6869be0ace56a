/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The model connection dies mid-call: a standalone local model drops the
 * first session's TCP connection 2.5 s after it opened (while the caller
 * is speaking). The bridge reconnects, the call goes on, every frame the
 * caller sent reaches the model (also those sent during the outage), and
 * the caller hears an answer afterwards.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "e2eutil.h"

/* The last frames the caller sends before `stop` may still be inside the
 * bridge (twiliosrc's 60 ms jitter latency) when the call ends: three
 * 20 ms frames. Nothing else may be missing or repeated. */
#define APPEND_TOLERANCE_MS 60.0

typedef struct
{
  gchar *id;
  gdouble opened_ms, closed_ms;
  guint64 bytes;
  gboolean fault;
} ModelSession;

static void
model_session_free (ModelSession * s)
{
  g_free (s->id);
  g_free (s);
}

static ModelSession *
session_of (GPtrArray * sessions, const gchar * id)
{
  guint i;

  for (i = 0; i < sessions->len; i++) {
    ModelSession *s = g_ptr_array_index (sessions, i);

    if (!g_strcmp0 (s->id, id))
      return s;
  }
  return NULL;
}

/* The sessions of the model's events log, in the order they opened, with
 * the bytes appended to each; *@bytes_per_ms from the input format. */
static GPtrArray *
read_sessions (GPtrArray * model_events, gdouble * bytes_per_ms)
{
  GPtrArray *sessions =
      g_ptr_array_new_with_free_func ((GDestroyNotify) model_session_free);
  guint i;

  *bytes_per_ms = 0;
  for (i = 0; i < model_events->len; i++) {
    JsonObject *e = g_ptr_array_index (model_events, i);
    const gchar *type = json_object_get_string_member_with_default (e, "type",
        "");
    const gchar *id = json_object_get_string_member_with_default (e,
        "session", "");
    ModelSession *s = session_of (sessions, id);

    if (!strcmp (type, "ws.open")) {
      s = g_new0 (ModelSession, 1);
      s->id = g_strdup (id);
      s->opened_ms = e2e_double (e, "t_ms");
      s->closed_ms = -1;
      g_ptr_array_add (sessions, s);
    } else if (!s) {
      continue;
    } else if (!strcmp (type, "input_audio_buffer.append")) {
      s->bytes += json_object_get_int_member (e, "bytes");
    } else if (!strcmp (type, "fault.close")) {
      s->fault = TRUE;
    } else if (!strcmp (type, "ws.closed")) {
      s->closed_ms = e2e_double (e, "t_ms");
    } else if (!strcmp (type, "session.update")) {
      const gchar *format = json_object_get_string_member_with_default (e,
          "input_format", "");

      /* 16-bit 24 kHz, or 8-bit 8 kHz G.711. */
      *bytes_per_ms = !strcmp (format, "audio/pcm") ? 48 : 8;
    }
  }
  return sessions;
}

GST_START_TEST (test_model_connection_killed_and_recovered)
{
  const gchar *hello = e2e_sample ("E2E_AUDIO_HELLO");
  gchar *dir = e2e_make_dir ();
  g_autofree gchar *model_log = g_build_filename (dir, "model.jsonl", NULL);
  g_autofree gchar *events_path = g_build_filename (dir, "sim.jsonl", NULL);
  g_autofree gchar *model_log_arg = g_strdup_printf ("--events-log=%s",
      model_log);
  const gchar *model_args[] = { "--close-after-ms=2500", "--close-sessions=1",
    model_log_arg, NULL
  };
  g_autofree gchar *model_url = NULL;
  TestProcess *model = e2e_model_start (model_args, &model_url);
  const gchar *bridge_args[] = { "--port", "0", "--realtime-url", model_url,
    NULL
  };
  const gchar *bridge_env[] = { "OPENAI_API_KEY", E2E_FAKE_API_KEY, NULL };
  TestProcess *bridge = e2e_bridge_start (bridge_args, bridge_env);
  guint port = test_bridge_port (bridge);
  g_autofree gchar *audio_arg = g_strdup_printf ("--audio=%s", hello);
  g_autofree gchar *events_arg = g_strdup_printf ("--events=%s", events_path);
  const gchar *sim_args[] = { audio_arg, events_arg, "--expect-audio",
    "--quiet", NULL
  };
  TestProcess *sim;
  g_autoptr (GPtrArray) events = NULL;
  g_autoptr (GPtrArray) model_events = NULL;
  g_autoptr (GPtrArray) sessions = NULL;
  g_autoptr (GPtrArray) bridge_log = NULL;
  g_autoptr (JsonObject) ended = NULL;
  JsonObject *summary, *reconnecting, *first_audio;
  ModelSession *killed, *renewed;
  gdouble bytes_per_ms, sent_ms, appended_ms, outage_ms;

  sim = e2e_callsim_start (port, sim_args);
  fail_unless_equals_int (e2e_finish (sim, 0, 120), 0);
  e2e_free (sim);

  events = e2e_read_json_lines (events_path);
  summary = e2e_find (events, "event", "summary", 0);
  fail_unless (summary != NULL);
  fail_unless (json_object_get_boolean_member (summary, "ok"));
  sent_ms = e2e_double (summary, "audio_sent_ms");

  ended = test_process_wait_event (bridge, "call-ended", "callSid",
      json_object_get_string_member (summary, "call_sid"), 30);
  fail_unless (ended != NULL);
  /* The outage did not end or fail the call. */
  fail_unless_equals_string (json_object_get_string_member (ended, "status"),
      "completed");
  bridge_log = e2e_process_json_lines (bridge);
  fail_unless_equals_int (e2e_stop (bridge, 60), 0);
  /* The model's log is complete once the model has seen every close. */
  fail_unless_equals_int (e2e_stop (model, 30), 0);

  model_events = e2e_read_json_lines (model_log);
  sessions = read_sessions (model_events, &bytes_per_ms);
  fail_unless (bytes_per_ms > 0, "no session.update in the model's log");
  fail_unless_equals_int (sessions->len, 2);
  killed = g_ptr_array_index (sessions, 0);
  renewed = g_ptr_array_index (sessions, 1);
  fail_unless (killed->fault, "the first session was not the one killed");
  fail_unless (!renewed->fault);
  fail_unless (killed->closed_ms > 0 && renewed->opened_ms > killed->closed_ms);
  outage_ms = renewed->opened_ms - killed->closed_ms;
  g_print ("session 1: %.0f ms of audio, outage %.0f ms, session 2: %.0f ms;"
      " the caller sent %.0f ms\n", killed->bytes / bytes_per_ms, outage_ms,
      renewed->bytes / bytes_per_ms, sent_ms);
  /* Killed mid-call: both sessions got audio. */
  fail_unless (killed->bytes > 0);
  fail_unless (renewed->bytes / bytes_per_ms > outage_ms);

  /* Every frame the caller sent reached the model once, the ones sent
   * while no session was open included. */
  appended_ms = (killed->bytes + renewed->bytes) / bytes_per_ms;
  fail_unless (appended_ms <= sent_ms + 1, "the model got %.1f ms, more "
      "than the %.0f ms the caller sent (audio repeated)", appended_ms,
      sent_ms);
  fail_unless (appended_ms >= sent_ms - APPEND_TOLERANCE_MS, "the model got "
      "%.1f ms of the %.0f ms the caller sent", appended_ms, sent_ms);

  /* The bridge said what happened, and the answer came after the
   * reconnection, and the caller heard it. */
  reconnecting = e2e_find (bridge_log, "event", "realtime-reconnecting", 0);
  fail_unless (reconnecting != NULL);
  fail_unless_equals_int (e2e_count (bridge_log, "event",
          "realtime-connected"), 2);
  first_audio = e2e_find (bridge_log, "event", "realtime-first-audio", 0);
  fail_unless (first_audio != NULL);
  fail_unless (e2e_index_of (bridge_log, first_audio) >
      e2e_index_of (bridge_log, reconnecting));
  fail_unless (e2e_double (summary, "audio_played_ms") >= 500,
      "the caller heard only %.0f ms", e2e_double (summary, "audio_played_ms"));
  e2e_remove_dir (dir);
  g_free (dir);
}

GST_END_TEST;

static Suite *
e2e_reconnect_suite (void)
{
  Suite *s = suite_create ("e2e_reconnect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_model_connection_killed_and_recovered);
  return s;
}

GST_CHECK_MAIN (e2e_reconnect);
