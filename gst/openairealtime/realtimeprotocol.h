/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OpenAI Realtime events: parsing and building, no I/O.
 * SKELETON: only recognises the event name so far.
 */
#ifndef __REALTIME_PROTOCOL_H__
#define __REALTIME_PROTOCOL_H__

#include <glib.h>

G_BEGIN_DECLS

gchar *realtime_protocol_peek_type (const gchar * json, gsize len, GError ** error);

G_END_DECLS

#endif
