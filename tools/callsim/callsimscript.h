/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The call script of realtime-bridge-call: option values (times, DTMF,
 * custom parameters) parsed into plain structs, and Twilio-like SIDs. Pure.
 */
#ifndef __CALLSIM_SCRIPT_H__
#define __CALLSIM_SCRIPT_H__

#include <glib.h>

G_BEGIN_DECLS

#define CALLSIM_SCRIPT_ERROR (callsim_script_error_quark ())
GQuark callsim_script_error_quark (void);

typedef enum
{
  CALLSIM_SCRIPT_ERROR_INVALID,
} CallsimScriptError;

/* When something happens in a call. */
typedef enum
{
  /* ms of stream time (since the `start` message) */
  CALLSIM_TIME_STREAM,
  /* ms after the caller first hears the bridge's reply to the first
   * utterance ("reply+MS") */
  CALLSIM_TIME_REPLY,
} CallsimTimeBase;

typedef struct
{
  CallsimTimeBase base;
  gint64 ms;
} CallsimTimeSpec;

/* "MS" or "reply+MS" (MS a non-negative integer). */
gboolean callsim_time_spec_parse (const gchar * text, CallsimTimeSpec * spec,
    GError ** error);
/* Writes the spec back in the option syntax into @buf. */
const gchar *callsim_time_spec_to_string (const CallsimTimeSpec * spec,
    gchar * buf, gsize size);

typedef struct
{
  gchar digit[2];
  CallsimTimeSpec at;
} CallsimDtmf;

/* "DIGIT@TIME", DIGIT one of 0-9 * # A-D, TIME as above. */
gboolean callsim_dtmf_parse (const gchar * text, CallsimDtmf * dtmf,
    GError ** error);

/* "name=value" with a non-empty name; the value may be empty. */
gboolean callsim_param_parse (const gchar * text, gchar ** name,
    gchar ** value, GError ** error);

/* @prefix ("AC", "CA", "MZ") followed by 32 lowercase hex digits. */
gchar *callsim_make_sid (const gchar * prefix);

/* @path with "-@index" inserted before its extension (for one file per
 * call): "heard.wav", 3 -> "heard-3.wav". */
gchar *callsim_path_for_call (const gchar * path, guint index);

G_END_DECLS

#endif
