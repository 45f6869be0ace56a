/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the Realtime session does with each server event, on its loop
 * thread: handshake steps, audio for the source, barge-in, transcripts,
 * function calls, errors, and the realtime-* element messages.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesessionprivate.h"

#define GST_CAT_DEFAULT gst_openai_realtime_session_debug

#define MAX_DISCARDED 16

static const gchar *
or_empty (const gchar * s)
{
  return s ? s : "";
}

void
session_post_error (GstOpenAIRealtimeSession * self, const gchar * type,
    const gchar * code, const gchar * message, gboolean fatal)
{
  session_post (self, gst_structure_new ("realtime-error",
          "type", G_TYPE_STRING, or_empty (type),
          "code", G_TYPE_STRING, or_empty (code),
          "message", G_TYPE_STRING, or_empty (message),
          "fatal", G_TYPE_BOOLEAN, fatal, NULL));
}

static gboolean
is_discarded (GstOpenAIRealtimeSession * self, const gchar * response_id)
{
  GList *l;

  for (l = self->discarded_responses.head; l; l = l->next) {
    if (g_strcmp0 (l->data, response_id) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
discard_response (GstOpenAIRealtimeSession * self, const gchar * response_id)
{
  if (response_id == NULL || is_discarded (self, response_id))
    return;
  g_queue_push_tail (&self->discarded_responses, g_strdup (response_id));
  while (g_queue_get_length (&self->discarded_responses) > MAX_DISCARDED)
    g_free (g_queue_pop_head (&self->discarded_responses));
}

static void
check_formats (GstOpenAIRealtimeSession * self, RealtimeServerEvent * ev)
{
  const RealtimeSessionConfig *want = self->sent_config;
  const RealtimeSessionConfig *got = ev->session;
  g_autofree gchar *msg = NULL;

  if (want == NULL)
    return;
  if ((got->input_format == REALTIME_AUDIO_FORMAT_UNSET
          || got->input_format == want->input_format)
      && (got->output_format == REALTIME_AUDIO_FORMAT_UNSET
          || got->output_format == want->output_format))
    return;
  msg = g_strdup_printf ("The Realtime session did not take the audio formats "
      "asked for: input %s (asked %s), output %s (asked %s)",
      or_empty (realtime_audio_format_to_string (got->input_format)),
      realtime_audio_format_to_string (want->input_format),
      or_empty (realtime_audio_format_to_string (got->output_format)),
      realtime_audio_format_to_string (want->output_format));
  session_fatal (self, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
      "format_mismatch", "format_mismatch", msg);
}

static void
handle_session_updated (GstOpenAIRealtimeSession * self,
    RealtimeServerEvent * ev)
{
  SessionState state;

  session_post (self, gst_structure_new ("realtime-session-updated",
          "input-format", G_TYPE_STRING,
          or_empty (realtime_audio_format_to_string (ev->
                  session->input_format)), "output-format", G_TYPE_STRING,
          or_empty (realtime_audio_format_to_string (ev->
                  session->output_format)), "voice", G_TYPE_STRING,
          or_empty (ev->session->voice), NULL));
  check_formats (self, ev);
  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  if (state == SESSION_STATE_WAIT_UPDATED)
    session_on_ready (self);
}

/* Caller speech while the model speaks: drop what the source holds and let
 * it flush downstream and tell us what was heard (it owns the timeline). */
static void
handle_speech_started (GstOpenAIRealtimeSession * self,
    RealtimeServerEvent * ev)
{
  gboolean dropped = FALSE;
  GList *l;

  session_post (self, gst_structure_new ("realtime-speech-started",
          "audio-start-ms", G_TYPE_INT, (gint) ev->audio_start_ms,
          "item-id", G_TYPE_STRING, or_empty (ev->item_id), NULL));
  self->speech_stopped_at = 0;
  if (!self->settings.interrupt_response)
    return;

  g_mutex_lock (&self->lock);
  if (self->src) {
    for (l = self->output.head; l; l = l->next) {
      GstOpenAIRealtimeAudioChunk *chunk = l->data;
      discard_response (self, chunk->response_id);
    }
    dropped = !g_queue_is_empty (&self->output);
    g_queue_clear_full (&self->output,
        (GDestroyNotify) gst_openai_realtime_audio_chunk_free);
    g_queue_init (&self->output);
    self->barge_in = TRUE;
    self->barge_in_dropped = dropped;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  /* the server cancels the response itself (interrupt_response); its late
   * deltas must not be played */
  discard_response (self, self->active_response_id);
  self->has_carry = FALSE;
  if (dropped)
    GST_INFO ("session %s: barge-in, dropped held model audio", self->name);
  session_notify_src (self);
}

static void
handle_audio_delta (GstOpenAIRealtimeSession * self, RealtimeServerEvent * ev)
{
  GstOpenAIRealtimeAudioChunk *chunk;
  gsize size;
  const guint8 *data;
  GBytes *audio;

  if (is_discarded (self, ev->response_id)) {
    GST_LOG ("session %s: dropping late audio of interrupted response %s",
        self->name, ev->response_id);
    return;
  }
  if (g_strcmp0 (self->first_audio_response, ev->response_id) != 0) {
    g_free (self->first_audio_response);
    self->first_audio_response = g_strdup (ev->response_id);
    self->has_carry = FALSE;
    if (self->speech_stopped_at > 0) {
      gdouble latency = (g_get_monotonic_time () - self->speech_stopped_at) /
          1000.0;
      self->speech_stopped_at = 0;
      GST_INFO ("session %s: first audio of %s %.1f ms after speech stopped",
          self->name, ev->response_id, latency);
      session_post (self, gst_structure_new ("realtime-first-audio",
              "response-id", G_TYPE_STRING, ev->response_id,
              "latency-ms", G_TYPE_DOUBLE, latency, NULL));
    }
  }

  data = g_bytes_get_data (ev->audio, &size);
  if (self->sent_config
      && self->sent_config->output_format == REALTIME_AUDIO_FORMAT_PCM16
      && (self->has_carry || size % 2 == 1)) {
    /* keep whole 16-bit samples: an odd byte waits for the next delta
     * (only then is the audio copied) */
    GByteArray *even = g_byte_array_sized_new (size + 1);
    if (self->has_carry)
      g_byte_array_append (even, &self->carry_byte, 1);
    g_byte_array_append (even, data, size);
    self->has_carry = (even->len % 2) == 1;
    if (self->has_carry) {
      self->carry_byte = even->data[even->len - 1];
      g_byte_array_set_size (even, even->len - 1);
    }
    audio = g_byte_array_free_to_bytes (even);
  } else {
    audio = g_bytes_ref (ev->audio);
  }
  if (g_bytes_get_size (audio) == 0) {
    g_bytes_unref (audio);
    return;
  }

  chunk = g_new0 (GstOpenAIRealtimeAudioChunk, 1);
  chunk->audio = audio;
  chunk->response_id = g_strdup (ev->response_id);
  chunk->item_id = g_strdup (ev->item_id);
  g_mutex_lock (&self->lock);
  if (self->src) {
    g_queue_push_tail (&self->output, chunk);
    chunk = NULL;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  if (chunk) {
    GST_LOG ("session %s: no source attached, model audio dropped", self->name);
    gst_openai_realtime_audio_chunk_free (chunk);
    return;
  }
  /* a loop-driven source pushes it from here */
  session_notify_src (self);
}

static void
post_transcript (GstOpenAIRealtimeSession * self, const gchar * role,
    const gchar * item_id, const gchar * text, gboolean final)
{
  session_post (self, gst_structure_new ("realtime-transcript",
          "role", G_TYPE_STRING, role,
          "item-id", G_TYPE_STRING, or_empty (item_id),
          "text", G_TYPE_STRING, or_empty (text),
          "final", G_TYPE_BOOLEAN, final, NULL));
}

static gboolean
is_fatal_error (RealtimeServerEvent * ev)
{
  const gchar *code = ev->error_code;

  return g_strcmp0 (code, "invalid_api_key") == 0
      || g_strcmp0 (code, "insufficient_quota") == 0
      || g_strcmp0 (code, "beta_api_shape_disabled") == 0
      || g_strcmp0 (ev->error_type, "authentication_error") == 0;
}

static void
handle_error (GstOpenAIRealtimeSession * self, RealtimeServerEvent * ev)
{
  g_autofree gchar *message = NULL;
  SessionState state;

  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);

  if (is_fatal_error (ev)) {
    GQuark domain = GST_RESOURCE_ERROR;
    gint code = g_strcmp0 (ev->error_code, "insufficient_quota") == 0 ?
        GST_RESOURCE_ERROR_NO_SPACE_LEFT : GST_RESOURCE_ERROR_NOT_AUTHORIZED;
    message = g_strdup_printf ("The Realtime API refused the session: %s (%s)",
        or_empty (ev->error_message), or_empty (ev->error_code));
    session_fatal (self, domain, code, ev->error_type, ev->error_code, message);
    return;
  }
  GST_WARNING ("session %s: server error %s/%s: %s", self->name,
      or_empty (ev->error_type), or_empty (ev->error_code),
      or_empty (ev->error_message));
  if (state == SESSION_STATE_WAIT_UPDATED) {
    /* the configuration itself was rejected: retrying cannot help */
    message = g_strdup_printf ("The Realtime API rejected session.update: %s "
        "(%s)", or_empty (ev->error_message), or_empty (ev->error_code));
    session_fatal (self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        ev->error_type, ev->error_code, message);
    return;
  }
  session_post_error (self, ev->error_type, ev->error_code,
      ev->error_message, FALSE);
  if (g_strcmp0 (ev->error_code, "conversation_already_has_active_response")
      == 0 && self->response_requested) {
    /* ours was refused: ask again after the active one */
    self->response_requested = FALSE;
    self->response_wanted = TRUE;
  } else if (g_strcmp0 (ev->error_code, "session_expired") == 0) {
    session_renew (self);
  }
}

static void
handle_event (GstOpenAIRealtimeSession * self, RealtimeServerEvent * ev)
{
  SessionState state;

  switch (ev->type) {
    case REALTIME_SERVER_SESSION_CREATED:
      g_free (self->session_id);
      self->session_id = g_strdup (ev->session_id);
      GST_INFO ("session %s: created %s", self->name, ev->session_id);
      session_post (self, gst_structure_new ("realtime-connected",
              "session-id", G_TYPE_STRING, or_empty (ev->session_id), NULL));
      g_mutex_lock (&self->lock);
      state = self->state;
      if (state == SESSION_STATE_WAIT_CREATED)
        self->state = SESSION_STATE_WAIT_FORMATS;
      g_mutex_unlock (&self->lock);
      if (state == SESSION_STATE_WAIT_CREATED) {
        session_disarm (&self->handshake_timeout);
        session_try_send_update (self);
      }
      break;
    case REALTIME_SERVER_SESSION_UPDATED:
      handle_session_updated (self, ev);
      break;
    case REALTIME_SERVER_SPEECH_STARTED:
      handle_speech_started (self, ev);
      break;
    case REALTIME_SERVER_SPEECH_STOPPED:
      self->speech_stopped_at = g_get_monotonic_time ();
      session_post (self, gst_structure_new ("realtime-speech-stopped",
              "audio-end-ms", G_TYPE_INT, (gint) ev->audio_end_ms,
              "item-id", G_TYPE_STRING, or_empty (ev->item_id), NULL));
      break;
    case REALTIME_SERVER_TRANSCRIPTION_DELTA:
      post_transcript (self, "user", ev->item_id, ev->delta, FALSE);
      break;
    case REALTIME_SERVER_TRANSCRIPTION_COMPLETED:
      post_transcript (self, "user", ev->item_id, ev->transcript, TRUE);
      session_history_add (self, HISTORY_MESSAGE, ev->item_id, "user",
          ev->transcript, NULL, NULL);
      break;
    case REALTIME_SERVER_TRANSCRIPTION_FAILED:
      session_post_error (self, or_empty (ev->error_type),
          or_empty (ev->error_code), ev->error_message ? ev->error_message :
          "input transcription failed", FALSE);
      break;
    case REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA:
      if (!is_discarded (self, ev->response_id))
        post_transcript (self, "assistant", ev->item_id, ev->delta, FALSE);
      break;
    case REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DONE:
      post_transcript (self, "assistant", ev->item_id, ev->transcript, TRUE);
      if (!is_discarded (self, ev->response_id))
        session_history_add (self, HISTORY_MESSAGE, ev->item_id, "assistant",
            ev->transcript, NULL, NULL);
      break;
    case REALTIME_SERVER_OUTPUT_TEXT_DONE:
      post_transcript (self, "assistant", ev->item_id, ev->transcript, TRUE);
      break;
    case REALTIME_SERVER_RESPONSE_CREATED:
      session_disarm (&self->response_timer);
      self->response_requested = FALSE;
      g_free (self->active_response_id);
      self->active_response_id = g_strdup (ev->response_id);
      session_post (self, gst_structure_new ("realtime-response-created",
              "response-id", G_TYPE_STRING, ev->response_id, NULL));
      break;
    case REALTIME_SERVER_RESPONSE_DONE:
      session_post (self, gst_structure_new ("realtime-response-done",
              "response-id", G_TYPE_STRING, ev->response_id,
              "status", G_TYPE_STRING, or_empty (ev->status),
              "reason", G_TYPE_STRING, or_empty (ev->reason),
              "input-tokens", G_TYPE_INT, (gint) MAX (ev->input_tokens, 0),
              "output-tokens", G_TYPE_INT, (gint) MAX (ev->output_tokens, 0),
              "total-tokens", G_TYPE_INT, (gint) MAX (ev->total_tokens, 0),
              NULL));
      if (g_strcmp0 (ev->status, "failed") == 0)
        session_post_error (self, or_empty (ev->error_type),
            or_empty (ev->error_code), "response failed", FALSE);
      if (g_strcmp0 (self->active_response_id, ev->response_id) == 0)
        g_clear_pointer (&self->active_response_id, g_free);
      if (self->response_wanted) {
        g_autofree gchar *instructions =
            g_steal_pointer (&self->wanted_instructions);
        self->response_wanted = FALSE;
        session_request_response (self, instructions);
      } else if (self->renew_pending) {
        session_renew (self);
      }
      break;
    case REALTIME_SERVER_OUTPUT_AUDIO_DELTA:
      handle_audio_delta (self, ev);
      break;
    case REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DONE:
      session_history_add (self, HISTORY_FUNCTION_CALL, ev->item_id, NULL,
          ev->arguments, ev->call_id, ev->name);
      session_post (self, gst_structure_new ("realtime-function-call",
              "name", G_TYPE_STRING, ev->name,
              "call-id", G_TYPE_STRING, ev->call_id,
              "arguments", G_TYPE_STRING, ev->arguments, NULL));
      break;
    case REALTIME_SERVER_RATE_LIMITS_UPDATED:
      session_post (self, gst_structure_new ("realtime-rate-limits",
              "limits", G_TYPE_STRING, ev->rate_limits_json, NULL));
      break;
    case REALTIME_SERVER_ERROR:
      handle_error (self, ev);
      break;
    case REALTIME_SERVER_UNKNOWN:
      GST_INFO ("session %s: unhandled server event %s", self->name,
          ev->type_name);
      session_post (self, gst_structure_new ("realtime-event",
              "type", G_TYPE_STRING, ev->type_name, NULL));
      break;
    default:
      /* conversation.*, output items, content parts, commits, audio done:
       * nothing to do beyond a log line */
      GST_LOG ("session %s: %s (item %s, response %s)", self->name,
          ev->type_name, or_empty (ev->item_id), or_empty (ev->response_id));
      break;
  }
}

void
session_handle_text (GstOpenAIRealtimeSession * self, const gchar * data,
    gsize size)
{
  g_autoptr (GError) error = NULL;
  RealtimeServerEvent *ev = realtime_server_event_parse (data, size, &error);

  if (ev == NULL) {
    g_autofree gchar *msg = g_strdup_printf ("ignored a malformed server "
        "event (%" G_GSIZE_FORMAT " bytes): %s", size, error->message);
    GST_WARNING ("session %s: %s", self->name, msg);
    session_post_error (self, "protocol", "malformed_event", msg, FALSE);
    return;
  }
  GST_LOG ("session %s: received %s", self->name, ev->type_name);
  handle_event (self, ev);
  realtime_server_event_free (ev);
}
