/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Configuration of realtime-bridge. Each setting is looked up on the command
 * line, then in the environment, then in the .env file, then defaults.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-config.h"

#include <string.h>
#include <stdlib.h>
#include <errno.h>

#define BRIDGE_CONFIG_ERROR (g_quark_from_static_string ("bridge-config-error"))

#define RECORD_SUFFIX_CALLER \
  "location=\"{record-dir}/{call}-caller.wav\""
#define RECORD_SUFFIX_ASSISTANT \
  "location=\"{record-dir}/{call}-assistant.wav\""

/* Recording variants of the presets: a tee after twiliosrc (what the caller
 * said) and before twiliosink (what the caller heard). The main path stays
 * first on each tee, so barge-in queries and flushes reach twiliosink. */
static const gchar *transcode_record =
    "twiliosrc ! tee name=caller ! mulawdec ! audioresample ! "
    "audio/x-raw,rate=24000 ! openairealtimesink  "
    "caller. ! queue ! mulawdec ! wavenc ! filesink " RECORD_SUFFIX_CALLER "  "
    "openairealtimesrc ! audioresample ! audio/x-raw,rate=8000 ! mulawenc ! "
    "tee name=assistant ! twiliosink mark-interval=60  "
    "assistant. ! queue ! mulawdec ! wavenc ! filesink "
    RECORD_SUFFIX_ASSISTANT;

static const gchar *passthrough_record =
    "twiliosrc ! tee name=caller ! openairealtimesink  "
    "caller. ! queue ! mulawdec ! wavenc ! filesink " RECORD_SUFFIX_CALLER "  "
    "openairealtimesrc ! audio/x-mulaw,rate=8000,channels=1 ! "
    "tee name=assistant ! twiliosink mark-interval=60  "
    "assistant. ! queue ! mulawdec ! wavenc ! filesink "
    RECORD_SUFFIX_ASSISTANT;

void
bridge_cli_options_init (BridgeCliOptions * cli)
{
  memset (cli, 0, sizeof (*cli));
  cli->port = -1;
  cli->max_calls = -1;
  cli->shutdown_timeout_s = -1;
  cli->hangup_timeout_s = -1;
  cli->max_message_size = -1;
  cli->call_loops = -1;
}

void
bridge_cli_options_clear (BridgeCliOptions * cli)
{
  g_free (cli->address);
  g_free (cli->public_url);
  g_free (cli->realtime_url);
  g_free (cli->model);
  g_free (cli->voice);
  g_free (cli->instructions);
  g_free (cli->instructions_file);
  g_free (cli->greeting);
  g_free (cli->turn_detection);
  g_free (cli->transcription_model);
  g_free (cli->pipeline);
  g_free (cli->record_dir);
  g_free (cli->log_format);
  g_free (cli->env_file);
  bridge_cli_options_init (cli);
}

GOptionEntry *
bridge_cli_option_entries (BridgeCliOptions * cli)
{
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &cli->port,
        "TCP port for HTTP and WebSocket, 0 = any free port "
          "(env PORT, default 8080)", "PORT"},
    {"address", 0, 0, G_OPTION_ARG_STRING, &cli->address,
        "Address to listen on (env BRIDGE_ADDRESS, default all)", "ADDR"},
    {"public-url", 'u', 0, G_OPTION_ARG_STRING, &cli->public_url,
        "Public base URL Twilio reaches, e.g. https://bridge.example.com "
          "(env PUBLIC_URL)", "URL"},
    {"realtime-url", 0, 0, G_OPTION_ARG_STRING, &cli->realtime_url,
        "Realtime WebSocket endpoint (env OPENAI_REALTIME_URL; default "
          "derived from OPENAI_BASE_URL, or the embedded local model when "
          "OPENAI_API_KEY is unset)", "URL"},
    {"model", 'm', 0, G_OPTION_ARG_STRING, &cli->model,
          "Realtime model (env OPENAI_REALTIME_MODEL, default gpt-realtime)",
        "NAME"},
    {"voice", 0, 0, G_OPTION_ARG_STRING, &cli->voice,
        "Voice of the assistant (env VOICE)", "VOICE"},
    {"instructions", 'i', 0, G_OPTION_ARG_STRING, &cli->instructions,
        "System instructions (env INSTRUCTIONS)", "TEXT"},
    {"instructions-file", 0, 0, G_OPTION_ARG_FILENAME,
          &cli->instructions_file,
          "Read the instructions from a file (env INSTRUCTIONS_FILE)",
        "FILE"},
    {"greeting", 'g', 0, G_OPTION_ARG_STRING, &cli->greeting,
        "What the assistant says first when the call connects "
          "(env GREETING)", "TEXT"},
    {"turn-detection", 't', 0, G_OPTION_ARG_STRING, &cli->turn_detection,
          "server-vad, semantic-vad or none (env TURN_DETECTION)",
        "MODE"},
    {"transcription-model", 0, 0, G_OPTION_ARG_STRING,
          &cli->transcription_model,
        "Input transcription model, empty = none "
          "(env TRANSCRIPTION_MODEL)", "NAME"},
    {"pipeline", 0, 0, G_OPTION_ARG_STRING, &cli->pipeline,
          "Per-call pipeline: 'transcode' (default), 'passthrough' "
          "(mu-law end to end) or a gst-launch template (env BRIDGE_PIPELINE)",
        "PIPELINE"},
    {"record-dir", 0, 0, G_OPTION_ARG_FILENAME, &cli->record_dir,
        "Record both sides of each call as WAV files in DIR "
          "(env RECORD_DIR)", "DIR"},
    {"max-calls", 0, 0, G_OPTION_ARG_INT, &cli->max_calls,
        "Concurrent calls accepted; more are refused with 503 "
          "(env MAX_CALLS, default 10)", "N"},
    {"shutdown-timeout", 0, 0, G_OPTION_ARG_INT, &cli->shutdown_timeout_s,
        "On SIGINT/SIGTERM, seconds to let active calls finish "
          "(env SHUTDOWN_TIMEOUT, default 30)", "SECONDS"},
    {"hangup-timeout", 0, 0, G_OPTION_ARG_INT, &cli->hangup_timeout_s,
        "After the caller hangs up, seconds to drain the pipeline "
          "(env HANGUP_TIMEOUT, default 5)", "SECONDS"},
    {"max-message-size", 0, 0, G_OPTION_ARG_INT, &cli->max_message_size,
        "Largest accepted WebSocket message or request body in bytes "
          "(env MAX_MESSAGE_SIZE, default 65536)", "BYTES"},
    {"log-format", 0, 0, G_OPTION_ARG_STRING, &cli->log_format,
          "json (JSON lines, default) or text (env LOG_FORMAT)",
        "FORMAT"},
    {"env-file", 0, 0, G_OPTION_ARG_FILENAME, &cli->env_file,
          "Read settings from this file (default ./.env when present)",
        "FILE"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &cli->verbose,
        "Also log the state changes of every element (env VERBOSE=1)", NULL},
    {"loops", 0, 0, G_OPTION_ARG_INT, &cli->call_loops,
          "Loop threads that run the calls' sockets and media, 0 = one per "
          "processor, 1 = the main loop (env CALL_LOOPS, default 0)",
        "N"},
    {"threaded-calls", 0, 0, G_OPTION_ARG_NONE, &cli->threaded_calls,
          "Run every call's sources on their own streaming threads instead "
          "of on the call's loop (env THREADED_CALLS=1; for comparison)",
        NULL},
    {NULL}
  };

  return g_memdup2 (entries, sizeof (entries));
}

const gchar *
bridge_config_help_description (void)
{
  return
      "Answers Twilio's voice webhook and runs one GStreamer pipeline per "
      "call between\nTwilio Media Streams and an OpenAI Realtime model.\n\n"
      "Endpoints (one port):\n"
      "  GET|POST /twiml   voice webhook, answers <Connect><Stream>\n"
      "  /call             Twilio media WebSocket\n"
      "  GET /health       JSON status\n"
      "  GET /metrics      Prometheus text (bearer token if BRIDGE_ACCESS_TOKEN)\n"
      "  /logs             WebSocket streaming every call's events (same token)\n\n"
      "Environment (also read from .env; command line wins, then the\n"
      "environment, then .env):\n"
      "  OPENAI_API_KEY       API key; unset = embedded local model\n"
      "  OPENAI_BASE_URL      e.g. https://api.openai.com/v1; the Realtime URL\n"
      "                       is derived from it (wss://.../v1/realtime)\n"
      "  OPENAI_REALTIME_URL  the Realtime endpoint itself (= --realtime-url)\n"
      "  TWILIO_AUTH_TOKEN    require a valid X-Twilio-Signature (needs PUBLIC_URL)\n"
      "  BRIDGE_ACCESS_TOKEN  bearer token required by /logs and /metrics\n"
      "  PUBLIC_URL, PORT, BRIDGE_ADDRESS, OPENAI_REALTIME_MODEL, VOICE,\n"
      "  INSTRUCTIONS, INSTRUCTIONS_FILE, GREETING, TURN_DETECTION,\n"
      "  TRANSCRIPTION_MODEL, BRIDGE_PIPELINE, RECORD_DIR, MAX_CALLS,\n"
      "  SHUTDOWN_TIMEOUT, HANGUP_TIMEOUT, MAX_MESSAGE_SIZE, LOG_FORMAT, VERBOSE,\n"
      "  CALL_LOOPS, THREADED_CALLS\n\n"
      "Pipeline templates are gst-launch descriptions; the launcher sets "
      "'stream'\non every twilio* element and 'session' plus the model "
      "settings on every\nopenairealtime* element. {call} and {record-dir} "
      "are replaced per call.\n"
      "Each call runs on one of --loops loop threads (its Twilio socket, "
      "its model\nsocket and its media); a template with a sink that syncs "
      "to the clock\n(sync=true) runs threaded instead, with a warning.\n"
      "  transcode:   " BRIDGE_PIPELINE_TRANSCODE "\n"
      "  passthrough: " BRIDGE_PIPELINE_PASSTHROUGH "\n\n"
      "SIGINT/SIGTERM: stop accepting calls, let active calls finish (up to "
      "--shutdown-timeout),\nthen exit 0. A second signal ends the calls at "
      "once.";
}

/* ---- .env ---------------------------------------------------------------- */

static gboolean
is_env_name (const gchar * s, gsize len)
{
  gsize i;

  if (len == 0 || g_ascii_isdigit (s[0]))
    return FALSE;
  for (i = 0; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '_')
      return FALSE;
  return TRUE;
}

/* Parses the usual dotenv dialect: KEY=value, optional "export ", # comments,
 * single quotes (literal), double quotes (\n \" \\ escapes). */
GHashTable *
bridge_dotenv_parse (const gchar * text, GError ** error)
{
  g_autoptr (GHashTable) vars =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n;

  for (n = 0; lines[n]; n++) {
    gchar *line = g_strstrip (lines[n]);
    gchar *eq, *name, *value;
    GString *parsed;

    if (*line == '\0' || *line == '#')
      continue;
    if (g_str_has_prefix (line, "export ") || g_str_has_prefix (line,
            "export\t"))
      line = g_strchug (line + 7);
    eq = strchr (line, '=');
    if (!eq) {
      g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
          ".env line %u: expected NAME=value", n + 1);
      return NULL;
    }
    *eq = '\0';
    name = g_strchomp (line);
    if (!is_env_name (name, strlen (name))) {
      g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
          ".env line %u: '%s' is not a variable name", n + 1, name);
      return NULL;
    }
    value = g_strchug (eq + 1);
    parsed = g_string_new (NULL);
    if (*value == '\'' || *value == '"') {
      gchar quote = *value;
      const gchar *p = value + 1;

      while (*p && *p != quote) {
        if (quote == '"' && *p == '\\' && p[1]) {
          p++;
          g_string_append_c (parsed, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
        } else {
          g_string_append_c (parsed, *p);
        }
        p++;
      }
      if (*p != quote) {
        g_string_free (parsed, TRUE);
        g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
            ".env line %u: unterminated quote in %s", n + 1, name);
        return NULL;
      }
    } else {
      /* An unquoted value ends at " #" (an inline comment). */
      gchar *comment = strstr (value, " #");

      if (comment)
        *comment = '\0';
      g_string_append (parsed, g_strchomp (value));
    }
    g_hash_table_replace (vars, g_strdup (name), g_string_free (parsed, FALSE));
  }
  return g_steal_pointer (&vars);
}

/* ---- URLs ---------------------------------------------------------------- */

gchar *
bridge_realtime_url_from_base_url (const gchar * base_url, GError ** error)
{
  g_autofree gchar *trimmed = g_strdup (base_url);
  const gchar *rest;
  const gchar *scheme;
  gsize len;

  g_strstrip (trimmed);
  len = strlen (trimmed);
  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';

  if (g_str_has_prefix (trimmed, "https://")) {
    scheme = "wss://";
    rest = trimmed + 8;
  } else if (g_str_has_prefix (trimmed, "http://")) {
    scheme = "ws://";
    rest = trimmed + 7;
  } else if (g_str_has_prefix (trimmed, "wss://")) {
    scheme = "wss://";
    rest = trimmed + 6;
  } else if (g_str_has_prefix (trimmed, "ws://")) {
    scheme = "ws://";
    rest = trimmed + 5;
  } else {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "OPENAI_BASE_URL '%s' is not an http(s):// or ws(s):// URL", base_url);
    return NULL;
  }
  if (*rest == '\0' || *rest == '/') {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "OPENAI_BASE_URL '%s' has no host", base_url);
    return NULL;
  }
  if (g_str_has_suffix (rest, "/realtime"))
    return g_strconcat (scheme, rest, NULL);
  return g_strconcat (scheme, rest, "/realtime", NULL);
}

gchar *
bridge_normalize_public_url (const gchar * url, GError ** error)
{
  g_autofree gchar *s = g_strstrip (g_strdup (url));
  g_autoptr (GUri) uri = NULL;
  gsize len;

  if (!strstr (s, "://")) {
    gchar *with_scheme = g_strconcat ("https://", s, NULL);

    g_free (s);
    s = with_scheme;
  }
  len = strlen (s);
  while (len > 0 && s[len - 1] == '/')
    s[--len] = '\0';

  uri = g_uri_parse (s, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "public URL '%s' is not a URL like https://bridge.example.com", url);
    return NULL;
  }
  if (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
      && g_strcmp0 (g_uri_get_scheme (uri), "http") != 0) {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "public URL '%s' must start with https:// (or http:// for tests)", url);
    return NULL;
  }
  if (g_uri_get_query (uri) || g_uri_get_fragment (uri)) {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "public URL '%s' must not have a query or fragment", url);
    return NULL;
  }
  return g_steal_pointer (&s);
}

/* ---- resolution ---------------------------------------------------------- */

typedef struct
{
  gchar **envp;
  GHashTable *dotenv;
} Sources;

/* Environment, then .env. An empty value counts as unset. */
static const gchar *
lookup (const Sources * src, const gchar * name)
{
  const gchar *v = g_environ_getenv (src->envp, name);

  if (v && *v)
    return v;
  if (src->dotenv) {
    v = g_hash_table_lookup (src->dotenv, name);
    if (v && *v)
      return v;
  }
  return NULL;
}

static gchar *
pick_string (const gchar * cli_value, const Sources * src,
    const gchar * env_name, const gchar * fallback)
{
  const gchar *v = cli_value;

  if (!v)
    v = lookup (src, env_name);
  if (!v)
    v = fallback;
  return g_strdup (v);
}

static gboolean
pick_int (gint cli_value, const Sources * src, const gchar * env_name,
    gint fallback, gint min, gint max, gint * out, GError ** error)
{
  const gchar *v;
  gint64 parsed;
  gchar *end = NULL;

  if (cli_value >= 0) {
    parsed = cli_value;
  } else if ((v = lookup (src, env_name))) {
    errno = 0;
    parsed = g_ascii_strtoll (v, &end, 10);
    if (errno || end == v || *end != '\0') {
      g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
          "%s='%s' is not a number", env_name, v);
      return FALSE;
    }
  } else {
    parsed = fallback;
  }
  if (parsed < min || parsed > max) {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "%s (%" G_GINT64_FORMAT ") must be between %d and %d", env_name,
        parsed, min, max);
    return FALSE;
  }
  *out = (gint) parsed;
  return TRUE;
}

static gboolean
is_truthy (const gchar * v)
{
  return v && (g_ascii_strcasecmp (v, "1") == 0
      || g_ascii_strcasecmp (v, "true") == 0
      || g_ascii_strcasecmp (v, "yes") == 0);
}

BridgeConfig *
bridge_config_resolve (const BridgeCliOptions * cli, gchar ** envp,
    GHashTable * dotenv, GError ** error)
{
  g_autoptr (BridgeConfig) c = g_new0 (BridgeConfig, 1);
  Sources src = { envp, dotenv };
  g_autofree gchar *public_url = NULL;
  g_autofree gchar *instructions_file = NULL;
  g_autofree gchar *log_format = NULL;
  g_autofree gchar *pipeline = NULL;
  g_autofree gchar *base_url = NULL;
  g_autofree gchar *explicit_url = NULL;

  if (!pick_int (cli->port, &src, "PORT", BRIDGE_DEFAULT_PORT, 0, 65535,
          &c->port, error)
      || !pick_int (cli->max_calls, &src, "MAX_CALLS",
          BRIDGE_DEFAULT_MAX_CALLS, 1, 100000, &c->max_calls, error)
      || !pick_int (cli->shutdown_timeout_s, &src, "SHUTDOWN_TIMEOUT",
          BRIDGE_DEFAULT_SHUTDOWN_TIMEOUT_S, 0, 86400, &c->shutdown_timeout_s,
          error)
      || !pick_int (cli->hangup_timeout_s, &src, "HANGUP_TIMEOUT",
          BRIDGE_DEFAULT_HANGUP_TIMEOUT_S, 0, 3600, &c->hangup_timeout_s, error)
      || !pick_int (cli->max_message_size, &src, "MAX_MESSAGE_SIZE",
          BRIDGE_DEFAULT_MAX_MESSAGE_SIZE, 1024, 64 * 1024 * 1024,
          &c->max_message_size, error)
      || !pick_int (cli->call_loops, &src, "CALL_LOOPS",
          BRIDGE_DEFAULT_CALL_LOOPS, 0, BRIDGE_MAX_CALL_LOOPS, &c->call_loops,
          error))
    return NULL;

  c->address = pick_string (cli->address, &src, "BRIDGE_ADDRESS", NULL);
  public_url = pick_string (cli->public_url, &src, "PUBLIC_URL", NULL);
  if (public_url) {
    c->public_url = bridge_normalize_public_url (public_url, error);
    if (!c->public_url)
      return NULL;
  }

  c->model = pick_string (cli->model, &src, "OPENAI_REALTIME_MODEL",
      BRIDGE_DEFAULT_MODEL);
  c->voice = pick_string (cli->voice, &src, "VOICE", NULL);
  c->greeting = pick_string (cli->greeting, &src, "GREETING", NULL);
  c->transcription_model = pick_string (cli->transcription_model, &src,
      "TRANSCRIPTION_MODEL", NULL);
  c->turn_detection = pick_string (cli->turn_detection, &src,
      "TURN_DETECTION", NULL);
  if (c->turn_detection && !g_str_equal (c->turn_detection, "server-vad")
      && !g_str_equal (c->turn_detection, "semantic-vad")
      && !g_str_equal (c->turn_detection, "none")) {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "turn detection '%s' is not one of server-vad, semantic-vad, none",
        c->turn_detection);
    return NULL;
  }

  /* Instructions: text wins over a file at the same level; the command
   * line wins over the environment. */
  if (cli->instructions) {
    c->instructions = g_strdup (cli->instructions);
  } else if (!cli->instructions_file && lookup (&src, "INSTRUCTIONS")) {
    c->instructions = g_strdup (lookup (&src, "INSTRUCTIONS"));
  } else {
    instructions_file = pick_string (cli->instructions_file, &src,
        "INSTRUCTIONS_FILE", NULL);
    if (instructions_file) {
      g_autoptr (GError) read_error = NULL;

      if (!g_file_get_contents (instructions_file, &c->instructions, NULL,
              &read_error)) {
        g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
            "cannot read the instructions file: %s", read_error->message);
        return NULL;
      }
      g_strchomp (c->instructions);
    }
  }

  log_format = pick_string (cli->log_format, &src, "LOG_FORMAT", "json");
  if (g_ascii_strcasecmp (log_format, "json") == 0) {
    c->log_format = BRIDGE_LOG_JSON;
  } else if (g_ascii_strcasecmp (log_format, "text") == 0) {
    c->log_format = BRIDGE_LOG_TEXT;
  } else {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "log format '%s' is not json or text", log_format);
    return NULL;
  }
  c->verbose = cli->verbose || is_truthy (lookup (&src, "VERBOSE"));
  c->threaded_calls = cli->threaded_calls
      || is_truthy (lookup (&src, "THREADED_CALLS"));

  c->record_dir = pick_string (cli->record_dir, &src, "RECORD_DIR", NULL);
  if (c->record_dir && strchr (c->record_dir, '"')) {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "record directory '%s' must not contain a double quote", c->record_dir);
    return NULL;
  }
  pipeline = pick_string (cli->pipeline, &src, "BRIDGE_PIPELINE", "transcode");
  if (g_str_equal (pipeline, "transcode")) {
    c->pipeline_name = g_strdup ("transcode");
    c->pipeline = g_strdup (c->record_dir ? transcode_record :
        BRIDGE_PIPELINE_TRANSCODE);
  } else if (g_str_equal (pipeline, "passthrough")) {
    c->pipeline_name = g_strdup ("passthrough");
    c->pipeline = g_strdup (c->record_dir ? passthrough_record :
        BRIDGE_PIPELINE_PASSTHROUGH);
  } else {
    c->pipeline_name = g_strdup ("custom");
    c->pipeline = g_steal_pointer (&pipeline);
    if (!strstr (c->pipeline, "twiliosrc")) {
      g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
          "the pipeline template has no twiliosrc to receive the call");
      return NULL;
    }
  }

  /* Secrets come only from the environment or .env, never argv (which
   * any local user can read in /proc). */
  c->api_key = g_strdup (lookup (&src, "OPENAI_API_KEY"));
  c->twilio_auth_token = g_strdup (lookup (&src, "TWILIO_AUTH_TOKEN"));
  c->access_token = g_strdup (lookup (&src, "BRIDGE_ACCESS_TOKEN"));

  explicit_url = pick_string (cli->realtime_url, &src, "OPENAI_REALTIME_URL",
      NULL);
  base_url = g_strdup (lookup (&src, "OPENAI_BASE_URL"));
  if (explicit_url) {
    c->model_mode = BRIDGE_MODEL_CUSTOM_URL;
    c->realtime_url = g_steal_pointer (&explicit_url);
  } else if (c->api_key) {
    c->model_mode = BRIDGE_MODEL_OPENAI;
    if (base_url) {
      c->realtime_url = bridge_realtime_url_from_base_url (base_url, error);
      if (!c->realtime_url)
        return NULL;
    } else {
      c->realtime_url = g_strdup ("wss://api.openai.com/v1/realtime");
    }
  } else {
    c->model_mode = BRIDGE_MODEL_LOCAL;
  }

  if (c->twilio_auth_token && !c->public_url) {
    g_set_error (error, BRIDGE_CONFIG_ERROR, 1,
        "TWILIO_AUTH_TOKEN is set but no public URL is configured "
        "(--public-url or PUBLIC_URL): X-Twilio-Signature is computed over "
        "the public URL, so requests cannot be verified without it");
    return NULL;
  }
  return g_steal_pointer (&c);
}

void
bridge_config_free (BridgeConfig * c)
{
  if (!c)
    return;
  g_free (c->address);
  g_free (c->public_url);
  g_free (c->realtime_url);
  g_free (c->model);
  g_free (c->voice);
  g_free (c->instructions);
  g_free (c->greeting);
  g_free (c->turn_detection);
  g_free (c->transcription_model);
  g_free (c->pipeline);
  g_free (c->pipeline_name);
  g_free (c->record_dir);
  if (c->api_key)
    memset (c->api_key, 0, strlen (c->api_key));
  g_free (c->api_key);
  g_free (c->twilio_auth_token);
  g_free (c->access_token);
  g_free (c);
}

static gchar *
replace_all (const gchar * text, const gchar * from, const gchar * to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);

  return g_strjoinv (to, parts);
}

gchar *
bridge_config_expand_pipeline (const BridgeConfig * config,
    const gchar * call_id)
{
  g_autofree gchar *with_call = replace_all (config->pipeline, "{call}",
      call_id);

  return replace_all (with_call, "{record-dir}",
      config->record_dir ? config->record_dir : ".");
}

const gchar *
bridge_model_mode_to_string (BridgeModelMode mode)
{
  switch (mode) {
    case BRIDGE_MODEL_LOCAL:
      return "local";
    case BRIDGE_MODEL_OPENAI:
      return "openai";
    case BRIDGE_MODEL_CUSTOM_URL:
      return "custom-url";
  }
  return "unknown";
}
