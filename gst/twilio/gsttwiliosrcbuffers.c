/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * twiliosrc's timeline (see gsttwiliosrcprivate.h): buffers are placed on a
 * sample-counted timeline that follows Twilio's media `timestamp`, the
 * first aligned to the running time at which it arrived. A timestamp ahead
 * of the expected one is a gap filled with μ-law silence (up to a minute;
 * longer jumps are flagged DISCONT); one behind is absorbed. Contiguous
 * media queued together are merged into one buffer.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gsttwiliosrcprivate.h"
#include "twilioprotocol.h"

#define GST_CAT_DEFAULT gst_twilio_src_debug

/* Timestamp jitter below half a frame is not a gap. */
#define TOLERANCE_SAMPLES (TWILIO_SAMPLE_RATE / 100)
/* Longer gaps are not filled (DISCONT instead). */
#define MAX_FILL_SAMPLES (60 * TWILIO_SAMPLE_RATE)
/* Contiguous media found queued together go out as one buffer of at most
 * this much audio (a backlog after a stall is caught up in few pushes). */
#define MAX_MERGE_SAMPLES (TWILIO_SAMPLE_RATE / 5)

void
gst_twilio_src_timeline_reset (GstTwilioSrcTimeline * timeline)
{
  timeline->have_first = FALSE;
  timeline->next_offset = 0;
  timeline->discont = TRUE;
}

static GstClockTime
current_running_time (GstElement * element)
{
  GstClock *clock = gst_element_get_clock (element);
  GstClockTime now, base;

  if (clock == NULL)
    return 0;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (element);
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

GstBuffer *
gst_twilio_src_timeline_make_buffer (GstTwilioSrcTimeline * timeline,
    GstElement * element, GstTwilioStreamItem * item)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (item->payload, &size);
  guint64 fill = 0;
  GstBuffer *buf;
  GstMapInfo map;

  if (item->has_timestamp) {
    gint64 twilio_samples = (gint64) item->timestamp_ms * 8;
    gint64 target;

    if (!timeline->have_first) {
      timeline->have_first = TRUE;
      timeline->origin = twilio_samples;
      timeline->base_pts = current_running_time (element);
    }
    target = twilio_samples - timeline->origin;
    if (target > (gint64) timeline->next_offset + TOLERANCE_SAMPLES) {
      guint64 gap = target - timeline->next_offset;

      if (gap <= MAX_FILL_SAMPLES) {
        fill = gap;
        GST_DEBUG_OBJECT (element, "filling a gap of %" G_GUINT64_FORMAT
            " samples at Twilio time %" G_GUINT64_FORMAT " ms", gap,
            item->timestamp_ms);
      } else {
        GST_WARNING_OBJECT (element, "timestamp jumped by %" G_GUINT64_FORMAT
            " ms; not filled", gap / 8);
        timeline->next_offset = target;
        timeline->discont = TRUE;
      }
    } else if (target < (gint64) timeline->next_offset - TOLERANCE_SAMPLES) {
      /* Overlap: keep our continuous timeline, follow Twilio's from here. */
      GST_DEBUG_OBJECT (element, "timestamp went back by %" G_GINT64_FORMAT
          " samples", (gint64) timeline->next_offset - target);
      timeline->origin = twilio_samples - (gint64) timeline->next_offset;
    }
  } else if (!timeline->have_first) {
    timeline->have_first = TRUE;
    timeline->origin = 0;
    timeline->base_pts = current_running_time (element);
  }

  if (fill == 0) {
    /* The common case: the decoded payload becomes the buffer, no copy. */
    buf = gst_buffer_new_wrapped_bytes (item->payload);
  } else {
    buf = gst_buffer_new_allocate (NULL, fill + size, NULL);
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    memset (map.data, TWILIO_MULAW_SILENCE, fill);
    memcpy (map.data + fill, data, size);
    gst_buffer_unmap (buf, &map);
  }

  GST_BUFFER_OFFSET (buf) = timeline->next_offset;
  GST_BUFFER_OFFSET_END (buf) = timeline->next_offset + fill + size;
  GST_BUFFER_PTS (buf) = timeline->base_pts +
      gst_util_uint64_scale_int (timeline->next_offset, GST_SECOND,
      TWILIO_SAMPLE_RATE);
  GST_BUFFER_DURATION (buf) = timeline->base_pts +
      gst_util_uint64_scale_int (GST_BUFFER_OFFSET_END (buf), GST_SECOND,
      TWILIO_SAMPLE_RATE) - GST_BUFFER_PTS (buf);
  if (timeline->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    timeline->discont = FALSE;
  }
  timeline->next_offset = GST_BUFFER_OFFSET_END (buf);
  return buf;
}

/* Whether gst_twilio_src_timeline_make_buffer () would place @item right
 * after the audio pushed so far, neither filling a gap nor moving the
 * timeline: then it can share the previous buffer with timestamps
 * unchanged. */
static gboolean
continues_timeline (GstTwilioSrcTimeline * timeline, GstTwilioStreamItem * item)
{
  gint64 target;

  if (item->type != GST_TWILIO_STREAM_ITEM_MEDIA
      || g_bytes_get_size (item->payload) == 0)
    return FALSE;
  if (!item->has_timestamp)
    return TRUE;
  target = (gint64) item->timestamp_ms * 8 - timeline->origin;
  return ABS (target - (gint64) timeline->next_offset) <= TOLERANCE_SAMPLES;
}

/* Appends the contiguous media queued behind the one just made into @buf:
 * one push downstream (and one hand-off further on) for a whole batch. */
GstBuffer *
gst_twilio_src_timeline_append_contiguous (GstTwilioSrcTimeline * timeline,
    GQueue * pending, GstBuffer * buf)
{
  GstTwilioStreamItem *item;

  while ((item = g_queue_peek_head (pending))
      && continues_timeline (timeline, item)
      && GST_BUFFER_OFFSET_END (buf) - GST_BUFFER_OFFSET (buf) +
      g_bytes_get_size (item->payload) <= MAX_MERGE_SAMPLES) {
    gsize size = g_bytes_get_size (item->payload);

    g_queue_pop_head (pending);
    buf = gst_buffer_append (buf, gst_buffer_new_wrapped_bytes (item->payload));
    GST_BUFFER_OFFSET_END (buf) += size;
    GST_BUFFER_DURATION (buf) = timeline->base_pts +
        gst_util_uint64_scale_int (GST_BUFFER_OFFSET_END (buf), GST_SECOND,
        TWILIO_SAMPLE_RATE) - GST_BUFFER_PTS (buf);
    timeline->next_offset = GST_BUFFER_OFFSET_END (buf);
    gst_twilio_stream_item_free (item);
  }
  return buf;
}
