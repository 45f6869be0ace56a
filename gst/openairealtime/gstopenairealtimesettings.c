/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Configuration properties shared by openairealtimesrc and
 * openairealtimesink (installed on both by one helper).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstopenairealtimesettings.h"

enum
{
  PROP_0,
  PROP_SESSION,
  PROP_URL,
  PROP_MODEL,
  PROP_API_KEY,
  PROP_INSTRUCTIONS,
  PROP_VOICE,
  PROP_GREETING,
  PROP_TURN_DETECTION,
  PROP_VAD_THRESHOLD,
  PROP_PREFIX_PADDING_MS,
  PROP_SILENCE_DURATION_MS,
  PROP_IDLE_TIMEOUT_MS,
  PROP_INTERRUPT_RESPONSE,
  PROP_TRANSCRIPTION_MODEL,
  PROP_NOISE_REDUCTION,
  PROP_TOOLS,
  PROP_SESSION_EXTRA,
  PROP_CONNECT_TIMEOUT,
  PROP_RESPONSE_TIMEOUT,
  PROP_RENEW_INTERVAL,
  PROP_MAX_RECONNECT_ATTEMPTS,
  PROP_MAX_BUFFERED_MS,
  PROP_LAST
};

#define DEFAULT_SESSION "default"
#define DEFAULT_TURN_DETECTION REALTIME_TURN_DETECTION_SERVER_VAD
#define DEFAULT_VAD_THRESHOLD -1.0
#define DEFAULT_PREFIX_PADDING_MS -1
#define DEFAULT_SILENCE_DURATION_MS -1
#define DEFAULT_IDLE_TIMEOUT_MS 0
#define DEFAULT_INTERRUPT_RESPONSE TRUE
#define DEFAULT_NOISE_REDUCTION REALTIME_NOISE_REDUCTION_NONE
#define DEFAULT_CONNECT_TIMEOUT 10000
#define DEFAULT_RESPONSE_TIMEOUT 10000
/* the server closes sessions after 60 minutes */
#define DEFAULT_RENEW_INTERVAL (55 * 60)
#define DEFAULT_MAX_RECONNECT_ATTEMPTS 5
#define DEFAULT_MAX_BUFFERED_MS 60000

GType
gst_openai_realtime_turn_detection_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {REALTIME_TURN_DETECTION_SERVER_VAD, "Server VAD (silence based)",
        "server-vad"},
    {REALTIME_TURN_DETECTION_SEMANTIC_VAD,
        "Semantic VAD (the model judges the end of the turn)", "semantic-vad"},
    {REALTIME_TURN_DETECTION_NONE, "No turn detection", "none"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstOpenAIRealtimeTurnDetection",
        values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_openai_realtime_noise_reduction_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {REALTIME_NOISE_REDUCTION_NONE, "No noise reduction", "none"},
    {REALTIME_NOISE_REDUCTION_NEAR_FIELD,
        "Near field (headsets, close microphones)", "near-field"},
    {REALTIME_NOISE_REDUCTION_FAR_FIELD,
          "Far field (laptops, conference rooms, phones on speaker)",
        "far-field"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstOpenAIRealtimeNoiseReduction",
        values);
    g_once_init_leave (&type, t);
  }
  return type;
}

void
gst_openai_realtime_settings_init (GstOpenAIRealtimeSettings * settings)
{
  memset (settings, 0, sizeof (*settings));
  settings->session_name = g_strdup (DEFAULT_SESSION);
  settings->url = g_strdup (GST_OPENAI_REALTIME_DEFAULT_URL);
  settings->model = g_strdup (GST_OPENAI_REALTIME_DEFAULT_MODEL);
  settings->turn_detection = DEFAULT_TURN_DETECTION;
  settings->vad_threshold = DEFAULT_VAD_THRESHOLD;
  settings->prefix_padding_ms = DEFAULT_PREFIX_PADDING_MS;
  settings->silence_duration_ms = DEFAULT_SILENCE_DURATION_MS;
  settings->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
  settings->interrupt_response = DEFAULT_INTERRUPT_RESPONSE;
  settings->noise_reduction = DEFAULT_NOISE_REDUCTION;
  settings->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT;
  settings->response_timeout_ms = DEFAULT_RESPONSE_TIMEOUT;
  settings->renew_interval_s = DEFAULT_RENEW_INTERVAL;
  settings->max_reconnect_attempts = DEFAULT_MAX_RECONNECT_ATTEMPTS;
  settings->max_buffered_ms = DEFAULT_MAX_BUFFERED_MS;
}

static void
clear_secret (gchar ** secret)
{
  if (*secret) {
    /* don't leave the key lying around in freed memory */
    memset (*secret, 0, strlen (*secret));
    g_clear_pointer (secret, g_free);
  }
}

void
gst_openai_realtime_settings_clear (GstOpenAIRealtimeSettings * settings)
{
  g_clear_pointer (&settings->session_name, g_free);
  g_clear_pointer (&settings->url, g_free);
  g_clear_pointer (&settings->model, g_free);
  clear_secret (&settings->api_key);
  g_clear_pointer (&settings->instructions, g_free);
  g_clear_pointer (&settings->voice, g_free);
  g_clear_pointer (&settings->greeting, g_free);
  g_clear_pointer (&settings->transcription_model, g_free);
  g_clear_pointer (&settings->tools, g_free);
  g_clear_pointer (&settings->session_extra, g_free);
}

void
gst_openai_realtime_settings_copy (GstOpenAIRealtimeSettings * dest,
    const GstOpenAIRealtimeSettings * src)
{
  *dest = *src;
  dest->session_name = g_strdup (src->session_name);
  dest->url = g_strdup (src->url);
  dest->model = g_strdup (src->model);
  dest->api_key = g_strdup (src->api_key);
  dest->instructions = g_strdup (src->instructions);
  dest->voice = g_strdup (src->voice);
  dest->greeting = g_strdup (src->greeting);
  dest->transcription_model = g_strdup (src->transcription_model);
  dest->tools = g_strdup (src->tools);
  dest->session_extra = g_strdup (src->session_extra);
}

#define STRING_PARAM(id, name, nick, blurb, def) \
  g_object_class_install_property (klass, id, g_param_spec_string (name, \
          nick, blurb, def, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY | \
          G_PARAM_STATIC_STRINGS))

guint
gst_openai_realtime_settings_install_properties (GObjectClass * klass)
{
  STRING_PARAM (PROP_SESSION, "session", "Session",
      "Name of the Realtime session (one WebSocket) shared by the "
      "openairealtimesrc and openairealtimesink of one call", DEFAULT_SESSION);
  STRING_PARAM (PROP_URL, "url", "URL",
      "Realtime WebSocket endpoint; ?model= is appended",
      GST_OPENAI_REALTIME_DEFAULT_URL);
  STRING_PARAM (PROP_MODEL, "model", "Model", "Realtime model",
      GST_OPENAI_REALTIME_DEFAULT_MODEL);
  g_object_class_install_property (klass, PROP_API_KEY,
      g_param_spec_string ("api-key", "API key",
          "OpenAI API key (write-only; default: the OPENAI_API_KEY "
          "environment variable)", NULL,
          G_PARAM_WRITABLE | GST_PARAM_MUTABLE_READY | G_PARAM_STATIC_STRINGS));
  STRING_PARAM (PROP_INSTRUCTIONS, "instructions", "Instructions",
      "System instructions of the model (NULL = server default)", NULL);
  STRING_PARAM (PROP_VOICE, "voice", "Voice",
      "Output voice, e.g. marin, cedar, alloy (NULL = server default)", NULL);
  STRING_PARAM (PROP_GREETING, "greeting", "Greeting",
      "If set, the model speaks first once the session is confirmed: "
      "instructions for that first response, e.g. \"Greet the caller\"", NULL);
  g_object_class_install_property (klass, PROP_TURN_DETECTION,
      g_param_spec_enum ("turn-detection", "Turn detection",
          "How the server detects the end of the caller's turn",
          GST_TYPE_OPENAI_REALTIME_TURN_DETECTION, DEFAULT_TURN_DETECTION,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_VAD_THRESHOLD,
      g_param_spec_double ("vad-threshold", "VAD threshold",
          "server-vad activation threshold 0..1 (-1 = server default)",
          -1.0, 1.0, DEFAULT_VAD_THRESHOLD,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_PREFIX_PADDING_MS,
      g_param_spec_int ("prefix-padding-ms", "Prefix padding",
          "server-vad audio kept before detected speech, ms "
          "(-1 = server default)", -1, 10000, DEFAULT_PREFIX_PADDING_MS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_SILENCE_DURATION_MS,
      g_param_spec_int ("silence-duration-ms", "Silence duration",
          "server-vad silence that ends a turn, ms (-1 = server default)",
          -1, 10000, DEFAULT_SILENCE_DURATION_MS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_IDLE_TIMEOUT_MS,
      g_param_spec_int ("idle-timeout-ms", "Idle timeout",
          "server-vad: the model speaks again after this much caller "
          "silence, ms (0 = off; the server accepts 5000..30000)", 0, 30000,
          DEFAULT_IDLE_TIMEOUT_MS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_INTERRUPT_RESPONSE,
      g_param_spec_boolean ("interrupt-response", "Interrupt response",
          "The caller's speech interrupts the model (barge-in)",
          DEFAULT_INTERRUPT_RESPONSE,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  STRING_PARAM (PROP_TRANSCRIPTION_MODEL, "transcription-model",
      "Transcription model",
      "Model transcribing the caller, e.g. gpt-4o-mini-transcribe "
      "(NULL or empty = no caller transcripts)", NULL);
  g_object_class_install_property (klass, PROP_NOISE_REDUCTION,
      g_param_spec_enum ("noise-reduction", "Noise reduction",
          "Input noise reduction", GST_TYPE_OPENAI_REALTIME_NOISE_REDUCTION,
          DEFAULT_NOISE_REDUCTION,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  STRING_PARAM (PROP_TOOLS, "tools", "Tools",
      "Function tools, a JSON array of {\"type\":\"function\",\"name\","
      "\"description\",\"parameters\"}", NULL);
  STRING_PARAM (PROP_SESSION_EXTRA, "session-extra", "Session extra",
      "A JSON object merged (deeply) into the session of session.update, "
      "for settings without a property", NULL);
  g_object_class_install_property (klass, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Time allowed for the WebSocket connect and for each handshake "
          "step (session.created, session.updated), ms", 100, 600000,
          DEFAULT_CONNECT_TIMEOUT,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_RESPONSE_TIMEOUT,
      g_param_spec_uint ("response-timeout", "Response timeout",
          "A response.create not answered by response.created within this "
          "time is reported (realtime-error, code response_timeout), ms",
          100, 600000, DEFAULT_RESPONSE_TIMEOUT,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_RENEW_INTERVAL,
      g_param_spec_uint ("renew-interval", "Renew interval",
          "Reconnect (with configuration and conversation replay) after this "
          "many seconds, before the server's 60-minute limit (0 = never)",
          0, 24 * 3600, DEFAULT_RENEW_INTERVAL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_MAX_RECONNECT_ATTEMPTS,
      g_param_spec_uint ("max-reconnect-attempts", "Max reconnect attempts",
          "Consecutive reconnect attempts after a dropped socket or a server "
          "error before giving up (0 = no reconnect)", 0, 100,
          DEFAULT_MAX_RECONNECT_ATTEMPTS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_MAX_BUFFERED_MS,
      g_param_spec_uint ("max-buffered-ms", "Max buffered",
          "Caller audio kept while the session is not ready, ms; the oldest "
          "audio beyond this is dropped with a warning", 1000, 3600000,
          DEFAULT_MAX_BUFFERED_MS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  return PROP_LAST;
}

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

gboolean
gst_openai_realtime_settings_set_property (GstOpenAIRealtimeSettings *
    settings, guint prop_id, const GValue * value)
{
  switch (prop_id) {
    case PROP_SESSION:
      set_string (&settings->session_name, value);
      if (settings->session_name == NULL)
        settings->session_name = g_strdup (DEFAULT_SESSION);
      break;
    case PROP_URL:
      set_string (&settings->url, value);
      break;
    case PROP_MODEL:
      set_string (&settings->model, value);
      break;
    case PROP_API_KEY:
      clear_secret (&settings->api_key);
      settings->api_key = g_value_dup_string (value);
      break;
    case PROP_INSTRUCTIONS:
      set_string (&settings->instructions, value);
      break;
    case PROP_VOICE:
      set_string (&settings->voice, value);
      break;
    case PROP_GREETING:
      set_string (&settings->greeting, value);
      break;
    case PROP_TURN_DETECTION:
      settings->turn_detection = g_value_get_enum (value);
      break;
    case PROP_VAD_THRESHOLD:
      settings->vad_threshold = g_value_get_double (value);
      break;
    case PROP_PREFIX_PADDING_MS:
      settings->prefix_padding_ms = g_value_get_int (value);
      break;
    case PROP_SILENCE_DURATION_MS:
      settings->silence_duration_ms = g_value_get_int (value);
      break;
    case PROP_IDLE_TIMEOUT_MS:
      settings->idle_timeout_ms = g_value_get_int (value);
      break;
    case PROP_INTERRUPT_RESPONSE:
      settings->interrupt_response = g_value_get_boolean (value);
      break;
    case PROP_TRANSCRIPTION_MODEL:
      set_string (&settings->transcription_model, value);
      break;
    case PROP_NOISE_REDUCTION:
      settings->noise_reduction = g_value_get_enum (value);
      break;
    case PROP_TOOLS:
      set_string (&settings->tools, value);
      break;
    case PROP_SESSION_EXTRA:
      set_string (&settings->session_extra, value);
      break;
    case PROP_CONNECT_TIMEOUT:
      settings->connect_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_RESPONSE_TIMEOUT:
      settings->response_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_RENEW_INTERVAL:
      settings->renew_interval_s = g_value_get_uint (value);
      break;
    case PROP_MAX_RECONNECT_ATTEMPTS:
      settings->max_reconnect_attempts = g_value_get_uint (value);
      break;
    case PROP_MAX_BUFFERED_MS:
      settings->max_buffered_ms = g_value_get_uint (value);
      break;
    default:
      return FALSE;
  }
  return TRUE;
}

gboolean
gst_openai_realtime_settings_get_property (GstOpenAIRealtimeSettings *
    settings, guint prop_id, GValue * value)
{
  switch (prop_id) {
    case PROP_SESSION:
      g_value_set_string (value, settings->session_name);
      break;
    case PROP_URL:
      g_value_set_string (value, settings->url);
      break;
    case PROP_MODEL:
      g_value_set_string (value, settings->model);
      break;
    case PROP_INSTRUCTIONS:
      g_value_set_string (value, settings->instructions);
      break;
    case PROP_VOICE:
      g_value_set_string (value, settings->voice);
      break;
    case PROP_GREETING:
      g_value_set_string (value, settings->greeting);
      break;
    case PROP_TURN_DETECTION:
      g_value_set_enum (value, settings->turn_detection);
      break;
    case PROP_VAD_THRESHOLD:
      g_value_set_double (value, settings->vad_threshold);
      break;
    case PROP_PREFIX_PADDING_MS:
      g_value_set_int (value, settings->prefix_padding_ms);
      break;
    case PROP_SILENCE_DURATION_MS:
      g_value_set_int (value, settings->silence_duration_ms);
      break;
    case PROP_IDLE_TIMEOUT_MS:
      g_value_set_int (value, settings->idle_timeout_ms);
      break;
    case PROP_INTERRUPT_RESPONSE:
      g_value_set_boolean (value, settings->interrupt_response);
      break;
    case PROP_TRANSCRIPTION_MODEL:
      g_value_set_string (value, settings->transcription_model);
      break;
    case PROP_NOISE_REDUCTION:
      g_value_set_enum (value, settings->noise_reduction);
      break;
    case PROP_TOOLS:
      g_value_set_string (value, settings->tools);
      break;
    case PROP_SESSION_EXTRA:
      g_value_set_string (value, settings->session_extra);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, settings->connect_timeout_ms);
      break;
    case PROP_RESPONSE_TIMEOUT:
      g_value_set_uint (value, settings->response_timeout_ms);
      break;
    case PROP_RENEW_INTERVAL:
      g_value_set_uint (value, settings->renew_interval_s);
      break;
    case PROP_MAX_RECONNECT_ATTEMPTS:
      g_value_set_uint (value, settings->max_reconnect_attempts);
      break;
    case PROP_MAX_BUFFERED_MS:
      g_value_set_uint (value, settings->max_buffered_ms);
      break;
    default:
      /* includes the write-only api-key */
      return FALSE;
  }
  return TRUE;
}

RealtimeSessionConfig *
gst_openai_realtime_settings_to_config (const GstOpenAIRealtimeSettings *
    settings)
{
  RealtimeSessionConfig *config = realtime_session_config_new ();

  config->instructions = g_strdup (settings->instructions);
  config->voice = g_strdup (settings->voice);
  config->turn_detection = settings->turn_detection;
  config->vad_threshold = settings->vad_threshold;
  config->prefix_padding_ms = settings->prefix_padding_ms;
  config->silence_duration_ms = settings->silence_duration_ms;
  config->idle_timeout_ms = settings->idle_timeout_ms;
  config->interrupt_response = settings->interrupt_response;
  config->transcription_model = g_strdup (settings->transcription_model);
  config->noise_reduction = settings->noise_reduction;
  config->tools_json = g_strdup (settings->tools);
  config->extra_json = g_strdup (settings->session_extra);
  return config;
}

gchar *
gst_openai_realtime_settings_resolve_api_key (const GstOpenAIRealtimeSettings
    * settings, GError ** error)
{
  const gchar *key = settings->api_key;
  const gchar *origin = "the api-key property";
  const gchar *p;

  if (key == NULL || *key == '\0') {
    key = g_getenv ("OPENAI_API_KEY");
    origin = "OPENAI_API_KEY";
  }
  if (key == NULL || *key == '\0') {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "No OpenAI API key: set the api-key property or OPENAI_API_KEY");
    return NULL;
  }
  /* It goes into an HTTP header: printable ASCII without spaces only. The
   * message names the problem, never the key. */
  for (p = key; *p; p++) {
    if (*p <= 0x20 || *p >= 0x7f) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "The OpenAI API key from %s is malformed: it contains a space, "
          "control or non-ASCII character at position %d", origin,
          (gint) (p - key));
      return NULL;
    }
  }
  if (strlen (key) < 8) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The OpenAI API key from %s is malformed: too short (%d characters)",
        origin, (gint) strlen (key));
    return NULL;
  }
  return g_strdup (key);
}
