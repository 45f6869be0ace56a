/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One-time initialisation shared by the openairealtime elements.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimeelements.h"
#include "gstopenairealtimesettings.h"

GST_DEBUG_CATEGORY (gst_openai_realtime_session_debug);

void
openai_realtime_element_init (GstPlugin * plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_session_debug,
        "openairealtimesession", 0, "OpenAI Realtime WebSocket session");
    gst_type_mark_as_plugin_api (GST_TYPE_OPENAI_REALTIME_TURN_DETECTION, 0);
    gst_type_mark_as_plugin_api (GST_TYPE_OPENAI_REALTIME_NOISE_REDUCTION, 0);
    g_once_init_leave (&done, 1);
  }
}
