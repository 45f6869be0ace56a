/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internals of openairealtimesrc, shared by gstopenairealtimesrc.c (the
 * element: states, the streaming task of the threaded default, the drain
 * of the loop-driven mode) and gstopenairealtimesrcstream.c (what it
 * pushes: negotiation, the timeline, answers, preroll silence, barge-in).
 */
#ifndef __GST_OPENAI_REALTIME_SRC_PRIVATE_H__
#define __GST_OPENAI_REALTIME_SRC_PRIVATE_H__

#include "gstopenairealtimesrc.h"
#include "gstopenairealtimesession.h"
#include "gstopenairealtimesettings.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_openai_realtime_src_debug);

#define MAX_PLAYED_ITEMS 8

/* Silence pushed so that downstream sinks preroll (see
 * make_preroll_buffer ()): one Twilio frame. */
#define PREROLL_DURATION (20 * GST_MSECOND)

/* gst_openai_realtime_src_handle_item (): nothing to push now */
#define FLOW_IDLE GST_FLOW_CUSTOM_SUCCESS

/* Where an item's audio sits on our timeline, for the truncate. */
typedef struct
{
  gchar *item_id;
  GstClockTime start;
  GstClockTime end;
} PlayedItem;

struct _GstOpenAIRealtimeSrc
{
  GstElement parent;

  GstPad *srcpad;

  /* object lock */
  GstOpenAIRealtimeSettings settings;
  GMainContext *call_context;   /* from a gst-realtime-bridge.loop context */
  GstOpenAIRealtimeSession *session;    /* set while PAUSED or PLAYING */
  GSource *play_source;         /* loop-driven: the push at PLAYING */

  /* lock + cond: what the streaming task or the call loop may do */
  GMutex lock;
  GCond cond;
  gboolean playing;
  gboolean flushing;            /* the pad is being deactivated */
  gboolean loop_driven;         /* no task: pushed from the session's loop */

  /* stream lock */
  gboolean stream_started;
  gboolean need_segment;
  gboolean eos_sent;
  gint pending_eos;              /* atomic: EOS sent to the element */
  GstSegment segment;
  RealtimeAudioFormat format;
  gint rate;
  gint bytes_per_sample;
  GstClockTime timeline_base;   /* NONE until the first buffer */
  guint64 timeline_samples;     /* samples since timeline_base */
  gboolean discont;
  gint need_preroll;            /* atomic: downstream sinks must preroll */
  GQueue played;                /* PlayedItem */
};

/* stream lock held */
void gst_openai_realtime_src_clear_played (GstOpenAIRealtimeSrc * self);
GstFlowReturn gst_openai_realtime_src_ensure_stream (GstOpenAIRealtimeSrc * self,
    GstOpenAIRealtimeSession * session);
GstFlowReturn gst_openai_realtime_src_handle_item (GstOpenAIRealtimeSrc * self,
    GstOpenAIRealtimeSession * session, GstOpenAIRealtimePullResult result,
    GstOpenAIRealtimeAudioChunk * chunk, gboolean dropped);
void gst_openai_realtime_src_handle_flow (GstOpenAIRealtimeSrc * self, GstFlowReturn flow);

G_END_DECLS

#endif
