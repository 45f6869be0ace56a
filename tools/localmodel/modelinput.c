/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local model's input side: input_audio_buffer.append/commit/clear,
 * decoding into the 24 kHz buffer, server VAD, committing utterances and
 * deciding how each is answered. Runs on the model's loop thread only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelsession.h"

#include <string.h>

/* append payloads above this are refused, like the real API's 15 MiB */
#define MAX_APPEND_BYTES (15 * 1024 * 1024)
/* audio kept before the current position while nobody speaks */
#define IDLE_KEEP_EXTRA_MS 40
/* dropped input audio is released in chunks of this many samples (1 s) */
#define INPUT_COMPACT_SAMPLES (1000 * MODEL_AUDIO_SAMPLES_PER_MS)
/* without turn detection the buffer grows until commit; bound it */
#define MAX_MANUAL_BUFFER_MS (15 * 60 * 1000)

/* ---- input audio ------------------------------------------------------ */

static guint64
input_end_ms (ModelSession * s)
{
  return (s->input_base + s->input->len) / MODEL_AUDIO_SAMPLES_PER_MS;
}

guint64
model_input_position_ms (ModelSession * s)
{
  return input_end_ms (s);
}

static GArray *
input_slice (ModelSession * s, guint64 from_ms, guint64 to_ms)
{
  guint64 from = from_ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint64 to = to_ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint64 end = s->input_base + s->input->len;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint16));

  from = CLAMP (from, s->input_kept_from, end);
  to = CLAMP (to, from, end);
  g_array_append_vals (out,
      &g_array_index (s->input, gint16, from - s->input_base), to - from);
  return out;
}

/* Audio before @ms is gone for good; the memory is given back once a
 * second's worth is dropped, not on every append. */
static void
input_drop_before (ModelSession * s, guint64 ms)
{
  guint64 sample = ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint64 end = s->input_base + s->input->len;
  guint64 n;

  if (sample <= s->input_kept_from)
    return;
  s->input_kept_from = MIN (sample, end);
  n = s->input_kept_from - s->input_base;
  if (n < INPUT_COMPACT_SAMPLES && s->input_kept_from < end)
    return;
  g_array_remove_range (s->input, 0, n);
  s->input_base += n;
}

/* Commits input audio [start_ms, end_ms) as a user item; the echo keeps
 * [start_ms, speech_end_ms). */
static ModelUtterance *
commit_input (ModelSession * s, const gchar * item_id, guint64 start_ms,
    guint64 end_ms, guint64 speech_end_ms, guint64 speech_ms)
{
  ModelUtterance *u = g_new0 (ModelUtterance, 1);
  ModelItem *item;
  gchar *previous = g_strdup (s->last_item_id);
  JsonObject *ev;

  u->item_id = g_strdup (item_id);
  u->samples = input_slice (s, start_ms, speech_end_ms);
  u->speech_ms = speech_ms;
  u->input_ms = end_ms - start_ms;
  u->from_8k = s->params.input_format != REALTIME_AUDIO_FORMAT_PCM16;
  input_drop_before (s, end_ms);

  item = model_session_add_item (s, item_id, "message", "user");
  item->has_audio = TRUE;

  model_session_send_text (s, realtime_build_input_audio_committed (item_id,
          previous));
  model_session_announce_item (s, item, previous);
  g_free (previous);

  if (s->params.transcription) {
    /* no ASR here: the "transcript" says what was heard, in duration */
    gchar *text = g_strdup_printf ("[heard %.1f s of speech]",
        u->speech_ms / 1000.0);
    JsonObject *usage = json_object_new ();

    model_session_send_text (s, realtime_build_transcription_delta (item_id,
            text));

    /* not realtime_build_transcription_completed (): it cannot say the
     * duration billed in "usage" */
    ev = json_object_new ();
    json_object_set_string_member (ev, "type",
        "conversation.item.input_audio_transcription.completed");
    json_object_set_string_member (ev, "item_id", item_id);
    json_object_set_int_member (ev, "content_index", 0);
    json_object_set_string_member (ev, "transcript", text);
    json_object_set_string_member (usage, "type", "duration");
    json_object_set_double_member (usage, "seconds", u->input_ms / 1000.0);
    json_object_set_object_member (ev, "usage", usage);
    model_session_send (s, ev);
    g_free (item->text);
    item->text = text;
  }
  return u;
}

/* A committed utterance: answer it (or queue it behind the active
 * response), calling the tool on every Nth turn. */
void
model_session_utterance_ready (ModelSession * s, ModelUtterance * u,
    gboolean respond)
{
  guint every = s->server->opts.function_call_every;

  if (!respond) {
    g_queue_push_tail (&s->utterances, u);
    return;
  }
  if (s->response) {
    g_queue_push_tail (&s->utterances, u);
    return;
  }
  s->turns++;
  if (s->params.first_tool && s->params.tools_allowed && every > 0
      && s->turns % every == 0) {
    model_utterance_free (s->awaiting_tool);
    s->awaiting_tool = u;
    model_response_start (s, MODEL_RESPONSE_FUNCTION_CALL, NULL, NULL);
    return;
  }
  model_response_start (s, MODEL_RESPONSE_ECHO, u, NULL);
}

static void
handle_vad_event (ModelSession * s, const ModelVadEvent * e)
{
  if (e->type == MODEL_VAD_SPEECH_STARTED) {
    g_free (s->speech_item_id);
    s->speech_item_id = model_protocol_new_id ("item");
    s->idle_armed = FALSE;
    MODEL_STAT_ADD (s->server, speech_started, 1);
    model_session_send_text (s, realtime_build_speech_started (e->ms,
            s->speech_item_id));
    if (s->response && s->params.interrupt_response)
      model_response_cancel (s, "turn_detected");
  } else {
    ModelUtterance *u;
    gchar *item_id = s->speech_item_id ? s->speech_item_id :
        model_protocol_new_id ("item");
    guint64 start_ms = e->speech_start_ms > s->params.prefix_padding_ms ?
        e->speech_start_ms - s->params.prefix_padding_ms : 0;

    s->speech_item_id = NULL;
    model_session_send_text (s, realtime_build_speech_stopped (e->ms, item_id));
    u = commit_input (s, item_id, start_ms, e->ms, e->speech_end_ms,
        e->speech_end_ms - e->speech_start_ms);
    g_free (item_id);
    model_session_utterance_ready (s, u, s->params.create_response);
  }
}

/* Server VAD's idle_timeout_ms: no speech for that long after the caller
 * heard the last answer. Like the real API: timeout_triggered, the silent
 * audio committed as a user item, and a response. */
static void
check_idle_timeout (ModelSession * s)
{
  guint64 now_ms = input_end_ms (s);
  gchar *item_id;
  ModelUtterance *u;
  JsonObject *ev;

  if (!s->idle_armed || s->params.turn_detection != MODEL_TURN_SERVER_VAD
      || s->params.idle_timeout_ms == 0 || s->vad.speaking || s->response
      || now_ms < s->idle_from_ms + s->params.idle_timeout_ms)
    return;
  s->idle_armed = FALSE;
  item_id = model_protocol_new_id ("item");
  MODEL_STAT_ADD (s->server, idle_timeouts, 1);
  /* no builder in realtimeprotocol.h for this one */
  ev = json_object_new ();
  json_object_set_string_member (ev, "type",
      "input_audio_buffer.timeout_triggered");
  json_object_set_int_member (ev, "audio_start_ms", s->idle_from_ms);
  json_object_set_int_member (ev, "audio_end_ms", now_ms);
  json_object_set_string_member (ev, "item_id", item_id);
  model_session_send (s, ev);

  model_vad_reset_state (&s->vad);
  u = commit_input (s, item_id, s->idle_from_ms, now_ms, now_ms, 0);
  g_free (item_id);
  if (s->params.create_response)
    model_response_start (s, MODEL_RESPONSE_IDLE, u, NULL);
  else
    model_utterance_free (u);
}

/* An append that realtime_client_event_parse () refused: say why, in the
 * real API's words. */
void
model_input_append_rejected (ModelSession * s, JsonObject * ev,
    const gchar * event_id)
{
  ModelError err = { 0, };
  const gchar *b64;

  if (model_protocol_get_string (ev, "audio", "audio", TRUE, &b64, &err))
    model_error_set (&err, "invalid_request_error", "invalid_value", "audio",
        "Invalid 'audio'. Expected base64-encoded audio bytes.");
  model_session_send_error (s, &err, event_id);
  model_error_clear (&err);
}

void
model_input_append (ModelSession * s, GBytes * audio, const gchar * event_id)
{
  ModelError err = { 0, };
  gsize size;
  const guint8 *data = g_bytes_get_data (audio, &size);
  guint first;
  GArray *events;
  guint i;
  guint every = s->server->opts.error_every_appends;

  if (size > MAX_APPEND_BYTES) {
    model_error_set (&err, "invalid_request_error", "invalid_value", "audio",
        "Invalid 'audio': %" G_GSIZE_FORMAT " bytes is above the limit of "
        "15 MiB per append.", size);
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
    return;
  }
  s->appends++;
  g_mutex_lock (&s->server->lock);
  s->server->stats.appends++;
  s->server->stats.audio_bytes_received += size;
  g_mutex_unlock (&s->server->lock);

  first = s->input->len;
  model_audio_decode (&s->decoder, s->params.input_format, data, size,
      s->input);
  if (s->server->opts.probe && s->server->opts.probe->input_audio)
    s->server->opts.probe->input_audio (s->id,
        &g_array_index (s->input, gint16, first), s->input->len - first,
        g_get_monotonic_time (), s->server->opts.probe->user_data);

  if (s->params.turn_detection != MODEL_TURN_NONE) {
    events = s->vad_events;
    g_array_set_size (events, 0);
    model_vad_push (&s->vad, &g_array_index (s->input, gint16, first),
        s->input->len - first, events);
    for (i = 0; i < events->len && !s->closing; i++)
      handle_vad_event (s, &g_array_index (events, ModelVadEvent, i));
    if (!s->vad.speaking) {
      guint64 keep = s->params.prefix_padding_ms + IDLE_KEEP_EXTRA_MS;
      guint64 end = input_end_ms (s);
      if (end > keep)
        input_drop_before (s, end - keep);
    }
    if (!s->closing)
      check_idle_timeout (s);
  } else if (input_end_ms (s) > MAX_MANUAL_BUFFER_MS) {
    input_drop_before (s, input_end_ms (s) - MAX_MANUAL_BUFFER_MS);
  }

  if (every > 0 && s->appends % every == 0) {
    model_error_set (&err, "server_error", "injected_fault", NULL,
        "Injected fault: an error event after %" G_GUINT64_FORMAT
        " appends (error-every-appends).", s->appends);
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
  }
  if (s->fault_target && s->server->opts.close_after_appends > 0
      && s->appends >= s->server->opts.close_after_appends)
    model_session_fault_close (s, "close-after-appends");
}

void
model_input_commit (ModelSession * s, const gchar * event_id)
{
  guint64 start_ms = s->input_kept_from / MODEL_AUDIO_SAMPLES_PER_MS;
  guint64 end_ms = input_end_ms (s);
  gchar *item_id;
  ModelUtterance *u;

  if (end_ms - start_ms < 100) {
    ModelError err = { 0, };
    model_error_set (&err, "invalid_request_error",
        "input_audio_buffer_commit_empty", NULL,
        "Error committing input audio buffer: buffer too small. Expected at "
        "least 100ms of audio, but buffer only has %.2fms of audio.",
        (gdouble) (end_ms - start_ms));
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
    return;
  }
  item_id = s->speech_item_id ? s->speech_item_id :
      model_protocol_new_id ("item");
  s->speech_item_id = NULL;
  model_vad_reset_state (&s->vad);
  u = commit_input (s, item_id, start_ms, end_ms, end_ms, end_ms - start_ms);
  g_free (item_id);
  /* a manual commit creates the item but no response */
  model_session_utterance_ready (s, u, FALSE);
}

void
model_input_clear (ModelSession * s)
{
  input_drop_before (s, input_end_ms (s));
  model_vad_reset_state (&s->vad);
  g_clear_pointer (&s->speech_item_id, g_free);
  model_session_send_text (s, realtime_build_input_audio_cleared ());
}

/* Called by modelresponse.c once the active response is done. */
void
model_session_response_finished (ModelSession * s, guint64 played_until_ms)
{
  ModelUtterance *u;

  s->idle_armed = TRUE;
  s->idle_from_ms = MAX (played_until_ms, input_end_ms (s));
  if (s->closing || !s->params.create_response
      || g_queue_is_empty (&s->utterances))
    return;
  /* answer the utterance that arrived while the model was talking */
  u = g_queue_pop_tail (&s->utterances);
  g_queue_clear_full (&s->utterances, (GDestroyNotify) model_utterance_free);
  model_session_utterance_ready (s, u, TRUE);
}
