/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The benchmark's measurement hooks: CallsimProbe (tools/callsim) through
 * the benchmark's callers against a fake bridge that echoes every frame,
 * and LocalModelProbe plus answer_tone_ms (tools/localmodel) through a
 * Realtime test client.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>

#include "benchcallers.h"
#include "benchpoll.h"
#include "benchsignal.h"
#include "callsimaudio.h"
#include "fakebridge.h"
#include "testclient.h"

#define MS G_TIME_SPAN_MILLISECOND

/* ---- CallsimProbe ----------------------------------------------------- */

/* the bridge says back at once each frame of sound the caller sends (not
 * silence: the caller hangs up only once the bridge has gone quiet) */
static void
script_echo (FakeConn * conn, const gchar * event, JsonObject * message)
{
  JsonObject *media;
  const gchar *payload;
  guchar *data;
  gsize len, i;

  if (g_strcmp0 (event, "media") != 0
      || !json_object_has_member (message, "media"))
    return;
  media = json_object_get_object_member (message, "media");
  payload = json_object_get_string_member (media, "payload");
  data = g_base64_decode (payload, &len);
  for (i = 0; i < len; i++)
    if (data[i] != 0xFF) {
      fake_conn_send_media (conn, data, len);
      break;
    }
  g_free (data);
}

GST_START_TEST (test_caller_hooks)
{
  FakeBridge *bridge = fake_bridge_new (script_echo);
  gchar *url = fake_bridge_get_url (bridge);
  BenchCallerLayout layout;
  BenchCallers *callers;
  BenchCaller *c;
  gint64 before = g_get_monotonic_time ();
  /* memcheck runs the caller's clock 20-50 times slower than real time:
   * there the pacing is checked loosely (the setup sets the variable) */
  gint64 pacing_slack = g_getenv ("RUNNING_UNDER_VALGRIND") ?
      200 * MS : 20 * MS;
  guint i;

  /* bursts at 2 s and 4 s */
  bench_caller_layout_init (&layout, 4600);
  callers = bench_callers_start (url, 1, 0, 1, &layout, 1, NULL, NULL);
  fail_unless (bench_callers_wait (callers, g_get_monotonic_time () +
          30 * G_TIME_SPAN_SECOND), "the call did not end");
  bench_callers_stop (callers);

  c = bench_callers_get (callers, 0);
  fail_unless (c->ok, "the call failed: %s", c->failure);
  fail_unless (c->start_sent_us > before);
  /* the whole script, then silence until the caller hangs up */
  fail_unless (c->frames_sent >= layout.total_frames, "%" G_GINT64_FORMAT
      " frames sent", c->frames_sent);
  fail_unless_equals_int (c->burst_sent_us->len, 2);
  for (i = 0; i < 2; i++) {
    gint64 sent = g_array_index (c->burst_sent_us, gint64, i);
    gboolean heard = FALSE;
    guint k;

    /* on the caller's 20 ms clock: frame 100 is sent 100 frames after
     * frame 0, i.e. 2 s after the first frame (which is due 170 ms after
     * start); one 10 ms tick of slack either way */
    fail_unless (ABS (sent - (c->start_sent_us + (170 + 2000 +
                    2000 * (gint64) i) * MS)) <= pacing_slack,
        "burst %u sent %" G_GINT64_FORMAT " us after start", i,
        sent - c->start_sent_us);
    /* its echo is heard as an onset, after it was sent */
    for (k = 0; k < c->heard_onsets_us->len; k++) {
      gint64 t = g_array_index (c->heard_onsets_us, gint64, k);

      if (t >= sent && t < sent + 500 * MS)
        heard = TRUE;
    }
    fail_unless (heard, "burst %u: no onset heard after it", i);
  }
  /* every frame of sound came back: call 1's code has three (marker, the
   * last bit, parity), the bursts ten each */
  fail_unless_equals_uint64 (c->heard_samples,
      (guint64) (3 + 2 * 10) * BENCH_FRAME_SAMPLES_8K);
  /* heard onsets: the marker, the last bit (after 11 silent frames), the
   * two bursts */
  fail_unless_equals_int (c->heard_onsets_us->len, 4);

  bench_callers_free (callers);
  g_free (url);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* Calls spread over two loop threads (polled with epoll) share the start
 * grid and all complete, each with its own hooks' data; their frames fall
 * on their own phases, 5 ms apart. */
GST_START_TEST (test_caller_shards)
{
  FakeBridge *bridge = fake_bridge_new (script_echo);
  gchar *url = fake_bridge_get_url (bridge);
  BenchCallerLayout layout;
  BenchCallers *callers;
  guint i;

  /* one burst, at 2 s */
  bench_caller_layout_init (&layout, 2600);
  gint64 origin, max_lag_us = 0;
  gboolean valgrind = g_getenv ("RUNNING_UNDER_VALGRIND") != NULL;

  callers = bench_callers_start (url, 3, 20, 4, &layout, 2, bench_epoll_poll,
      NULL);
  fail_unless (bench_callers_wait (callers, g_get_monotonic_time () +
          60 * G_TIME_SPAN_SECOND), "the calls did not end");
  bench_callers_stop (callers);

  fail_unless_equals_int (bench_callers_get_n (callers), 3);
  origin = bench_callers_get_origin (callers);
  /* both threads ticked on the 5 ms grid (four phases) from the origin
   * on, never before a tick was due; how late the latest ran bounds how
   * far from its phase a frame can be sent (a sanitizer build on a busy
   * machine runs some ticks milliseconds late) */
  {
    GArray *lags = g_array_new (FALSE, FALSE, sizeof (gdouble));

    bench_callers_get_tick_lags (callers, origin, origin + 2600 * MS, lags);
    /* 520 ticks each in 2.6 s; a loaded machine may merge a few late ones,
     * memcheck many */
    fail_unless (lags->len > (valgrind ? 2 * 50 : 2 * 300), "%u ticks",
        lags->len);
    for (i = 0; i < lags->len; i++) {
      gdouble lag_ms = g_array_index (lags, gdouble, i);

      fail_unless (lag_ms >= 0);
      max_lag_us = MAX (max_lag_us, (gint64) (lag_ms * MS));
    }
    g_array_unref (lags);
  }
  for (i = 0; i < 3; i++) {
    BenchCaller *c = bench_callers_get (callers, i);
    gint64 sent = g_array_index (c->burst_sent_us, gint64, 0);
    /* call i's frames are due i * 5 ms after a point of the 10 ms grid
     * (memcheck's slow clock only checks that they were sent) */
    gint64 off_phase = (sent - origin - i * 5 * MS) % (10 * MS);

    fail_unless (c->finished && c->ok, "call %u failed: %s", i + 1, c->failure);
    fail_unless_equals_int (c->number, i + 1);
    fail_unless (c->frames_sent >= layout.total_frames);
    fail_unless (sent > c->start_sent_us, "call %u: burst not sent", i + 1);
    fail_unless (valgrind || off_phase < 3 * MS + max_lag_us,
        "call %u: burst sent %" G_GINT64_FORMAT " us after its phase "
        "(ticks at most %" G_GINT64_FORMAT " us late)", i + 1, off_phase,
        max_lag_us);
    /* its echo came back on the call's own connection */
    fail_unless (c->heard_onsets_us->len >= 2, "call %u: %u onsets heard",
        i + 1, c->heard_onsets_us->len);
    fail_unless (g_array_index (c->heard_onsets_us, gint64,
            c->heard_onsets_us->len - 1) >= sent);
  }
  /* started one stagger apart, on either thread */
  fail_unless (bench_callers_get (callers, 1)->start_sent_us >
      bench_callers_get (callers, 0)->start_sent_us);
  fail_unless (bench_callers_get (callers, 2)->start_sent_us >
      bench_callers_get (callers, 1)->start_sent_us);

  bench_callers_free (callers);
  g_free (url);
  fake_bridge_free (bridge);
}

GST_END_TEST;

/* ---- LocalModelProbe -------------------------------------------------- */

typedef struct
{
  GMutex lock;
  guint updates;
  gchar *session_id;
  gint64 updated_us;
  guint64 input_samples;
  gint64 first_input_us;
  GArray *output_offsets_us;    /* gint64 */
  gint64 output_us;
  gint64 first_output_sent_us;
} ProbeLog;

static void
log_updated (const gchar * id, gint64 now_us, gpointer user_data)
{
  ProbeLog *p = user_data;

  g_mutex_lock (&p->lock);
  p->updates++;
  g_free (p->session_id);
  p->session_id = g_strdup (id);
  p->updated_us = now_us;
  g_mutex_unlock (&p->lock);
}

static void
log_input (const gchar * id, const gint16 * samples, guint n,
    gint64 arrival_us, gpointer user_data)
{
  ProbeLog *p = user_data;

  g_mutex_lock (&p->lock);
  if (p->input_samples == 0)
    p->first_input_us = arrival_us;
  p->input_samples += n;
  g_mutex_unlock (&p->lock);
}

static void
log_output (const gchar * id, const gchar * response_id, gint64 offset_us,
    gint64 duration_us, gint64 sent_us, gpointer user_data)
{
  ProbeLog *p = user_data;

  g_mutex_lock (&p->lock);
  if (offset_us == 0)
    p->first_output_sent_us = sent_us;
  g_array_append_val (p->output_offsets_us, offset_us);
  p->output_us += duration_us;
  g_mutex_unlock (&p->lock);
}

GST_START_TEST (test_model_hooks_and_answer_tone)
{
  ProbeLog log = { 0, };
  LocalModelProbe probe = { log_updated, log_input, log_output, &log };
  LocalModelOptions opts;
  LocalModel *model;
  TestClient *c;
  JsonObject *created, *done;
  gchar *session_id;
  GByteArray *burst = test_ulaw_burst (300, 400, 700, 1000);
  GByteArray *answer = g_byte_array_new ();
  gint64 before;
  guint i, onset = G_MAXUINT;

  g_mutex_init (&log.lock);
  log.output_offsets_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  local_model_options_init (&opts);
  opts.probe = &probe;
  opts.answer_tone_ms = 200;
  model = test_model_start (&opts);
  c = test_model_connect (model);
  created = g_ptr_array_index (test_client_history (c), 0);
  fail_unless_equals_string (test_string_at (created, "type"),
      "session.created");
  session_id = g_strdup (test_string_at (created, "session.id"));
  fail_unless (session_id != NULL);

  before = g_get_monotonic_time ();
  test_session_update (c, "{\"type\":\"audio/pcmu\"}", NULL);
  test_client_append (c, burst->data, burst->len, 160);
  done = test_collect_response (c, answer);
  fail_unless (g_str_has_prefix (test_response_transcript (done),
          "[tone] 200 ms"), "%s", test_response_transcript (done));

  /* the answer is the tone, at full level within its first 2 ms */
  fail_unless_equals_int (answer->len, 200 * 8);
  for (i = 0; i < answer->len && onset == G_MAXUINT; i++)
    if (ABS (callsim_mulaw_to_linear (answer->data[i])) > BENCH_SOUND_THRESHOLD)
      onset = i;
  fail_unless (onset < 16, "the answer's sound starts at sample %u", onset);

  test_client_free (c);
  local_model_free (model);     /* joins the model's thread */

  fail_unless_equals_int (log.updates, 1);
  fail_unless_equals_string (log.session_id, session_id);
  fail_unless (log.updated_us >= before);
  /* μ-law 8 kHz decoded to 24 kHz: three samples a byte */
  fail_unless_equals_uint64 (log.input_samples, (guint64) burst->len * 3);
  fail_unless (log.first_input_us >= log.updated_us);
  /* 100 ms deltas: at 0 and 100 ms of the answer */
  fail_unless_equals_int (log.output_offsets_us->len, 2);
  fail_unless_equals_int64 (g_array_index (log.output_offsets_us, gint64, 0),
      0);
  fail_unless_equals_int64 (g_array_index (log.output_offsets_us, gint64, 1),
      100 * MS);
  fail_unless_equals_int64 (log.output_us, 200 * MS);
  fail_unless (log.first_output_sent_us > log.first_input_us);

  g_array_unref (log.output_offsets_us);
  g_free (log.session_id);
  g_free (session_id);
  g_mutex_clear (&log.lock);
  g_byte_array_unref (burst);
  g_byte_array_unref (answer);
}

GST_END_TEST;

/* Two models on one port (SO_REUSEPORT, each on its own thread, polled
 * with epoll): the kernel spreads the connections over both, and each
 * session is a complete one on whichever model took it. */
GST_START_TEST (test_models_share_port)
{
  LocalModelOptions opts;
  LocalModel *models[2];
  LocalModelStats stats[2];
  TestClient *clients[24];
  guint i;

  local_model_options_init (&opts);
  opts.reuse_port = TRUE;
  opts.poll_func = bench_epoll_poll;
  models[0] = test_model_start (&opts);
  opts.port = local_model_get_port (models[0]);
  models[1] = test_model_start (&opts);
  fail_unless_equals_int (local_model_get_port (models[1]), opts.port);

  /* 24 connections: all on one model by chance is 2^-23 */
  for (i = 0; i < G_N_ELEMENTS (clients); i++) {
    clients[i] = test_model_connect (models[0]);
    test_session_update (clients[i], "{\"type\":\"audio/pcmu\"}", NULL);
  }
  for (i = 0; i < 2; i++)
    local_model_get_stats (models[i], &stats[i]);
  fail_unless_equals_int (stats[0].sessions_total + stats[1].sessions_total,
      G_N_ELEMENTS (clients));
  fail_unless_equals_int (stats[0].session_updates + stats[1].session_updates,
      G_N_ELEMENTS (clients));
  fail_unless (stats[0].sessions_total > 0 && stats[1].sessions_total > 0,
      "%u and %u sessions", stats[0].sessions_total, stats[1].sessions_total);
  for (i = 0; i < 2; i++)
    local_model_stats_clear (&stats[i]);

  for (i = 0; i < G_N_ELEMENTS (clients); i++)
    test_client_free (clients[i]);
  local_model_free (models[0]);
  local_model_free (models[1]);
}

GST_END_TEST;

static Suite *
bench_probes_suite (void)
{
  Suite *s = suite_create ("bench_probes");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, test_net_start, test_net_stop);
  tcase_add_test (tc, test_caller_hooks);
  tcase_add_test (tc, test_model_hooks_and_answer_tone);
  tcase_add_test (tc, test_caller_shards);
  tcase_add_test (tc, test_models_share_port);
  return s;
}

GST_CHECK_MAIN (bench_probes);
