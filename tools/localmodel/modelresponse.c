/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Responses of the local model's echo agent: the caller's utterance said
 * back (or a tone for a greeting), streamed as response.output_audio.delta
 * chunks at a configurable pace, and a sample function call. Event order
 * follows the GA server-VAD turn of the Realtime API reference.
 *
 * Usage is derived from durations and lengths (the real API bills audio
 * at about 10 input tokens and 20 output tokens per second):
 *   input audio tokens  = ceil (echoed input item ms / 100)
 *   input text tokens   = ceil (instruction bytes / 4)
 *   output audio tokens = ceil (audio sent ms / 50)
 *   output text tokens  = ceil (transcript bytes / 4)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "modelsession.h"

#include <math.h>
#include <string.h>

#define GREETING_TONE_MS 600
#define TEXT_ECHO_TONE_MS 400
#define IDLE_TONE_MS 500

static gint64
ceil_div (guint64 a, guint64 b)
{
  return (a + b - 1) / b;
}

void
model_response_free (ModelResponse * r)
{
  if (r->timer) {
    g_source_destroy (r->timer);
    g_source_unref (r->timer);
  }
  g_free (r->id);
  g_free (r->item_id);
  g_free (r->call_id);
  g_free (r->tool_name);
  if (r->audio)
    g_byte_array_unref (r->audio);
  g_free (r->transcript);
  g_free (r);
}

JsonObject *
model_item_to_json (ModelItem * item, const gchar * status)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "id", item->id);
  json_object_set_string_member (o, "object", "realtime.item");
  json_object_set_string_member (o, "type", item->type);
  if (strcmp (item->type, "function_call_output") == 0) {
    json_object_set_string_member (o, "call_id", item->call_id);
    json_object_set_string_member (o, "output", item->text ? item->text : "");
  } else if (strcmp (item->type, "function_call") == 0) {
    json_object_set_string_member (o, "status", status);
    json_object_set_string_member (o, "name", item->name);
    json_object_set_string_member (o, "call_id", item->call_id);
    json_object_set_string_member (o, "arguments",
        item->text ? item->text : "");
  } else {
    JsonArray *content = json_array_new ();
    JsonObject *part = json_object_new ();
    gboolean assistant = g_strcmp0 (item->role, "assistant") == 0;

    json_object_set_string_member (o, "status", status);
    json_object_set_string_member (o, "role", item->role);
    if (item->has_audio) {
      json_object_set_string_member (part, "type", assistant ?
          "output_audio" : "input_audio");
      if (item->text)
        json_object_set_string_member (part, "transcript", item->text);
      else
        json_object_set_null_member (part, "transcript");
    } else {
      json_object_set_string_member (part, "type", assistant ?
          "output_text" : "input_text");
      json_object_set_string_member (part, "text",
          item->text ? item->text : "");
    }
    json_array_add_object_element (content, part);
    json_object_set_array_member (o, "content", content);
  }
  return o;
}

/* The response object of response.created / response.done. */
static JsonObject *
response_object (ModelSession * s, ModelResponse * r, const gchar * status,
    const gchar * reason, ModelItem * item)
{
  JsonObject *o = json_object_new ();
  JsonObject *audio = json_object_new ();
  JsonObject *out = json_object_new ();
  JsonArray *modalities = json_array_new ();
  JsonArray *output = json_array_new ();

  json_object_set_string_member (o, "object", "realtime.response");
  json_object_set_string_member (o, "id", r->id);
  json_object_set_string_member (o, "status", status);
  if (reason) {
    JsonObject *details = json_object_new ();
    json_object_set_string_member (details, "type", status);
    json_object_set_string_member (details, "reason", reason);
    json_object_set_object_member (o, "status_details", details);
  } else {
    json_object_set_null_member (o, "status_details");
  }
  if (item)
    json_array_add_object_element (output, model_item_to_json (item,
            strcmp (status, "completed") == 0 ? "completed" : "incomplete"));
  json_object_set_array_member (o, "output", output);
  json_object_set_string_member (o, "conversation_id", s->conversation_id);
  json_array_add_string_element (modalities, r->text_only ? "text" : "audio");
  json_object_set_array_member (o, "output_modalities", modalities);
  json_object_set_string_member (o, "max_output_tokens", "inf");
  json_object_set_member (out, "format",
      model_protocol_format_node (r->format));
  json_object_set_string_member (out, "voice", s->params.voice);
  json_object_set_object_member (audio, "output", out);
  json_object_set_object_member (o, "audio", audio);

  if (strcmp (status, "in_progress") == 0) {
    json_object_set_null_member (o, "usage");
  } else {
    JsonObject *usage = json_object_new ();
    JsonObject *in_details = json_object_new ();
    JsonObject *cached = json_object_new ();
    JsonObject *out_details = json_object_new ();
    guint bpm = realtime_audio_format_bytes_per_ms (r->format);
    gint64 in_audio = ceil_div (r->input_audio_ms, 100);
    gint64 in_text = ceil_div (r->instructions_len, 4);
    gint64 out_audio = r->audio ? ceil_div (r->sent / bpm, 50) : 0;
    gint64 out_text = ceil_div (r->transcript ? strlen (r->transcript) : 0,
        4);

    json_object_set_int_member (usage, "total_tokens",
        in_audio + in_text + out_audio + out_text);
    json_object_set_int_member (usage, "input_tokens", in_audio + in_text);
    json_object_set_int_member (usage, "output_tokens", out_audio + out_text);
    json_object_set_int_member (in_details, "text_tokens", in_text);
    json_object_set_int_member (in_details, "audio_tokens", in_audio);
    json_object_set_int_member (in_details, "image_tokens", 0);
    json_object_set_int_member (in_details, "cached_tokens", 0);
    json_object_set_int_member (cached, "text_tokens", 0);
    json_object_set_int_member (cached, "audio_tokens", 0);
    json_object_set_int_member (cached, "image_tokens", 0);
    json_object_set_object_member (in_details, "cached_tokens_details", cached);
    json_object_set_int_member (out_details, "text_tokens", out_text);
    json_object_set_int_member (out_details, "audio_tokens", out_audio);
    json_object_set_object_member (usage, "input_token_details", in_details);
    json_object_set_object_member (usage, "output_token_details", out_details);
    json_object_set_object_member (o, "usage", usage);
  }
  json_object_set_null_member (o, "metadata");
  return o;
}

static void
send_response_event (ModelSession * s, ModelResponse * r, const gchar * type,
    const gchar * status, const gchar * reason, ModelItem * item)
{
  JsonObject *ev = json_object_new ();

  json_object_set_string_member (ev, "type", type);
  json_object_set_object_member (ev, "response",
      response_object (s, r, status, reason, item));
  model_session_send (s, ev);
}

/* An event about the response's item: response_id, item_id,
 * output_index (and content_index for content events). */
static JsonObject *
item_event (ModelResponse * r, const gchar * type, gboolean content)
{
  JsonObject *ev = json_object_new ();

  json_object_set_string_member (ev, "type", type);
  json_object_set_string_member (ev, "response_id", r->id);
  json_object_set_string_member (ev, "item_id", r->item_id);
  json_object_set_int_member (ev, "output_index", 0);
  if (content)
    json_object_set_int_member (ev, "content_index", 0);
  return ev;
}

static void
send_output_item (ModelSession * s, ModelResponse * r, ModelItem * item,
    gboolean done, const gchar * status, const gchar * previous)
{
  JsonObject *ev;
  JsonObject *json;

  if (!done && strcmp (item->type, "message") == 0) {
    model_session_send_text (s, realtime_build_output_item_added (r->id, 0,
            item->id));
  } else {
    /* the shared builders make only message items, and only completed
     * ones when done: an incomplete or text item is said here */
    ev = json_object_new ();
    json_object_set_string_member (ev, "type", done ?
        "response.output_item.done" : "response.output_item.added");
    json_object_set_string_member (ev, "response_id", r->id);
    json_object_set_int_member (ev, "output_index", 0);
    json = model_item_to_json (item, status);
    if (!done && json_object_has_member (json, "content"))
      json_object_set_array_member (json, "content", json_array_new ());
    json_object_set_object_member (ev, "item", json);
    model_session_send (s, ev);
  }

  ev = json_object_new ();
  json_object_set_string_member (ev, "type", done ?
      "conversation.item.done" : "conversation.item.added");
  if (previous)
    json_object_set_string_member (ev, "previous_item_id", previous);
  else
    json_object_set_null_member (ev, "previous_item_id");
  json = model_item_to_json (item, status);
  if (!done && json_object_has_member (json, "content"))
    json_object_set_array_member (json, "content", json_array_new ());
  json_object_set_object_member (ev, "item", json);
  model_session_send (s, ev);
}

static JsonObject *
content_part (ModelResponse * r, gboolean done)
{
  JsonObject *part = json_object_new ();
  const gchar *text = done && r->transcript ? r->transcript : "";

  json_object_set_string_member (part, "type", r->text_only ? "text" : "audio");
  json_object_set_string_member (part, r->text_only ? "text" : "transcript",
      text);
  return part;
}

static void
finish (ModelSession * s, const gchar * status, const gchar * reason)
{
  ModelResponse *r = s->response;
  ModelItem *item = g_hash_table_lookup (s->items, r->item_id);
  gboolean completed = strcmp (status, "completed") == 0;
  const gchar *item_status = completed ? "completed" : "incomplete";
  guint bpm = realtime_audio_format_bytes_per_ms (r->format);
  guint64 played_until_ms = r->began_input_ms + (r->audio ? r->sent / bpm : 0);
  JsonObject *ev;

  if (r->timer) {
    g_source_destroy (r->timer);
    g_clear_pointer (&r->timer, g_source_unref);
  }
  if (!r->begun) {
    /* cancelled while the response delay ran: it still gets created */
    send_response_event (s, r, "response.created", "in_progress", NULL, NULL);
    MODEL_STAT_ADD (s->server, responses, 1);
    item = NULL;
  } else if (item && r->kind != MODEL_RESPONSE_FUNCTION_CALL) {
    if (r->text_only) {
      ev = item_event (r, "response.output_text.done", TRUE);
      json_object_set_string_member (ev, "text", r->transcript);
      model_session_send (s, ev);
    } else {
      model_session_send_text (s, realtime_build_output_audio_done (r->id,
              r->item_id));
      model_session_send_text (s,
          realtime_build_output_audio_transcript_done (r->id, r->item_id,
              r->transcript));
    }
    ev = item_event (r, "response.content_part.done", TRUE);
    json_object_set_object_member (ev, "part", content_part (r, TRUE));
    model_session_send (s, ev);
    send_output_item (s, r, item, TRUE, item_status, NULL);
  }
  /* counted before the event, so that a client seeing it sees the count */
  if (completed)
    MODEL_STAT_ADD (s->server, responses_completed, 1);
  else
    MODEL_STAT_ADD (s->server, responses_cancelled, 1);
  send_response_event (s, r, "response.done", status, reason, item);

  s->response = NULL;
  model_response_free (r);
  model_session_response_finished (s, played_until_ms);
}

/* Sends the next chunk; finishes the response after the last one. */
static gboolean
send_chunk (ModelSession * s)
{
  ModelResponse *r = s->response;
  guint bpm = realtime_audio_format_bytes_per_ms (r->format);
  gsize chunk = MAX (s->server->opts.chunk_ms, 1) * bpm;
  gsize n = MIN (chunk, r->audio->len - r->sent);
  ModelItem *item = g_hash_table_lookup (s->items, r->item_id);

  if (n > 0) {
    const LocalModelProbe *probe = s->server->opts.probe;
    /* stamped before sending: the far end cannot see it earlier */
    gint64 sent_us = g_get_monotonic_time ();

    model_session_send_text (s, model_protocol_build_audio_delta (r->id,
            r->item_id, r->audio->data + r->sent, n));
    if (probe && probe->output_audio)
      probe->output_audio (s->id, r->id, r->sent * 1000 / bpm,
          n * 1000 / bpm, sent_us, probe->user_data);
    r->sent += n;
    s->audio_output_started = TRUE;
    if (item)
      item->audio_ms = r->sent / bpm;
  }
  if (r->sent >= r->audio->len) {
    finish (s, "completed", NULL);
    return FALSE;
  }
  return TRUE;
}

static gboolean
chunk_timeout (gpointer user_data)
{
  ModelSession *s = user_data;

  if (!send_chunk (s))
    return G_SOURCE_REMOVE;     /* finish() destroyed the source */
  return G_SOURCE_CONTINUE;
}

static void
begin_function_call (ModelSession * s, ModelResponse * r)
{
  gchar *previous = g_strdup (s->last_item_id);
  ModelItem *item = model_session_add_item (s, r->item_id, "function_call",
      NULL);
  JsonObject *ev;

  item->name = g_strdup (r->tool_name);
  item->call_id = g_strdup (r->call_id);
  send_output_item (s, r, item, FALSE, "in_progress", previous);

  ev = item_event (r, "response.function_call_arguments.delta", FALSE);
  json_object_set_string_member (ev, "call_id", r->call_id);
  json_object_set_string_member (ev, "delta", "{}");
  model_session_send (s, ev);
  model_session_send_text (s, realtime_build_function_call_arguments_done
      (r->id, r->item_id, r->call_id, r->tool_name, "{}"));
  item->text = g_strdup ("{}");
  send_output_item (s, r, item, TRUE, "completed", previous);
  g_free (previous);
  MODEL_STAT_ADD (s->server, function_calls, 1);
  finish (s, "completed", NULL);
}

static void
begin (ModelSession * s)
{
  ModelResponse *r = s->response;
  gchar *previous;
  ModelItem *item;
  JsonObject *ev;
  gchar **words;
  guint i;
  gdouble pace = s->server->opts.audio_pace;

  r->begun = TRUE;
  r->began_us = g_get_monotonic_time ();
  r->began_input_ms = model_input_position_ms (s);
  MODEL_STAT_ADD (s->server, responses, 1);
  send_response_event (s, r, "response.created", "in_progress", NULL, NULL);

  /* the real API reserves about 4096 tokens for the answer */
  model_session_send_text (s, realtime_build_rate_limits_updated (5000, 4999,
          40000, 40000 - 4096));

  if (r->kind == MODEL_RESPONSE_FUNCTION_CALL) {
    begin_function_call (s, r);
    return;
  }

  previous = g_strdup (s->last_item_id);
  item = model_session_add_item (s, r->item_id, "message", "assistant");
  item->has_audio = !r->text_only;
  item->text = g_strdup (r->transcript);
  send_output_item (s, r, item, FALSE, "in_progress", previous);
  g_free (previous);
  ev = item_event (r, "response.content_part.added", TRUE);
  json_object_set_object_member (ev, "part", content_part (r, FALSE));
  model_session_send (s, ev);

  words = g_strsplit (r->transcript, " ", -1);
  for (i = 0; words[i]; i++) {
    gchar *delta = g_strconcat (i > 0 ? " " : "", words[i], NULL);

    if (r->text_only) {
      ev = item_event (r, "response.output_text.delta", TRUE);
      json_object_set_string_member (ev, "delta", delta);
      model_session_send (s, ev);
    } else {
      model_session_send_text (s,
          realtime_build_output_audio_transcript_delta (r->id, r->item_id,
              delta));
    }
    g_free (delta);
  }
  g_strfreev (words);

  if (r->text_only) {
    finish (s, "completed", NULL);
    return;
  }
  if (pace <= 0) {
    while (send_chunk (s));
    return;
  }
  if (!send_chunk (s))
    return;
  r->timer = g_timeout_source_new (MAX (1,
          (guint) (MAX (s->server->opts.chunk_ms, 1) / pace)));
  g_source_set_callback (r->timer, chunk_timeout, s, NULL);
  g_source_attach (r->timer, s->server->context);
}

static gboolean
delay_timeout (gpointer user_data)
{
  ModelSession *s = user_data;

  g_clear_pointer (&s->response->timer, g_source_unref);
  begin (s);
  return G_SOURCE_REMOVE;
}

#define PROBE_TONE_PERIOD (MODEL_AUDIO_SAMPLES_PER_MS * 1000 / 1000)
static gint16 probe_tone_period[PROBE_TONE_PERIOD];

static gpointer
probe_tone_init (gpointer data)
{
  guint i;

  for (i = 0; i < PROBE_TONE_PERIOD; i++)
    probe_tone_period[i] = (gint16) (0.25 * G_MAXINT16 *
        cos (2 * G_PI * i / PROBE_TONE_PERIOD));
  return NULL;
}

/* answer_tone_ms: a 1 kHz tone at -12 dBFS from its very first sample (no
 * fade-in), so that the first sample of the response is its onset. One
 * period (24 samples at 24 kHz) computed once, then repeated: a benchmark
 * answers thousands of bursts. */
static void
append_probe_tone (GArray * out, guint duration_ms)
{
  static GOnce once = G_ONCE_INIT;
  guint n = duration_ms * MODEL_AUDIO_SAMPLES_PER_MS;
  guint first = out->len, i;
  gint16 *samples;

  g_once (&once, probe_tone_init, NULL);
  g_array_set_size (out, first + n);
  samples = &g_array_index (out, gint16, first);
  for (i = 0; i < n; i++)
    samples[i] = probe_tone_period[i % PROBE_TONE_PERIOD];
}

void
model_response_start (ModelSession * s, ModelResponseKind kind,
    ModelUtterance * source, const gchar * instructions)
{
  ModelResponse *r = g_new0 (ModelResponse, 1);
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (gint16));
  guint delay = s->server->opts.response_delay_ms;
  gboolean from_8k = FALSE;

  g_return_if_fail (s->response == NULL);
  r->kind = kind;
  r->id = model_protocol_new_id ("resp");
  r->format = s->params.output_format;
  r->text_only = s->params.text_only;
  r->instructions_len = strlen (instructions ? instructions :
      s->params.instructions);

  switch (kind) {
    case MODEL_RESPONSE_ECHO:
      if (s->server->opts.answer_tone_ms > 0) {
        append_probe_tone (samples, s->server->opts.answer_tone_ms);
        r->input_audio_ms = source->input_ms;
        r->transcript = g_strdup_printf ("[tone] %u ms for %.1f s of your "
            "speech", s->server->opts.answer_tone_ms,
            source->speech_ms / 1000.0);
        break;
      }
      g_array_append_vals (samples, source->samples->data,
          source->samples->len);
      r->input_audio_ms = source->input_ms;
      from_8k = source->from_8k;
      if (s->tool_output && s->awaiting_tool_name)
        r->transcript = g_strdup_printf ("[echo] %.1f s of your speech "
            "(%s returned: %.80s)", source->speech_ms / 1000.0,
            s->awaiting_tool_name, s->tool_output);
      else
        r->transcript = g_strdup_printf ("[echo] %.1f s of your speech",
            source->speech_ms / 1000.0);
      g_clear_pointer (&s->tool_output, g_free);
      g_clear_pointer (&s->awaiting_call_id, g_free);
      g_clear_pointer (&s->awaiting_tool_name, g_free);
      break;
    case MODEL_RESPONSE_TEXT_ECHO:
      model_audio_append_tone (samples, 660, 0.25, TEXT_ECHO_TONE_MS);
      r->transcript = g_strdup_printf ("[echo] you wrote: %.200s",
          s->pending_text);
      g_clear_pointer (&s->pending_text, g_free);
      break;
    case MODEL_RESPONSE_GREETING:
      model_audio_append_tone (samples, 440, 0.25, GREETING_TONE_MS);
      if (instructions && *instructions)
        r->transcript = g_strdup_printf ("[greeting] a %.1f s tone for: "
            "%.200s", GREETING_TONE_MS / 1000.0, instructions);
      else
        r->transcript = g_strdup_printf ("[greeting] a %.1f s tone",
            GREETING_TONE_MS / 1000.0);
      break;
    case MODEL_RESPONSE_IDLE:
      /* the real model may prompt the caller; this one says so */
      model_audio_append_tone (samples, 520, 0.25, IDLE_TONE_MS);
      r->input_audio_ms = source->input_ms;
      r->transcript = g_strdup_printf ("[idle] nothing heard for %.1f s: "
          "are you still there?", source->input_ms / 1000.0);
      break;
    case MODEL_RESPONSE_FUNCTION_CALL:
      r->call_id = model_protocol_new_id ("call");
      r->tool_name = g_strdup (s->params.first_tool);
      r->transcript = NULL;
      g_free (s->awaiting_call_id);
      s->awaiting_call_id = g_strdup (r->call_id);
      g_free (s->awaiting_tool_name);
      s->awaiting_tool_name = g_strdup (r->tool_name);
      g_clear_pointer (&s->tool_output, g_free);
      break;
  }
  model_utterance_free (source);
  r->item_id = model_protocol_new_id (kind == MODEL_RESPONSE_FUNCTION_CALL ?
      "fc" : "item");
  if (kind != MODEL_RESPONSE_FUNCTION_CALL) {
    r->audio = g_byte_array_new ();
    /* G.711 takes whole 8 kHz samples: groups of three */
    model_audio_encode (r->format, (const gint16 *) samples->data,
        r->format == REALTIME_AUDIO_FORMAT_PCM16 ? samples->len :
        samples->len - samples->len % 3, from_8k, r->audio);
  }
  g_array_unref (samples);
  s->response = r;

  if (delay > 0) {
    r->timer = g_timeout_source_new (delay);
    g_source_set_callback (r->timer, delay_timeout, s, NULL);
    g_source_attach (r->timer, s->server->context);
  } else {
    begin (s);
  }
}

void
model_response_cancel (ModelSession * s, const gchar * reason)
{
  if (s->response)
    finish (s, "cancelled", reason);
}
