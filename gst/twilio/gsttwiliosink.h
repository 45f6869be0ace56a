/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_TWILIO_SINK_H__
#define __GST_TWILIO_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

#include "gsttwilioelements.h"

G_BEGIN_DECLS

#define GST_TYPE_TWILIO_SINK (gst_twilio_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTwilioSink, gst_twilio_sink, GST, TWILIO_SINK, GstBaseSink)

/* The custom query (GST_QUERY_CUSTOM) answered like POSITION, which
 * converters pass on (see the element docs); applications use the strings,
 * not this header. */
#define GST_TWILIO_SINK_PLAYED_POSITION "played-position"
#define GST_TWILIO_SINK_PLAYED_POSITION_FIELD "position"

G_END_DECLS

#endif
