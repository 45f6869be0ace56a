/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * twiliosrc's pushing (see the element documentation in gsttwiliosrc.c and
 * gsttwiliosrcprivate.h): pad activation, the threaded default (the pad's
 * task) and the loop-driven mode (pushes from the call loop), both through
 * one item handler, always under the pad's STREAM_LOCK.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttwiliosrcprivate.h"

#define GST_CAT_DEFAULT gst_twilio_src_debug

/* ---- pushing (the task or the call loop, STREAM_LOCK held) ------------ */

gboolean
gst_twilio_src_is_playing (GstTwilioSrc * self)
{
  gboolean playing;

  g_mutex_lock (&self->lock);
  playing = self->playing && !self->flushing;
  g_mutex_unlock (&self->lock);
  return playing;
}

/* stream-start, caps and a TIME segment, before the first buffer or EOS. */
static void
push_start_events (GstTwilioSrc * self)
{
  GstEvent *event;
  GstCaps *caps;
  GstSegment segment;
  gchar *stream_id;

  if (!self->need_start_events)
    return;
  self->need_start_events = FALSE;

  stream_id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self), NULL);
  event = gst_event_new_stream_start (stream_id);
  gst_event_set_group_id (event, gst_util_group_id_next ());
  gst_pad_push_event (self->srcpad, event);
  g_free (stream_id);

  caps = gst_pad_get_pad_template_caps (self->srcpad);
  gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
  gst_caps_unref (caps);

  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
}

static void
push_eos (GstTwilioSrc * self)
{
  push_start_events (self);
  gst_pad_push_event (self->srcpad, gst_event_new_eos ());
}

/* Turns one item (taken from the head of `pending`; contiguous media behind
 * it may join it) into a buffer or EOS and pushes it. */
static GstFlowReturn
handle_item (GstTwilioSrc * self, GstTwilioStreamItem * item)
{
  GstBuffer *buf;

  switch (item->type) {
    case GST_TWILIO_STREAM_ITEM_MEDIA:
      if (g_bytes_get_size (item->payload) == 0) {
        gst_twilio_stream_item_free (item);
        return GST_FLOW_OK;
      }
      push_start_events (self);
      buf = gst_twilio_src_timeline_make_buffer (&self->timeline,
          GST_ELEMENT (self), item);
      gst_twilio_stream_item_free (item);
      buf = gst_twilio_src_timeline_append_contiguous (&self->timeline,
          &self->pending, buf);
      return gst_pad_push (self->srcpad, buf);
    case GST_TWILIO_STREAM_ITEM_END:
    case GST_TWILIO_STREAM_ITEM_EOS:
      GST_INFO_OBJECT (self, "%s", item->type == GST_TWILIO_STREAM_ITEM_END ?
          "call ended" : "EOS requested");
      gst_twilio_stream_item_free (item);
      push_eos (self);
      return GST_FLOW_EOS;
    case GST_TWILIO_STREAM_ITEM_ERROR:
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("Twilio sent a media format this element cannot handle"),
          ("%s", item->error->message));
      gst_twilio_stream_item_free (item);
      push_eos (self);
      self->finished = TRUE;
      return GST_FLOW_ERROR;
  }
  g_assert_not_reached ();
  return GST_FLOW_ERROR;
}

/* Pushes what is pending, in order, while PLAYING. Returns FALSE once the
 * stream is over for this element (EOS, error): nothing is pushed after. */
static gboolean
push_pending (GstTwilioSrc * self)
{
  GstTwilioStreamItem *item;
  GstFlowReturn ret = GST_FLOW_OK;

  if (self->finished)
    return FALSE;
  while (ret == GST_FLOW_OK && gst_twilio_src_is_playing (self)
      && (item = g_queue_pop_head (&self->pending)))
    ret = handle_item (self, item);

  if (ret == GST_FLOW_OK)
    return TRUE;
  if (ret == GST_FLOW_FLUSHING) {
    /* Our pad is being deactivated (or downstream flushes): a state
     * change, not an error. */
    GST_DEBUG_OBJECT (self, "flushing");
    return TRUE;
  }
  /* A fatal item posted its error already (self->finished); downstream's
   * failures are reported like GstBaseSrc does. */
  if (!self->finished && (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)) {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    push_eos (self);
  }
  GST_DEBUG_OBJECT (self, "stopped pushing: %s", gst_flow_get_name (ret));
  self->finished = TRUE;
  return FALSE;
}

/* Threaded default: the pad's task waits until PLAYING with something
 * queued, and every wait wakes on flushing. */
static void
gst_twilio_src_loop (gpointer user_data)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (user_data);
  gboolean go_on = TRUE;

  g_mutex_lock (&self->lock);
  while (!self->flushing && !self->playing)
    g_cond_wait (&self->cond, &self->lock);
  go_on = !self->flushing;
  g_mutex_unlock (&self->lock);

  /* One wake-up takes everything queued; the next waits only once all of
   * it has been pushed. */
  if (go_on && g_queue_is_empty (&self->pending))
    go_on = gst_twilio_stream_pop_items (self->stream, &self->pending) ==
        GST_FLOW_OK;
  if (go_on)
    go_on = push_pending (self);
  if (!go_on)
    gst_pad_pause_task (self->srcpad);
}

/* Loop-driven: on the call loop, from the stream (items queued) or from
 * the catch-up source (PLAYING reached). */
static void
push_from_loop (GstTwilioSrc * self)
{
  gboolean active;

  GST_PAD_STREAM_LOCK (self->srcpad);
  g_mutex_lock (&self->lock);
  active = self->loop_driven && !self->flushing && self->stream != NULL;
  g_mutex_unlock (&self->lock);
  /* Not PLAYING: the items wait in the stream, in order. */
  if (active && gst_twilio_src_is_playing (self)) {
    gst_twilio_stream_take_items (self->stream, &self->pending);
    push_pending (self);
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);
}

static void
on_items_queued (GstElement * element)
{
  push_from_loop (GST_TWILIO_SRC (element));
}

static gboolean
catch_up_cb (gpointer user_data)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (user_data);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->catch_up, g_source_unref);
  g_mutex_unlock (&self->lock);
  push_from_loop (self);
  return G_SOURCE_REMOVE;
}

/* Loop-driven, on reaching PLAYING (from any thread): what came meanwhile
 * is pushed from the call loop, never from the state change. */
void
gst_twilio_src_schedule_catch_up (GstTwilioSrc * self)
{
  GSource *source;

  g_mutex_lock (&self->lock);
  if (self->catch_up == NULL && self->loop_context) {
    source = g_idle_source_new ();
    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    g_source_set_callback (source, catch_up_cb, gst_object_ref (self),
        gst_object_unref);
    self->catch_up = source;
    g_source_attach (source, self->loop_context);
  }
  g_mutex_unlock (&self->lock);
}

void
gst_twilio_src_cancel_catch_up (GstTwilioSrc * self)
{
  GSource *source;

  g_mutex_lock (&self->lock);
  source = g_steal_pointer (&self->catch_up);
  g_mutex_unlock (&self->lock);
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
  }
}

/* ---- pad activation: the task or the call loop's callback ------------- */

static void
set_flushing (GstTwilioSrc * self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (self->stream)
    gst_twilio_stream_set_src_flushing (self->stream, flushing);
}

gboolean
gst_twilio_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (parent);
  gboolean loop_driven;

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;

  g_mutex_lock (&self->lock);
  loop_driven = self->loop_driven;
  g_mutex_unlock (&self->lock);

  if (active) {
    set_flushing (self, FALSE);
    if (loop_driven) {
      gst_twilio_stream_set_items_func (self->stream, on_items_queued);
      return TRUE;
    }
    return gst_pad_start_task (pad, gst_twilio_src_loop, self, NULL);
  }

  /* Wakes the task (or makes the call loop skip us), then waits until it
   * is out of its iteration; the pad's STREAM_LOCK, taken after this by
   * the deactivation, waits for a push from the call loop in progress. */
  set_flushing (self, TRUE);
  if (self->stream)
    gst_twilio_stream_set_items_func (self->stream, NULL);
  return loop_driven ? TRUE : gst_pad_stop_task (pad);
}
