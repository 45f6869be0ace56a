/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Twilio Media Streams messages: parsing and building, no I/O.
 * SKELETON: only recognises the event name so far.
 */
#ifndef __TWILIO_PROTOCOL_H__
#define __TWILIO_PROTOCOL_H__

#include <glib.h>

G_BEGIN_DECLS

gchar *twilio_protocol_peek_event (const gchar * json, gsize len, GError ** error);

G_END_DECLS

#endif
