// SPDX-License-Identifier: GPL-2.0
/*
 * memusage: what fdinfo's "memlock:" (the map's mem_usage op) says for every array type in
 * several shapes, one "type shape: memlock N" line each. The suite runs it on the C maps and on
 * the module and compares the lines: the accounting user space sees (bpftool's "memlock", cgroup
 * memory charts) must be C's.
 *
 *   memusage
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "common.h"

/* fdinfo's memlock of @fd, or -1. */
static long long memlock(int fd)
{
	char val[32];

	return fdinfo_value(fd, "memlock", val, sizeof(val)) == 1 ? atoll(val) : -1;
}

static const struct shape {
	const char *name;
	enum bpf_map_type type;
	__u32 value_size;
	__u32 entries;
	__u32 flags;
} shapes[] = {
	{ "array 4 x 1", BPF_MAP_TYPE_ARRAY, 4, 1, 0 },
	{ "array 12 x 1000", BPF_MAP_TYPE_ARRAY, 12, 1000, 0 },
	{ "array 4096 x 100", BPF_MAP_TYPE_ARRAY, 4096, 100, 0 },
	{ "array mmapable 8 x 1000", BPF_MAP_TYPE_ARRAY, 8, 1000, BPF_F_MMAPABLE },
	{ "percpu_array 8 x 1", BPF_MAP_TYPE_PERCPU_ARRAY, 8, 1, 0 },
	{ "percpu_array 256 x 1000", BPF_MAP_TYPE_PERCPU_ARRAY, 256, 1000, 0 },
	{ "prog_array 1", BPF_MAP_TYPE_PROG_ARRAY, 4, 1, 0 },
	{ "prog_array 1000", BPF_MAP_TYPE_PROG_ARRAY, 4, 1000, 0 },
	{ "perf_event_array 4", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0 },
	{ "perf_event_array 1000", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 1000, 0 },
	{ "cgroup_array 1000", BPF_MAP_TYPE_CGROUP_ARRAY, 4, 1000, 0 },
	{ "array_of_maps 1", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 1, 0 },
	{ "array_of_maps 1000", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 1000, 0 },
};

int main(void)
{
	int inner = create_map(BPF_MAP_TYPE_ARRAY, 8, 4, 0, 0, 0, 0), fd;
	unsigned int i;

	if (inner < 0) {
		fprintf(stderr, "inner: %s\n", res(inner));
		return 1;
	}
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];

		fd = create_map(s->type, s->value_size, s->entries, s->flags,
				s->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ? inner : 0, 0, 0);
		if (fd < 0) {
			printf("%s: %s\n", s->name, res(fd));
			failures++;
			continue;
		}
		if (!i)
			fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
		map_served_by(s->name, fd);
		printf("%s: memlock %lld\n", s->name, memlock(fd));
		close(fd);
	}
	close(inner);
	return failures ? 1 : 0;
}
