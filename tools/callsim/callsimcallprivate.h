/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Private to callsimcall.c (the caller's side: connecting, what the caller
 * sends, the call script) and callsimcallbridge.c (what the bridge sends and
 * Twilio's playout of it): the call's state, shared by both halves. All of
 * it is used on the loop thread only.
 */
#ifndef __CALLSIM_CALL_PRIVATE_H__
#define __CALLSIM_CALL_PRIVATE_H__

#include "callsimaudio.h"
#include "callsimcall.h"
#include "callsimplayout.h"

G_BEGIN_DECLS

#define MS G_TIME_SPAN_MILLISECOND

typedef enum
{
  CALL_IDLE,
  CALL_CONNECTING,
  CALL_STREAMING,
  CALL_CLOSING,
  CALL_FINISHED,
} CallState;

typedef struct
{
  GBytes *audio;
  gboolean scheduled;
  gint64 start_frame;
  gint64 n_frames;
  gboolean ended;
  gint64 end_sent_us;
  gint64 end_stream_ms;
} Utterance;

struct _CallsimCall
{
  const CallsimConfig *config;
  guint index;
  CallsimReport *report;
  CallsimCallFinished finished;
  gpointer user_data;
  CallsimStats stats;
  CallState state;

  SoupMessage *msg;
  SoupWebsocketConnection *ws;
  GCancellable *cancellable;

  gint64 grid_origin_us;
  gint64 connect_start_us;
  gint64 start_sent_us;
  gint64 stream_start_us;       /* stream time 0, on the tick grid */
  guint64 sequence;             /* last sequenceNumber sent */
  gint64 frames_sent;
  gint64 playout_ticks;

  Utterance utterances[2];
  guint n_utterances;
  gboolean *dtmf_done;

  CallsimPlayout *playout;
  gchar *record_path;
  CallsimWavWriter *recorder;

  guint64 received_bytes;
  guint64 consumed_bytes;       /* played or cleared, in arrival order */
  guint64 reply_threshold;      /* received_bytes when utterance 1 ended */
  gboolean reply_heard;
  gint64 reply_stream_ms;
  gboolean sounding;
  guint64 segment_bytes;
  gint64 last_media_us;
  gint64 idle_since_ms;
  guint violation_events;
  gboolean connect_timed_out;
};

/* callsimcall.c */
/* A timeline line of this call, stamped with the time since connecting. */
void callsim_call_event (CallsimCall * call, const gchar * name,
    JsonObject * fields);
/* Sends @text (taken) if the WebSocket is open; drops it otherwise. */
void callsim_call_send_text (CallsimCall * call, gchar * text);
/* Ends the call once: @end (or the end already set), checks, summary. */
void callsim_call_finish (CallsimCall * call, const gchar * end);

/* callsimcallbridge.c */
/* Connects the handlers of what the bridge sends to @ws. */
void callsim_call_watch_bridge (CallsimCall * call,
    SoupWebsocketConnection * ws);
/* Plays out the next 20 ms of the bridge's audio (echoing marks reached). */
void callsim_call_play_tick (CallsimCall * call);

G_END_DECLS

#endif
