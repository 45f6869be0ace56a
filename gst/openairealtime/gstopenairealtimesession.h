/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session (one WebSocket) shared by the openairealtimesrc and
 * openairealtimesink of one call, found by name like the inter plugin's
 * channels. It lives on one GMainContext on which every libsoup call
 * happens: a loop of the shared pool (gstopenairealtimeloop.h), or the
 * application's call loop (the `gst-realtime-bridge.loop` GstContext). The
 * elements only call the functions below, which hand work over to that loop
 * (or run it at once when called on it) or wait on a condition that
 * gst_openai_realtime_session_set_src_flushing() wakes.
 */
#ifndef __GST_OPENAI_REALTIME_SESSION_H__
#define __GST_OPENAI_REALTIME_SESSION_H__

#include <gst/gst.h>

#include "gstopenairealtimesettings.h"
#include "realtimeprotocol.h"

G_BEGIN_DECLS

typedef struct _GstOpenAIRealtimeSession GstOpenAIRealtimeSession;

/* The GstContext an application sets on a pipeline to run a call on its own
 * loop thread (docs/design.md, "Loop-driven calls"); its structure has the
 * same name and the field "main-context" (G_TYPE_MAIN_CONTEXT). */
#define GST_OPENAI_REALTIME_LOOP_CONTEXT_TYPE "gst-realtime-bridge.loop"
#define GST_OPENAI_REALTIME_LOOP_CONTEXT_FIELD "main-context"

/* The call loop's GMainContext of @context (a new reference), or NULL if
 * @context is not a `gst-realtime-bridge.loop` context. */
GMainContext *gst_openai_realtime_loop_context_get (GstContext * context);
/* For the elements' set_context (): if @context is a loop context, its
 * GMainContext replaces *@slot under @element's object lock. */
void gst_openai_realtime_loop_context_store (GstElement * element,
    GstContext * context, GMainContext ** slot);

/* Loop-driven source: called on the session's call loop, outside every
 * session lock, when model audio, a barge-in or a fatal error is queued for
 * @src; the source then takes it with gst_openai_realtime_session_pull(). */
typedef void (*GstOpenAIRealtimeOutputFunc) (GstElement * src);

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
 * tools/session-extra JSON is invalid: nothing is connected then.
 * @call_context (may be NULL) is the element's `gst-realtime-bridge.loop`
 * context: the session that this call creates runs there instead of on a
 * pool loop; an existing session keeps its context (the first element
 * wins). */
GstOpenAIRealtimeSession *gst_openai_realtime_session_acquire (GstElement * element,
    GstOpenAIRealtimeRole role, const GstOpenAIRealtimeSettings * settings,
    GMainContext * call_context, GError ** error);
/* The call loop the session runs on, NULL when it is on a pool loop. Not a
 * new reference: valid while the session is. */
GMainContext *gst_openai_realtime_session_get_call_context (GstOpenAIRealtimeSession * session);
/* Source: be told on the call loop when there is something to pull (see
 * GstOpenAIRealtimeOutputFunc); NULL to stop. */
void gst_openai_realtime_session_set_output_func (GstOpenAIRealtimeSession * session,
    GstElement * src, GstOpenAIRealtimeOutputFunc func);
/* Detaches @element and drops its reference; the last one closes the
 * connection on the session's loop (at once when called on it) and waits
 * for that. */
void gst_openai_realtime_session_release (GstOpenAIRealtimeSession * session,
    GstElement * element, GstOpenAIRealtimeRole role);

/* A reference that keeps the session (not an element) alive, e.g. across
 * a push; the last unref closes it like the last release. */
void gst_openai_realtime_session_ref (GstOpenAIRealtimeSession * session);
void gst_openai_realtime_session_unref (GstOpenAIRealtimeSession * session);
/* A reference to the session an element keeps in *@slot (read under the
 * element's object lock), or NULL when it has none. The element calls into
 * the session with its lock released: on the call loop the session runs
 * requests at once and may post a message, which takes that lock. */
GstOpenAIRealtimeSession *gst_openai_realtime_session_ref_held (GstObject *
    element, GstOpenAIRealtimeSession ** slot);
/* The `function-call-output` action signal of both elements. */
gboolean gst_openai_realtime_element_function_call_output (GstObject * element,
    GstOpenAIRealtimeSession ** slot, const gchar * call_id,
    const gchar * output);

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
