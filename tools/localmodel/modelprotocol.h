/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The server side of the GA Realtime protocol as only the local model needs
 * it: validating client events with the real API's error shapes
 * (unknown_parameter, missing_required_parameter, invalid_type,
 * invalid_value, ... with parameter paths), the effective session
 * configuration as a JSON object, and the JSON of the server events that
 * gst/openairealtime/realtimeprotocol.h cannot express (full session and
 * response objects, audio and function call items, content parts). Every
 * other server event is built with realtime_build_* of that library, so
 * that the model and the elements share one implementation of each
 * message format. Pure code: GLib and json-glib only, no I/O.
 */
#ifndef __MODEL_PROTOCOL_H__
#define __MODEL_PROTOCOL_H__

#include <glib.h>
#include <json-glib/json-glib.h>

#include "modelaudio.h"

G_BEGIN_DECLS

/* An error event's "error" object. Strings are owned. */
typedef struct
{
  gchar *type;                  /* "invalid_request_error", "server_error" */
  gchar *code;                  /* may be NULL */
  gchar *message;
  gchar *param;                 /* may be NULL */
} ModelError;

void model_error_set (ModelError * err, const gchar * type, const gchar * code,
    const gchar * param, const gchar * format, ...) G_GNUC_PRINTF (5, 6);
void model_error_clear (ModelError * err);

/* "<prefix>_" + 21 random base62 characters, like the real API's ids. */
gchar *model_protocol_new_id (const gchar * prefix);

/* Serialises @event (a server event without event_id; consumed), adding a
 * fresh "event_id" right after "type". */
gchar *model_protocol_event_to_text (JsonObject * event);

/* Parses one client text frame. On success returns the event object (ref'd)
 * and its type; otherwise fills @err like the real API: invalid_json for
 * text that is not JSON, invalid_event for a missing/non-string type,
 * invalid_value (param "type") for an unknown event type. @event_id is set
 * when the client gave one, even on error. */
JsonObject *model_protocol_parse_client (const gchar * text, gsize length,
    const gchar ** type, gchar ** event_id, ModelError * err);

/* The fast path for input_audio_buffer.append (50 a second per call):
 * accepts only the exact shape the elements send,
 * {"type":"input_audio_buffer.append","audio":"<base64>"} optionally with
 * ,"event_id":"<id>" (plain characters, no escapes) before the closing
 * brace, with strict base64, and returns the decoded audio (and
 * @event_id, owned, or NULL). Anything else returns NULL and is left to the
 * full parser, which answers it like the real API. */
GBytes *model_protocol_parse_append_fast (const gchar * text, gsize length,
    gchar ** event_id);

/* response.output_audio.delta written straight into one string (its
 * base64 would cost more through a JSON tree than the rest of the
 * response): the members of realtime_build_output_audio_delta (), an
 * event_id like model_protocol_new_id ("event"). @response_id and @item_id
 * must need no JSON escaping (the model's own ids). */
gchar *model_protocol_build_audio_delta (const gchar * response_id,
    const gchar * item_id, const guint8 * data, gsize size);

/* Typed field access with real-API errors; @path is the parameter path
 * used in messages, e.g. "item_id" or "item.call_id". */
gboolean model_protocol_get_string (JsonObject * obj, const gchar * name,
    const gchar * path, gboolean required, const gchar ** out,
    ModelError * err);
gboolean model_protocol_get_int (JsonObject * obj, const gchar * name,
    const gchar * path, gboolean required, gint64 * out, ModelError * err);
/* The member @name of @obj if it is an object, else NULL (no criticals). */
JsonObject *model_protocol_object_member (JsonObject * obj,
    const gchar * name);
/* Fails with unknown_parameter for any member of @obj not in @known. */
gboolean model_protocol_check_known (JsonObject * obj, const gchar * path,
    const gchar * const *known, ModelError * err);

/* ---- session configuration -------------------------------------------- */

/* The effective session object as session.created reports it, with the
 * real API's defaults (pcm 24 kHz, server_vad 0.5/300/200, voice marin). */
JsonObject *model_session_new_default (const gchar * session_id,
    const gchar * model, gint64 expires_at);

/* Checks a session.update "session" member against the GA schema
 * (modelschema.c). */
gboolean model_session_validate_update (JsonNode * update, ModelError * err);

/* Validates a session.update "session" member against the GA schema and,
 * if valid, deep-merges it into @session. @voice_locked: assistant audio
 * was already produced, so the voice may no longer change
 * (cannot_update_voice). Nothing is changed on error. */
gboolean model_session_apply_update (JsonObject * session, JsonNode * update,
    gboolean voice_locked, ModelError * err);

typedef enum
{
  MODEL_TURN_NONE = 0,
  MODEL_TURN_SERVER_VAD,
  MODEL_TURN_SEMANTIC_VAD,
} ModelTurnDetection;

/* What the model acts on, read from the effective session object. */
typedef struct
{
  RealtimeAudioFormat input_format;
  RealtimeAudioFormat output_format;
  gboolean text_only;           /* output_modalities ["text"] */
  ModelTurnDetection turn_detection;
  gdouble threshold;
  guint prefix_padding_ms;
  guint silence_duration_ms;
  guint idle_timeout_ms;        /* server_vad only; 0 = none */
  gboolean create_response;
  gboolean interrupt_response;
  gboolean transcription;       /* audio.input.transcription is set */
  gchar *first_tool;            /* name of the first function tool, or NULL */
  gboolean tools_allowed;       /* tool_choice is not "none" */
  gchar *voice;
  gchar *instructions;
} ModelSessionParams;

void model_session_params_read (JsonObject * session, ModelSessionParams * p);
void model_session_params_clear (ModelSessionParams * p);

/* {"type":"audio/pcm","rate":24000} or {"type":"audio/pcmu"} ... */
JsonNode *model_protocol_format_node (RealtimeAudioFormat format);

G_END_DECLS

#endif
