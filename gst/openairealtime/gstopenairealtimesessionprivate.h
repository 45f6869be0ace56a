/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internals of the Realtime session, shared by gstopenairealtimesession.c
 * (registry, loop thread, work queue), gstopenairealtimesessionqueues.c
 * (element-facing queues), gstopenairealtimeconnection.c (connect,
 * handshake, reconnect) and gstopenairealtimeevents.c (what each server
 * event does, bus messages). Not for the elements.
 */
#ifndef __GST_OPENAI_REALTIME_SESSION_PRIVATE_H__
#define __GST_OPENAI_REALTIME_SESSION_PRIVATE_H__

#include <libsoup/soup.h>

#include "gstopenairealtimesession.h"
#include "gstopenairealtimeloop.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_openai_realtime_session_debug);

typedef enum
{
  SESSION_STATE_IDLE,           /* not connected; a (re)connect may be scheduled */
  SESSION_STATE_CONNECTING,     /* WebSocket handshake */
  SESSION_STATE_WAIT_CREATED,   /* waiting for session.created */
  SESSION_STATE_WAIT_FORMATS,   /* waiting for the elements' negotiated formats */
  SESSION_STATE_WAIT_UPDATED,   /* session.update sent, waiting for session.updated */
  SESSION_STATE_READY,
  SESSION_STATE_FAILED,         /* fatal error, posted */
  SESSION_STATE_STOPPED,
} SessionState;

typedef enum
{
  HISTORY_MESSAGE,
  HISTORY_FUNCTION_CALL,
  HISTORY_FUNCTION_OUTPUT,
} HistoryKind;

/* What is replayed into a new connection so that the model keeps context. */
typedef struct
{
  HistoryKind kind;
  gchar *item_id;
  gchar *role;
  gchar *text;                  /* message text, function arguments or output */
  gchar *call_id;
  gchar *name;
} HistoryEntry;

/* An async WebSocket connect's user data: it outlives the session when the
 * session stops with the connect in flight (session is then NULL). */
typedef struct
{
  GstOpenAIRealtimeSession *session;
} SessionConnectAttempt;

struct _GstOpenAIRealtimeSession
{
  /* registry (registry lock) */
  gchar *name;
  gint ref_count;

  /* immutable after acquire */
  GstOpenAIRealtimeSettings settings;
  gchar *api_key;
  gchar *http_url;              /* ws(s) -> http(s), with ?model= */
  gchar *display_url;           /* as configured, with ?model=; never a key */

  /* the loop the session lives on, for its whole life: a shared pool loop
   * (loop set), or the application's call loop (call_context set) */
  GstOpenAIRealtimeLoop *loop;
  GMainContext *call_context;
  GMainContext *context;
  /* wakes the loop for this session's queued work; one wake-up serves
   * everything queued meanwhile */
  GSource *work_source;

  /* loop thread only */
  SoupSession *soup;            /* made on the loop, on the first connect */
  SessionConnectAttempt *connect_attempt;       /* in flight, or NULL */
  SoupWebsocketConnection *conn;
  GCancellable *cancellable;
  GSource *handshake_timeout;
  GSource *reconnect_timer;
  GSource *renew_timer;
  GSource *response_timer;
  gboolean connect_timed_out;
  guint attempt;
  gboolean ever_ready;
  gboolean renew_pending;
  gchar *session_id;
  gchar *active_response_id;
  gboolean response_requested;  /* response.create sent, no response.created yet */
  gboolean response_wanted;     /* send response.create once none is active */
  gchar *wanted_instructions;
  gboolean greeting_sent;
  gint64 speech_stopped_at;     /* monotonic us, 0 = none pending */
  gchar *first_audio_response;  /* response whose first delta was seen */
  GQueue history;               /* HistoryEntry */
  GQueue discarded_responses;   /* gchar*: ids whose late deltas are dropped */
  RealtimeSessionConfig *sent_config;
  guint8 carry_byte;            /* odd byte of a PCM16 delta */
  gboolean has_carry;
  /* callbacks of the session on the stack: a release from inside one (a
   * bus handler on the call loop) frees the memory when they return */
  guint dispatch_depth;
  gboolean free_deferred;

  /* shared with the streaming threads (lock) */
  GMutex lock;
  GCond cond;
  SessionState state;
  GstElement *src;
  GstOpenAIRealtimeOutputFunc output_func;      /* loop-driven src */
  GstElement *sink;
  RealtimeAudioFormat src_format;       /* UNSET until negotiated */
  RealtimeAudioFormat sink_format;
  GQueue pending_input;         /* GBytes, caller audio not sent yet */
  gsize pending_bytes;
  guint64 dropped_input_bytes;
  gboolean flush_scheduled;
  GQueue output;                /* GstOpenAIRealtimeAudioChunk for the src */
  gboolean barge_in;
  gboolean barge_in_dropped;
  gboolean src_flushing;
  GQueue work;                  /* SessionWork, run on the loop in order */
  gboolean stopped;             /* no more work is queued */
  gboolean loop_done;           /* the loop side is torn down */
};

/* Work for the session's loop: @func runs there with the strings and value
 * given when it was queued. */
typedef struct _SessionWork SessionWork;
typedef void (*SessionWorkFunc) (GstOpenAIRealtimeSession * self,
    SessionWork * work);

struct _SessionWork
{
  SessionWorkFunc func;
  gchar *a;
  gchar *b;
  gint64 value;
};

/* gstopenairealtimesession.c: state, timers, sending, work queue */
void session_set_state (GstOpenAIRealtimeSession * self, SessionState state);
SessionState session_get_state (GstOpenAIRealtimeSession * self);
void session_assert_loop_thread (GstOpenAIRealtimeSession * self);
GSource *session_arm (GstOpenAIRealtimeSession * self, guint ms, GSourceFunc func);
void session_disarm (GSource ** source);
void session_send (GstOpenAIRealtimeSession * self, gchar * json);
/* loop thread: around callbacks that may reach application code */
void session_dispatch_begin (GstOpenAIRealtimeSession * self);
void session_dispatch_end (GstOpenAIRealtimeSession * self);
void session_history_entry_free (HistoryEntry * entry);
/* any thread */
void session_post (GstOpenAIRealtimeSession * self, GstStructure * s);
/* any thread, lock held: TRUE if the caller must run the queue at once
 * (after unlocking), see the definition */
gboolean session_queue_work_locked (GstOpenAIRealtimeSession * self,
    SessionWorkFunc func, const gchar * a, const gchar * b, gint64 value);
/* any thread, lock not held */
void session_queue_work (GstOpenAIRealtimeSession * self, SessionWorkFunc func,
    const gchar * a, const gchar * b, gint64 value);
/* loop thread: runs what was queued, in order */
void session_run_work (GstOpenAIRealtimeSession * self);

/* gstopenairealtimesessionqueues.c */
/* loop thread: sends the caller audio that waited for the session */
void session_flush_input (GstOpenAIRealtimeSession * self);
/* loop thread: tells a loop-driven source that there is something to pull */
void session_notify_src (GstOpenAIRealtimeSession * self);

/* gstopenairealtimeconnection.c, loop thread */
void session_start_connect (GstOpenAIRealtimeSession * self);
void session_drop_connection (GstOpenAIRealtimeSession * self, gboolean close);
void session_fatal (GstOpenAIRealtimeSession * self, GQuark domain, gint code,
    const gchar * type, const gchar * error_code, const gchar * message);
void session_schedule_reconnect (GstOpenAIRealtimeSession * self, const gchar * reason);
void session_request_response (GstOpenAIRealtimeSession * self, const gchar * instructions);
void session_on_ready (GstOpenAIRealtimeSession * self);
void session_try_send_update (GstOpenAIRealtimeSession * self);
void session_renew (GstOpenAIRealtimeSession * self);
void session_history_add (GstOpenAIRealtimeSession * self, HistoryKind kind,
    const gchar * item_id, const gchar * role, const gchar * text,
    const gchar * call_id, const gchar * name);

/* gstopenairealtimeevents.c, loop thread */
void session_handle_text (GstOpenAIRealtimeSession * self, const gchar * data, gsize size);
void session_post_error (GstOpenAIRealtimeSession * self, const gchar * type,
    const gchar * code, const gchar * message, gboolean fatal);

G_END_DECLS

#endif
