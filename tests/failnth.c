// SPDX-License-Identifier: GPL-2.0
/*
 * failnth: every allocation of an array map operation made to fail in turn.
 *
 *   failnth [OP]    for each operation of the table below (or those whose name starts with OP):
 *                   fail its 1st, 2nd, ... allocation (/proc/thread-self/fail-nth) until the
 *                   operation made fewer allocations than that TAIL runs in a row; one line per
 *                   operation: the distinct results of its failure points and its result
 *                   without a failure.
 *                   FAILNTH_DETAIL=FILE: the number of points and each one's result, in order,
 *                   to FILE. FAILNTH_VERBOSE=2 makes the kernel print the
 *                   stack of every injected failure that is not __GFP_NOWARN.
 *
 * The suite runs it on the C maps and on the module (make test-debug) and compares the lines:
 * every failure must end as C's do (see run_op() for why not point by point). Leaks, reports and the module's
 * reference count are the harness's postconditions (tests/harness.sh) and kmemleak's scan.
 *
 * Needs FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and FAULT_INJECTION_DEBUG_FS: failslab and
 * fail_page_alloc are set to fail any allocation of the task (sleeping ones, order 0) without
 * printing. The process locks its memory so that no page fault of its own takes a point, and
 * makes raw bpf() calls, so that every point is one the kernel takes for the operation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common.h"

#define MAX_POINTS 20000
#define ENTRIES 64
#define MAX_CPUS 64

/* What the operations use; made before any fault is injected. */
static struct {
	int btf;		/* the suite's BTF (test_btf_load) */
	int inner;		/* ARRAY, value 8, 4 entries: inner map and its template */
	int leaf;		/* a socket filter returning 0 */
	int cgroup;		/* the cgroup2 root */
	int perf;		/* a software event on CPU 0 */
	int prog_array, perf_array, cgroup_array, outer;
	int tracked;		/* a PROG_ARRAY a loaded program tail-calls with a constant key */
	int tracked_caller;
	int array, percpu;	/* ENTRIES entries of 8 bytes (per CPU) */
	int iter_prog;		/* iter/bpf_map_elem returning 0 */
	int array_link, percpu_link;
	int iter;		/* an iterator fd of the current point (iter read) */
	int ncpus;
	__u32 keys[ENTRIES];
	__u64 values[ENTRIES * MAX_CPUS];
	__u64 batch_out;
	char buf[4096];
} env;

static int fail_nth_fd;

/* Arms the fault of the @n-th allocation of this task from now (0: disarms). */
static void fail_nth_set(unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	if (pwrite(fail_nth_fd, b, len, 0) != len) {
		perror("fail-nth");
		exit(1);
	}
}

/* Whether the armed fault was injected (fail-nth reads 0 once it was). */
static int fail_nth_fired(void)
{
	char b[16] = {};

	if (pread(fail_nth_fd, b, sizeof(b) - 1, 0) <= 0) {
		perror("fail-nth");
		exit(1);
	}
	return strtoul(b, NULL, 10) == 0;
}

static int create(enum bpf_map_type type, __u32 value_size, __u32 entries, __u32 flags,
		  __u32 btf_value, int inner)
{
	return create_map(type, value_size, entries, flags, inner, env.btf, btf_value);
}

static int update(int map, __u32 key, void *value, __u64 flags)
{
	union bpf_attr a = {
		.map_fd = map,
		.key = (unsigned long)&key,
		.value = (unsigned long)value,
		.flags = flags,
	};

	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static int delete(int map, __u32 key)
{
	union bpf_attr a = { .map_fd = map, .key = (unsigned long)&key };

	return sys_bpf(BPF_MAP_DELETE_ELEM, &a);
}

static int lookup(int map, __u32 key, void *value)
{
	union bpf_attr a = { .map_fd = map, .key = (unsigned long)&key, .value = (unsigned long)value };

	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

static int batch(int cmd, int map)
{
	union bpf_attr a = {
		.batch.out_batch = (unsigned long)&env.batch_out,
		.batch.keys = (unsigned long)env.keys,
		.batch.values = (unsigned long)env.values,
		.batch.count = ENTRIES,
		.batch.map_fd = map,
	};

	return sys_bpf(cmd, &a);
}

static int iter_link(int map)
{
	union bpf_iter_link_info info = { .map.map_fd = map };
	union bpf_attr a = {
		.link_create.prog_fd = env.iter_prog,
		.link_create.attach_type = BPF_TRACE_ITER,
		.link_create.iter_info = (unsigned long)&info,
		.link_create.iter_info_len = sizeof(info),
	};

	return sys_bpf(BPF_LINK_CREATE, &a);
}

static int iter_create(int link)
{
	union bpf_attr a = { .iter_create.link_fd = link };

	return sys_bpf(BPF_ITER_CREATE, &a);
}

static int iter_read(void)
{
	int n, total = 0;

	while ((n = read(env.iter, env.buf, sizeof(env.buf))) > 0)
		total += n;
	return n < 0 ? -errno : total;
}

/* --- the operations --------------------------------------------------------------------- */

static int create_array(void) { return create(BPF_MAP_TYPE_ARRAY, 8, ENTRIES, 0, 0, 0); }
static int create_array_btf(void) { return create(BPF_MAP_TYPE_ARRAY, 8, ENTRIES, 0, 2, 0); }
static int create_array_special(void) { return create(BPF_MAP_TYPE_ARRAY, 24, ENTRIES, 0, 5, 0); }
static int create_array_mmapable(void)
{
	return create(BPF_MAP_TYPE_ARRAY, 8, 1024, BPF_F_MMAPABLE, 0, 0);
}
static int create_array_inner(void)
{
	return create(BPF_MAP_TYPE_ARRAY, 8, ENTRIES, BPF_F_INNER_MAP, 0, 0);
}
static int create_array_large(void) { return create(BPF_MAP_TYPE_ARRAY, 4096, 1024, 0, 0, 0); }
static int create_percpu(void) { return create(BPF_MAP_TYPE_PERCPU_ARRAY, 8, ENTRIES, 0, 0, 0); }
static int create_percpu_btf(void)
{
	return create(BPF_MAP_TYPE_PERCPU_ARRAY, 8, ENTRIES, 0, 2, 0);
}
static int create_prog_array(void) { return create(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 0, 0, 0); }
static int create_perf_array(void)
{
	return create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, 0);
}
static int create_cgroup_array(void) { return create(BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 0, 0, 0); }
static int create_outer(void)
{
	return create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 0, 0, env.inner);
}

static int update_prog_array(void) { return update(env.prog_array, 1, &env.leaf, 0); }
static int update_tracked(void) { return update(env.tracked, 0, &env.leaf, 0); }
static int update_perf_array(void) { return update(env.perf_array, 0, &env.perf, 0); }
static int update_cgroup_array(void) { return update(env.cgroup_array, 2, &env.cgroup, 0); }
static int update_outer(void) { return update(env.outer, 3, &env.inner, 0); }
static void delete_prog_array(void) { delete(env.prog_array, 1); }
static void delete_tracked(void) { delete(env.tracked, 0); }
static void delete_perf_array(void) { delete(env.perf_array, 0); }
static void delete_cgroup_array(void) { delete(env.cgroup_array, 2); }
static void delete_outer(void) { delete(env.outer, 3); }

static int load_tracking_prog(void) { return load_tail_caller(env.prog_array); }

static int lookup_percpu(void) { return lookup(env.percpu, 5, env.values); }
static int update_percpu(void) { return update(env.percpu, 5, env.values, 0); }
static int lookup_batch_array(void) { return batch(BPF_MAP_LOOKUP_BATCH, env.array); }
static int update_batch_array(void) { return batch(BPF_MAP_UPDATE_BATCH, env.array); }
static int lookup_batch_percpu(void) { return batch(BPF_MAP_LOOKUP_BATCH, env.percpu); }
static int update_batch_percpu(void) { return batch(BPF_MAP_UPDATE_BATCH, env.percpu); }

static int iter_link_array(void) { return iter_link(env.array); }
static int iter_link_percpu(void) { return iter_link(env.percpu); }
static int iter_create_array(void) { return iter_create(env.array_link); }
static int iter_create_percpu(void) { return iter_create(env.percpu_link); }
static void iter_open_array(void) { env.iter = iter_create(env.array_link); }
static void iter_open_percpu(void) { env.iter = iter_create(env.percpu_link); }
static void iter_close(void) { close(env.iter); }

struct op {
	const char *name;
	int (*run)(void);		/* an fd (closed afterwards), 0 or more, or -errno */
	void (*setup)(void);		/* before the fault is armed */
	void (*teardown)(void);		/* after the run, whatever it returned */
	void (*undo)(void);		/* after a successful run */
	int returns_fd;
};

static const struct op ops[] = {
	{ "create array", create_array, NULL, NULL, NULL, 1 },
	{ "create array btf", create_array_btf, NULL, NULL, NULL, 1 },
	{ "create array spin_lock+timer", create_array_special, NULL, NULL, NULL, 1 },
	{ "create array mmapable", create_array_mmapable, NULL, NULL, NULL, 1 },
	{ "create array inner_map", create_array_inner, NULL, NULL, NULL, 1 },
	{ "create array 4 MiB", create_array_large, NULL, NULL, NULL, 1 },
	{ "create percpu_array", create_percpu, NULL, NULL, NULL, 1 },
	{ "create percpu_array btf", create_percpu_btf, NULL, NULL, NULL, 1 },
	{ "create prog_array", create_prog_array, NULL, NULL, NULL, 1 },
	{ "create perf_event_array", create_perf_array, NULL, NULL, NULL, 1 },
	{ "create cgroup_array", create_cgroup_array, NULL, NULL, NULL, 1 },
	{ "create array_of_maps", create_outer, NULL, NULL, NULL, 1 },
	{ "update prog_array", update_prog_array, NULL, NULL, delete_prog_array, 0 },
	{ "update prog_array tracked", update_tracked, NULL, NULL, delete_tracked, 0 },
	{ "update perf_event_array", update_perf_array, NULL, NULL, delete_perf_array, 0 },
	{ "update cgroup_array", update_cgroup_array, NULL, NULL, delete_cgroup_array, 0 },
	{ "update array_of_maps", update_outer, NULL, NULL, delete_outer, 0 },
	{ "load tail caller (poke track)", load_tracking_prog, NULL, NULL, NULL, 1 },
	{ "lookup percpu_array", lookup_percpu, NULL, NULL, NULL, 0 },
	{ "update percpu_array", update_percpu, NULL, NULL, NULL, 0 },
	{ "lookup_batch array", lookup_batch_array, NULL, NULL, NULL, 0 },
	{ "update_batch array", update_batch_array, NULL, NULL, NULL, 0 },
	{ "lookup_batch percpu_array", lookup_batch_percpu, NULL, NULL, NULL, 0 },
	{ "update_batch percpu_array", update_batch_percpu, NULL, NULL, NULL, 0 },
	{ "iter link array", iter_link_array, NULL, NULL, NULL, 1 },
	{ "iter link percpu_array", iter_link_percpu, NULL, NULL, NULL, 1 },
	{ "iter create array", iter_create_array, NULL, NULL, NULL, 1 },
	{ "iter create percpu_array", iter_create_percpu, NULL, NULL, NULL, 1 },
	{ "iter read array", iter_read, iter_open_array, iter_close, NULL, 0 },
	{ "iter read percpu_array", iter_read, iter_open_percpu, iter_close, NULL, 0 },
};

/* What the points of one operation returned: in order (run-length) and as a set. */
struct results {
	char runs[4096];	/* " ENOMEM*1 ok*2 ..." */
	char last[64];
	int count;
	char seen[16][64];	/* the distinct results */
	int nseen;
};

static void results_flush(struct results *r)
{
	size_t len = strlen(r->runs);

	if (r->count)
		snprintf(r->runs + len, sizeof(r->runs) - len, " %s*%d", r->last, r->count);
	r->count = 0;
}

/* @what in the runs; in the set too if @in_set. */
static void results_add(struct results *r, const char *what, int in_set)
{
	int i;

	if (r->count && !strcmp(r->last, what)) {
		r->count++;
	} else {
		results_flush(r);
		snprintf(r->last, sizeof(r->last), "%s", what);
		r->count = 1;
	}
	if (!in_set)
		return;
	for (i = 0; i < r->nseen; i++)
		if (!strcmp(r->seen[i], what))
			return;
	if (r->nseen < 16)
		snprintf(r->seen[r->nseen++], sizeof(r->seen[0]), "%s", what);
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static FILE *detail;

/*
 * Fails the op's allocations one after the other. stdout gets what must be C's: the distinct
 * results of the failure points and the result without a failure. Which allocation comes n-th
 * depends on the state of the kernel's caches (an idr node, a kmemleak pool, a dentry name), so
 * the same C op was seen with 6 points in one boot and 10 in another: the points in order and
 * their number go to the detail file (FAILNTH_DETAIL), reported, not compared.
 *
 * The number also changes from one run to the next (the per-CPU allocator populates its pages
 * ahead, freed maps go away in a work item): a create that made 78 allocations in the runs
 * before made 72 in the one that should have failed its 73rd, and a scan that stopped there
 * never failed the last 6, the only ones whose failure is ENOMEM. So the scan goes on until
 * TAIL runs in a row made fewer allocations than their point; a run without a fault inside the
 * scan shows in the detail as "none".
 */
#define TAIL 16

static int run_op(const struct op *op, int *points_total)
{
	struct results r = {};
	char set[512] = "";
	int n, ret, fired, i, last = 0, quiet = 0, clean = 0;

	for (n = 1; n <= MAX_POINTS && quiet < TAIL; n++) {
		if (op->setup)
			op->setup();
		fail_nth_set(n);
		ret = op->run();
		fired = fail_nth_fired();
		fail_nth_set(0);
		if (op->teardown)
			op->teardown();
		if (ret >= 0 && op->returns_fd)
			close(ret);
		if (ret >= 0 && op->undo)
			op->undo();
		if (fired) {
			/* The runs without a fault since the last point, if any. */
			for (; quiet; quiet--)
				results_add(&r, "none", 0);
			results_add(&r, res(ret), 1);
			last = n;
			continue;
		}
		/* The op made fewer than n allocations: a run without a failure. */
		if (ret < 0) {
			fprintf(stderr, "%s: fails without an injected fault: %s\n", op->name, res(ret));
			return 1;
		}
		clean = ret;
		quiet++;
	}
	if (quiet < TAIL) {
		printf("%s: more than %d points\n", op->name, MAX_POINTS);
		return 1;
	}
	results_flush(&r);
	qsort(r.seen, r.nseen, sizeof(r.seen[0]), cmp_str);
	for (i = 0; i < r.nseen; i++)
		snprintf(set + strlen(set), sizeof(set) - strlen(set), " %s", r.seen[i]);
	printf("%s: failures return%s; then %s\n", op->name, r.nseen ? set : " nothing",
	       res(clean));
	if (detail)
		fprintf(detail, "%s: %d points:%s; then %s\n", op->name, last, r.runs, res(clean));
	*points_total += last;
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0) {
		fprintf(stderr, "%s: %m\n", path);
		return -1;
	}
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	if (!ok)
		fprintf(stderr, "%s: writing %s: %m\n", path, s);
	return ok ? 0 : -1;
}

/* failslab and fail_page_alloc: every allocation may fail, none prints. */
static int configure_injection(void)
{
	const char *verbose = getenv("FAILNTH_VERBOSE") ?: "0";
	const char *const set[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", verbose },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", verbose },
	};
	size_t i;

	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (write_file(set[i][0], set[i][1]))
			return -1;
	return 0;
}

/* Writes @line to the kernel log. */
static int kmsg(const char *line)
{
	return write_file("/dev/kmsg", line);
}

static int setup(void)
{
	int id, i;

	env.ncpus = libbpf_num_possible_cpus();
	if (env.ncpus < 1 || env.ncpus > MAX_CPUS)
		return fprintf(stderr, "%d possible CPUs: not supported\n", env.ncpus), -1;
	for (i = 0; i < ENTRIES; i++)
		env.keys[i] = i;
	env.btf = test_btf_load();
	if (env.btf < 0)
		return fprintf(stderr, "BTF load failed\n"), -1;
	env.inner = create(BPF_MAP_TYPE_ARRAY, 8, 4, 0, 0, 0);
	env.leaf = prog_load_ret(0, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	env.cgroup = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
	env.perf = perf_open_clock(-1, 0);
	env.prog_array = create_prog_array();
	env.perf_array = create_perf_array();
	env.cgroup_array = create_cgroup_array();
	env.outer = create_outer();
	env.tracked = create_prog_array();
	env.tracked_caller = env.tracked >= 0 ? load_tail_caller(env.tracked) : -1;
	env.array = create_array();
	env.percpu = create_percpu();
	id = libbpf_find_vmlinux_btf_id("bpf_map_elem", BPF_TRACE_ITER);
	env.iter_prog = id > 0 ? prog_load_ret(0, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, id) : -1;
	env.array_link = env.iter_prog >= 0 ? iter_link(env.array) : -1;
	env.percpu_link = env.iter_prog >= 0 ? iter_link(env.percpu) : -1;
	if (env.inner < 0 || env.leaf < 0 || env.cgroup < 0 || env.perf < 0 ||
	    env.prog_array < 0 || env.perf_array < 0 || env.cgroup_array < 0 || env.outer < 0 ||
	    env.tracked < 0 || env.tracked_caller < 0 || env.array < 0 || env.percpu < 0 ||
	    env.iter_prog < 0 || env.array_link < 0 || env.percpu_link < 0) {
		fprintf(stderr, "setup failed: inner %d leaf %d cgroup %d perf %d prog_array %d "
			"perf_array %d cgroup_array %d outer %d tracked %d caller %d array %d "
			"percpu %d iter_prog %d links %d %d\n", env.inner, env.leaf, env.cgroup,
			env.perf, env.prog_array, env.perf_array, env.cgroup_array, env.outer,
			env.tracked, env.tracked_caller, env.array, env.percpu, env.iter_prog,
			env.array_link, env.percpu_link);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";
	int total = 0, bad = 0, nops = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2) {
		fprintf(stderr, "usage: failnth [OP]\n");
		return 2;
	}
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_nth_fd < 0) {
		perror("/proc/thread-self/fail-nth (a kernel without FAULT_INJECTION?)");
		return 1;
	}
	if (getenv("FAILNTH_DETAIL")) {
		detail = fopen(getenv("FAILNTH_DETAIL"), "w");
		if (!detail) {
			perror(getenv("FAILNTH_DETAIL"));
			return 1;
		}
		setvbuf(detail, NULL, _IOLBF, 0);
	}
	if (configure_injection() || setup())
		return 1;
	/* No page fault of ours may take a point: everything is mapped and locked now. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
		perror("mlockall");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	/*
	 * The allocation failures injected from here on may make the kernel print warn_alloc()'s
	 * report (with a stack dump) for allocations without __GFP_NOWARN: expected, and passed
	 * over between these markers by scripts/find-splats.sh. KERN_WARNING, as that report, so
	 * that the console shows both.
	 */
	if (kmsg("<4>rust_arraymap-harness: failnth injecting"))
		return 1;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strncmp(ops[i].name, only, strlen(only)))
			continue;
		bad |= run_op(&ops[i], &total);
		nops++;
	}
	if (kmsg("<4>rust_arraymap-harness: failnth done"))
		return 1;
	printf("%d operations\n", nops);
	if (detail)
		fprintf(detail, "%d operations, %d failure points\n", nops, total);
	return bad;
}
