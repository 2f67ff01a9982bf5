/* raw-descriptor.c — raw binary images described by an XML descriptor
 * (data/flash/flash-descriptor.xsd): target module, data format,
 * compatible part and hardware numbers, software version, and blocks that
 * map byte ranges of the binary to addresses, each checked by CRC-32.
 *
 * The descriptor is parsed with no network access and no entity
 * expansion; a DOCTYPE is refused outright.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "data-dir.h"
#include "flash/container-private.h"

/* A descriptor is a few KiB; anything far larger is not one. */
#define MAX_DESCRIPTOR_BYTES (1024 * 1024)

typedef struct {
  char *message;
  int   line;
} FirstError;

static void
on_schema_error (void        *data,
                 xmlErrorPtr  err)
{
  FirstError *first = data;

  if (first->message != NULL || err == NULL || err->level == XML_ERR_WARNING)
    return;
  first->message = g_strstrip (g_strdup (err->message != NULL ? err->message : "invalid"));
  first->line = err->line;
}

static gboolean
parse_number (const char *text,
              guint64     max,
              guint64    *value)
{
  char *end = NULL;
  guint64 v;

  if (text == NULL || *text == '\0')
    return FALSE;
  v = g_ascii_strtoull (text, &end, 0);
  if (end == text || *end != '\0' || v > max)
    return FALSE;
  *value = v;
  return TRUE;
}

static char *
node_text (xmlNodePtr node)
{
  xmlChar *content = xmlNodeGetContent (node);
  char *s = g_strstrip (g_strdup ((const char *) content));

  xmlFree (content);
  return s;
}

static char *
get_prop (xmlNodePtr  node,
          const char *name)
{
  xmlChar *value = xmlGetProp (node, BAD_CAST name);
  char *s = value != NULL ? g_strdup ((const char *) value) : NULL;

  xmlFree (value);
  return s;
}

static gboolean
number_prop (const char *path,
             xmlNodePtr  node,
             const char *name,
             guint64     max,
             gboolean   *present,
             guint64    *value,
             GError    **error)
{
  g_autofree char *text = get_prop (node, name);

  *present = text != NULL;
  if (text == NULL)
    return TRUE;
  if (!parse_number (text, max, value))
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_SCHEMA,
                   "%s:%ld: %s=\"%s\" is not a number up to 0x%" G_GINT64_MODIFIER "X",
                   path, xmlGetLineNo (node), name, text, max);
      return FALSE;
    }
  return TRUE;
}

/* CRC-32 of bytes [offset, offset + length) of the binary. */
static gboolean
crc_of_range (const char *bin_path,
              FILE       *file,
              guint64     offset,
              guint64     length,
              guint32    *crc,
              GError    **error)
{
  guint8 buffer[64 * 1024];

  *crc = 0;
  if (fseeko (file, (off_t) offset, SEEK_SET) != 0)
    goto fail;
  while (length > 0)
    {
      gsize n = fread (buffer, 1, (gsize) MIN (length, sizeof buffer), file);

      if (n == 0)
        goto fail;
      *crc = ew_flash_crc32 (*crc, buffer, n);
      length -= n;
    }
  return TRUE;

fail:
  g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
               "Cannot read %s at byte %" G_GUINT64_FORMAT, bin_path, offset);
  return FALSE;
}

EwFlashContainer *
ew_flash_container_load_descriptor (const char  *descriptor_path,
                                    const char  *schema_path,
                                    GError     **error)
{
  g_autoptr(EwFlashContainer) c = NULL;
  g_autofree char *text = NULL;
  g_autofree char *default_schema = NULL;
  g_autofree char *bin_path = NULL;
  g_autofree char *dir = NULL;
  gsize text_length = 0;
  const char *doctype;
  xmlDocPtr doc;
  xmlNodePtr root, node, image = NULL;
  xmlSchemaParserCtxtPtr pctxt;
  xmlSchemaPtr schema;
  xmlSchemaValidCtxtPtr vctxt;
  FirstError first = { NULL, 0 };
  gboolean ok = FALSE;
  GStatBuf st;
  FILE *bin = NULL;
  gboolean all_blocks_have_crc = TRUE;

  {
    g_autoptr(GError) local_error = NULL;

    if (!g_file_get_contents (descriptor_path, &text, &text_length, &local_error))
      {
        g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO, "%s", local_error->message);
        return NULL;
      }
  }
  if (text_length > MAX_DESCRIPTOR_BYTES)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_UNSUPPORTED,
                   "%s is too large for a descriptor", descriptor_path);
      return NULL;
    }
  doctype = g_strstr_len (text, text_length, "<!DOCTYPE");
  if (doctype != NULL)
    {
      guint line = 1;

      for (const char *p = text; p < doctype; p++)
        line += *p == '\n';
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_FORBIDDEN,
                   "%s:%u: a DOCTYPE is not allowed in a descriptor (no DTDs or entities)",
                   descriptor_path, line);
      return NULL;
    }

  /* XML_PARSE_NOENT is never set: entities are not expanded */
  {
    xmlParserCtxtPtr pc = xmlNewParserCtxt ();

    doc = xmlCtxtReadMemory (pc, text, (int) text_length, descriptor_path, NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL)
      {
        xmlErrorPtr err = xmlCtxtGetLastError (pc);
        g_autofree char *message = g_strstrip (g_strdup (err != NULL && err->message != NULL
                                                         ? err->message : "not well-formed"));

        g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_PARSE, "%s:%d: %s",
                     descriptor_path, err != NULL ? err->line : 0, message);
        xmlFreeParserCtxt (pc);
        return NULL;
      }
    xmlFreeParserCtxt (pc);
  }
  if (doc->intSubset != NULL || doc->extSubset != NULL)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_FORBIDDEN,
                   "%s: a DOCTYPE is not allowed in a descriptor", descriptor_path);
      goto out;
    }

  if (schema_path == NULL)
    schema_path = default_schema = ew_data_path ("flash/flash-descriptor.xsd");
  pctxt = xmlSchemaNewParserCtxt (schema_path);
  xmlSchemaSetParserStructuredErrors (pctxt, on_schema_error, &first);
  schema = xmlSchemaParse (pctxt);
  xmlSchemaFreeParserCtxt (pctxt);
  if (schema == NULL)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                   "Cannot load the descriptor schema %s: %s", schema_path,
                   first.message != NULL ? first.message : "unreadable");
      goto out;
    }
  vctxt = xmlSchemaNewValidCtxt (schema);
  xmlSchemaSetValidStructuredErrors (vctxt, on_schema_error, &first);
  if (xmlSchemaValidateDoc (vctxt, doc) != 0)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_SCHEMA, "%s:%d: %s",
                   descriptor_path, first.line,
                   first.message != NULL ? first.message : "does not match the schema");
      xmlSchemaFreeValidCtxt (vctxt);
      xmlSchemaFree (schema);
      goto out;
    }
  xmlSchemaFreeValidCtxt (vctxt);
  xmlSchemaFree (schema);

  root = xmlDocGetRootElement (doc);
  for (node = root->children; node != NULL; node = node->next)
    if (node->type == XML_ELEMENT_NODE && xmlStrEqual (node->name, BAD_CAST "image"))
      image = node;
  g_assert (image != NULL); /* the schema requires it */
  {
    g_autofree char *file = get_prop (image, "file");

    if (strchr (file, '/') != NULL || strcmp (file, "..") == 0 || strcmp (file, ".") == 0)
      {
        g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_SCHEMA,
                     "%s:%ld: file=\"%s\" must name a file beside the descriptor",
                     descriptor_path, xmlGetLineNo (image), file);
        goto out;
      }
    dir = g_path_get_dirname (descriptor_path);
    bin_path = g_build_filename (dir, file, NULL);
  }
  c = ew_flash_container_new_empty (bin_path, EW_FLASH_FORMAT_RAW);
  g_free (c->source_path);
  c->source_path = g_strdup (descriptor_path);

  if (g_stat (bin_path, &st) != 0 || (bin = fopen (bin_path, "rb")) == NULL)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                   "%s:%ld: cannot read the image %s: %s", descriptor_path,
                   xmlGetLineNo (image), bin_path, g_strerror (errno));
      goto out;
    }
  {
    gboolean present;
    guint64 length, crc;

    if (!number_prop (descriptor_path, image, "length", G_MAXUINT32, &present, &length, error))
      goto out;
    if (present && length != (guint64) st.st_size)
      {
        g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                     "%s:%ld: the image %s has %" G_GUINT64_FORMAT " bytes, the descriptor "
                     "says %" G_GUINT64_FORMAT, descriptor_path, xmlGetLineNo (image),
                     bin_path, (guint64) st.st_size, length);
        goto out;
      }
    if (!number_prop (descriptor_path, image, "crc32", G_MAXUINT32, &present, &crc, error))
      goto out;
    if (present)
      {
        guint32 found;

        if (!crc_of_range (bin_path, bin, 0, st.st_size, &found, error))
          goto out;
        if (found != crc)
          {
            g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_CRC,
                         "%s:%ld: CRC-32 of the image %s is 0x%08X, the descriptor says 0x%08X",
                         descriptor_path, xmlGetLineNo (image), bin_path, found, (guint32) crc);
            goto out;
          }
      }
    if (!present)
      image = NULL; /* from here: "the image carries no CRC" */
  }

  for (node = root->children; node != NULL; node = node->next)
    {
      g_autofree char *value = NULL;

      if (node->type != XML_ELEMENT_NODE)
        continue;
      if (xmlStrEqual (node->name, BAD_CAST "description"))
        c->description = node_text (node);
      else if (xmlStrEqual (node->name, BAD_CAST "target"))
        c->target_module = get_prop (node, "module");
      else if (xmlStrEqual (node->name, BAD_CAST "software-version"))
        c->software_version = node_text (node);
      else if (xmlStrEqual (node->name, BAD_CAST "part-number"))
        c->part_number = node_text (node);
      else if (xmlStrEqual (node->name, BAD_CAST "data-format"))
        {
          guint64 v;

          value = node_text (node);
          if (!parse_number (value, 0xFF, &v))
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_SCHEMA,
                           "%s:%ld: data format \"%s\" is not a byte", descriptor_path,
                           xmlGetLineNo (node), value);
              goto out;
            }
          c->data_format = (gint) v;
        }
      else if (xmlStrEqual (node->name, BAD_CAST "compatible"))
        {
          for (xmlNodePtr n = node->children; n != NULL; n = n->next)
            {
              GPtrArray *list;

              if (n->type != XML_ELEMENT_NODE)
                continue;
              list = xmlStrEqual (n->name, BAD_CAST "part-number") ? c->compatible_part_numbers
                                                                   : c->compatible_hardware_numbers;
              g_ptr_array_insert (list, list->len - 1, node_text (n));
            }
        }
      else if (xmlStrEqual (node->name, BAD_CAST "block"))
        {
          gboolean present;
          guint64 address, length, offset, crc;

          if (!number_prop (descriptor_path, node, "address", G_MAXUINT32, &present, &address, error) ||
              !number_prop (descriptor_path, node, "length", G_MAXUINT32, &present, &length, error) ||
              !number_prop (descriptor_path, node, "offset", G_MAXUINT32, &present, &offset, error))
            goto out;
          if (address + length > G_GUINT64_CONSTANT (0x100000000))
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_ADDRESS,
                           "%s:%ld: address overflow: the block runs past 4 GiB",
                           descriptor_path, xmlGetLineNo (node));
              goto out;
            }
          if (offset + length > (guint64) st.st_size)
            {
              g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_IO,
                           "%s:%ld: the block reads bytes %" G_GUINT64_FORMAT " to %"
                           G_GUINT64_FORMAT " of %s, which has only %" G_GUINT64_FORMAT,
                           descriptor_path, xmlGetLineNo (node), offset, offset + length,
                           bin_path, (guint64) st.st_size);
              goto out;
            }
          if (!number_prop (descriptor_path, node, "crc32", G_MAXUINT32, &present, &crc, error))
            goto out;
          if (present)
            {
              guint32 found;

              if (!crc_of_range (bin_path, bin, offset, length, &found, error))
                goto out;
              if (found != crc)
                {
                  g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_CRC,
                               "%s:%ld: CRC-32 of the block at 0x%08X (bytes %" G_GUINT64_FORMAT
                               " to %" G_GUINT64_FORMAT " of %s) is 0x%08X, the descriptor "
                               "says 0x%08X", descriptor_path, xmlGetLineNo (node),
                               (guint32) address, offset, offset + length, bin_path, found,
                               (guint32) crc);
                  goto out;
                }
            }
          else
            all_blocks_have_crc = FALSE;
          ew_flash_container_add_record (c, offset, (guint32) address, (guint32) length,
                                         (guint32) xmlGetLineNo (node), 0, 0);
        }
    }
  if (image == NULL && !all_blocks_have_crc)
    {
      g_set_error (error, EW_FLASH_ERROR, EW_FLASH_ERROR_SCHEMA,
                   "%s: give a crc32 for the image or for every block", descriptor_path);
      goto out;
    }
  ok = ew_flash_container_finish (c, error);

out:
  if (bin != NULL)
    fclose (bin);
  g_free (first.message);
  xmlFreeDoc (doc);
  if (!ok)
    return NULL;
  return g_steal_pointer (&c);
}
