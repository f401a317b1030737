/* gacp-api.c - the FastCGI program: accept loop, signals, graceful exit.
 *
 * Started N times by spawn-fcgi (the listening socket is fd 0) or, with
 * --socket PATH|:PORT, on its own socket.  One request at a time per
 * process (libfcgi's re-entrant FCGX_Accept_r/FCGX_Finish_r API).
 * SIGTERM lets the current request finish, then the process exits.
 */
#include "app/context.h"
#include "app/routes.h"
#include "app/server.h"
#include "common/log.h"
#include "registry/agent.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

/* The only state a signal handler may touch. */
static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked accept() must return EINTR so an idle
	 * process exits at once instead of after its next request. */
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static long
read_body(void *ctx, char *dst, size_t len)
{
	FCGX_Request *req = ctx;
	int want = len > (1u << 30) ? (1 << 30) : (int)len;

	return FCGX_GetStr(dst, want, req->in);
}

/* Register this process in the service registry with the address it
 * listens on (spawn-fcgi's fd 0 or --socket): a TCP port, or a unix socket
 * named in service_config with port 0. */
static struct registry_agent *
start_agent(const struct gacp_ctx *app, int listen_fd)
{
	struct registry_agent_info info;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];

	memset(&info, 0, sizeof(info));
	info.service_name = "gacp-api";
	info.service_type = "api";
	info.health_check_endpoint = "/health";
	memset(&ss, 0, sizeof(ss));
	if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			info.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			info.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else if (ss.ss_family == AF_UNIX) {
			const struct sockaddr_un *un = (const void *)&ss;
			snprintf(path, sizeof(path), "%.*s",
			    (int)sizeof(un->sun_path), un->sun_path);
			if (path[0] != '\0')
				info.socket = path;
		}
	}
	return registry_agent_start(&app->cfg, &info);
}

static void
usage(void)
{
	fprintf(stderr, "usage: gacp-api.fcgi [--config FILE] [--socket PATH|:PORT]\n"
	    "  Normally started by spawn-fcgi, which passes the socket as fd 0.\n");
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL, *socket_path = NULL;
	struct gacp_ctx app;
	struct gacp_err err;
	struct registry_agent *agent;
	FCGX_Request req;
	int listen_fd = 0, i, served = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			socket_path = argv[++i];
		else {
			usage();
			return 2;
		}
	}
	if (install_signals() != 0) {
		perror("sigaction");
		return 1;
	}
	gacp_err_clear(&err);
	if (gacp_ctx_init(&app, "gacp-api", config_path, gacp_routes,
	    gacp_nroutes, &err) != GACP_OK) {
		fprintf(stderr, "gacp-api: %s: %s\n", err.code, err.msg);
		gacp_ctx_cleanup(&app);
		return 1;
	}
	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, "fcgi_init_failed", "FCGX_Init failed");
		gacp_ctx_cleanup(&app);
		return 1;
	}
	if (socket_path != NULL) {
		listen_fd = FCGX_OpenSocket(socket_path, 128);
		if (listen_fd < 0) {
			log_msg(LOG_ERROR, "fcgi_socket_failed",
			    "cannot listen on %s", socket_path);
			gacp_ctx_cleanup(&app);
			return 1;
		}
	}
	FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	agent = start_agent(&app, listen_fd);
	log_msg(LOG_INFO, "started", "gacp-api ready");

	while (!stop_requested) {
		if (FCGX_Accept_r(&req) < 0) {
			if (stop_requested)
				break;
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERROR, "accept_failed", "FCGX_Accept_r: %s",
			    strerror(errno));
			break;
		}
		server_handle(&app, req.envp, read_body, &req);
		FCGX_PutStr(app.out.data, (int)app.out.len, req.out);
		FCGX_Finish_r(&req);
		server_request_done(&app);
		served++;
	}
	log_msg(LOG_INFO, "stopped", "gacp-api exiting after %d requests",
	    served);
	registry_agent_stop(agent);
	FCGX_Free(&req, 0);
	gacp_ctx_cleanup(&app);
	return 0;
}
