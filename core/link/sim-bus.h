/* sim-bus.h — the simulated CAN bus: an in-process bus shared by name, on
 * which every node (an EwSimLink) receives the frames the others send.
 * Unthrottled by default; with a bitrate set, each frame occupies the
 * wire for its exact bit length, so throughput and timing figures hold.
 */
#pragma once

#include "link.h"

G_BEGIN_DECLS

/* A bus is a plain reference-counted value so that the process-wide
 * registry can hand out references and drop a bus atomically. */
typedef struct _EwSimBus EwSimBus;

/* The bus called name, created on first use. transfer full */
EwSimBus   *ew_sim_bus_get          (const char *name);
EwSimBus   *ew_sim_bus_ref          (EwSimBus   *bus);
void        ew_sim_bus_unref        (EwSimBus   *bus);
const char *ew_sim_bus_get_name     (EwSimBus   *bus);
/* 0 (the default) delivers at once; otherwise frames are spaced by their
 * wire time at this bitrate. */
void        ew_sim_bus_set_bitrate  (EwSimBus   *bus,
                                     guint       bitrate_bps);
guint       ew_sim_bus_get_bitrate  (EwSimBus   *bus);
guint       ew_sim_bus_get_n_nodes  (EwSimBus   *bus);
guint64     ew_sim_bus_get_n_frames (EwSimBus   *bus);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwSimBus, ew_sim_bus_unref)

#define EW_TYPE_SIM_LINK (ew_sim_link_get_type ())
G_DECLARE_FINAL_TYPE (EwSimLink, ew_sim_link, EW, SIM_LINK, EwLink)

/* A new node on bus. Its receive queue has no limit: a node nobody reads
 * keeps what it was sent until it is closed. transfer full */
EwSimLink  *ew_sim_link_new           (EwSimBus    *bus);
/* As above, remembering the URI it was opened with and its query
 * parameters (profile=…, faults=…), which may be NULL. transfer full */
EwSimLink  *ew_sim_link_new_full      (EwSimBus    *bus,
                                       const char  *uri,
                                       GHashTable  *parameters);
EwSimBus   *ew_sim_link_get_bus       (EwSimLink   *self);   /* transfer none */
/* The value of a query parameter of the URI, or NULL. */
const char *ew_sim_link_get_parameter (EwSimLink   *self,
                                       const char  *key);
/* Whether this node also receives the frames it sends itself. */
void        ew_sim_link_set_loopback  (EwSimLink   *self,
                                       gboolean     loopback);

G_END_DECLS
