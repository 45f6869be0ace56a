/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One simulated Twilio call: the WebSocket to the bridge, what the caller
 * sends (connected, start, media paced on the caller's clock, dtmf, stop)
 * and Twilio's side of the bridge's audio (playout, mark echoes, clear,
 * protocol checks). Everything runs on the one loop thread of the program,
 * driven by callsim_call_tick() on a shared 10 ms grid.
 */
#ifndef __CALLSIM_CALL_H__
#define __CALLSIM_CALL_H__

#include <libsoup/soup.h>

#include "callsimreport.h"
#include "callsimscript.h"

G_BEGIN_DECLS

/* Measurement hooks (tools/bench), called on the loop thread with
 * g_get_monotonic_time () stamps; any member may be NULL. @index is the
 * call's (1-based). */
typedef struct
{
  /* `start` was just sent */
  void (*started) (guint index, gint64 sent_us, gpointer user_data);
  /* media frame @frame (0-based, chunk - 1) of 160 μ-law bytes was just
   * sent */
  void (*media_sent) (guint index, gint64 frame, const guint8 * mulaw,
      gint64 sent_us, gpointer user_data);
  /* a valid media message of the bridge arrived (its decoded payload) */
  void (*media_received) (guint index, const guint8 * mulaw, gsize len,
      gint64 arrival_us, gpointer user_data);
  gpointer user_data;
} CallsimProbe;

/* Read-only for the calls; shared by all of them. */
typedef struct
{
  gchar *url;                   /* ws://host:port/path */
  gchar *signed_url;            /* the URL the signature covers */
  gchar *auth_token;            /* NULL: no X-Twilio-Signature */
  gchar *account_sid;
  gchar **param_names;          /* customParameters, NULL-terminated */
  gchar **param_values;
  GBytes *utterance;            /* μ-law 8 kHz, shared by all calls */
  GBytes *barge_in_utterance;   /* NULL: no barge-in */
  CallsimTimeSpec barge_in_at;
  gint64 silence_before_ms;
  gint64 silence_after_ms;
  gint64 first_timestamp_ms;
  gint64 reply_timeout_ms;
  gint64 connect_timeout_ms;
  gint64 max_duration_ms;
  gboolean hangup;
  CallsimTimeSpec hangup_at;
  gboolean abrupt;
  CallsimDtmf *dtmf;
  guint n_dtmf;
  gboolean expect_audio;
  gchar *record_path;           /* per call already (NULL: no recording) */
  const CallsimProbe *probe;    /* NULL: none */
  /* where the call's 20 ms frames fall after the tick grid's points; a
   * driver whose ticker runs finer than 10 ms can spread its calls' frames
   * as independent calls are (0: on the grid) */
  gint64 frame_phase_us;
} CallsimConfig;

typedef struct _CallsimCall CallsimCall;

typedef void (*CallsimCallFinished) (CallsimCall * call, gpointer user_data);

/* @record_path: this call's WAV file or NULL. */
CallsimCall *callsim_call_new (const CallsimConfig * config, guint index,
    const gchar * record_path, CallsimReport * report,
    CallsimCallFinished finished, gpointer user_data);
void callsim_call_free (CallsimCall * call);

/* Starts connecting; @grid_origin_us is the monotonic time of the shared
 * 10 ms tick grid the call aligns its clock to. */
void callsim_call_start (CallsimCall * call, SoupSession * session,
    gint64 grid_origin_us);
/* Sends and plays out whatever is due by @now_us. */
void callsim_call_tick (CallsimCall * call, gint64 now_us);
/* Ends the call now (stop + close), e.g. on SIGINT. */
void callsim_call_hang_up (CallsimCall * call);

gboolean callsim_call_is_finished (const CallsimCall * call);
const CallsimStats *callsim_call_get_stats (const CallsimCall * call);

#define CALLSIM_TICK_US (10 * G_TIME_SPAN_MILLISECOND)

G_END_DECLS

#endif
