/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local Realtime model: a WebSocket server on loopback that speaks the
 * GA OpenAI Realtime protocol with an echo agent (it says the caller's
 * utterance back). One thread with its own GMainContext serves every
 * session. See docs/local-model.md.
 */
#ifndef __LOCAL_MODEL_H__
#define __LOCAL_MODEL_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _LocalModel LocalModel;

/* Measurement hooks (tools/bench): called on the model's thread, with
 * g_get_monotonic_time () stamps, so that a program embedding the model can
 * time audio on the same clock as its other parts. Any member may be NULL.
 * @session_id is the session's id (as in session.created). */
typedef struct
{
  /* a session.update was applied (before session.updated is sent) */
  void (*session_updated) (const gchar * session_id, gint64 now_us,
      gpointer user_data);
  /* the decoded payload of an input_audio_buffer.append: @n samples of
   * 24 kHz mono PCM16, arrived at @arrival_us (the message was received) */
  void (*input_audio) (const gchar * session_id, const gint16 * samples,
      guint n, gint64 arrival_us, gpointer user_data);
  /* a response.output_audio.delta of @duration_us was sent; @offset_us is
   * its position in the response's audio (0 = the response's first audio) */
  void (*output_audio) (const gchar * session_id, const gchar * response_id,
      gint64 offset_us, gint64 duration_us, gint64 sent_us,
      gpointer user_data);
  gpointer user_data;
} LocalModelProbe;

typedef struct
{
  const gchar *address;         /* default "127.0.0.1" */
  guint port;                   /* 0 = any free port */
  gboolean reuse_port;          /* listen with SO_REUSEPORT: several models
                                 * (each its own thread) may then share
                                 * @port, the kernel spreading connections
                                 * over them (tools/bench) */

  /* behaviour */
  gdouble audio_pace;           /* response audio speed: 1.0 = real time,
                                 * 2.0 (default) = twice real time,
                                 * <= 0 = everything at once */
  guint chunk_ms;               /* duration of one output_audio.delta, default 100 */
  guint function_call_every;    /* with tools declared: call the first tool on
                                 * every Nth caller turn; 0 = never (default 3) */
  guint session_limit_ms;       /* maximum session duration, like the real
                                 * API's 60 minutes (the default); at the
                                 * limit an error session_expired and a close
                                 * 1001; 0 = no limit */

  /* faults */
  guint response_delay_ms;      /* wait before each response.created */
  guint close_after_ms;         /* close a session this long after it opened, 0 = off */
  guint close_after_appends;    /* close a session after this many appends, 0 = off */
  gint close_code;              /* 0 (default): drop the TCP connection without a
                                 * close frame; else a WebSocket close code */
  guint close_sessions;         /* the close faults hit only the first N sessions
                                 * of this server; 0 = every session */
  guint error_every_appends;    /* inject an `error` event every N appends, 0 = off */
  guint upgrade_failures;       /* answer the first N upgrade requests with
                                 * upgrade_failure_status */
  guint upgrade_failure_status; /* default 503 */
  const gchar *reject_key;      /* this API key gets 401 invalid_api_key */

  /* benchmarking */
  guint answer_tone_ms;         /* > 0: answer each caller utterance with a
                                 * 1 kHz tone of this length, at full level
                                 * from its first sample, instead of the
                                 * echo (so its onset is the response's
                                 * first sample); 0 = echo (default) */
  const LocalModelProbe *probe; /* not copied: must outlive the model */
  GPollFunc poll_func;          /* the model's loop polls with this
                                 * (NULL: GLib's poll) */

  /* observability */
  const gchar *events_log;      /* append one JSON line per client event */
} LocalModelOptions;

/* Fills @opts with the defaults. */
void local_model_options_init (LocalModelOptions * opts);

/* Starts the server thread and returns once it listens. @opts may be NULL
 * (defaults); it is copied. */
LocalModel *local_model_new (const LocalModelOptions * opts, GError ** error);
/* ws://ADDRESS:PORT/v1/realtime */
gchar *local_model_get_url (LocalModel * model);
guint local_model_get_port (LocalModel * model);
/* Closes every session and stops the thread. */
void local_model_free (LocalModel * model);

/* Counters since the server started; thread-safe snapshot. */
typedef struct
{
  guint sessions_total;         /* WebSocket sessions accepted */
  guint sessions_active;
  guint upgrades_rejected;      /* 401, 5xx, bad path/query */
  guint64 appends;              /* input_audio_buffer.append events */
  guint64 audio_bytes_received; /* decoded append payload bytes */
  guint session_updates;
  guint speech_started;
  guint responses;              /* response.created */
  guint responses_completed;
  guint responses_cancelled;    /* response.done status cancelled (barge-in or cancel) */
  guint cancels;                /* response.cancel events received */
  guint truncates;              /* conversation.item.truncate events accepted */
  GArray *truncate_audio_end_ms;/* gint64 each, in arrival order */
  guint function_calls;         /* function calls the model made */
  guint function_outputs;       /* function_call_output items received */
  guint errors_sent;            /* `error` events sent */
  guint faults_closed;          /* sessions closed by a close fault */
  guint sessions_expired;       /* sessions closed at session_limit_ms */
  guint idle_timeouts;          /* input_audio_buffer.timeout_triggered sent */
} LocalModelStats;

void local_model_get_stats (LocalModel * model, LocalModelStats * stats);
void local_model_stats_clear (LocalModelStats * stats);
/* The same counters as a JSON object (also served at GET /stats). */
gchar *local_model_get_stats_json (LocalModel * model);

G_END_DECLS

#endif
