/* routes.h - the REST API's route table (one line per endpoint). */
#ifndef GACP_APP_ROUTES_H
#define GACP_APP_ROUTES_H

#include <stddef.h>

#include "http/router.h"

extern const struct route gacp_routes[];
extern const size_t gacp_nroutes;

#endif
