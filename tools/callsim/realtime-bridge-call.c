/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-call: plays Twilio's side of one or many phone calls
 * against a bridge's Media Streams WebSocket, and reports what the caller
 * experienced. See `realtime-bridge-call --help` and docs/call-simulator.md.
 *
 * All sockets of all calls live on this program's one loop (the main thread,
 * with its own GMainContext pushed as thread default before libsoup objects
 * are made). One ticker on an absolute 10 ms grid drives every call's
 * sending and playout, so pacing does not drift and a call costs no timer
 * of its own.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <libsoup/soup.h>

#include "callsimaudio.h"
#include "callsimcall.h"
#include "callsimscript.h"
#include "twilioprotocol.h"

#define EXIT_OK 0
#define EXIT_CALL_FAILED 1
#define EXIT_USAGE 2

#define DESCRIPTION \
"Plays Twilio's side of phone calls against a bridge's Media Streams\n" \
"WebSocket (ws://HOST:PORT/PATH), the way Twilio does: an optionally signed\n" \
"upgrade (User-Agent Twilio.TmeWs/1.0, X-Twilio-Signature), then\n" \
"`connected`, `start` (fresh AC/CA/MZ SIDs, tracks [\"inbound\"], μ-law 8000 Hz\n" \
"mono, customParameters), `media` every 20 ms (160 bytes, sequenceNumber,\n" \
"chunk and timestamp numbered like Twilio, as strings), `dtmf` on request\n" \
"and `stop`.\n" \
"\n" \
"The caller's audio: --silence-before of silence, the --audio file (any\n" \
"format GStreamer decodes; a 1 s 440 Hz tone if none), silence after. With\n" \
"--barge-in-at the caller speaks again (--barge-in-audio, default the same\n" \
"file) at that time, even while the bridge is talking.\n" \
"\n" \
"The bridge's audio is played out in real time like Twilio's buffer: marks\n" \
"are echoed once the audio queued before them has played (at once when\n" \
"nothing is queued); `clear` drops the queued audio and echoes every pending\n" \
"mark at once. --record writes what the caller heard (silence where nothing\n" \
"played). Every message from the bridge is checked: binary frames, bad JSON,\n" \
"unknown events, missing or extra fields, bad base64, a missing or wrong\n" \
"streamSid and media payloads that are not 160 bytes are protocol\n" \
"violations.\n" \
"\n" \
"The call hangs up (stop, then close) when the caller has said everything,\n" \
"the bridge has gone quiet and --silence-after has passed; or at --hangup-at;\n" \
"or, as a failure, at --max-duration. With --expect-audio the caller first\n" \
"waits up to --reply-timeout (after the first utterance) for bridge audio;\n" \
"with reply+ times, for the reply to the first utterance.\n" \
"\n" \
"TIME is milliseconds of stream time (since `start`), or reply+MS:\n" \
"milliseconds after the caller began to hear the bridge's reply to the\n" \
"first utterance. Examples: --dtmf 5@1200, --barge-in-at reply+800,\n" \
"--hangup-at reply+500 --abrupt.\n" \
"\n" \
"Output: a timeline of each call (unless --quiet; by default only with one\n" \
"call) and a summary per call: time to first audio, per-turn response\n" \
"latency (end of the caller's utterance to the first bridge audio), audio\n" \
"sent/received/played/cleared, marks received and echoed, clears, protocol\n" \
"violations. With --calls N, also an aggregate. --json prints JSON lines\n" \
"(events, \"summary\", \"aggregate\"); --events FILE writes them to a file.\n" \
"--record with several calls writes FILE-1.wav, FILE-2.wav, ...\n" \
"\n" \
"The auth token may also come from the environment variable\n" \
"TWILIO_AUTH_TOKEN (keeps it out of the process list). It is never printed.\n" \
"\n" \
"Exit status:\n" \
"  0  every call went as asked: connected, streamed, no protocol violation,\n" \
"     bridge audio received if --expect-audio, barge-in spoken if asked,\n" \
"     the caller (not the bridge) ended the call, within --max-duration\n" \
"  1  at least one call did not (the summary says why)\n" \
"  2  bad options, or the audio could not be decoded\n"

typedef struct
{
  CallsimConfig config;
  CallsimReport *report;
  GPtrArray *calls;
  guint n_started;
  guint n_finished;
  gint64 grid_origin_us;
  gint64 stagger_us;
  SoupSession *session;
  GMainContext *context;
  GMainLoop *loop;
  GSource *ticker;
  guint interrupts;
} Runner;

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_call_finished (CallsimCall * call, gpointer user_data)
{
  Runner *runner = user_data;
  GSource *idle;

  if (++runner->n_finished < runner->calls->len)
    return;
  /* May run before the loop does (a call failing at once): quit from the
   * loop itself. */
  idle = g_idle_source_new ();
  g_source_set_callback (idle, quit_loop, runner->loop, NULL);
  g_source_attach (idle, runner->context);
  g_source_unref (idle);
}

static void
start_due_calls (Runner * runner, gint64 now)
{
  while (runner->n_started < runner->calls->len
      && now >= runner->grid_origin_us +
      runner->n_started * runner->stagger_us) {
    CallsimCall *call = g_ptr_array_index (runner->calls, runner->n_started);

    runner->n_started++;
    callsim_call_start (call, runner->session, runner->grid_origin_us);
  }
}

static gboolean
on_tick (gpointer user_data)
{
  Runner *runner = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 next;
  guint i;

  start_due_calls (runner, now);
  for (i = 0; i < runner->n_started; i++)
    callsim_call_tick (g_ptr_array_index (runner->calls, i), now);
  /* Absolute schedule: a late tick does not push the next ones back. */
  next = runner->grid_origin_us + ((now - runner->grid_origin_us) /
      CALLSIM_TICK_US + 1) * CALLSIM_TICK_US;
  g_source_set_ready_time (runner->ticker, next);
  return G_SOURCE_CONTINUE;
}

static gboolean
ticker_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  return callback (user_data);
}

static GSourceFuncs ticker_funcs = {
  NULL, NULL, ticker_dispatch, NULL, NULL, NULL,
};

static gboolean
on_interrupt (gpointer user_data)
{
  Runner *runner = user_data;
  guint i;

  if (++runner->interrupts > 1) {
    g_main_loop_quit (runner->loop);
    return G_SOURCE_REMOVE;
  }
  g_printerr ("realtime-bridge-call: interrupted, hanging up (again to "
      "quit at once)\n");
  runner->n_started = runner->calls->len;
  for (i = 0; i < runner->calls->len; i++) {
    CallsimCall *call = g_ptr_array_index (runner->calls, i);

    if (!callsim_call_is_finished (call))
      callsim_call_hang_up (call);
  }
  return G_SOURCE_CONTINUE;
}

/* The default utterance: 1 s of 440 Hz at -12 dBFS. */
static GBytes *
make_tone (void)
{
  guint8 *data = g_malloc (TWILIO_SAMPLE_RATE);
  guint i;

  for (i = 0; i < TWILIO_SAMPLE_RATE; i++)
    data[i] = callsim_linear_to_mulaw ((gint16) (8192 * sin (2 * G_PI * 440 *
                i / TWILIO_SAMPLE_RATE)));
  return g_bytes_new_take (data, TWILIO_SAMPLE_RATE);
}

static void
config_clear (CallsimConfig * c)
{
  g_free (c->url);
  g_free (c->signed_url);
  if (c->auth_token) {
    memset (c->auth_token, 0, strlen (c->auth_token));
    g_free (c->auth_token);
  }
  g_free (c->account_sid);
  g_strfreev (c->param_names);
  g_strfreev (c->param_values);
  g_clear_pointer (&c->utterance, g_bytes_unref);
  g_clear_pointer (&c->barge_in_utterance, g_bytes_unref);
  g_free (c->dtmf);
  g_free (c->record_path);
}

static gboolean
parse_ms_option (const gchar * name, gint64 value, gint64 * out,
    GError ** error)
{
  if (value < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "%s must not be negative", name);
    return FALSE;
  }
  *out = value;
  return TRUE;
}

typedef struct
{
  gchar *url, *public_url, *auth_token, *audio, *barge_in_audio,
      *barge_in_at, *hangup_at, *record, *events, *account_sid;
  gchar **params, **dtmf;
  gint64 silence_before, silence_after, first_timestamp, reply_timeout,
      max_duration, connect_timeout, stagger;
  gint calls;
  gboolean abrupt, expect_audio, json, quiet, timeline, version;
} Options;

static void
options_clear (Options * o)
{
  g_free (o->url);
  g_free (o->public_url);
  if (o->auth_token)
    memset (o->auth_token, 0, strlen (o->auth_token));
  g_free (o->auth_token);
  g_free (o->audio);
  g_free (o->barge_in_audio);
  g_free (o->barge_in_at);
  g_free (o->hangup_at);
  g_free (o->record);
  g_free (o->events);
  g_free (o->account_sid);
  g_strfreev (o->params);
  g_strfreev (o->dtmf);
}

/* Turns the options into the calls' configuration; FALSE on bad values. */
static gboolean
build_config (Options * o, CallsimConfig * c, GError ** error)
{
  GPtrArray *names, *values;
  guint i;

  if (o->url == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--url is required (the bridge's media WebSocket, e.g. "
        "ws://127.0.0.1:8080/call)");
    return FALSE;
  }
  if (!g_str_has_prefix (o->url, "ws://")
      && !g_str_has_prefix (o->url, "wss://")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--url must be a ws:// or wss:// URL, not \"%s\"", o->url);
    return FALSE;
  }
  if (o->calls < 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--calls must be at least 1");
    return FALSE;
  }
  if (o->abrupt && o->hangup_at == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--abrupt needs --hangup-at");
    return FALSE;
  }
  if (o->barge_in_audio && o->barge_in_at == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--barge-in-audio needs --barge-in-at");
    return FALSE;
  }
  if (!parse_ms_option ("--silence-before", o->silence_before,
          &c->silence_before_ms, error)
      || !parse_ms_option ("--silence-after", o->silence_after,
          &c->silence_after_ms, error)
      || !parse_ms_option ("--first-timestamp", o->first_timestamp,
          &c->first_timestamp_ms, error)
      || !parse_ms_option ("--reply-timeout", o->reply_timeout,
          &c->reply_timeout_ms, error)
      || !parse_ms_option ("--max-duration", o->max_duration,
          &c->max_duration_ms, error)
      || !parse_ms_option ("--connect-timeout", o->connect_timeout,
          &c->connect_timeout_ms, error))
    return FALSE;
  if (o->stagger < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--stagger must not be negative");
    return FALSE;
  }

  c->url = g_strdup (o->url);
  c->signed_url = g_strdup (o->public_url ? o->public_url : o->url);
  if (o->auth_token && *o->auth_token)
    c->auth_token = g_strdup (o->auth_token);
  else if (g_getenv ("TWILIO_AUTH_TOKEN") && *g_getenv ("TWILIO_AUTH_TOKEN"))
    c->auth_token = g_strdup (g_getenv ("TWILIO_AUTH_TOKEN"));
  c->account_sid = o->account_sid ? g_strdup (o->account_sid) :
      callsim_make_sid ("AC");

  names = g_ptr_array_new ();
  values = g_ptr_array_new ();
  for (i = 0; o->params && o->params[i]; i++) {
    gchar *name, *value;

    if (!callsim_param_parse (o->params[i], &name, &value, error)) {
      g_ptr_array_add (names, NULL);
      g_ptr_array_add (values, NULL);
      g_strfreev ((gchar **) g_ptr_array_free (names, FALSE));
      g_strfreev ((gchar **) g_ptr_array_free (values, FALSE));
      return FALSE;
    }
    g_ptr_array_add (names, name);
    g_ptr_array_add (values, value);
  }
  g_ptr_array_add (names, NULL);
  g_ptr_array_add (values, NULL);
  c->param_names = (gchar **) g_ptr_array_free (names, FALSE);
  c->param_values = (gchar **) g_ptr_array_free (values, FALSE);

  c->n_dtmf = o->dtmf ? g_strv_length (o->dtmf) : 0;
  c->dtmf = g_new0 (CallsimDtmf, MAX (c->n_dtmf, 1));
  for (i = 0; i < c->n_dtmf; i++)
    if (!callsim_dtmf_parse (o->dtmf[i], &c->dtmf[i], error))
      return FALSE;
  if (o->hangup_at) {
    c->hangup = TRUE;
    c->abrupt = o->abrupt;
    if (!callsim_time_spec_parse (o->hangup_at, &c->hangup_at, error)) {
      g_prefix_error (error, "--hangup-at: ");
      return FALSE;
    }
  }
  if (o->barge_in_at
      && !callsim_time_spec_parse (o->barge_in_at, &c->barge_in_at, error)) {
    g_prefix_error (error, "--barge-in-at: ");
    return FALSE;
  }
  c->expect_audio = o->expect_audio;
  return TRUE;
}

static gboolean
load_audio (Options * o, CallsimConfig * c, GError ** error)
{
  if (o->audio) {
    c->utterance = callsim_audio_decode (o->audio, error);
    if (c->utterance == NULL)
      return FALSE;
  } else {
    c->utterance = make_tone ();
  }
  if (o->barge_in_at) {
    if (o->barge_in_audio) {
      c->barge_in_utterance = callsim_audio_decode (o->barge_in_audio, error);
      if (c->barge_in_utterance == NULL)
        return FALSE;
    } else {
      c->barge_in_utterance = g_bytes_ref (c->utterance);
    }
  }
  return TRUE;
}

static gint
run (Runner * runner, guint n_calls, const gchar * record)
{
  const CallsimStats **stats;
  guint i, failed;
  GSource *signal_source;

  runner->context = g_main_context_new ();
  g_main_context_push_thread_default (runner->context);
  runner->loop = g_main_loop_new (runner->context, FALSE);
  runner->session = soup_session_new_with_options ("user-agent",
      "Twilio.TmeWs/1.0", "max-conns", n_calls + 8, "max-conns-per-host",
      n_calls + 8, NULL);
  /* Twilio offers no permessage-deflate. */
  soup_session_remove_feature_by_type (runner->session,
      SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);

  runner->calls = g_ptr_array_new_with_free_func ((GDestroyNotify)
      callsim_call_free);
  for (i = 0; i < n_calls; i++) {
    gchar *path = NULL;

    if (record)
      path = n_calls > 1 ? callsim_path_for_call (record, i + 1) :
          g_strdup (record);
    g_ptr_array_add (runner->calls, callsim_call_new (&runner->config, i + 1,
            path, runner->report, on_call_finished, runner));
    g_free (path);
  }

  runner->grid_origin_us = g_get_monotonic_time ();
  runner->ticker = g_source_new (&ticker_funcs, sizeof (GSource));
  g_source_set_priority (runner->ticker, G_PRIORITY_HIGH);
  g_source_set_callback (runner->ticker, on_tick, runner, NULL);
  g_source_set_ready_time (runner->ticker, runner->grid_origin_us);
  g_source_attach (runner->ticker, runner->context);
  signal_source = g_unix_signal_source_new (SIGINT);
  g_source_set_callback (signal_source, on_interrupt, runner, NULL);
  g_source_attach (signal_source, runner->context);

  start_due_calls (runner, runner->grid_origin_us);
  g_main_loop_run (runner->loop);

  g_source_destroy (signal_source);
  g_source_unref (signal_source);
  g_source_destroy (runner->ticker);
  g_source_unref (runner->ticker);

  stats = g_new (const CallsimStats *, n_calls);
  for (i = 0; i < n_calls; i++)
    stats[i] = callsim_call_get_stats (g_ptr_array_index (runner->calls, i));
  if (n_calls > 1) {
    failed = callsim_report_aggregate (runner->report, stats, n_calls);
  } else {
    failed = stats[0]->failures->len > 0;
  }
  /* an interrupted run never counts as the call going as asked */
  if (runner->interrupts > 0 || runner->n_finished < n_calls)
    failed = MAX (failed, 1);
  g_free (stats);

  g_ptr_array_unref (runner->calls);
  soup_session_abort (runner->session);
  g_object_unref (runner->session);
  while (g_main_context_iteration (runner->context, FALSE));
  g_main_loop_unref (runner->loop);
  g_main_context_pop_thread_default (runner->context);
  g_main_context_unref (runner->context);
  return failed > 0 ? EXIT_CALL_FAILED : EXIT_OK;
}

int
main (int argc, char **argv)
{
  Options o = {
    .silence_before = 500,.silence_after = 1000,.first_timestamp = 150,
    .reply_timeout = 15000,.max_duration = 120000,.connect_timeout = 10000,
    .calls = 1,
  };
  GOptionEntry entries[] = {
    {"url", 'u', 0, G_OPTION_ARG_STRING, &o.url,
        "The bridge's media WebSocket (required)", "ws://HOST:PORT/PATH"},
    {"auth-token", 0, 0, G_OPTION_ARG_STRING, &o.auth_token,
        "Sign the upgrade with this Twilio auth token (X-Twilio-Signature; "
          "default $TWILIO_AUTH_TOKEN, none if unset)", "TOKEN"},
    {"public-url", 0, 0, G_OPTION_ARG_STRING, &o.public_url,
        "The URL the signature covers, as the bridge knows itself (default "
          "--url)", "wss://HOST/PATH"},
    {"param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &o.params,
        "A customParameters entry of `start` (repeatable)", "NAME=VALUE"},
    {"account-sid", 0, 0, G_OPTION_ARG_STRING, &o.account_sid,
        "accountSid to send (default a random one)", "ACxxx"},
    {"audio", 'a', 0, G_OPTION_ARG_FILENAME, &o.audio,
        "What the caller says: any audio file or URI GStreamer decodes "
          "(default a 1 s 440 Hz tone)", "FILE"},
    {"silence-before", 0, 0, G_OPTION_ARG_INT64, &o.silence_before,
        "Silence before the caller speaks (default 500)", "MS"},
    {"silence-after", 0, 0, G_OPTION_ARG_INT64, &o.silence_after,
        "Silence after everything was said and heard before hanging up "
          "(default 1000)", "MS"},
    {"first-timestamp", 0, 0, G_OPTION_ARG_INT64, &o.first_timestamp,
        "media.timestamp of the first frame, as Twilio's ~150 ms "
          "(default 150)", "MS"},
    {"dtmf", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &o.dtmf,
        "Press a key (0-9 * # A-D) at TIME (repeatable)", "DIGIT@TIME"},
    {"barge-in-at", 'b', 0, G_OPTION_ARG_STRING, &o.barge_in_at,
        "Speak again at TIME, also while the bridge talks", "TIME"},
    {"barge-in-audio", 0, 0, G_OPTION_ARG_FILENAME, &o.barge_in_audio,
        "What the caller says then (default the --audio)", "FILE"},
    {"hangup-at", 0, 0, G_OPTION_ARG_STRING, &o.hangup_at,
        "Hang up at TIME instead of when the call went quiet", "TIME"},
    {"abrupt", 0, 0, G_OPTION_ARG_NONE, &o.abrupt,
          "With --hangup-at: drop the connection, no stop, no close frame",
        NULL},
    {"expect-audio", 'e', 0, G_OPTION_ARG_NONE, &o.expect_audio,
        "Fail unless the bridge answers with audio", NULL},
    {"reply-timeout", 0, 0, G_OPTION_ARG_INT64, &o.reply_timeout,
        "How long to wait for the reply when one is expected (default "
          "15000)", "MS"},
    {"max-duration", 0, 0, G_OPTION_ARG_INT64, &o.max_duration,
        "Hang up after this much stream time (default 120000)", "MS"},
    {"connect-timeout", 0, 0, G_OPTION_ARG_INT64, &o.connect_timeout,
        "Give up connecting after this long (default 10000)", "MS"},
    {"record", 'r', 0, G_OPTION_ARG_FILENAME, &o.record,
        "Write what the caller heard to this WAV (16-bit 8 kHz mono; "
          "FILE-N.wav per call with --calls)", "FILE.wav"},
    {"calls", 'n', 0, G_OPTION_ARG_INT, &o.calls,
        "Place N concurrent, independent calls (default 1)", "N"},
    {"stagger", 0, 0, G_OPTION_ARG_INT64, &o.stagger,
        "Start the calls this far apart (default 0)", "MS"},
    {"json", 'j', 0, G_OPTION_ARG_NONE, &o.json,
        "Print JSON lines instead of text", NULL},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet,
        "No timeline, only summaries", NULL},
    {"timeline", 't', 0, G_OPTION_ARG_NONE, &o.timeline,
        "Print the timeline also with several calls", NULL},
    {"events", 0, 0, G_OPTION_ARG_FILENAME, &o.events,
        "Also write every event and summary as JSON lines to FILE", "FILE"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &o.version,
        "Print the version and exit", NULL},
    {NULL}
  };
  GOptionContext *context;
  GError *error = NULL;
  Runner runner = { 0, };
  FILE *events = NULL;
  gint status;

  setvbuf (stdout, NULL, _IOLBF, 0);
  context = g_option_context_new ("- place simulated Twilio calls");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_option_context_set_description (context, DESCRIPTION);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("realtime-bridge-call: %s\n(see --help)\n", error->message);
    g_error_free (error);
    g_option_context_free (context);
    options_clear (&o);
    return EXIT_USAGE;
  }
  g_option_context_free (context);
  if (o.version) {
    g_print ("realtime-bridge-call %s\n", VERSION);
    options_clear (&o);
    return EXIT_OK;
  }
  if (argc > 1) {
    g_printerr ("realtime-bridge-call: unexpected argument \"%s\"\n(see "
        "--help)\n", argv[1]);
    options_clear (&o);
    return EXIT_USAGE;
  }

  if (!build_config (&o, &runner.config, &error)
      || !load_audio (&o, &runner.config, &error)) {
    g_printerr ("realtime-bridge-call: %s\n", error->message);
    g_error_free (error);
    config_clear (&runner.config);
    options_clear (&o);
    gst_deinit ();
    return EXIT_USAGE;
  }
  if (o.events && !(events = fopen (o.events, "w"))) {
    g_printerr ("realtime-bridge-call: cannot write %s: %s\n", o.events,
        g_strerror (errno));
    config_clear (&runner.config);
    options_clear (&o);
    gst_deinit ();
    return EXIT_USAGE;
  }

  runner.stagger_us = o.stagger * G_TIME_SPAN_MILLISECOND;
  runner.report = callsim_report_new (stdout, o.json, !o.quiet
      && (o.calls == 1 || o.timeline), events);
  status = run (&runner, o.calls, o.record);

  callsim_report_free (runner.report);
  if (events)
    fclose (events);
  config_clear (&runner.config);
  options_clear (&o);
  gst_deinit ();
  return status;
}
