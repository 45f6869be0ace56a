/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_OPENAI_REALTIME_SINK_H__
#define __GST_OPENAI_REALTIME_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

#include "gstopenairealtimeelements.h"

G_BEGIN_DECLS

#define GST_TYPE_OPENAI_REALTIME_SINK (gst_openai_realtime_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstOpenAIRealtimeSink, gst_openai_realtime_sink, GST, OPENAI_REALTIME_SINK, GstBaseSink)

G_END_DECLS

#endif
