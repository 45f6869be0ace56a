/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_TWILIO_SRC_H__
#define __GST_TWILIO_SRC_H__

#include <gst/gst.h>

#include "gsttwilioelements.h"

G_BEGIN_DECLS

#define GST_TYPE_TWILIO_SRC (gst_twilio_src_get_type ())
G_DECLARE_FINAL_TYPE (GstTwilioSrc, gst_twilio_src, GST, TWILIO_SRC, GstElement)

G_END_DECLS

#endif
