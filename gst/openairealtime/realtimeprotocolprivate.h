/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by realtimeprotocol.c (common parts, client events),
 * realtimesessionconfig.c (session configuration),
 * realtimeserverevents.c (server events) and realtimedeltafast.c (the
 * fast path for audio and text deltas). Not installed, not for users.
 */
#ifndef __REALTIME_PROTOCOL_PRIVATE_H__
#define __REALTIME_PROTOCOL_PRIVATE_H__

#include <json-glib/json-glib.h>

#include "realtimeprotocol.h"

G_BEGIN_DECLS

/* Serialises and frees @object. */
gchar *rtp_object_to_string (JsonObject * object);
JsonObject *rtp_event_new (const gchar * type, gboolean with_event_id);

/* Parses @json into an object with a string "type". */
JsonObject *rtp_parse_object (const gchar * json, gssize length, const gchar ** type, GError ** error);

/* Field readers: a JSON null counts as absent; a missing required field or a
 * wrong type sets @error and returns FALSE. */
gboolean rtp_get_string (JsonObject * object, const gchar * member, gboolean required, gchar ** out, GError ** error);
gboolean rtp_get_int (JsonObject * object, const gchar * member, gboolean required, gint64 * out, GError ** error);
gboolean rtp_get_double (JsonObject * object, const gchar * member, gboolean required, gdouble * out, GError ** error);
gboolean rtp_get_bool (JsonObject * object, const gchar * member, gboolean required, gboolean * out, GError ** error);
/* Returns the member object (borrowed) or NULL; wrong type sets @error. */
gboolean rtp_get_object (JsonObject * object, const gchar * member, gboolean required, JsonObject ** out, GError ** error);
/* Sets @error (INVALID, "field ... is not @expected") and returns FALSE. */
gboolean rtp_wrong_type (const gchar * member, const gchar * expected, GError ** error);
gboolean rtp_get_base64 (JsonObject * object, const gchar * member, gboolean required, GBytes ** out, GError ** error);

/* NULL if @text is not strict base64 (see realtimeprotocol.c). */
GBytes *rtp_base64_decode_strict (const gchar * text, gsize len);

JsonObject *rtp_session_object_new (const RealtimeSessionConfig * config, gboolean server_side, GError ** error);
RealtimeSessionConfig *rtp_session_config_from_object (JsonObject * session, gchar ** session_type, GError ** error);

gboolean rtp_item_from_object (JsonObject * object, RealtimeItem * item, GError ** error);
JsonObject *rtp_message_item_new (const gchar * id, const gchar * role, const gchar * status, const gchar * text);

/* realtimedeltafast.c: response.output_audio.delta and the text deltas
 * (output_audio_transcript, output_text, function_call_arguments,
 * input_audio_transcription) without json-glib; NULL when the text is
 * anything else or not in the strict subset it reads (then
 * rtp_server_event_parse_tree() decides). */
RealtimeServerEvent *rtp_parse_delta_fast (const gchar * json, gsize length);
/* realtimeserverevents.c: any server event, through json-glib. */
RealtimeServerEvent *rtp_server_event_parse_tree (const gchar * json, gssize length, GError ** error);
/* realtimeserverevents.c: an output_index/content_index as both parsers
 * store it. */
gint rtp_index_from_int64 (gint64 value);

G_END_DECLS

#endif
