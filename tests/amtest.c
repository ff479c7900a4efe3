// SPDX-License-Identifier: GPL-2.0
/*
 * amtest: user-space probes of BPF array maps for the rust_arraymap suite.
 * Each subcommand exercises whatever serves BPF_MAP_TYPE_ARRAY right now (the
 * built-in C map or the module); the suite runs it both ways and compares.
 *
 *   amtest errno               every bad attribute/flag case, one "case: result" line each
 *   amtest xlated PIN          xlated instructions of a program that looks up the map at PIN
 *   amtest mkmap-unpriv PIN    create an ARRAY without CAP_PERFMON/CAP_SYS_ADMIN and pin it
 *   amtest hold                create an ARRAY, print "ready", wait to be killed
 *   amtest prog-only PIN       load a program using a new ARRAY, pin the program, drop the map fd
 *   amtest skel                global data, lookups, updates, for_each through array.skel.h
 *   amtest batch               BPF_MAP_LOOKUP_BATCH / BPF_MAP_UPDATE_BATCH, results and errno
 *   amtest hash                the SHA-256 of a frozen map's values (map_get_hash)
 *   amtest spinlock            BPF_F_LOCK from threads, with a BPF program taking the lock too
 *   amtest timers              timers in ARRAY values: firing, and pending when the map goes
 *   amtest iter                iter/bpf_map_elem over an ARRAY, read after the map's fds are closed
 *   amtest mmap                BPF_F_MMAPABLE: shared values, bounds, frozen maps, mremap
 *   amtest kptr CGROUP2-DIR    a cgroup kptr in a value: held while the map lives, dropped by its free
 *   amtest wq                  a bpf_wq in a value: runs; pending when the last reference goes
 *   amtest task-work           a bpf_task_work in a value: runs; pending on a sleeping task when
 *                              the map goes
 *   amtest pin-skel DIR        load array.skel.h, fill its maps and pin them in DIR (bpffs)
 *   amtest ops-owner           a map of each array type and a HASH: "TYPE MODULE" from the
 *                              "ops_owner:" line of the map's /proc/self/fdinfo, "-" without one
 *   amtest owner PIN...        "NAME: MODULE" for each map pinned at PIN, "-" without an
 *                              "ops_owner:" line (the demo)
 *   amtest create-until FILE   create an ARRAY, store and read back a value, close it, until
 *                              FILE exists; prints "N maps created", exits 1 on any failure
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "array.skel.h"
#include "special.skel.h"
#include "common.h"
#include "xlated.h"

static int create(enum bpf_map_type type, __u32 key, __u32 value, __u32 entries,
		  __u32 flags, __u32 numa)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags, .numa_node = numa);
	int fd = bpf_map_create(type, "amtest", key, value, entries, &opts);

	return fd < 0 ? -errno : fd;
}

static void report_create(const char *name, enum bpf_map_type type, __u32 key,
			  __u32 value, __u32 entries, __u32 flags, __u32 numa)
{
	int fd = create(type, key, value, entries, flags, numa);

	printf("create %s: %s\n", name, res(fd));
	if (fd >= 0)
		close(fd);
}

/*
 * The creation of a map of @type with @entries whose key and value are the types @key_id and
 * @value_id of the suite's BTF (0: none; test_btf_load), "create NAME: errno".
 */
static void report_create_btf(const char *name, enum bpf_map_type type, int btf_fd,
			      __u32 key_id, __u32 value_id, __u32 entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .btf_fd = btf_fd, .btf_key_type_id = key_id,
		    .btf_value_type_id = value_id);
	int fd = bpf_map_create(type, "amtest", 4, 4, entries, &opts);

	printf("create %s: %s\n", name, res(fd < 0 ? -errno : fd));
	if (fd >= 0)
		close(fd);
}

static int errno_cases(void)
{
	const enum bpf_map_type A = BPF_MAP_TYPE_ARRAY;
	__u64 val = 0x1122334455667788ULL, out;
	__u32 key, next;
	int fd, ret;

	report_create("valid", A, 4, 8, 4, 0, 0);
	report_create("max_entries=0", A, 4, 8, 0, 0, 0);
	report_create("key_size=8", A, 8, 8, 4, 0, 0);
	report_create("key_size=0", A, 0, 8, 4, 0, 0);
	report_create("value_size=0", A, 4, 0, 4, 0, 0);
	report_create("value_size=INT_MAX+1", A, 4, 0x80000000u, 1, 0, 0);
	report_create("value_size=UINT_MAX", A, 4, 0xffffffffu, 1, 0, 0);
	report_create("value_size=1MiB", A, 4, 1 << 20, 2, 0, 0);
	report_create("value_size=3", A, 4, 3, 7, 0, 0);
	report_create("unknown-flag", A, 4, 8, 4, 1u << 30, 0);
	report_create("flag-NO_PREALLOC", A, 4, 8, 4, BPF_F_NO_PREALLOC, 0);
	report_create("flag-RDONLY_PROG|WRONLY_PROG", A, 4, 8, 4,
		      BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, 0);
	report_create("flag-RDONLY_PROG", A, 4, 8, 4, BPF_F_RDONLY_PROG, 0);
	report_create("flag-RDONLY|WRONLY", A, 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY, 0);
	report_create("flag-MMAPABLE", A, 4, 8, 4, BPF_F_MMAPABLE, 0);
	report_create("flag-INNER_MAP", A, 4, 8, 4, BPF_F_INNER_MAP, 0);
	report_create("flag-PRESERVE_ELEMS", A, 4, 8, 4, BPF_F_PRESERVE_ELEMS, 0);
	report_create("flag-NUMA_NODE-0", A, 4, 8, 4, BPF_F_NUMA_NODE, 0);
	report_create("flag-NUMA_NODE-7", A, 4, 8, 4, BPF_F_NUMA_NODE, 7);
	report_create("mmapable-hash", BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_MMAPABLE, 0);
	report_create("mmapable-percpu-array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4,
		      BPF_F_MMAPABLE, 0);
	/* map_check_btf: the key a 32-bit int; no key only for a global-data DATASEC. */
	fd = test_btf_load();
	if (fd < 0) {
		printf("BTF load failed\n");
		return 1;
	}
	report_create_btf("btf-key-int", A, fd, T_INT, T_INT, 4);
	report_create_btf("btf-key-struct-of-4-bytes", A, fd, T_LOCK, T_INT, 4);
	report_create_btf("btf-no-key-4-entries", A, fd, 0, T_INT, 4);
	report_create_btf("btf-no-key-1-entry-value-int", A, fd, 0, T_INT, 1);
	report_create_btf("percpu-btf-key-struct-of-4-bytes", BPF_MAP_TYPE_PERCPU_ARRAY, fd,
			  T_LOCK, T_INT, 4);
	close(fd);

	fd = create(A, 4, 8, 4, 0, 0);
	if (fd < 0) {
		printf("create for element ops: %s\n", res(fd));
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	key = 4;
	ret = bpf_map_lookup_elem(fd, &key, &out);
	printf("lookup key=4 (out of range): %s\n", res(ret ? -errno : 0));
	key = 0xffffffffu;
	ret = bpf_map_lookup_elem(fd, &key, &out);
	printf("lookup key=UINT_MAX: %s\n", res(ret ? -errno : 0));
	key = 4;
	ret = bpf_map_update_elem(fd, &key, &val, BPF_ANY);
	printf("update key=4 (out of range): %s\n", res(ret ? -errno : 0));
	key = 1;
	ret = bpf_map_update_elem(fd, &key, &val, BPF_NOEXIST);
	printf("update NOEXIST: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_update_elem(fd, &key, &val, BPF_EXIST);
	printf("update EXIST: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_update_elem(fd, &key, &val, BPF_ANY);
	printf("update ANY: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_update_elem(fd, &key, &val, BPF_F_LOCK);
	printf("update F_LOCK without a lock: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_update_elem(fd, &key, &val, 8);
	printf("update unknown flag 8: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_update_elem(fd, &key, &val, BPF_NOEXIST | BPF_EXIST);
	printf("update NOEXIST|EXIST: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_lookup_elem(fd, &key, &out);
	printf("lookup key=1: %s value=%#llx\n", res(ret ? -errno : 0),
	       (unsigned long long)out);
	ret = bpf_map_lookup_elem_flags(fd, &key, &out, BPF_F_LOCK);
	printf("lookup F_LOCK without a lock: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_delete_elem(fd, &key);
	printf("delete key=1: %s\n", res(ret ? -errno : 0));
	key = 9;
	ret = bpf_map_delete_elem(fd, &key);
	printf("delete key=9: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_get_next_key(fd, NULL, &next);
	printf("get_next_key NULL: %s next=%u\n", res(ret ? -errno : 0), next);
	key = 2;
	ret = bpf_map_get_next_key(fd, &key, &next);
	printf("get_next_key 2: %s next=%u\n", res(ret ? -errno : 0), next);
	key = 3;
	next = 77;
	ret = bpf_map_get_next_key(fd, &key, &next);
	printf("get_next_key 3 (last): %s next=%u\n", res(ret ? -errno : 0), next);
	key = 100;
	ret = bpf_map_get_next_key(fd, &key, &next);
	printf("get_next_key 100: %s next=%u\n", res(ret ? -errno : 0), next);
	ret = bpf_map_lookup_and_delete_elem(fd, &key, &out);
	printf("lookup_and_delete: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_freeze(fd);
	printf("freeze: %s\n", res(ret ? -errno : 0));
	key = 1;
	ret = bpf_map_update_elem(fd, &key, &val, BPF_ANY);
	printf("update after freeze: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_lookup_elem(fd, &key, &out);
	printf("lookup after freeze: %s value=%#llx\n", res(ret ? -errno : 0),
	       (unsigned long long)out);
	close(fd);

	/* The built-in PERCPU_ARRAY's syscall side goes through its ops since patch 3. */
	{
		int ncpus = libbpf_num_possible_cpus(), c;
		__u64 pv[64], sum = 0;

		fd = create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0, 0);
		for (c = 0; c < ncpus && c < 64; c++)
			pv[c] = 100 + c;
		key = 2;
		ret = fd < 0 ? fd : bpf_map_update_elem(fd, &key, pv, BPF_ANY);
		printf("percpu update: %s\n", res(ret < 0 ? (fd < 0 ? fd : -errno) : 0));
		memset(pv, 0, sizeof(pv));
		ret = fd < 0 ? fd : bpf_map_lookup_elem(fd, &key, pv);
		for (c = 0; c < ncpus && c < 64; c++)
			sum += pv[c];
		printf("percpu lookup: %s sum=%llu\n", res(ret < 0 ? (fd < 0 ? fd : -errno) : 0),
		       (unsigned long long)sum);
		key = 4;
		ret = fd < 0 ? fd : bpf_map_update_elem(fd, &key, pv, BPF_ANY);
		printf("percpu update key=4: %s\n", res(ret < 0 ? (fd < 0 ? fd : -errno) : 0));
		if (fd >= 0)
			close(fd);
	}

	/* Read-only and write-only maps from the syscall side. */
	fd = create(A, 4, 8, 4, BPF_F_RDONLY, 0);
	ret = fd < 0 ? fd : bpf_map_update_elem(fd, &key, &val, BPF_ANY);
	printf("update on RDONLY map: %s\n", res(ret < 0 ? (fd < 0 ? fd : -errno) : 0));
	if (fd >= 0)
		close(fd);
	fd = create(A, 4, 8, 4, BPF_F_WRONLY, 0);
	ret = fd < 0 ? fd : bpf_map_lookup_elem(fd, &key, &out);
	printf("lookup on WRONLY map: %s\n", res(ret < 0 ? (fd < 0 ? fd : -errno) : 0));
	if (fd >= 0)
		close(fd);
	return 0;
}

/* r2 = fp - 4 (key 0), r1 = map, call lookup, r0 = (r0 != 0), exit */
static int load_lookup_prog(int map_fd)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_0, .off = 2, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "amtest", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
}

static int xlated(const char *pin)
{
	int map_fd = bpf_obj_get(pin), prog_fd, ret;

	if (map_fd < 0) {
		perror("bpf_obj_get");
		return 1;
	}
	prog_fd = load_lookup_prog(map_fd);
	if (prog_fd < 0) {
		fprintf(stderr, "prog load: %s\n", res(prog_fd));
		return 1;
	}
	ret = print_xlated(prog_fd);
	close(prog_fd);
	close(map_fd);
	return ret ? 1 : 0;
}

static int drop_spectre_caps(void)
{
	cap_value_t drop[] = { CAP_PERFMON, CAP_SYS_ADMIN };
	cap_t caps = cap_get_proc();
	int ret;

	if (!caps)
		return -1;
	ret = cap_set_flag(caps, CAP_EFFECTIVE, 2, drop, CAP_CLEAR) ||
	      cap_set_flag(caps, CAP_PERMITTED, 2, drop, CAP_CLEAR) ||
	      cap_set_proc(caps);
	cap_free(caps);
	return ret;
}

static int mkmap_unpriv(const char *pin)
{
	int fd;

	if (drop_spectre_caps()) {
		perror("dropping CAP_PERFMON/CAP_SYS_ADMIN");
		return 1;
	}
	/* 5 entries: masked with 7 when Spectre v1 is not bypassed. */
	fd = create(BPF_MAP_TYPE_ARRAY, 4, 24, 5, 0, 0);
	if (fd < 0) {
		fprintf(stderr, "create: %s\n", res(fd));
		return 1;
	}
	if (bpf_obj_pin(fd, pin)) {
		perror("pin");
		return 1;
	}
	return 0;
}

static int hold(void)
{
	int fd = create(BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, 0);

	if (fd < 0) {
		fprintf(stderr, "create: %s\n", res(fd));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}

static int prog_only(const char *pin)
{
	int map_fd = create(BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, 0), prog_fd;

	if (map_fd < 0) {
		fprintf(stderr, "create: %s\n", res(map_fd));
		return 1;
	}
	prog_fd = load_lookup_prog(map_fd);
	close(map_fd);
	if (prog_fd < 0) {
		fprintf(stderr, "prog load: %s\n", res(prog_fd));
		return 1;
	}
	if (bpf_obj_pin(prog_fd, pin)) {
		perror("pin");
		return 1;
	}
	return 0;
}

static int run(int prog_fd)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	return err ? -errno : (int)opts.retval;
}

static int skel(void)
{
	struct array *skel;
	__u64 v, big[3];
	__u32 k;
	int err, fd, fdb, ret;

	skel = array__open();
	if (!skel) {
		perror("array__open");
		return 1;
	}
	skel->rodata->ro_var = 7;
	err = array__load(skel);
	if (err) {
		fprintf(stderr, "array__load: %d\n", err);
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	obj_maps_served_by(skel->obj);
	fd = bpf_map__fd(skel->maps.vals);
	fdb = bpf_map__fd(skel->maps.bigs);

	/* User space writes, BPF reads (inlined lookup). */
	for (k = 0; k < 16; k++) {
		v = 1000 + k;
		CHECK(!bpf_map_update_elem(fd, &k, &v, BPF_ANY), "update %u", k);
	}
	for (k = 0; k < 17; k++) {
		skel->bss->lookup_key = k;
		CHECK(run(bpf_program__fd(skel->progs.prog_lookup)) == 0, "run lookup");
		if (k < 16) {
			CHECK(skel->bss->lookup_found == 1, "key %u not found", k);
			CHECK(skel->bss->lookup_result == 1000 + k, "key %u: %llu", k,
			      (unsigned long long)skel->bss->lookup_result);
		} else {
			CHECK(skel->bss->lookup_found == 0, "key %u found", k);
		}
	}

	/* BPF writes (helper calls into the map's update op), user space reads. */
	skel->data->data_var = 40;
	CHECK(run(bpf_program__fd(skel->progs.prog_update)) == 0, "run update");
	for (k = 0; k < 16; k++) {
		CHECK(!bpf_map_lookup_elem(fd, &k, &v), "lookup %u", k);
		CHECK(v == k * 100 + 40 + 7, "vals[%u] = %llu", k, (unsigned long long)v);
	}
	for (k = 0; k < 5; k++) {
		CHECK(!bpf_map_lookup_elem(fdb, &k, big), "lookup big %u", k);
		CHECK(big[0] == k && big[1] == k * 2 && big[2] == k * 3, "bigs[%u]", k);
	}
	CHECK(skel->bss->bss_counter == 1, "bss_counter %llu",
	      (unsigned long long)skel->bss->bss_counter);

	/* An element updated from itself (BPF passes the value pointer of the same element). */
	CHECK(run(bpf_program__fd(skel->progs.prog_update_self)) == 0, "run update_self");
	k = 3;
	CHECK(!bpf_map_lookup_elem(fd, &k, &v), "lookup 3");
	printf("update from itself: %s, value %llu\n", res(skel->data->self_update_err),
	       (unsigned long long)v);

	/* Errors that BPF programs see from the map ops. */
	CHECK(run(bpf_program__fd(skel->progs.prog_errors)) == 0, "run errors");
	CHECK(skel->bss->oob_lookup_null == 1, "oob lookup not NULL");
	CHECK(skel->bss->oob_update_err == -E2BIG, "oob update %lld",
	      (long long)skel->bss->oob_update_err);
	CHECK(skel->bss->noexist_err == -EEXIST, "NOEXIST %lld",
	      (long long)skel->bss->noexist_err);
	CHECK(skel->bss->delete_err == -EINVAL, "delete %lld",
	      (long long)skel->bss->delete_err);
	CHECK(skel->bss->badflag_err == -EINVAL, "bad flag %lld",
	      (long long)skel->bss->badflag_err);

	/* bpf_for_each_map_elem(): sums vals[] up to key 9, where the callback stops. */
	CHECK(run(bpf_program__fd(skel->progs.prog_for_each)) == 0, "run for_each");
	CHECK(skel->bss->foreach_visited == 10, "for_each visited %lld",
	      (long long)skel->bss->foreach_visited);
	CHECK(skel->bss->foreach_sum == 45 * 100 + 10 * 47, "for_each sum %llu",
	      (unsigned long long)skel->bss->foreach_sum);
	CHECK(skel->bss->foreach_all == 16, "for_each over all %lld",
	      (long long)skel->bss->foreach_all);
	CHECK(skel->bss->foreach_flags_err == -EINVAL, "for_each flags %lld",
	      (long long)skel->bss->foreach_flags_err);

	/* Map in map: module-served inner arrays in built-in outer maps. */
	k = 1;
	v = 111;
	CHECK(!bpf_map_update_elem(bpf_map__fd(skel->maps.inner0), &k, &v, BPF_ANY), "inner0");
	k = 2;
	v = 222;
	CHECK(!bpf_map_update_elem(bpf_map__fd(skel->maps.inner1), &k, &v, BPF_ANY), "inner1");
	skel->bss->outer_key = 0;
	skel->bss->inner_key = 1;
	CHECK(run(bpf_program__fd(skel->progs.prog_inner)) == 0, "run inner");
	CHECK(skel->bss->inner_found && skel->bss->inner_result == 111, "outer[0][1] = %llu",
	      (unsigned long long)skel->bss->inner_result);
	skel->bss->outer_key = 1;
	skel->bss->inner_key = 2;
	CHECK(run(bpf_program__fd(skel->progs.prog_inner)) == 0, "run inner");
	CHECK(skel->bss->inner_found && skel->bss->inner_result == 222, "outer[1][2] = %llu",
	      (unsigned long long)skel->bss->inner_result);
	CHECK(skel->bss->inner_hash_result == 222, "outer_hash[1][2] = %llu",
	      (unsigned long long)skel->bss->inner_hash_result);
	skel->bss->inner_key = 4;
	CHECK(run(bpf_program__fd(skel->progs.prog_inner)) == 0, "run inner");
	CHECK(!skel->bss->inner_found, "outer[1][4] found");
	{
		/* Replace outer[1] with a new array; a mismatching one is refused. */
		int fresh = create(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0);
		int wrong = create(BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0, 0);
		__u32 ok = 1;

		k = 2;
		v = 333;
		CHECK(!bpf_map_update_elem(fresh, &k, &v, BPF_ANY), "fresh");
		CHECK(!bpf_map_update_elem(bpf_map__fd(skel->maps.outer), &ok, &fresh, BPF_ANY),
		      "replace inner map");
		ret = bpf_map_update_elem(bpf_map__fd(skel->maps.outer), &ok, &wrong, BPF_ANY);
		printf("outer update with 8-entry inner: %s\n", res(ret ? -errno : 0));
		skel->bss->inner_key = 2;
		CHECK(run(bpf_program__fd(skel->progs.prog_inner)) == 0, "run inner");
		CHECK(skel->bss->inner_result == 333, "new outer[1][2] = %llu",
		      (unsigned long long)skel->bss->inner_result);
		close(fresh);
		close(wrong);
	}

	/* The inlined lookups' instructions, for comparison with the C map's. */
	printf("# xlated prog_lookup\n");
	CHECK(!print_xlated(bpf_program__fd(skel->progs.prog_lookup)), "xlated prog_lookup");
	printf("# xlated prog_inner\n");
	CHECK(!print_xlated(bpf_program__fd(skel->progs.prog_inner)), "xlated prog_inner");
	array__destroy(skel);
	return failures ? 1 : 0;
}

static int batch(void)
{
	__u32 keys[12], out_keys[12], count, token = 0, i;
	__u64 vals[12], out_vals[12];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd, ret, round;

	fd = create(BPF_MAP_TYPE_ARRAY, 4, 8, 10, 0, 0);
	if (fd < 0) {
		fprintf(stderr, "create: %s\n", res(fd));
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	for (i = 0; i < 12; i++) {
		keys[i] = i;
		vals[i] = 0xabc000 + i;
	}
	count = 10;
	ret = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	printf("update_batch 10: %s count=%u\n", res(ret ? -errno : 0), count);
	count = 12;
	ret = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	printf("update_batch 12 (2 past the end): %s count=%u\n", res(ret ? -errno : 0), count);
	count = 3;
	opts.elem_flags = BPF_NOEXIST;
	ret = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	printf("update_batch NOEXIST: %s count=%u\n", res(ret ? -errno : 0), count);
	opts.elem_flags = BPF_F_LOCK;
	count = 3;
	ret = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	printf("update_batch F_LOCK: %s count=%u\n", res(ret ? -errno : 0), count);
	opts.elem_flags = 0;
	opts.flags = 1;
	count = 3;
	ret = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	printf("update_batch flags=1: %s count=%u\n", res(ret ? -errno : 0), count);
	opts.flags = 0;

	for (round = 0; round < 5; round++) {
		memset(out_keys, 0xff, sizeof(out_keys));
		memset(out_vals, 0xff, sizeof(out_vals));
		count = 4;
		ret = bpf_map_lookup_batch(fd, round ? &token : NULL, &token, out_keys, out_vals,
					   &count, &opts);
		printf("lookup_batch round %d: %s count=%u token=%u:", round,
		       res(ret ? -errno : 0), count, token);
		for (i = 0; i < count; i++)
			printf(" %u=%#llx", out_keys[i], (unsigned long long)out_vals[i]);
		printf("\n");
		if (ret)
			break;
	}
	count = 0;
	ret = bpf_map_lookup_batch(fd, NULL, &token, out_keys, out_vals, &count, &opts);
	printf("lookup_batch count=0: %s count=%u\n", res(ret ? -errno : 0), count);
	count = 20;
	ret = bpf_map_lookup_batch(fd, NULL, &token, out_keys, out_vals, &count, &opts);
	printf("lookup_batch count=20: %s count=%u\n", res(ret ? -errno : 0), count);
	count = 3;
	ret = bpf_map_delete_batch(fd, keys, &count, &opts);
	printf("delete_batch: %s count=%u\n", res(ret ? -errno : 0), count);
	count = 3;
	token = 0;
	ret = bpf_map_lookup_and_delete_batch(fd, NULL, &token, out_keys, out_vals, &count, &opts);
	printf("lookup_and_delete_batch: %s\n", res(ret ? -errno : 0));
	close(fd);
	return 0;
}

static int hash(void)
{
	unsigned char sha[32];
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), k, i;
	int fd, ret;

	fd = create(BPF_MAP_TYPE_ARRAY, 4, 12, 7, 0, 0);
	if (fd < 0) {
		fprintf(stderr, "create: %s\n", res(fd));
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	for (k = 0; k < 7; k++) {
		unsigned char val[12];

		for (i = 0; i < 12; i++)
			val[i] = k * 16 + i;
		bpf_map_update_elem(fd, &k, val, BPF_ANY);
	}
	info.hash = (__u64)(unsigned long)sha;
	info.hash_size = sizeof(sha);
	ret = bpf_map_get_info_by_fd(fd, &info, &len);
	printf("hash before freeze: %s\n", res(ret ? -errno : 0));
	ret = bpf_map_freeze(fd);
	printf("freeze: %s\n", res(ret ? -errno : 0));
	info.hash_size = 16;
	len = sizeof(info);
	ret = bpf_map_get_info_by_fd(fd, &info, &len);
	printf("hash with hash_size 16: %s\n", res(ret ? -errno : 0));
	memset(&info, 0, sizeof(info));
	info.hash = (__u64)(unsigned long)sha;
	info.hash_size = sizeof(sha);
	len = sizeof(info);
	ret = bpf_map_get_info_by_fd(fd, &info, &len);
	printf("hash: %s ", res(ret ? -errno : 0));
	for (i = 0; i < sizeof(sha); i++)
		printf("%02x", sha[i]);
	printf("\n");
	close(fd);
	return 0;
}

static int pin_skel(const char *dir)
{
	char path[256];
	struct array *skel;
	__u64 v, big[3];
	__u32 k;

	skel = array__open_and_load();
	if (!skel) {
		perror("array__open_and_load");
		return 1;
	}
	for (k = 0; k < 16; k += 3) {
		v = k * 0x1111;
		bpf_map_update_elem(bpf_map__fd(skel->maps.vals), &k, &v, BPF_ANY);
	}
	for (k = 0; k < 5; k++) {
		big[0] = k;
		big[1] = ~0ULL - k;
		big[2] = 1ULL << (k * 8);
		bpf_map_update_elem(bpf_map__fd(skel->maps.bigs), &k, big, BPF_ANY);
	}
	skel->bss->bss_counter = 99;
	snprintf(path, sizeof(path), "%s/vals", dir);
	if (bpf_map__pin(skel->maps.vals, path))
		return 1;
	snprintf(path, sizeof(path), "%s/bigs", dir);
	if (bpf_map__pin(skel->maps.bigs, path))
		return 1;
	snprintf(path, sizeof(path), "%s/bss", dir);
	if (bpf_map__pin(skel->maps.bss, path))
		return 1;
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	array__destroy(skel);
	return 0;
}

struct locked_val {
	__u32 lock;
	__u32 pad;
	__u64 a;
	__u64 b;
};

struct lock_args {
	struct array *skel;
	int id;
	long torn;
	long errors;
};

#define LOCK_ROUNDS 3000

static void *lock_worker(void *p)
{
	struct lock_args *args = p;
	int fd = bpf_map__fd(args->skel->maps.locks);
	struct locked_val v;
	__u32 k = 0;
	int i;

	for (i = 0; i < LOCK_ROUNDS; i++) {
		switch (args->id % 3) {
		case 0: /* writer: a == b, under the lock */
			v.a = v.b = (__u64)args->id << 32 | i;
			if (bpf_map_update_elem(fd, &k, &v, BPF_F_LOCK))
				args->errors++;
			break;
		case 1: /* reader: never sees a torn value */
			if (bpf_map_lookup_elem_flags(fd, &k, &v, BPF_F_LOCK))
				args->errors++;
			else if (v.a != v.b)
				args->torn++;
			break;
		default: /* BPF program: a++, b++ under bpf_spin_lock() */
			if (run(bpf_program__fd(args->skel->progs.prog_locked_inc)))
				args->errors++;
		}
	}
	return NULL;
}

struct big_args {
	int fd, id;
	long torn, errors;
};

#define BIG_ROUNDS 1500

/*
 * 4096-byte values under BPF_F_LOCK: writers store every word the same, readers check them. A
 * copy that long spans many instructions, so an update or a lookup that skipped the lock would
 * be torn within a few rounds; 2 writers and 2 readers.
 */
static void *big_worker(void *p)
{
	struct big_args *args = p;
	struct {
		__u32 lock, pad;
		__u64 w[BIGLOCKVAL_WORDS];
	} v;
	__u32 k = 0;
	int i, j;

	for (i = 0; i < BIG_ROUNDS; i++) {
		if (args->id < 2) {
			for (j = 0; j < BIGLOCKVAL_WORDS; j++)
				v.w[j] = (__u64)args->id << 32 | i;
			if (bpf_map_update_elem(args->fd, &k, &v, BPF_F_LOCK))
				args->errors++;
		} else if (bpf_map_lookup_elem_flags(args->fd, &k, &v, BPF_F_LOCK)) {
			args->errors++;
		} else {
			for (j = 1; j < BIGLOCKVAL_WORDS; j++)
				if (v.w[j] != v.w[0]) {
					args->torn++;
					break;
				}
		}
	}
	return NULL;
}

static int big_locked_values(void)
{
	struct big_args args[4];
	pthread_t th[4];
	long torn = 0, errors = 0;
	int btf, fd, i;

	btf = test_btf_load();
	fd = btf < 0 ? btf : create_map(BPF_MAP_TYPE_ARRAY, 8 + 8 * BIGLOCKVAL_WORDS, 1, 0, 0, btf,
					T_BIGLOCKVAL);
	if (fd < 0) {
		printf("4096-byte locked values: create: %s\n", res(fd));
		return 1;
	}
	map_served_by("4096-byte-locked-values", fd);
	for (i = 0; i < 4; i++) {
		args[i] = (struct big_args){ .fd = fd, .id = i };
		pthread_create(&th[i], NULL, big_worker, &args[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		torn += args[i].torn;
		errors += args[i].errors;
	}
	printf("4096-byte locked values: 4 threads x %d rounds, torn reads %ld, errors %ld\n",
	       BIG_ROUNDS, torn, errors);
	close(fd);
	close(btf);
	return torn || errors;
}

static int spinlock(void)
{
	struct lock_args args[6];
	pthread_t th[6];
	struct array *skel;
	long torn = 0, errors = 0;
	int i;

	skel = array__open_and_load();
	if (!skel) {
		perror("array__open_and_load");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	for (i = 0; i < 6; i++) {
		args[i] = (struct lock_args){ .skel = skel, .id = i };
		pthread_create(&th[i], NULL, lock_worker, &args[i]);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		torn += args[i].torn;
		errors += args[i].errors;
	}
	printf("spinlock: %d threads x %d rounds, torn reads %ld, errors %ld\n", 6, LOCK_ROUNDS,
	       torn, errors);
	array__destroy(skel);
	return big_locked_values() || torn || errors;
}

static int run_xdp(int prog_fd)
{
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	return err ? -errno : (int)opts.retval;
}

static int timers(void)
{
	struct timespec ts = { .tv_nsec = 300 * 1000 * 1000 };
	struct array *skel;
	int ret;

	/* Timers that fire while the map lives. */
	skel = array__open_and_load();
	if (!skel) {
		perror("array__open_and_load");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	skel->bss->timer_delay_ns = 1000 * 1000;
	ret = run_xdp(bpf_program__fd(skel->progs.prog_timers));
	nanosleep(&ts, NULL);
	printf("timers: run %d, err %lld, fired %d\n", ret, (long long)skel->bss->timer_err,
	       skel->bss->timers_fired);
	CHECK(skel->bss->timers_fired == 4, "fired %d", skel->bss->timers_fired);
	array__destroy(skel);

	/* Overwriting a value cancels its timer (bpf_obj_cancel_fields() on update). */
	skel = array__open_and_load();
	if (!skel)
		return 1;
	skel->bss->timer_delay_ns = 300 * 1000 * 1000;
	ret = run_xdp(bpf_program__fd(skel->progs.prog_timers));
	{
		char zero[32] = { 0 };
		__u32 k;

		for (k = 0; k < 4; k++)
			CHECK(!bpf_map_update_elem(bpf_map__fd(skel->maps.timers), &k, zero, BPF_ANY),
			      "update timers[%u]", k);
	}
	ts.tv_nsec = 500 * 1000 * 1000;
	nanosleep(&ts, NULL);
	printf("timers overwritten before firing: run %d, fired %d\n", ret, skel->bss->timers_fired);
	array__destroy(skel);

	/*
	 * Cancelled at once (bpf_timer_cancel_async()), as the selftest timer_async_cancel does
	 * with a 100 us timer that a TCG guest can outrun (it reruns then): 300 ms away, with no
	 * race to lose, none may fire.
	 */
	skel = array__open_and_load();
	if (!skel)
		return 1;
	skel->bss->timer_delay_ns = 300 * 1000 * 1000;
	skel->bss->timer_cancel_async = 1;
	ret = run_xdp(bpf_program__fd(skel->progs.prog_timers));
	ts.tv_nsec = 500 * 1000 * 1000;
	nanosleep(&ts, NULL);
	printf("timers cancelled at once (bpf_timer_cancel_async): run %d, err %lld, cancelled %lld, "
	       "fired %d\n", ret, (long long)skel->bss->timer_err,
	       (long long)skel->bss->timers_cancelled, skel->bss->timers_fired);
	CHECK(skel->bss->timers_fired == 0 && skel->bss->timers_cancelled == 4,
	      "cancelled at once: fired %d, cancelled %lld", skel->bss->timers_fired,
	      (long long)skel->bss->timers_cancelled);
	array__destroy(skel);

	/* Timers still pending when the last reference goes: release_uref cancels them. */
	skel = array__open_and_load();
	if (!skel)
		return 1;
	skel->bss->timer_delay_ns = 200 * 1000 * 1000;
	ret = run_xdp(bpf_program__fd(skel->progs.prog_timers));
	printf("pending timers: run %d, err %lld\n", ret, (long long)skel->bss->timer_err);
	array__destroy(skel);
	ts.tv_nsec = 500 * 1000 * 1000;
	nanosleep(&ts, NULL);
	return failures ? 1 : 0;
}

/* The number of distinct maps among the maps program prog_fd uses and map map_fd: those an
 * iterator of map_fd running that program keeps alive.
 */
static int maps_held(int prog_fd, int map_fd)
{
	struct bpf_prog_info info = {};
	struct bpf_map_info minfo = {};
	__u32 ids[64], len = sizeof(info), mlen = sizeof(minfo), i;
	int n;

	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_prog_get_info_by_fd(prog_fd, &info, &len) ||
	    bpf_map_get_info_by_fd(map_fd, &minfo, &mlen)) {
		CHECK(0, "prog/map info: %s", strerror(errno));
		return 0;
	}
	n = info.nr_map_ids + 1;
	for (i = 0; i < info.nr_map_ids && i < 64; i++)
		if (ids[i] == minfo.id)
			n--;
	return n;
}

static int iter(void)
{
	struct array *skel;
	int iter_fd, expect;
	__u64 v;
	__u32 k;

	skel = array__open_and_load();
	if (!skel) {
		perror("array__open_and_load");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	for (k = 0; k < 16; k++) {
		v = k * k;
		bpf_map_update_elem(bpf_map__fd(skel->maps.vals), &k, &v, BPF_ANY);
	}
	iter_fd = open_map_iter(skel->progs.dump_vals, bpf_map__fd(skel->maps.vals));
	expect = 1 + maps_held(bpf_program__fd(skel->progs.dump_vals),
			       bpf_map__fd(skel->maps.vals));
	/* The iterator keeps its own user reference: drop every other one first. */
	array__destroy(skel);
	if (iter_fd >= 0 && module_refs() >= 0) {
		/* Served by the module: one reference per map still alive (the iterated one
		 * and the program's, all arrays), and the iterator file's own, which it holds
		 * until the map's fini_seq_private() has returned (patch 7). The skeleton's
		 * other maps are freed after grace periods (RCU tasks trace for sleepable
		 * programs' maps).
		 */
		int i, refs = -1;

		for (i = 0; i < 100 && (refs = module_refs()) != expect; i++)
			usleep(100 * 1000);
		CHECK(refs == expect, "module refcnt %d with only an iterator open, expected %d",
		      refs, expect);
	}
	return iter_fd < 0 || print_iter(iter_fd) || failures;
}

static const char *mres(void *p)
{
	return p == MAP_FAILED ? res(-errno) : "ok";
}

static int mmap_cases(void)
{
	long page = sysconf(_SC_PAGESIZE);
	__u64 *vals, v;
	void *p;
	__u32 k;
	int fd, plain, ret;

	fd = create(BPF_MAP_TYPE_ARRAY, 4, 8, 600, BPF_F_MMAPABLE, 0);
	plain = create(BPF_MAP_TYPE_ARRAY, 4, 8, 600, 0, 0);
	if (fd < 0 || plain < 0) {
		fprintf(stderr, "create: %s %s\n", res(fd), res(plain));
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	/* 600 * 8 bytes: two pages of values. */
	vals = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap 2 pages rw: %s\n", mres(vals));
	if (vals == MAP_FAILED)
		return 1;
	for (k = 0; k < 600; k++)
		vals[k] = k * 3;
	k = 599;
	ret = bpf_map_lookup_elem(fd, &k, &v);
	printf("lookup of a value written through the mapping: %s %llu\n", res(ret ? -errno : 0),
	       (unsigned long long)v);
	k = 7;
	v = 777;
	bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	printf("update seen through the mapping: %llu\n", (unsigned long long)vals[7]);
	p = mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, fd, 0);
	printf("mmap 3 pages: %s\n", mres(p));
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	printf("mmap page 1: %s\n", mres(p));
	if (p != MAP_FAILED)
		printf("value 512 through page 1: %llu\n", (unsigned long long)((__u64 *)p)[0]);
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 2 * page);
	printf("mmap page 2: %s\n", mres(p));
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, plain, 0);
	printf("mmap of a map without BPF_F_MMAPABLE: %s\n", mres(p));
	p = mremap(vals, 2 * page, 4 * page, MREMAP_MAYMOVE);
	printf("mremap to 4 pages: %s\n", mres(p));
	ret = bpf_map_freeze(fd);
	printf("freeze with a writable mapping: %s\n", res(ret ? -errno : 0));
	munmap(vals, 2 * page);
	ret = bpf_map_freeze(fd);
	printf("freeze after munmap: %s\n", res(ret ? -errno : 0));
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap rw of a frozen map: %s\n", mres(p));
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	printf("mmap ro of a frozen map: %s\n", mres(p));
	if (p != MAP_FAILED)
		printf("value 7 through the read-only mapping: %llu\n", (unsigned long long)((__u64 *)p)[7]);
	close(fd);
	close(plain);
	return 0;
}

/* nr_dying_descendants of a cgroup v2 directory */
static long dying(const char *cgdir)
{
	char path[512], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.stat", cgdir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "nr_dying_descendants %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int kptr(const char *cgroot)
{
	struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
	struct special *skel;
	char child[512];
	struct stat st;
	long base, held, after = -1;
	int i, ret;

	snprintf(child, sizeof(child), "%s/amtest-kptr", cgroot);
	rmdir(child);
	if (mkdir(child, 0755) || stat(child, &st)) {
		perror(child);
		return 1;
	}
	skel = special__open_and_load();
	if (!skel) {
		perror("special__open_and_load");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	skel->bss->cgid = st.st_ino;
	ret = run(bpf_program__fd(skel->progs.store_cgroup));
	printf("store cgroup kptr: %d\n", ret);
	CHECK(run(bpf_program__fd(skel->progs.read_unref)) == 0, "read_unref");
	printf("unreferenced kptr stored: %d\n", skel->bss->ucg_set);
	{
		/* check_and_init_map_value() on each CPU's copy: no kernel pointer copied out. */
		int ncpus = libbpf_num_possible_cpus(), c, k = 0, tagged = 0, pointers = 0;
		struct { __u64 tag, ucg; } pv[64] = {};

		if (ncpus <= 0 || ncpus > 64) {
			printf("%d possible CPUs: more than this check's buffer\n", ncpus);
			return 1;
		}
		CHECK(run(bpf_program__fd(skel->progs.store_percpu_unref)) == 0, "store_percpu_unref");
		CHECK(!bpf_map_lookup_elem(bpf_map__fd(skel->maps.pcgs), &k, pv), "lookup pcgs");
		for (c = 0; c < ncpus; c++) {
			tagged += pv[c].tag == 0x7a67;
			pointers += pv[c].ucg != 0;
		}
		printf("PERCPU_ARRAY with a kptr copied out: %d CPU tagged, %d kernel pointers\n",
		       tagged, pointers);
	}
	base = dying(cgroot);
	if (rmdir(child))
		perror("rmdir");
	for (i = 0; i < 50 && dying(cgroot) == base; i++)
		nanosleep(&ts, NULL);
	held = dying(cgroot);
	printf("removed cgroup held by the map (dying): %s\n", held == base + 1 ? "yes" : "no");
	special__destroy(skel);
	for (i = 0; i < 100; i++) {
		after = dying(cgroot);
		if (after == base)
			break;
		nanosleep(&ts, NULL);
	}
	printf("released when the map was freed: %s\n", after == base ? "yes" : "no");
	return ret || held != base + 1 || after != base;
}

static int wq(void)
{
	struct timespec ts = { .tv_nsec = 300 * 1000 * 1000 };
	struct special *skel;
	int ret;

	skel = special__open_and_load();
	if (!skel) {
		perror("special__open_and_load");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	ret = run(bpf_program__fd(skel->progs.start_wq));
	nanosleep(&ts, NULL);
	printf("wq: start %d, ran %d\n", ret, skel->bss->wq_ran);
	CHECK(ret == 0 && skel->bss->wq_ran == 1, "wq did not run once");
	/* Another one started and the map dropped at once: release_uref cancels it, or it runs
	 * first; either way nothing may run into freed memory (dmesg_clean).
	 */
	skel->bss->wq_key = 1;
	ret = run(bpf_program__fd(skel->progs.start_wq));
	special__destroy(skel);
	nanosleep(&ts, NULL);
	printf("wq started, map dropped: start %d\n", ret);
	return failures ? 1 : 0;
}

static int task_work(void)
{
	struct timespec ts = { .tv_nsec = 200 * 1000 * 1000 };
	struct special *skel;
	int ret, pipefd[2], status;
	pid_t child;
	char c;

	skel = special__open_and_load();
	if (!skel) {
		perror("special__open_and_load");
		return 1;
	}
	fprintf(stderr, "module-refs-while-open: %d\n", module_refs());
	/* On this task: runs on the way back to user space from the test run. */
	skel->bss->tw_pid = getpid();
	ret = run(bpf_program__fd(skel->progs.schedule_tw));
	nanosleep(&ts, NULL);
	printf("task_work on self: schedule %d, ran %d\n", ret, skel->bss->tw_ran);
	CHECK(ret == 0 && skel->bss->tw_ran == 1, "task_work did not run once");

	/* On a child sleeping in read(): pending until it wakes, after the map is gone. */
	if (pipe(pipefd))
		return 1;
	child = fork();
	if (child == 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	nanosleep(&ts, NULL);
	skel->bss->tw_pid = child;
	skel->bss->tw_key = 1;
	ret = run(bpf_program__fd(skel->progs.schedule_tw));
	printf("task_work on a sleeping child: schedule %d\n", ret);
	special__destroy(skel);
	nanosleep(&ts, NULL);
	if (write(pipefd[1], "x", 1) != 1)
		perror("write");
	waitpid(child, &status, 0);
	printf("child exited: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return failures ? 1 : 0;
}

/* "@name MODULE" from the "ops_owner:" line of @fd's fdinfo, or "@name -" without one. */
static void print_ops_owner(const char *name, int fd)
{
	char owner[64];
	int err = fd < 0 ? fd : map_ops_owner(fd, owner, sizeof(owner));

	if (err) {
		printf("%s: %s %s\n", name, fd < 0 ? "create" : "fdinfo", res(err));
		failures++;
		return;
	}
	printf("%s %s\n", name, owner);
}

static int ops_owner(void)
{
	int inner = create(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0);
	const struct {
		const char *name;
		int fd;
	} maps[] = {
		{ "array", inner },
		{ "percpu_array", create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0, 0) },
		{ "prog_array", create(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0) },
		{ "perf_event_array", create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, 0, 0) },
		{ "cgroup_array", create(BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 4, 0, 0) },
		{ "array_of_maps", create_map(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 0, inner, -1, 0) },
		{ "hash", create(BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0) },
	};
	unsigned int i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		print_ops_owner(maps[i].name, maps[i].fd);
		if (maps[i].fd >= 0)
			close(maps[i].fd);
	}
	return failures ? 1 : 0;
}

/* "NAME: MODULE" (or "NAME: -") for each map pinned at a path of @pins: what serves it. */
static int owners(int n, char **pins)
{
	char owner[64];
	int i, fd, err;

	for (i = 0; i < n; i++) {
		const char *name = strrchr(pins[i], '/') ? strrchr(pins[i], '/') + 1 : pins[i];

		fd = bpf_obj_get(pins[i]);
		err = fd < 0 ? -errno : map_ops_owner(fd, owner, sizeof(owner));
		if (err) {
			printf("%s: %s\n", name, res(err));
			failures++;
		} else {
			printf("%s: %s\n", name, owner);
		}
		if (fd >= 0)
			close(fd);
	}
	return failures ? 1 : 0;
}

/*
 * Maps created back to back while bpf_regtest's init registers ARRAY, waits and fails
 * (run-suite.sh's register_failing_init): a process per map (bpftool) is too slow on the
 * sanitizer kernel to be sure of landing in a window of the init.
 */
static int create_until(const char *stop)
{
	unsigned long n = 0;
	__u32 key = 0;
	__u64 val;
	int fd, err;

	while (access(stop, F_OK)) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "regtest", 4, 8, 1, NULL);
		if (fd < 0) {
			printf("creation %lu: %s\n", n, res(fd));
			return 1;
		}
		val = n;
		err = bpf_map_update_elem(fd, &key, &val, BPF_ANY);
		if (!err)
			err = bpf_map_lookup_elem(fd, &key, &val);
		close(fd);
		if (err || val != n) {
			printf("map %lu: update/lookup %s, value %llu\n", n, res(err),
			       (unsigned long long)val);
			return 1;
		}
		n++;
	}
	printf("%lu maps created\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!strcmp(cmd, "errno"))
		return errno_cases();
	if (!strcmp(cmd, "xlated") && argc == 3)
		return xlated(argv[2]);
	if (!strcmp(cmd, "mkmap-unpriv") && argc == 3)
		return mkmap_unpriv(argv[2]);
	if (!strcmp(cmd, "hold"))
		return hold();
	if (!strcmp(cmd, "prog-only") && argc == 3)
		return prog_only(argv[2]);
	if (!strcmp(cmd, "skel"))
		return skel();
	if (!strcmp(cmd, "spinlock"))
		return spinlock();
	if (!strcmp(cmd, "timers"))
		return timers();
	if (!strcmp(cmd, "kptr") && argc == 3)
		return kptr(argv[2]);
	if (!strcmp(cmd, "task-work"))
		return task_work();
	if (!strcmp(cmd, "wq"))
		return wq();
	if (!strcmp(cmd, "mmap"))
		return mmap_cases();
	if (!strcmp(cmd, "iter"))
		return iter();
	if (!strcmp(cmd, "batch"))
		return batch();
	if (!strcmp(cmd, "hash"))
		return hash();
	if (!strcmp(cmd, "pin-skel") && argc == 3)
		return pin_skel(argv[2]);
	if (!strcmp(cmd, "ops-owner"))
		return ops_owner();
	if (!strcmp(cmd, "owner") && argc > 2)
		return owners(argc - 2, argv + 2);
	if (!strcmp(cmd, "create-until") && argc == 3)
		return create_until(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of amtest.c\n");
	return 2;
}
