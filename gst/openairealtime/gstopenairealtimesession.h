/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session (one WebSocket) shared by openairealtimesrc and openairealtimesink of one call.
 * SKELETON: a refcounted registry entry by name, no network yet.
 */
#ifndef __GST_OPENAI_REALTIME_SESSION_H__
#define __GST_OPENAI_REALTIME_SESSION_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _GstOpenAIRealtimeSession GstOpenAIRealtimeSession;

GstOpenAIRealtimeSession *gst_openai_realtime_session_get (const gchar * name);
void gst_openai_realtime_session_unref (GstOpenAIRealtimeSession * session);
const gchar *gst_openai_realtime_session_get_name (GstOpenAIRealtimeSession * session);

G_END_DECLS

#endif
