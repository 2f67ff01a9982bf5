/* ew-customer-view.h — the quote as the customer sees it, on the screen a
 * technician turns towards them: large, plain type; for every line what
 * will be done and why, its class as a coloured badge with its name
 * (coding, programming, adaptation); how long the car is needed and the
 * total to pay with VAT.
 */
#pragma once

#include <gtk/gtk.h>

#include "job/planner.h"

G_BEGIN_DECLS

#define EW_TYPE_CUSTOMER_VIEW (ew_customer_view_get_type ())
G_DECLARE_FINAL_TYPE (EwCustomerView, ew_customer_view, EW, CUSTOMER_VIEW, GtkWidget)

GtkWidget  *ew_customer_view_new            (void);
/* Shows plan (nullable: nothing yet) for the car called vehicle
 * (nullable); the texts are copied. */
void        ew_customer_view_set_plan       (EwCustomerView  *self,
                                             const EwJobPlan *plan,
                                             const char      *vehicle);
guint       ew_customer_view_get_n_lines    (EwCustomerView *self);
/* A line's title and the text on its class badge ("Coding"). */
const char *ew_customer_view_get_line_title (EwCustomerView *self,
                                             guint           index);
const char *ew_customer_view_get_line_badge (EwCustomerView *self,
                                             guint           index);
/* "198.00 GBP", the total with VAT; "1 h 50 min", the time. */
const char *ew_customer_view_get_total_text (EwCustomerView *self);
const char *ew_customer_view_get_time_text  (EwCustomerView *self);

G_END_DECLS
