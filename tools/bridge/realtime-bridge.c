/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge: answers Twilio's voice webhook and runs one GStreamer
 * pipeline per call between Twilio Media Streams and the OpenAI Realtime
 * API. See docs/launcher.md and --help.
 *
 * main(): configuration, the model endpoint (OpenAI, a given URL or the
 * embedded local model), the server, signals and the orderly shutdown.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>
#include <stdarg.h>
#include <glib-unix.h>
#include <gst/gst.h>

#include "bridge-app.h"
#include "bridge-call.h"
#include "bridge-server.h"

#ifdef HAVE_LOCALMODEL
#include "localmodel.h"
#endif

/* A call that does not come down within this after the shutdown timeout is
 * abandoned so that the process still exits. */
#define FORCE_EXIT_GRACE_S 10

static gboolean
ensure_plugins (GError ** error)
{
  const gchar *needed[] = { "twiliosrc", "twiliosink", "openairealtimesrc",
    "openairealtimesink"
  };
  guint i;

  /* Installed in a prefix GStreamer does not scan: look where we put them. */
  if (!gst_registry_check_feature_version (gst_registry_get (), "twiliosrc",
          1, 0, 0))
    gst_registry_scan_path (gst_registry_get (), PLUGINDIR);

  for (i = 0; i < G_N_ELEMENTS (needed); i++) {
    GstElementFactory *f = gst_element_factory_find (needed[i]);

    if (!f) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "element '%s' not found: is the plugin built and on "
          "GST_PLUGIN_PATH?", needed[i]);
      return FALSE;
    }
    gst_object_unref (f);
  }
  return TRUE;
}

static gboolean
maybe_quit (gpointer user_data)
{
  BridgeApp *app = user_data;

  if (bridge_app_is_draining (app) && bridge_app_active_calls (app) == 0)
    g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

void
bridge_app_call_finished (BridgeApp * app)
{
  /* From a call loop: the main loop looks (an idle, not an invoke, which
   * would run here when the main loop is not running). */
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, maybe_quit, app, NULL);
  g_source_attach (idle, NULL);
  g_source_unref (idle);
}

static gboolean
on_force_exit (gpointer user_data)
{
  BridgeApp *app = user_data;

  app->force_timeout_id = 0;
  bridge_log_emitv (app->log, "error", NULL, "shutdown-forced",
      "message", G_TYPE_STRING,
      "calls did not come down in time; exiting anyway",
      "active-calls", G_TYPE_INT, (gint) bridge_app_active_calls (app), NULL);
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_drain_timeout (gpointer user_data)
{
  BridgeApp *app = user_data;

  app->drain_timeout_id = 0;
  bridge_log_emitv (app->log, "warning", NULL, "shutdown-timeout",
      "message", G_TYPE_STRING, "ending the remaining calls",
      "active-calls", G_TYPE_INT, (gint) bridge_app_active_calls (app), NULL);
  bridge_app_abort_all_calls (app, "the bridge shut down (timeout)");
  app->force_timeout_id = g_timeout_add_seconds (FORCE_EXIT_GRACE_S,
      on_force_exit, app);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer user_data)
{
  BridgeApp *app = user_data;

  if (bridge_app_is_draining (app)) {
    /* A second signal: do not wait for the calls any more. */
    if (app->drain_timeout_id) {
      g_source_remove (app->drain_timeout_id);
      on_drain_timeout (app);
    }
    return G_SOURCE_CONTINUE;
  }
  g_atomic_int_set (&app->draining, TRUE);
  bridge_log_emitv (app->log, "info", NULL, "shutdown",
      "message", G_TYPE_STRING,
      "no new calls; waiting for the active calls to finish",
      "active-calls", G_TYPE_INT, (gint) bridge_app_active_calls (app),
      "timeout-s", G_TYPE_INT, app->config->shutdown_timeout_s, NULL);
  if (bridge_app_active_calls (app) == 0) {
    g_main_loop_quit (app->loop);
  } else if (app->config->shutdown_timeout_s == 0) {
    on_drain_timeout (app);
  } else {
    app->drain_timeout_id =
        g_timeout_add_seconds (app->config->shutdown_timeout_s,
        on_drain_timeout, app);
  }
  return G_SOURCE_CONTINUE;
}

static void
log_preconditions (BridgeApp * app)
{
  const BridgeConfig *c = app->config;

  if (!c->public_url)
    bridge_log_emitv (app->log, "warning", NULL, "precondition",
        "missing", G_TYPE_STRING, "public-url", "message", G_TYPE_STRING,
        "no public URL (--public-url or PUBLIC_URL): TwiML points Twilio at "
        "wss://<Host header>/call, which only works behind a proxy that "
        "forwards the public Host", NULL);
  if (!c->twilio_auth_token)
    bridge_log_emitv (app->log, "warning", NULL, "precondition",
        "missing", G_TYPE_STRING, "twilio-auth-token", "message",
        G_TYPE_STRING, "no TWILIO_AUTH_TOKEN: webhook and media requests are "
        "not checked for X-Twilio-Signature; anyone who finds this URL can "
        "start calls", NULL);
  if (!c->access_token)
    bridge_log_emitv (app->log, "info", NULL, "precondition",
        "missing", G_TYPE_STRING, "access-token", "message", G_TYPE_STRING,
        "no BRIDGE_ACCESS_TOKEN: /metrics and /logs are open", NULL);
}

static GHashTable *
load_dotenv (const gchar * explicit_path, GError ** error)
{
  const gchar *path = explicit_path ? explicit_path : ".env";
  g_autofree gchar *text = NULL;

  if (!explicit_path && !g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  return bridge_dotenv_parse (text, error);
}

/* Whether libsoup's debug lines are wanted (G_MESSAGES_DEBUG names libsoup
 * or all); set in main () before any other thread starts. */
static gboolean libsoup_debug_wanted = TRUE;

/* libsoup logs several debug lines per WebSocket frame, and GLib's g_log ()
 * formats a message before it looks at what handles it: at 100 calls,
 * formatting lines that nobody reads was 3 to 4 % of the launcher's CPU.
 * This definition takes the place of GLib's for the whole process (the
 * libraries call g_log () through their PLT, as they call close (), see
 * bridge-scheduler.c) and drops libsoup's unwanted debug lines before they
 * are formatted; everything else goes on to GLib's g_logv () as before. */
void
g_log (const gchar * log_domain, GLogLevelFlags log_level,
    const gchar * format, ...)
{
  va_list args;

  if (log_level == G_LOG_LEVEL_DEBUG && !libsoup_debug_wanted
      && log_domain != NULL && strcmp (log_domain, "libsoup") == 0)
    return;
  va_start (args, format);
  g_logv (log_domain, log_level, format, args);
  va_end (args);
}

static void
quiet_libsoup_debug (void)
{
  const gchar *wanted = g_getenv ("G_MESSAGES_DEBUG");

  libsoup_debug_wanted = wanted != NULL && (strstr (wanted, "libsoup")
      || strstr (wanted, "all"));
}

int
main (int argc, char **argv)
{
  BridgeCliOptions cli;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) dotenv = NULL;
  g_auto (GStrv) envp = NULL;
  g_autofree GOptionEntry *entries = NULL;
  BridgeApp app = { 0, };
  g_autofree gchar *model_note = NULL;
#ifdef HAVE_LOCALMODEL
  LocalModel *local_model = NULL;
#endif
  guint sigint_id, sigterm_id;

  /* A /logs client or a closed stdout must not kill the process. */
  signal (SIGPIPE, SIG_IGN);
  quiet_libsoup_debug ();

  bridge_cli_options_init (&cli);
  entries = bridge_cli_option_entries (&cli);
  ctx = g_option_context_new ("- bridge Twilio calls to the OpenAI "
      "Realtime API");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx, bridge_config_help_description ());
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("realtime-bridge: %s\n", error->message);
    bridge_cli_options_clear (&cli);
    return EXIT_FAILURE;
  }

  envp = g_get_environ ();
  if (cli.env_file || g_file_test (".env", G_FILE_TEST_EXISTS)) {
    dotenv = load_dotenv (cli.env_file, &error);
    if (!dotenv) {
      g_printerr ("realtime-bridge: .env: %s\n", error->message);
      bridge_cli_options_clear (&cli);
      return EXIT_FAILURE;
    }
  }
  app.config = bridge_config_resolve (&cli, envp, dotenv, &error);
  bridge_cli_options_clear (&cli);
  if (!app.config) {
    g_printerr ("realtime-bridge: %s\n", error->message);
    return EXIT_FAILURE;
  }
  if (!ensure_plugins (&error)) {
    g_printerr ("realtime-bridge: %s\n", error->message);
    bridge_config_free (app.config);
    return EXIT_FAILURE;
  }

  if (app.config->record_dir
      && g_mkdir_with_parents (app.config->record_dir, 0755) != 0) {
    g_printerr ("realtime-bridge: cannot create the record directory "
        "'%s': %s\n", app.config->record_dir, g_strerror (errno));
    bridge_config_free (app.config);
    return EXIT_FAILURE;
  }

  app.log = bridge_log_new (app.config->log_format, app.config->verbose,
      stdout);
  bridge_log_add_secret (app.log, app.config->api_key);
  bridge_log_add_secret (app.log, app.config->twilio_auth_token);
  bridge_log_add_secret (app.log, app.config->access_token);
  app.metrics = bridge_metrics_new ();
  app.calls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) bridge_call_free);
  g_mutex_init (&app.lock);
  g_mutex_init (&app.fanout_lock);
  app.main_thread = g_thread_self ();
  app.started_us = g_get_monotonic_time ();
  app.loop = g_main_loop_new (NULL, FALSE);
  /* Before anything is announced: a signal right after "listening" must
   * find the handlers. */
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &app);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &app);

  switch (app.config->model_mode) {
    case BRIDGE_MODEL_LOCAL:{
#ifdef HAVE_LOCALMODEL
      LocalModelOptions opts;

      local_model_options_init (&opts);
      opts.address = "127.0.0.1";
      opts.port = 0;
      local_model = local_model_new (&opts, &error);
      if (!local_model) {
        g_printerr ("realtime-bridge: no OPENAI_API_KEY, and the embedded "
            "local model did not start: %s\n", error->message);
        goto failed;
      }
      app.realtime_url = local_model_get_url (local_model);
      model_note = g_strdup_printf ("no OPENAI_API_KEY: using the embedded "
          "local model at %s (an echo agent, not OpenAI)", app.realtime_url);
#else
      g_printerr ("realtime-bridge: no OPENAI_API_KEY is set, and this build "
          "has no embedded local model; set OPENAI_API_KEY or "
          "--realtime-url\n");
      goto failed;
#endif
      break;
    }
    case BRIDGE_MODEL_OPENAI:
      app.realtime_url = g_strdup (app.config->realtime_url);
      model_note = g_strdup_printf ("using the OpenAI Realtime API at %s",
          app.realtime_url);
      break;
    case BRIDGE_MODEL_CUSTOM_URL:
      app.realtime_url = g_strdup (app.config->realtime_url);
      model_note = g_strdup_printf ("using the Realtime endpoint %s (%s)",
          app.realtime_url, app.config->api_key ? "with OPENAI_API_KEY" :
          "no API key");
      break;
  }

  /* The first log line says which model the calls will talk to. */
  bridge_log_emitv (app.log, "info", NULL, "starting",
      "message", G_TYPE_STRING, model_note,
      "version", G_TYPE_STRING, VERSION,
      "model-mode", G_TYPE_STRING,
      bridge_model_mode_to_string (app.config->model_mode),
      "realtime-url", G_TYPE_STRING, app.realtime_url,
      "model", G_TYPE_STRING, app.config->model,
      "pipeline", G_TYPE_STRING, app.config->pipeline_name,
      "max-calls", G_TYPE_INT, app.config->max_calls, NULL);

  bridge_app_start_loops (&app);

  if (!bridge_server_start (&app, &error)) {
    bridge_log_emitv (app.log, "error", NULL, "listen-failed",
        "message", G_TYPE_STRING, error->message,
        "port", G_TYPE_INT, app.config->port, NULL);
    goto failed;
  }
  {
    g_autofree gchar *public_webhook = app.config->public_url ?
        g_strconcat (app.config->public_url, "/twiml", NULL) : NULL;

    bridge_log_emitv (app.log, "info", NULL, "listening",
        "port", G_TYPE_INT, (gint) app.port,
        "address", G_TYPE_STRING,
        app.config->address ? app.config->address : "0.0.0.0",
        "webhook-url", G_TYPE_STRING, public_webhook,
        "signature-validation", G_TYPE_BOOLEAN,
        app.config->twilio_auth_token != NULL,
        "call-loops", G_TYPE_INT, (gint) app.call_loops->len,
        "loop-driven", G_TYPE_BOOLEAN, !app.config->threaded_calls, NULL);
  }
  log_preconditions (&app);

  g_main_loop_run (app.loop);
  g_clear_handle_id (&app.drain_timeout_id, g_source_remove);
  g_clear_handle_id (&app.force_timeout_id, g_source_remove);

  bridge_log_emitv (app.log, "info", NULL, "stopped",
      "uptime-s", G_TYPE_DOUBLE,
      (g_get_monotonic_time () - app.started_us) / 1e6,
      "abandoned-calls", G_TYPE_INT, (gint) bridge_app_active_calls (&app),
      NULL);

  if (bridge_app_active_calls (&app) > 0) {
    /* A call stuck in its state change still runs in GStreamer's thread
     * pool: freeing under it would be worse than leaving. */
    fflush (stdout);
    _exit (EXIT_SUCCESS);
  }

failed:
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  /* Every call has ended: no loop logs or touches the server any more. */
  bridge_app_stop_loops (&app);
  bridge_server_stop (&app);
  while (g_main_context_iteration (NULL, FALSE));
#ifdef HAVE_LOCALMODEL
  g_clear_pointer (&local_model, local_model_free);
#endif
  g_hash_table_unref (app.calls);
  g_mutex_clear (&app.lock);
  g_mutex_clear (&app.fanout_lock);
  g_main_loop_unref (app.loop);
  bridge_metrics_free (app.metrics);
  bridge_log_free (app.log);
  g_free (app.realtime_url);
  gst_deinit ();
  {
    gboolean ok = error == NULL;

    bridge_config_free (app.config);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
  }
}
