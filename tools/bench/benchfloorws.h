/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The least WebSocket (RFC 6455) and JSON scanning the floor relay
 * (realtime-bridge-floor, benchfloorrelay.c) needs: frame headers, masking,
 * the handshake's accept key, HTTP header and JSON string look-ups by plain
 * string scanning. No I/O, no allocation on the per-message path.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLOOR_WS_OP_CONTINUATION 0x0
#define FLOOR_WS_OP_TEXT 0x1
#define FLOOR_WS_OP_BINARY 0x2
#define FLOOR_WS_OP_CLOSE 0x8
#define FLOOR_WS_OP_PING 0x9
#define FLOOR_WS_OP_PONG 0xA

/* 2 + 8 (64-bit length) + 4 (mask key) */
#define FLOOR_WS_MAX_HEADER 14
/* base64 of a SHA-1 digest */
#define FLOOR_WS_ACCEPT_LEN 28

typedef enum
{
  FLOOR_WS_FRAME_INCOMPLETE,
  FLOOR_WS_FRAME_OK,
  FLOOR_WS_FRAME_INVALID,
} FloorWsParse;

typedef struct
{
  gboolean fin;
  guint opcode;
  gboolean masked;
  guint8 mask[4];
  gsize header_len;
  gsize payload_len;
} FloorWsFrame;

/* Reads the frame header at @data; INVALID for reserved bits, unknown
 * opcodes, fragmented or oversized control frames and payloads larger than
 * @max_payload. OK only once the whole payload is in @data too. */
FloorWsParse floor_ws_parse_frame (const guint8 * data, gsize len,
    gsize max_payload, FloorWsFrame * frame);

/* XORs @data with the 4-byte @mask (masking and unmasking are the same). */
void floor_ws_mask (guint8 * data, gsize len, const guint8 mask[4]);

/* Writes a FIN frame header for @payload_len bytes into @dst (at least
 * FLOOR_WS_MAX_HEADER bytes), with the mask key if @mask is not NULL;
 * returns its length. */
gsize floor_ws_write_header (guint8 * dst, guint opcode, gsize payload_len,
    const guint8 * mask);

/* Whether @key is a valid Sec-WebSocket-Key (base64 of 16 bytes). */
gboolean floor_ws_key_is_valid (const gchar * key, gsize key_len);

/* The Sec-WebSocket-Accept for @key, NUL-terminated. */
void floor_ws_accept_for_key (const gchar * key, gsize key_len,
    gchar accept[FLOOR_WS_ACCEPT_LEN + 1]);

/* The value of header @name (case-insensitive) in the HTTP head @head of
 * @len bytes, without surrounding blanks, or NULL. */
const gchar *floor_http_find_header (const gchar * head, gsize len,
    const gchar * name, gsize * value_len);

/* The string value after @pattern (a literal such as "\"type\":\"", i.e.
 * compact JSON as Twilio and OpenAI send it) in @text: its first
 * occurrence, up to the next '"'; NULL if absent or unterminated. No
 * escapes are decoded: a value with a backslash is returned as is. */
const gchar *floor_json_find_string (const gchar * text, gsize len,
    const gchar * pattern, gsize pattern_len, gsize * value_len);

#define FLOOR_JSON_FIND(text, len, literal, value_len) \
  floor_json_find_string ((text), (len), (literal), sizeof (literal) - 1, \
      (value_len))

/* Whether the @len bytes at @s are exactly the literal @lit. */
#define FLOOR_STR_IS(s, len, lit) \
  ((len) == sizeof (lit) - 1 && memcmp ((s), (lit), (len)) == 0)

/* The decoded size of base64 text of @len characters; -1 if @len is not
 * a multiple of 4. */
gssize floor_base64_decoded_size (const gchar * text, gsize len);

G_END_DECLS
