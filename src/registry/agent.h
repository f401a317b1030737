/* agent.h - a process registering itself in the service registry.
 *
 * gacp-api.fcgi and gacp-worker start an agent after their context is up:
 * it registers the process (host name, port or socket, pid, version),
 * heartbeats every ttl/3, prunes entries expired for longer than the grace
 * period, and deregisters when stopped (graceful exit on SIGTERM).  A
 * process killed outright simply stops heartbeating and goes unhealthy
 * after its TTL, then is pruned by the agents still alive.
 *
 * Why a thread with its own PostgreSQL connection: a FastCGI process
 * blocks in accept() between requests for as long as no request comes, so
 * heartbeats cannot ride on the request loop; a thread heartbeats on its
 * own clock, never shares (or delays) the request connection, and a
 * database outage only makes it retry (logged once per outage), never
 * stops the process.  The registry stays in one place (PostgreSQL, which
 * has the RLS and audit trail) rather than split between Redis and SQL.
 * The price is one more PostgreSQL connection per process, idle between
 * heartbeats: count it when sizing max_connections (or a pooler).
 *
 * Configuration ([registry] in gacp.conf): enabled (true), ttl_s (30),
 * prune_after_s (600), environment (production).
 */
#ifndef GACP_REGISTRY_AGENT_H
#define GACP_REGISTRY_AGENT_H

struct config;
struct registry_agent;

struct registry_agent_info {
	const char *service_name;          /* "gacp-api" */
	const char *service_type;          /* "api", "worker" */
	int         port;                  /* 0: none (unix socket) */
	const char *health_check_endpoint; /* NULL: none */
	const char *socket;                /* unix socket path, or NULL */
	const char *extra_key;             /* one more service_config member */
	const char *extra_value;           /* (e.g. the worker's consumer) */
};

/* Start the agent thread (NULL when registry.enabled is false or the
 * thread cannot start; logged, never fatal).  Nothing blocks here: the
 * first registration happens in the thread. */
struct registry_agent *registry_agent_start(const struct config *cfg,
    const struct registry_agent_info *info);
/* Stop heartbeating, deregister (bounded by the database timeouts) and
 * free the agent.  NULL is a no-op. */
void registry_agent_stop(struct registry_agent *ag);

#endif
