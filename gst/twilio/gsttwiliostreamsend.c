/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The way of one call's stream toward Twilio (see gsttwiliostream.h): the
 * sink's audio, held until the call starts, sent as media + mark messages
 * on the I/O context; mark echoes and the played-position estimate; clear;
 * waiting until the audio has been played. Locking as described in
 * gsttwiliostreamprivate.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttwiliostreamprivate.h"
#include "twilioprotocol.h"

#define GST_CAT_DEFAULT gst_twilio_stream_debug

typedef struct
{
  GBytes *frames;
  GstClockTime start;
  GstClockTime end;
} HeldAudio;

typedef struct
{
  gchar *name;
  GstClockTime end;
  gboolean cleared;
} PendingMark;

static void
held_audio_free (HeldAudio * held)
{
  g_bytes_unref (held->frames);
  g_free (held);
}

static void
pending_mark_free (PendingMark * mark)
{
  g_free (mark->name);
  g_free (mark);
}

/* ---- sending (I/O context) -------------------------------------------- */

static gboolean
flush_out_texts (gpointer user_data)
{
  TwilioLink *link = user_data;
  GQueue texts = G_QUEUE_INIT;
  gchar *text;

  g_mutex_lock (&link->lock);
  if (link->stream) {
    GstTwilioStream *stream = link->stream;

    g_mutex_lock (&stream->lock);
    texts = stream->out_texts;
    g_queue_init (&stream->out_texts);
    stream->flush_scheduled = FALSE;
    g_mutex_unlock (&stream->lock);
  }
  GST_LOG ("sending %u messages", g_queue_get_length (&texts));
  while ((text = g_queue_pop_head (&texts))) {
    if (link->conn && soup_websocket_connection_get_state (link->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text (link->conn, text);
    g_free (text);
  }
  g_mutex_unlock (&link->lock);
  return G_SOURCE_REMOVE;
}

void
gst_twilio_stream_schedule_flush_locked (GstTwilioStream * stream)
{
  GSource *source;

  if (stream->flush_scheduled || stream->link == NULL
      || g_queue_is_empty (&stream->out_texts))
    return;
  stream->flush_scheduled = TRUE;
  /* Always deferred (never g_main_context_invoke): the caller may be a
   * callback on that very context holding the link lock. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, flush_out_texts,
      twilio_link_ref (stream->link), (GDestroyNotify) twilio_link_unref);
  g_source_attach (source, stream->link->context);
  g_source_unref (source);
}

/* The sink called on the thread that runs the link's context (the call
 * loop): the caller sends inline, once it has released stream->lock (the
 * link lock comes first), with the link returned (ref'd). Otherwise the
 * texts go out from an idle source as usual and NULL is returned. */
static TwilioLink *
flush_now_or_schedule_locked (GstTwilioStream * stream)
{
  if (stream->link && g_main_context_is_owner (stream->link->context)) {
    if (g_queue_is_empty (&stream->out_texts))
      return NULL;
    return twilio_link_ref (stream->link);
  }
  gst_twilio_stream_schedule_flush_locked (stream);
  return NULL;
}

static void
flush_inline (TwilioLink * link)
{
  if (link == NULL)
    return;
  flush_out_texts (link);
  twilio_link_unref (link);
}

static void
queue_audio_locked (GstTwilioStream * stream, GBytes * frames,
    GstClockTime start, GstClockTime end)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (frames, &size);
  PendingMark *mark = g_new0 (PendingMark, 1);
  gboolean live_marks = FALSE;
  GList *l;

  for (l = stream->marks.head; l; l = l->next)
    live_marks |= !((PendingMark *) l->data)->cleared;
  /* Twilio's queue is empty: whatever came before has been heard (or
   * cleared), so playback resumes at this audio's start. */
  if (!live_marks && GST_CLOCK_TIME_IS_VALID (start)) {
    stream->played = start;
    stream->played_at = g_get_monotonic_time ();
  }

  mark->name = g_strdup_printf ("gst-%" G_GUINT64_FORMAT,
      ++stream->mark_counter);
  mark->end = end;
  g_queue_push_tail (&stream->marks, mark);
  /* One 20 ms frame per media message (what Twilio itself sends and what
   * players handle best), one mark after all of them: mark-interval sets
   * how often the position is confirmed, not the message size. */
  while (size > 0) {
    gsize chunk = MIN (size, TWILIO_FRAME_BYTES);

    g_queue_push_tail (&stream->out_texts,
        twilio_build_media (stream->stream_sid, data, chunk));
    data += chunk;
    size -= chunk;
  }
  g_queue_push_tail (&stream->out_texts, twilio_build_mark (stream->stream_sid,
          mark->name));
}

void
gst_twilio_stream_send_held_locked (GstTwilioStream * stream)
{
  HeldAudio *held;

  while ((held = g_queue_pop_head (&stream->held))) {
    queue_audio_locked (stream, held->frames, held->start, held->end);
    held_audio_free (held);
  }
  gst_twilio_stream_schedule_flush_locked (stream);
}

/* ---- mark echoes (I/O context) ---------------------------------------- */

void
gst_twilio_stream_handle_mark_echo (GstTwilioStream * stream,
    const gchar * name)
{
  PendingMark *found = NULL;
  gboolean played = FALSE;
  GList *l;

  g_mutex_lock (&stream->lock);
  for (l = stream->marks.head; l; l = l->next) {
    if (g_str_equal (((PendingMark *) l->data)->name, name)) {
      found = l->data;
      break;
    }
  }
  if (found && found->cleared) {
    g_queue_remove (&stream->marks, found);
  } else if (found) {
    PendingMark *mark;

    /* Echoes come in order: live marks before this one were played too. */
    played = TRUE;
    while ((mark = g_queue_pop_head (&stream->marks)) != found) {
      if (mark->cleared)
        g_queue_push_tail (&stream->marks, mark);
      else
        pending_mark_free (mark);
    }
    if (GST_CLOCK_TIME_IS_VALID (found->end)) {
      stream->played = found->end;
      stream->played_at = g_get_monotonic_time ();
    }
  }
  g_cond_broadcast (&stream->cond);
  g_mutex_unlock (&stream->lock);

  if (found == NULL) {
    gst_twilio_stream_post_warning (stream,
        "Echo of a mark that was never sent", name);
    return;
  }
  pending_mark_free (found);
  gst_twilio_stream_post_structure (stream, TRUE,
      gst_structure_new ("twilio-mark", "name", G_TYPE_STRING, name, "played",
          G_TYPE_BOOLEAN, played, NULL));
}

/* ---- sink side -------------------------------------------------------- */

void
gst_twilio_stream_send_audio (GstTwilioStream * stream, GBytes * frames,
    GstClockTime start_position, GstClockTime end_position)
{
  TwilioLink *inline_link = NULL;

  g_mutex_lock (&stream->lock);
  GST_LOG ("stream %s: %" G_GSIZE_FORMAT " bytes of audio%s", stream->name,
      g_bytes_get_size (frames), stream->stream_sid
      && stream->link ? "" : " held until the call starts");
  if (stream->stream_sid == NULL || stream->link == NULL) {
    HeldAudio *held = g_new0 (HeldAudio, 1);

    held->frames = g_bytes_ref (frames);
    held->start = start_position;
    held->end = end_position;
    g_queue_push_tail (&stream->held, held);
  } else {
    queue_audio_locked (stream, frames, start_position, end_position);
    inline_link = flush_now_or_schedule_locked (stream);
  }
  g_mutex_unlock (&stream->lock);
  flush_inline (inline_link);
}

/* A mark echo says the caller has heard up to that mark; since then Twilio
 * has kept playing whatever was queued after it. So the position now is the
 * last confirmed one plus the time elapsed, but never past the next mark:
 * its echo is what would confirm that. The error is at most one mark
 * interval (where an echo is merely late), instead of up to one interval
 * plus the echo's delay behind. */
static GstClockTime
estimate_played_locked (GstTwilioStream * stream)
{
  GstClockTime next_end = GST_CLOCK_TIME_NONE;
  GstClockTime estimate;
  gint64 elapsed;
  GList *l;

  if (!GST_CLOCK_TIME_IS_VALID (stream->played))
    return GST_CLOCK_TIME_NONE;
  for (l = stream->marks.head; l; l = l->next) {
    PendingMark *mark = l->data;

    if (!mark->cleared && GST_CLOCK_TIME_IS_VALID (mark->end)
        && mark->end > stream->played) {
      next_end = mark->end;
      break;
    }
  }
  if (!GST_CLOCK_TIME_IS_VALID (next_end))
    return stream->played;      /* nothing queued: playback is idle */
  elapsed = MAX (g_get_monotonic_time () - stream->played_at, 0);
  estimate = stream->played + elapsed * GST_USECOND;
  return MIN (estimate, next_end);
}

void
gst_twilio_stream_clear (GstTwilioStream * stream)
{
  GstClockTime played;
  gchar *stream_sid;
  TwilioLink *inline_link = NULL;
  GList *l;

  g_mutex_lock (&stream->lock);
  /* What the caller heard is fixed now: the rest is dropped. */
  stream->played = estimate_played_locked (stream);
  stream->played_at = g_get_monotonic_time ();
  /* Audio not sent yet is simply forgotten; what Twilio holds is dropped
   * by the clear, and the marks it holds come back as "not played". */
  g_queue_clear_full (&stream->held, (GDestroyNotify) held_audio_free);
  g_queue_clear_full (&stream->out_texts, g_free);
  for (l = stream->marks.head; l; l = l->next)
    ((PendingMark *) l->data)->cleared = TRUE;
  if (stream->stream_sid && stream->link) {
    g_queue_push_tail (&stream->out_texts,
        twilio_build_clear (stream->stream_sid));
    inline_link = flush_now_or_schedule_locked (stream);
  }
  played = stream->played;
  stream_sid = g_strdup (stream->stream_sid ? stream->stream_sid : "");
  g_cond_broadcast (&stream->cond);
  g_mutex_unlock (&stream->lock);
  flush_inline (inline_link);

  gst_twilio_stream_post_structure (stream, TRUE,
      gst_structure_new ("twilio-clear", "played-position", G_TYPE_UINT64,
          (guint64) played, "stream-sid", G_TYPE_STRING, stream_sid, NULL));
  g_free (stream_sid);
}

GstClockTime
gst_twilio_stream_get_played_position (GstTwilioStream * stream)
{
  GstClockTime played;

  g_mutex_lock (&stream->lock);
  played = estimate_played_locked (stream);
  g_mutex_unlock (&stream->lock);
  return played;
}

static gboolean
has_unplayed_audio_locked (GstTwilioStream * stream)
{
  GList *l;

  if (!g_queue_is_empty (&stream->held))
    return TRUE;
  for (l = stream->marks.head; l; l = l->next) {
    if (!((PendingMark *) l->data)->cleared)
      return TRUE;
  }
  return FALSE;
}

GstFlowReturn
gst_twilio_stream_wait_played (GstTwilioStream * stream)
{
  GstFlowReturn ret;

  g_mutex_lock (&stream->lock);
  /* On the call loop the echoes could never arrive while we wait: nothing
   * that runs there waits for it (docs/design.md). */
  if (stream->link && g_main_context_is_owner (stream->link->context)) {
    gboolean unplayed = has_unplayed_audio_locked (stream);

    g_mutex_unlock (&stream->lock);
    if (unplayed)
      GST_WARNING ("stream %s: EOS on the call loop; not waiting until the "
          "caller heard the last audio", stream->name);
    return GST_FLOW_OK;
  }
  while (!stream->sink_flushing && !stream->closed && !stream->end_queued
      && has_unplayed_audio_locked (stream))
    g_cond_wait (&stream->cond, &stream->lock);
  ret = stream->sink_flushing ? GST_FLOW_FLUSHING : GST_FLOW_OK;
  g_mutex_unlock (&stream->lock);
  return ret;
}

void
gst_twilio_stream_set_sink_flushing (GstTwilioStream * stream,
    gboolean flushing)
{
  g_mutex_lock (&stream->lock);
  stream->sink_flushing = flushing;
  g_cond_broadcast (&stream->cond);
  g_mutex_unlock (&stream->lock);
}

void
gst_twilio_stream_reset_sink (GstTwilioStream * stream)
{
  g_mutex_lock (&stream->lock);
  g_queue_clear_full (&stream->held, (GDestroyNotify) held_audio_free);
  g_queue_clear_full (&stream->marks, (GDestroyNotify) pending_mark_free);
  stream->played = GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&stream->lock);
}

void
gst_twilio_stream_free_outbound (GstTwilioStream * stream)
{
  g_queue_clear_full (&stream->held, (GDestroyNotify) held_audio_free);
  g_queue_clear_full (&stream->out_texts, g_free);
  g_queue_clear_full (&stream->marks, (GDestroyNotify) pending_mark_free);
}
