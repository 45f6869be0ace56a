/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_TWILIO_ELEMENTS_H__
#define __GST_TWILIO_ELEMENTS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

void twilio_element_init (GstPlugin * plugin);

GST_ELEMENT_REGISTER_DECLARE (twiliosrc);
GST_ELEMENT_REGISTER_DECLARE (twiliosink);

G_END_DECLS

#endif /* __GST_TWILIO_ELEMENTS_H__ */
