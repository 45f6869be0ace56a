/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Test helpers: run the real realtime-bridge program, follow its log
 * events, talk to it over HTTP and WebSocket from the test thread (which
 * pushes its own GMainContext).
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TestProcess TestProcess;

/* Starts @argv (argv[0] = program path) in a fresh temporary directory with
 * the test's environment minus the bridge's settings, plus @env (NULL-
 * terminated NAME, VALUE pairs). stdout and stderr are collected. */
TestProcess *test_process_start (const gchar * const *argv,
    const gchar * const *env, GError ** error);
/* The realtime-bridge built with this tree ($REALTIME_BRIDGE). Under
 * `meson test --setup valgrind` ($RUNNING_UNDER_VALGRIND) the bridge runs
 * in valgrind too, with the project's suppressions: a leak or an invalid
 * access makes it exit 1. */
TestProcess *test_bridge_start (const gchar * const *args,
    const gchar * const *env);
/* SIGTERM, expects exit 0 and the "stopped" event; frees @p and returns
 * everything it printed. */
gchar *test_bridge_stop (TestProcess * p);
/* The call simulator ($REALTIME_BRIDGE_CALL) against ws://127.0.0.1:@port/
 * call with --json and $BRIDGE_TEST_AUDIO as the caller's words. */
TestProcess *test_callsim_start (guint port, const gchar * const *args);
const gchar *test_process_dir (TestProcess * p);

/* Waits until a JSON line with "event" = @event (and, when @field is set,
 * @field = @value as a string) appears; returns it (owned) or NULL at the
 * deadline. Lines already seen count. */
JsonObject *test_process_wait_event (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value, gdouble timeout_s);
/* The same, for a yes or no. */
gboolean test_process_saw_event (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value, gdouble timeout_s);
guint test_process_count_events (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value);
/* Waits until @count matching events were printed; FALSE at the deadline
 * or when there are more. */
gboolean test_process_wait_count (TestProcess * p, const gchar * event,
    const gchar * field, const gchar * value, guint count, gdouble timeout_s);
/* Waits for a plain line containing @needle. */
gboolean test_process_wait_line (TestProcess * p, const gchar * needle,
    gdouble timeout_s);
/* All output so far. */
gchar *test_process_output (TestProcess * p);
/* The port from the "listening" event. */
guint test_bridge_port (TestProcess * p);

void test_process_signal (TestProcess * p, gint signum);
/* Waits for the exit; returns the exit status, or -1 at the deadline. */
gint test_process_wait_exit (TestProcess * p, gdouble timeout_s);
/* test_process_wait_exit () that prints the output of a process that did
 * not exit 0. */
gint test_process_finish (TestProcess * p, gdouble timeout_s);
/* Kills if still running, frees. */
void test_process_free (TestProcess * p);

/* HTTP from the test thread. Returns the status; @body (optional) gets the
 * response body. @headers: NULL-terminated name, value pairs. */
guint test_http (SoupSession * session, const gchar * method,
    const gchar * url, const gchar * const *headers,
    const gchar * content_type, const gchar * request_body, gchar ** body);

/* WebSocket client on the thread-default context; NULL when refused, with
 * the HTTP status in @status. */
SoupWebsocketConnection *test_ws_connect (SoupSession * session,
    const gchar * url, const gchar * const *headers, guint * status,
    gdouble timeout_s);

/* Iterates the thread-default context until *@flag or the deadline. */
gboolean test_iterate_until (volatile gboolean * flag, gdouble timeout_s);

/* Collects the text messages of @conn into the returned array. */
GPtrArray *test_ws_collect (SoupWebsocketConnection * conn);
/* Iterates until a collected message contains @needle. */
gboolean test_ws_wait_message (GPtrArray * messages, const gchar * needle,
    gdouble timeout_s);

gchar *test_twilio_signature (const gchar * token, const gchar * url,
    const gchar * const *sorted_params);

G_END_DECLS
