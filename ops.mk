# ops.mk - what an operator installs besides the programs: the
# configuration template, the nginx site, systemd units and timers, the cron
# file, man pages and runbooks.  Included at the end of Makefile.am.
#
# Paths in the templates (*.in) are filled in by make, not by configure, so
# `make prefix=… sysconfdir=…` reaches them like it reaches the programs.
#
#   etc/gacp.conf.in        -> $(pkgdatadir)/gacp.conf.example, and
#                              $(sysconfdir)/gacp/gacp.conf when that is absent
#   nginx/gacp-site.conf.in -> $(pkgdatadir)/nginx/ with the shared snippets
#   systemd/*.in, *.timer   -> $(systemdsystemunitdir) (configure
#                              --with-systemdsystemunitdir; else
#                              $(pkgdatadir)/systemd)
#   cron/gacp.in            -> $(pkgdatadir)/cron/gacp (cron.d format)
#   www/admin/*             -> $(pkgdatadir)/admin (the operator dashboard)

gacp_edit = sed \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@libexecdir[@]|$(libexecdir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@docdir[@]|$(docdir)|g' \
	-e 's|@SPAWN_FCGI[@]|$(SPAWN_FCGI)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

# gacp_subst SOURCE: write $@ from SOURCE, refusing a placeholder left over.
gacp_subst = $(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	$(gacp_edit) $(srcdir)/$@.in >$@.tmp && \
	if grep -n '@[A-Za-z_]*@' $@.tmp >&2; then \
	  echo "$@: unsubstituted placeholder (see above)" >&2; rm -f $@.tmp; exit 1; \
	fi && mv -f $@.tmp $@

gacp_systemd_generated = \
	systemd/gacp-fcgi.service \
	systemd/gacp-worker.service \
	systemd/gacp-analytics.service \
	systemd/gacp-nlu-reload.service \
	systemd/gacp-retention.service
gacp_systemd_timers = \
	systemd/gacp-analytics.timer \
	systemd/gacp-nlu-reload.timer \
	systemd/gacp-retention.timer
gacp_ops_generated = etc/gacp.conf nginx/gacp-site.conf cron/gacp \
	$(gacp_systemd_generated)

etc/gacp.conf: $(srcdir)/etc/gacp.conf.in Makefile
	$(gacp_subst)
nginx/gacp-site.conf: $(srcdir)/nginx/gacp-site.conf.in Makefile
	$(gacp_subst)
cron/gacp: $(srcdir)/cron/gacp.in Makefile
	$(gacp_subst)
systemd/gacp-fcgi.service: $(srcdir)/systemd/gacp-fcgi.service.in Makefile
	$(gacp_subst)
systemd/gacp-worker.service: $(srcdir)/systemd/gacp-worker.service.in Makefile
	$(gacp_subst)
systemd/gacp-analytics.service: $(srcdir)/systemd/gacp-analytics.service.in Makefile
	$(gacp_subst)
systemd/gacp-nlu-reload.service: $(srcdir)/systemd/gacp-nlu-reload.service.in Makefile
	$(gacp_subst)
systemd/gacp-retention.service: $(srcdir)/systemd/gacp-retention.service.in Makefile
	$(gacp_subst)

CLEANFILES += $(gacp_ops_generated)

# ---- install layout ---------------------------------------------------------
# The configuration template: a pristine copy under pkgdatadir (to compare
# with after an upgrade) and the live file, installed only when absent.
gacpconfexampledir = $(pkgdatadir)
gacpconfexample_DATA = gacp.conf.example
gacp.conf.example: etc/gacp.conf
	$(AM_V_GEN)cp etc/gacp.conf $@
CLEANFILES += gacp.conf.example

gacpnginxdir = $(pkgdatadir)/nginx
nodist_gacpnginx_DATA = nginx/gacp-site.conf
dist_gacpnginx_DATA = nginx/gacp-locations.conf nginx/gacp-fastcgi-pass.conf \
	nginx/gacp-errors.conf nginx/gacp-ratelimit-zones.conf

# The operator dashboard, static files served by the site's /admin/.
gacpadmindir = $(pkgdatadir)/admin
dist_gacpadmin_DATA = www/admin/index.html www/admin/admin.css \
	www/admin/app.js www/admin/api.js www/admin/charts.js www/admin/favicon.svg

nodist_systemdsystemunit_DATA = $(gacp_systemd_generated)
dist_systemdsystemunit_DATA = $(gacp_systemd_timers)

gacpcrondir = $(pkgdatadir)/cron
nodist_gacpcron_DATA = cron/gacp

dist_man_MANS = doc/man/gacpctl.8 doc/man/gacp-worker.8 \
	doc/man/gacp-analytics.8 doc/man/gacp-nlu.1 doc/man/gacp.conf.5

gacpdocdir = $(docdir)
dist_gacpdoc_DATA = doc/operations.md doc/security.md doc/scaling.md


install-data-hook: gacp-install-config
uninstall-hook: gacp-uninstall-config

# Never overwrite an operator's configuration (also under DESTDIR).
gacp-install-config:
	@conf="$(DESTDIR)$(sysconfdir)/gacp/gacp.conf"; \
	if test -f "$$conf"; then \
	  echo "  keeping $$conf; the new template is $(pkgdatadir)/gacp.conf.example"; \
	else \
	  $(MKDIR_P) "$(DESTDIR)$(sysconfdir)/gacp" && \
	  echo " $(INSTALL_DATA) etc/gacp.conf '$$conf'" && \
	  $(INSTALL_DATA) etc/gacp.conf "$$conf"; \
	fi

# Remove the live configuration only when nobody has edited it.
gacp-uninstall-config:
	@conf="$(DESTDIR)$(sysconfdir)/gacp/gacp.conf"; \
	if test -f "$$conf" && cmp -s etc/gacp.conf "$$conf"; then \
	  echo " rm -f '$$conf'"; rm -f "$$conf"; \
	elif test -f "$$conf"; then \
	  echo "  keeping $$conf (it differs from the template)"; \
	fi

# ---- distribution ---------------------------------------------------------
EXTRA_DIST += etc/gacp.conf.in nginx/gacp-site.conf.in cron/gacp.in \
	systemd/gacp-fcgi.service.in systemd/gacp-worker.service.in \
	systemd/gacp-analytics.service.in systemd/gacp-nlu-reload.service.in \
	systemd/gacp-retention.service.in ops.mk
dist_noinst_SCRIPTS += tests/install/run tests/dashboard/run \
	tests/monitoring/check tests/openapi/check tests/scale/run \
	tests/valgrind/run
EXTRA_DIST += tests/dashboard/dashboard.mjs tests/openapi/check.mjs \
	tests/openapi/package.json tests/openapi/package-lock.json \
	tests/scale/loadgen.py tests/scale/report.py tests/valgrind/gacp.supp

# EXTRA_DIST ships whole directories (nginx, systemd, bench, ...); what an
# in-tree build left in them must not travel along: the files generated
# here (a VPATH build of the tarball would install those instead of its
# own), programs, objects and dependency files.
dist-hook: gacp-dist-hook
gacp-dist-hook:
	for f in $(gacp_ops_generated) $(PROGRAMS) $(check_PROGRAMS); do \
	  rm -f "$(distdir)/$$f"; \
	done
	find "$(distdir)" -type f \( -name '*.o' -o -name .dirstamp \) -exec rm -f {} +
	find "$(distdir)" -type d -name .deps -prune -exec rm -rf {} +

.PHONY: gacp-install-config gacp-uninstall-config gacp-dist-hook
