/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What openairealtimesrc pushes, the same in both of its modes: the
 * stream's start and caps (the session's output format), the continuous
 * timeline, the model's answers, the preroll silence and the barge-in
 * (flush, what the caller heard, truncate). The element, its states and
 * the two ways of driving it are in gstopenairealtimesrc.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesrcprivate.h"

#define GST_CAT_DEFAULT gst_openai_realtime_src_debug

static void
played_item_free (PlayedItem * item)
{
  g_free (item->item_id);
  g_free (item);
}

void
gst_openai_realtime_src_clear_played (GstOpenAIRealtimeSrc * self)
{
  g_queue_clear_full (&self->played, (GDestroyNotify) played_item_free);
  g_queue_init (&self->played);
}

/* ---- timeline ------------------------------------------------------------- */

/* The running time now, NONE without a clock. */
static GstClockTime
running_time_now (GstOpenAIRealtimeSrc * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now, base;

  if (clock == NULL)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (GST_ELEMENT (self));
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

static GstClockTime
timeline_position (GstOpenAIRealtimeSrc * self)
{
  if (!GST_CLOCK_TIME_IS_VALID (self->timeline_base))
    return GST_CLOCK_TIME_NONE;
  return self->timeline_base +
      gst_util_uint64_scale_int (self->timeline_samples, GST_SECOND,
      self->rate);
}

/* Puts @buf (@samples long) next on the timeline: right after what was
 * pushed, or at the running time if the source ran dry (then DISCONT,
 * nothing was played meanwhile). */
static void
timeline_append (GstOpenAIRealtimeSrc * self, GstBuffer * buf, guint64 samples)
{
  GstClockTime now = running_time_now (self);
  GstClockTime pts = timeline_position (self);

  if (!GST_CLOCK_TIME_IS_VALID (pts)
      || (GST_CLOCK_TIME_IS_VALID (now) && now > pts)) {
    self->timeline_base = GST_CLOCK_TIME_IS_VALID (now) ? now :
        (GST_CLOCK_TIME_IS_VALID (pts) ? pts : 0);
    self->timeline_samples = 0;
    pts = self->timeline_base;
    self->discont = TRUE;
  }
  self->timeline_samples += samples;

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = timeline_position (self) - pts;
  GST_BUFFER_OFFSET (buf) = GST_BUFFER_OFFSET_NONE;
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
}

/* ---- negotiation ---------------------------------------------------------- */

static gboolean
format_from_caps (GstOpenAIRealtimeSrc * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  RealtimeAudioFormat format;
  gint rate, bytes_per_sample;

  if (gst_structure_has_name (s, "audio/x-raw")) {
    format = REALTIME_AUDIO_FORMAT_PCM16;
    rate = 24000;
    bytes_per_sample = 2;
  } else if (gst_structure_has_name (s, "audio/x-mulaw")) {
    format = REALTIME_AUDIO_FORMAT_PCMU;
    rate = 8000;
    bytes_per_sample = 1;
  } else if (gst_structure_has_name (s, "audio/x-alaw")) {
    format = REALTIME_AUDIO_FORMAT_PCMA;
    rate = 8000;
    bytes_per_sample = 1;
  } else {
    return FALSE;
  }
  if (rate != self->rate && GST_CLOCK_TIME_IS_VALID (self->timeline_base)) {
    /* the timeline counts samples: restart the count at the new rate */
    self->timeline_base = timeline_position (self);
    self->timeline_samples = 0;
  }
  self->format = format;
  self->rate = rate;
  self->bytes_per_sample = bytes_per_sample;
  return TRUE;
}

/* What downstream accepts, fixated: as GstBaseSrc does. */
static gboolean
negotiate (GstOpenAIRealtimeSrc * self, GstOpenAIRealtimeSession * session)
{
  GstCaps *templ = gst_pad_get_pad_template_caps (self->srcpad);
  GstCaps *caps = gst_pad_peer_query_caps (self->srcpad, templ);
  gboolean ok;

  gst_caps_unref (templ);
  if (gst_caps_is_empty (caps)) {
    gst_caps_unref (caps);
    GST_WARNING_OBJECT (self, "downstream accepts none of our formats");
    return FALSE;
  }
  if (gst_caps_is_any (caps)) {
    gst_caps_unref (caps);
    caps = gst_pad_get_pad_template_caps (self->srcpad);
  }
  caps = gst_caps_fixate (caps);
  ok = format_from_caps (self, caps) && gst_pad_set_caps (self->srcpad, caps);
  gst_caps_unref (caps);
  if (!ok) {
    self->format = REALTIME_AUDIO_FORMAT_UNSET;
    return FALSE;
  }
  GST_INFO_OBJECT (self, "output format %s",
      realtime_audio_format_to_string (self->format));
  gst_openai_realtime_session_set_format (session,
      GST_OPENAI_REALTIME_ROLE_SRC, self->format);
  return TRUE;
}

/* Stream lock held. stream-start, caps, segment before the first buffer;
 * new caps when downstream asks for them. */
GstFlowReturn
gst_openai_realtime_src_ensure_stream (GstOpenAIRealtimeSrc * self,
    GstOpenAIRealtimeSession * session)
{
  if (!self->stream_started) {
    gchar *stream_id = gst_pad_create_stream_id (self->srcpad,
        GST_ELEMENT (self), NULL);
    GstEvent *event = gst_event_new_stream_start (stream_id);

    gst_event_set_group_id (event, gst_util_group_id_next ());
    g_free (stream_id);
    gst_pad_push_event (self->srcpad, event);
    self->stream_started = TRUE;
  }
  if ((gst_pad_check_reconfigure (self->srcpad)
          || self->format == REALTIME_AUDIO_FORMAT_UNSET)
      && !negotiate (self, session)) {
    gst_pad_mark_reconfigure (self->srcpad);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (self->need_segment) {
    gst_pad_push_event (self->srcpad, gst_event_new_segment (&self->segment));
    self->need_segment = FALSE;
  }
  return GST_FLOW_OK;
}

/* ---- items ---------------------------------------------------------------- */

/* Downstream sinks reach PLAYING only once they prerolled on something,
 * and the model says nothing until the caller spoke: without this, a
 * pipeline with a sink after this source never completes its state change
 * and the sink of the same pipeline (openairealtimesink) waits in preroll
 * forever. A GAP event is not enough: GstAudioEncoder (mulawenc) holds
 * serialized events until its next output, so a twiliosink behind it never
 * sees one. So, like interaudiosrc, a short buffer of silence flagged GAP:
 * sinks preroll on it, audio sinks do not render it, twiliosink sends one
 * frame of silence. It is timestamped at the running time and is not part
 * of any answer. */
static GstBuffer *
make_preroll_buffer (GstOpenAIRealtimeSrc * self)
{
  guint64 samples = gst_util_uint64_scale_int (PREROLL_DURATION, self->rate,
      GST_SECOND);
  gsize size = samples * self->bytes_per_sample;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  guint8 silence;

  switch (self->format) {
    case REALTIME_AUDIO_FORMAT_PCMU:
      silence = 0xff;
      break;
    case REALTIME_AUDIO_FORMAT_PCMA:
      silence = 0xd5;
      break;
    default:
      silence = 0;
      break;
  }
  gst_buffer_memset (buf, 0, silence, size);
  timeline_append (self, buf, samples);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  GST_DEBUG_OBJECT (self, "nothing to play: preroll on %" GST_TIME_FORMAT
      " of silence at %" GST_TIME_FORMAT, GST_TIME_ARGS (PREROLL_DURATION),
      GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
  return buf;
}

/* What the caller has heard, in our timeline: twiliosink answers the
 * custom query `played-position`, which converters (audioresample,
 * mulawenc) pass on, while they answer POSITION themselves with their own
 * segment position. POSITION is the fallback for other sinks, then the
 * running time. -1 if nothing is known. */
static gint64
query_heard_position (GstOpenAIRealtimeSrc * self, GstClockTime now)
{
  GstPad *pad = self->srcpad;
  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty ("played-position"));
  guint64 played;
  gint64 position = -1;

  if (gst_pad_peer_query (pad, query)
      && gst_structure_get_uint64 (gst_query_get_structure (query),
          "position", &played) && played <= G_MAXINT64) {
    gst_query_unref (query);
    GST_INFO_OBJECT (self, "downstream heard up to %" GST_TIME_FORMAT
        " (played-position)", GST_TIME_ARGS (played));
    return (gint64) played;
  }
  gst_query_unref (query);

  if (gst_pad_peer_query_position (pad, GST_FORMAT_TIME, &position)
      && position >= 0) {
    GST_INFO_OBJECT (self, "downstream heard up to %" GST_TIME_FORMAT
        " (POSITION)", GST_TIME_ARGS (position));
    return position;
  }
  position = GST_CLOCK_TIME_IS_VALID (now) ? (gint64) now : -1;
  GST_INFO_OBJECT (self, "downstream did not answer played-position nor "
      "POSITION, using the running time %" GST_STIME_FORMAT,
      GST_STIME_ARGS (position));
  return position;
}

/* The caller spoke over the model: flush downstream, learn what was heard,
 * truncate the item being played. Stream lock held. */
static void
handle_barge_in (GstOpenAIRealtimeSrc * self,
    GstOpenAIRealtimeSession * session, gboolean dropped)
{
  GstClockTime now = running_time_now (self);
  PlayedItem *last = g_queue_peek_tail (&self->played);
  gint64 position;
  GList *l;

  /* Nothing held and everything pushed already played: not speaking. */
  if (!dropped && (last == NULL || (GST_CLOCK_TIME_IS_VALID (now)
              && now >= last->end))) {
    GST_DEBUG_OBJECT (self, "speech started while silent, no barge-in");
    gst_openai_realtime_src_clear_played (self);
    return;
  }

  GST_INFO_OBJECT (self, "barge-in: flushing downstream");
  gst_pad_push_event (self->srcpad, gst_event_new_flush_start ());
  /* keep the running time: our timeline continues */
  gst_pad_push_event (self->srcpad, gst_event_new_flush_stop (FALSE));
  /* FLUSH_STOP removed the sticky segment */
  gst_pad_push_event (self->srcpad, gst_event_new_segment (&self->segment));
  self->discont = TRUE;
  /* the flush made the sinks lose their preroll */
  g_atomic_int_set (&self->need_preroll, TRUE);

  position = query_heard_position (self, now);

  /* the item the caller was hearing: the newest one that had started */
  for (l = self->played.tail; position >= 0 && l; l = l->prev) {
    PlayedItem *item = l->data;
    GstClockTime heard_end;
    gint64 audio_end_ms;

    if ((GstClockTime) position <= item->start)
      continue;
    heard_end = MIN ((GstClockTime) position, item->end);
    audio_end_ms = (gint64) ((heard_end - item->start) / GST_MSECOND);
    if (audio_end_ms <= 0)
      break;
    GST_INFO_OBJECT (self, "truncating %s at %" G_GINT64_FORMAT " ms",
        item->item_id, audio_end_ms);
    gst_openai_realtime_session_truncate (session, item->item_id, audio_end_ms);
    gst_openai_realtime_src_clear_played (self);
    return;
  }
  GST_INFO_OBJECT (self, "nothing of the interrupted answer was heard, no "
      "truncate");
  gst_openai_realtime_src_clear_played (self);
}

static GstBuffer *
make_buffer (GstOpenAIRealtimeSrc * self, GstOpenAIRealtimeAudioChunk * chunk)
{
  gsize size = g_bytes_get_size (chunk->audio);
  /* takes its own reference to the bytes */
  GstBuffer *buf = gst_buffer_new_wrapped_bytes (chunk->audio);
  PlayedItem *item = g_queue_peek_tail (&self->played);

  timeline_append (self, buf, size / self->bytes_per_sample);

  if (item == NULL || g_strcmp0 (item->item_id, chunk->item_id) != 0) {
    item = g_new0 (PlayedItem, 1);
    item->item_id = g_strdup (chunk->item_id);
    item->start = GST_BUFFER_PTS (buf);
    g_queue_push_tail (&self->played, item);
    while (g_queue_get_length (&self->played) > MAX_PLAYED_ITEMS)
      played_item_free (g_queue_pop_head (&self->played));
  }
  item->end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
  return buf;
}

/* The one handler of both modes: turns what the session gave (@result of
 * gst_openai_realtime_session_pull ()) into buffers and events downstream.
 * Stream lock held. FLOW_IDLE: there was nothing to push. */
GstFlowReturn
gst_openai_realtime_src_handle_item (GstOpenAIRealtimeSrc * self,
    GstOpenAIRealtimeSession * session, GstOpenAIRealtimePullResult result,
    GstOpenAIRealtimeAudioChunk * chunk, gboolean dropped)
{
  GstFlowReturn flow;
  GstBuffer *buf;

  switch (result) {
    case GST_OPENAI_REALTIME_PULL_FLUSHING:
      return GST_FLOW_FLUSHING;
    case GST_OPENAI_REALTIME_PULL_ERROR:
      /* the session posted the error */
      return GST_FLOW_ERROR;
    default:
      break;
  }
  flow = gst_openai_realtime_src_ensure_stream (self, session);
  if (flow != GST_FLOW_OK) {
    gst_openai_realtime_audio_chunk_free (chunk);
    return flow;
  }
  switch (result) {
    case GST_OPENAI_REALTIME_PULL_TIMEOUT:
      /* prerolling: nothing to play, so silence */
      if (!g_atomic_int_compare_and_exchange (&self->need_preroll, TRUE, FALSE))
        return FLOW_IDLE;
      buf = make_preroll_buffer (self);
      break;
    case GST_OPENAI_REALTIME_PULL_BARGE_IN:
      handle_barge_in (self, session, dropped);
      return GST_FLOW_OK;
    case GST_OPENAI_REALTIME_PULL_AUDIO:
      buf = make_buffer (self, chunk);
      gst_openai_realtime_audio_chunk_free (chunk);
      /* the buffer prerolls downstream */
      g_atomic_int_set (&self->need_preroll, FALSE);
      break;
    default:
      g_assert_not_reached ();
      return GST_FLOW_ERROR;
  }
  return gst_pad_push (self->srcpad, buf);
}

/* After a push that did not return OK: like GstBaseSrc, a fatal flow is an
 * error and the stream ends with EOS. Returns FALSE for FLUSHING (stopping
 * or pausing, nothing to say). */
void
gst_openai_realtime_src_handle_flow (GstOpenAIRealtimeSrc * self,
    GstFlowReturn flow)
{
  if (flow == GST_FLOW_FLUSHING || self->eos_sent)
    return;
  GST_DEBUG_OBJECT (self, "stream stops: %s", gst_flow_get_name (flow));
  if (flow == GST_FLOW_NOT_LINKED || flow < GST_FLOW_EOS)
    GST_ELEMENT_FLOW_ERROR (self, flow);
  self->eos_sent = TRUE;
  gst_pad_push_event (self->srcpad, gst_event_new_eos ());
}
