/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session (one WebSocket) shared by the openairealtimesrc and
 * openairealtimesink of one call, found by name like the inter plugin's
 * channels. It owns a loop thread with its own GMainContext on which every
 * libsoup call happens; the elements only call the functions below, which
 * hand work over to that thread or wait on a condition that
 * gst_openai_realtime_session_set_src_flushing() wakes.
 */
#ifndef __GST_OPENAI_REALTIME_SESSION_H__
#define __GST_OPENAI_REALTIME_SESSION_H__

#include <gst/gst.h>

#include "gstopenairealtimesettings.h"
#include "realtimeprotocol.h"

G_BEGIN_DECLS

typedef struct _GstOpenAIRealtimeSession GstOpenAIRealtimeSession;

typedef enum
{
  GST_OPENAI_REALTIME_ROLE_SRC,
  GST_OPENAI_REALTIME_ROLE_SINK,
} GstOpenAIRealtimeRole;

/* One piece of model audio for the source. */
typedef struct
{
  GBytes *audio;
  gchar *response_id;
  gchar *item_id;
} GstOpenAIRealtimeAudioChunk;

void gst_openai_realtime_audio_chunk_free (GstOpenAIRealtimeAudioChunk * chunk);

typedef enum
{
  GST_OPENAI_REALTIME_PULL_AUDIO,
  GST_OPENAI_REALTIME_PULL_BARGE_IN,
  GST_OPENAI_REALTIME_PULL_FLUSHING,
  GST_OPENAI_REALTIME_PULL_ERROR,
  GST_OPENAI_REALTIME_PULL_TIMEOUT,
} GstOpenAIRealtimePullResult;

/* Finds the session @settings->session_name or creates it, configured from
 * @settings, and attaches @element in @role. The first element to start a
 * session configures it and starts the connection. NULL with @error
 * (GST_RESOURCE_ERROR_SETTINGS) if the key is missing or malformed or the
 * tools/session-extra JSON is invalid: nothing is connected then. */
GstOpenAIRealtimeSession *gst_openai_realtime_session_acquire (GstElement * element,
    GstOpenAIRealtimeRole role, const GstOpenAIRealtimeSettings * settings, GError ** error);
/* Detaches @element and drops its reference; the last one closes the
 * connection and joins the loop thread. */
void gst_openai_realtime_session_release (GstOpenAIRealtimeSession * session,
    GstElement * element, GstOpenAIRealtimeRole role);

/* The negotiated formats; session.update waits for those of the attached
 * elements. */
void gst_openai_realtime_session_set_format (GstOpenAIRealtimeSession * session,
    GstOpenAIRealtimeRole role, RealtimeAudioFormat format);

/* Sink: queue caller audio (sent in order once the session is ready).
 * Returns FALSE when the session has failed fatally. */
gboolean gst_openai_realtime_session_push_input (GstOpenAIRealtimeSession * session,
    const guint8 * data, gsize size);
/* Sink, at EOS with turn-detection=none: commit and ask for a response. */
void gst_openai_realtime_session_commit_input (GstOpenAIRealtimeSession * session);

/* Source: waits for model audio or a barge-in, at most until @deadline
 * (g_get_monotonic_time () scale; -1 = no deadline), then TIMEOUT. On
 * BARGE_IN, *@dropped_audio tells whether held audio was thrown away. */
GstOpenAIRealtimePullResult gst_openai_realtime_session_pull (GstOpenAIRealtimeSession * session,
    GstOpenAIRealtimeAudioChunk ** chunk, gboolean * dropped_audio, gint64 deadline);
void gst_openai_realtime_session_set_src_flushing (GstOpenAIRealtimeSession * session,
    gboolean flushing);
/* Source, after a barge-in: tell the model what the caller heard. */
void gst_openai_realtime_session_truncate (GstOpenAIRealtimeSession * session,
    const gchar * item_id, gint64 audio_end_ms);

/* The function-call-output action signal. */
gboolean gst_openai_realtime_session_function_call_output (GstOpenAIRealtimeSession * session,
    const gchar * call_id, const gchar * output);

const gchar *gst_openai_realtime_session_get_name (GstOpenAIRealtimeSession * session);

G_END_DECLS

#endif
