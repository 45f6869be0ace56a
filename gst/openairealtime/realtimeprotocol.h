/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime API, GA protocol: build and parse the JSON events of both
 * directions (client -> server and server -> client) as plain structs.
 * Pure code: GLib + json-glib only, no I/O, no GStreamer. The openairealtime
 * elements use the client side; the local model (tools/localmodel) the
 * server side.
 *
 * Conventions:
 *  - every builder returns a newly allocated JSON text (one WebSocket text
 *    frame), never NULL unless documented (invalid JSON input of the caller);
 *  - parsers return NULL and set @error (REALTIME_PROTOCOL_ERROR) for input
 *    that is not a JSON object with a string "type", for wrong-typed or
 *    missing required fields and for bad base64. Unknown event types parse
 *    successfully to the UNKNOWN type, carrying the type string;
 *  - only fields the GA schema declares are ever emitted.
 */
#ifndef __REALTIME_PROTOCOL_H__
#define __REALTIME_PROTOCOL_H__

#include <glib.h>

G_BEGIN_DECLS

#define REALTIME_PROTOCOL_ERROR (realtime_protocol_error_quark ())
GQuark realtime_protocol_error_quark (void);

typedef enum
{
  REALTIME_PROTOCOL_ERROR_SYNTAX,       /* not JSON */
  REALTIME_PROTOCOL_ERROR_NOT_OBJECT,   /* JSON, but not an object with a string "type" */
  REALTIME_PROTOCOL_ERROR_INVALID,      /* a field is missing or has the wrong type */
  REALTIME_PROTOCOL_ERROR_BASE64,       /* audio payload is not valid base64 */
} RealtimeProtocolError;

/* ---- audio formats ---------------------------------------------------- */

typedef enum
{
  REALTIME_AUDIO_FORMAT_UNSET = 0,
  REALTIME_AUDIO_FORMAT_PCM16,  /* {"type":"audio/pcm","rate":24000}, S16LE mono */
  REALTIME_AUDIO_FORMAT_PCMU,   /* {"type":"audio/pcmu"}, G.711 mu-law 8 kHz */
  REALTIME_AUDIO_FORMAT_PCMA,   /* {"type":"audio/pcma"}, G.711 A-law 8 kHz */
  REALTIME_AUDIO_FORMAT_OTHER,  /* something this version does not know */
} RealtimeAudioFormat;

/* "audio/pcm", "audio/pcmu", "audio/pcma"; NULL for UNSET/OTHER */
const gchar *realtime_audio_format_to_string (RealtimeAudioFormat format);
/* bytes of audio per millisecond: 48 for PCM16 24 kHz, 8 for G.711, 0 otherwise */
guint realtime_audio_format_bytes_per_ms (RealtimeAudioFormat format);

/* ---- session configuration -------------------------------------------- */

typedef enum
{
  REALTIME_TURN_DETECTION_SERVER_VAD = 0,
  REALTIME_TURN_DETECTION_SEMANTIC_VAD,
  REALTIME_TURN_DETECTION_NONE,
} RealtimeTurnDetection;

typedef enum
{
  REALTIME_NOISE_REDUCTION_NONE = 0,
  REALTIME_NOISE_REDUCTION_NEAR_FIELD,
  REALTIME_NOISE_REDUCTION_FAR_FIELD,
} RealtimeNoiseReduction;

/* What session.update carries (and what session.created/updated report).
 * Strings may be NULL (= not sent / not reported). Numbers use a negative
 * value for "not sent, server default". */
typedef struct
{
  gchar *model;                 /* reported by the server only; never sent in session.update */
  gchar *instructions;
  gchar *voice;
  RealtimeAudioFormat input_format;
  RealtimeAudioFormat output_format;

  RealtimeTurnDetection turn_detection;
  gdouble vad_threshold;        /* server_vad, 0..1, < 0 = default */
  gint prefix_padding_ms;       /* server_vad, < 0 = default */
  gint silence_duration_ms;     /* server_vad, < 0 = default */
  gint idle_timeout_ms;         /* server_vad, <= 0 = not sent; 5000..30000 */
  gboolean create_response;     /* server_vad / semantic_vad */
  gboolean interrupt_response;  /* server_vad / semantic_vad */

  gchar *transcription_model;   /* NULL or "" = no input transcription */
  RealtimeNoiseReduction noise_reduction;

  gchar *tools_json;            /* JSON array of tools, NULL = not sent */
  gchar *extra_json;            /* JSON object deep-merged into "session", NULL = none */
} RealtimeSessionConfig;

/* A config with the defaults of the elements: pcm16 both ways, server_vad,
 * create/interrupt TRUE, everything else unset. */
RealtimeSessionConfig *realtime_session_config_new (void);
RealtimeSessionConfig *realtime_session_config_copy (const RealtimeSessionConfig * config);
void realtime_session_config_free (RealtimeSessionConfig * config);
/* Checks that tools_json is a JSON array and extra_json a JSON object. */
gboolean realtime_session_config_validate (const RealtimeSessionConfig * config, GError ** error);

/* ---- conversation items ------------------------------------------------ */

typedef enum
{
  REALTIME_ITEM_OTHER = 0,
  REALTIME_ITEM_MESSAGE,
  REALTIME_ITEM_FUNCTION_CALL,
  REALTIME_ITEM_FUNCTION_CALL_OUTPUT,
} RealtimeItemType;

typedef struct
{
  RealtimeItemType type;
  gchar *type_name;             /* the wire "type" */
  gchar *id;
  gchar *role;                  /* message: "user", "assistant", "system" */
  gchar *status;
  gchar *text;                  /* message: text / transcript of the content parts, joined */
  gboolean has_audio;           /* message: one content part is input_audio / output_audio */
  gchar *name;                  /* function_call */
  gchar *call_id;               /* function_call, function_call_output */
  gchar *arguments;             /* function_call */
  gchar *output;                /* function_call_output */
} RealtimeItem;

void realtime_item_clear (RealtimeItem * item);

/* ---- client events (what the elements send) ---------------------------- */

/* session.update, with "type":"realtime". NULL and @error if the config's
 * tools/extra JSON is invalid. */
gchar *realtime_build_session_update (const RealtimeSessionConfig * config, GError ** error);
gchar *realtime_build_input_audio_append (const guint8 * data, gsize size);
/* input_audio_buffer.append from audio held in pieces, without joining
 * them first: init with the total size, add the pieces in order, finish
 * (returns the event, as realtime_build_input_audio_append() does). */
typedef struct
{
  GString *text;
  gint state;
  gint save;
} RealtimeAppendBuilder;
void realtime_append_builder_init (RealtimeAppendBuilder * builder, gsize size);
void realtime_append_builder_add (RealtimeAppendBuilder * builder,
    const guint8 * data, gsize size);
gchar *realtime_append_builder_finish (RealtimeAppendBuilder * builder);
gchar *realtime_build_input_audio_commit (void);
gchar *realtime_build_input_audio_clear (void);
/* conversation.item.create of a text message: role "user" and "system" use
 * input_text, "assistant" output_text (used to replay a transcript). */
gchar *realtime_build_item_create_message (const gchar * role, const gchar * text);
gchar *realtime_build_item_create_function_call (const gchar * call_id,
    const gchar * name, const gchar * arguments);
gchar *realtime_build_item_create_function_call_output (const gchar * call_id,
    const gchar * output);
gchar *realtime_build_item_truncate (const gchar * item_id, gint content_index,
    gint64 audio_end_ms);
gchar *realtime_build_item_delete (const gchar * item_id);
/* response.create; @instructions (may be NULL) overrides the session's for
 * this response only. */
gchar *realtime_build_response_create (const gchar * instructions);
/* response.cancel; @response_id may be NULL (= the active one). */
gchar *realtime_build_response_cancel (const gchar * response_id);

typedef enum
{
  REALTIME_CLIENT_UNKNOWN = 0,
  REALTIME_CLIENT_SESSION_UPDATE,
  REALTIME_CLIENT_INPUT_AUDIO_APPEND,
  REALTIME_CLIENT_INPUT_AUDIO_COMMIT,
  REALTIME_CLIENT_INPUT_AUDIO_CLEAR,
  REALTIME_CLIENT_ITEM_CREATE,
  REALTIME_CLIENT_ITEM_TRUNCATE,
  REALTIME_CLIENT_ITEM_DELETE,
  REALTIME_CLIENT_ITEM_RETRIEVE,
  REALTIME_CLIENT_RESPONSE_CREATE,
  REALTIME_CLIENT_RESPONSE_CANCEL,
  REALTIME_CLIENT_OUTPUT_AUDIO_CLEAR,
} RealtimeClientEventType;

typedef struct
{
  RealtimeClientEventType type;
  gchar *type_name;
  gchar *event_id;

  RealtimeSessionConfig *session;       /* SESSION_UPDATE (fields not sent stay unset) */
  gchar *session_type;                  /* SESSION_UPDATE: session.type ("realtime") */
  GBytes *audio;                        /* INPUT_AUDIO_APPEND, decoded */
  RealtimeItem item;                    /* ITEM_CREATE */
  gchar *previous_item_id;              /* ITEM_CREATE */
  gchar *item_id;                       /* ITEM_TRUNCATE / DELETE / RETRIEVE */
  gint content_index;                   /* ITEM_TRUNCATE */
  gint64 audio_end_ms;                  /* ITEM_TRUNCATE */
  gchar *response_id;                   /* RESPONSE_CANCEL (may be NULL) */
  gchar *instructions;                  /* RESPONSE_CREATE: response.instructions (may be NULL) */
} RealtimeClientEvent;

RealtimeClientEvent *realtime_client_event_parse (const gchar * json, gssize length, GError ** error);
void realtime_client_event_free (RealtimeClientEvent * event);

/* ---- server events (what the model sends) ------------------------------ */

typedef enum
{
  REALTIME_SERVER_UNKNOWN = 0,
  REALTIME_SERVER_ERROR,
  REALTIME_SERVER_SESSION_CREATED,
  REALTIME_SERVER_SESSION_UPDATED,
  REALTIME_SERVER_CONVERSATION_CREATED,
  REALTIME_SERVER_SPEECH_STARTED,
  REALTIME_SERVER_SPEECH_STOPPED,
  REALTIME_SERVER_INPUT_AUDIO_COMMITTED,
  REALTIME_SERVER_INPUT_AUDIO_CLEARED,
  REALTIME_SERVER_INPUT_AUDIO_TIMEOUT_TRIGGERED,
  REALTIME_SERVER_ITEM_CREATED,
  REALTIME_SERVER_ITEM_ADDED,
  REALTIME_SERVER_ITEM_DONE,
  REALTIME_SERVER_ITEM_TRUNCATED,
  REALTIME_SERVER_ITEM_DELETED,
  REALTIME_SERVER_TRANSCRIPTION_DELTA,          /* input audio transcription */
  REALTIME_SERVER_TRANSCRIPTION_COMPLETED,
  REALTIME_SERVER_TRANSCRIPTION_FAILED,
  REALTIME_SERVER_RESPONSE_CREATED,
  REALTIME_SERVER_RESPONSE_DONE,
  REALTIME_SERVER_OUTPUT_ITEM_ADDED,
  REALTIME_SERVER_OUTPUT_ITEM_DONE,
  REALTIME_SERVER_CONTENT_PART_ADDED,
  REALTIME_SERVER_CONTENT_PART_DONE,
  REALTIME_SERVER_OUTPUT_AUDIO_DELTA,
  REALTIME_SERVER_OUTPUT_AUDIO_DONE,
  REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DELTA,
  REALTIME_SERVER_OUTPUT_AUDIO_TRANSCRIPT_DONE,
  REALTIME_SERVER_OUTPUT_TEXT_DELTA,
  REALTIME_SERVER_OUTPUT_TEXT_DONE,
  REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DELTA,
  REALTIME_SERVER_FUNCTION_CALL_ARGUMENTS_DONE,
  REALTIME_SERVER_RATE_LIMITS_UPDATED,
} RealtimeServerEventType;

/* One flat struct for every server event; which fields are set depends on
 * the type (see the comments). Unset strings are NULL, unset numbers 0/-1. */
typedef struct
{
  RealtimeServerEventType type;
  gchar *type_name;
  gchar *event_id;

  /* SESSION_CREATED / SESSION_UPDATED */
  RealtimeSessionConfig *session;
  gchar *session_id;
  gint64 expires_at;            /* unix seconds, 0 = unknown */

  /* items, audio, transcripts, function calls */
  gchar *item_id;
  gchar *previous_item_id;
  gchar *response_id;
  gint output_index;
  gint content_index;
  gint64 audio_start_ms;        /* SPEECH_STARTED, TIMEOUT_TRIGGERED */
  gint64 audio_end_ms;          /* SPEECH_STOPPED, TIMEOUT_TRIGGERED, ITEM_TRUNCATED */
  gchar *delta;                 /* text deltas (transcripts, text, function arguments) */
  gchar *transcript;            /* *_DONE / TRANSCRIPTION_COMPLETED: final text (also OUTPUT_TEXT_DONE) */
  GBytes *audio;                /* OUTPUT_AUDIO_DELTA, decoded */
  RealtimeItem item;            /* ITEM_* / OUTPUT_ITEM_* */
  gchar *name;                  /* FUNCTION_CALL_ARGUMENTS_DONE */
  gchar *call_id;               /* FUNCTION_CALL_ARGUMENTS_* */
  gchar *arguments;             /* FUNCTION_CALL_ARGUMENTS_DONE */

  /* RESPONSE_CREATED / RESPONSE_DONE */
  gchar *status;                /* completed / cancelled / failed / incomplete / in_progress */
  gchar *reason;                /* status_details.reason, may be NULL */
  gint64 input_tokens;          /* -1 when no usage */
  gint64 output_tokens;
  gint64 total_tokens;

  /* RATE_LIMITS_UPDATED: the "rate_limits" array as JSON text */
  gchar *rate_limits_json;

  /* ERROR (and TRANSCRIPTION_FAILED, RESPONSE_DONE status_details.error) */
  gchar *error_type;
  gchar *error_code;
  gchar *error_message;
  gchar *error_param;
  gchar *error_event_id;
} RealtimeServerEvent;

RealtimeServerEvent *realtime_server_event_parse (const gchar * json, gssize length, GError ** error);
void realtime_server_event_free (RealtimeServerEvent * event);
RealtimeServerEventType realtime_server_event_type_from_string (const gchar * type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RealtimeSessionConfig, realtime_session_config_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RealtimeClientEvent, realtime_client_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RealtimeServerEvent, realtime_server_event_free)

/* ---- server event builders (for the local model and fake servers) -------
 * @event_id is generated ("event_<n>"). */

/* session.created / session.updated: the effective configuration */
gchar *realtime_build_session_created (const gchar * session_id,
    const RealtimeSessionConfig * config, gint64 expires_at);
gchar *realtime_build_session_updated (const gchar * session_id,
    const RealtimeSessionConfig * config, gint64 expires_at);
gchar *realtime_build_speech_started (gint64 audio_start_ms, const gchar * item_id);
gchar *realtime_build_speech_stopped (gint64 audio_end_ms, const gchar * item_id);
gchar *realtime_build_input_audio_committed (const gchar * item_id,
    const gchar * previous_item_id);
gchar *realtime_build_input_audio_cleared (void);
/* conversation.item.added / conversation.item.done of a message item */
gchar *realtime_build_item_added (const gchar * item_id, const gchar * role,
    const gchar * status, const gchar * text, const gchar * previous_item_id);
gchar *realtime_build_item_done (const gchar * item_id, const gchar * role,
    const gchar * status, const gchar * text, const gchar * previous_item_id);
gchar *realtime_build_item_truncated (const gchar * item_id, gint content_index,
    gint64 audio_end_ms);
gchar *realtime_build_transcription_delta (const gchar * item_id, const gchar * delta);
gchar *realtime_build_transcription_completed (const gchar * item_id,
    const gchar * transcript);
gchar *realtime_build_response_created (const gchar * response_id);
/* response.done; @reason may be NULL; negative token counts omit "usage". */
gchar *realtime_build_response_done (const gchar * response_id,
    const gchar * status, const gchar * reason, gint64 input_tokens,
    gint64 output_tokens);
gchar *realtime_build_output_item_added (const gchar * response_id,
    gint output_index, const gchar * item_id);
gchar *realtime_build_output_item_done (const gchar * response_id,
    gint output_index, const gchar * item_id, const gchar * transcript);
gchar *realtime_build_output_audio_delta (const gchar * response_id,
    const gchar * item_id, const guint8 * data, gsize size);
gchar *realtime_build_output_audio_done (const gchar * response_id,
    const gchar * item_id);
gchar *realtime_build_output_audio_transcript_delta (const gchar * response_id,
    const gchar * item_id, const gchar * delta);
gchar *realtime_build_output_audio_transcript_done (const gchar * response_id,
    const gchar * item_id, const gchar * transcript);
gchar *realtime_build_function_call_arguments_done (const gchar * response_id,
    const gchar * item_id, const gchar * call_id, const gchar * name,
    const gchar * arguments);
/* rate_limits.updated with one "requests" and one "tokens" entry */
gchar *realtime_build_rate_limits_updated (gint64 requests_limit,
    gint64 requests_remaining, gint64 tokens_limit, gint64 tokens_remaining);
/* error; @code, @param and @event_id may be NULL */
gchar *realtime_build_error (const gchar * type, const gchar * code,
    const gchar * message, const gchar * param, const gchar * event_id);

/* Kept for older callers: the "type" of an event, NULL if there is none. */
gchar *realtime_protocol_peek_type (const gchar * json, gsize len, GError ** error);

G_END_DECLS

#endif
