/* family-loader.c — reads one vehicle family file into the model of family.h.
 *
 * Three gates, each with its own error code: the XML must be well-formed and
 * free of any DTD or entity (checked while parsing, so nothing is ever
 * expanded or fetched), it must validate against the schema, and it must be
 * consistent in ways a schema cannot say (references, bit fields, ranges).
 */
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "data-dir.h"
#include "database.h"
#include "family-private.h"
#include "vehicle-error.h"

/* No network, no entity substitution (XML_PARSE_NOENT is never set) and no
 * DTD loading; blank text between elements is dropped because nothing in a
 * family file is whitespace-sensitive, which keeps the tree small. */
#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | \
                       XML_PARSE_COMPACT)

struct _EwFamilyLoader {
  char        *schema_path;
  xmlDocPtr    schema_doc;   /* the schema keeps pointers into it */
  xmlSchemaPtr schema;
};

/* Collects the first problem while libxml2 runs; later ones are usually
 * consequences of the first. */
typedef struct {
  const char *path;
  GError     *error;
} ErrorSink;

static void G_GNUC_PRINTF (4, 5)
sink_set (ErrorSink *sink, EwVehicleError code, long line, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  if (sink->error != NULL)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (line > 0)
    sink->error = g_error_new (EW_VEHICLE_ERROR, code, "%s:%ld: %s", sink->path, line, message);
  else
    sink->error = g_error_new (EW_VEHICLE_ERROR, code, "%s: %s", sink->path, message);
}

static char *
clean_message (const char *message)
{
  char *s = g_strdup (message != NULL ? message : "unknown problem");

  return g_strstrip (s);
}

static gboolean
is_entity_error (int code)
{
  switch (code)
    {
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
    case XML_ERR_UNPARSED_ENTITY:
    case XML_ERR_ENTITY_LOOP:
    case XML_ERR_ENTITY_BOUNDARY:
    case XML_ERR_ENTITY_IS_EXTERNAL:
    case XML_ERR_ENTITY_IS_PARAMETER:
    case XML_ERR_ENTITY_PE_INTERNAL:
    case XML_ERR_ENTITYREF_NO_NAME:
    case XML_ERR_ENTITYREF_SEMICOL_MISSING:
    case XML_ERR_PEREF_AT_EOF:
    case XML_ERR_PEREF_IN_PROLOG:
    case XML_ERR_PEREF_IN_EPILOG:
    case XML_ERR_PEREF_IN_INT_SUBSET:
    case XML_ERR_EXT_ENTITY_STANDALONE:
    case XML_ERR_DOCTYPE_NOT_FINISHED:
    case XML_IO_LOAD_ERROR:
    case XML_IO_NETWORK_ATTEMPT:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
sink_take_xml_error (ErrorSink *sink, xmlErrorPtr err)
{
  g_autofree char *message = NULL;

  if (err == NULL || err->level == XML_ERR_WARNING || err->level == XML_ERR_NONE)
    return;

  message = clean_message (err->message);
  sink_set (sink, is_entity_error (err->code) ? EW_VEHICLE_ERROR_FORBIDDEN : EW_VEHICLE_ERROR_PARSE,
            err->line, "%s", message);
}

/* Parser errors arrive with the parser context as their data. */
static void
on_parser_error (void *data, xmlErrorPtr err)
{
  xmlParserCtxtPtr ctxt = data;

  sink_take_xml_error (ctxt->_private, err);
}

/* Anything libxml2 reports outside a context (it should not) lands here
 * rather than on stderr. */
static void
on_thread_error (void *data, xmlErrorPtr err)
{
  sink_take_xml_error (data, err);
}

static void G_GNUC_PRINTF (2, 3)
on_generic_error (void *data, const char *format, ...)
{
}

static long
parser_line (xmlParserCtxtPtr ctxt)
{
  return ctxt->input != NULL ? ctxt->input->line : 0;
}

/* The SAX hooks below stop the parser at the first sign of a DTD or entity:
 * the internal subset is never read, so neither external references (XXE,
 * external DTDs) nor nested entity definitions (billion laughs) get a
 * chance to do anything. */
static void
forbid_doctype (void            *ctx,
                const xmlChar   *name,
                const xmlChar   *external_id,
                const xmlChar   *system_id)
{
  xmlParserCtxtPtr ctxt = ctx;

  sink_set (ctxt->_private, EW_VEHICLE_ERROR_FORBIDDEN, parser_line (ctxt),
            "DOCTYPE '%s'%s%s is not allowed: family files use no DTD, entities or "
            "external references", name != NULL ? (const char *) name : "",
            system_id != NULL ? " referring to " : "",
            system_id != NULL ? (const char *) system_id : "");
  xmlStopParser (ctxt);
}

static xmlEntityPtr
forbid_entity_reference (void *ctx, const xmlChar *name)
{
  xmlParserCtxtPtr ctxt = ctx;

  sink_set (ctxt->_private, EW_VEHICLE_ERROR_FORBIDDEN, parser_line (ctxt),
            "entity reference '&%s;' is not allowed: write the character itself or a "
            "numeric character reference", name != NULL ? (const char *) name : "");
  xmlStopParser (ctxt);
  return NULL;
}

static void
forbid_entity_declaration (void          *ctx,
                           const xmlChar *name,
                           int            type,
                           const xmlChar *public_id,
                           const xmlChar *system_id,
                           xmlChar       *content)
{
  xmlParserCtxtPtr ctxt = ctx;

  sink_set (ctxt->_private, EW_VEHICLE_ERROR_FORBIDDEN, parser_line (ctxt),
            "entity declaration '%s' is not allowed", name != NULL ? (const char *) name : "");
  xmlStopParser (ctxt);
}

typedef struct {
  xmlGenericErrorFunc    generic;
  void                  *generic_data;
  xmlStructuredErrorFunc structured;
  void                  *structured_data;
} SavedHandlers;

/* libxml2 keeps these per thread, so this affects only the calling thread,
 * and the caller's own handlers come back afterwards. */
static void
handlers_push (SavedHandlers *saved, ErrorSink *sink)
{
  saved->generic = xmlGenericError;
  saved->generic_data = xmlGenericErrorContext;
  saved->structured = xmlStructuredError;
  saved->structured_data = xmlStructuredErrorContext;
  xmlSetGenericErrorFunc (NULL, on_generic_error);
  xmlSetStructuredErrorFunc (sink, on_thread_error);
}

static void
handlers_pop (SavedHandlers *saved)
{
  xmlSetGenericErrorFunc (saved->generic_data, saved->generic);
  xmlSetStructuredErrorFunc (saved->structured_data, saved->structured);
}

static xmlDocPtr
parse_safely (ErrorSink *sink, const char *data, gsize length)
{
  xmlParserCtxtPtr ctxt;
  xmlDocPtr doc;

  if (length > G_MAXINT)
    {
      sink_set (sink, EW_VEHICLE_ERROR_PARSE, 0, "file is too large");
      return NULL;
    }

  ctxt = xmlNewParserCtxt ();
  if (ctxt == NULL)
    {
      sink_set (sink, EW_VEHICLE_ERROR_PARSE, 0, "could not create an XML parser");
      return NULL;
    }
  ctxt->_private = sink;
  ctxt->sax->serror = on_parser_error;
  ctxt->sax->error = NULL;
  ctxt->sax->warning = NULL;
  ctxt->sax->internalSubset = forbid_doctype;
  ctxt->sax->externalSubset = forbid_doctype;
  ctxt->sax->getEntity = forbid_entity_reference;
  ctxt->sax->getParameterEntity = forbid_entity_reference;
  ctxt->sax->entityDecl = forbid_entity_declaration;

  doc = xmlCtxtReadMemory (ctxt, data, (int) length, sink->path, NULL, PARSE_OPTIONS);

  if (sink->error == NULL && (doc == NULL || !ctxt->wellFormed))
    sink_set (sink, EW_VEHICLE_ERROR_PARSE, parser_line (ctxt), "not well-formed XML");
  if (sink->error == NULL && (doc->intSubset != NULL || doc->extSubset != NULL))
    sink_set (sink, EW_VEHICLE_ERROR_FORBIDDEN, 0, "a DOCTYPE declaration is not allowed");
  xmlFreeParserCtxt (ctxt);

  if (sink->error != NULL)
    g_clear_pointer (&doc, xmlFreeDoc);
  return doc;
}

static xmlDocPtr
read_and_parse (ErrorSink *sink, const char *path)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GMappedFile) mapped = NULL;

  /* Mapping spares a copy and a large allocation per file. */
  mapped = g_mapped_file_new (path, FALSE, &local_error);
  if (mapped == NULL)
    {
      sink_set (sink, EW_VEHICLE_ERROR_IO, 0, "%s", local_error->message);
      return NULL;
    }
  return parse_safely (sink, g_mapped_file_get_contents (mapped) != NULL ?
                       g_mapped_file_get_contents (mapped) : "",
                       g_mapped_file_get_length (mapped));
}

/* ---- schema -------------------------------------------------------------- */

static const char *
element_name_of (xmlNodePtr node)
{
  if (node == NULL)
    return NULL;
  if (node->type == XML_ATTRIBUTE_NODE && node->parent != NULL)
    node = node->parent;
  if (node->type != XML_ELEMENT_NODE || node->name == NULL)
    return NULL;
  return (const char *) node->name;
}

/* libxml2 starts schema messages with "Element 'x': "; we put the element in
 * our own place ("FILE:LINE: element 'x': ...") so the rest is kept. */
static void
on_schema_error (void *data, xmlErrorPtr err)
{
  ErrorSink *sink = data;
  g_autofree char *message = NULL;
  const char *rest;
  const char *element;

  if (err == NULL || err->level == XML_ERR_WARNING || err->level == XML_ERR_NONE)
    return;

  message = clean_message (err->message);
  rest = message;
  element = element_name_of (err->node);
  if (g_str_has_prefix (rest, "Element '"))
    {
      char *name = message + strlen ("Element '");
      char *end = strchr (name, '\'');

      if (end != NULL)
        {
          *end = '\0';
          if (element == NULL)
            element = name;
          rest = end + 1;
          if (g_str_has_prefix (rest, ": ") || g_str_has_prefix (rest, ", "))
            rest += 2;
        }
    }

  if (element != NULL)
    sink_set (sink, EW_VEHICLE_ERROR_SCHEMA, err->line, "element '%s': %s", element, rest);
  else
    sink_set (sink, EW_VEHICLE_ERROR_SCHEMA, err->line, "%s", message);
}

/* The schema is shipped data, but it is parsed with the same safe parser as
 * family files; including other schemas would need the loader to fetch
 * files on libxml2's terms, so the schema must be self-contained. */
static gboolean
schema_is_self_contained (xmlDocPtr doc, ErrorSink *sink)
{
  xmlNodePtr root = xmlDocGetRootElement (doc);

  if (root == NULL)
    return FALSE;
  for (xmlNodePtr n = root->children; n != NULL; n = n->next)
    {
      if (n->type != XML_ELEMENT_NODE)
        continue;
      if (xmlStrEqual (n->name, BAD_CAST "include") || xmlStrEqual (n->name, BAD_CAST "import") ||
          xmlStrEqual (n->name, BAD_CAST "redefine") || xmlStrEqual (n->name, BAD_CAST "override"))
        {
          sink_set (sink, EW_VEHICLE_ERROR_FORBIDDEN, xmlGetLineNo (n),
                    "element '%s': the schema must not refer to other files", n->name);
          return FALSE;
        }
    }
  return TRUE;
}

/* libxml2 2.9 evaluates xs:key and xs:keyref by running every selector
 * over every element of the document, which costs more than all other
 * validation together on a large family. The loader checks exactly those
 * constraints itself with hash tables while it builds the model and reports
 * them as schema errors too, so they are taken out of the compiled copy;
 * the file on disk keeps them for other tools. */
static void
strip_identity_constraints (xmlNodePtr node)
{
  xmlNodePtr child = node->children;

  while (child != NULL)
    {
      xmlNodePtr next = child->next;

      if (child->type == XML_ELEMENT_NODE && child->ns != NULL &&
          xmlStrEqual (child->ns->href, BAD_CAST "http://www.w3.org/2001/XMLSchema") &&
          (xmlStrEqual (child->name, BAD_CAST "key") || xmlStrEqual (child->name, BAD_CAST "keyref") ||
           xmlStrEqual (child->name, BAD_CAST "unique")))
        {
          xmlUnlinkNode (child);
          xmlFreeNode (child);
        }
      else if (child->type == XML_ELEMENT_NODE)
        strip_identity_constraints (child);
      child = next;
    }
}

EwFamilyLoader *
ew_family_loader_new (const char *schema_path, GError **error)
{
  g_autoptr(EwFamilyLoader) loader = g_new0 (EwFamilyLoader, 1);
  g_autofree char *default_path = NULL;
  xmlSchemaParserCtxtPtr pctxt;
  SavedHandlers saved;
  ErrorSink sink = { 0 };

  /* These must run before threads use the parser: libxml2 sets up its
   * global state here, and G_DEFINE_QUARK registers lazily without a lock.
   * GLib makes its C locale on the first g_ascii_strtoull(); a thread that
   * waits for another one making it can come back with errno set by the
   * wait, and g_ascii_string_to_unsigned() then calls "1" not a number. */
  xmlInitParser ();
  (void) EW_VEHICLE_ERROR;
  (void) g_ascii_strtoull ("0", NULL, 10);

  if (schema_path == NULL)
    schema_path = default_path = ew_data_path ("vehicles/vehicle-family.xsd");
  loader->schema_path = g_strdup (schema_path);
  sink.path = loader->schema_path;

  handlers_push (&saved, &sink);
  loader->schema_doc = read_and_parse (&sink, schema_path);
  if (loader->schema_doc != NULL && schema_is_self_contained (loader->schema_doc, &sink))
    {
      strip_identity_constraints (xmlDocGetRootElement (loader->schema_doc));
      pctxt = xmlSchemaNewDocParserCtxt (loader->schema_doc);
      xmlSchemaSetParserStructuredErrors (pctxt, on_schema_error, &sink);
      loader->schema = xmlSchemaParse (pctxt);
      xmlSchemaFreeParserCtxt (pctxt);
      if (loader->schema == NULL)
        sink_set (&sink, EW_VEHICLE_ERROR_SCHEMA, 0, "the schema could not be compiled");
    }
  handlers_pop (&saved);

  if (sink.error != NULL)
    {
      g_propagate_prefixed_error (error, sink.error, "Vehicle family schema unusable: ");
      return NULL;
    }
  return g_steal_pointer (&loader);
}

void
ew_family_loader_free (EwFamilyLoader *loader)
{
  if (loader == NULL)
    return;
  g_clear_pointer (&loader->schema, xmlSchemaFree);
  g_clear_pointer (&loader->schema_doc, xmlFreeDoc);
  g_free (loader->schema_path);
  g_free (loader);
}

/* ---- building the model -------------------------------------------------- */

typedef struct {
  const char   *path;
  EwFamily     *family;
  GStringChunk *strings;       /* the family's */
  GStringChunk *scratch;       /* freed after loading */
  GHashTable   *chassis_codes; /* char* set */
  GHashTable   *buses_by_id;   /* char* → EwBus* */
  GHashTable   *algorithms;    /* char* set */
  GString      *text;          /* reused by element_text() */
  GError       *error;
} Builder;

static gboolean
report (Builder *b, EwVehicleError code, xmlNodePtr node, const char *format, va_list args)
{
  g_autofree char *message = NULL;

  if (b->error != NULL)
    return FALSE;

  message = g_strdup_vprintf (format, args);
  b->error = g_error_new (EW_VEHICLE_ERROR, code, "%s:%ld: element '%s': %s", b->path,
                          xmlGetLineNo (node), (const char *) node->name, message);
  return FALSE;
}

/* Validates, but is inconsistent. */
static gboolean G_GNUC_PRINTF (3, 4)
invalid (Builder *b, xmlNodePtr node, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  report (b, EW_VEHICLE_ERROR_INVALID, node, format, args);
  va_end (args);
  return FALSE;
}

/* Breaks one of the schema's key or keyref constraints, which are checked
 * here rather than by libxml2 (see strip_identity_constraints()). */
static gboolean G_GNUC_PRINTF (3, 4)
key_violation (Builder *b, xmlNodePtr node, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  report (b, EW_VEHICLE_ERROR_SCHEMA, node, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
is_element (xmlNodePtr node, const char *name)
{
  return node->type == XML_ELEMENT_NODE && strcmp ((const char *) node->name, name) == 0;
}

#define FOR_EACH_ELEMENT(child, parent) \
  for (xmlNodePtr child = (parent)->children; child != NULL; child = child->next) \
    if (child->type == XML_ELEMENT_NODE)

static xmlNodePtr
first_child (xmlNodePtr node, const char *name)
{
  FOR_EACH_ELEMENT (c, node)
    if (strcmp ((const char *) c->name, name) == 0)
      return c;
  return NULL;
}

/* Attribute values straight from the tree, without a copy: after parsing
 * with no entities an attribute holds a single text node. */
static const char *
attr (Builder *b, xmlNodePtr node, const char *name)
{
  for (xmlAttrPtr a = node->properties; a != NULL; a = a->next)
    {
      xmlNodePtr text;
      xmlChar *joined;
      const char *result;

      if (a->ns != NULL || strcmp ((const char *) a->name, name) != 0)
        continue;
      text = a->children;
      if (text == NULL)
        return "";
      if (text->next == NULL && text->type == XML_TEXT_NODE && text->content != NULL)
        return (const char *) text->content;
      joined = xmlNodeListGetString (node->doc, text, 1);
      result = g_string_chunk_insert (b->scratch, joined != NULL ? (const char *) joined : "");
      xmlFree (joined);
      return result;
    }
  return NULL;
}

static char *
intern (Builder *b, const char *s)
{
  return s != NULL ? g_string_chunk_insert (b->strings, s) : NULL;
}

static char *
attr_string (Builder *b, xmlNodePtr node, const char *name)
{
  return intern (b, attr (b, node, name));
}

static gboolean
require_attr (Builder *b, xmlNodePtr node, const char *name, const char **out)
{
  *out = attr (b, node, name);
  if (*out == NULL)
    return invalid (b, node, "attribute '%s' is missing", name);
  return TRUE;
}

/* Element text with runs of white space collapsed, as people read it. */
static char *
element_text (Builder *b, xmlNodePtr node)
{
  xmlNodePtr text = node->children;
  xmlChar *joined = NULL;
  const char *s;
  gboolean space = FALSE;
  char *result;

  /* Without entities or CDATA the text is one node; anything else (a
   * comment in the middle, say) takes the slow way. */
  if (text == NULL)
    s = "";
  else if (text->next == NULL && text->type == XML_TEXT_NODE && text->content != NULL)
    s = (const char *) text->content;
  else
    s = (const char *) (joined = xmlNodeGetContent (node));

  g_string_truncate (b->text, 0);
  for (; s != NULL && *s != '\0'; s++)
    {
      if (g_ascii_isspace (*s))
        {
          space = b->text->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (b->text, ' ');
      space = FALSE;
      g_string_append_c (b->text, *s);
    }
  xmlFree (joined);

  /* Customer text is rarely repeated, so it is not worth a hash lookup. */
  result = g_string_chunk_insert_len (b->strings, b->text->str, (gssize) b->text->len);
  return result;
}

/* XML Schema integer and boolean types collapse white space and allow a
 * leading '+'; the schema has already checked the lexical form. */
static const char *
skip_lexical_noise (Builder *b, const char *s)
{
  while (g_ascii_isspace (*s))
    s++;
  if (*s == '+')
    s++;
  if (s[0] != '\0' && g_ascii_isspace (s[strlen (s) - 1]))
    {
      char *copy = g_string_chunk_insert (b->scratch, s);
      return g_strchomp (copy);
    }
  return s;
}

static gboolean
get_uint (Builder  *b,
          xmlNodePtr node,
          const char *name,
          guint64   max,
          guint64   fallback,
          guint64  *out)
{
  const char *s = attr (b, node, name);
  guint64 value;

  if (s == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  s = skip_lexical_noise (b, s);
  if (!g_ascii_string_to_unsigned (s, 10, 0, max, &value, NULL))
    return invalid (b, node, "attribute '%s': '%s' is not a number from 0 to %" G_GUINT64_FORMAT,
                    name, s, max);
  *out = value;
  return TRUE;
}

/* Hex attributes are written 0x-prefixed, as in the standards' tables. */
static gboolean
get_hex (Builder   *b,
         xmlNodePtr node,
         const char *name,
         guint64    max,
         guint64    fallback,
         guint64   *out)
{
  const char *s = attr (b, node, name);
  guint64 value;

  if (s == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (s[0] != '0' || s[1] != 'x' ||
      !g_ascii_string_to_unsigned (s + 2, 16, 0, G_MAXUINT32, &value, NULL))
    return invalid (b, node, "attribute '%s': '%s' is not a 0x-prefixed hexadecimal number", name, s);
  if (value > max)
    return invalid (b, node, "attribute '%s': %s is larger than 0x%" G_GINT64_MODIFIER "X",
                    name, s, max);
  *out = value;
  return TRUE;
}

static gboolean
get_bool (Builder *b, xmlNodePtr node, const char *name, gboolean fallback, gboolean *out)
{
  const char *s = attr (b, node, name);

  if (s == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  s = skip_lexical_noise (b, s);
  if (strcmp (s, "true") == 0 || strcmp (s, "1") == 0)
    *out = TRUE;
  else if (strcmp (s, "false") == 0 || strcmp (s, "0") == 0)
    *out = FALSE;
  else
    return invalid (b, node, "attribute '%s': '%s' is not true or false", name, s);
  return TRUE;
}

/* names is NULL-terminated; its index is the enum value. */
static gboolean
get_enum (Builder           *b,
          xmlNodePtr         node,
          const char        *name,
          const char * const *names,
          int                fallback,
          int               *out)
{
  const char *s = attr (b, node, name);

  if (s == NULL)
    {
      if (fallback < 0)
        return invalid (b, node, "attribute '%s' is missing", name);
      *out = fallback;
      return TRUE;
    }
  for (int i = 0; names[i] != NULL; i++)
    if (strcmp (s, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  return invalid (b, node, "attribute '%s': '%s' is not a known value", name, s);
}

static GBytes *
get_hex_bytes (Builder *b, xmlNodePtr node, const char *name)
{
  const char *s = attr (b, node, name);
  gsize length;
  guint8 *data;

  if (s == NULL)
    return NULL;
  length = strlen (s);
  if (length % 2 != 0)
    {
      invalid (b, node, "attribute '%s': hex bytes come in pairs of digits", name);
      return NULL;
    }
  data = g_malloc (length / 2 + 1);
  for (gsize i = 0; i < length / 2; i++)
    {
      int hi = g_ascii_xdigit_value (s[2 * i]);
      int lo = g_ascii_xdigit_value (s[2 * i + 1]);

      if (hi < 0 || lo < 0)
        {
          g_free (data);
          invalid (b, node, "attribute '%s': '%s' is not hex bytes", name, s);
          return NULL;
        }
      data[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (data, length / 2);
}

static const char * const provenance_names[] = { "illustrative", "community", "verified", NULL };
static const char * const work_class_names[] = { "coding", "programming", "adaptation", NULL };

/* A missing provenance counts as illustrative; community data must say
 * where it comes from so the technician can judge it. */
static gboolean
get_provenance (Builder *b, xmlNodePtr node, EwProvenanceInfo *out)
{
  int provenance;
  const char *source;

  if (!get_enum (b, node, "provenance", provenance_names, EW_PROVENANCE_ILLUSTRATIVE, &provenance))
    return FALSE;
  out->provenance = provenance;
  source = attr (b, node, "source");
  if (source != NULL)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (source));
      out->source = *stripped != '\0' ? intern (b, stripped) : NULL;
    }
  if (out->provenance == EW_PROVENANCE_COMMUNITY && out->source == NULL)
    return invalid (b, node, "community provenance needs a 'source' attribute citing "
                    "where the data comes from");
  return TRUE;
}

/* ---- identification ------------------------------------------------------ */

static gboolean
parse_years (Builder *b, xmlNodePtr node, guint16 *from, guint16 *to)
{
  guint64 f, t;

  if (!get_uint (b, node, "years-from", 2100, 0, &f) ||
      !get_uint (b, node, "years-to", 2100, 0, &t))
    return FALSE;
  *from = (guint16) f;
  *to = (guint16) t;
  return TRUE;
}

static gboolean
parse_vin (Builder *b, xmlNodePtr node)
{
  EwFamily *family = b->family;
  EwVinPattern *pattern = g_new0 (EwVinPattern, 1);
  const char *wmi, *vds;
  guint16 from, to;

  g_ptr_array_add (family->vin_patterns, pattern);
  if (!require_attr (b, node, "wmi", &wmi))
    return FALSE;
  if (strlen (wmi) != 3)
    return invalid (b, node, "attribute 'wmi': '%s' is not three characters", wmi);
  memcpy (pattern->wmi, wmi, 4);

  vds = attr (b, node, "vds");
  if (vds != NULL && *vds != '\0')
    {
      g_autoptr(GError) regex_error = NULL;

      pattern->vds = g_regex_new (vds, G_REGEX_OPTIMIZE, 0, &regex_error);
      if (pattern->vds == NULL)
        return invalid (b, node, "attribute 'vds': '%s' is not a valid regular expression: %s",
                        vds, regex_error->message);
      pattern->vds_pattern = intern (b, vds);
    }

  pattern->chassis = attr_string (b, node, "chassis");
  if (pattern->chassis != NULL && !g_hash_table_contains (b->chassis_codes, pattern->chassis))
    return invalid (b, node, "chassis '%s' is not one of the family's chassis codes",
                    pattern->chassis);

  if (!parse_years (b, node, &from, &to))
    return FALSE;
  pattern->years_from = from;
  pattern->years_to = to;
  if ((from ? from : family->years_from) > (to ? to : family->years_to))
    return invalid (b, node, "years-from %u is after years-to %u",
                    from ? from : family->years_from, to ? to : family->years_to);
  return TRUE;
}

static gboolean
parse_identification (Builder *b, xmlNodePtr node)
{
  static const char * const check_digit_names[] = { "none", "optional", "required", NULL };
  EwFamily *family = b->family;
  const char *make, *model;
  int check_digit;

  if (!require_attr (b, node, "make", &make) || !require_attr (b, node, "model", &model))
    return FALSE;
  family->make = intern (b, make);
  family->model = intern (b, model);
  if (!parse_years (b, node, &family->years_from, &family->years_to))
    return FALSE;
  if (family->years_from == 0 || family->years_to == 0)
    return invalid (b, node, "years-from and years-to are required");
  if (family->years_from > family->years_to)
    return invalid (b, node, "years-from %u is after years-to %u",
                    family->years_from, family->years_to);
  if (!get_enum (b, node, "check-digit", check_digit_names, EW_CHECK_DIGIT_NONE, &check_digit) ||
      !get_bool (b, node, "year-code", FALSE, &family->has_year_code))
    return FALSE;
  family->check_digit = check_digit;

  FOR_EACH_ELEMENT (c, node)
    {
      if (is_element (c, "chassis"))
        {
          EwChassis *chassis = g_new0 (EwChassis, 1);

          g_ptr_array_add (family->chassis, chassis);
          chassis->code = attr_string (b, c, "code");
          chassis->body = attr_string (b, c, "body");
          if (chassis->code == NULL)
            return invalid (b, c, "attribute 'code' is missing");
          g_hash_table_add (b->chassis_codes, chassis->code);
        }
    }
  FOR_EACH_ELEMENT (c, node)
    if (is_element (c, "vin") && !parse_vin (b, c))
      return FALSE;
  return TRUE;
}

static gboolean
parse_options (Builder *b, xmlNodePtr node)
{
  EwFamilyReal *real = (EwFamilyReal *) b->family;

  FOR_EACH_ELEMENT (c, node)
    {
      EwOption *option = g_new0 (EwOption, 1);

      g_ptr_array_add (b->family->options, option);
      option->code = attr_string (b, c, "code");
      option->name = attr_string (b, c, "name");
      if (option->code == NULL || option->name == NULL)
        return invalid (b, c, "attributes 'code' and 'name' are required");
      /* codes travel in the comma-separated option-list record */
      if (option->code[0] == '\0' || strpbrk (option->code, ", \t\r\n") != NULL)
        return invalid (b, c, "option code '%s' must be non-empty, without commas or white space",
                        option->code);
      if (!g_hash_table_insert (real->options_by_code, option->code, option))
        return key_violation (b, c, "option '%s' is listed twice (key 'OptionCode')", option->code);
    }
  return TRUE;
}

static gboolean
parse_buses (Builder *b, xmlNodePtr node)
{
  static const char * const bus_type_names[] = { "can", "doip", NULL };

  FOR_EACH_ELEMENT (c, node)
    {
      EwBus *bus = g_new0 (EwBus, 1);
      guint64 bitrate;
      int type;

      g_ptr_array_add (b->family->buses, bus);
      bus->id = attr_string (b, c, "id");
      bus->name = attr_string (b, c, "name");
      if (bus->id == NULL || bus->name == NULL)
        return invalid (b, c, "attributes 'id' and 'name' are required");
      if (!get_enum (b, c, "type", bus_type_names, -1, &type) ||
          !get_uint (b, c, "bitrate", G_MAXUINT32, 0, &bitrate))
        return FALSE;
      bus->type = type;
      bus->bitrate_bps = (guint32) bitrate;
      if (!g_hash_table_insert (b->buses_by_id, bus->id, bus))
        return key_violation (b, c, "bus '%s' is listed twice (key 'BusId')", bus->id);
    }
  return TRUE;
}

static gboolean
parse_algorithms (Builder *b, xmlNodePtr node)
{
  FOR_EACH_ELEMENT (c, node)
    {
      EwSecurityAlgorithm *algorithm = g_new0 (EwSecurityAlgorithm, 1);

      g_ptr_array_add (b->family->algorithms, algorithm);
      algorithm->id = attr_string (b, c, "id");
      if (algorithm->id == NULL)
        return invalid (b, c, "attribute 'id' is missing");
      if (!g_hash_table_add (b->algorithms, algorithm->id))
        return key_violation (b, c, "algorithm '%s' is listed twice (key 'AlgorithmId')",
                              algorithm->id);
      algorithm->plugin = attr_string (b, c, "plugin");
      algorithm->description = element_text (b, c);
      if (!get_provenance (b, c, &algorithm->provenance))
        return FALSE;
    }
  return TRUE;
}

/* ---- modules ------------------------------------------------------------- */

static gboolean
parse_addressing (Builder *b, EwModule *module, xmlNodePtr node)
{
  static const char * const format_names[] = { "normal", "extended", "29bit", NULL };
  EwModuleAddressing *a = &module->addressing;

  FOR_EACH_ELEMENT (c, node)
    {
      if (is_element (c, "can"))
        {
          const EwBus *bus;
          guint64 request, response, target;
          guint64 max_id;
          int format;

          a->has_can = TRUE;
          a->can_bus = attr_string (b, c, "bus");
          if (a->can_bus == NULL)
            return invalid (b, c, "attribute 'bus' is missing");
          bus = g_hash_table_lookup (b->buses_by_id, a->can_bus);
          if (bus == NULL)
            return key_violation (b, c, "bus '%s' is not declared in <buses> (keyref 'CanBusRef')",
                                  a->can_bus);
          if (bus->type != EW_BUS_CAN)
            return invalid (b, c, "bus '%s' is not a CAN bus", a->can_bus);
          if (!get_enum (b, c, "format", format_names, EW_CAN_ADDRESSING_NORMAL, &format))
            return FALSE;
          a->can_format = format;
          max_id = format == EW_CAN_ADDRESSING_29BIT ? 0x1FFFFFFF : 0x7FF;
          if (!get_hex (b, c, "request-id", max_id, 0, &request) ||
              !get_hex (b, c, "response-id", max_id, 0, &response) ||
              !get_hex (b, c, "target-address", 0xFF, 0, &target))
            return FALSE;
          if (attr (b, c, "request-id") == NULL || attr (b, c, "response-id") == NULL)
            return invalid (b, c, "attributes 'request-id' and 'response-id' are required");
          if (format == EW_CAN_ADDRESSING_EXTENDED && attr (b, c, "target-address") == NULL)
            return invalid (b, c, "extended addressing needs a 'target-address'");
          a->can_request_id = (guint32) request;
          a->can_response_id = (guint32) response;
          a->can_target_address = (guint8) target;
        }
      else if (is_element (c, "doip"))
        {
          guint64 logical;

          if (attr (b, c, "logical-address") == NULL)
            return invalid (b, c, "attribute 'logical-address' is missing");
          if (!get_hex (b, c, "logical-address", 0xFFFF, 0, &logical))
            return FALSE;
          a->has_doip = TRUE;
          a->doip_logical_address = (guint16) logical;
        }
    }
  if (!a->has_can && !a->has_doip)
    return invalid (b, node, "module '%s' has neither CAN nor DoIP addressing", module->id);
  return TRUE;
}

/* The option list is read as text and split at commas (see the schema), so
 * it must be ASCII of whatever length the options fitted need; one list per
 * module, or a reader could not tell which one holds. */
static gboolean
check_option_list_did (Builder *b, const EwModule *module, const EwIdentificationDid *did,
                       xmlNodePtr node)
{
  if (did->encoding != EW_DID_ENCODING_ASCII)
    return invalid (b, node, "option-list DID 0x%04X in module '%s' must have encoding 'ascii' "
                    "(option codes separated by commas), not '%s'",
                    did->did, module->id, attr (b, node, "encoding"));
  if (did->length_bytes != 0)
    return invalid (b, node, "option-list DID 0x%04X in module '%s' must have variable length "
                    "(no 'length' attribute): its length depends on the options fitted",
                    did->did, module->id);
  for (guint i = 0; i + 1 < module->identification->len; i++)
    {
      const EwIdentificationDid *other = g_ptr_array_index (module->identification, i);
      if (other->role == EW_ID_ROLE_OPTION_LIST)
        return invalid (b, node, "module '%s' has a second option-list DID 0x%04X "
                        "(the first is 0x%04X); a module holds at most one",
                        module->id, did->did, other->did);
    }
  return TRUE;
}

static gboolean
parse_module_identification (Builder *b, EwModule *module, xmlNodePtr node)
{
  static const char * const role_names[] = {
    "vin", "part-number", "software-version", "hardware-version", "serial-number",
    "supplier", "programming-date", "active-session", "simulation-marker", "option-list",
    "supply-voltage", "other", NULL
  };
  static const char * const encoding_names[] = { "ascii", "hex", "bcd", NULL };

  FOR_EACH_ELEMENT (c, node)
    {
      EwIdentificationDid *did = g_new0 (EwIdentificationDid, 1);
      guint64 id, length;
      int role, encoding;

      g_ptr_array_add (module->identification, did);
      if (attr (b, c, "id") == NULL)
        return invalid (b, c, "attribute 'id' is missing");
      if (!get_hex (b, c, "id", 0xFFFF, 0, &id) ||
          !get_enum (b, c, "role", role_names, -1, &role) ||
          !get_uint (b, c, "length", G_MAXUINT16, 0, &length) ||
          !get_enum (b, c, "encoding", encoding_names, EW_DID_ENCODING_ASCII, &encoding))
        return FALSE;
      did->did = (guint16) id;
      did->role = role;
      did->name = attr_string (b, c, "name");
      did->length_bytes = (guint) length;
      did->encoding = encoding;
      for (guint i = 0; i + 1 < module->identification->len; i++)
        if (((EwIdentificationDid *) g_ptr_array_index (module->identification, i))->did == did->did)
          return invalid (b, c, "identification DID 0x%04X is listed twice in module '%s'",
                          did->did, module->id);
      if (did->role == EW_ID_ROLE_OPTION_LIST && !check_option_list_did (b, module, did, c))
        return FALSE;
      /* read as a number, so its layout is fixed (see the schema) */
      if (did->role == EW_ID_ROLE_SUPPLY_VOLTAGE &&
          (did->length_bytes != 2 || did->encoding != EW_DID_ENCODING_HEX))
        return invalid (b, c, "supply-voltage DID 0x%04X in module '%s' must have length 2 and "
                        "encoding 'hex' (millivolts, high byte first)", did->did, module->id);
    }
  return TRUE;
}

static gboolean
parse_security (Builder *b, EwModule *module, xmlNodePtr node)
{
  FOR_EACH_ELEMENT (c, node)
    {
      EwSecurityLevel *level = g_new0 (EwSecurityLevel, 1);
      guint64 value, attempts, lockout;
      int purpose;

      g_ptr_array_add (module->security, level);
      if (attr (b, c, "level") == NULL)
        return invalid (b, c, "attribute 'level' is missing");
      if (!get_hex (b, c, "level", 0xFF, 0, &value) ||
          !get_enum (b, c, "purpose", work_class_names, -1, &purpose) ||
          !get_uint (b, c, "max-attempts", G_MAXUINT, 0, &attempts) ||
          !get_uint (b, c, "lockout-ms", G_MAXUINT, 0, &lockout))
        return FALSE;
      /* ISO 14229-1 10.4: requestSeed uses odd sub-functions, sendKey the next even one. */
      if (value % 2 == 0)
        return invalid (b, c, "security level 0x%02X is not odd (requestSeed levels are odd)",
                        (guint) value);
      level->level = (guint8) value;
      level->algorithm = attr_string (b, c, "algorithm");
      if (level->algorithm == NULL || !g_hash_table_contains (b->algorithms, level->algorithm))
        return key_violation (b, c, "security algorithm '%s' is not declared in "
                              "<security-algorithms> (keyref 'SecurityAlgorithmRef')",
                              level->algorithm ? level->algorithm : "");
      level->purpose = purpose;
      level->max_attempts = (guint) attempts;
      level->lockout_ms = (guint) lockout;
    }
  return TRUE;
}

static guint
mask_width_bytes (guint32 mask)
{
  guint highest = 31 - (guint) __builtin_clz (mask);

  return highest / 8 + 1;
}

static gboolean
parse_coding_item (Builder *b, EwCodingDid *did, xmlNodePtr node)
{
  EwCodingItem *item = g_new0 (EwCodingItem, 1);
  guint64 byte, bit, mask;

  g_ptr_array_add (did->items, item);
  item->values = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_coding_value_free);
  item->id = attr_string (b, node, "id");
  item->name = attr_string (b, node, "name");
  if (item->id == NULL || item->name == NULL || attr (b, node, "byte") == NULL ||
      attr (b, node, "mask") == NULL)
    return invalid (b, node, "attributes 'id', 'name', 'byte' and 'mask' are required");
  if (!get_uint (b, node, "byte", G_MAXUINT16, 0, &byte) ||
      !get_uint (b, node, "bit", 31, 0, &bit) ||
      !get_hex (b, node, "mask", G_MAXUINT32, 0, &mask) ||
      !get_provenance (b, node, &item->provenance))
    return FALSE;
  item->byte = (guint) byte;
  item->bit = (guint) bit;
  item->mask = (guint32) mask;

  if (item->mask == 0)
    return invalid (b, node, "item '%s': mask 0x0 selects no bits", item->id);
  if ((item->mask & ((1u << item->bit) - 1)) != 0)
    return invalid (b, node, "item '%s': mask 0x%X has bits below bit %u, the lowest bit "
                    "of the field", item->id, item->mask, item->bit);
  if (item->byte + mask_width_bytes (item->mask) > did->length_bytes)
    return invalid (b, node, "item '%s': byte %u with mask 0x%X needs %u byte(s) but DID 0x%04X "
                    "is only %u byte(s) long", item->id, item->byte, item->mask,
                    item->byte + mask_width_bytes (item->mask), did->did, did->length_bytes);
  for (guint i = 0; i + 1 < did->items->len; i++)
    if (strcmp (((EwCodingItem *) g_ptr_array_index (did->items, i))->id, item->id) == 0)
      return invalid (b, node, "item '%s' is listed twice in DID 0x%04X", item->id, did->did);

  FOR_EACH_ELEMENT (c, node)
    {
      EwCodingValue *value = g_new0 (EwCodingValue, 1);
      guint64 raw;

      g_ptr_array_add (item->values, value);
      if (attr (b, c, "raw") == NULL || attr (b, c, "name") == NULL)
        return invalid (b, c, "attributes 'raw' and 'name' are required");
      if (!get_hex (b, c, "raw", G_MAXUINT32, 0, &raw))
        return FALSE;
      value->raw = raw;
      value->name = attr_string (b, c, "name");
      value->label = attr_string (b, c, "label");
      if (((raw << item->bit) & ~(guint64) item->mask) != 0)
        return invalid (b, c, "value '%s': raw 0x%" G_GINT64_MODIFIER "X does not fit item '%s' "
                        "(mask 0x%X, bit %u)", value->name, raw, item->id, item->mask, item->bit);
      for (guint i = 0; i + 1 < item->values->len; i++)
        {
          const EwCodingValue *other = g_ptr_array_index (item->values, i);

          if (strcmp (other->name, value->name) == 0)
            return invalid (b, c, "value '%s' is listed twice in item '%s'", value->name, item->id);
          if (other->raw == value->raw)
            return invalid (b, c, "values '%s' and '%s' of item '%s' have the same raw value",
                            other->name, value->name, item->id);
        }
    }
  return TRUE;
}

static gboolean
parse_checksum (Builder *b, EwCodingDid *did, xmlNodePtr node)
{
  static const char * const algorithm_names[] = {
    "none", "sum8", "xor8", "crc8-sae-j1850", "crc16-ccitt", NULL
  };
  guint64 from, to, at;
  guint width;
  int algorithm;

  if (attr (b, node, "from") == NULL || attr (b, node, "to") == NULL || attr (b, node, "at") == NULL)
    return invalid (b, node, "attributes 'from', 'to' and 'at' are required");
  if (!get_enum (b, node, "algorithm", algorithm_names, -1, &algorithm) ||
      !get_uint (b, node, "from", G_MAXUINT16, 0, &from) ||
      !get_uint (b, node, "to", G_MAXUINT16, 0, &to) ||
      !get_uint (b, node, "at", G_MAXUINT16, 0, &at))
    return FALSE;
  did->checksum = algorithm;
  did->checksum_from = (guint) from;
  did->checksum_to = (guint) to;
  did->checksum_at = (guint) at;
  width = algorithm == EW_CHECKSUM_CRC16_CCITT ? 2 : 1;

  if (from > to)
    return invalid (b, node, "checksum range starts at byte %u after it ends at byte %u",
                    (guint) from, (guint) to);
  if (to >= did->length_bytes)
    return invalid (b, node, "checksum range %u..%u is outside DID 0x%04X of %u byte(s)",
                    (guint) from, (guint) to, did->did, did->length_bytes);
  if (at + width > did->length_bytes)
    return invalid (b, node, "checksum at byte %u does not fit in DID 0x%04X of %u byte(s)",
                    (guint) at, did->did, did->length_bytes);
  if (at + width > from && at <= to)
    return invalid (b, node, "checksum at byte %u lies inside the range %u..%u it covers",
                    (guint) at, (guint) from, (guint) to);
  return TRUE;
}

static gboolean
parse_coding (Builder *b, EwModule *module, xmlNodePtr node)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  guint64 level, session;

  if (!get_hex (b, node, "security-level", 0xFF, 0, &level) ||
      !get_hex (b, node, "session", 0xFF, 0x03, &session))
    return FALSE;
  module->coding_security_level = (guint8) level;
  module->coding_session = (guint8) session;
  if (level != 0)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < module->security->len && !found; i++)
        found = ((EwSecurityLevel *) g_ptr_array_index (module->security, i))->level == level;
      if (!found)
        return invalid (b, node, "security level 0x%02X is not declared in the module's <security>",
                        (guint) level);
    }

  FOR_EACH_ELEMENT (c, node)
    {
      EwCodingDid *did = g_new0 (EwCodingDid, 1);
      guint64 id, length;

      g_ptr_array_add (module->coding, did);
      did->items = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_coding_item_free);
      if (attr (b, c, "id") == NULL || attr (b, c, "length") == NULL)
        return invalid (b, c, "attributes 'id' and 'length' are required");
      if (!get_hex (b, c, "id", 0xFFFF, 0, &id) ||
          !get_uint (b, c, "length", 4095, 0, &length))
        return FALSE;
      did->did = (guint16) id;
      did->name = attr_string (b, c, "name");
      did->length_bytes = (guint) length;
      if (did->length_bytes == 0)
        return invalid (b, c, "DID 0x%04X has length 0", did->did);
      if (!g_hash_table_add (seen, GUINT_TO_POINTER (did->did + 1)))
        return invalid (b, c, "coding DID 0x%04X is listed twice in module '%s'",
                        did->did, module->id);
      if (attr (b, c, "default") != NULL)
        {
          did->default_bytes = get_hex_bytes (b, c, "default");
          if (did->default_bytes == NULL)
            return FALSE;
          if (g_bytes_get_size (did->default_bytes) != did->length_bytes)
            return invalid (b, c, "default of DID 0x%04X has %zu byte(s), the DID %u",
                            did->did, g_bytes_get_size (did->default_bytes), did->length_bytes);
        }

      FOR_EACH_ELEMENT (d, c)
        {
          if (is_element (d, "checksum"))
            {
              if (!parse_checksum (b, did, d))
                return FALSE;
            }
          else if (is_element (d, "item"))
            {
              if (!parse_coding_item (b, did, d))
                return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
parse_mileage (Builder *b, EwModule *module, xmlNodePtr node)
{
  static const char * const unit_names[] = { "km", "mi", NULL };

  FOR_EACH_ELEMENT (c, node)
    {
      EwMileageStore *store = g_new0 (EwMileageStore, 1);
      guint64 did, length, scale;
      int unit;

      g_ptr_array_add (module->mileage, store);
      if (attr (b, c, "did") == NULL || attr (b, c, "length") == NULL)
        return invalid (b, c, "attributes 'did' and 'length' are required");
      if (!get_hex (b, c, "did", 0xFFFF, 0, &did) ||
          !get_uint (b, c, "length", 8, 0, &length) ||
          !get_enum (b, c, "unit", unit_names, 0, &unit) ||
          !get_uint (b, c, "scale", G_MAXUINT, 1, &scale) ||
          !get_bool (b, c, "writable", FALSE, &store->is_writable))
        return FALSE;
      store->did = (guint16) did;
      store->name = attr_string (b, c, "name");
      store->length_bytes = (guint) length;
      store->unit_is_miles = unit == 1;
      store->scale = (guint) scale;
      if (store->length_bytes == 0 || store->scale == 0)
        return invalid (b, c, "mileage store 0x%04X needs a length of 1 to 8 bytes and a "
                        "scale of at least 1", store->did);
      for (guint i = 0; i + 1 < module->mileage->len; i++)
        if (((EwMileageStore *) g_ptr_array_index (module->mileage, i))->did == store->did)
          return invalid (b, c, "mileage DID 0x%04X is listed twice", store->did);
    }
  return TRUE;
}

static const EwRoutine *
find_routine (const EwModule *module, const char *id)
{
  if (module->programming == NULL || id == NULL)
    return NULL;
  for (guint i = 0; i < module->programming->routines->len; i++)
    {
      const EwRoutine *routine = g_ptr_array_index (module->programming->routines, i);
      if (strcmp (routine->id, id) == 0)
        return routine;
    }
  return NULL;
}

static gint
compare_region_start (gconstpointer a, gconstpointer b)
{
  const EwFlashRegion *ra = *(EwFlashRegion * const *) a;
  const EwFlashRegion *rb = *(EwFlashRegion * const *) b;

  return ra->start < rb->start ? -1 : ra->start > rb->start;
}

static gboolean
parse_flash (Builder *b, EwModule *module, xmlNodePtr node)
{
  static const char * const kind_names[] = { "bootloader", "application", "calibration", NULL };
  EwFlashLayout *flash = g_new0 (EwFlashLayout, 1);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(GHashTable) nodes = g_hash_table_new (NULL, NULL);
  guint64 fill, format;

  module->flash = flash;
  flash->regions = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_flash_region_free);
  /* Erased flash reads 0xFF, so that is the natural filler for gaps. */
  if (!get_hex (b, node, "fill-byte", 0xFF, 0xFF, &fill) ||
      !get_hex (b, node, "data-format", 0xFF, 0x00, &format) ||
      !get_bool (b, node, "readable", FALSE, &flash->is_readable) ||
      !get_provenance (b, node, &flash->provenance))
    return FALSE;
  flash->fill_byte = (guint8) fill;
  flash->data_format = (guint8) format;

  FOR_EACH_ELEMENT (c, node)
    {
      EwFlashRegion *region = g_new0 (EwFlashRegion, 1);
      guint64 start, size;
      int kind;

      g_ptr_array_add (flash->regions, region);
      region->name = attr_string (b, c, "name");
      if (attr (b, c, "start") == NULL || attr (b, c, "size") == NULL)
        return invalid (b, c, "attributes 'start' and 'size' are required");
      if (!get_hex (b, c, "start", G_MAXUINT32, 0, &start) ||
          !get_hex (b, c, "size", G_MAXUINT32, 0, &size) ||
          !get_enum (b, c, "kind", kind_names, -1, &kind))
        return FALSE;
      region->start = (guint32) start;
      region->size = (guint32) size;
      region->kind = kind;
      region->erase_routine = attr_string (b, c, "erase-routine");
      if (size == 0)
        return invalid (b, c, "region '%s' has size 0", region->name);
      if (start + size > (guint64) G_MAXUINT32 + 1)
        return invalid (b, c, "region '%s' runs past the end of the 32-bit address space",
                        region->name);
      if (region->erase_routine != NULL && find_routine (module, region->erase_routine) == NULL)
        return invalid (b, c, "region '%s' refers to routine '%s', which the module's "
                        "<programming> does not declare", region->name, region->erase_routine);
      g_ptr_array_add (sorted, region);
      g_hash_table_insert (nodes, region, c);
    }

  g_ptr_array_sort (sorted, compare_region_start);
  for (guint i = 1; i < sorted->len; i++)
    {
      const EwFlashRegion *prev = g_ptr_array_index (sorted, i - 1);
      const EwFlashRegion *next = g_ptr_array_index (sorted, i);

      if ((guint64) prev->start + prev->size > next->start)
        return invalid (b, g_hash_table_lookup (nodes, next),
                        "region '%s' (0x%08X..0x%08X) overlaps region '%s' (0x%08X..0x%08X)",
                        next->name, next->start, (guint32) (next->start + next->size - 1),
                        prev->name, prev->start, (guint32) (prev->start + prev->size - 1));
    }
  return TRUE;
}

static gboolean
parse_programming (Builder *b, EwModule *module, xmlNodePtr node)
{
  static const char * const step_names[] = {
    "session", "routine", "security", "dtc-setting-off", "dtc-setting-on",
    "communication-off", "communication-on", "fingerprint", "erase", "download",
    "check-memory", "check-dependencies", "reset", "clear-dtc", "read-identification", NULL
  };
  EwProgrammingPlan *plan = g_new0 (EwProgrammingPlan, 1);
  guint64 block, fingerprint;

  module->programming = plan;
  plan->routines = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_routine_free);
  plan->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_programming_step_free);
  if (!get_uint (b, node, "max-block-length", G_MAXUINT32, 0, &block) ||
      !get_hex (b, node, "fingerprint-did", 0xFFFF, 0, &fingerprint) ||
      !get_provenance (b, node, &plan->provenance))
    return FALSE;
  plan->max_block_length = (guint) block;
  plan->fingerprint_did = (guint16) fingerprint;

  FOR_EACH_ELEMENT (c, node)
    {
      if (is_element (c, "routine"))
        {
          EwRoutine *routine = g_new0 (EwRoutine, 1);
          guint64 rid;

          routine->id = attr_string (b, c, "id");
          routine->name = attr_string (b, c, "name");
          if (routine->id == NULL || attr (b, c, "rid") == NULL)
            {
              ew_routine_free (routine);
              return invalid (b, c, "attributes 'id' and 'rid' are required");
            }
          if (find_routine (module, routine->id) != NULL)
            {
              invalid (b, c, "routine '%s' is listed twice", routine->id);
              ew_routine_free (routine);
              return FALSE;
            }
          g_ptr_array_add (plan->routines, routine);
          if (!get_hex (b, c, "rid", 0xFFFF, 0, &rid) ||
              !get_provenance (b, c, &routine->provenance))
            return FALSE;
          routine->rid = (guint16) rid;
          routine->args = get_hex_bytes (b, c, "args");
          if (b->error != NULL)
            return FALSE;
          if (routine->args == NULL)
            routine->args = g_bytes_new (NULL, 0);
        }
      else if (is_element (c, "step"))
        {
          EwProgrammingStep *step = g_new0 (EwProgrammingStep, 1);
          guint64 session, level;
          int kind;

          g_ptr_array_add (plan->steps, step);
          if (!get_enum (b, c, "kind", step_names, -1, &kind) ||
              !get_hex (b, c, "session", 0xFF, 0, &session) ||
              !get_hex (b, c, "level", 0xFF, 0, &level))
            return FALSE;
          step->kind = kind;
          step->session = (guint8) session;
          step->level = (guint8) level;
          step->routine = attr_string (b, c, "routine");
          if (step->kind == EW_STEP_SESSION && attr (b, c, "session") == NULL)
            return invalid (b, c, "a session step needs a 'session'");
          if (step->kind == EW_STEP_SECURITY && attr (b, c, "level") == NULL)
            return invalid (b, c, "a security step needs a 'level'");
          if (step->kind == EW_STEP_ROUTINE && step->routine == NULL)
            return invalid (b, c, "a routine step needs a 'routine'");
          if (step->routine != NULL && find_routine (module, step->routine) == NULL)
            return invalid (b, c, "step '%s' refers to unknown routine '%s'",
                            step_names[kind], step->routine);
        }
    }
  return TRUE;
}

static gboolean
parse_module (Builder *b, xmlNodePtr node)
{
  static const char * const kind_names[] = {
    "engine", "gearbox", "instrument-cluster", "body", "gateway", "head-unit", "lighting",
    "parking", "seat", "camera", "chassis", "driver-assistance", "climate", "other", NULL
  };
  EwFamilyReal *real = (EwFamilyReal *) b->family;
  EwModule *module = g_new0 (EwModule, 1);
  xmlNodePtr child;
  int kind;

  g_ptr_array_add (b->family->modules, module);
  module->identification = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_identification_did_free);
  module->security = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_security_level_free);
  module->coding = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_coding_did_free);
  module->mileage = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_mileage_store_free);
  module->coding_session = 0x03;

  module->id = attr_string (b, node, "id");
  module->name = attr_string (b, node, "name");
  if (module->id == NULL || module->name == NULL)
    return invalid (b, node, "attributes 'id' and 'name' are required");
  if (!get_enum (b, node, "kind", kind_names, -1, &kind) ||
      !get_bool (b, node, "optional", FALSE, &module->is_optional) ||
      !get_provenance (b, node, &module->provenance))
    return FALSE;
  module->kind = kind;
  if (!g_hash_table_insert (real->modules_by_id, module->id, module))
    return key_violation (b, node, "module '%s' is listed twice (key 'ModuleId')", module->id);

  /* Programming first: flash regions refer to its routines. */
  if ((child = first_child (node, "programming")) != NULL && !parse_programming (b, module, child))
    return FALSE;
  if ((child = first_child (node, "addressing")) == NULL)
    return invalid (b, node, "module '%s' has no <addressing>", module->id);
  if (!parse_addressing (b, module, child))
    return FALSE;
  if ((child = first_child (node, "identification")) != NULL &&
      !parse_module_identification (b, module, child))
    return FALSE;
  if ((child = first_child (node, "security")) != NULL && !parse_security (b, module, child))
    return FALSE;
  if ((child = first_child (node, "coding")) != NULL && !parse_coding (b, module, child))
    return FALSE;
  if ((child = first_child (node, "mileage")) != NULL && !parse_mileage (b, module, child))
    return FALSE;
  if ((child = first_child (node, "flash")) != NULL && !parse_flash (b, module, child))
    return FALSE;
  return TRUE;
}

/* ---- retrofit ------------------------------------------------------------ */

/* An item of a coding DID of module and one of its values, named by a
 * <retrofit> child; every reference is checked with the line it is on. */
static const EwCodingItem *
retrofit_item (Builder *b, const EwModule *module, xmlNodePtr node, guint16 *did_out)
{
  const EwCodingDid *did;
  const EwCodingItem *item;
  const char *item_id;
  guint64 id;

  if (attr (b, node, "did") == NULL)
    {
      invalid (b, node, "attribute 'did' is missing");
      return NULL;
    }
  if (!get_hex (b, node, "did", 0xFFFF, 0, &id))
    return NULL;
  if (!require_attr (b, node, "item", &item_id))
    return NULL;
  did = ew_module_find_coding_did (module, (guint16) id);
  if (did == NULL)
    {
      invalid (b, node, "module '%s' has no coding DID 0x%04X", module->id, (guint) id);
      return NULL;
    }
  item = ew_coding_did_find_item (did, item_id);
  if (item == NULL)
    {
      invalid (b, node, "DID 0x%04X of module '%s' has no item '%s'", (guint) id, module->id,
               item_id);
      return NULL;
    }
  *did_out = (guint16) id;
  return item;
}

static gboolean
retrofit_value (Builder *b, const EwModule *module, const EwCodingItem *item, xmlNodePtr node,
                const char *name, char **out)
{
  const char *value;

  if (!require_attr (b, node, name, &value))
    return FALSE;
  if (ew_coding_item_find_value (item, value) == NULL)
    return invalid (b, node, "item '%s' of module '%s' has no value '%s' (attribute '%s')",
                    item->id, module->id, value, name);
  *out = intern (b, value);
  return TRUE;
}

static gboolean
family_has_option_list (const EwFamily *family)
{
  for (guint i = 0; i < family->modules->len; i++)
    {
      const EwModule *m = g_ptr_array_index (family->modules, i);

      for (guint j = 0; j < m->identification->len; j++)
        if (((EwIdentificationDid *) g_ptr_array_index (m->identification, j))->role ==
            EW_ID_ROLE_OPTION_LIST)
          return TRUE;
    }
  return FALSE;
}

/* Parsed once every module is known: a retrofit names other modules. */
static gboolean
parse_retrofit (Builder *b, EwModule *module, xmlNodePtr node)
{
  EwRetrofit *r = g_new0 (EwRetrofit, 1);

  module->retrofit = r;
  r->car_coding = g_ptr_array_new_with_free_func (g_free);
  r->options = g_ptr_array_new ();
  r->module_coding = g_ptr_array_new_with_free_func (g_free);
  if (!get_provenance (b, node, &r->provenance))
    return FALSE;

  FOR_EACH_ELEMENT (c, node)
    {
      if (is_element (c, "car-coding"))
        {
          EwRetrofitCarCoding *cc = g_new0 (EwRetrofitCarCoding, 1);
          const EwModule *other;
          const EwCodingItem *item;
          const char *module_id;

          g_ptr_array_add (r->car_coding, cc);
          if (!require_attr (b, c, "module", &module_id))
            return FALSE;
          other = ew_family_find_module (b->family, module_id);
          if (other == NULL)
            return key_violation (b, c, "retrofit of module '%s' codes module '%s', which the "
                                  "family does not have", module->id, module_id);
          if (other == module)
            return invalid (b, c, "retrofit of module '%s': <car-coding> names the module "
                            "itself; its own coding goes in <module-coding>", module->id);
          cc->module = other->id;
          if ((item = retrofit_item (b, other, c, &cc->did)) == NULL)
            return FALSE;
          cc->item = item->id;
          if (!retrofit_value (b, other, item, c, "value", &cc->value))
            return FALSE;
        }
      else if (is_element (c, "option"))
        {
          const char *code;

          if (!require_attr (b, c, "code", &code))
            return FALSE;
          if (ew_family_find_option (b->family, code) == NULL)
            return key_violation (b, c, "retrofit of module '%s' adds option '%s', which the "
                                  "family's <options> does not list", module->id, code);
          if (!family_has_option_list (b->family))
            return invalid (b, c, "retrofit of module '%s' adds option '%s', but no module of "
                            "the family holds an option-list DID to write it to",
                            module->id, code);
          for (guint i = 0; i < r->options->len; i++)
            if (strcmp (g_ptr_array_index (r->options, i), code) == 0)
              return invalid (b, c, "retrofit of module '%s' adds option '%s' twice",
                              module->id, code);
          g_ptr_array_add (r->options, ew_family_find_option (b->family, code)->code);
        }
      else if (is_element (c, "module-coding"))
        {
          EwRetrofitModuleCoding *mc = g_new0 (EwRetrofitModuleCoding, 1);
          const EwCodingItem *item;
          const char *code;

          g_ptr_array_add (r->module_coding, mc);
          if ((item = retrofit_item (b, module, c, &mc->did)) == NULL)
            return FALSE;
          mc->item = item->id;
          if (!require_attr (b, c, "option", &code))
            return FALSE;
          if (ew_family_find_option (b->family, code) == NULL)
            return key_violation (b, c, "retrofit of module '%s' codes item '%s' from option "
                                  "'%s', which the family's <options> does not list",
                                  module->id, item->id, code);
          mc->option = ew_family_find_option (b->family, code)->code;
          if (!retrofit_value (b, module, item, c, "if-fitted", &mc->if_fitted) ||
              !retrofit_value (b, module, item, c, "if-absent", &mc->if_absent))
            return FALSE;
        }
      else if (is_element (c, "vin-link"))
        {
          gboolean has_vin = FALSE;

          for (guint i = 0; i < module->identification->len; i++)
            if (((EwIdentificationDid *) g_ptr_array_index (module->identification, i))->role ==
                EW_ID_ROLE_VIN)
              has_vin = TRUE;
          if (!has_vin)
            return invalid (b, c, "retrofit of module '%s' links the VIN, but the module has no "
                            "identification DID of role 'vin'", module->id);
          r->has_vin_link = TRUE;
        }
    }
  if (r->car_coding->len == 0 && r->options->len == 0 && r->module_coding->len == 0 &&
      !r->has_vin_link)
    return invalid (b, node, "retrofit of module '%s' changes nothing", module->id);
  return TRUE;
}

/* Parsed once every module is known: it names the immobiliser master. */
static gboolean
parse_immobiliser (Builder *b, EwModule *module, xmlNodePtr node)
{
  EwImmobiliser *immo = g_new0 (EwImmobiliser, 1);
  const EwModule *master;
  const char *master_id;
  gboolean has_serial = FALSE;
  gboolean has_level = FALSE;
  guint64 rid, did, session, level;

  module->immobiliser = immo;
  if (!get_provenance (b, node, &immo->provenance) || !require_attr (b, node, "master", &master_id))
    return FALSE;
  if (attr (b, node, "pairing-rid") == NULL || attr (b, node, "status-did") == NULL)
    return invalid (b, node, "attributes 'pairing-rid' and 'status-did' are required");
  if (!get_hex (b, node, "pairing-rid", 0xFFFF, 0, &rid) ||
      !get_hex (b, node, "status-did", 0xFFFF, 0, &did) ||
      !get_hex (b, node, "session", 0x7F, 0x03, &session) ||
      !get_hex (b, node, "security-level", 0x7F, 0, &level))
    return FALSE;
  master = ew_family_find_module (b->family, master_id);
  if (master == NULL)
    return key_violation (b, node, "immobiliser of module '%s' names master '%s', which the "
                          "family does not have (keyref 'ImmobiliserMasterRef')",
                          module->id, master_id);
  if (master == module)
    return invalid (b, node, "module '%s' cannot be its own immobiliser master", module->id);
  for (guint i = 0; i < master->identification->len; i++)
    if (((EwIdentificationDid *) g_ptr_array_index (master->identification, i))->role ==
        EW_ID_ROLE_SERIAL_NUMBER)
      has_serial = TRUE;
  if (!has_serial)
    return invalid (b, node, "immobiliser master '%s' has no identification DID of role "
                    "'serial-number' to pair module '%s' with", master->id, module->id);
  for (guint i = 0; i < module->security->len; i++)
    if (((EwSecurityLevel *) g_ptr_array_index (module->security, i))->level == level)
      has_level = TRUE;
  if (level != 0 && !has_level)
    return invalid (b, node, "immobiliser of module '%s' asks for security level 0x%02X, which "
                    "its <security> does not declare", module->id, (guint) level);
  if (ew_module_find_coding_did (module, (guint16) did) != NULL)
    return invalid (b, node, "immobiliser status DID 0x%04X of module '%s' is also a coding DID",
                    (guint) did, module->id);
  immo->master = master->id;
  immo->pairing_rid = (guint16) rid;
  immo->status_did = (guint16) did;
  immo->session = (guint8) session;
  immo->security_level = (guint8) level;
  return TRUE;
}

/* ---- features and jobs --------------------------------------------------- */

static gboolean
parse_feature_coding (Builder *b, EwFeature *feature, const EwModule *module, xmlNodePtr node)
{
  const EwCodingDid *did;
  const EwCodingItem *item;
  guint64 id;

  if (attr (b, node, "did") == NULL)
    return invalid (b, node, "attribute 'did' is missing");
  if (!get_hex (b, node, "did", 0xFFFF, 0, &id))
    return FALSE;
  feature->did = (guint16) id;
  feature->item = attr_string (b, node, "item");
  if (feature->item == NULL)
    return invalid (b, node, "attribute 'item' is missing");

  did = ew_module_find_coding_did (module, feature->did);
  if (did == NULL)
    return invalid (b, node, "feature '%s': module '%s' has no coding DID 0x%04X",
                    feature->id, module->id, feature->did);
  item = ew_coding_did_find_item (did, feature->item);
  if (item == NULL)
    return invalid (b, node, "feature '%s': DID 0x%04X of module '%s' has no item '%s'",
                    feature->id, feature->did, module->id, feature->item);

  FOR_EACH_ELEMENT (c, node)
    {
      EwFeatureState *state = g_new0 (EwFeatureState, 1);

      g_ptr_array_add (feature->states, state);
      state->name = attr_string (b, c, "name");
      state->value = attr_string (b, c, "value");
      state->label = attr_string (b, c, "label");
      if (state->name == NULL || state->value == NULL)
        return invalid (b, c, "attributes 'name' and 'value' are required");
      if (ew_coding_item_find_value (item, state->value) == NULL)
        return invalid (b, c, "feature '%s': state '%s' uses value '%s', which item '%s' "
                        "does not define", feature->id, state->name, state->value, item->id);
      for (guint i = 0; i + 1 < feature->states->len; i++)
        if (strcmp (((EwFeatureState *) g_ptr_array_index (feature->states, i))->name,
                    state->name) == 0)
          return invalid (b, c, "feature '%s': state '%s' is listed twice",
                          feature->id, state->name);
    }
  if (feature->states->len == 0)
    return invalid (b, node, "feature '%s' has no states", feature->id);
  return TRUE;
}

static gboolean
parse_feature (Builder *b, xmlNodePtr node)
{
  EwFamilyReal *real = (EwFamilyReal *) b->family;
  EwFeature *feature = g_new0 (EwFeature, 1);
  xmlNodePtr target = NULL;
  const EwModule *module;
  guint64 minutes;
  int work_class;

  g_ptr_array_add (b->family->features, feature);
  feature->requires = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_requirement_free);
  feature->states = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_feature_state_free);
  feature->id = attr_string (b, node, "id");
  feature->category = attr_string (b, node, "category");
  if (feature->id == NULL || feature->category == NULL || attr (b, node, "labour-minutes") == NULL)
    return invalid (b, node, "attributes 'id', 'category' and 'labour-minutes' are required");
  if (!get_enum (b, node, "class", work_class_names, -1, &work_class) ||
      !get_uint (b, node, "labour-minutes", 100000, 0, &minutes) ||
      !get_provenance (b, node, &feature->provenance))
    return FALSE;
  feature->work_class = work_class;
  feature->labour_minutes = (guint) minutes;
  if (!g_hash_table_insert (real->features_by_id, feature->id, feature))
    return key_violation (b, node, "feature '%s' is listed twice (key 'FeatureId')", feature->id);

  FOR_EACH_ELEMENT (c, node)
    {
      if (is_element (c, "name"))
        feature->name = element_text (b, c);
      else if (is_element (c, "description"))
        feature->description = element_text (b, c);
      else if (is_element (c, "reason"))
        feature->reason = element_text (b, c);
      else if (is_element (c, "requires"))
        {
          FOR_EACH_ELEMENT (r, c)
            {
              EwRequirement *requirement = g_new0 (EwRequirement, 1);

              g_ptr_array_add (feature->requires, requirement);
              if (is_element (r, "option"))
                {
                  requirement->kind = EW_REQUIREMENT_OPTION;
                  requirement->id = attr_string (b, r, "code");
                  if (ew_family_find_option (b->family, requirement->id) == NULL)
                    return key_violation (b, r, "feature '%s' requires option '%s', which the family "
                                          "does not list (keyref 'RequiredOptionRef')",
                                    feature->id, requirement->id ? requirement->id : "");
                }
              else
                {
                  requirement->kind = EW_REQUIREMENT_MODULE;
                  requirement->id = attr_string (b, r, "id");
                  if (ew_family_find_module (b->family, requirement->id) == NULL)
                    return key_violation (b, r, "feature '%s' requires unknown module '%s' "
                                          "(keyref 'RequiredModuleRef')",
                                    feature->id, requirement->id ? requirement->id : "");
                }
            }
        }
      else if (is_element (c, "coding") || is_element (c, "programming"))
        target = c;
    }
  if (feature->name == NULL || feature->description == NULL || target == NULL)
    return invalid (b, node, "feature '%s' needs <name>, <description> and <coding> or "
                    "<programming>", feature->id);

  feature->module = attr_string (b, target, "module");
  module = ew_family_find_module (b->family, feature->module);
  if (module == NULL)
    return key_violation (b, target, "feature '%s' refers to unknown module '%s' "
                          "(keyref 'FeatureModuleRef')",
                    feature->id, feature->module ? feature->module : "");

  if (is_element (target, "programming"))
    {
      if (feature->work_class != EW_WORK_CLASS_PROGRAMMING)
        return invalid (b, target, "feature '%s' of class '%s' cannot be done by programming",
                        feature->id, work_class_names[work_class]);
      feature->min_software = attr_string (b, target, "min-software");
      return TRUE;
    }
  if (feature->work_class == EW_WORK_CLASS_PROGRAMMING)
    return invalid (b, target, "feature '%s' of class 'programming' has <coding> instead of "
                    "<programming>", feature->id);
  return parse_feature_coding (b, feature, module, target);
}

static gboolean
parse_jobs (Builder *b, xmlNodePtr node)
{
  static const char * const kind_names[] = {
    "ecu-swap", "used-cluster", "body-module", "retrofit", "recovery", NULL
  };

  FOR_EACH_ELEMENT (c, node)
    {
      EwJobTemplate *job = g_new0 (EwJobTemplate, 1);
      int kind;

      g_ptr_array_add (b->family->jobs, job);
      job->operations = g_ptr_array_new_with_free_func ((GDestroyNotify) ew_job_operation_free);
      job->id = attr_string (b, c, "id");
      job->name = attr_string (b, c, "name");
      job->module = attr_string (b, c, "module");
      if (job->id == NULL || job->module == NULL)
        return invalid (b, c, "attributes 'id' and 'module' are required");
      if (!get_enum (b, c, "kind", kind_names, -1, &kind) ||
          !get_provenance (b, c, &job->provenance))
        return FALSE;
      job->kind = kind;
      if (ew_family_find_module (b->family, job->module) == NULL)
        return key_violation (b, c, "job '%s' refers to unknown module '%s' (keyref 'JobModuleRef')",
                              job->id, job->module);
      for (guint i = 0; i + 1 < b->family->jobs->len; i++)
        if (strcmp (((EwJobTemplate *) g_ptr_array_index (b->family->jobs, i))->id, job->id) == 0)
          return key_violation (b, c, "job '%s' is listed twice (key 'JobId')", job->id);

      FOR_EACH_ELEMENT (o, c)
        {
          if (is_element (o, "description"))
            job->description = element_text (b, o);
          else if (is_element (o, "operation"))
            {
              EwJobOperation *operation = g_new0 (EwJobOperation, 1);
              guint64 minutes;
              int work_class;

              g_ptr_array_add (job->operations, operation);
              operation->kind = attr_string (b, o, "kind");
              operation->name = attr_string (b, o, "name");
              if (operation->kind == NULL || attr (b, o, "labour-minutes") == NULL)
                return invalid (b, o, "attributes 'kind' and 'labour-minutes' are required");
              if (!get_enum (b, o, "class", work_class_names, -1, &work_class) ||
                  !get_uint (b, o, "labour-minutes", 100000, 0, &minutes))
                return FALSE;
              operation->work_class = work_class;
              operation->labour_minutes = (guint) minutes;
            }
        }
    }
  return TRUE;
}

static gboolean
build_family (Builder *b, xmlNodePtr root)
{
  EwFamily *family = b->family;
  xmlNodePtr child;
  guint64 version;

  if (!is_element (root, "family"))
    return invalid (b, root, "the root element must be <family>");
  family->id = attr_string (b, root, "id");
  if (family->id == NULL)
    return invalid (b, root, "attribute 'id' is missing");
  if (!get_uint (b, root, "schema-version", G_MAXUINT, 0, &version))
    return FALSE;
  if (version != 1)
    return invalid (b, root, "schema-version %" G_GUINT64_FORMAT " is not supported (1 is)", version);
  if (!get_provenance (b, root, &family->provenance))
    return FALSE;

  if ((child = first_child (root, "identification")) == NULL)
    return invalid (b, root, "<identification> is missing");
  if (!parse_identification (b, child))
    return FALSE;
  if ((child = first_child (root, "options")) != NULL && !parse_options (b, child))
    return FALSE;
  if ((child = first_child (root, "buses")) != NULL && !parse_buses (b, child))
    return FALSE;
  if ((child = first_child (root, "security-algorithms")) != NULL && !parse_algorithms (b, child))
    return FALSE;
  if ((child = first_child (root, "modules")) != NULL)
    {
      FOR_EACH_ELEMENT (c, child)
        if (!parse_module (b, c))
          return FALSE;
    }
  if ((child = first_child (root, "modules")) != NULL)
    {
      guint i = 0;

      FOR_EACH_ELEMENT (c, child)
        {
          xmlNodePtr retrofit = first_child (c, "retrofit");
          xmlNodePtr immobiliser = first_child (c, "immobiliser");

          if (retrofit != NULL &&
              !parse_retrofit (b, g_ptr_array_index (family->modules, i), retrofit))
            return FALSE;
          if (immobiliser != NULL &&
              !parse_immobiliser (b, g_ptr_array_index (family->modules, i), immobiliser))
            return FALSE;
          i++;
        }
    }
  if ((child = first_child (root, "features")) != NULL)
    {
      FOR_EACH_ELEMENT (c, child)
        if (!parse_feature (b, c))
          return FALSE;
    }
  if ((child = first_child (root, "jobs")) != NULL && !parse_jobs (b, child))
    return FALSE;
  return TRUE;
}

/* ---- the whole pipeline -------------------------------------------------- */

static EwFamily *
load_document (EwFamilyLoader *loader,
               const char     *path,
               const char     *data,
               gsize           length,
               GError        **error)
{
  g_autoptr(EwFamily) family = NULL;
  SavedHandlers saved;
  ErrorSink sink = { .path = path };
  xmlDocPtr doc;
  Builder b = { 0 };

  handlers_push (&saved, &sink);
  doc = data != NULL ? parse_safely (&sink, data, length) : read_and_parse (&sink, path);
  if (doc != NULL)
    {
      xmlSchemaValidCtxtPtr vctxt = xmlSchemaNewValidCtxt (loader->schema);

      xmlSchemaSetValidStructuredErrors (vctxt, on_schema_error, &sink);
      if (xmlSchemaValidateDoc (vctxt, doc) != 0)
        sink_set (&sink, EW_VEHICLE_ERROR_SCHEMA, 0, "does not validate against %s",
                  loader->schema_path);
      xmlSchemaFreeValidCtxt (vctxt);
    }
  handlers_pop (&saved);

  if (sink.error != NULL)
    {
      g_clear_pointer (&doc, xmlFreeDoc);
      g_propagate_error (error, sink.error);
      return NULL;
    }

  family = ew_family_new_empty ();
  b.path = path;
  b.family = family;
  b.strings = ((EwFamilyReal *) family)->strings;
  b.scratch = g_string_chunk_new (256);
  b.chassis_codes = g_hash_table_new (g_str_hash, g_str_equal);
  b.buses_by_id = g_hash_table_new (g_str_hash, g_str_equal);
  b.algorithms = g_hash_table_new (g_str_hash, g_str_equal);
  b.text = g_string_sized_new (256);
  family->path = intern (&b, path);

  build_family (&b, xmlDocGetRootElement (doc));

  g_string_chunk_free (b.scratch);
  g_hash_table_unref (b.chassis_codes);
  g_hash_table_unref (b.buses_by_id);
  g_hash_table_unref (b.algorithms);
  g_string_free (b.text, TRUE);
  xmlFreeDoc (doc);

  if (b.error != NULL)
    {
      g_propagate_error (error, b.error);
      return NULL;
    }
  return g_steal_pointer (&family);
}

EwFamily *
ew_family_loader_load_file (EwFamilyLoader *loader, const char *path, GError **error)
{
  g_return_val_if_fail (loader != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return load_document (loader, path, NULL, 0, error);
}

EwFamily *
ew_family_loader_load_memory (EwFamilyLoader *loader,
                              const char     *name,
                              const char     *data,
                              gsize           length,
                              GError        **error)
{
  g_return_val_if_fail (loader != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return load_document (loader, name, data != NULL ? data : "", length, error);
}

EwFamily *
ew_family_load_file (const char *path, const char *schema_path, GError **error)
{
  g_autoptr(EwFamilyLoader) loader = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  loader = ew_family_loader_new (schema_path, error);
  if (loader == NULL)
    return NULL;
  return ew_family_loader_load_file (loader, path, error);
}
