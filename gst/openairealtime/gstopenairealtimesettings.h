/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The configuration properties shared by openairealtimesrc and
 * openairealtimesink: one helper installs them on both classes and keeps
 * their values in a plain struct that the session snapshots at start.
 */
#ifndef __GST_OPENAI_REALTIME_SETTINGS_H__
#define __GST_OPENAI_REALTIME_SETTINGS_H__

#include <gst/gst.h>

#include "realtimeprotocol.h"

G_BEGIN_DECLS

#define GST_TYPE_OPENAI_REALTIME_TURN_DETECTION (gst_openai_realtime_turn_detection_get_type ())
GType gst_openai_realtime_turn_detection_get_type (void);
#define GST_TYPE_OPENAI_REALTIME_NOISE_REDUCTION (gst_openai_realtime_noise_reduction_get_type ())
GType gst_openai_realtime_noise_reduction_get_type (void);

#define GST_OPENAI_REALTIME_DEFAULT_URL "wss://api.openai.com/v1/realtime"
#define GST_OPENAI_REALTIME_DEFAULT_MODEL "gpt-realtime"

typedef struct
{
  gchar *session_name;
  gchar *url;
  gchar *model;
  gchar *api_key;               /* never logged, never readable */
  gchar *instructions;
  gchar *voice;
  gchar *greeting;
  RealtimeTurnDetection turn_detection;
  gdouble vad_threshold;
  gint prefix_padding_ms;
  gint silence_duration_ms;
  gint idle_timeout_ms;
  gboolean interrupt_response;
  gchar *transcription_model;
  RealtimeNoiseReduction noise_reduction;
  gchar *tools;
  gchar *session_extra;
  guint connect_timeout_ms;
  guint response_timeout_ms;
  guint renew_interval_s;
  guint max_reconnect_attempts;
  guint max_buffered_ms;
} GstOpenAIRealtimeSettings;

void gst_openai_realtime_settings_init (GstOpenAIRealtimeSettings * settings);
void gst_openai_realtime_settings_clear (GstOpenAIRealtimeSettings * settings);
void gst_openai_realtime_settings_copy (GstOpenAIRealtimeSettings * dest,
    const GstOpenAIRealtimeSettings * src);

/* Installs every property with ids starting at 1; returns the next free id. */
guint gst_openai_realtime_settings_install_properties (GObjectClass * klass);
/* Return FALSE for ids that are not settings properties. Call under the
 * element's object lock. */
gboolean gst_openai_realtime_settings_set_property (GstOpenAIRealtimeSettings * settings,
    guint prop_id, const GValue * value);
gboolean gst_openai_realtime_settings_get_property (GstOpenAIRealtimeSettings * settings,
    guint prop_id, GValue * value);

/* The session configuration (formats left at their defaults). */
RealtimeSessionConfig *gst_openai_realtime_settings_to_config (const GstOpenAIRealtimeSettings * settings);

/* The api-key property, else OPENAI_API_KEY; NULL + error when missing or
 * malformed. The error never contains the key. */
gchar *gst_openai_realtime_settings_resolve_api_key (const GstOpenAIRealtimeSettings * settings,
    GError ** error);

G_END_DECLS

#endif
