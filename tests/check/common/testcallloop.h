/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An application's call loop for the loop-driven tests (docs/design.md,
 * "Loop-driven calls"): a thread that owns a GMainContext of its own (thread
 * default, GMainLoop) for its whole life, what the launcher's call loops
 * are. Shared by tests/check/twilio/loop.c and
 * tests/check/openairealtime/loopdriven.c.
 */
#ifndef __TEST_CALL_LOOP_H__
#define __TEST_CALL_LOOP_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define TEST_LOOP_CONTEXT_TYPE "gst-realtime-bridge.loop"

typedef struct _TestCallLoop TestCallLoop;

/* Starts the loop's thread; @setup (@data), if any, runs on it before the
 * loop runs, and this returns once it did. */
TestCallLoop *test_call_loop_start (GSourceFunc setup, gpointer data);
/* @teardown (@data), if any, runs on the loop; then the loop quits, what is
 * still pending on its context is dispatched, and the thread is joined. */
void test_call_loop_stop (TestCallLoop * loop, GSourceFunc teardown,
    gpointer data);
GMainContext *test_call_loop_get_context (TestCallLoop * loop);
GThread *test_call_loop_get_thread (TestCallLoop * loop);
/* Runs @func (@data) on the loop and waits for it, failing the test after
 * @timeout_s (a deadlock). */
void test_call_loop_run (TestCallLoop * loop, GSourceFunc func, gpointer data,
    gdouble timeout_s);
/* The gst-realtime-bridge.loop GstContext naming the loop, set on
 * @element (a pipeline passes it to its children). */
void test_call_loop_set_context (TestCallLoop * loop, GstElement * element);

G_END_DECLS

#endif
