/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_OPENAI_REALTIME_SRC_H__
#define __GST_OPENAI_REALTIME_SRC_H__

#include <gst/gst.h>

#include "gstopenairealtimeelements.h"

G_BEGIN_DECLS

#define GST_TYPE_OPENAI_REALTIME_SRC (gst_openai_realtime_src_get_type ())
G_DECLARE_FINAL_TYPE (GstOpenAIRealtimeSrc, gst_openai_realtime_src, GST, OPENAI_REALTIME_SRC, GstElement)

G_END_DECLS

#endif
