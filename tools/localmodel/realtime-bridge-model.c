/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-model: the local Realtime model as a program. Prints the
 * URL it listens on as the first line of stdout, serves until SIGINT or
 * SIGTERM, then prints its counters as one JSON line.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <glib.h>
#include <glib-unix.h>

#include "localmodel.h"

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  LocalModelOptions opts;
  gint port = 0;
  gchar *address = NULL;
  gdouble pace = 2.0;
  gint chunk_ms = 100;
  gint answer_tone_ms = 0;
  gint function_call_every = 3;
  gint session_limit_ms = 60 * 60 * 1000;
  gint response_delay_ms = 0;
  gint close_after_ms = 0;
  gint close_after_appends = 0;
  gint close_code = 0;
  gint close_sessions = 0;
  gint error_every_appends = 0;
  gint upgrade_failures = 0;
  gint upgrade_failure_status = 503;
  gchar *reject_key = NULL;
  gchar *events_log = NULL;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &port,
        "Port to listen on (0 = any free port)", "PORT"},
    {"address", 'a', 0, G_OPTION_ARG_STRING, &address,
        "Address to listen on (default 127.0.0.1)", "ADDRESS"},
    {"pace", 0, 0, G_OPTION_ARG_DOUBLE, &pace,
        "Speed of response audio: 1 = real time, 2 = twice (default), "
          "0 = all at once", "FACTOR"},
    {"chunk-ms", 0, 0, G_OPTION_ARG_INT, &chunk_ms,
        "Audio per response.output_audio.delta (default 100)", "MS"},
    {"answer-tone-ms", 0, 0, G_OPTION_ARG_INT, &answer_tone_ms,
        "Answer each utterance with a 1 kHz tone of this length, full level "
          "from its first sample, instead of the echo (for onset timing; "
          "default 0 = echo)", "MS"},
    {"function-call-every", 0, 0, G_OPTION_ARG_INT, &function_call_every,
        "When the session declares tools, call the first one on every Nth "
          "turn (default 3, 0 = never)", "N"},
    {"session-limit-ms", 0, 0, G_OPTION_ARG_INT, &session_limit_ms,
        "Maximum session duration (default 3600000, the real API's 60 "
          "minutes; 0 = none): then an error session_expired and a close "
          "1001", "MS"},
    {"response-delay-ms", 0, 0, G_OPTION_ARG_INT, &response_delay_ms,
        "Fault: wait this long before each response", "MS"},
    {"close-after-ms", 0, 0, G_OPTION_ARG_INT, &close_after_ms,
        "Fault: close sessions this long after they opened", "MS"},
    {"close-after-appends", 0, 0, G_OPTION_ARG_INT, &close_after_appends,
        "Fault: close sessions after N input_audio_buffer.append", "N"},
    {"close-code", 0, 0, G_OPTION_ARG_INT, &close_code,
        "Fault: WebSocket close code for those closes (default 0: drop the "
          "TCP connection without a close frame)", "CODE"},
    {"close-sessions", 0, 0, G_OPTION_ARG_INT, &close_sessions,
        "Fault: only the first N sessions get closed (default 0 = all)", "N"},
    {"error-every-appends", 0, 0, G_OPTION_ARG_INT, &error_every_appends,
        "Fault: send an error event every N appends", "N"},
    {"upgrade-failures", 0, 0, G_OPTION_ARG_INT, &upgrade_failures,
        "Fault: refuse the first N WebSocket upgrades", "N"},
    {"upgrade-failure-status", 0, 0, G_OPTION_ARG_INT,
          &upgrade_failure_status,
        "HTTP status for refused upgrades (default 503)", "STATUS"},
    {"reject-key", 0, 0, G_OPTION_ARG_STRING, &reject_key,
        "Fault: answer this API key with 401 invalid_api_key", "KEY"},
    {"events-log", 0, 0, G_OPTION_ARG_FILENAME, &events_log,
        "Append every client event (no audio, no keys) as JSON lines", "FILE"},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
        "Do not print the counters on exit", NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  LocalModel *model;
  GMainLoop *loop;
  gchar *url;
  gint status = EXIT_SUCCESS;

  ctx = g_option_context_new ("- local OpenAI Realtime (GA) echo model");
  g_option_context_set_summary (ctx,
      "A WebSocket server speaking the OpenAI Realtime GA protocol on "
      "loopback.\nIt detects speech in the caller's audio and says each "
      "utterance back (an echo\nagent); no API key or network needed. "
      "The first line of output is its URL.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    g_error_free (error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (port < 0 || port > 65535 || chunk_ms < 1 || function_call_every < 0
      || answer_tone_ms < 0
      || session_limit_ms < 0
      || response_delay_ms < 0 || close_after_ms < 0 || close_after_appends < 0
      || close_code < 0 || close_code > 4999 || close_sessions < 0
      || error_every_appends < 0 || upgrade_failures < 0
      || upgrade_failure_status < 100 || upgrade_failure_status > 599) {
    g_printerr ("Invalid option value (see --help)\n");
    return 2;
  }

  local_model_options_init (&opts);
  opts.port = port;
  if (address)
    opts.address = address;
  opts.audio_pace = pace;
  opts.chunk_ms = chunk_ms;
  opts.answer_tone_ms = answer_tone_ms;
  opts.function_call_every = function_call_every;
  opts.session_limit_ms = session_limit_ms;
  opts.response_delay_ms = response_delay_ms;
  opts.close_after_ms = close_after_ms;
  opts.close_after_appends = close_after_appends;
  opts.close_code = close_code;
  opts.close_sessions = close_sessions;
  opts.error_every_appends = error_every_appends;
  opts.upgrade_failures = upgrade_failures;
  opts.upgrade_failure_status = upgrade_failure_status;
  opts.reject_key = reject_key;
  opts.events_log = events_log;

  model = local_model_new (&opts, &error);
  if (model == NULL) {
    g_printerr ("Cannot start the local model: %s\n", error->message);
    g_error_free (error);
    status = EXIT_FAILURE;
    goto out;
  }
  url = local_model_get_url (model);
  printf ("%s\n", url);
  fflush (stdout);
  g_free (url);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);

  if (!quiet) {
    gchar *stats = local_model_get_stats_json (model);
    printf ("%s\n", stats);
    fflush (stdout);
    g_free (stats);
  }
  local_model_free (model);

out:
  g_free (address);
  g_free (reject_key);
  g_free (events_log);
  return status;
}
