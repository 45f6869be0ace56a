/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * WebSocket framing and string scanning for the floor relay; see
 * benchfloorws.h.
 */
/* memmem, accept4 */
#define _GNU_SOURCE

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "benchfloorws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

FloorWsParse
floor_ws_parse_frame (const guint8 * data, gsize len, gsize max_payload,
    FloorWsFrame * frame)
{
  gsize header = 2;
  guint64 payload;

  if (len < 2)
    return FLOOR_WS_FRAME_INCOMPLETE;
  /* no extension was negotiated: RSV1-3 must be 0 */
  if (data[0] & 0x70)
    return FLOOR_WS_FRAME_INVALID;
  frame->fin = (data[0] & 0x80) != 0;
  frame->opcode = data[0] & 0x0f;
  frame->masked = (data[1] & 0x80) != 0;
  payload = data[1] & 0x7f;
  switch (frame->opcode) {
    case FLOOR_WS_OP_CONTINUATION:
    case FLOOR_WS_OP_TEXT:
    case FLOOR_WS_OP_BINARY:
      break;
    case FLOOR_WS_OP_CLOSE:
    case FLOOR_WS_OP_PING:
    case FLOOR_WS_OP_PONG:
      if (!frame->fin || payload > 125)
        return FLOOR_WS_FRAME_INVALID;
      break;
    default:
      return FLOOR_WS_FRAME_INVALID;
  }
  if (payload == 126) {
    if (len < 4)
      return FLOOR_WS_FRAME_INCOMPLETE;
    payload = ((guint64) data[2] << 8) | data[3];
    header = 4;
  } else if (payload == 127) {
    guint i;

    if (len < 10)
      return FLOOR_WS_FRAME_INCOMPLETE;
    payload = 0;
    for (i = 0; i < 8; i++)
      payload = (payload << 8) | data[2 + i];
    header = 10;
  }
  if (payload > max_payload)
    return FLOOR_WS_FRAME_INVALID;
  if (frame->masked) {
    if (len < header + 4)
      return FLOOR_WS_FRAME_INCOMPLETE;
    memcpy (frame->mask, data + header, 4);
    header += 4;
  }
  frame->header_len = header;
  frame->payload_len = payload;
  return len - header >= payload ? FLOOR_WS_FRAME_OK :
      FLOOR_WS_FRAME_INCOMPLETE;
}

void
floor_ws_mask (guint8 * data, gsize len, const guint8 mask[4])
{
  guint64 word_mask, word;
  gsize i = 0;
  guint k;

  /* eight bytes at a time: the key repeats every four */
  for (k = 0; k < 8; k++)
    ((guint8 *) & word_mask)[k] = mask[k % 4];
  for (; i + 8 <= len; i += 8) {
    memcpy (&word, data + i, 8);
    word ^= word_mask;
    memcpy (data + i, &word, 8);
  }
  for (; i < len; i++)
    data[i] ^= mask[i % 4];
}

gsize
floor_ws_write_header (guint8 * dst, guint opcode, gsize payload_len,
    const guint8 * mask)
{
  gsize n = 2;
  guint8 mask_bit = mask ? 0x80 : 0;

  dst[0] = 0x80 | (opcode & 0x0f);
  if (payload_len < 126) {
    dst[1] = mask_bit | payload_len;
  } else if (payload_len <= 0xffff) {
    dst[1] = mask_bit | 126;
    dst[2] = payload_len >> 8;
    dst[3] = payload_len & 0xff;
    n = 4;
  } else {
    guint i;

    dst[1] = mask_bit | 127;
    for (i = 0; i < 8; i++)
      dst[2 + i] = ((guint64) payload_len >> (8 * (7 - i))) & 0xff;
    n = 10;
  }
  if (mask) {
    memcpy (dst + n, mask, 4);
    n += 4;
  }
  return n;
}

gboolean
floor_ws_key_is_valid (const gchar * key, gsize key_len)
{
  gchar copy[25];
  guchar *raw;
  gsize raw_len = 0;
  gsize i;

  if (key_len != 24 || key[22] != '=' || key[23] != '=')
    return FALSE;
  for (i = 0; i < 22; i++)
    if (!g_ascii_isalnum (key[i]) && key[i] != '+' && key[i] != '/')
      return FALSE;
  memcpy (copy, key, 24);
  copy[24] = '\0';
  raw = g_base64_decode (copy, &raw_len);
  g_free (raw);
  return raw_len == 16;
}

void
floor_ws_accept_for_key (const gchar * key, gsize key_len,
    gchar accept[FLOOR_WS_ACCEPT_LEN + 1])
{
  GChecksum *sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof (digest);
  gchar *text;

  g_checksum_update (sha1, (const guchar *) key, key_len);
  g_checksum_update (sha1, (const guchar *) WS_GUID, strlen (WS_GUID));
  g_checksum_get_digest (sha1, digest, &digest_len);
  g_checksum_free (sha1);
  text = g_base64_encode (digest, digest_len);
  g_strlcpy (accept, text, FLOOR_WS_ACCEPT_LEN + 1);
  g_free (text);
}

const gchar *
floor_http_find_header (const gchar * head, gsize len, const gchar * name,
    gsize * value_len)
{
  gsize name_len = strlen (name);
  const gchar *end = head + len;
  const gchar *line = memchr (head, '\n', len);

  /* the first line is the request or status line */
  while (line && ++line < end) {
    const gchar *eol = memchr (line, '\n', end - line);
    const gchar *value, *value_end;

    if (eol == NULL)
      eol = end;
    if ((gsize) (eol - line) > name_len && line[name_len] == ':'
        && g_ascii_strncasecmp (line, name, name_len) == 0) {
      value = line + name_len + 1;
      value_end = eol;
      while (value < value_end && (*value == ' ' || *value == '\t'))
        value++;
      while (value_end > value && (value_end[-1] == '\r'
              || value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;
      *value_len = value_end - value;
      return value;
    }
    line = eol;
  }
  return NULL;
}

const gchar *
floor_json_find_string (const gchar * text, gsize len, const gchar * pattern,
    gsize pattern_len, gsize * value_len)
{
  const gchar *at = memmem (text, len, pattern, pattern_len);
  const gchar *value, *close;

  if (at == NULL)
    return NULL;
  value = at + pattern_len;
  close = memchr (value, '"', text + len - value);
  if (close == NULL)
    return NULL;
  *value_len = close - value;
  return value;
}

gssize
floor_base64_decoded_size (const gchar * text, gsize len)
{
  gsize size;

  if (len % 4 != 0)
    return -1;
  size = len / 4 * 3;
  if (len > 0 && text[len - 1] == '=')
    size--;
  if (len > 1 && text[len - 2] == '=')
    size--;
  return size;
}
