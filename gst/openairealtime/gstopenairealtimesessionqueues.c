/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Realtime session's element-facing queues: caller audio from the
 * sink toward the model (bounded, sent in order once the session is
 * ready), model audio and barge-ins toward the source (pull with a
 * deadline, or the loop-driven output callback), and the sink's and
 * source's requests (commit, truncate, function-call output) handed to
 * the session's loop. The registry, the loop and the work queue are in
 * gstopenairealtimesession.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesessionprivate.h"

#define GST_CAT_DEFAULT gst_openai_realtime_session_debug

/* Caller audio is sent in events of at most this many bytes. */
#define MAX_APPEND_BYTES (32 * 1024)

void
gst_openai_realtime_audio_chunk_free (GstOpenAIRealtimeAudioChunk * chunk)
{
  if (chunk == NULL)
    return;
  g_bytes_unref (chunk->audio);
  g_free (chunk->response_id);
  g_free (chunk->item_id);
  g_free (chunk);
}

/* ---- loop-driven source ---------------------------------------------------- */

void
gst_openai_realtime_session_set_output_func (GstOpenAIRealtimeSession * self,
    GstElement * src, GstOpenAIRealtimeOutputFunc func)
{
  g_mutex_lock (&self->lock);
  if (self->src == src)
    self->output_func = func;
  g_mutex_unlock (&self->lock);
}

void
session_notify_src (GstOpenAIRealtimeSession * self)
{
  GstElement *src = NULL;
  GstOpenAIRealtimeOutputFunc func;

  g_mutex_lock (&self->lock);
  func = self->output_func;
  if (func && self->src)
    src = gst_object_ref (self->src);
  g_mutex_unlock (&self->lock);
  if (src == NULL)
    return;
  func (src);
  gst_object_unref (src);
}

/* ---- caller audio --------------------------------------------------------- */

/* Sends the caller audio that waited for the session, in order. */
void
session_flush_input (GstOpenAIRealtimeSession * self)
{
  for (;;) {
    GQueue batch = G_QUEUE_INIT;
    gsize batch_bytes = 0;
    guint64 dropped;
    RealtimeAppendBuilder builder;

    g_mutex_lock (&self->lock);
    self->flush_scheduled = FALSE;
    dropped = self->dropped_input_bytes;
    self->dropped_input_bytes = 0;
    if (self->state != SESSION_STATE_READY) {
      self->dropped_input_bytes += dropped;
      g_mutex_unlock (&self->lock);
      return;
    }
    while (!g_queue_is_empty (&self->pending_input)) {
      GBytes *head = g_queue_peek_head (&self->pending_input);
      gsize size = g_bytes_get_size (head);

      if (batch_bytes > 0 && batch_bytes + size > MAX_APPEND_BYTES)
        break;
      g_queue_push_tail (&batch, g_queue_pop_head (&self->pending_input));
      self->pending_bytes -= size;
      batch_bytes += size;
    }
    g_mutex_unlock (&self->lock);

    if (dropped > 0) {
      g_autofree gchar *msg = g_strdup_printf ("caller audio buffer full "
          "while the session was not ready: %" G_GUINT64_FORMAT " bytes of the "
          "oldest audio were dropped", dropped);
      GST_WARNING ("session %s: %s", self->name, msg);
      session_post_error (self, "buffer_overflow", "input_dropped", msg, FALSE);
    }
    if (g_queue_is_empty (&batch))
      return;
    /* base64 of the pieces straight into the event, no joined copy */
    realtime_append_builder_init (&builder, batch_bytes);
    while (!g_queue_is_empty (&batch)) {
      GBytes *piece = g_queue_pop_head (&batch);
      gsize size;
      const guint8 *data = g_bytes_get_data (piece, &size);

      realtime_append_builder_add (&builder, data, size);
      g_bytes_unref (piece);
    }
    session_send (self, realtime_append_builder_finish (&builder));
  }
}

static void
flush_input_work (GstOpenAIRealtimeSession * self, SessionWork * work)
{
  session_flush_input (self);
}

/* ---- element API ----------------------------------------------------------- */

gboolean
gst_openai_realtime_session_push_input (GstOpenAIRealtimeSession * self,
    const guint8 * data, gsize size)
{
  gsize limit;
  guint bytes_per_ms;
  gboolean run_now = FALSE;

  g_mutex_lock (&self->lock);
  if (self->state == SESSION_STATE_FAILED) {
    g_mutex_unlock (&self->lock);
    return FALSE;
  }
  bytes_per_ms = realtime_audio_format_bytes_per_ms (self->sink_format);
  limit = (gsize) self->settings.max_buffered_ms * MAX (bytes_per_ms, 8);
  g_queue_push_tail (&self->pending_input, g_bytes_new (data, size));
  self->pending_bytes += size;
  /* bounded: beyond the limit the oldest audio goes, and is reported */
  while (self->pending_bytes > limit
      && g_queue_get_length (&self->pending_input) > 1) {
    GBytes *old = g_queue_pop_head (&self->pending_input);
    self->pending_bytes -= g_bytes_get_size (old);
    self->dropped_input_bytes += g_bytes_get_size (old);
    g_bytes_unref (old);
  }
  if (self->state == SESSION_STATE_READY && !self->flush_scheduled) {
    self->flush_scheduled = TRUE;
    run_now = session_queue_work_locked (self, flush_input_work, NULL, NULL, 0);
  }
  g_mutex_unlock (&self->lock);
  /* on the call loop (a loop-driven source upstream): sent right here */
  if (run_now)
    session_run_work (self);
  return TRUE;
}

static void
commit_work (GstOpenAIRealtimeSession * self, SessionWork * work)
{
  session_flush_input (self);
  session_send (self, realtime_build_input_audio_commit ());
  session_request_response (self, NULL);
}

void
gst_openai_realtime_session_commit_input (GstOpenAIRealtimeSession * self)
{
  session_queue_work (self, commit_work, NULL, NULL, 0);
}

GstOpenAIRealtimePullResult
gst_openai_realtime_session_pull (GstOpenAIRealtimeSession * self,
    GstOpenAIRealtimeAudioChunk ** chunk, gboolean * dropped_audio,
    gint64 deadline)
{
  GstOpenAIRealtimePullResult result;

  *chunk = NULL;
  g_mutex_lock (&self->lock);
  for (;;) {
    if (self->src_flushing) {
      result = GST_OPENAI_REALTIME_PULL_FLUSHING;
      break;
    }
    if (self->state == SESSION_STATE_FAILED) {
      result = GST_OPENAI_REALTIME_PULL_ERROR;
      break;
    }
    if (self->barge_in) {
      self->barge_in = FALSE;
      *dropped_audio = self->barge_in_dropped;
      self->barge_in_dropped = FALSE;
      result = GST_OPENAI_REALTIME_PULL_BARGE_IN;
      break;
    }
    if (!g_queue_is_empty (&self->output)) {
      *chunk = g_queue_pop_head (&self->output);
      result = GST_OPENAI_REALTIME_PULL_AUDIO;
      break;
    }
    if (deadline < 0) {
      g_cond_wait (&self->cond, &self->lock);
    } else if (!g_cond_wait_until (&self->cond, &self->lock, deadline)) {
      result = GST_OPENAI_REALTIME_PULL_TIMEOUT;
      break;
    }
  }
  g_mutex_unlock (&self->lock);
  return result;
}

void
gst_openai_realtime_session_set_src_flushing (GstOpenAIRealtimeSession * self,
    gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->src_flushing = flushing;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
truncate_work (GstOpenAIRealtimeSession * self, SessionWork * inv)
{
  GList *l;

  session_send (self, realtime_build_item_truncate (inv->a, 0, inv->value));
  session_post (self, gst_structure_new ("realtime-truncated",
          "item-id", G_TYPE_STRING, inv->a,
          "audio-end-ms", G_TYPE_INT, (gint) inv->value, NULL));
  /* the caller did not hear the rest: don't replay it as said */
  for (l = self->history.head; l; l = l->next) {
    HistoryEntry *entry = l->data;
    if (g_strcmp0 (entry->item_id, inv->a) == 0) {
      session_history_entry_free (entry);
      g_queue_delete_link (&self->history, l);
      break;
    }
  }
}

void
gst_openai_realtime_session_truncate (GstOpenAIRealtimeSession * self,
    const gchar * item_id, gint64 audio_end_ms)
{
  session_queue_work (self, truncate_work, item_id, NULL, audio_end_ms);
}

static void
function_call_output_work (GstOpenAIRealtimeSession * self, SessionWork * inv)
{
  session_history_add (self, HISTORY_FUNCTION_OUTPUT, NULL, NULL, inv->b,
      inv->a, NULL);
  if (session_get_state (self) == SESSION_STATE_READY)
    session_send (self,
        realtime_build_item_create_function_call_output (inv->a, inv->b));
  /* else the history replay on the next connection carries it */
  session_request_response (self, NULL);
}

gboolean
gst_openai_realtime_session_function_call_output (GstOpenAIRealtimeSession *
    self, const gchar * call_id, const gchar * output)
{
  if (call_id == NULL || *call_id == '\0') {
    GST_WARNING ("session %s: function-call-output without a call id",
        self->name);
    return FALSE;
  }
  if (session_get_state (self) == SESSION_STATE_FAILED)
    return FALSE;
  session_queue_work (self, function_call_output_work, call_id,
      output ? output : "", 0);
  return TRUE;
}
