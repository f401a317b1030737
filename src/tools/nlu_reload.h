/* nlu_reload.h - the `gacp-nlu reload` command (training/reload.h does the work). */
#ifndef GACP_TOOLS_NLU_RELOAD_H
#define GACP_TOOLS_NLU_RELOAD_H

/* Prototypes */

/* argv[0] is "reload".  Exit status: 0 done (also when another run holds
 * the lock), 1 a tenant failed, 2 usage, 3 PostgreSQL unreachable, 4 no
 * such tenant. */
int nlu_reload_main(int argc, char **argv);

#endif
