/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One-time initialisation shared by the twilio elements.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttwilioelements.h"

GST_DEBUG_CATEGORY (gst_twilio_stream_debug);

void
twilio_element_init (GstPlugin * plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_twilio_stream_debug, "twiliostream", 0,
        "Twilio Media Streams WebSocket stream");
    g_once_init_leave (&done, 1);
  }
}
