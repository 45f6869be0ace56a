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
/* without turn detection the buffer grows until commit; bound it */
#define MAX_MANUAL_BUFFER_MS (15 * 60 * 1000)

/* ---- input audio ------------------------------------------------------ */

static guint64
input_end_ms (ModelSession * s)
{
  return (s->input_base + s->input->len) / MODEL_AUDIO_SAMPLES_PER_MS;
}

static GArray *
input_slice (ModelSession * s, guint64 from_ms, guint64 to_ms)
{
  guint64 from = from_ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint64 to = to_ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint64 end = s->input_base + s->input->len;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint16));

  from = CLAMP (from, s->input_base, end);
  to = CLAMP (to, from, end);
  g_array_append_vals (out,
      &g_array_index (s->input, gint16, from - s->input_base), to - from);
  return out;
}

static void
input_drop_before (ModelSession * s, guint64 ms)
{
  guint64 sample = ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint64 n;

  if (sample <= s->input_base)
    return;
  n = MIN (sample - s->input_base, s->input->len);
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
  input_drop_before (s, end_ms);

  item = model_session_add_item (s, item_id, "message", "user");
  item->has_audio = TRUE;

  ev = json_object_new ();
  json_object_set_string_member (ev, "type", "input_audio_buffer.committed");
  if (previous)
    json_object_set_string_member (ev, "previous_item_id", previous);
  else
    json_object_set_null_member (ev, "previous_item_id");
  json_object_set_string_member (ev, "item_id", item_id);
  model_session_send (s, ev);
  model_session_announce_item (s, item, previous);
  g_free (previous);

  if (s->params.transcription) {
    /* no ASR here: the "transcript" says what was heard, in duration */
    gchar *text = g_strdup_printf ("[heard %.1f s of speech]",
        u->speech_ms / 1000.0);
    JsonObject *usage = json_object_new ();

    ev = json_object_new ();
    json_object_set_string_member (ev, "type",
        "conversation.item.input_audio_transcription.delta");
    json_object_set_string_member (ev, "item_id", item_id);
    json_object_set_int_member (ev, "content_index", 0);
    json_object_set_string_member (ev, "delta", text);
    model_session_send (s, ev);

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
  JsonObject *ev = json_object_new ();

  if (e->type == MODEL_VAD_SPEECH_STARTED) {
    g_free (s->speech_item_id);
    s->speech_item_id = model_protocol_new_id ("item");
    json_object_set_string_member (ev, "type",
        "input_audio_buffer.speech_started");
    json_object_set_int_member (ev, "audio_start_ms", e->ms);
    json_object_set_string_member (ev, "item_id", s->speech_item_id);
    MODEL_STAT_ADD (s->server, speech_started, 1);
    model_session_send (s, ev);
    if (s->response && s->params.interrupt_response)
      model_response_cancel (s, "turn_detected");
  } else {
    ModelUtterance *u;
    gchar *item_id = s->speech_item_id ? s->speech_item_id :
        model_protocol_new_id ("item");
    guint64 start_ms = e->speech_start_ms > s->params.prefix_padding_ms ?
        e->speech_start_ms - s->params.prefix_padding_ms : 0;

    s->speech_item_id = NULL;
    json_object_set_string_member (ev, "type",
        "input_audio_buffer.speech_stopped");
    json_object_set_int_member (ev, "audio_end_ms", e->ms);
    json_object_set_string_member (ev, "item_id", item_id);
    model_session_send (s, ev);
    u = commit_input (s, item_id, start_ms, e->ms, e->speech_end_ms,
        e->speech_end_ms - e->speech_start_ms);
    g_free (item_id);
    model_session_utterance_ready (s, u, s->params.create_response);
  }
}

static gboolean
is_base64 (const gchar * text)
{
  gsize len = strlen (text);
  gsize i;

  if (len % 4 != 0)
    return FALSE;
  for (i = 0; i < len; i++) {
    gchar c = text[i];
    if (g_ascii_isalnum (c) || c == '+' || c == '/')
      continue;
    /* padding only at the end */
    if (c == '=' && i >= len - 2 && (i == len - 1 || text[len - 1] == '='))
      continue;
    return FALSE;
  }
  return TRUE;
}

void
model_input_append (ModelSession * s, JsonObject * ev, const gchar * event_id,
    gsize * logged_bytes)
{
  ModelError err = { 0, };
  const gchar *b64;
  guchar *data;
  gsize size = 0;
  guint first;
  GArray *events;
  guint i;
  guint every = s->server->opts.error_every_appends;

  if (!model_protocol_get_string (ev, "audio", "audio", TRUE, &b64, &err)) {
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
    return;
  }
  if (!is_base64 (b64)) {
    model_error_set (&err, "invalid_request_error", "invalid_value", "audio",
        "Invalid 'audio'. Expected base64-encoded audio bytes.");
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
    return;
  }
  data = g_base64_decode (b64, &size);
  *logged_bytes = size;
  if (size > MAX_APPEND_BYTES) {
    model_error_set (&err, "invalid_request_error", "invalid_value", "audio",
        "Invalid 'audio': %" G_GSIZE_FORMAT " bytes is above the limit of "
        "15 MiB per append.", size);
    model_session_send_error (s, &err, event_id);
    model_error_clear (&err);
    g_free (data);
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
  g_free (data);

  if (s->params.turn_detection != MODEL_TURN_NONE) {
    events = g_array_new (FALSE, FALSE, sizeof (ModelVadEvent));
    model_vad_push (&s->vad, &g_array_index (s->input, gint16, first),
        s->input->len - first, events);
    for (i = 0; i < events->len && !s->closing; i++)
      handle_vad_event (s, &g_array_index (events, ModelVadEvent, i));
    g_array_unref (events);
    if (!s->vad.speaking) {
      guint64 keep = s->params.prefix_padding_ms + IDLE_KEEP_EXTRA_MS;
      guint64 end = input_end_ms (s);
      if (end > keep)
        input_drop_before (s, end - keep);
    }
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
  guint64 start_ms = s->input_base / MODEL_AUDIO_SAMPLES_PER_MS;
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
  JsonObject *ev = json_object_new ();

  input_drop_before (s, input_end_ms (s));
  model_vad_reset_state (&s->vad);
  g_clear_pointer (&s->speech_item_id, g_free);
  json_object_set_string_member (ev, "type", "input_audio_buffer.cleared");
  model_session_send (s, ev);
}

/* Called by modelresponse.c once the active response is done. */
void
model_session_response_finished (ModelSession * s)
{
  ModelUtterance *u;

  if (s->closing || !s->params.create_response
      || g_queue_is_empty (&s->utterances))
    return;
  /* answer the utterance that arrived while the model was talking */
  u = g_queue_pop_tail (&s->utterances);
  g_queue_clear_full (&s->utterances, (GDestroyNotify) model_utterance_free);
  model_session_utterance_ready (s, u, TRUE);
}
