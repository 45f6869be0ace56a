/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One WebSocket session of the local model (private to the localmodel
 * library). Everything here runs on the model's loop thread only.
 */
#ifndef __MODEL_SESSION_H__
#define __MODEL_SESSION_H__

#include <stdio.h>
#include <libsoup/soup.h>

#include "localmodel.h"
#include "modelaudio.h"
#include "modelprotocol.h"

G_BEGIN_DECLS

/* State shared by all sessions of one server. */
typedef struct
{
  LocalModelOptions opts;       /* strings owned (copies) */
  GMainContext *context;
  GHashTable *sessions;         /* ModelSession* set, owns them */

  GMutex lock;                  /* guards stats and the events log */
  LocalModelStats stats;
  FILE *events_log;
  gint64 start_us;
  guint sessions_started;
} ModelServer;

#define MODEL_STAT_ADD(server, field, n) G_STMT_START { \
    g_mutex_lock (&(server)->lock); \
    (server)->stats.field += (n); \
    g_mutex_unlock (&(server)->lock); \
  } G_STMT_END

typedef struct _ModelSession ModelSession;

typedef enum
{
  MODEL_RESPONSE_ECHO,          /* says a caller utterance back */
  MODEL_RESPONSE_TEXT_ECHO,     /* answers a text message with a tone */
  MODEL_RESPONSE_GREETING,      /* nothing to echo: a tone */
  MODEL_RESPONSE_FUNCTION_CALL, /* calls the session's first tool */
  MODEL_RESPONSE_IDLE,          /* idle_timeout_ms passed: a prompt tone */
} ModelResponseKind;

typedef struct
{
  gchar *item_id;
  GArray *samples;              /* gint16, 24 kHz, what is echoed */
  guint64 speech_ms;
  guint64 input_ms;             /* the committed item's duration */
  gboolean from_8k;             /* decoded from G.711: already band limited */
} ModelUtterance;

typedef struct
{
  gchar *id;
  gchar *type;                  /* message, function_call, function_call_output */
  gchar *role;                  /* message */
  gchar *call_id;
  gchar *name;
  gchar *text;                  /* message text / output / arguments */
  gboolean has_audio;
  guint64 audio_ms;             /* assistant audio generated (after truncation) */
} ModelItem;

typedef struct
{
  ModelResponseKind kind;
  gchar *id;
  gchar *item_id;
  gchar *call_id;
  gchar *tool_name;
  RealtimeAudioFormat format;
  gboolean text_only;
  GByteArray *audio;            /* the whole answer, session output format */
  gsize sent;
  gchar *transcript;
  guint64 input_audio_ms;
  gsize instructions_len;
  GSource *timer;
  gboolean begun;               /* response.created was sent */
  gint64 began_us;
  guint64 began_input_ms;       /* input position at response.created */
} ModelResponse;

struct _ModelSession
{
  ModelServer *server;
  SoupWebsocketConnection *conn;
  gchar *id;
  gchar *conversation_id;
  gint64 opened_us;
  gboolean fault_target;
  GSource *fault_timer;
  GSource *limit_timer;         /* the session's maximum duration */
  GSource *free_idle;
  gboolean closing;
  gboolean active;              /* counted in stats.sessions_active */

  JsonObject *config;
  ModelSessionParams params;

  /* input */
  ModelAudioDecoder decoder;
  ModelVad vad;
  GArray *input;                /* gint16 24 kHz, starts at input_base */
  guint64 input_base;           /* sample index of input[0] */
  guint64 input_kept_from;      /* sample index of the oldest audio kept;
                                 * what is before it is dropped in bulk */
  GArray *vad_events;           /* ModelVadEvent, reused per append */
  guint64 appends;
  gchar *speech_item_id;
  /* server VAD idle timeout, counted in input audio time: armed at
   * response.done, from when the caller has heard the answer */
  gboolean idle_armed;
  guint64 idle_from_ms;

  /* conversation */
  GHashTable *items;            /* id -> ModelItem */
  gchar *last_item_id;
  GQueue utterances;            /* ModelUtterance*, committed, not answered */
  gchar *pending_text;          /* last user text message not answered */
  ModelUtterance *awaiting_tool;
  gchar *awaiting_call_id;
  gchar *awaiting_tool_name;
  gchar *tool_output;
  guint turns;
  gboolean audio_output_started;

  ModelResponse *response;
};

ModelSession *model_session_new (ModelServer * server,
    SoupWebsocketConnection * conn, const gchar * model);
/* Server shutdown: close with 1001 and drop every source. */
void model_session_shutdown (ModelSession * session);
void model_session_free (ModelSession * session);

/* modelsession.c helpers used by the other parts */
void model_session_send (ModelSession * session, JsonObject * event);
/* Sends a ready event (from realtime_build_*); takes @text. */
void model_session_send_text (ModelSession * session, gchar * text);
void model_session_send_error (ModelSession * session, const ModelError * err,
    const gchar * client_event_id);
ModelItem *model_session_add_item (ModelSession * session, const gchar * id,
    const gchar * type, const gchar * role);
void model_utterance_free (ModelUtterance * u);
/* @played_until_ms: input position at which the caller has heard the
 * finished response's audio (starts the idle timeout) */
void model_session_response_finished (ModelSession * session,
    guint64 played_until_ms);
/* Audio written to the input buffer so far, in ms since the session began. */
guint64 model_input_position_ms (ModelSession * session);
void model_server_log (ModelServer * server, const gchar * session_id,
    JsonObject * fields);

void model_session_announce_item (ModelSession * session, ModelItem * item,
    const gchar * previous_item_id);
void model_session_fault_close (ModelSession * session, const gchar * why);

/* modelitems.c */
void model_item_free (ModelItem * item);
void model_items_handle_create (ModelSession * session, JsonObject * event,
    const gchar * event_id);
void model_items_handle_delete_or_retrieve (ModelSession * session,
    JsonObject * event, const gchar * event_id, gboolean delete);
void model_items_handle_truncate (ModelSession * session, JsonObject * event,
    const gchar * event_id);

/* modelinput.c */
/* @audio: the decoded payload of an append */
void model_input_append (ModelSession * session, GBytes * audio,
    const gchar * event_id);
/* An append the shared parser refused: an error event saying why. */
void model_input_append_rejected (ModelSession * session, JsonObject * event,
    const gchar * event_id);
void model_input_commit (ModelSession * session, const gchar * event_id);
void model_input_clear (ModelSession * session);
/* Answers a committed utterance (or queues it if @respond is FALSE or a
 * response is active); takes ownership. */
void model_session_utterance_ready (ModelSession * session,
    ModelUtterance * utterance, gboolean respond);

/* modelresponse.c */
void model_response_start (ModelSession * session, ModelResponseKind kind,
    ModelUtterance * source, const gchar * instructions);
/* status "cancelled" with @reason (turn_detected, client_cancelled) */
void model_response_cancel (ModelSession * session, const gchar * reason);
void model_response_free (ModelResponse * response);
JsonObject *model_item_to_json (ModelItem * item, const gchar * status);

G_END_DECLS

#endif
