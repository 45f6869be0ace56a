/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge configuration: command line > environment > .env file >
 * defaults. Pure: no I/O except reading the files the user names.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  BRIDGE_LOG_JSON,
  BRIDGE_LOG_TEXT,
} BridgeLogFormat;

typedef enum
{
  BRIDGE_MODEL_LOCAL,           /* embedded local model (no API key) */
  BRIDGE_MODEL_OPENAI,          /* OpenAI or OPENAI_BASE_URL, with a key */
  BRIDGE_MODEL_CUSTOM_URL,      /* --realtime-url given explicitly */
} BridgeModelMode;

typedef struct
{
  gint port;
  gchar *address;
  gchar *public_url;            /* normalised: scheme://host[:port], no slash */
  gchar *realtime_url;          /* NULL in local mode until the model runs */
  BridgeModelMode model_mode;
  gchar *model;
  gchar *voice;
  gchar *instructions;
  gchar *greeting;
  gchar *turn_detection;
  gchar *transcription_model;
  gchar *pipeline;              /* a gst-launch template (presets expanded) */
  gchar *pipeline_name;         /* preset name, or "custom" */
  gchar *record_dir;
  gint max_calls;
  gint shutdown_timeout_s;
  gint hangup_timeout_s;
  gint max_message_size;
  BridgeLogFormat log_format;
  gboolean verbose;
  gboolean threaded_calls;      /* no gst-realtime-bridge.loop context */
  gint call_loops;              /* loop threads for calls; 1 = the main loop */

  /* Secrets: never logged, never in /health. */
  gchar *api_key;
  gchar *twilio_auth_token;
  gchar *access_token;          /* bearer token for /logs and /metrics */
} BridgeConfig;

/* What the command line said; NULL / -1 = not given. */
typedef struct
{
  gint port;
  gchar *address;
  gchar *public_url;
  gchar *realtime_url;
  gchar *model;
  gchar *voice;
  gchar *instructions;
  gchar *instructions_file;
  gchar *greeting;
  gchar *turn_detection;
  gchar *transcription_model;
  gchar *pipeline;
  gchar *record_dir;
  gint max_calls;
  gint shutdown_timeout_s;
  gint hangup_timeout_s;
  gint max_message_size;
  gchar *log_format;
  gchar *env_file;
  gboolean verbose;
  gboolean threaded_calls;
  gint call_loops;
} BridgeCliOptions;

#define BRIDGE_DEFAULT_PORT 8080
#define BRIDGE_DEFAULT_MODEL "gpt-realtime"
#define BRIDGE_DEFAULT_MAX_CALLS 10
#define BRIDGE_DEFAULT_SHUTDOWN_TIMEOUT_S 30
#define BRIDGE_DEFAULT_HANGUP_TIMEOUT_S 5
#define BRIDGE_DEFAULT_MAX_MESSAGE_SIZE (64 * 1024)
/* Call loops: 0 = one per processor. */
#define BRIDGE_DEFAULT_CALL_LOOPS 0
#define BRIDGE_MAX_CALL_LOOPS 256

/* The presets: twiliosink marks every 60 ms instead of every frame (a third
 * of the mark messages and echoes; barge-in stays within 20 ms of what the
 * caller heard, docs/performance.md). */
#define BRIDGE_PIPELINE_TRANSCODE \
  "twiliosrc ! mulawdec ! audioresample ! audio/x-raw,rate=24000 ! " \
  "openairealtimesink  " \
  "openairealtimesrc ! audioresample ! audio/x-raw,rate=8000 ! mulawenc ! " \
  "twiliosink mark-interval=60"

#define BRIDGE_PIPELINE_PASSTHROUGH \
  "twiliosrc ! openairealtimesink  " \
  "openairealtimesrc ! audio/x-mulaw,rate=8000,channels=1 ! " \
  "twiliosink mark-interval=60"

void bridge_cli_options_init (BridgeCliOptions * cli);
void bridge_cli_options_clear (BridgeCliOptions * cli);
GOptionEntry *bridge_cli_option_entries (BridgeCliOptions * cli);
const gchar *bridge_config_help_description (void);

GHashTable *bridge_dotenv_parse (const gchar * text, GError ** error);

gchar *bridge_realtime_url_from_base_url (const gchar * base_url,
    GError ** error);
gchar *bridge_normalize_public_url (const gchar * url, GError ** error);

/* @environ: as g_get_environ(); @dotenv: may be NULL. */
BridgeConfig *bridge_config_resolve (const BridgeCliOptions * cli,
    gchar ** envp, GHashTable * dotenv, GError ** error);
void bridge_config_free (BridgeConfig * config);

/* Expands {call} and {record-dir} in a pipeline template. */
gchar *bridge_config_expand_pipeline (const BridgeConfig * config,
    const gchar * call_id);

const gchar *bridge_model_mode_to_string (BridgeModelMode mode);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BridgeConfig, bridge_config_free);

G_END_DECLS
