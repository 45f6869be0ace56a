/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Twilio's outbound playout queue as a pure model; see callsimplayout.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "callsimplayout.h"

#define MULAW_SILENCE 0xFF

typedef struct
{
  GBytes *audio;                /* NULL for a mark */
  gsize offset;                 /* bytes of @audio already played */
  gchar *mark_name;
} Entry;

struct _CallsimPlayout
{
  GQueue entries;               /* of Entry, in arrival order */
  gsize queued;                 /* unplayed audio bytes in @entries */
  guint pending_marks;          /* marks in @entries plus @reached */
  /* Marks passed during the last tick: their audio is still sounding until
   * the next tick begins. */
  GPtrArray *reached;
  gboolean sounding;            /* the last tick played bridge audio */
};

static void
entry_free (Entry * entry)
{
  if (entry->audio)
    g_bytes_unref (entry->audio);
  g_free (entry->mark_name);
  g_free (entry);
}

CallsimPlayout *
callsim_playout_new (void)
{
  CallsimPlayout *playout = g_new0 (CallsimPlayout, 1);

  g_queue_init (&playout->entries);
  playout->reached = g_ptr_array_new_with_free_func (g_free);
  return playout;
}

void
callsim_playout_free (CallsimPlayout * playout)
{
  if (playout == NULL)
    return;
  g_queue_clear_full (&playout->entries, (GDestroyNotify) entry_free);
  g_ptr_array_unref (playout->reached);
  g_free (playout);
}

void
callsim_playout_push_audio (CallsimPlayout * playout, const guint8 * data,
    gsize len)
{
  Entry *entry;

  if (len == 0)
    return;
  entry = g_new0 (Entry, 1);
  entry->audio = g_bytes_new (data, len);
  g_queue_push_tail (&playout->entries, entry);
  playout->queued += len;
}

gboolean
callsim_playout_push_mark (CallsimPlayout * playout, const gchar * name)
{
  Entry *entry;

  if (playout->queued == 0 && g_queue_is_empty (&playout->entries)) {
    if (!playout->sounding)
      return TRUE;
    /* The last tick's audio is still sounding: echo when it ends. */
    g_ptr_array_add (playout->reached, g_strdup (name));
    playout->pending_marks++;
    return FALSE;
  }
  entry = g_new0 (Entry, 1);
  entry->mark_name = g_strdup (name);
  g_queue_push_tail (&playout->entries, entry);
  playout->pending_marks++;
  return FALSE;
}

static void
move_reached (CallsimPlayout * playout, GPtrArray * echoed)
{
  guint i;

  for (i = 0; i < playout->reached->len; i++)
    g_ptr_array_add (echoed, g_strdup (g_ptr_array_index (playout->reached,
                i)));
  playout->pending_marks -= playout->reached->len;
  g_ptr_array_set_size (playout->reached, 0);
}

gsize
callsim_playout_tick (CallsimPlayout * playout, guint8 * out, gsize len,
    GPtrArray * echoed)
{
  gsize filled = 0;
  Entry *entry;

  /* The previous tick's audio has finished sounding now. */
  move_reached (playout, echoed);
  while ((entry = g_queue_peek_head (&playout->entries))
      && entry->audio == NULL) {
    g_queue_pop_head (&playout->entries);
    g_ptr_array_add (echoed, g_steal_pointer (&entry->mark_name));
    playout->pending_marks--;
    entry_free (entry);
  }

  while (filled < len && (entry = g_queue_peek_head (&playout->entries))) {
    if (entry->audio == NULL) {
      /* Reached in the middle of this tick: echoed when it ends. */
      g_ptr_array_add (playout->reached, g_steal_pointer (&entry->mark_name));
    } else {
      gsize size, n;
      const guint8 *data = g_bytes_get_data (entry->audio, &size);

      n = MIN (len - filled, size - entry->offset);
      memcpy (out + filled, data + entry->offset, n);
      filled += n;
      entry->offset += n;
      playout->queued -= n;
      if (entry->offset < size)
        break;
    }
    g_queue_pop_head (&playout->entries);
    entry_free (entry);
  }
  /* Marks right behind the last audio played were reached too. */
  while ((entry = g_queue_peek_head (&playout->entries))
      && entry->audio == NULL) {
    g_queue_pop_head (&playout->entries);
    g_ptr_array_add (playout->reached, g_steal_pointer (&entry->mark_name));
    entry_free (entry);
  }

  if (filled < len)
    memset (out + filled, MULAW_SILENCE, len - filled);
  playout->sounding = filled > 0;
  if (!playout->sounding)
    move_reached (playout, echoed);
  return filled;
}

gsize
callsim_playout_clear (CallsimPlayout * playout, GPtrArray * echoed)
{
  gsize dropped = playout->queued;
  Entry *entry;

  move_reached (playout, echoed);
  while ((entry = g_queue_pop_head (&playout->entries))) {
    if (entry->audio == NULL) {
      g_ptr_array_add (echoed, g_steal_pointer (&entry->mark_name));
      playout->pending_marks--;
    }
    entry_free (entry);
  }
  playout->queued = 0;
  return dropped;
}

gsize
callsim_playout_get_queued (const CallsimPlayout * playout)
{
  return playout->queued;
}

guint
callsim_playout_get_pending_marks (const CallsimPlayout * playout)
{
  return playout->pending_marks;
}

gboolean
callsim_playout_is_busy (const CallsimPlayout * playout)
{
  return playout->queued > 0 || playout->sounding || playout->pending_marks > 0;
}
