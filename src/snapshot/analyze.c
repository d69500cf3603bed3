/*
 * lh_snapshot_analyze(): runs DevTools' initialize() passes in DevTools'
 * order (see analysis.h), and holds the small ones: DOM-state propagation,
 * the node flags, the Statistics panel, class lookup and cleanup.
 *
 * Order matters: the DOM state renames nodes before the flags and class
 * names read them; the flags decide which edges are essential; shallow sizes
 * are reassigned before retained sizes add them up; distances and dominators
 * are ready before the Summary rows use them.
 */
#include "analyze.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/progress.h"

const char *const lh_known_strings[LH_STR__COUNT] = {
	"Object", "Array", "elements", "__proto__", "sloppy_function_map", "system / NativeContext",
	"(map descriptors)", "system / ExternalStringData", "system / JSArrayBufferData",
	"(Document DOM trees)",
};

/* One pass over the strings finds all of lh_known_strings. */
static void find_known_strings(const struct lh_snapshot *s, struct lh_analysis *a)
{
	for (int k = 0; k < LH_STR__COUNT; k++)
		a->known[k] = UINT32_MAX;
	for (uint32_t i = 0; i < s->string_count; i++) {
		const char *str = lh_snapshot_str(s, i);

		for (int k = 0; k < LH_STR__COUNT; k++)
			if (str[0] == lh_known_strings[k][0] && a->known[k] == UINT32_MAX &&
			    !strcmp(str, lh_known_strings[k]))
				a->known[k] = i;
	}
	a->have_known = 1;
}

int lh_analysis_has_user_roots(const struct lh_snapshot *s)
{
	for (uint32_t e = s->first_edge[s->root]; e < s->first_edge[s->root + 1]; e++) {
		uint32_t to = s->edge_to[e];

		if (s->node_type[to] != LH_NODE_SYNTHETIC ||
		    lh_analysis_is(s, s->node_name[to], LH_STR_DOM_TREES))
			return 1;
	}
	return 0;
}

/*
 * propagateDOMState: attached spreads to every native node reachable from
 * an attached one, then detached to what is left, through edges that are not
 * hidden or weak; JS nodes stop the spread.  Native nodes that end up
 * detached are shown as "Detached <name>" (lh_analysis_renamed).
 */
static void propagate_dom_state(struct lh_snapshot *s)
{
	uint32_t n = s->node_count, *attached, *detached, na = 0, nd = 0;
	uint8_t *visited, *state = s->node_detachedness;

	if (!state)
		return;
	visited = lh_xcalloc(n, 1);
	attached = lh_xmalloc(lh_st_mult(n, sizeof(uint32_t)));
	detached = lh_xmalloc(lh_st_mult(n, sizeof(uint32_t)));
#define PROCESS(node, st)                                         \
	do {                                                      \
		uint32_t v_ = (node);                             \
		if (!visited[v_]) {                               \
			visited[v_] = 1;                          \
			if (s->node_type[v_] == LH_NODE_NATIVE) { \
				state[v_] = (st);                 \
				if ((st) == 1)                    \
					attached[na++] = v_;      \
				else if ((st) == 2)               \
					detached[nd++] = v_;      \
			}                                         \
		}                                                 \
	} while (0)
	for (uint32_t i = 0; i < n; i++)
		if (state[i])
			PROCESS(i, state[i]);
	while (na) {
		uint32_t v = attached[--na];

		for (uint32_t e = s->first_edge[v]; e < s->first_edge[v + 1]; e++)
			if (s->edge_type[e] != LH_EDGE_HIDDEN && s->edge_type[e] != LH_EDGE_WEAK)
				PROCESS(s->edge_to[e], 1);
	}
	while (nd) {
		uint32_t v = detached[--nd];

		if (state[v] == 1)
			continue;
		for (uint32_t e = s->first_edge[v]; e < s->first_edge[v + 1]; e++)
			if (s->edge_type[e] != LH_EDGE_HIDDEN && s->edge_type[e] != LH_EDGE_WEAK)
				PROCESS(s->edge_to[e], 2);
	}
#undef PROCESS
	free(visited);
	free(attached);
	free(detached);
}

/* The DOM state's renames and markDetachedDOMTreeNodes */
static void mark_detached(struct lh_snapshot *s)
{
	uint32_t n = s->node_count;
	uint8_t *flags = lh_xcalloc(n, 1), *old = s->node_flags;

	/*
	 * The DOM state's only later use is the rename, so it becomes a flag
	 * and the state array goes; a second analysis (diff re-analyses its
	 * base) finds the flag in the old flags.
	 */
	for (uint32_t i = 0; i < n; i++) {
		if (s->node_detachedness ? s->node_type[i] == LH_NODE_NATIVE && s->node_detachedness[i] == 2 :
					   old && (old[i] & LH_NODE_RENAMED))
			flags[i] |= LH_NODE_RENAMED;
	}
	free(old);
	FREE_AND_NULL(s->node_detachedness);
	s->node_flags = flags;
	for (uint32_t i = 0; i < n; i++)
		if (s->node_type[i] == LH_NODE_NATIVE &&
		    (lh_analysis_renamed(s, i) || !strncmp(lh_node_name(s, i), "Detached ", 9)))
			flags[i] |= LH_NODE_DETACHED_DOM;
}

/* markQueriableHeapObjects, markPageOwnedNodes */
static void mark_reachable(struct lh_snapshot *s)
{
	uint32_t n = s->node_count, root = s->root, *stack, sp = 0;
	uint8_t *flags = s->node_flags;
	size_t cap;

	/* every edge pushes at most once per node visit: bound by edges + roots */
	cap = (size_t)s->edge_count + n + 1;
	stack = lh_xmalloc(lh_st_mult(cap, sizeof(uint32_t)));
	for (uint32_t e = s->first_edge[root]; e < s->first_edge[root + 1]; e++)
		if (s->node_type[s->edge_to[e]] != LH_NODE_SYNTHETIC)
			stack[sp++] = s->edge_to[e];
	while (sp) {
		uint32_t v = stack[--sp];

		if (flags[v] & LH_NODE_CAN_BE_QUERIED)
			continue;
		flags[v] |= LH_NODE_CAN_BE_QUERIED;
		for (uint32_t e = s->first_edge[v]; e < s->first_edge[v + 1]; e++) {
			unsigned t = s->edge_type[e];

			if (flags[s->edge_to[e]] & LH_NODE_CAN_BE_QUERIED)
				continue;
			if (t == LH_EDGE_HIDDEN || t == LH_EDGE_INTERNAL || t == LH_EDGE_WEAK)
				continue;
			stack[sp++] = s->edge_to[e];
		}
	}

	for (uint32_t e = s->first_edge[root]; e < s->first_edge[root + 1]; e++) {
		uint32_t to = s->edge_to[e];
		unsigned t = s->edge_type[e];

		if (t == LH_EDGE_ELEMENT) {
			if (s->node_type[to] != LH_NODE_SYNTHETIC ||
			    !lh_analysis_is(s, s->node_name[to], LH_STR_DOM_TREES))
				continue;
		} else if (t != LH_EDGE_SHORTCUT) {
			continue;
		}
		stack[sp++] = to;
		flags[to] |= LH_NODE_PAGE_OBJECT;
	}
	while (sp) {
		uint32_t v = stack[--sp];

		for (uint32_t e = s->first_edge[v]; e < s->first_edge[v + 1]; e++) {
			uint32_t to = s->edge_to[e];

			if ((flags[to] & LH_NODE_PAGE_OBJECT) || s->edge_type[e] == LH_EDGE_WEAK)
				continue;
			stack[sp++] = to;
			flags[to] |= LH_NODE_PAGE_OBJECT;
		}
	}
	free(stack);
}

static void free_analysis(struct lh_analysis *a)
{
	if (!a)
		return;
	for (uint32_t i = 0; i < a->interface_count; i++) {
		for (uint32_t p = 0; p < a->interfaces[i].prop_count; p++)
			free(a->interfaces[i].props[p]);
		free(a->interfaces[i].props);
		free(a->interfaces[i].name);
	}
	free(a->interfaces);
	free(a);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Resident set now and its high-water mark, in MB, from /proc (0 where there
 * is none): the peak is what the benchmark's targets are about, and which
 * pass raised it is what -vv must show.
 */
static void rss_mb(unsigned long *now, unsigned long *peak)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	*now = *peak = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*now = strtoul(line + 6, NULL, 10) / 1024;
		else if (!strncmp(line, "VmHWM:", 6))
			*peak = strtoul(line + 6, NULL, 10) / 1024;
	}
	fclose(f);
}

/* -vv: how long each pass took and the memory then, for finding the costly one on a big snapshot */
static void timed(const char *pass, double *t)
{
	double now = seconds();
	unsigned long rss, peak;

	struct timespec cpu;

	rss_mb(&rss, &peak);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	lh_debug("analyze: %s %.3f s (rss %lu MiB, peak %lu MiB; process CPU so far %.2f s)", pass, now - *t, rss,
		 peak, (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
	*t = now;
}

/* The second thread's share while this one completes the flags. */
struct shallow_job {
	struct lh_snapshot *s;
	uint32_t *owners;
};

static void *shallow_thread(void *arg)
{
	struct shallow_job *j = arg;

	lh_shallow_compute(j->s, j->owners);
	return NULL;
}

struct dom_job {
	struct lh_snapshot *s;
	uint64_t *essential;
	struct lh_retainer_bits retainers; /* filled by this thread meanwhile */
	uint32_t *order;       /* DFS order, for the retained sizes */
};

static void *dominators_thread(void *arg)
{
	struct dom_job *d = arg;

	double t = seconds();
	struct timespec cpu;

	d->order = lh_dominators_compute(d->s, d->essential, &d->retainers);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	lh_debug("analyze: dominator tree: %.3f s of CPU", (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
	timed("dominator tree (thread)", &t);
	return NULL;
}

/*
 * Two threads throughout: the shallow sizes beside the flags' graph searches
 * and the parse of every ephemeron name, then each half of the
 * essential edges, then the dominator tree (the longest pass) beside the
 * distances and class names.  What runs side by side shares only read-only
 * input (the ephemeron names are all parsed by then, and the tree reads
 * neither self sizes nor flags).  Retained sizes, which need the tree and
 * the sizes, come after the last join.
 */
int lh_snapshot_analyze(struct lh_snapshot *s, const struct lh_snapshot *base, unsigned flags)
{
	struct lh_progress *p = NULL;
	struct lh_ephemerons eph = { 0 };
	struct lh_classes_job *job = NULL;
	struct dom_job dj = { .s = s };
	struct shallow_job sj = { .s = s };
	pthread_t th;
	int threaded = !(flags & LH_ANALYZE_NO_THREADS), shallow_threaded = 0, ret;
	double t = seconds();

	if (!s->node_count || s->root >= s->node_count)
		return lh_error("cannot analyze '%s': the snapshot has no root node",
				s->path ? s->path : "");
	timed("start, after the load", &t);
	free_analysis(s->analysis);
	s->analysis = lh_xcalloc(1, sizeof(*s->analysis));
	find_known_strings(s, s->analysis);
	if (flags & LH_ANALYZE_PROGRESS)
		p = lh_progress_start("DOM state and flags", 5);
	lh_progress_update(p, 1);
	propagate_dom_state(s);
	mark_detached(s);
	sj.owners = lh_shallow_owners(s);
	/*
	 * The shallow sizes on the second thread while this one follows the
	 * flags through the graph and parses the ephemeron names: the one
	 * reads the graph and writes sizes, the other writes only flags and
	 * eph.  (Parsed on the second thread, eph's arrays came from that
	 * thread's malloc arena and stayed resident after they were freed:
	 * +8 MB at the peak on L.)
	 */
	if (!threaded || pthread_create(&th, NULL, shallow_thread, &sj))
		shallow_thread(&sj);
	else
		shallow_threaded = 1;
	mark_reachable(s);
	lh_ephemerons_parse_all(&eph, s);
	if (shallow_threaded)
		pthread_join(th, NULL);
	timed("DOM state, flags and shallow sizes", &t);
	lh_progress_phase(p, "dominators, distances, classes", 5);
	lh_progress_update(p, 2);
	dj.essential = lh_dominators_essential_edges(s, &eph, threaded);
	timed("essential edges", &t);
	if (threaded) {
		lh_retainer_bits_init(&dj.retainers, s);
		if (pthread_create(&th, NULL, dominators_thread, &dj)) {
			lh_retainer_bits_release(&dj.retainers);
			threaded = 0;
		} else {
			lh_retainer_bits_fill(&dj.retainers, s, dj.essential);
		}
	}
	if (!threaded)
		dj.order = lh_dominators_compute(s, dj.essential, NULL);
	lh_distance_compute(s, &eph);
	timed("distances", &t);
	ret = lh_classes_prepare(s, base, &job);
	timed("class names", &t);
	if (threaded) {
		pthread_join(th, NULL);
		lh_retainer_bits_release(&dj.retainers);
	}
	timed("waiting for the dominator tree", &t);
	lh_ephemerons_release(&eph);
	/*
	 * The passes so far freed many mid-sized tables (per string, per
	 * class) that glibc keeps in its heaps once its mmap threshold has
	 * risen; give those pages back before the retained sizes raise the peak.
	 */
	malloc_trim(0);
	timed("giving memory back", &t);
	lh_progress_phase(p, "classes", 5);
	lh_progress_update(p, 4);
	lh_dominators_retained(s, dj.order);
	timed("retained sizes", &t);
	if (!ret)
		ret = lh_classes_finish(s, job);
	timed("Summary rows", &t);
	lh_progress_stop(p);
	return ret;
}

int64_t lh_snapshot_find_class(const struct lh_snapshot *s, const char *key)
{
	for (uint32_t i = 0; i < s->class_count; i++)
		if (!strcmp(s->classes[i].key, key))
			return i;
	return -1;
}

/* JSHeapSnapshot.calculateStatistics and the panel's "Other" */
void lh_snapshot_statistics(const struct lh_snapshot *s, struct lh_statistics *st)
{
	const uint32_t *self = s->self_size ? s->self_size : s->node_self_size;
	uint64_t native = s->extra_native_bytes;
	uint8_t *indeg = NULL; /* edges into each node, saturated at 2 (without retainers) */

	if (!s->first_retainer) {
		indeg = lh_xcalloc(s->node_count ? s->node_count : 1, 1);
		for (uint32_t e = 0; e < s->edge_count; e++)
			if (indeg[s->edge_to[e]] < 2)
				indeg[s->edge_to[e]]++;
	}

	memset(st, 0, sizeof(*st));
	st->total = (s->retained_size ? s->retained_size[s->root] : 0) + s->extra_native_bytes;
	for (uint32_t i = 0; i < s->node_count; i++) {
		unsigned t = s->node_type[i];

		if (t == LH_NODE_HIDDEN) {
			st->system += self[i];
		} else if (t == LH_NODE_NATIVE) {
			native += self[i];
			if (!lh_analysis_renamed(s, i) &&
			    lh_analysis_is(s, s->node_name[i], LH_STR_ARRAY_BUFFER_DATA))
				st->typed_arrays += self[i];
		} else if (t == LH_NODE_CODE) {
			st->code += self[i];
		} else if (t == LH_NODE_STRING || t == LH_NODE_CONCATENATED_STRING ||
			   t == LH_NODE_SLICED_STRING) {
			st->strings += self[i];
		} else if (lh_analysis_is(s, s->node_name[i], LH_STR_ARRAY)) {
			uint64_t size = self[i];

			/* calculateArraySize: plus the "elements" store if only the array holds it */
			for (uint32_t e = s->first_edge[i]; e < s->first_edge[i + 1]; e++) {
				uint32_t to = s->edge_to[e];

				if (s->edge_type[e] != LH_EDGE_INTERNAL ||
				    !lh_analysis_is(s, s->edge_name[e], LH_STR_ELEMENTS))
					continue;
				if (indeg ? indeg[to] == 1 :
					    s->first_retainer[to + 1] - s->first_retainer[to] == 1)
					size += self[to];
				break;
			}
			st->js_arrays += size;
		}
	}
	(void)native;
	free(indeg);
	st->other = st->total - st->code - st->strings - st->js_arrays - st->typed_arrays - st->system;
}

void lh_snapshot_free_classes(struct lh_snapshot *s)
{
	for (uint32_t i = 0; i < s->class_count; i++) {
		free(s->classes[i].name);
		free(s->classes[i].key);
	}
	free(s->classes);
	s->classes = NULL;
	s->class_count = 0;
	free_analysis(s->analysis);
	s->analysis = NULL;
}
