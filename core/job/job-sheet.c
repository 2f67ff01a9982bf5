/* job-sheet.c — lays a job plan out as blocks of Pango text, puts whole
 * blocks on A4 pages (a block never splits across pages) and draws them on
 * any Cairo context: a PDF surface here, the print context in the window.
 *
 * Layout and drawing use the same font options (no hinting, 72 dpi, so one
 * Pango unit of size is one point of user space); a block measured here is
 * exactly as tall when it is drawn on the PDF or the printer.
 */
#include "config.h"

#include <cairo-pdf.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "job/job-sheet.h"

#define PAGE_WIDTH   595.28
#define PAGE_HEIGHT  841.89
#define MARGIN       42.0
#define CONTENT_W    (PAGE_WIDTH - 2 * MARGIN)
#define FOOTER_H     24.0
#define CONT_HEADER_H 30.0
#define LOGO_W       140.0
#define LOGO_H       64.0

#define FONT_BODY    "Sans 9.5"
#define FONT_SMALL   "Sans 8"
#define FONT_BOLD    "Sans Bold 9.5"
#define FONT_HEADING "Sans Bold 12"
#define FONT_GARAGE  "Sans Bold 16"
#define FONT_TITLE   "Sans Bold 20"
#define FONT_TOTAL   "Sans Bold 11"

#define COLOR_TEXT   0x202020
#define COLOR_MUTED  0x5e5e5e
#define COLOR_RULE   0xb0b0b0

/* item table columns */
#define COL_NO_W     18.0
#define COL_CLASS_X  COL_NO_W
#define COL_CLASS_W  78.0
#define COL_TIME_W   62.0
#define COL_PRICE_W  82.0
#define COL_DESC_X   (COL_CLASS_X + COL_CLASS_W + 6.0)
#define COL_PRICE_X  (CONTENT_W - COL_PRICE_W)
#define COL_TIME_X   (COL_PRICE_X - COL_TIME_W - 6.0)
#define COL_DESC_W   (COL_TIME_X - 6.0 - COL_DESC_X)

typedef struct {
  char          *markup;
  const char    *font;
  double         x, y, width;   /* relative to the block */
  PangoAlignment align;
  guint32        color;
  guint32        background;    /* 0: none; else a label drawn on a pill */
  double         height;        /* measured */
} Cell;

typedef struct {
  GArray   *cells;              /* Cell */
  double    height;
  double    space_before;
  gboolean  rule_above;
  gboolean  keep_with_next;     /* a heading stays with what follows it */
  gboolean  is_table_row;       /* a line of the work table: a page that
                                 * starts with one repeats the headings */
} Block;

struct _EwJobSheet {
  PangoContext    *pango;
  cairo_surface_t *logo;        /* nullable */
  char            *garage_name;
  char            *garage_address;
  char            *title;
  char            *date;
  char            *reference;   /* nullable */
  char            *vehicle;     /* one line for the later pages' header */
  GPtrArray       *header;      /* Block: page 1 only, beside the logo */
  GPtrArray       *blocks;      /* Block */
  Block           *table_header; /* the work table's column headings, for
                                  * the pages the table runs on to */
  GArray          *page_starts; /* guint: first block of each page */
  double           header_height;
};

static void
cell_clear (gpointer data)
{
  Cell *cell = data;

  g_free (cell->markup);
}

static void
block_free (gpointer data)
{
  Block *block = data;

  g_array_unref (block->cells);
  g_free (block);
}

static Block *
block_new (GPtrArray *blocks, double space_before)
{
  Block *block = g_new0 (Block, 1);

  block->cells = g_array_new (FALSE, TRUE, sizeof (Cell));
  g_array_set_clear_func (block->cells, cell_clear);
  block->space_before = space_before;
  g_ptr_array_add (blocks, block);
  return block;
}

/* Takes markup. */
static Cell *
block_add (Block *block, char *markup, const char *font, double x, double y, double width,
           PangoAlignment align, guint32 color)
{
  Cell cell = { markup, font, x, y, width, align, color, 0, 0 };

  g_array_append_val (block->cells, cell);
  return &g_array_index (block->cells, Cell, block->cells->len - 1);
}

static void
set_font_options (PangoContext *pango)
{
  cairo_font_options_t *options = cairo_font_options_create ();

  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (pango, options);
  pango_cairo_context_set_resolution (pango, 72.0);
  cairo_font_options_destroy (options);
}

static PangoLayout *
cell_layout (PangoContext *pango, const Cell *cell)
{
  PangoLayout *layout = pango_layout_new (pango);
  g_autoptr(PangoFontDescription) desc = pango_font_description_from_string (cell->font);

  pango_layout_set_font_description (layout, desc);
  pango_layout_set_width (layout, (int) (cell->width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment (layout, cell->align);
  pango_layout_set_markup (layout, cell->markup, -1);
  return layout;
}

#define PILL_PAD_X 4.0
#define PILL_PAD_Y 1.5

static void
block_measure (PangoContext *pango, Block *block)
{
  block->height = 0;
  for (guint i = 0; i < block->cells->len; i++)
    {
      Cell *cell = &g_array_index (block->cells, Cell, i);
      g_autoptr(PangoLayout) layout = cell_layout (pango, cell);
      int w, h;

      pango_layout_get_size (layout, &w, &h);
      cell->height = (double) h / PANGO_SCALE + (cell->background != 0 ? 2 * PILL_PAD_Y : 0);
      block->height = MAX (block->height, cell->y + cell->height);
    }
}

static void
set_color (cairo_t *cr, guint32 rgb)
{
  cairo_set_source_rgb (cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                        (rgb & 0xff) / 255.0);
}

static void
block_draw (PangoContext *pango, const Block *block, cairo_t *cr, double x0, double y0)
{
  if (block->rule_above)
    {
      set_color (cr, COLOR_RULE);
      cairo_set_line_width (cr, 0.5);
      cairo_move_to (cr, x0, y0 - block->space_before / 2);
      cairo_line_to (cr, x0 + CONTENT_W, y0 - block->space_before / 2);
      cairo_stroke (cr);
    }
  for (guint i = 0; i < block->cells->len; i++)
    {
      const Cell *cell = &g_array_index (block->cells, Cell, i);
      g_autoptr(PangoLayout) layout = cell_layout (pango, cell);
      double x = x0 + cell->x, y = y0 + cell->y;

      if (cell->background != 0)
        {
          PangoRectangle logical;

          pango_layout_set_width (layout, -1);
          pango_layout_get_extents (layout, NULL, &logical);
          set_color (cr, cell->background);
          cairo_new_sub_path (cr);
          cairo_rectangle (cr, x, y, logical.width / (double) PANGO_SCALE + 2 * PILL_PAD_X,
                           logical.height / (double) PANGO_SCALE + 2 * PILL_PAD_Y);
          cairo_fill (cr);
          x += PILL_PAD_X;
          y += PILL_PAD_Y;
        }
      set_color (cr, cell->color);
      cairo_move_to (cr, x, y);
      pango_cairo_show_layout (cr, layout);
    }
}

static char *
format_minutes (guint minutes)
{
  if (minutes < 60)
    /* TRANSLATORS: labour time on the job sheet */
    return g_strdup_printf (_("%u min"), minutes);
  /* TRANSLATORS: labour time on the job sheet, hours and minutes */
  return g_strdup_printf (_("%u h %02u min"), minutes / 60, minutes % 60);
}

static const char *
class_label (EwWorkClass work_class)
{
  switch (work_class)
    {
    case EW_WORK_CLASS_PROGRAMMING: return _("Programming");
    case EW_WORK_CLASS_ADAPTATION:  return _("Adaptation");
    case EW_WORK_CLASS_CODING:
    default:                        return _("Coding");
    }
}

static guint32
class_color (EwWorkClass work_class)
{
  switch (work_class)
    {
    case EW_WORK_CLASS_PROGRAMMING: return 0xb5401f;
    case EW_WORK_CLASS_ADAPTATION:  return 0x6a4fa3;
    case EW_WORK_CLASS_CODING:
    default:                        return 0x1f6fb5;
    }
}

static const char *
state_label (EwJobState state)
{
  switch (state)
    {
    case EW_JOB_STATE_RUNNING:     return _("not finished");
    case EW_JOB_STATE_DONE:        return _("done and checked");
    case EW_JOB_STATE_ROLLED_BACK: return _("not done: the module was put back as it was");
    case EW_JOB_STATE_FAILED:      return _("failed: needs attention");
    case EW_JOB_STATE_RESTORED:    return _("done, later undone");
    default:                       return "";
    }
}

static Block *
add_heading (EwJobSheet *sheet, const char *text)
{
  Block *block = block_new (sheet->blocks, 16);

  block_add (block, g_markup_escape_text (text, -1), FONT_HEADING, 0, 0, CONTENT_W,
             PANGO_ALIGN_LEFT, COLOR_TEXT);
  block->keep_with_next = TRUE;
  return block;
}

static void
add_vehicle (EwJobSheet *sheet, const EwJobPlan *plan, const EwJobSheetInfo *info)
{
  Block *block = block_new (sheet->blocks, 6);
  const double label_w = 90;
  const char *labels[3] = { _("Vehicle"), _("Registration"), _("VIN") };
  g_autofree char *model = g_strdup_printf ("%s %s", plan->family->make, plan->family->model);
  const char *values[3] = { model, info->registration, info->vin };
  double y = 0;

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      if (values[i] == NULL || values[i][0] == '\0')
        continue;
      block_add (block, g_markup_escape_text (labels[i], -1), FONT_BOLD, 0, y, label_w,
                 PANGO_ALIGN_LEFT, COLOR_MUTED);
      block_add (block, g_markup_escape_text (values[i], -1), FONT_BODY, label_w, y,
                 CONTENT_W - label_w, PANGO_ALIGN_LEFT, COLOR_TEXT);
      y += 14;
    }
  block->rule_above = TRUE;
  sheet->vehicle = info->registration != NULL
    ? g_strdup_printf ("%s, %s", model, info->registration) : g_strdup (model);
}

static void
add_item (EwJobSheet *sheet, const EwPriceRates *rates, const EwPlanItem *item, guint number)
{
  Block *block = block_new (sheet->blocks, 8);
  g_autofree char *time = format_minutes (item->labour_minutes);
  g_autofree char *price = ew_money_format (rates, item->price_minor);
  GString *desc = g_string_new (NULL);
  Cell *pill;

  block->rule_above = TRUE;
  block->is_table_row = TRUE;
  block_add (block, g_strdup_printf ("%u", number), FONT_BODY, 0, 0, COL_NO_W, PANGO_ALIGN_LEFT,
             COLOR_TEXT);
  pill = block_add (block, g_markup_printf_escaped ("<b>%s</b>", class_label (item->work_class)),
                    FONT_SMALL, COL_CLASS_X, 0, COL_CLASS_W - 2 * PILL_PAD_X, PANGO_ALIGN_LEFT,
                    0xffffff);
  pill->background = class_color (item->work_class);

  {
    g_autofree char *title = g_markup_escape_text (item->title, -1);
    g_autofree char *reason = g_markup_escape_text (item->reason, -1);

    g_string_append_printf (desc, "<b>%s</b>\n<span foreground=\"#5e5e5e\">%s</span>", title, reason);
  }
  if (item->is_from_scan && item->finding != NULL)
    {
      g_autofree char *finding = g_markup_escape_text (item->finding, -1);

      g_string_append (desc, "\n<i>");
      /* TRANSLATORS: %s is what the scan of the car found */
      g_string_append_printf (desc, _("Found by the scan: %s"), finding);
      g_string_append (desc, "</i>");
    }
  block_add (block, g_string_free (desc, FALSE), FONT_BODY, COL_DESC_X, 0, COL_DESC_W,
             PANGO_ALIGN_LEFT, COLOR_TEXT);
  block_add (block, g_markup_escape_text (time, -1), FONT_BODY, COL_TIME_X, 0, COL_TIME_W,
             PANGO_ALIGN_RIGHT, COLOR_TEXT);
  if (item->is_fixed_price)
    block_add (block, g_markup_printf_escaped ("%s\n<span font=\"" FONT_SMALL "\" foreground=\"#5e5e5e\">%s</span>",
                                               /* TRANSLATORS: under a line's price on the job sheet */
                                               price, _("fixed price")),
               FONT_BODY, COL_PRICE_X, 0, COL_PRICE_W, PANGO_ALIGN_RIGHT, COLOR_TEXT);
  else
    block_add (block, g_markup_escape_text (price, -1), FONT_BODY, COL_PRICE_X, 0, COL_PRICE_W,
               PANGO_ALIGN_RIGHT, COLOR_TEXT);
  block_measure (sheet->pango, block);

  /* the steps of a job of several operations, under its title */
  if (item->operations->len > 1)
    {
      double y = block->height + 3;

      for (guint j = 0; j < item->operations->len; j++)
        {
          const EwPlanOperation *op = g_ptr_array_index (item->operations, j);
          g_autofree char *op_time = format_minutes (op->labour_minutes);
          g_autofree char *op_price = ew_money_format (rates, op->price_minor);
          guint index = block->cells->len;
          const Cell *cell;

          block_add (block, g_markup_printf_escaped ("· %s  <span foreground=\"#5e5e5e\">(%s)</span>",
                                                            op->name, class_label (op->work_class)),
                            FONT_SMALL, COL_DESC_X + 8, y, COL_DESC_W - 8, PANGO_ALIGN_LEFT, COLOR_TEXT);
          block_add (block, g_markup_escape_text (op_time, -1), FONT_SMALL, COL_TIME_X, y, COL_TIME_W,
                     PANGO_ALIGN_RIGHT, COLOR_MUTED);
          block_add (block, g_markup_escape_text (op_price, -1), FONT_SMALL, COL_PRICE_X, y, COL_PRICE_W,
                     PANGO_ALIGN_RIGHT, COLOR_MUTED);
          block_measure (sheet->pango, block);
          cell = &g_array_index (block->cells, Cell, index);
          y = cell->y + cell->height + 1;
        }
    }
}

/* The work table's column headings into block. */
static void
add_table_headings (Block *block)
{
  block_add (block, g_markup_escape_text (_("Work"), -1), FONT_BOLD, COL_CLASS_X, 0, COL_DESC_X + COL_DESC_W,
             PANGO_ALIGN_LEFT, COLOR_MUTED);
  block_add (block, g_markup_escape_text (_("Time"), -1), FONT_BOLD, COL_TIME_X, 0, COL_TIME_W,
             PANGO_ALIGN_RIGHT, COLOR_MUTED);
  block_add (block, g_markup_escape_text (_("Price"), -1), FONT_BOLD, COL_PRICE_X, 0, COL_PRICE_W,
             PANGO_ALIGN_RIGHT, COLOR_MUTED);
}

static void
add_totals (EwJobSheet *sheet, const EwJobPlan *plan)
{
  Block *block = block_new (sheet->blocks, 14);
  const EwPriceRates *rates = &plan->rates;
  g_autofree char *vat_percent = ew_price_format_vat_percent (rates);
  /* TRANSLATORS: %s is the VAT rate, e.g. "20" */
  g_autofree char *vat_label = g_strdup_printf (_("VAT (%s %%)"), vat_percent);
  g_autofree char *time = format_minutes (plan->labour_minutes);
  char *values[4] = {
    time,
    ew_money_format (rates, plan->net_minor),
    ew_money_format (rates, plan->vat_minor),
    ew_money_format (rates, plan->gross_minor),
  };
  const char *labels[4] = { _("Labour time"), _("Net"), vat_label, _("Total") };
  const double label_w = 140, label_x = COL_PRICE_X - 6 - label_w;
  double y = 0;

  block->rule_above = TRUE;
  for (guint i = 0; i < 4; i++)
    {
      const char *font = i == 3 ? FONT_TOTAL : FONT_BODY;

      block_add (block, g_markup_escape_text (labels[i], -1), i == 3 ? FONT_TOTAL : FONT_BOLD,
                 label_x, y, label_w, PANGO_ALIGN_RIGHT, COLOR_TEXT);
      block_add (block, g_markup_escape_text (values[i], -1), font, COL_PRICE_X, y, COL_PRICE_W,
                 PANGO_ALIGN_RIGHT, COLOR_TEXT);
      y += i == 2 ? 18 : 14;
    }
  for (guint i = 1; i < 4; i++)
    g_free (values[i]);
}

static void
add_note (EwJobSheet *sheet, EwWorkClass work_class, const char *text)
{
  Block *block = block_new (sheet->blocks, 6);
  Cell *pill;

  pill = block_add (block, g_markup_printf_escaped ("<b>%s</b>", class_label (work_class)), FONT_SMALL,
                    0, 0, COL_CLASS_W - 2 * PILL_PAD_X, PANGO_ALIGN_LEFT, 0xffffff);
  pill->background = class_color (work_class);
  block_add (block, g_markup_escape_text (text, -1), FONT_BODY, COL_DESC_X, 0, CONTENT_W - COL_DESC_X,
             PANGO_ALIGN_LEFT, COLOR_TEXT);
}

static char *
hex_bytes (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
  GString *s = g_string_new (NULL);

  /* a coding string can be long; the first bytes tell the customer enough */
  for (gsize i = 0; i < MIN (len, 12); i++)
    g_string_append_printf (s, "%s%02X", i > 0 ? " " : "", data[i]);
  if (len > 12)
    g_string_append (s, " …");
  if (len == 0)
    g_string_append (s, "—");
  return g_string_free (s, FALSE);
}

/* The names of the plan family's features that live in module_id's did. */
static char *
features_of_did (const EwFamily *family, const char *module_id, guint16 did)
{
  g_autoptr(GString) names = g_string_new (NULL);

  for (guint i = 0; i < family->features->len; i++)
    {
      const EwFeature *f = g_ptr_array_index (family->features, i);

      if (f->item != NULL && f->did == did && g_strcmp0 (f->module, module_id) == 0)
        g_string_append_printf (names, "%s%s", names->len > 0 ? ", " : "", f->name);
    }
  return names->len > 0 ? g_strdup (names->str) : NULL;
}

static gboolean
add_done (EwJobSheet *sheet, const EwJobPlan *plan, const EwJobSheetDone *done, GError **error)
{
  if (done == NULL || done->store == NULL || done->n_job_ids == 0)
    return TRUE;

  add_heading (sheet, _("Work carried out"));
  for (guint i = 0; i < done->n_job_ids; i++)
    {
      g_autoptr(EwJobRecord) record = ew_job_store_get_job (done->store, done->job_ids[i], error);
      g_autoptr(GPtrArray) backups = NULL;
      g_autoptr(GPtrArray) journal = NULL;
      g_autofree char *when = NULL;
      Block *block;
      double y;

      if (record == NULL)
        return FALSE;
      backups = ew_job_store_get_backups (done->store, record->id, error);
      if (backups == NULL)
        return FALSE;
      journal = ew_job_store_get_journal (done->store, record->id, error);
      if (journal == NULL)
        return FALSE;

      when = g_date_time_format (record->finished != NULL ? record->finished : record->started,
                                 "%Y-%m-%d %H:%M");
      block = block_new (sheet->blocks, 8);
      block->rule_above = TRUE;
      block_add (block, g_markup_printf_escaped ("<b>%s</b>", record->summary != NULL ? record->summary : ""),
                 FONT_BODY, 0, 0, CONTENT_W - 170, PANGO_ALIGN_LEFT, COLOR_TEXT);
      block_add (block, g_markup_printf_escaped ("%s\n<span foreground=\"#5e5e5e\">%s</span>",
                                                 state_label (record->state), when),
                 FONT_SMALL, CONTENT_W - 165, 0, 165, PANGO_ALIGN_RIGHT, COLOR_TEXT);
      block_measure (sheet->pango, block);
      y = block->height + 3;

      for (guint j = 0; j < backups->len; j++)
        {
          const EwJobBackup *b = g_ptr_array_index (backups, j);
          g_autofree char *before = hex_bytes (b->before);
          g_autofree char *after = hex_bytes (b->after);
          g_autofree char *features = features_of_did (plan->family, b->module_id, b->did);
          g_autofree char *subject = features != NULL
            ? g_strdup_printf ("%s 0x%04X (%s)", b->module_id, b->did, features)
            : g_strdup_printf ("%s 0x%04X", b->module_id, b->did);
          Cell *cell;

          cell = block_add (block, g_markup_printf_escaped ("%s: <tt>%s</tt> → <tt>%s</tt>", subject, before, after),
                            FONT_SMALL, 8, y, CONTENT_W - 8, PANGO_ALIGN_LEFT, COLOR_TEXT);
          block_measure (sheet->pango, block);
          y = cell->y + cell->height + 1;
        }
      /* the flash engine journals the software found before and written */
      for (guint j = 0; j < journal->len; j++)
        {
          const EwJournalEntry *e = g_ptr_array_index (journal, j);
          const char *label;
          Cell *cell;

          if (e->detail == NULL || strstr (e->detail, "software") == NULL)
            continue;
          if (g_str_equal (e->step, "identification"))
            /* TRANSLATORS: software found in the module before programming */
            label = _("Software before");
          else if (g_str_equal (e->step, "done"))
            /* TRANSLATORS: software in the module after programming */
            label = _("Software after");
          else
            continue;
          cell = block_add (block, g_markup_printf_escaped ("%s (%s): %s", label,
                                                            e->module_id != NULL ? e->module_id : "",
                                                            e->detail),
                            FONT_SMALL, 8, y, CONTENT_W - 8, PANGO_ALIGN_LEFT, COLOR_TEXT);
          block_measure (sheet->pango, block);
          y = cell->y + cell->height + 1;
        }
    }
  return TRUE;
}

static void
build_header (EwJobSheet *sheet)
{
  Block *left = block_new (sheet->header, 0);
  Block *right = block_new (sheet->header, 0);
  double x = sheet->logo != NULL ? LOGO_W + 12 : 0;
  double right_w = 170;
  g_autofree char *garage = g_markup_escape_text (sheet->garage_name, -1);
  GString *meta = g_string_new (NULL);

  if (sheet->garage_address != NULL)
    {
      g_autofree char *address = g_markup_escape_text (sheet->garage_address, -1);

      block_add (left, g_strdup_printf ("%s\n<span font=\"" FONT_BODY "\" foreground=\"#5e5e5e\">%s</span>",
                                        garage, address),
                 FONT_GARAGE, x, 0, CONTENT_W - right_w - x - 6, PANGO_ALIGN_LEFT, COLOR_TEXT);
    }
  else
    block_add (left, g_strdup (garage), FONT_GARAGE, x, 0, CONTENT_W - right_w - x - 6,
               PANGO_ALIGN_LEFT, COLOR_TEXT);

  block_add (right, g_markup_escape_text (sheet->title, -1), FONT_TITLE, CONTENT_W - right_w, 0, right_w,
             PANGO_ALIGN_RIGHT, COLOR_TEXT);
  {
    g_autofree char *date = g_markup_escape_text (sheet->date, -1);

    g_string_append (meta, date);
  }
  if (sheet->reference != NULL)
    {
      g_autofree char *reference = g_markup_escape_text (sheet->reference, -1);

      g_string_append_c (meta, '\n');
      /* TRANSLATORS: %s is the quote or job number */
      g_string_append_printf (meta, _("Reference %s"), reference);
    }
  block_add (right, g_string_free (meta, FALSE), FONT_BODY, CONTENT_W - right_w, 28, right_w,
             PANGO_ALIGN_RIGHT, COLOR_MUTED);

  block_measure (sheet->pango, left);
  block_measure (sheet->pango, right);
  sheet->header_height = MAX (MAX (left->height, right->height), sheet->logo != NULL ? LOGO_H : 0);
}

#define TABLE_HEADER_GAP 6.0

/* The room the repeated column headings take above block, at the top of a
 * page. */
static double
continued_table_height (const EwJobSheet *sheet, const Block *block)
{
  if (!block->is_table_row || sheet->table_header == NULL)
    return 0;
  return sheet->table_header->height + TABLE_HEADER_GAP;
}

static void
paginate (EwJobSheet *sheet)
{
  const double bottom = PAGE_HEIGHT - MARGIN - FOOTER_H;
  double y = MARGIN + sheet->header_height + 8;
  guint start = 0;

  g_array_set_size (sheet->page_starts, 0);
  g_array_append_val (sheet->page_starts, start);
  for (guint i = 0; i < sheet->blocks->len; i++)
    {
      Block *block = g_ptr_array_index (sheet->blocks, i);
      double need = block->space_before + block->height;

      /* a heading moves with the block it heads */
      if (block->keep_with_next && i + 1 < sheet->blocks->len)
        {
          Block *next = g_ptr_array_index (sheet->blocks, i + 1);

          need += next->space_before + next->height;
        }
      if (y + need > bottom && i > g_array_index (sheet->page_starts, guint, sheet->page_starts->len - 1))
        {
          g_array_append_val (sheet->page_starts, i);
          /* the first block of a page has no space above it */
          y = MARGIN + CONT_HEADER_H + continued_table_height (sheet, block) + block->height;
        }
      else
        y += block->space_before + block->height;
    }
}

/* The quote: the work table, totals, refusals and what each class of
 * work means for the car. */
static void
add_quote (EwJobSheet *sheet, const EwJobPlan *plan)
{
  gboolean has_class[3] = { FALSE, FALSE, FALSE };
  Block *block;

  add_heading (sheet, _("Work quoted"));
  block = block_new (sheet->blocks, 4);
  add_table_headings (block);
  block->keep_with_next = TRUE;
  sheet->table_header = g_new0 (Block, 1);
  sheet->table_header->cells = g_array_new (FALSE, TRUE, sizeof (Cell));
  g_array_set_clear_func (sheet->table_header->cells, cell_clear);
  add_table_headings (sheet->table_header);
  block_measure (sheet->pango, sheet->table_header);
  if (plan->items->len == 0)
    {
      block = block_new (sheet->blocks, 8);
      block_add (block, g_markup_escape_text (_("No work to quote."), -1), FONT_BODY, 0, 0, CONTENT_W,
                 PANGO_ALIGN_LEFT, COLOR_TEXT);
    }
  for (guint i = 0; i < plan->items->len; i++)
    {
      const EwPlanItem *item = g_ptr_array_index (plan->items, i);

      add_item (sheet, &plan->rates, item, i + 1);
      if ((guint) item->work_class < G_N_ELEMENTS (has_class))
        has_class[item->work_class] = TRUE;
      for (guint j = 0; j < item->operations->len; j++)
        {
          const EwPlanOperation *op = g_ptr_array_index (item->operations, j);

          if ((guint) op->work_class < G_N_ELEMENTS (has_class))
            has_class[op->work_class] = TRUE;
        }
    }
  add_totals (sheet, plan);

  if (plan->refusals->len > 0)
    {
      add_heading (sheet, _("Not quoted"));
      for (guint i = 0; i < plan->refusals->len; i++)
        {
          const EwPlanRefusal *r = g_ptr_array_index (plan->refusals, i);

          block = block_new (sheet->blocks, 6);
          block_add (block, g_markup_printf_escaped ("<b>%s</b>\n<span foreground=\"#5e5e5e\">%s</span>",
                                                     r->title != NULL ? r->title : r->subject,
                                                     r->reason != NULL ? r->reason : ""),
                     FONT_BODY, COL_DESC_X, 0, CONTENT_W - COL_DESC_X, PANGO_ALIGN_LEFT, COLOR_TEXT);
        }
    }

  if (has_class[EW_WORK_CLASS_PROGRAMMING] || has_class[EW_WORK_CLASS_CODING] ||
      has_class[EW_WORK_CLASS_ADAPTATION])
    add_heading (sheet, _("What this means for your car"));
  if (has_class[EW_WORK_CLASS_PROGRAMMING])
    add_note (sheet, EW_WORK_CLASS_PROGRAMMING,
              _("New software is written into a module. The car stays connected to a battery support "
                "unit for the whole time, and the module — with everything it controls — is out of "
                "action while it is being written and checked. Allow for the car to be with us "
                "for the time quoted."));
  if (has_class[EW_WORK_CLASS_CODING])
    add_note (sheet, EW_WORK_CLASS_CODING,
              _("A setting in a module is changed; its software stays as it is. It takes minutes, "
                "and the module's settings are saved first, so the change can be undone exactly "
                "from that backup."));
  if (has_class[EW_WORK_CLASS_ADAPTATION])
    add_note (sheet, EW_WORK_CLASS_ADAPTATION,
              _("A module learns a new part or value, for example a new battery. It is quick and "
                "needs no new software."));
}

EwJobSheet *
ew_job_sheet_new (const EwJobPlan      *plan,
                  const EwJobSheetInfo *info,
                  const EwJobSheetDone *done,
                  GError              **error)
{
  g_autoptr(EwJobSheet) sheet = NULL;
  g_autoptr(GDateTime) now = NULL;
  EwJobSheetInfo empty = { 0 };

  g_return_val_if_fail (plan != NULL, NULL);
  if (info == NULL)
    info = &empty;

  sheet = g_new0 (EwJobSheet, 1);
  sheet->pango = pango_font_map_create_context (pango_cairo_font_map_get_default ());
  set_font_options (sheet->pango);
  sheet->header = g_ptr_array_new_with_free_func (block_free);
  sheet->blocks = g_ptr_array_new_with_free_func (block_free);
  sheet->page_starts = g_array_new (FALSE, FALSE, sizeof (guint));
  sheet->garage_name = g_strdup (info->garage_name != NULL ? info->garage_name : "ECU Workshop");
  sheet->garage_address = g_strdup (info->garage_address);
  sheet->reference = g_strdup (info->reference);
  sheet->title = g_strdup (done != NULL && done->n_job_ids > 0 ? _("Job sheet") : _("Quote"));
  if (info->date == NULL)
    now = g_date_time_new_now_local ();
  sheet->date = g_date_time_format (info->date != NULL ? info->date : now, "%Y-%m-%d");

  if (info->garage_logo != NULL &&
      cairo_surface_get_type (info->garage_logo) == CAIRO_SURFACE_TYPE_IMAGE &&
      cairo_image_surface_get_width (info->garage_logo) > 0 &&
      cairo_image_surface_get_height (info->garage_logo) > 0)
    sheet->logo = cairo_surface_reference (info->garage_logo);
  else if (info->garage_logo_path != NULL)
    {
      cairo_surface_t *logo = cairo_image_surface_create_from_png (info->garage_logo_path);

      /* a missing or broken logo leaves the sheet without one */
      if (cairo_surface_status (logo) == CAIRO_STATUS_SUCCESS &&
          cairo_image_surface_get_width (logo) > 0 && cairo_image_surface_get_height (logo) > 0)
        sheet->logo = logo;
      else
        {
          g_debug ("Logo %s not used: %s", info->garage_logo_path,
                   cairo_status_to_string (cairo_surface_status (logo)));
          cairo_surface_destroy (logo);
        }
    }
  build_header (sheet);

  add_vehicle (sheet, plan, info);

  /* a sheet of finished jobs alone (no plan lines) shows what was done,
   * not an empty quote */
  if (plan->items->len > 0 || plan->refusals->len > 0 || done == NULL || done->n_job_ids == 0)
    add_quote (sheet, plan);
  if (!add_done (sheet, plan, done, error))
    return NULL;

  for (guint i = 0; i < sheet->blocks->len; i++)
    block_measure (sheet->pango, g_ptr_array_index (sheet->blocks, i));
  paginate (sheet);
  return g_steal_pointer (&sheet);
}

void
ew_job_sheet_free (EwJobSheet *sheet)
{
  if (sheet == NULL)
    return;
  g_clear_object (&sheet->pango);
  g_clear_pointer (&sheet->logo, cairo_surface_destroy);
  g_free (sheet->garage_name);
  g_free (sheet->garage_address);
  g_free (sheet->title);
  g_free (sheet->date);
  g_free (sheet->reference);
  g_free (sheet->vehicle);
  g_clear_pointer (&sheet->header, g_ptr_array_unref);
  g_clear_pointer (&sheet->blocks, g_ptr_array_unref);
  g_clear_pointer (&sheet->table_header, block_free);
  g_clear_pointer (&sheet->page_starts, g_array_unref);
  g_free (sheet);
}

guint
ew_job_sheet_get_n_pages (EwJobSheet *sheet)
{
  g_return_val_if_fail (sheet != NULL, 0);
  return sheet->page_starts->len;
}

static void
draw_logo (EwJobSheet *sheet, cairo_t *cr)
{
  double w = cairo_image_surface_get_width (sheet->logo);
  double h = cairo_image_surface_get_height (sheet->logo);
  double scale = MIN (LOGO_W / w, LOGO_H / h);

  cairo_save (cr);
  cairo_translate (cr, MARGIN, MARGIN + (LOGO_H - h * scale) / 2);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, sheet->logo, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_rectangle (cr, 0, 0, w, h);
  cairo_fill (cr);
  cairo_restore (cr);
}

void
ew_job_sheet_draw_page (EwJobSheet *sheet,
                        cairo_t    *cr,
                        guint       page)
{
  PangoContext *pango;
  guint first, last;
  double y;

  g_return_if_fail (sheet != NULL);
  g_return_if_fail (cr != NULL);
  g_return_if_fail (page < sheet->page_starts->len);

  cairo_save (cr);
  pango = pango_cairo_create_context (cr);
  set_font_options (pango);

  first = g_array_index (sheet->page_starts, guint, page);
  last = page + 1 < sheet->page_starts->len
    ? g_array_index (sheet->page_starts, guint, page + 1) : sheet->blocks->len;

  if (page == 0)
    {
      if (sheet->logo != NULL)
        draw_logo (sheet, cr);
      for (guint i = 0; i < sheet->header->len; i++)
        block_draw (pango, g_ptr_array_index (sheet->header, i), cr, MARGIN, MARGIN);
      y = MARGIN + sheet->header_height + 8;
    }
  else
    {
      Block header = { 0 };

      header.cells = g_array_new (FALSE, TRUE, sizeof (Cell));
      g_array_set_clear_func (header.cells, cell_clear);
      block_add (&header, g_markup_printf_escaped ("<b>%s</b> · %s · %s", sheet->garage_name, sheet->title,
                                                   sheet->vehicle != NULL ? sheet->vehicle : ""),
                 FONT_SMALL, 0, 0, CONTENT_W, PANGO_ALIGN_LEFT, COLOR_MUTED);
      block_draw (pango, &header, cr, MARGIN, MARGIN);
      g_array_unref (header.cells);
      set_color (cr, COLOR_RULE);
      cairo_set_line_width (cr, 0.5);
      cairo_move_to (cr, MARGIN, MARGIN + 16);
      cairo_line_to (cr, MARGIN + CONTENT_W, MARGIN + 16);
      cairo_stroke (cr);
      y = MARGIN + CONT_HEADER_H;
      if (first < last && continued_table_height (sheet, g_ptr_array_index (sheet->blocks, first)) > 0)
        {
          /* the work table goes on: its column headings again */
          block_draw (pango, sheet->table_header, cr, MARGIN, y);
          y += continued_table_height (sheet, g_ptr_array_index (sheet->blocks, first));
        }
    }

  for (guint i = first; i < last; i++)
    {
      const Block *block = g_ptr_array_index (sheet->blocks, i);

      if (i > first || page == 0)
        y += block->space_before;
      if (i > first || page == 0 || !block->rule_above)
        block_draw (pango, block, cr, MARGIN, y);
      else
        {
          /* no rule above the first block of a continued page */
          Block copy = *block;

          copy.rule_above = FALSE;
          block_draw (pango, &copy, cr, MARGIN, y);
        }
      y += block->height;
    }

  /* footer */
  {
    Block footer = { 0 };
    /* TRANSLATORS: page numbers at the foot of the job sheet */
    g_autofree char *pages = g_strdup_printf (_("Page %u of %u"), page + 1, sheet->page_starts->len);

    footer.cells = g_array_new (FALSE, TRUE, sizeof (Cell));
    g_array_set_clear_func (footer.cells, cell_clear);
    block_add (&footer, g_markup_escape_text (sheet->garage_name, -1), FONT_SMALL, 0, 0, CONTENT_W / 2,
               PANGO_ALIGN_LEFT, COLOR_MUTED);
    block_add (&footer, g_markup_escape_text (pages, -1), FONT_SMALL, CONTENT_W / 2, 0, CONTENT_W / 2,
               PANGO_ALIGN_RIGHT, COLOR_MUTED);
    block_draw (pango, &footer, cr, MARGIN, PAGE_HEIGHT - MARGIN - 10);
    g_array_unref (footer.cells);
  }
  g_object_unref (pango);
  cairo_restore (cr);
}

typedef struct {
  GOutputStream *out;
  GError        *error;
} WriteClosure;

static cairo_status_t
write_stream (void *closure, const unsigned char *data, unsigned int length)
{
  WriteClosure *w = closure;

  if (w->error != NULL)
    return CAIRO_STATUS_WRITE_ERROR;
  if (!g_output_stream_write_all (w->out, data, length, NULL, NULL, &w->error))
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

gboolean
ew_job_sheet_write_pdf (EwJobSheet *sheet,
                        const char *path,
                        GError    **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileOutputStream) out = NULL;
  WriteClosure w = { NULL, NULL };
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  g_return_val_if_fail (sheet != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  /* written beside and renamed into place: a failed write leaves no half PDF */
  file = g_file_new_for_path (path);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL, error);
  if (out == NULL)
    {
      g_prefix_error (error, _("Cannot write the job sheet to %s: "), path);
      return FALSE;
    }
  w.out = G_OUTPUT_STREAM (out);

  surface = cairo_pdf_surface_create_for_stream (write_stream, &w, PAGE_WIDTH, PAGE_HEIGHT);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, sheet->title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "ECU Workshop");
  cr = cairo_create (surface);
  for (guint i = 0; i < sheet->page_starts->len; i++)
    {
      ew_job_sheet_draw_page (sheet, cr, i);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (w.error != NULL || status != CAIRO_STATUS_SUCCESS)
    {
      g_autoptr(GCancellable) cancel = g_cancellable_new ();

      /* closing a cancelled replace keeps the old file and drops the new one */
      g_cancellable_cancel (cancel);
      g_output_stream_close (G_OUTPUT_STREAM (out), cancel, NULL);
      if (w.error != NULL)
        {
          g_propagate_prefixed_error (error, w.error, _("Cannot write the job sheet to %s: "), path);
          return FALSE;
        }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write the job sheet to %s: %s"),
                   path, cairo_status_to_string (status));
      return FALSE;
    }
  if (!g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error))
    {
      g_prefix_error (error, _("Cannot write the job sheet to %s: "), path);
      return FALSE;
    }
  return TRUE;
}
