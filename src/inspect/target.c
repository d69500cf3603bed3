/*
 * Locating a process's inspector through /proc (see target.h).
 * The socket inodes of /proc/PID/fd are the ground truth; the namespace-wide
 * tables in /proc/PID/net/ only give each inode its address and port.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "inspect/http.h"
#include "inspect/net.h"
#include "inspect/target.h"

struct listen_row {
	char host[64];          /* where to connect: the bound address, or loopback for "any" */
	int port;
	unsigned long inode;
};

static int read_small(const char *path, char *buf, size_t sz)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sz - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

int lh_target_alive(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/*
 * A target that exits says so first (its context goes) and waits for us to
 * disconnect, or dies at once (SIGKILL, a crash): its sockets close a
 * moment before /proc shows it dead, hence the wait.
 */
int lh_target_gone(pid_t pid, int wait_ms)
{
	int64_t deadline = lh_net_deadline(wait_ms);

	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (!lh_target_alive(pid))
			return 1;
		if (lh_net_now() >= deadline)
			return 0;
		nanosleep(&ts, NULL);
	}
}

long long lh_target_rss(pid_t pid)
{
	char path[64], buf[256];
	long long size, rss;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%lld %lld", &size, &rss) != 2)
		return -1;
	return rss * sysconf(_SC_PAGESIZE);
}

int lh_target_check(pid_t pid)
{
	char path[64], comm[64] = "", exe[PATH_MAX];
	const char *base;
	ssize_t n;

	if (pid <= 0)
		return lh_error("'%d' is not a process id", (int)pid);
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return lh_error("no process with pid %d; check the pid (ps -C node -o pid,args)", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small(path, comm, sizeof(comm)) < 0)
		return lh_error("cannot read '%s': %s", path, strerror(errno));
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0) {
		if (errno == EACCES || errno == EPERM)
			return lh_error("cannot inspect pid %d ('%s'): permission denied; run leakhunt as "
					"the user that owns it (or root)", (int)pid, comm);
		return lh_error("cannot read '%s': %s", path, strerror(errno));
	}
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (strncmp(base, "node", 4) && strcmp(comm, "node"))
		return lh_error("pid %d ('%s', %s) is not a node process: leakhunt will not send it "
				"SIGUSR1, which would likely kill it; if it is node under another "
				"name, open its inspector yourself and give --port", (int)pid, comm, exe);
	if (kill(pid, 0) < 0 && errno == EPERM)
		return lh_error("cannot signal pid %d ('%s'): permission denied; run leakhunt as the "
				"user that owns it (or root)", (int)pid, comm);
	return 0;
}

/* Rows of /proc/PID/net/tcp or tcp6 in state (0x0A LISTEN, 0x01 ESTABLISHED); appends to *rows. */
static void read_rows(pid_t pid, const char *table, unsigned state, struct listen_row **rows, size_t *nr,
		      size_t *alloc)
{
	char path[64], line[512];
	FILE *f;
	int v6 = !strcmp(table, "tcp6");

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, table);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char local[64], remote[64], *colon;
		unsigned st, port;
		unsigned long inode;
		struct listen_row *r;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote, &st,
			   &inode) != 4 || st != state)
			continue;
		colon = strchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &port) != 1)
			continue;
		*colon = '\0';
		ALLOC_GROW(*rows, *nr + 1, *alloc);
		r = &(*rows)[(*nr)++];
		r->port = port;
		r->inode = inode;
		if (!v6) {
			unsigned a = strtoul(local, NULL, 16); /* little-endian on x86/arm */

			if (a == 0)
				snprintf(r->host, sizeof(r->host), "127.0.0.1");
			else
				snprintf(r->host, sizeof(r->host), "%u.%u.%u.%u", a & 255, a >> 8 & 255,
					 a >> 16 & 255, a >> 24);
		} else {
			/* any address and loopback both answer on ::1; others we name as v6 words */
			unsigned w[4];

			if (sscanf(local, "%8x%8x%8x%8x", &w[0], &w[1], &w[2], &w[3]) == 4 &&
			    !w[0] && !w[1] && !w[2] && (!w[3] || w[3] == 0x01000000))
				snprintf(r->host, sizeof(r->host), "::1");
			else if (sscanf(local, "%8x%8x%8x%8x", &w[0], &w[1], &w[2], &w[3]) == 4 &&
				 !w[0] && !w[1] && w[2] == 0xffff0000)
				snprintf(r->host, sizeof(r->host), "%u.%u.%u.%u", w[3] & 255,
					 w[3] >> 8 & 255, w[3] >> 16 & 255, w[3] >> 24);
			else
				snprintf(r->host, sizeof(r->host), "::1"); /* unusual; loopback try */
		}
	}
	fclose(f);
}

/* The socket inodes among pid's fds; -1 (with a message) when fd is unreadable. */
static int socket_inodes(pid_t pid, unsigned long **inodes, size_t *nr)
{
	char path[64];
	size_t alloc = 0;
	struct dirent *de;
	DIR *d;

	*inodes = NULL;
	*nr = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d) {
		if (errno == EACCES || errno == EPERM)
			return lh_error("cannot list '%s': permission denied; run leakhunt as the user "
					"that owns pid %d (or root)", path, (int)pid);
		if (errno == ENOENT)
			return lh_error("pid %d has exited", (int)pid);
		return lh_error("cannot list '%s': %s", path, strerror(errno));
	}
	while ((de = readdir(d))) {
		char lp[400], target[64];
		ssize_t n;
		unsigned long ino;

		if (de->d_name[0] == '.')
			continue;
		snprintf(lp, sizeof(lp), "%s/%s", path, de->d_name);
		n = readlink(lp, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) != 1)
			continue;
		ALLOC_GROW(*inodes, *nr + 1, alloc);
		(*inodes)[(*nr)++] = ino;
	}
	closedir(d);
	return 0;
}

static int is_inspector(const char *host, int port)
{
	struct strbuf body = STRBUF_INIT;
	int ok;

	/* An app's own HTTP server may listen too: only node's inspector says this. */
	ok = !lh_http_get(host, port, "/json/version", 2000, &body) &&
	     strstr(body.buf, "\"Browser\"") && strstr(body.buf, "node.js");
	strbuf_release(&body);
	return ok;
}

/*
 * pid's own sockets in state (0x0A LISTEN, 0x01 ESTABLISHED), from
 * /proc/PID/net/tcp and tcp6 (which list every socket of its network
 * namespace) and its fds; *rows is the caller's to free.  The count, or -1
 * (with a message) when its fds cannot be read.
 */
static ssize_t own_rows(pid_t pid, unsigned state, struct listen_row **rows)
{
	unsigned long *inodes;
	size_t nrows = 0, arows = 0, ninodes, n = 0;

	*rows = NULL;
	if (socket_inodes(pid, &inodes, &ninodes) < 0)
		return -1;
	read_rows(pid, "tcp", state, rows, &nrows, &arows);
	read_rows(pid, "tcp6", state, rows, &nrows, &arows);
	for (size_t i = 0; i < nrows; i++)
		for (size_t k = 0; k < ninodes; k++)
			if ((*rows)[i].inode == inodes[k]) {
				(*rows)[n++] = (*rows)[i];
				break;
			}
	free(inodes);
	return (ssize_t)n;
}

int lh_target_find_inspector(pid_t pid, struct strbuf *host, int *port)
{
	struct listen_row *rows;
	ssize_t nrows = own_rows(pid, 0x0A, &rows);
	int found = 0;

	if (nrows < 0)
		return -1;
	for (ssize_t i = 0; i < nrows && !found; i++) {
		struct strbuf quiet = STRBUF_INIT;

		lh_debug("pid %d listens on %s:%d", (int)pid, rows[i].host, rows[i].port);
		/* Quiet probes: a refusal here only means "not this socket". */
		lh_error_capture(&quiet);
		found = is_inspector(rows[i].host, rows[i].port);
		lh_error_capture(NULL);
		strbuf_release(&quiet);
		if (found) {
			strbuf_reset(host);
			strbuf_addstr(host, rows[i].host);
			*port = rows[i].port;
		}
	}
	free(rows);
	return found;
}

int lh_target_inspector_clients(pid_t pid, int port)
{
	struct listen_row *rows;
	ssize_t nrows = own_rows(pid, 0x01, &rows);
	int n = 0;

	if (nrows < 0)
		return -1;
	for (ssize_t i = 0; i < nrows; i++)
		n += rows[i].port == port;
	free(rows);
	return n;
}

/* Who else listens on port (best effort, same-user processes only): a pid or 0. */
static pid_t port_owner(pid_t self, int port)
{
	struct listen_row *rows = NULL;
	size_t nrows = 0, arows = 0, i;
	unsigned long inode = 0;
	pid_t owner = 0;
	struct dirent *de;
	DIR *d;

	read_rows(self, "tcp", 0x0A, &rows, &nrows, &arows);
	read_rows(self, "tcp6", 0x0A, &rows, &nrows, &arows);
	for (i = 0; i < nrows; i++)
		if (rows[i].port == port)
			inode = rows[i].inode;
	free(rows);
	if (!inode)
		return 0;
	d = opendir("/proc");
	if (!d)
		return -1;
	while (!owner && (de = readdir(d))) {
		unsigned long *inodes;
		size_t n, k;
		struct strbuf quiet = STRBUF_INIT;
		pid_t p = atoi(de->d_name);

		if (p <= 0 || p == self)
			continue;
		lh_error_capture(&quiet);
		if (!socket_inodes(p, &inodes, &n)) {
			for (k = 0; k < n; k++)
				if (inodes[k] == inode)
					owner = p;
			free(inodes);
		}
		lh_error_capture(NULL);
		strbuf_release(&quiet);
	}
	closedir(d);
	return owner ? owner : -1;
}

int lh_target_activate(pid_t pid, int timeout_ms, struct strbuf *host, int *port)
{
	int64_t deadline = lh_net_deadline(timeout_ms);
	pid_t owner;

	if (kill(pid, SIGUSR1) < 0) {
		if (errno == EPERM)
			return lh_error("cannot signal pid %d: permission denied; run leakhunt as the "
					"user that owns it (or root)", (int)pid);
		return lh_error("cannot signal pid %d: %s", (int)pid, strerror(errno));
	}
	lh_info("sent SIGUSR1 to pid %d to open its inspector", (int)pid);
	for (;;) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		int r = lh_target_find_inspector(pid, host, port);

		if (r)
			return r;
		if (!lh_target_alive(pid))
			return lh_error("pid %d exited after SIGUSR1; was it really node?", (int)pid);
		if (lh_net_now() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	owner = port_owner(pid, LH_INSPECT_DEFAULT_PORT);
	if (owner > 0)
		return lh_error("the inspector of pid %d did not open: port %d is in use by pid %d; "
				"stop that process's inspector, or start the target with "
				"--inspect-port=0 and run leakhunt again", (int)pid,
				LH_INSPECT_DEFAULT_PORT, (int)owner);
	if (owner < 0)
		return lh_error("the inspector of pid %d did not open: port %d is in use by another "
				"process; free it, or start the target with --inspect-port=0",
				(int)pid, LH_INSPECT_DEFAULT_PORT);
	return lh_error("the inspector of pid %d did not open within %d ms after SIGUSR1; it may "
			"be disabled (node built without inspector, or SIGUSR1 handled by the "
			"program), or set to another port with --inspect-port; give --port if you "
			"know it", (int)pid, timeout_ms);
}
