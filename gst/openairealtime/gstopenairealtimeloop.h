/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small process-wide pool of loop threads shared by the Realtime
 * sessions: by default one per CPU core, each running its own GMainContext
 * (pushed as the thread default, so that libsoup objects made there live
 * there). A session is put on the least-loaded loop when it is created and
 * stays there; a loop's thread ends when its last session leaves.
 */
#ifndef __GST_OPENAI_REALTIME_LOOP_H__
#define __GST_OPENAI_REALTIME_LOOP_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GstOpenAIRealtimeLoop GstOpenAIRealtimeLoop;

/* Environment variable overriding the number of loops (1..64). */
#define GST_OPENAI_REALTIME_LOOPS_ENV "GST_OPENAI_REALTIME_LOOPS"

/* Any thread. Returns a running loop with one more session on it. */
GstOpenAIRealtimeLoop *gst_openai_realtime_loop_acquire (void);
/* Any thread, including the loop's own: the loop's thread ends (joined, or
 * left to finish by itself when called from it) when no session is left. */
void gst_openai_realtime_loop_release (GstOpenAIRealtimeLoop * loop);

GMainContext *gst_openai_realtime_loop_get_context (GstOpenAIRealtimeLoop * loop);
GThread *gst_openai_realtime_loop_get_thread (GstOpenAIRealtimeLoop * loop);

G_END_DECLS

#endif
