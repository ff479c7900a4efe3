// SPDX-License-Identifier: GPL-2.0
/*
 * pcputest: user-space probes of BPF_MAP_TYPE_PERCPU_ARRAY for the rust_arraymap suite.
 * Each subcommand exercises whatever serves PERCPU_ARRAY right now (the built-in C map or
 * the module); the suite runs it both ways and compares the output.
 *
 *   pcputest values     BPF programs run on each CPU write their copy, user space reads all
 *                       copies, one (BPF_F_CPU) and writes one or all (BPF_F_ALL_CPUS);
 *                       the update helper; errno of every bad flag and key; 12-byte values
 *   pcputest helpers    bpf_map_lookup_percpu_elem(), .percpu global data (skeleton),
 *                       for_each on this CPU's copies, the xlated (inlined) lookup
 *   pcputest batch      BPF_MAP_LOOKUP_BATCH / UPDATE_BATCH with per-CPU values and BPF_F_CPU
 *   pcputest iter       iter/bpf_map_elem over a per-CPU array, read after its fds are closed
 *   pcputest limits     creation limits: value size (PCPU_MIN_UNIT_SIZE), NUMA, flags
 *   pcputest pin DIR    load percpu.skel.h, fill its per-CPU maps and pin them in DIR (bpffs)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "percpu.skel.h"
#include "common.h"
#include "xlated.h"

#define MAX_CPUS 64

struct val {
	__u64 cpu, seq, tag;
};

static int ncpus;

/*
 * Runs a raw_tp program once on @cpu; on a CPU that is not online, nothing (its copies keep
 * what user space wrote, on C's maps and on Rust's alike).
 */
static int run_on(int prog_fd, int cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = cpu);

	if (!cpu_online(cpu))
		return 0;
	return bpf_prog_test_run_opts(prog_fd, &opts) ? -errno : 0;
}

static struct percpu *open_and_load(void)
{
	struct percpu *skel = percpu__open();

	if (!skel) {
		perror("percpu__open");
		return NULL;
	}
	skel->rodata->nr_cpus = ncpus;
	if (percpu__load(skel)) {
		perror("percpu__load");
		percpu__destroy(skel);
		return NULL;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	obj_maps_served_by(skel->obj);
	return skel;
}

static void print_all(int fd, __u32 key)
{
	struct val v[MAX_CPUS];
	int c, ret;

	memset(v, 0xa5, sizeof(v));
	ret = bpf_map_lookup_elem(fd, &key, v) ? -errno : 0;
	printf("lookup key %u: %s\n", key, res(ret));
	for (c = 0; !ret && c < ncpus; c++)
		printf("  cpu %d: cpu=%llu seq=%llu tag=%llu\n", c, (unsigned long long)v[c].cpu,
		       (unsigned long long)v[c].seq, (unsigned long long)v[c].tag);
}

static int lookup_flags(int fd, __u32 key, void *v, __u64 flags)
{
	return bpf_map_lookup_elem_flags(fd, &key, v, flags) ? -errno : 0;
}

static int update_flags(int fd, __u32 key, void *v, __u64 flags)
{
	return bpf_map_update_elem(fd, &key, v, flags) ? -errno : 0;
}

static __u64 cpu_flag(int cpu)
{
	return BPF_F_CPU | (__u64)cpu << 32;
}

static int values(void)
{
	struct val v[MAX_CPUS], one;
	struct percpu *skel;
	int fd, wr, c, ret;
	__u32 key;

	skel = open_and_load();
	if (!skel)
		return 1;
	fd = bpf_map__fd(skel->maps.pcpu);
	wr = bpf_program__fd(skel->progs.write_cpu);

	/* A program run on each CPU writes that CPU's copy; CPU 0 twice. */
	skel->bss->key = 1;
	for (c = 0; c < ncpus; c++) {
		skel->bss->tag = 10 + c;
		CHECK(run_on(wr, c) == 0, "run on cpu %d", c);
		CHECK(skel->bss->found == 1, "key 1 not found on cpu %d", c);
	}
	skel->bss->tag = 10;
	CHECK(run_on(wr, 0) == 0, "run on cpu 0");
	skel->bss->key = 5;
	CHECK(run_on(wr, 0) == 0 && skel->bss->found == 0, "key 5 found");
	print_all(fd, 1);
	print_all(fd, 0);

	/* One CPU's copy. */
	for (c = 0; c < ncpus; c++) {
		memset(&one, 0, sizeof(one));
		ret = lookup_flags(fd, 1, &one, cpu_flag(c));
		printf("lookup key 1 BPF_F_CPU %d: %s cpu=%llu seq=%llu tag=%llu\n", c, res(ret),
		       (unsigned long long)one.cpu, (unsigned long long)one.seq,
		       (unsigned long long)one.tag);
	}

	/* Write one CPU's copy, then the same value to all. */
	one = (struct val){ .cpu = 77, .seq = 78, .tag = 79 };
	printf("update key 1 BPF_F_CPU 1: %s\n", res(update_flags(fd, 1, &one, cpu_flag(ncpus - 1))));
	print_all(fd, 1);
	one = (struct val){ .cpu = 5, .seq = 6, .tag = 7 };
	printf("update key 2 BPF_F_ALL_CPUS: %s\n", res(update_flags(fd, 2, &one, BPF_F_ALL_CPUS)));
	print_all(fd, 2);

	/* A value per CPU, as the syscall layer takes them by default. */
	for (c = 0; c < ncpus; c++)
		v[c] = (struct val){ .cpu = c, .seq = 100 + c, .tag = 200 + c };
	printf("update key 3: %s\n", res(update_flags(fd, 3, v, BPF_ANY)));
	printf("update key 3 BPF_EXIST: %s\n", res(update_flags(fd, 3, v, BPF_EXIST)));
	print_all(fd, 3);

	/* The errno of each bad request. */
	printf("update BPF_NOEXIST: %s\n", res(update_flags(fd, 3, v, BPF_NOEXIST)));
	printf("update BPF_F_LOCK: %s\n", res(update_flags(fd, 3, v, BPF_F_LOCK)));
	printf("update flags 32: %s\n", res(update_flags(fd, 3, v, 32)));
	printf("update key 5: %s\n", res(update_flags(fd, 5, v, BPF_ANY)));
	printf("update key 5 BPF_F_CPU: %s\n", res(update_flags(fd, 5, v, cpu_flag(0))));
	printf("update BPF_F_CPU|BPF_F_ALL_CPUS: %s\n",
	       res(update_flags(fd, 3, v, cpu_flag(0) | BPF_F_ALL_CPUS)));
	printf("update BPF_F_CPU past nr_cpu_ids: %s\n",
	       res(update_flags(fd, 3, v, cpu_flag(MAX_CPUS * 4))));
	printf("update cpu bits without BPF_F_CPU: %s\n",
	       res(update_flags(fd, 3, v, (__u64)1 << 32)));
	printf("update BPF_NOEXIST|BPF_F_CPU: %s\n",
	       res(update_flags(fd, 3, v, BPF_NOEXIST | cpu_flag(0))));
	printf("lookup key 5: %s\n", res(lookup_flags(fd, 5, v, 0)));
	printf("lookup key 5 BPF_F_CPU: %s\n", res(lookup_flags(fd, 5, v, cpu_flag(0))));
	printf("lookup BPF_F_ALL_CPUS: %s\n", res(lookup_flags(fd, 3, v, BPF_F_ALL_CPUS)));
	printf("lookup BPF_F_CPU past nr_cpu_ids: %s\n",
	       res(lookup_flags(fd, 3, v, cpu_flag(MAX_CPUS * 4))));
	key = 3;
	printf("delete: %s\n", res(bpf_map_delete_elem(fd, &key) ? -errno : 0));
	printf("get_next_key 3: %s", res(bpf_map_get_next_key(fd, &key, &key) ? -errno : 0));
	printf(" -> %u\n", key);
	key = 4;
	printf("get_next_key 4: %s\n", res(bpf_map_get_next_key(fd, &key, &key) ? -errno : 0));

	/* The update helper writes this CPU's copy only; its errno. */
	skel->bss->key = 4;
	for (c = 0; c < ncpus; c++) {
		skel->bss->tag = 300 + c;
		CHECK(run_on(bpf_program__fd(skel->progs.update_cpu), c) == 0, "update on %d", c);
		printf("update helper on cpu %d: %s\n", c, res(skel->bss->update_ret));
	}
	print_all(fd, 4);
	CHECK(run_on(bpf_program__fd(skel->progs.update_errors), 0) == 0, "update_errors");
	printf("helper update BPF_NOEXIST: %s\n", res(skel->bss->update_noexist_ret));
	printf("helper update BPF_F_LOCK: %s\n", res(skel->bss->update_lock_ret));
	printf("helper update key 5: %s\n", res(skel->bss->update_big_ret));
	printf("helper delete: %s\n", res(skel->bss->delete_ret));

	/* 12-byte values: each CPU's copy is 16 bytes; the padding written by user space is
	 * not stored, and reads back as zero.
	 */
	{
		unsigned char buf[MAX_CPUS * 16];
		int ofd = bpf_map__fd(skel->maps.odd), i;

		memset(buf, 0xee, sizeof(buf));
		for (c = 0; c < ncpus; c++)
			buf[c * 16] = c + 1;
		printf("odd update: %s\n", res(update_flags(ofd, 0, buf, BPF_ANY)));
		memset(buf, 0x5a, sizeof(buf));
		printf("odd lookup: %s\n", res(lookup_flags(ofd, 0, buf, 0)));
		for (c = 0; c < ncpus; c++) {
			printf("  cpu %d:", c);
			for (i = 0; i < 16; i++)
				printf(" %02x", buf[c * 16 + i]);
			printf("\n");
		}
		memset(buf, 0x5a, sizeof(buf));
		printf("odd lookup BPF_F_CPU: %s", res(lookup_flags(ofd, 0, buf, cpu_flag(0))));
		for (i = 0; i < 16; i++)
			printf(" %02x", buf[i]);
		printf("\n");
	}
	percpu__destroy(skel);
	return failures != 0;
}

static int helpers(void)
{
	struct percpu *skel;
	int fd, c, n;
	__u64 hits[MAX_CPUS * 2];
	__u32 zero = 0;

	skel = open_and_load();
	if (!skel)
		return 1;
	fd = bpf_map__fd(skel->maps.pcpu);

	/* The lookup op itself (not inlined), on each CPU and on both maps of the call site. */
	skel->bss->key = 3;
	for (n = 0; n < 2; n++) {
		skel->bss->which = n;
		for (c = 0; c < ncpus; c++) {
			skel->bss->tag = 50 + 10 * n + c;
			CHECK(run_on(bpf_program__fd(skel->progs.write_cpu_call), c) == 0, "call %d", c);
			CHECK(skel->bss->found == 1, "key 3 not found on cpu %d", c);
		}
	}
	skel->bss->key = 5;
	CHECK(run_on(bpf_program__fd(skel->progs.write_cpu_call), 0) == 0, "call key 5");
	printf("lookup op key 5: found %d\n", skel->bss->found);
	print_all(fd, 3);
	print_all(bpf_map__fd(skel->maps.pcpu2), 3);

	/* bpf_map_lookup_percpu_elem(): every CPU's copy from one CPU, NULL past nr_cpu_ids. */
	skel->bss->key = 2;
	for (c = 0; c < ncpus; c++) {
		skel->bss->tag = c;
		for (n = 0; n <= c; n++)
			CHECK(run_on(bpf_program__fd(skel->progs.write_cpu), c) == 0, "write on %d", c);
	}
	CHECK(run_on(bpf_program__fd(skel->progs.read_percpu), 0) == 0, "read_percpu");
	for (c = 0; c < ncpus + 2; c++)
		printf("lookup_percpu_elem cpu %d: found %d seq %llu cpu %llu\n", c,
		       skel->bss->percpu_found[c], (unsigned long long)skel->bss->percpu_seq[c],
		       (unsigned long long)skel->bss->percpu_cpu[c]);
	skel->bss->key = 5;
	CHECK(run_on(bpf_program__fd(skel->progs.read_percpu), 0) == 0, "read_percpu");
	printf("lookup_percpu_elem key 5 cpu 0: found %d\n", skel->bss->percpu_found[0]);

	/* .percpu global data: each CPU counts its own runs. */
	for (c = 0; c < ncpus; c++) {
		skel->bss->tag = 40 + c;
		for (n = 0; n < 2 * c + 1; n++)
			CHECK(run_on(bpf_program__fd(skel->progs.count_hits), c) == 0, "hits on %d", c);
	}
	memset(hits, 0, sizeof(hits));
	/* The .percpu map's value is the section: hits, hits_tag (16 bytes per CPU). */
	printf(".percpu lookup: %s\n",
	       res(bpf_map__lookup_elem(skel->maps.percpu, &zero, sizeof(zero), hits,
					bpf_map__value_size(skel->maps.percpu) * ncpus, 0) ?
			   -errno : 0));
	printf(".percpu value_size %u max_entries %u\n", bpf_map__value_size(skel->maps.percpu),
	       bpf_map__max_entries(skel->maps.percpu));
	for (c = 0; c < ncpus; c++)
		printf("  cpu %d: hits %llu tag %llu\n", c, (unsigned long long)hits[2 * c],
		       (unsigned long long)hits[2 * c + 1]);

	/* for_each on this CPU's copies, with an early stop and bad flags. */
	for (c = 0; c < ncpus; c++) {
		skel->bss->stop_at = c == 0 ? 0 : 3;
		CHECK(run_on(bpf_program__fd(skel->progs.for_each_cpu), c) == 0, "for_each %d", c);
		printf("for_each on cpu %d: ret %ld calls %u seq %llu tag %llu, flags 1: %s\n", c,
		       skel->bss->each_ret, skel->bss->each_calls,
		       (unsigned long long)skel->bss->each_seq_sum,
		       (unsigned long long)skel->bss->each_tag_sum, res(skel->bss->each_flags_ret));
	}

	/* The verifier inlined the lookup with the per-CPU instruction (off -1). */
	printf("# xlated write_cpu\n");
	CHECK(print_xlated(bpf_program__fd(skel->progs.write_cpu)) == 0, "xlated write_cpu");
	printf("# xlated count_hits\n");
	CHECK(print_xlated(bpf_program__fd(skel->progs.count_hits)) == 0, "xlated count_hits");
	printf("# xlated write_cpu_call\n");
	CHECK(print_xlated(bpf_program__fd(skel->progs.write_cpu_call)) == 0, "xlated call");
	(void)fd;
	percpu__destroy(skel);
	return failures != 0;
}

static int batch(void)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct val v[5 * MAX_CPUS];
	__u32 keys[5], count, out_batch, i;
	struct percpu *skel;
	int fd, c, ret;

	skel = open_and_load();
	if (!skel)
		return 1;
	fd = bpf_map__fd(skel->maps.pcpu);

	for (i = 0; i < 5; i++) {
		keys[i] = i;
		for (c = 0; c < ncpus; c++)
			v[i * ncpus + c] = (struct val){ .cpu = c, .seq = i, .tag = i * 10 + c };
	}
	count = 5;
	ret = bpf_map_update_batch(fd, keys, v, &count, &opts) ? -errno : 0;
	printf("update_batch: %s count=%u\n", res(ret), count);

	memset(v, 0, sizeof(v));
	count = 3;
	ret = bpf_map_lookup_batch(fd, NULL, &out_batch, keys, v, &count, &opts) ? -errno : 0;
	printf("lookup_batch round 1: %s count=%u\n", res(ret), count);
	for (i = 0; i < count; i++)
		for (c = 0; c < ncpus; c++)
			printf("  key %u cpu %d: seq %llu tag %llu\n", keys[i], c,
			       (unsigned long long)v[i * ncpus + c].seq,
			       (unsigned long long)v[i * ncpus + c].tag);
	count = 3;
	ret = bpf_map_lookup_batch(fd, &out_batch, &out_batch, keys, v, &count, &opts) ? -errno : 0;
	printf("lookup_batch round 2: %s count=%u\n", res(ret), count);

	/* One CPU's value per key. */
	opts.elem_flags = cpu_flag(ncpus - 1);
	memset(v, 0, sizeof(v));
	count = 5;
	ret = bpf_map_lookup_batch(fd, NULL, &out_batch, keys, v, &count, &opts) ? -errno : 0;
	printf("lookup_batch BPF_F_CPU: %s count=%u\n", res(ret), count);
	for (i = 0; i < count; i++)
		printf("  key %u: cpu %llu tag %llu\n", keys[i], (unsigned long long)v[i].cpu,
		       (unsigned long long)v[i].tag);
	opts.elem_flags = BPF_F_ALL_CPUS;
	for (i = 0; i < 5; i++)
		v[i] = (struct val){ .cpu = 9, .seq = 9, .tag = 900 + i };
	count = 5;
	ret = bpf_map_update_batch(fd, keys, v, &count, &opts) ? -errno : 0;
	printf("update_batch BPF_F_ALL_CPUS: %s count=%u\n", res(ret), count);
	keys[0] = 9;
	count = 1;
	opts.elem_flags = 0;
	ret = bpf_map_update_batch(fd, keys, v, &count, &opts) ? -errno : 0;
	printf("update_batch key 9: %s count=%u\n", res(ret), count);
	print_all(fd, 4);
	percpu__destroy(skel);
	return failures != 0;
}

static int iter(void)
{
	struct val v[MAX_CPUS];
	struct percpu *skel;
	int iter_fd, c;
	__u32 k;

	skel = open_and_load();
	if (!skel)
		return 1;
	for (k = 0; k < 5; k++) {
		for (c = 0; c < ncpus; c++)
			v[c] = (struct val){ .seq = k + c, .tag = k * 100 + c };
		bpf_map_update_elem(bpf_map__fd(skel->maps.pcpu), &k, v, BPF_ANY);
	}
	iter_fd = open_map_iter(skel->progs.dump_pcpu, bpf_map__fd(skel->maps.pcpu));
	/* The iterator keeps its own user reference: drop every other one first. */
	percpu__destroy(skel);
	return iter_fd < 0 || print_iter(iter_fd);
}

static void report_create(const char *name, __u32 value, __u32 entries, __u32 flags,
			  __u32 numa)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags, .numa_node = numa);
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pcpu", 4, value, entries, &opts);

	printf("create %s: %s", name, res(fd < 0 ? -errno : fd));
	if (fd >= 0) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_map_get_info_by_fd(fd, &info, &len))
			printf(" value_size %u max_entries %u flags %#x", info.value_size,
			       info.max_entries, info.map_flags);
		fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
		close(fd);
	}
	printf("\n");
}

static int limits(void)
{
	report_create("value 32768", 32768, 2, 0, 0);
	report_create("value 32761", 32761, 2, 0, 0);
	report_create("value 32769", 32769, 2, 0, 0);
	report_create("value 0", 0, 2, 0, 0);
	report_create("entries 0", 8, 0, 0, 0);
	report_create("numa 0", 8, 2, BPF_F_NUMA_NODE, 0);
	report_create("mmapable", 8, 2, BPF_F_MMAPABLE, 0);
	report_create("inner map", 8, 2, BPF_F_INNER_MAP, 0);
	report_create("preserve elems", 8, 2, BPF_F_PRESERVE_ELEMS, 0);
	report_create("rdonly_prog", 8, 2, BPF_F_RDONLY_PROG, 0);
	report_create("rdonly_prog|wronly_prog", 8, 2, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, 0);
	report_create("entries 100000", 8, 100000, 0, 0);
	return 0;
}

static int pin(const char *dir)
{
	struct percpu *skel;
	char path[256];
	int c, n;

	skel = open_and_load();
	if (!skel)
		return 1;
	skel->bss->key = 1;
	for (c = 0; c < ncpus; c++) {
		skel->bss->tag = 10 + c;
		for (n = 0; n <= c; n++)
			CHECK(run_on(bpf_program__fd(skel->progs.write_cpu), c) == 0, "write on %d", c);
		CHECK(run_on(bpf_program__fd(skel->progs.count_hits), c) == 0, "hits on %d", c);
	}
	{
		struct { __u32 a, b, c, pad; } odd[MAX_CPUS];
		__u32 k = 2;

		for (c = 0; c < ncpus; c++)
			odd[c] = (typeof(odd[0])){ c, c + 1, c + 2, 0 };
		CHECK(!bpf_map_update_elem(bpf_map__fd(skel->maps.odd), &k, odd, BPF_ANY), "odd");
	}
	snprintf(path, sizeof(path), "%s/pcpu", dir);
	CHECK(!bpf_map__pin(skel->maps.pcpu, path), "pin %s", path);
	snprintf(path, sizeof(path), "%s/odd", dir);
	CHECK(!bpf_map__pin(skel->maps.odd, path), "pin %s", path);
	snprintf(path, sizeof(path), "%s/percpu", dir);
	CHECK(!bpf_map__pin(skel->maps.percpu, path), "pin %s", path);
	percpu__destroy(skel);
	return failures != 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1 || ncpus > MAX_CPUS) {
		fprintf(stderr, "%d possible CPUs: not supported here\n", ncpus);
		return 1;
	}
	if (!strcmp(cmd, "values"))
		return values();
	if (!strcmp(cmd, "helpers"))
		return helpers();
	if (!strcmp(cmd, "batch"))
		return batch();
	if (!strcmp(cmd, "iter"))
		return iter();
	if (!strcmp(cmd, "limits"))
		return limits();
	if (!strcmp(cmd, "pin") && argc == 3)
		return pin(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of pcputest.c\n");
	return 2;
}
