/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared between the files of the twilioprotocol library, not installed
 * or used elsewhere.
 */
#ifndef __TWILIO_PROTOCOL_PRIVATE_H__
#define __TWILIO_PROTOCOL_PRIVATE_H__

#include "twilioprotocol.h"

G_BEGIN_DECLS

/* twiliomedia.c: a media or mark message of the plain shape, without a
 * JSON tree; NULL means "ask the general parser" (never an error). */
TwilioMessage *twilio_media_fast_parse (const gchar * json, gsize len,
    TwilioParseFlags flags);

/* twilioprotocolbuild.c: the JsonBuilder versions, used by twiliomedia.c for
 * strings that need escaping. */
gchar *twilio_build_media_slow (const gchar * stream_sid,
    const guint8 * data, gsize len);
gchar *twilio_build_mark_slow (const gchar * stream_sid, const gchar * name);
gchar *twilio_build_inbound_media_slow (guint64 sequence_number,
    const gchar * stream_sid, const gchar * track, guint64 chunk,
    guint64 timestamp_ms, const guint8 * data, gsize len);
gchar *twilio_build_mark_echo_slow (guint64 sequence_number,
    const gchar * stream_sid, const gchar * name);

G_END_DECLS

#endif /* __TWILIO_PROTOCOL_PRIVATE_H__ */
