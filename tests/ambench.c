// SPDX-License-Identifier: GPL-2.0
/*
 * ambench: the measurements of `make bench`, on whatever serves BPF_MAP_TYPE_ARRAY and
 * BPF_MAP_TYPE_PERCPU_ARRAY right now (the built-in C maps, or rust_arraymap.ko when it is
 * loaded). One line per measurement: "<operation>\t<nanoseconds per element or run>".
 *
 *   ambench syscall    lookup, update, get_next_key walk, batch lookup/update at 8 B, 64 B, 4 KiB;
 *                      per-CPU: lookup/update of all CPUs' values and of one (BPF_F_CPU), batch
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

/* Per-CPU arrays: a syscall moves the values of all possible CPUs, or one with BPF_F_CPU. */
static void percpu_syscall_ops(void)
{
	static const __u32 sizes[] = { 8, 256 };
	int ncpus = libbpf_num_possible_cpus();
	unsigned int s, i, iters = 20000;

	for (s = 0; s < 2; s++) {
		__u32 size = sizes[s], key, count, token;
		char *val = calloc((size_t)ENTRIES * ncpus, size);
		__u32 *keys = calloc(ENTRIES, sizeof(*keys));
		int fd = create_type(BPF_MAP_TYPE_PERCPU_ARRAY, size, ENTRIES);
		double t;

		for (i = 0; i < ENTRIES; i++)
			keys[i] = i;
		t = now_ns();
		for (i = 0; i < iters; i++) {
			key = i % ENTRIES;
			bpf_map_update_elem(fd, &key, val, BPF_ANY);
		}
		printf("percpu syscall update %uB\t%.1f\n", size, (now_ns() - t) / iters);
		t = now_ns();
		for (i = 0; i < iters; i++) {
			key = i % ENTRIES;
			bpf_map_lookup_elem(fd, &key, val);
		}
		printf("percpu syscall lookup %uB\t%.1f\n", size, (now_ns() - t) / iters);
		t = now_ns();
		for (i = 0; i < iters; i++) {
			key = i % ENTRIES;
			bpf_map_update_elem(fd, &key, val, BPF_F_ALL_CPUS);
		}
		printf("percpu syscall update ALL_CPUS %uB\t%.1f\n", size, (now_ns() - t) / iters);
		t = now_ns();
		for (i = 0; i < iters; i++) {
			key = i % ENTRIES;
			bpf_map_lookup_elem_flags(fd, &key, val, BPF_F_CPU | (__u64)(i % ncpus) << 32);
		}
		printf("percpu syscall lookup F_CPU %uB\t%.1f\n", size, (now_ns() - t) / iters);
		t = now_ns();
		for (i = 0; i < iters / ENTRIES; i++) {
			count = ENTRIES;
			bpf_map_lookup_batch(fd, NULL, &token, keys, val, &count, NULL);
		}
		printf("percpu syscall batch lookup %uB\t%.1f\n", size,
		       (now_ns() - t) / (iters / ENTRIES * ENTRIES));
		close(fd);
		free(val);
		free(keys);
	}
}

static void syscall_ops(void)
{
	static const __u32 sizes[] = { 8, 64, 4096 };
	unsigned int s, i, iters;

	for (s = 0; s < 3; s++) {
		__u32 size = sizes[s], key, next, count, token;
		char *val = calloc(ENTRIES, size);
		__u32 *keys = calloc(ENTRIES, sizeof(*keys));
		int fd = create(size, ENTRIES);
		double t;

		iters = size > 64 ? 20000 : 50000;
		for (i = 0; i < ENTRIES; i++)
			keys[i] = i;

		t = now_ns();
		for (i = 0; i < iters; i++) {
			key = i % ENTRIES;
			bpf_map_update_elem(fd, &key, val, BPF_ANY);
		}
		printf("syscall update %uB\t%.1f\n", size, (now_ns() - t) / iters);

		t = now_ns();
		for (i = 0; i < iters; i++) {
			key = i % ENTRIES;
			bpf_map_lookup_elem(fd, &key, val);
		}
		printf("syscall lookup %uB\t%.1f\n", size, (now_ns() - t) / iters);

		t = now_ns();
		for (i = 0; i < iters / ENTRIES; i++) {
			int ret = bpf_map_get_next_key(fd, NULL, &next);

			while (!ret) {
				key = next;
				ret = bpf_map_get_next_key(fd, &key, &next);
			}
		}
		printf("syscall get_next_key walk %uB\t%.1f\n", size,
		       (now_ns() - t) / (iters / ENTRIES * ENTRIES));

		t = now_ns();
		for (i = 0; i < iters / ENTRIES; i++) {
			count = ENTRIES;
			bpf_map_lookup_batch(fd, NULL, &token, keys, val, &count, NULL);
		}
		printf("syscall batch lookup %uB\t%.1f\n", size,
		       (now_ns() - t) / (iters / ENTRIES * ENTRIES));

		t = now_ns();
		for (i = 0; i < iters / ENTRIES; i++) {
			count = ENTRIES;
			bpf_map_update_batch(fd, keys, val, &count, NULL);
		}
		printf("syscall batch update %uB\t%.1f\n", size,
		       (now_ns() - t) / (iters / ENTRIES * ENTRIES));
		close(fd);
		free(val);
		free(keys);
	}
	percpu_syscall_ops();
}

static double test_run(struct bpf_program *prog, int repeat)
{
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		perror("test_run");
		exit(1);
	}
	return opts.duration; /* average ns per run */
}

static void prog_ops(void)
{
	struct bench *skel = bench__open_and_load();

	if (!skel) {
		perror("bench__open_and_load");
		exit(1);
	}
	printf("bpf inlined lookup\t%.2f\n", test_run(skel->progs.lookup, 20000) / LOOPS);
	printf("bpf update helper\t%.2f\n", test_run(skel->progs.update, 20000) / LOOPS);
	printf("bpf for_each 1Ki\t%.2f\n", test_run(skel->progs.for_each, 2000) / ENTRIES);
	printf("bpf map-in-map lookup\t%.2f\n", test_run(skel->progs.map_in_map, 20000) / LOOPS);
	printf("percpu bpf inlined lookup\t%.2f\n",
	       test_run(skel->progs.pcpu_lookup, 20000) / LOOPS);
	printf("percpu bpf update helper\t%.2f\n",
	       test_run(skel->progs.pcpu_update, 20000) / LOOPS);
	printf("percpu bpf lookup_percpu_elem\t%.2f\n",
	       test_run(skel->progs.pcpu_lookup_percpu, 20000) / LOOPS);
	printf("percpu bpf for_each 1Ki\t%.2f\n", test_run(skel->progs.pcpu_for_each, 2000) / ENTRIES);
	bench__destroy(skel);
}

/* Syscall update of an fd array with @obj_fd into every slot in turn (each update drops the
 * object it replaces), then the syscall lookup where the type has one. */
static void fd_syscall(const char *name, int map_fd, int obj_fd, __u32 entries, int lookup)
{
	unsigned int i, iters = 20000;
	__u32 key, v = obj_fd;
	double t = now_ns();

	for (i = 0; i < iters; i++) {
		key = i % entries;
		if (bpf_map_update_elem(map_fd, &key, &v, BPF_ANY)) {
			perror(name);
			exit(1);
		}
	}
	printf("%s syscall update\t%.1f\n", name, (now_ns() - t) / iters);
	if (!lookup)
		return;
	t = now_ns();
	for (i = 0; i < iters; i++) {
		key = i % entries;
		bpf_map_lookup_elem(map_fd, &key, &v);
	}
	printf("%s syscall lookup\t%.1f\n", name, (now_ns() - t) / iters);
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
	printf("bpf tail call\t%.2f\n", test_run(skel->progs.tail_entry, 20000));
	bench__destroy(skel);
}

static void lifecycle(void)
{
	int i, rounds = 5;
	double t = now_ns();

	for (i = 0; i < rounds; i++)
		close(create(8, 1 << 20));
	printf("create+close 1Mi ARRAY\t%.0f\n", (now_ns() - t) / rounds);
	t = now_ns();
	for (i = 0; i < rounds; i++)
		close(create_type(BPF_MAP_TYPE_PERCPU_ARRAY, 8, 1 << 16));
	printf("create+close 64Ki PERCPU_ARRAY\t%.0f\n", (now_ns() - t) / rounds);
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
	char *val;
	double t;

	if (fd < 0 || bpf_map_get_info_by_fd(fd, &info, &len)) {
		perror(pin);
		exit(1);
	}
	val = calloc(1, info.value_size);
	t = now_ns();
	for (i = 0; i < iters; i++) {
		key = i % info.max_entries;
		bpf_map_update_elem(fd, &key, val, BPF_ANY);
	}
	printf("update %s\t%.1f\n", pin, (now_ns() - t) / iters);
	t = now_ns();
	for (i = 0; i < iters; i++) {
		key = i % info.max_entries;
		bpf_map_lookup_elem(fd, &key, val);
	}
	printf("lookup %s\t%.1f\n", pin, (now_ns() - t) / iters);
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
	return 0;
}
