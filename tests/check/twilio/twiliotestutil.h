/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the twilio element tests (gstcheck assertions inside).
 */
#ifndef __TWILIO_TEST_UTIL_H__
#define __TWILIO_TEST_UTIL_H__

#include <gst/gst.h>
#include <gst/check/gstharness.h>

#include "faketwilio.h"
#include "twilioprotocol.h"

G_BEGIN_DECLS

#define MZ "MZ00000000000000000000000000000002"
#define AC "AC00000000000000000000000000000001"
#define CA "CA00000000000000000000000000000003"
#define DEADLINE 20

/* A Twilio start message for MZ/AC/CA with the given media format. */
gchar *start_json (const gchar * encoding, gint rate);
/* One inbound media message of @len bytes of @fill. */
void send_media (FakeTwilio * fake, guint seq, guint chunk, guint ts,
    guint8 fill, gsize len);
/* Pops bus messages until an element message named @name arrives (fails
 * on an error); with @name NULL, until an error or EOS. */
GstMessage *wait_message (GstBus * bus, const gchar * name);
/* A playing twiliosrc harness with a standalone server on 127.0.0.1:any. */
GstHarness *make_src_harness (const gchar * stream, GstBus * bus,
    gint * port);
/* Reads what the sink sent until a message of @event; media payloads are
 * checked to be whole frames and counted into @media_bytes. */
TwilioMessage *pop_until (FakeTwilio * fake, TwilioEvent event,
    gsize * media_bytes);

G_END_DECLS

#endif
