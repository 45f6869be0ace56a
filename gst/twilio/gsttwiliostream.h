/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stream object shared by twiliosrc and twiliosink of one call.
 * SKELETON: a refcounted registry entry by name, no network yet.
 */
#ifndef __GST_TWILIO_STREAM_H__
#define __GST_TWILIO_STREAM_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _GstTwilioStream GstTwilioStream;

GstTwilioStream *gst_twilio_stream_get (const gchar * name);
void gst_twilio_stream_unref (GstTwilioStream * stream);
const gchar *gst_twilio_stream_get_name (GstTwilioStream * stream);

G_END_DECLS

#endif
