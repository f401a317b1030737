/* ctl_migrate.c - gacpctl migrate [--status]: schema migrations. */
#include "tools/ctl.h"
#include "common/buf.h"
#include "store/migrate.h"

#include <stdio.h>

#ifndef GACP_DATADIR
#define GACP_DATADIR "/usr/share/gacp"
#endif

static void
print_status(const struct ctl_ctx *ctl, const struct migration_set *set)
{
	struct buf b;
	size_t i;

	if (!ctl->json) {
		for (i = 0; i < set->n; i++)
			printf("%-8s %04d %-40s %s\n",
			    set->items[i].applied ? "applied" : "pending",
			    set->items[i].version, set->items[i].name,
			    set->items[i].applied_at);
		return;
	}
	buf_init(&b);
	buf_puts(&b, "{\"migrations\":[");
	for (i = 0; i < set->n; i++) {
		const struct migration *m = &set->items[i];
		buf_printf(&b, "%s{\"version\":%d,\"name\":", i ? "," : "",
		    m->version);
		buf_json_str(&b, m->name);
		buf_printf(&b, ",\"checksum\":\"%s\",\"status\":\"%s\","
		    "\"applied_at\":", m->checksum,
		    m->applied ? "applied" : "pending");
		if (m->applied)
			buf_json_str(&b, m->applied_at);
		else
			buf_puts(&b, "null");
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	fputs(b.data, stdout);
	buf_cleanup(&b);
}

int
ctl_migrate(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *dir = ctl_opt(argc, argv, "--dir");
	struct migration_set set;
	struct gacp_err err;
	int rc, applied = 0;

	gacp_err_clear(&err);
	if (dir == NULL)
		dir = config_get(&ctl->app.cfg, "paths.sql_dir",
		    GACP_DATADIR "/sql");
	if ((rc = migrate_scan(dir, &set, &err)) != GACP_OK)
		goto out;
	if (ctl_flag(argc, argv, "--status")) {
		if ((rc = migrate_status(&ctl->owner, &set, &err)) == GACP_OK)
			print_status(ctl, &set);
		goto out;
	}
	rc = migrate_apply(&ctl->owner, &set, ctl->json ? NULL : stdout,
	    &applied, &err);
	if (rc == GACP_OK) {
		if (ctl->json)
			printf("{\"applied\":%d,\"total\":%zu}\n", applied, set.n);
		else
			printf("%d migration(s) applied, %zu in total\n", applied,
			    set.n);
	}
out:
	migrate_set_cleanup(&set);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}
