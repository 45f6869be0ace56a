/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_OPENAI_REALTIME_ELEMENTS_H__
#define __GST_OPENAI_REALTIME_ELEMENTS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

void openai_realtime_element_init (GstPlugin * plugin);

GST_ELEMENT_REGISTER_DECLARE (openairealtimesrc);
GST_ELEMENT_REGISTER_DECLARE (openairealtimesink);

G_END_DECLS

#endif /* __GST_OPENAI_REALTIME_ELEMENTS_H__ */
