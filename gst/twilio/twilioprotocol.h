/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Twilio Media Streams messages (bidirectional streams), both directions:
 * parsing into plain structs and building the exact JSON text, plus the
 * X-Twilio-Signature algorithm. Pure: GLib and json-glib only, no I/O, no
 * GStreamer. Shared by the twilio plugin, the call simulator and the launcher.
 *
 * Parsing is tolerant (any key order, optional keys may be missing, counters
 * may be JSON strings or numbers, numbers may be strings) and reports what is
 * wrong in a GError of TWILIO_PROTOCOL_ERROR. Building is strict: the output
 * has exactly the keys and key order of Twilio's documented examples.
 *
 * The signature functions live in twiliosignature.h (included here, same
 * static library).
 */
#ifndef __TWILIO_PROTOCOL_H__
#define __TWILIO_PROTOCOL_H__

#include <glib.h>

#include "twiliosignature.h"

G_BEGIN_DECLS

/* μ-law 8 kHz mono: 160 bytes are 20 ms, the frame size Twilio sends. */
#define TWILIO_SAMPLE_RATE 8000
#define TWILIO_FRAME_BYTES 160
#define TWILIO_FRAME_MS 20
#define TWILIO_MULAW_SILENCE 0xFF
#define TWILIO_ENCODING_MULAW "audio/x-mulaw"

#define TWILIO_PROTOCOL_ERROR (twilio_protocol_error_quark ())
GQuark twilio_protocol_error_quark (void);

typedef enum
{
  TWILIO_PROTOCOL_ERROR_MALFORMED,      /* not JSON, or not a JSON object */
  TWILIO_PROTOCOL_ERROR_UNKNOWN_EVENT,  /* no "event", or one not valid in this direction */
  TWILIO_PROTOCOL_ERROR_MISSING_FIELD,  /* a required key is absent */
  TWILIO_PROTOCOL_ERROR_WRONG_TYPE,     /* a key holds the wrong JSON type */
  TWILIO_PROTOCOL_ERROR_BAD_NUMBER,     /* a counter is not a non-negative integer */
  TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD,    /* media.payload is not valid base64 */
  TWILIO_PROTOCOL_ERROR_EXTRA_FIELD,    /* unknown key (TWILIO_PARSE_STRICT only) */
  TWILIO_PROTOCOL_ERROR_UNSUPPORTED_FORMAT, /* start.mediaFormat is not mu-law 8 kHz mono */
} TwilioProtocolError;

typedef enum
{
  TWILIO_EVENT_UNKNOWN = 0,
  TWILIO_EVENT_CONNECTED,       /* Twilio -> server */
  TWILIO_EVENT_START,           /* Twilio -> server */
  TWILIO_EVENT_MEDIA,           /* both directions */
  TWILIO_EVENT_DTMF,            /* Twilio -> server */
  TWILIO_EVENT_MARK,            /* both directions (echo / request) */
  TWILIO_EVENT_STOP,            /* Twilio -> server */
  TWILIO_EVENT_CLEAR,           /* server -> Twilio */
} TwilioEvent;

typedef enum
{
  /* Default: a message Twilio sent (what twiliosrc receives). */
  TWILIO_PARSE_FROM_TWILIO = 0,
  /* A message the server sent to Twilio (what the call simulator receives). */
  TWILIO_PARSE_TO_TWILIO = 1 << 0,
  /* Also reject keys Twilio does not define and a missing streamSid, as
   * Twilio does with warning 31951 (for the simulator's checks). */
  TWILIO_PARSE_STRICT = 1 << 1,
  /* Always use the general JSON parser, also for the media and mark
   * messages the per-frame fast path handles (for tests and benchmarks;
   * the result is the same). */
  TWILIO_PARSE_NO_FAST_PATH = 1 << 2,
} TwilioParseFlags;

/* One parsed message. Only the fields of its event are set; strings are
 * owned by the message. Counters carry a has_ flag because they are
 * optional in tolerant parsing. */
typedef struct
{
  TwilioEvent event;
  gchar *stream_sid;            /* NULL when absent (connected) */
  gboolean has_sequence_number;
  guint64 sequence_number;

  /* connected */
  gchar *protocol;
  gchar *version;

  /* start and stop */
  gchar *account_sid;
  gchar *call_sid;
  /* start */
  gchar **tracks;               /* NULL-terminated, never NULL after parse of start */
  gboolean has_media_format;
  gchar *encoding;
  gint sample_rate;
  gint channels;
  /* customParameters in document order; both NULL-terminated, same length,
   * never NULL after parse of start (empty when the key is missing) */
  gchar **custom_parameter_names;
  gchar **custom_parameter_values;

  /* media (Twilio -> server: track/chunk/timestamp; both: payload) and dtmf
   * (track) */
  gchar *track;
  gboolean has_chunk;
  guint64 chunk;
  gboolean has_timestamp;
  guint64 timestamp_ms;
  GBytes *payload;              /* decoded audio */

  /* dtmf */
  gchar *digit;

  /* mark */
  gchar *mark_name;
} TwilioMessage;

const gchar *twilio_event_to_string (TwilioEvent event);
TwilioEvent twilio_event_from_string (const gchar * name);

TwilioMessage *twilio_message_new (TwilioEvent event);
void twilio_message_free (TwilioMessage * message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TwilioMessage, twilio_message_free)

/* Parses one text frame. @len may be -1 for a NUL-terminated string.
 * Returns NULL with @error set when the frame is not a valid message. */
TwilioMessage *twilio_message_parse (const gchar * json, gssize len,
    TwilioParseFlags flags, GError ** error);

/* The start message's mediaFormat is μ-law, 8000 Hz, mono (the only format
 * this code handles). A missing mediaFormat is accepted as the documented
 * default. On mismatch returns FALSE and sets @error naming what came. */
gboolean twilio_message_check_media_format (const TwilioMessage * message,
    GError ** error);

/* Serialises @message exactly like Twilio's documented messages (key order
 * of the docs; counters as strings; sampleRate/channels as numbers).
 * Direction follows the event and the fields: a media or mark without a
 * sequence number is the server's form. Returns NULL for TWILIO_EVENT_UNKNOWN. */
gchar *twilio_message_to_json (const TwilioMessage * message);

/* Server -> Twilio. */
gchar *twilio_build_media (const gchar * stream_sid, const guint8 * data,
    gsize len);
gchar *twilio_build_mark (const gchar * stream_sid, const gchar * name);
gchar *twilio_build_clear (const gchar * stream_sid);

/* Twilio -> server (the simulator's side). @custom_names/@custom_values may
 * be NULL (then "customParameters":{} is sent); @tracks NULL means
 * ["inbound"]. */
gchar *twilio_build_connected (void);
gchar *twilio_build_start (guint64 sequence_number, const gchar * account_sid,
    const gchar * stream_sid, const gchar * call_sid,
    const gchar * const *tracks, const gchar * const *custom_names,
    const gchar * const *custom_values);
gchar *twilio_build_inbound_media (guint64 sequence_number,
    const gchar * stream_sid, const gchar * track, guint64 chunk,
    guint64 timestamp_ms, const guint8 * data, gsize len);
gchar *twilio_build_dtmf (guint64 sequence_number, const gchar * stream_sid,
    const gchar * digit);
gchar *twilio_build_mark_echo (guint64 sequence_number,
    const gchar * stream_sid, const gchar * name);
gchar *twilio_build_stop (guint64 sequence_number, const gchar * stream_sid,
    const gchar * account_sid, const gchar * call_sid);

/* Strict base64 (RFC 4648 alphabet, '=' padding, length a multiple of 4).
 * g_base64_decode() silently skips invalid characters, which would turn
 * garbage into noise. Returns NULL with @error set on invalid input. */
GBytes *twilio_base64_decode (const gchar * text, gsize len, GError ** error);

/* Kept from the first skeleton: the "event" of a frame, or NULL. */
gchar *twilio_protocol_peek_event (const gchar * json, gsize len,
    GError ** error);

G_END_DECLS

#endif /* __TWILIO_PROTOCOL_H__ */
