/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A loopback WebSocket client playing Twilio, in its own thread with its
 * own GMainContext.
 */
#ifndef __FAKE_TWILIO_H__
#define __FAKE_TWILIO_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _FakeTwilio FakeTwilio;

/* Connects to ws://127.0.0.1:@port@path, with @signature as
 * X-Twilio-Signature when not NULL. Always returns a FakeTwilio; check
 * fake_twilio_is_connected () and fake_twilio_get_status (). */
FakeTwilio *fake_twilio_connect (gint port, const gchar * path,
    const gchar * signature);
gboolean fake_twilio_is_connected (FakeTwilio * fake);
guint fake_twilio_get_status (FakeTwilio * fake);
void fake_twilio_send (FakeTwilio * fake, const gchar * text);
void fake_twilio_send_binary (FakeTwilio * fake, gsize size);
/* The next text frame received, or NULL after @timeout_s. */
gchar *fake_twilio_pop (FakeTwilio * fake, guint timeout_s);
/* Waits until the server closed the socket. */
gboolean fake_twilio_wait_closed (FakeTwilio * fake, guint timeout_s);
void fake_twilio_close (FakeTwilio * fake, gushort code);
void fake_twilio_free (FakeTwilio * fake);

G_END_DECLS

#endif
