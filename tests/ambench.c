// SPDX-License-Identifier: GPL-2.0
/*
 * ambench: the measurements of `make bench`, on whatever serves BPF_MAP_TYPE_ARRAY and
 * BPF_MAP_TYPE_PERCPU_ARRAY right now (the built-in C maps, or rust_arraymap.ko when it is
 * loaded). One line per measurement: "<operation>\t<nanoseconds per element or run>\t<server>",
 * the server being what the map's fdinfo says serves it ("rust_arraymap" from its ops_owner
 * line, else "builtin"), so that a Rust round that measured a C map shows. Every timed
 * operation's result is checked: a row with a failed operation says FAIL instead of a time, and
 * ambench exits 1 (a failing operation is not timed as a fast one).
 *
 *   ambench syscall    lookup, update, get_next_key walk, batch lookup/update of 1024 elements
 *                      at 8 B, 64 B, 4 KiB, and of 1 element at 8 B; per-CPU: lookup/update of
 *                      all CPUs' values and of one (BPF_F_CPU), batch lookup/update
 *   ambench prog       BPF side through BPF_PROG_TEST_RUN: inlined lookup, update helper,
 *                      for_each over 1 Ki elements, map-in-map lookup; the same on a per-CPU
 *                      array, and bpf_map_lookup_percpu_elem()
 *   ambench fd         syscall update (replacing the object) and lookup of PROG_ARRAY,
 *                      ARRAY_OF_MAPS, PERF_EVENT_ARRAY, CGROUP_ARRAY; a tail call from BPF
 *   ambench lifecycle  create + close of a 1 Mi-entry ARRAY and of a 64 Ki-entry PERCPU_ARRAY
 *   ambench xlated     the xlated lookup programs (the inlined instructions), for comparison
 *   ambench pinned PIN syscall lookup and update on an existing (pinned) map, whoever serves it
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.skel.h"
#include "xlated.h"

#define ENTRIES 1024
#define LOOPS 64

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * Before each timed loop: 50 ms idle, for the deferred work of what ran before (the frees of
 * the previous process's maps and of its exit, RCU callbacks, kworkers) to run outside the
 * loop. In icount mode such work was seen as one burst of some 2.4 million instructions a few
 * milliseconds into a process, which landed inside one timed loop or before it depending on
 * timing: two levels of a row, 1 % apart. Idle time costs nothing there (sleep=off).
 */
static void settle(void)
{
	usleep(50 * 1000);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the @n values at @v (reordered). */
static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_CHUNKS 64

/*
 * Nanoseconds per run of @body, run @chunks x @per times with @i counting the runs from 0:
 * after settle(), each chunk of @per consecutive runs is timed, and the figure is the median
 * chunk's time over @per. Work that the operation itself defers (RCU callbacks, the freeing of
 * what it replaced) runs every few milliseconds and falls in every chunk alike; background
 * work that runs once in a while (not identified) falls in one or two chunks, which the
 * median leaves out. Timed as a whole, the loop of the side-by-side 4 KiB update had rounds
 * 0.4-7 % off its usual level under icount.
 */
#define TIMED(chunks, per, i, body)                                                    \
	({                                                                             \
		double __t[MAX_CHUNKS], __t0;                                          \
		unsigned int __c, __j;                                                 \
		if ((chunks) > MAX_CHUNKS || !(per))                                   \
			abort();                                                       \
		settle();                                                              \
		for (__c = 0, i = 0; __c < (chunks); __c++) {                          \
			__t0 = now_ns();                                               \
			for (__j = 0; __j < (per); __j++, i++) {                       \
				body;                                                  \
			}                                                              \
			__t[__c] = (now_ns() - __t0) / (per);                          \
		}                                                                      \
		median(__t, (chunks));                                                 \
	})

/* Chunks of a timed loop of single operations (TIMED()). */
#define CHUNKS 20

/* Set when a timed operation fails: its row prints FAIL, and ambench exits 1. */
static int row_failed, any_failed;

#define OK(expr)                                                                   \
	do {                                                                       \
		if (__builtin_expect(!!(expr), 0) && !row_failed++)                \
			fprintf(stderr, "%s:%d: %s failed: %s\n", __func__, __LINE__,  \
				#expr, strerror(errno));                           \
	} while (0)

/* What serves the map behind @fd: its fdinfo's ops_owner, else the kernel itself. */
static const char *server(int fd)
{
	static char owner[64];
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	strcpy(owner, "builtin");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "ops_owner: %63s", owner) == 1)
			break;
	if (f)
		fclose(f);
	return owner;
}

/* One row: per-op time, or FAIL if an operation of the row failed; who served map @fd. */
static void row(const char *fmt_name, unsigned int arg, double ns, int fd)
{
	char name[128];

	snprintf(name, sizeof(name), fmt_name, arg);
	if (row_failed)
		printf("%s\tFAIL\t%s\n", name, server(fd));
	else
		printf("%s\t%.2f\t%s\n", name, ns, server(fd));
	any_failed |= row_failed;
	row_failed = 0;
}

static int create_type(enum bpf_map_type type, __u32 value_size, __u32 entries)
{
	int fd = bpf_map_create(type, "bench", 4, value_size, entries, NULL);

	if (fd < 0) {
		perror("bpf_map_create");
		exit(1);
	}
	return fd;
}

static int create(__u32 value_size, __u32 entries)
{
	return create_type(BPF_MAP_TYPE_ARRAY, value_size, entries);
}

/* A batch lookup of @count elements from the first: all of them, without error. */
static void lookup_all(int fd, void *keys, void *vals, __u32 count)
{
	__u32 n = count, token;

	OK(bpf_map_lookup_batch(fd, NULL, &token, keys, vals, &n, NULL) || n != count);
}

/* A batch update of @count elements: all of them, without error. */
static void update_all(int fd, void *keys, void *vals, __u32 count)
{
	__u32 n = count;

	OK(bpf_map_update_batch(fd, keys, vals, &n, NULL) || n != count);
}

/* Per-CPU arrays: a syscall moves the values of all possible CPUs, or one with BPF_F_CPU. */
static void percpu_syscall_ops(void)
{
	static const __u32 sizes[] = { 8, 256 };
	int ncpus = libbpf_num_possible_cpus();
	unsigned int s, i, iters = 20000, batches = iters / ENTRIES;

	for (s = 0; s < 2; s++) {
		__u32 size = sizes[s], key;
		char *val = calloc((size_t)ENTRIES * ncpus, size);
		__u32 *keys = calloc(ENTRIES, sizeof(*keys));
		int fd = create_type(BPF_MAP_TYPE_PERCPU_ARRAY, size, ENTRIES);
		double ns;

		for (i = 0; i < ENTRIES; i++)
			keys[i] = i;
		ns = TIMED(CHUNKS, iters / CHUNKS, i, {
			key = i % ENTRIES;
			OK(bpf_map_update_elem(fd, &key, val, BPF_ANY));
		});
		row("percpu syscall update %uB", size, ns, fd);
		ns = TIMED(CHUNKS, iters / CHUNKS, i, {
			key = i % ENTRIES;
			OK(bpf_map_lookup_elem(fd, &key, val));
		});
		row("percpu syscall lookup %uB", size, ns, fd);
		ns = TIMED(CHUNKS, iters / CHUNKS, i, {
			key = i % ENTRIES;
			OK(bpf_map_update_elem(fd, &key, val, BPF_F_ALL_CPUS));
		});
		row("percpu syscall update ALL_CPUS %uB", size, ns, fd);
		ns = TIMED(CHUNKS, iters / CHUNKS, i, {
			key = i % ENTRIES;
			OK(bpf_map_lookup_elem_flags(fd, &key, val,
						     BPF_F_CPU | (__u64)(i % ncpus) << 32));
		});
		row("percpu syscall lookup F_CPU %uB", size, ns, fd);
		ns = TIMED(batches, 1, i, lookup_all(fd, keys, val, ENTRIES));
		row("percpu syscall batch lookup %uB", size, ns / ENTRIES, fd);
		ns = TIMED(batches, 1, i, update_all(fd, keys, val, ENTRIES));
		row("percpu syscall batch update %uB", size, ns / ENTRIES, fd);
		close(fd);
		free(val);
		free(keys);
	}
}

static void syscall_ops(void)
{
	static const __u32 sizes[] = { 8, 64, 4096 };
	unsigned int s, i, iters, batches;

	for (s = 0; s < 3; s++) {
		__u32 size = sizes[s], key, next, walked;
		char *val = calloc(ENTRIES, size);
		__u32 *keys = calloc(ENTRIES, sizeof(*keys));
		int fd = create(size, ENTRIES), ret;
		double ns;

		iters = size > 64 ? 20000 : 50000;
		batches = iters / ENTRIES;
		for (i = 0; i < ENTRIES; i++)
			keys[i] = i;

		ns = TIMED(CHUNKS, iters / CHUNKS, i, {
			key = i % ENTRIES;
			OK(bpf_map_update_elem(fd, &key, val, BPF_ANY));
		});
		row("syscall update %uB", size, ns, fd);

		ns = TIMED(CHUNKS, iters / CHUNKS, i, {
			key = i % ENTRIES;
			OK(bpf_map_lookup_elem(fd, &key, val));
		});
		row("syscall lookup %uB", size, ns, fd);

		ns = TIMED(batches, 1, i, {
			ret = bpf_map_get_next_key(fd, NULL, &next);
			for (walked = 1; !ret; walked++) {
				key = next;
				ret = bpf_map_get_next_key(fd, &key, &next);
			}
			/* ENTRIES keys, then ENOENT after the last. */
			OK(ret != -ENOENT || walked != ENTRIES + 1);
		});
		row("syscall get_next_key walk %uB", size, ns / ENTRIES, fd);

		ns = TIMED(batches, 1, i, lookup_all(fd, keys, val, ENTRIES));
		row("syscall batch lookup %uB", size, ns / ENTRIES, fd);

		ns = TIMED(batches, 1, i, update_all(fd, keys, val, ENTRIES));
		row("syscall batch update %uB", size, ns / ENTRIES, fd);

		if (size == 8) {
			/* A batch of one: the fixed cost of a batch call. */
			ns = TIMED(CHUNKS, iters / CHUNKS, i, lookup_all(fd, keys, val, 1));
			row("syscall batch lookup 1 x %uB", size, ns, fd);
			ns = TIMED(CHUNKS, iters / CHUNKS, i, update_all(fd, keys, val, 1));
			row("syscall batch update 1 x %uB", size, ns, fd);
		}
		close(fd);
		free(val);
		free(keys);
	}
	percpu_syscall_ops();
}

static double test_run(struct bpf_program *prog, int repeat, __u32 retval)
{
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);

	settle();
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		perror("test_run");
		exit(1);
	}
	OK(opts.retval != retval);
	return opts.duration; /* average ns per run */
}

static void prog_ops(void)
{
	struct bench *skel = bench__open_and_load();

	if (!skel) {
		perror("bench__open_and_load");
		exit(1);
	}
#define PROG_ROW(name, prog, repeat, per, map)                                         \
	do {                                                                           \
		double ns = test_run(skel->progs.prog, repeat, XDP_PASS) / (per);      \
		OK(skel->bss->errors);                                                 \
		skel->bss->errors = 0;                                                 \
		row(name, 0, ns, bpf_map__fd(skel->maps.map));                         \
	} while (0)
	PROG_ROW("bpf inlined lookup", lookup, 20000, LOOPS, arr);
	PROG_ROW("bpf update helper", update, 20000, LOOPS, arr);
	PROG_ROW("bpf for_each 1Ki", for_each, 2000, ENTRIES, arr);
	PROG_ROW("bpf map-in-map lookup", map_in_map, 20000, LOOPS, outer);
	PROG_ROW("percpu bpf inlined lookup", pcpu_lookup, 20000, LOOPS, pcpu);
	PROG_ROW("percpu bpf update helper", pcpu_update, 20000, LOOPS, pcpu);
	PROG_ROW("percpu bpf lookup_percpu_elem", pcpu_lookup_percpu, 20000, LOOPS, pcpu);
	PROG_ROW("percpu bpf for_each 1Ki", pcpu_for_each, 2000, ENTRIES, pcpu);
#undef PROG_ROW
	bench__destroy(skel);
}

/* Syscall update of an fd array with @obj_fd into every slot in turn (each update drops the
 * object it replaces), then the syscall lookup where the type has one. */
static void fd_syscall(const char *name, int map_fd, int obj_fd, __u32 entries, int lookup)
{
	unsigned int i, iters = 20000;
	__u32 key, v = obj_fd;
	char what[64];
	double ns;

	ns = TIMED(CHUNKS, iters / CHUNKS, i, {
		key = i % entries;
		OK(bpf_map_update_elem(map_fd, &key, &v, BPF_ANY));
	});
	snprintf(what, sizeof(what), "%s syscall update", name);
	row(what, 0, ns, map_fd);
	if (!lookup)
		return;
	ns = TIMED(CHUNKS, iters / CHUNKS, i, {
		key = i % entries;
		OK(bpf_map_lookup_elem(map_fd, &key, &v));
	});
	snprintf(what, sizeof(what), "%s syscall lookup", name);
	row(what, 0, ns, map_fd);
}

static void fd_ops(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
	};
	struct bench *skel = bench__open_and_load();
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int map, obj;

	if (!skel) {
		perror("bench__open_and_load");
		exit(1);
	}
	map = create_type(BPF_MAP_TYPE_PROG_ARRAY, 4, ENTRIES);
	fd_syscall("prog_array", map, bpf_program__fd(skel->progs.tail_target), ENTRIES, 1);
	close(map);

	obj = create(8, 64);
	o.inner_map_fd = obj;
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "bench", 4, 4, ENTRIES, &o);
	if (map < 0) {
		perror("array_of_maps");
		exit(1);
	}
	fd_syscall("array_of_maps", map, obj, ENTRIES, 1);
	close(map);
	close(obj);

	obj = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	map = create_type(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, ENTRIES);
	fd_syscall("perf_event_array", map, obj, ENTRIES, 0);
	close(map);
	close(obj);

	obj = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
	map = create_type(BPF_MAP_TYPE_CGROUP_ARRAY, 4, ENTRIES);
	fd_syscall("cgroup_array", map, obj, ENTRIES, 0);
	close(map);
	close(obj);

	map = bpf_map__fd(skel->maps.jmp);
	obj = bpf_program__fd(skel->progs.tail_target);
	if (bpf_map_update_elem(map, &(__u32){ 0 }, &obj, BPF_ANY)) {
		perror("jmp");
		exit(1);
	}
	/* tail_entry returns XDP_DROP when its tail call fails. */
	row("bpf tail call", 0, test_run(skel->progs.tail_entry, 20000, XDP_PASS), map);
	bench__destroy(skel);
}

/*
 * Create + close of a map of @type, @entries 8-byte values: the median of 5, each after
 * settle(), so that each starts from a kernel where the previous one's deferred free is done
 * (the per-CPU allocator's state, which that free changes, sets the cost of the next creation:
 * run back to back, the creations of a 64 Ki-entry PERCPU_ARRAY fell in two levels 2 % apart).
 * The deferred free itself is not in the figure.
 */
static double create_close(enum bpf_map_type type, __u32 entries)
{
	double t[5], t0;
	unsigned int i;

	for (i = 0; i < 5; i++) {
		settle();
		t0 = now_ns();
		close(create_type(type, 8, entries));
		t[i] = now_ns() - t0;
	}
	return median(t, 5);
}

static void lifecycle(void)
{
	int fd;

	/* One more, to name who serves them (fdinfo is not read in the timed loop). */
	fd = create(8, 1 << 20);
	row("create+close 1Mi ARRAY", 0, create_close(BPF_MAP_TYPE_ARRAY, 1 << 20), fd);
	close(fd);
	fd = create_type(BPF_MAP_TYPE_PERCPU_ARRAY, 8, 1 << 16);
	row("create+close 64Ki PERCPU_ARRAY", 0, create_close(BPF_MAP_TYPE_PERCPU_ARRAY, 1 << 16),
	    fd);
	close(fd);
}

static void xlated(void)
{
	struct bench *skel = bench__open_and_load();

	if (!skel || print_xlated(bpf_program__fd(skel->progs.lookup)) ||
	    print_xlated(bpf_program__fd(skel->progs.pcpu_lookup)))
		exit(1);
	bench__destroy(skel);
}

static void pinned(const char *pin)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), key, i, iters = 20000;
	int fd = bpf_obj_get(pin);
	char *val, what[128];
	double ns;

	if (fd < 0 || bpf_map_get_info_by_fd(fd, &info, &len)) {
		perror(pin);
		exit(1);
	}
	val = calloc(1, info.value_size);
	ns = TIMED(CHUNKS, iters / CHUNKS, i, {
		key = i % info.max_entries;
		OK(bpf_map_update_elem(fd, &key, val, BPF_ANY));
	});
	snprintf(what, sizeof(what), "update %s", pin);
	row(what, 0, ns, fd);
	ns = TIMED(CHUNKS, iters / CHUNKS, i, {
		key = i % info.max_entries;
		OK(bpf_map_lookup_elem(fd, &key, val));
	});
	snprintf(what, sizeof(what), "lookup %s", pin);
	row(what, 0, ns, fd);
	free(val);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "syscall"))
		syscall_ops();
	else if (!strcmp(cmd, "prog"))
		prog_ops();
	else if (!strcmp(cmd, "fd"))
		fd_ops();
	else if (!strcmp(cmd, "lifecycle"))
		lifecycle();
	else if (!strcmp(cmd, "xlated"))
		xlated();
	else if (!strcmp(cmd, "pinned") && argc == 3)
		pinned(argv[2]);
	else
		return 2;
	return any_failed;
}
