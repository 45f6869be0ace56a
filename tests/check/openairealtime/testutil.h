/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the openairealtime element tests (elements.c,
 * sessionlife.c): elements pointed at a fake Realtime server, harnesses,
 * waits on bus messages with deadlines.
 */
#ifndef __REALTIME_TEST_UTIL_H__
#define __REALTIME_TEST_UTIL_H__

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "fakerealtime.h"

G_BEGIN_DECLS

#define TEST_KEY "sk-test-0123456789abcdef"
#define PCM_CAPS "audio/x-raw, format=S16LE, layout=interleaved, rate=24000, channels=1"
#define WAIT_S 10.0

GstElement *make_element (const gchar * factory, FakeRealtime * server,
    const gchar * session);
/* A sink harness fed with @caps, posting to @bus; the NULL-terminated
 * properties are set before it starts (the session takes its
 * configuration at start). */
GstHarness *sink_harness_with (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus, const gchar * first_property, ...);
GstHarness *sink_harness (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus);
/* A playing source harness whose downstream accepts @caps. */
GstHarness *src_harness (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus);
GstBuffer *silence_buffer (gsize size);
/* Pushes @n buffers of @size bytes counting up from *@counter. */
void push_pattern (GstHarness * h, guint n, gsize size, guint8 * counter);
/* The next element message named @name (others are skipped), a copy, or
 * NULL after @timeout_s. */
GstStructure *wait_message (GstBus * bus, const gchar * name, gdouble timeout_s);
GError *wait_error (GstBus * bus, gdouble timeout_s, gchar ** debug);
/* The next buffer of model audio (preroll silence, flagged GAP, skipped). */
GstBuffer *pull_buffer (GstHarness * h);
void release_harness (GstHarness * h);
void release_bus (GstBus * bus);


G_END_DECLS

#endif
