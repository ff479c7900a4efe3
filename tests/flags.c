// SPDX-License-Identifier: GPL-2.0
/*
 * flags: every combination of the valid flag bits (BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, BPF_F_CPU,
 * BPF_F_ALL_CPUS), with the CPU number in the upper half 0, 1 (a possible CPU) and the number
 * of possible CPUs (none), on every map command that takes flags, for each array type (an ARRAY
 * with and without a bpf_spin_lock in its value, a PERCPU_ARRAY, the four fd arrays). What each
 * call returns (the errno, a batch's count, a checksum of what a lookup copied out) is the
 * contract: the order in which C checks the bits. One line per (map, command, CPU number), the
 * 32 combinations in order:
 *
 *   array update cpu 0: ok EEXIST ok EINVAL ...
 *
 * The suite runs it on the C maps and on the module and compares the lines.
 *
 *   flags
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "common.h"

#define ENTRIES 4
#define COMBOS 32 /* BPF_NOEXIST ... BPF_F_ALL_CPUS: the five valid bits */

struct subject {
	const char *name;
	int fd;
	/* The bytes of one value as user space passes it without BPF_F_CPU/BPF_F_ALL_CPUS. */
	__u32 value_size;
	/* For an fd array, the fd that updates store (else -1). */
	int value_fd;
	/* The id a lookup of a PROG_ARRAY or ARRAY_OF_MAPS returns for it. */
	__u32 value_id;
};

static unsigned char *vals, *out;
static __u32 keys[ENTRIES], batch_keys[ENTRIES];
static unsigned int round_no;

/* A fresh value for every update (its bytes are what later lookups return). */
static void fill(const struct subject *s, __u32 n)
{
	__u32 i;

	round_no++;
	if (s->value_fd >= 0) {
		for (i = 0; i < n; i++)
			memcpy(vals + i * s->value_size, &s->value_fd, sizeof(int));
		return;
	}
	for (i = 0; i < n * s->value_size; i++)
		vals[i] = (unsigned char)(round_no * 31 + i);
}

/* FNV-1a of @len bytes. */
static __u32 sum(const unsigned char *p, size_t len)
{
	__u32 h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/*
 * The checksum of what a lookup copied out, with the id of the object an fd array stores
 * replaced by a constant (each run loads its own: the ids differ between C's and Rust's runs).
 */
static __u32 out_sum(const struct subject *s, size_t len)
{
	__u32 id, i;

	for (i = 0; s->value_id && i + 4 <= len; i += 4) {
		memcpy(&id, out + i, 4);
		if (id == s->value_id)
			memset(out + i, 0xee, 4);
	}
	return sum(out, len);
}

/* Appends to @line the result of one call: its errno, or ok and @detail (what it copied out). */
static void result(char *line, size_t size, int ret, const char *detail)
{
	size_t len = strlen(line);

	snprintf(line + len, size - len, " %s%s", res(ret), ret >= 0 ? detail : "");
}

enum cmd { UPDATE, UPDATE_OUT_OF_RANGE, LOOKUP, LOOKUP_AND_DELETE, BATCH_LOOKUP, BATCH_UPDATE,
	   BATCH_LOOKUP_AND_DELETE, BATCH_DELETE, BATCH_FLAGS, NR_CMDS };
static const char *const cmd_names[] = {
	"update", "update(key 4)", "lookup", "lookup_and_delete", "lookup_batch", "update_batch",
	"lookup_and_delete_batch", "delete_batch", "lookup_batch(flags)",
};

/* One call of @cmd on @s with @flags; appends its result to @line. */
static void call(const struct subject *s, enum cmd cmd, __u64 flags, char *line, size_t size)
{
	/* A generous copy-out size: the possible CPUs' values, for any of the flags. */
	size_t out_len = (size_t)ENTRIES * s->value_size;
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
	__u32 key = 1, count = ENTRIES, next = 0;
	char detail[32] = "";
	int ret;

	memset(out, 0, out_len);
	switch (cmd) {
	case UPDATE:
	case UPDATE_OUT_OF_RANGE:
		key = cmd == UPDATE ? 1 : ENTRIES;
		fill(s, 1);
		ret = bpf_map_update_elem(s->fd, &key, vals, flags) ? -errno : 0;
		break;
	case LOOKUP:
	case LOOKUP_AND_DELETE:
		ret = (cmd == LOOKUP ? bpf_map_lookup_elem_flags(s->fd, &key, out, flags) :
				       bpf_map_lookup_and_delete_elem_flags(s->fd, &key, out, flags)) ?
			      -errno : 0;
		snprintf(detail, sizeof(detail), ":%08x", out_sum(s, out_len));
		break;
	case BATCH_UPDATE:
		fill(s, 2);
		count = 2;
		ret = bpf_map_update_batch(s->fd, keys, vals, &count, &opts) ? -errno : 0;
		break;
	case BATCH_DELETE:
		count = 2;
		ret = bpf_map_delete_batch(s->fd, keys, &count, &opts) ? -errno : 0;
		break;
	case BATCH_FLAGS:
		opts.elem_flags = 0;
		opts.flags = flags;
		/* fall through */
	default:
		ret = (cmd == BATCH_LOOKUP_AND_DELETE ?
			       bpf_map_lookup_and_delete_batch(s->fd, NULL, &next, batch_keys, out,
							       &count, &opts) :
			       bpf_map_lookup_batch(s->fd, NULL, &next, batch_keys, out, &count,
						    &opts)) ?
			      -errno : 0;
		/* ENOENT ends a batch that reached the last element: the count tells. */
		snprintf(detail, sizeof(detail), "/%u:%08x", count, out_sum(s, out_len));
		if (ret == -ENOENT)
			ret = 0;
		break;
	}
	/* How far a batch got is part of its answer, whether it failed or not. */
	if (cmd == BATCH_UPDATE || cmd == BATCH_DELETE)
		snprintf(line + strlen(line), size - strlen(line), " %s/%u", res(ret), count);
	else
		result(line, size, ret, detail);
}

static void subject_lines(const struct subject *s, int ncpus)
{
	const __u64 cpus[] = { 0, 1, ncpus };
	char line[4096];
	unsigned int c, f;
	int cmd;

	for (cmd = 0; cmd < NR_CMDS; cmd++)
		for (c = 0; c < sizeof(cpus) / sizeof(cpus[0]); c++) {
			snprintf(line, sizeof(line), "%s %s cpu %llu:", s->name, cmd_names[cmd],
				 (unsigned long long)cpus[c]);
			for (f = 0; f < COMBOS; f++)
				call(s, cmd, cpus[c] << 32 | f, line, sizeof(line));
			printf("%s\n", line);
		}
}

int main(void)
{
	int ncpus = libbpf_num_possible_cpus(), btf = test_btf_load(), prog, perf, cg, inner, i;
	struct subject subjects[] = {
		{ "array", create_map(BPF_MAP_TYPE_ARRAY, 8, ENTRIES, 0, 0, 0, 0), 8, -1 },
		{ "array(lock)", create_map(BPF_MAP_TYPE_ARRAY, 40, ENTRIES, 0, 0, btf, T_LOCKVAL), 40,
		  -1 },
		{ "percpu_array", create_map(BPF_MAP_TYPE_PERCPU_ARRAY, 8, ENTRIES, 0, 0, 0, 0),
		  8 * ncpus, -1 },
		{ "prog_array", create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, ENTRIES, 0, 0, 0, 0), 4,
		  prog = prog_load_ret(0, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0) },
		{ "perf_event_array", create_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, ENTRIES, 0, 0, 0, 0),
		  4, perf = perf_open_clock(-1, 0) },
		{ "cgroup_array", create_map(BPF_MAP_TYPE_CGROUP_ARRAY, 4, ENTRIES, 0, 0, 0, 0), 4,
		  cg = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY) },
		{ "array_of_maps", -1, 4,
		  inner = create_map(BPF_MAP_TYPE_ARRAY, 8, ENTRIES, 0, 0, 0, 0) },
	};
	unsigned int s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ncpus < 2 || btf < 0 || prog < 0 || perf < 0 || cg < 0 || inner < 0) {
		fprintf(stderr, "setup: %d CPUs, btf %d, prog %d, perf %d, cgroup %d, inner %d: %m\n",
			ncpus, btf, prog, perf, cg, inner);
		return 1;
	}
	subjects[6].fd = create_map(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, ENTRIES, 0, inner, 0, 0);
	subjects[3].value_id = prog_id(prog);
	subjects[6].value_id = map_id(inner);
	/* Room for ENTRIES values of the largest subject, for every CPU. */
	vals = calloc(ENTRIES * ncpus, 64);
	out = calloc(ENTRIES * ncpus, 64);
	for (i = 0; i < ENTRIES; i++)
		keys[i] = i;
	for (s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++) {
		if (subjects[s].fd < 0) {
			fprintf(stderr, "%s: create: %s\n", subjects[s].name, res(subjects[s].fd));
			return 1;
		}
		map_served_by(subjects[s].name, subjects[s].fd);
		subject_lines(&subjects[s], ncpus);
		close(subjects[s].fd);
	}
	return 0;
}
