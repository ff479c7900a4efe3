// SPDX-License-Identifier: GPL-2.0
/*
 * limits: array maps created at the edges of their attributes, by root and by an unprivileged
 * user, one "who type case: result" line each. The suite runs it on the C maps and on the
 * module and compares the lines: every errno must be C's, and nothing may be reported.
 *
 *   limits          root first, then the same cases as uid/gid 65534 without capabilities
 *                   (needs kernel.unprivileged_bpf_disabled=0)
 *
 * The edges: max_entries just above 2^31 and at U32_MAX (an unprivileged creator's Spectre v1
 * round-up to a power of two overflows u32: E2BIG), value_size at KMALLOC_MAX_SIZE and one past
 * it (no limit of 7.3's arrays: the allocation decides), at INT_MAX (the last size
 * array_map_alloc_check() lets through) and one past it, per-CPU value sizes at
 * PCPU_MIN_UNIT_SIZE and one past it, per-CPU and MMAPABLE totals whose products and page
 * roundings overflow 32 bits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "common.h"

/* KMALLOC_MAX_SIZE on x86-64: 1 << (PAGE_SHIFT + MAX_PAGE_ORDER) = 4 MiB. */
#define KMALLOC_MAX (4u << 20)
/* PCPU_MIN_UNIT_SIZE: 32 KiB, page-aligned. */
#define PCPU_MIN_UNIT (32u << 10)

struct limit_case {
	const char *name;
	enum bpf_map_type type;
	__u32 value_size;
	__u32 max_entries;
	__u32 flags;
};

static const struct limit_case cases[] = {
	{ "entries 2^31", BPF_MAP_TYPE_ARRAY, 4, 1u << 31, 0 },
	{ "entries 2^31+1", BPF_MAP_TYPE_ARRAY, 4, (1u << 31) + 1, 0 },
	{ "entries U32_MAX", BPF_MAP_TYPE_ARRAY, 4, UINT_MAX, 0 },
	{ "entries U32_MAX value 1", BPF_MAP_TYPE_ARRAY, 1, UINT_MAX, 0 },
	{ "value KMALLOC_MAX_SIZE", BPF_MAP_TYPE_ARRAY, KMALLOC_MAX, 1, 0 },
	{ "value KMALLOC_MAX_SIZE+1", BPF_MAP_TYPE_ARRAY, KMALLOC_MAX + 1, 1, 0 },
	{ "value INT_MAX", BPF_MAP_TYPE_ARRAY, INT_MAX, 1, 0 },
	{ "value INT_MAX+1", BPF_MAP_TYPE_ARRAY, (__u32)INT_MAX + 1, 1, 0 },
	{ "value U32_MAX", BPF_MAP_TYPE_ARRAY, UINT_MAX, 1, 0 },
	{ "value KMALLOC_MAX_SIZE entries 1024", BPF_MAP_TYPE_ARRAY, KMALLOC_MAX, 1024, 0 },
	{ "value 8 entries 2^29", BPF_MAP_TYPE_ARRAY, 8, 1u << 29, 0 },
	{ "mmapable entries 2^31+1", BPF_MAP_TYPE_ARRAY, 4, (1u << 31) + 1, BPF_F_MMAPABLE },
	{ "mmapable entries U32_MAX", BPF_MAP_TYPE_ARRAY, 4, UINT_MAX, BPF_F_MMAPABLE },
	{ "mmapable value KMALLOC_MAX_SIZE entries 1024", BPF_MAP_TYPE_ARRAY, KMALLOC_MAX, 1024,
	  BPF_F_MMAPABLE },
	{ "mmapable value 4095 entries 2^20", BPF_MAP_TYPE_ARRAY, 4095, 1u << 20, BPF_F_MMAPABLE },
	{ "percpu value PCPU_MIN_UNIT_SIZE", BPF_MAP_TYPE_PERCPU_ARRAY, PCPU_MIN_UNIT, 1, 0 },
	{ "percpu value PCPU_MIN_UNIT_SIZE+1", BPF_MAP_TYPE_PERCPU_ARRAY, PCPU_MIN_UNIT + 1, 1, 0 },
	{ "percpu value KMALLOC_MAX_SIZE", BPF_MAP_TYPE_PERCPU_ARRAY, KMALLOC_MAX, 1, 0 },
	{ "percpu value INT_MAX", BPF_MAP_TYPE_PERCPU_ARRAY, INT_MAX, 1, 0 },
	{ "percpu entries 2^31+1", BPF_MAP_TYPE_PERCPU_ARRAY, 8, (1u << 31) + 1, 0 },
	{ "percpu entries U32_MAX", BPF_MAP_TYPE_PERCPU_ARRAY, 8, UINT_MAX, 0 },
	{ "prog_array entries 2^31+1", BPF_MAP_TYPE_PROG_ARRAY, 4, (1u << 31) + 1, 0 },
	{ "prog_array entries U32_MAX", BPF_MAP_TYPE_PROG_ARRAY, 4, UINT_MAX, 0 },
	{ "perf_event_array entries U32_MAX", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, UINT_MAX, 0 },
	{ "cgroup_array entries U32_MAX", BPF_MAP_TYPE_CGROUP_ARRAY, 4, UINT_MAX, 0 },
};

static const char *type_name(enum bpf_map_type type)
{
	switch (type) {
	case BPF_MAP_TYPE_ARRAY: return "array";
	case BPF_MAP_TYPE_PERCPU_ARRAY: return "percpu_array";
	case BPF_MAP_TYPE_PROG_ARRAY: return "prog_array";
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY: return "perf_event_array";
	case BPF_MAP_TYPE_CGROUP_ARRAY: return "cgroup_array";
	default: return "?";
	}
}

static void run_cases(const char *who)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct limit_case *c = &cases[i];
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = c->flags);
		int fd = bpf_map_create(c->type, "limits", 4, c->value_size, c->max_entries, &opts);
		int ret = fd < 0 ? -errno : fd;

		printf("%s %s %s: %s\n", who, type_name(c->type), c->name, res(ret));
		if (fd >= 0)
			close(fd);
	}
}

/* In a child: gives up root and every capability, then runs the cases. */
static int run_unprivileged(void)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
			perror("dropping root");
			_exit(1);
		}
		run_cases("unpriv");
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "the unprivileged child failed\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 1) {
		fprintf(stderr, "usage: limits\n");
		return 2;
	}
	run_cases("root");
	return run_unprivileged();
}
